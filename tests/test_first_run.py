"""A first run shows data early: the newest days are ingested while the newcomer watches the
steps and counts, the older days by a second, ordinary ingest in the background."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import first_run as first_run_module
from dashboard import settings as configured
from dashboard.demo.generate import generate
from dashboard.first_run import ensure_snapshot
from dashboard.i18n import t
from dashboard.ingest.build import ingest
from dashboard.web import cache
from tests.fixtures import DAYS

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


def loaded_days(settings) -> list:
    from dashboard.figures.queries import Snapshot

    snapshot = Snapshot(settings.db_path)
    try:
        return [d.date() for d in snapshot.run("health/export_days")["day"]]
    finally:
        snapshot.close()


def test_newest_days_first_then_the_rest(fresh_data):
    steps = []
    assert ensure_snapshot(fresh_data, lambda *step: steps.append(step), newest_days=1) == first_run_module.OLDER_TO_INGEST
    assert loaded_days(fresh_data) == [DAYS[-1]]
    # One step per input file: areas.csv, sites.csv and the six exports of 01-06 (the optional
    # field-work feeds arrive from 01-05 on; fixtures.build_fixture).
    assert steps == [("ingest", done, 8) for done in range(9)]

    result = ingest(fresh_data)
    assert result.ok
    assert sorted(loaded_days(fresh_data)) == DAYS
    # Only the two older days were read the second time.
    assert {o.day for o in result.outcomes if o.status == "loaded"} == set(DAYS[:2])


def test_newest_days_is_ignored_once_a_snapshot_exists(fresh_data):
    assert ingest(fresh_data).ok
    assert ensure_snapshot(fresh_data, newest_days=1) is None
    assert ingest(fresh_data, newest_days=1).ok
    assert sorted(loaded_days(fresh_data)) == DAYS


@pytest.fixture
def first_run(fresh_data, monkeypatch):
    """A first run on the bundled demo (here the fixture stands in for it: only the demo's web
    process may start its own first ingest) that shows one day first; the older days wait until
    the test lets them in."""
    monkeypatch.setattr(first_run_module, "FIRST_RUN_DAYS", 1)
    monkeypatch.setattr(configured, "DEMO_DATA", fresh_data.data_dir)
    monkeypatch.setattr(configured, "DEMO_DB", fresh_data.db_path)
    let_in = threading.Event()
    ingest_older_days = first_run_module._ingest_older_days

    def held_back(config, left, end_date):
        let_in.wait(60)
        ingest_older_days(config, left, end_date)


    monkeypatch.setattr(first_run_module, "_ingest_older_days", held_back)
    st.cache_data.clear()
    st.cache_resource.clear()
    settings = cache.settings()
    assert settings.is_demo and settings.db_path == fresh_data.db_path
    yield settings, let_in
    st.cache_data.clear()
    st.cache_resource.clear()


def test_the_app_shows_the_newest_day_at_once_and_the_rest_when_ingested(first_run):
    settings, let_in = first_run
    assert not settings.db_path.exists()
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, [e.message for e in at.exception]
    notice = t("app.loading_older", "zh", days=1)
    assert notice in [i.value for i in at.info]
    assert not at.status  # the steps are gone once the page is drawn
    day = at.selectbox(key="day")
    assert (day.value, len(day.options)) == (DAYS[-1].isoformat(), 1)

    let_in.set()
    for _ in range(600):
        if not first_run_module._older_days_loading.is_set():
            break
        time.sleep(0.1)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert notice not in [i.value for i in at.info]
    # The app's own reader saw the swap (another connection in this process would not: DuckDB
    # hands a second connect to an open file the same database).
    assert len(at.selectbox(key="day").options) == len(DAYS)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")
def test_the_older_days_are_ingested_below_the_pages_priority(monkeypatch):
    """On two cores the background ingest must not take the CPU from the first page and its browser."""
    seen = []
    monkeypatch.setattr(first_run_module, "ingest",
                        lambda config: seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
    first_run_module._older_days_loading.set()
    worker = threading.Thread(target=first_run_module._ingest_older_days, args=(None, first_run_module.OLDER_TO_INGEST))
    worker.start()
    worker.join(30)
    assert seen == [min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < seen[0]  # this thread is untouched
    assert not first_run_module._older_days_loading.is_set()


def files_by_hash(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.slow
def test_a_first_run_generates_the_newest_days_first_and_the_same_demo_in_the_end(tmp_path, monkeypatch):
    """The newcomer waits for the newest days' files only; the older days, generated in the
    background, complete exactly the demo a single generation writes."""
    demo = tmp_path / "demo"
    monkeypatch.setattr(first_run_module, "DEMO_DAYS", 4)  # 14 as shipped; fewer to generate here
    monkeypatch.setattr(first_run_module, "FIRST_RUN_DAYS", 2)
    monkeypatch.delenv("DASHBOARD_DATA", raising=False)
    monkeypatch.delenv("DASHBOARD_DB", raising=False)
    monkeypatch.setattr(configured, "DEMO_DATA", demo)
    monkeypatch.setattr(configured, "DEMO_DB", tmp_path / "demo.duckdb")
    config = configured.Settings.from_env()
    assert config.is_demo and config.data_dir == demo
    ingested = []  # the export days on disk at each ingest
    monkeypatch.setattr(first_run_module, "ingest", lambda settings, *args: ingested.append(
        sorted(folder.name for folder in (settings.data_dir / "exports").iterdir())))
    end = date(2022, 1, 14)
    days = [(end - timedelta(days=n)).isoformat() for n in range(first_run_module.DEMO_DAYS - 1, -1, -1)]

    left = ensure_snapshot(config, newest_days=2, end_date=end)
    assert left == first_run_module.OLDER_TO_GENERATE
    assert ingested == [days[-2:]]
    first_run_module._older_days_loading.set()
    first_run_module._ingest_older_days(config, left, end)
    assert ingested[1] == days
    assert not first_run_module._older_days_failed.is_set()

    at_once = tmp_path / "at-once"
    generate(at_once, days=first_run_module.DEMO_DAYS, end_date=end)
    assert files_by_hash(demo) == files_by_hash(at_once)


def test_a_first_run_on_files_named_as_the_field_names_them_leaves_the_older_days_to_ingest(tmp_path, monkeypatch):
    """The demo's files carry the senders' own names (蜜蜂张街道隔离台账0106.xlsx), which the ingest
    tells by their headers: those days count too, or the first run stops at its newest days."""
    end = date(2022, 1, 14)
    generate(tmp_path / "data", days=3, end_date=end)
    config = configured.Settings.from_env(data_dir=tmp_path / "data", db_path=tmp_path / "snapshot.duckdb")
    monkeypatch.setattr(first_run_module, "ingest", lambda *args: None)
    assert ensure_snapshot(config, newest_days=1) == first_run_module.OLDER_TO_INGEST
    assert ensure_snapshot(config, newest_days=3) is None  # three days in all: nothing left
