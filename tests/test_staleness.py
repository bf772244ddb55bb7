"""The staleness banner at its boundary: an export for day D covers D, so it goes stale 26 hours
after the end of D, and a snapshot whose newest export is today shows no banner."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta

import pytest

from dashboard.ingest.build import ingest
from dashboard.settings import Settings
from dashboard.web import banners
from tests.fixtures import build_fixture
from tests.test_app_pages import clear_caches, open_page
from tests.test_screens_and_login import html_blocks

CORE = ["control_zones", "testing_records", "isolation", "shifts"]
NEWEST = date(2022, 1, 6)
# The end of 2022-01-06 is 2022-01-07 00:00; 26 hours later is 2022-01-08 02:00.
STALE_FROM = datetime(2022, 1, 8, 2, 0)
OK_STATUS = {"ok": True, "attempted_at": "2022-01-07T00:30:00", "message": ""}


def test_the_default_threshold_is_26_hours():
    assert Settings.from_env().thresholds.stale_after_hours == 26


@pytest.mark.parametrize("now, stale", [
    (STALE_FROM - timedelta(minutes=1), False),
    (STALE_FROM + timedelta(minutes=1), True),
    # Any time on the export's own day, and the day after, is fresh.
    (datetime(2022, 1, 6, 23, 59), False),
    (datetime(2022, 1, 7, 23, 59), False),
], ids=["26h-1min", "26h+1min", "same-day", "next-day"])
def test_stale_alarms_at_the_boundary(now, stale):
    latest = dict.fromkeys(CORE, NEWEST)
    alarms = banners.stale_alarms(latest, now, Settings.from_env().thresholds.stale_after_hours, OK_STATUS)
    assert [(a.feed, a.since) for a in alarms] == ([(feed, NEWEST) for feed in CORE] if stale else [])


def test_one_silent_feed_at_the_boundary():
    # Shifts stopped a day earlier: at 26 h + 1 min after the end of 01-05 only shifts is stale.
    latest = {**dict.fromkeys(CORE, NEWEST), "shifts": NEWEST - timedelta(days=1)}
    now = STALE_FROM - timedelta(days=1) + timedelta(minutes=1)
    alarms = banners.stale_alarms(latest, now, 26, OK_STATUS)
    assert [(a.feed, a.since) for a in alarms] == [("shifts", date(2022, 1, 5))]


def snapshot_with_newest_day(tmp_path, newest: date) -> Settings:
    """The fixture's 01-06 exports filed under `newest`, as the only export day."""
    data = build_fixture(tmp_path / "data")
    exports = data / "exports"
    for old in ("2022-01-04", "2022-01-05"):
        shutil.rmtree(exports / old)
    (exports / "2022-01-06").rename(exports / newest.isoformat())
    settings = Settings.from_env(data, tmp_path / "snapshot.duckdb")
    result = ingest(settings)
    assert result.ok, result.failed
    return settings


@pytest.mark.parametrize("days_old, banner", [(0, False), (3, True)], ids=["exported-today", "three-days-old"])
def test_banner_on_the_overview(tmp_path, monkeypatch, days_old, banner):
    """Today's export shows no banner; the same files dated three days back do (at least 48 h
    past the end of their day, whatever the time now)."""
    settings = snapshot_with_newest_day(tmp_path, date.today() - timedelta(days=days_old))
    monkeypatch.setenv("DASHBOARD_DATA", str(settings.data_dir))
    monkeypatch.setenv("DASHBOARD_DB", str(settings.db_path))
    clear_caches()
    try:
        at = open_page("overview.py")
        assert not at.exception, [e.message for e in at.exception]
        assert at.title[0].value == "总览"
        assert ("stale-banner" in html_blocks(at)) is banner
    finally:
        clear_caches()
