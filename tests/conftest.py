from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
import streamlit as st

from dashboard.figures.queries import Snapshot
from dashboard.ingest import parse
from dashboard.ingest.build import ingest
from dashboard.ingest.status import IngestResult
from dashboard.settings import Settings
from tests.fixtures import build_fixture

TESTS = Path(__file__).parent
BROWSER_TESTS = TESTS / "browser"


# tryfirst: xdist reads the groups in a hook of its own, which would otherwise run before this one.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items) -> None:
    """Which tests share a pytest-xdist worker, and which start first (pyproject's addopts:
    --dist loadgroup --no-loadscope-reorder). Every module goes whole to one worker, so its
    module fixtures are built once; a browser module too, so the browser modules spread over the
    workers, each worker with its own session server and Chromium, on ports of its own
    (tests/browser/ports.py). xdist hands the groups out in the order of the items: the browser
    modules first, the ones with more tests first, and the rest after them, also the ones with
    more tests first. A long group handed out last would run on alone at the end."""
    sizes: dict[str, int] = {}
    for item in items:
        group = item.path.relative_to(TESTS).as_posix()
        sizes[group] = sizes.get(group, 0) + 1
        item.add_marker(pytest.mark.xdist_group(group))

    def start_order(item) -> tuple[bool, int]:
        group = item.path.relative_to(TESTS).as_posix()
        return BROWSER_TESTS not in item.path.parents, -sizes[group]

    # A stable sort: within a module the tests keep their file order.
    items.sort(key=start_order)


@pytest.fixture(scope="session", autouse=True)
def private_state_dir(tmp_path_factory):
    """Generated ID keys and default snapshots go to a temporary state directory, never into the
    developer's home. Session-wide, because session fixtures ingest too; XDG_STATE_HOME rather than
    DASHBOARD_STATE_DIR, so that clearing DASHBOARD_* per test leaves it in place."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DASHBOARD_STATE_DIR", raising=False)
        patch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))
        yield


def ingest_changed_fixture(root: Path, change: Callable[[Path], None] | None = None) -> tuple[Settings, IngestResult]:
    """Build the fixture under root/data, let `change` alter its files, and ingest it into
    root/snapshot.duckdb: the settings, and the ingest's result, which must be ok."""
    data_dir = build_fixture(root / "data")
    if change:
        change(data_dir)
    settings = Settings.from_env(data_dir, root / "snapshot.duckdb")
    result = ingest(settings)
    assert result.ok, result.failed
    return settings, result


@pytest.fixture
def con():
    """An in-memory DuckDB with the parser's macros, for tests of parse.py on files of their own."""
    connection = duckdb.connect()
    parse.install_macros(connection)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def fixture_snapshot(tmp_path_factory) -> Settings:
    """The hand-computable fixture, ingested once for read-only tests."""
    root = build_fixture(tmp_path_factory.mktemp("fixture"))
    settings = Settings.from_env(root, root / "snapshot.duckdb")
    result = ingest(settings)
    assert result.ok, result.failed
    return settings


@pytest.fixture
def snapshot(fixture_snapshot):
    snap = Snapshot(fixture_snapshot.db_path)
    yield snap
    snap.close()


@pytest.fixture
def fresh_data(tmp_path) -> Settings:
    """A private copy of the fixture for tests that change files."""
    root = build_fixture(tmp_path / "data")
    return Settings.from_env(root, tmp_path / "snapshot.duckdb")


def _clear_dashboard_environment(monkeypatch: pytest.MonkeyPatch, no_secrets: Path) -> None:
    """An operator's exported settings (data, snapshot, key, users, thresholds) and a developer's
    own .streamlit/secrets.toml must not change what the tests see."""
    for name in list(os.environ):
        if name.startswith("DASHBOARD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DASHBOARD_SECRETS", str(no_secrets))


@pytest.fixture(scope="session", autouse=True)
def clean_session_environment(tmp_path_factory):
    """Session fixtures (the fixture snapshot, browser servers) are built before any
    function-scoped fixture runs, so they need the clean environment too."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _clear_dashboard_environment(monkeypatch, tmp_path_factory.getbasetemp() / "no-secrets.toml")
        yield


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path_factory):
    """Again before every test, in case something set a variable without monkeypatch. A test
    or fixture that needs a variable sets it with its own monkeypatch, after this has run."""
    _clear_dashboard_environment(monkeypatch, tmp_path_factory.getbasetemp() / "no-secrets.toml")


@contextlib.contextmanager
def serving(settings: Settings, monkeypatch):
    """The app's environment pointed at a snapshot, with Streamlit's process-wide caches empty
    before and after: AppTest instances share them."""
    monkeypatch.setenv("DASHBOARD_DATA", str(settings.data_dir))
    monkeypatch.setenv("DASHBOARD_DB", str(settings.db_path))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield settings
    st.cache_data.clear()
    st.cache_resource.clear()
