"""A screen left open picks up a new snapshot by itself, without a reload.

Its own server: the test changes the data under it.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.i18n import t
from dashboard.ingest.build import ingest
from dashboard.settings import Settings
from tests.browser.support import REFRESH_SECONDS, TITLES, open_app, serve_fixture

# 2022-01-06 sampled 3,670 times; its last 20 rows are 西工房's repeat samples (tests/fixtures.py),
# so a re-export without them has 3,650.
REPEATS = 20


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    with serve_fixture(tmp_path_factory.mktemp("live")) as running:
        yield running


def samples_card(page):
    return page.locator('[data-testid="stMetric"]', has_text=t("kpi.samples", "zh")).locator(
        '[data-testid="stMetricValue"]')


def test_a_new_snapshot_shows_without_a_reload(new_page, live_server):
    page = new_page()
    open_app(page, live_server, "/", TITLES["overview"][0])
    expect(samples_card(page)).to_have_text("3,670")
    page.evaluate("window.__marker = 1")

    testing = live_server.data_dir / "exports" / "2022-01-06" / "testing_records.csv"
    lines = testing.read_text(encoding="utf-8").splitlines(keepends=True)
    assert all(",410103001001,TS01,2," in line for line in lines[-REPEATS:])  # 西工房, round 2
    testing.write_text("".join(lines[:-REPEATS]), encoding="utf-8")
    result = ingest(Settings.from_env(live_server.data_dir, live_server.db_path))
    assert result.ok, result.failed

    # One refresh interval, and time for a rerun on a slow machine.
    expect(samples_card(page)).to_have_text("3,650", timeout=(REFRESH_SECONDS + 12) * 1000)
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"
