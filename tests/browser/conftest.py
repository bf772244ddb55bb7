"""Fixtures for the browser suite: Debian's Chromium, and a real streamlit server over the
hand-computable fixture (tests/fixtures.py), ingested by the real ingest.

The main server and Chromium live for the session, one of each in every pytest-xdist worker
that runs a browser module (tests/conftest.py spreads the modules over the workers). Tests that
need a different data set or users start their own, module-scoped, with support.serve_fixture.

Every test in this folder is marked `browser` here, not in its module, and one that opens
Chromium is skipped here where Debian's is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser import axe
from tests.browser.support import (
    CHROMIUM,
    EXPECT_MS,
    LAUNCH_ARGS,
    NO_CHROMIUM,
    WALL,
    Server,
    browser_context,
    serve_fixture,
)

# Playwright's assertions retry for 5 s by default: too short for a first run on two slow cores.
expect.set_options(timeout=EXPECT_MS)
BROWSER_TESTS = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items) -> None:
    """Before `-m` deselects anything: mark this folder's tests `browser`, and skip, before any
    server starts, each one that needs Chromium (its fixtures, however deep, include `chromium`)
    when Debian's is not installed."""
    for item in items:
        if BROWSER_TESTS not in item.path.parents:
            continue
        item.add_marker(pytest.mark.browser)
        if "chromium" in item.fixturenames and not CHROMIUM.is_file():
            item.add_marker(pytest.mark.skip(reason=NO_CHROMIUM))


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    """The fixture as it is: three export days, 2022-01-04 to 2022-01-06, no users, and the alerts
    evaluated at 01-06 12:00 (four open: tests/test_alerts_pages.py)."""
    with serve_fixture(tmp_path_factory.mktemp("server"), alerts_at=datetime(2022, 1, 6, 12)) as running:
        yield running


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script, to inject into a page (tests/browser/axe.py)."""
    return axe.source()


@pytest.fixture
def new_page(chromium):
    """A factory of pages, each in its own context (no shared cookies or sessions)."""
    contexts = []

    def make(viewport: dict | None = None):
        context = browser_context(chromium, viewport or WALL)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
