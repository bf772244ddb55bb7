"""Accessible to everyone in the room (issue 21): axe-core, injected into Chromium, finds no serious
or critical fault and no heading out of order on any page, at a desk, on a phone and on the wall;
and a screen reader reads every KPI card's label, value and "as of".

axe-core comes from npm (.ci/run installs it into .ci/node/). Without it the test is skipped on a
developer's machine and fails in CI, so CI can never pass without having looked.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import bcrypt
import pytest

from dashboard.i18n import t
from tests.browser.support import (
    PAGES,
    REPO,
    TITLES,
    USER_LABEL,
    browser_context,
    log_in,
    open_app,
    path_of,
    phone_context,
    serve_fixture,
    show_charts_on_phone,
    wait_for_app,
    wait_for_map_drawn,
)

AXE = REPO / ".ci" / "node" / "node_modules" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.10.3"
DESK = {"width": 1280, "height": 800}
WALL_PAGES = ("overview", "zones", "testing", "isolation", "staff")
# heading-order is "moderate" to axe; a screen reader's outline with a gap is still a fault here.
ALSO_FAILS = {"heading-order"}
# The pages whose cards are of an export day (the alerts' are of the evaluation's minute).
CARD_PAGES = ("overview", "testing", "staff")
DAY = "1月6日"  # the fixture's newest export day, which every card's feed has


@pytest.fixture(scope="module")
def axe_source() -> str:
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
    second; a fault of the page itself is in both."""
    page.add_script_tag(content=axe_source)
    first = _scan_at_rest(page)
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


def spoken_cards(page) -> list[str]:
    """Each KPI card as Chromium's accessibility tree has it: its text nodes, joined in order,
    CSS generated content included (which is how a card's hidden "as of" is read out)."""
    page.locator('[data-testid="stMetric"]').first.wait_for()
    at_rest(page)
    cdp = page.context.new_cdp_session(page)
    root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    cards = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": '[data-testid="stMetric"]'})["nodeIds"]
    spoken = []
    for card in cards:
        nodes = cdp.send("Accessibility.queryAXTree", {"nodeId": card, "role": "StaticText"})["nodes"]
        spoken.append("".join(node["name"]["value"] for node in nodes if not node.get("ignored")))
    cdp.detach()
    return spoken


def shown_cards(page) -> list[tuple[str, str]]:
    return page.eval_on_selector_all('[data-testid="stMetric"]', """els => els.map(e => [
        e.querySelector('[data-testid="stMetricLabel"]').innerText.trim(),
        e.querySelector('[data-testid="stMetricValue"]').innerText.trim()])""")


def assert_cards_are_read_whole(page) -> None:
    spoken = spoken_cards(page)
    cards = shown_cards(page)
    for (label, value), reading in zip(cards, spoken, strict=True):
        reading = re.sub(r"\s+", "", reading)
        # The label, then "as of", then the value: the order a listener needs them in.
        as_of = t("kpi.as_of", "zh", day=DAY)
        assert re.sub(r"\s+", "", label) + as_of in reading and reading.index(as_of) < reading.rindex(
            re.sub(r"\s+", "", value)), f"{label!r} {value!r} is read as {reading!r}"


@pytest.mark.parametrize("name", PAGES)
def test_a_desk_page_has_no_serious_fault(chromium, server, axe_source, name):
    with browser_context(chromium, DESK) as context:
        page = context.new_page()
        open_app(page, server, path_of(name), TITLES[name][0])
        assert faults(page, axe_source) == []
        if name in CARD_PAGES:
            assert_cards_are_read_whole(page)


@pytest.mark.parametrize("name", PAGES)
def test_a_phone_page_has_no_serious_fault(chromium, server, axe_source, name):
    with phone_context(chromium) as context:
        page = context.new_page()
        open_app(page, server, path_of(name), TITLES[name][0])
        assert faults(page, axe_source) == []


def test_the_phone_overview_with_its_charts_has_no_serious_fault(chromium, server, axe_source):
    with phone_context(chromium) as context:
        page = context.new_page()
        open_app(page, server, "/", TITLES["overview"][0])
        show_charts_on_phone(page)
        wait_for_map_drawn(page, timeout_s=40)
        assert faults(page, axe_source) == []
        assert_cards_are_read_whole(page)


@pytest.mark.parametrize("name", WALL_PAGES)
def test_a_wall_page_has_no_serious_fault(chromium, server, axe_source, name):
    with browser_context(chromium, {"width": 1920, "height": 1080}) as context:
        page = context.new_page()
        open_app(page, server, path_of(name) + "?kiosk=1", TITLES[name][0])
        wait_for_map_drawn(page, timeout_s=40)
        assert faults(page, axe_source) == []


def test_the_alerts_cards_say_when_they_were_evaluated(chromium, server, axe_source):
    """The session server's alerts were evaluated at 2022-01-06 12:00 (tests/browser/conftest.py)."""
    with browser_context(chromium, DESK) as context:
        page = context.new_page()
        open_app(page, server, path_of("alerts"), TITLES["alerts"][0])
        spoken = spoken_cards(page)
        assert len(spoken) == 4 and all("截至" in card and "12:00" in card for card in spoken), spoken


@pytest.fixture(scope="module")
def login_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("a11y-login")
    users = root / "users.toml"
    password = bcrypt.hashpw(b"clerk-pw", bcrypt.gensalt(4)).decode()
    users.write_text(f'[auth.users.clerk]\nrole = "clerk"\narea = "410103001"\npassword_hash = "{password}"\n',
                     encoding="utf-8")
    with serve_fixture(root, DASHBOARD_USERS_FILE=str(users)) as running:
        yield running


@pytest.mark.parametrize("viewport", ["desk", "phone"])
def test_the_login_form_and_the_clerks_upload_page_have_no_serious_fault(chromium, login_server, axe_source,
                                                                        viewport):
    context = phone_context(chromium) if viewport == "phone" else browser_context(chromium, DESK)
    with context:
        page = context.new_page()
        page.goto(login_server.url + "/")
        page.get_by_label(USER_LABEL).wait_for()
        assert faults(page, axe_source) == [], "the login form"
        log_in(page, "clerk", "clerk-pw")
        wait_for_app(page, TITLES["upload"][0])
        assert faults(page, axe_source) == [], "the upload page"


def test_the_axe_file_is_the_version_ci_installs():
    if not AXE.is_file():
        pytest.skip(f"no {AXE}")
    assert f"axe v{AXE_VERSION}" in Path(AXE).read_text(encoding="utf-8")[:400]
