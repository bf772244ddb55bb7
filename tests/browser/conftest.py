"""Fixtures for the browser suite: Debian's Chromium, and a real streamlit server over the
hand-computable fixture (tests/fixtures.py), ingested by the real ingest.

The main server lives for the session. Tests that need a different data set or users start
their own, module-scoped, with `serve_fixture`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dashboard.ingest import ingest
from dashboard.settings import Settings
from tests.browser.support import CHROMIUM, LAUNCH_ARGS, LOAD_MS, WALL, Server, start_server
from tests.fixtures import build_fixture


def ingest_fixture(root: Path, change: Callable[[Path], None] | None = None) -> Settings:
    """Build the fixture under root, let `change` alter its files, and ingest it."""
    data_dir = build_fixture(root / "data")
    if change:
        change(data_dir)
    settings = Settings.from_env(data_dir, root / "snapshot.duckdb")
    result = ingest(settings)
    assert result.ok, result.failed
    return settings


def serve_fixture(root: Path, change: Callable[[Path], None] | None = None, **env: str) -> Server:
    settings = ingest_fixture(root, change)
    return start_server(settings.data_dir, settings.db_path, root, **env)


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    """The fixture as it is: three export days, 2022-01-04 to 2022-01-06, no users."""
    running = serve_fixture(tmp_path_factory.mktemp("server"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def new_page(chromium):
    """A factory of pages, each in its own context (no shared cookies or sessions)."""
    contexts = []

    def make(viewport: dict | None = None):
        context = chromium.new_context(viewport=viewport or WALL, locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(LOAD_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
