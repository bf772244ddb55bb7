"""axe-core in Chromium: the serious and critical faults a page keeps at rest.

axe-core comes from npm (.ci/run installs it into .ci/node/). Without it a test that scans is
skipped on a developer's machine and fails in CI, so CI can never pass without having looked
(the `axe_source` fixture, tests/browser/conftest.py).
"""

from __future__ import annotations

import os

import pytest

from tests.browser.support import REPO

AXE = REPO / ".ci" / "node" / "node_modules" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.10.3"
# heading-order is "moderate" to axe; a screen reader's outline with a gap is still a fault here.
ALSO_FAILS = {"heading-order"}


def source() -> str:
    """axe-core's script; the test is skipped without it, or fails under CI=true."""
    if not AXE.is_file():
        message = f"axe-core is not installed at {AXE}: npm i -E --prefix .ci/node axe-core@{AXE_VERSION}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


# No script run going and no element greyed out as stale: while Streamlit reruns a page (its URL
# written back, a refresh check) it fades the old elements, and axe would measure the fade. The
# wall's clock, redrawn every second, is white on the dark wall whether greyed or not.
_AT_REST = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const stale = [...document.querySelectorAll('[data-stale="true"]')]
        .filter((node) => !node.querySelector('.kiosk-clock'));
    return !!app && app.getAttribute('data-test-script-state') !== 'running' && stale.length === 0;
}"""


# Every start and end of a run, and every element greyed or ungreyed, counted as it happens: a
# run that began and ended within a scan leaves no trace at its end, but the count moved. The
# wall's clock is a fragment that runs every second, so on the wall its own greying is not counted,
# nor are starts and ends of runs, which the clock's would hide every quiet second behind; a page's
# run still greys every element outside the clock, and that is counted.
_COUNT_CHANGES = """() => {
    if (window.__restChanges !== undefined) return;
    window.__restChanges = 0;
    window.__restLastChange = performance.now();
    const clock = (node) => node.closest('.kiosk-clock') || node.querySelector('.kiosk-clock');
    new MutationObserver((records) => {
        const ticking = !!document.querySelector('.kiosk-clock');
        if (records.some((r) => r.attributeName === 'data-stale' ? !clock(r.target) : !ticking)) {
            window.__restChanges++;
            window.__restLastChange = performance.now();
        }
    }).observe(document.body, {subtree: true, attributes: true,
                               attributeFilter: ['data-test-script-state', 'data-stale']});
}"""
# At rest, and nothing changed for a second: the fade back from stale is over too.
_SETTLED = "() => (" + _AT_REST + ")() && performance.now() - window.__restLastChange > 1000"


def at_rest(page) -> None:
    page.evaluate(_COUNT_CHANGES)
    page.wait_for_function(_SETTLED, polling=100)


def faults(page, axe_source: str) -> list[str]:
    """axe's serious and critical violations (and ALSO_FAILS), one line per node, that stay on the
    page: found by two scans of the page at rest. Whatever a moment puts on a page (a rerun's fade,
    widgets greyed while the socket reconnects on a loaded machine: CI saw both) is gone by the
    second; a fault of the page itself is in both. A first scan that finds nothing needs no second."""
    page.add_script_tag(content=axe_source)
    first = _scan_at_rest(page)
    if not first:
        return []
    second = set(_scan_at_rest(page))
    return [fault for fault in first if fault in second]


def _scan_at_rest(page) -> list[str]:
    """One scan of the page at rest; one that a rerun or a fade overlapped is taken again (three
    times at most)."""
    for _ in range(3):
        at_rest(page)
        before = page.evaluate("() => window.__restChanges")
        violations = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
            .violations.map(v => ({id: v.id, impact: v.impact,
                                   nodes: v.nodes.map(n => n.target.join(' ') + ' | ' + n.failureSummary)}))""")
        if page.evaluate(_AT_REST) and page.evaluate("() => window.__restChanges") == before:
            break
    return [f"{v['id']} ({v['impact']}): {node}" for v in violations
            if v["impact"] in ("serious", "critical") or v["id"] in ALSO_FAILS for node in v["nodes"]]
