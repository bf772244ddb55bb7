"""The named queries behind the pages give the fixture's hand figures."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.fixtures import DAYS, TAIGUO, XIGONGFANG, XINGHUA, XINGYUAN

NEWEST = DAYS[-1]


def test_coverage_by_community_round_2(snapshot):
    frame = snapshot.run("testing/coverage_by_community", day=NEWEST, round=2, area="").set_index("area_code")
    # 900 / 1,000; 700 / 800; 950 / 1,000; 1,100 / 1,200. The 20 repeat samples count once.
    assert frame["persons_sampled"].to_dict() == {XINGHUA: 700, XIGONGFANG: 900, XINGYUAN: 1100, TAIGUO: 950}
    assert frame["coverage"].to_dict() == pytest.approx(
        {XINGHUA: 0.875, XIGONGFANG: 0.9, XINGYUAN: 0.9167, TAIGUO: 0.95})
    assert list(frame.index) == [XINGHUA, XIGONGFANG, XINGYUAN, TAIGUO]  # lowest first


def test_rounds_up_to_the_day(snapshot):
    assert snapshot.run("testing/rounds", day=DAYS[1])["round"].tolist() == [1]
    assert snapshot.run("testing/rounds", day=NEWEST)["round"].tolist() == [2, 1]


def test_positives_by_community_and_zones(snapshot):
    frame = snapshot.run("testing/positives_by_community", day=DAYS[0], area="").set_index("area_code")
    assert frame.loc[TAIGUO, "positives"] == 2
    assert frame.loc[TAIGUO, "active_zones"] == 2  # Z1 and Z2
    assert frame.loc[XIGONGFANG, "active_zones"] == 1  # Z3


def test_zone_table_days_in_force_and_review(snapshot):
    frame = snapshot.run("zones/zone_table", day=NEWEST, area="", review_days=14).set_index("zone_id")
    assert sorted(frame.index) == ["Z1", "Z2", "Z4"]
    # Z1 began 01-02: day 5 on 01-06. 台郭's positives: 2 on 01-04 and 1 on 01-05.
    assert frame.loc["Z1", "days_in_force"] == 5
    assert frame.loc["Z1", "positives_7d"] == 3
    assert frame.loc["Z1", "lift_review_on"].date() == date(2022, 1, 19)  # 01-05 + 14
    assert frame.loc["Z4", "lift_review_on"].date() == date(2022, 1, 20)  # 杏苑's positive on 01-06
    assert not frame["due_for_review"].any()
    due = snapshot.run("zones/zone_table", day=NEWEST, area="", review_days=1).set_index("zone_id")
    assert due.loc["Z1", "due_for_review"] and not due.loc["Z4", "due_for_review"]


def test_timeline_keeps_lifted_zones_of_the_window(snapshot):
    frame = snapshot.run("zones/timeline", day=NEWEST, area="")
    assert sorted(frame["zone_id"]) == ["Z1", "Z2", "Z3", "Z4"]
    assert frame.set_index("zone_id").loc["Z3", "lifted_on"].date() == date(2022, 1, 6)


def test_testing_trend_is_null_where_the_export_is_missing(fresh_data):
    from dashboard.figures.queries import Snapshot
    from dashboard.ingest.build import ingest

    (fresh_data.data_dir / "exports" / "2022-01-05" / "testing_records.csv").unlink()
    assert ingest(fresh_data).ok
    snap = Snapshot(fresh_data.db_path)
    try:
        trend = snap.run("testing/trend", day=NEWEST, area="")
        assert trend["samples"].tolist()[0] == 2700
        assert trend["samples"].isna().tolist() == [False, True, False]
    finally:
        snap.close()


def test_isolation_by_community(snapshot):
    frame = snapshot.run("isolation/by_community", day=NEWEST, area="").set_index("area_code")
    assert frame.loc[TAIGUO, ["home", "home_monitoring", "centralized"]].tolist() == [1, 0, 1]  # C3, C1
    assert frame.loc[XIGONGFANG, "releases_due_next_day"] == 1  # C4, planned 01-07
    assert frame["active"].sum() == 5


def test_staff_understaffed_ahead(snapshot):
    frame = snapshot.run("staff/understaffed_ahead", at=datetime(2022, 1, 6, 12), hours=12, area="")
    # TS01 is short all day (one of two absent), MV01 once its doctors leave at 16:00.
    assert frame[["site_id", "first_short_at"]].astype(str).values.tolist() == [
        ["TS01", "2022-01-06 13:00:00"], ["MV01", "2022-01-06 16:00:00"]]


def test_staff_fatigue_hours(snapshot):
    frame = snapshot.run("staff/fatigue", at=datetime(2022, 1, 6, 12), area="").set_index("staff_id")
    # E100 works 08-16 daily. The 24 h window starts 01-05 12:00: 12-16 of yesterday's shift and
    # 08-12 of today's, 8 h; in 7 days 8 + 8 + 4 = 20 h.
    assert frame.loc["E100", ["hours_24h", "hours_7d"]].tolist() == pytest.approx([8.0, 20.0])
    # E000 works 00-08: today's shift whole, yesterday's outside the window; 3 days of 8 h.
    assert frame.loc["E000", ["hours_24h", "hours_7d"]].tolist() == pytest.approx([8.0, 24.0])
    assert frame.loc["E000", "consecutive_days"] == 3
    # D01 was absent on 01-06: only the 01-05 shift counts (12-16 of it in the last 24 h).
    assert frame.loc["D01", ["hours_24h", "hours_7d"]].tolist() == pytest.approx([4.0, 8.0])
    assert frame.loc["D01", "consecutive_days"] == 1
    assert frame.loc["M00", "consecutive_days"] == 1


def test_feed_matrix_has_a_cell_per_day_and_kind(snapshot):
    frame = snapshot.run("health/feed_matrix", area="")
    assert len(frame) == 3 * 6
    loaded = frame[frame["status"] == "loaded"]
    # Four core feeds a day, checkpoint counts on 01-05 and 01-06, door visits on 01-06.
    assert len(loaded) == 3 * 4 + 2 + 1
    assert loaded.set_index(["kind"]).loc["testing_records", "rows_loaded"].tolist() == [3670, 11, 2700]
