"""The report's figures, against numbers worked out by hand in tests/fixtures.py."""

from __future__ import annotations

import json
import shutil
from datetime import datetime

import pytest

from dashboard.__main__ import main
from dashboard.briefing.document import report_markdown
from dashboard.figures.headline import build_report, default_at, default_day
from dashboard.figures.queries import Snapshot
from dashboard.ingest.build import ingest
from tests.fixtures import DAYS, EXPECTED, XINGYUAN, person_id

# The optional feeds as tests/fixtures.py writes them: checkpoint counts from 01-05, door
# visits on 01-06 only; a feed never exported is stale with no latest export.
# Every sender of the canonical layout is its file's name; nobody who sent before misses a day.
OPTIONAL_FEEDS = {
    DAYS[0]: {"checkpoint_log": {"latest_export": None, "stale": True, "missing_senders": []},
              "door_visits": {"latest_export": None, "stale": True, "missing_senders": []}},
    DAYS[1]: {"checkpoint_log": {"latest_export": "2022-01-05", "stale": False, "missing_senders": []},
              "door_visits": {"latest_export": None, "stale": True, "missing_senders": []}},
    DAYS[2]: {"checkpoint_log": {"latest_export": "2022-01-06", "stale": False, "missing_senders": []},
              "door_visits": {"latest_export": "2022-01-06", "stale": False, "missing_senders": []}},
}

KEYS = {
    "as_of", "at", "feeds", "zones_active", "population_sealed", "samples_on_day", "positives_on_day",
    "current_round", "round_coverage", "isolation_active", "releases_due_next_day", "hotel_occupancy",
    "staff_on_duty", "posts_understaffed", "positives_awaiting_transfer", "releases_overdue", "corrections",
    "reporting",
}


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_report_matches_hand_figures(snapshot, day):
    report = build_report(snapshot, day, default_at(day))
    expected = EXPECTED[day]
    assert set(report) == KEYS
    assert report["as_of"] == day.isoformat()
    assert report["at"] == f"{day.isoformat()}T12:00"
    assert tuple(report["zones_active"].values()) == expected["zones"]
    assert list(report["zones_active"]) == ["sealed", "controlled", "precaution"]
    assert report["population_sealed"] == expected["sealed_population"]
    assert report["samples_on_day"] == expected["samples"]
    assert report["positives_on_day"] == expected["positives"]
    assert report["current_round"] == expected["round"]
    assert report["round_coverage"] == expected["coverage"]
    assert tuple(report["isolation_active"].values()) == expected["isolation"]
    assert report["releases_due_next_day"] == expected["releases"]
    assert report["hotel_occupancy"] == expected["occupancy"]
    assert report["staff_on_duty"] == expected["on_duty"]
    assert report["posts_understaffed"] == expected["understaffed"]
    assert report["feeds"]["testing_records"] == {"latest_export": day.isoformat(), "stale": False,
                                                  "missing_senders": []}
    assert {kind: report["feeds"][kind] for kind in OPTIONAL_FEEDS[day]} == OPTIONAL_FEEDS[day]


def test_staff_figures_follow_at(snapshot):
    # 01-06 07:59: the night shift of 6 at CP01 only; TS01 and MV01 not started -> both short.
    report = build_report(snapshot, DAYS[2], datetime(2022, 1, 6, 7, 59))
    assert (report["staff_on_duty"], report["posts_understaffed"]) == (6, 2)
    # 01-06 23:59: the 16:00 shift runs until midnight.
    report = build_report(snapshot, DAYS[2], datetime(2022, 1, 6, 23, 59))
    assert (report["staff_on_duty"], report["posts_understaffed"]) == (6, 2)


def test_default_day_is_newest_export(snapshot):
    assert default_day(snapshot) == DAYS[-1]


def test_stale_feed_is_null_not_zero(fresh_data):
    (fresh_data.data_dir / "exports" / "2022-01-06" / "testing_records.csv").unlink()
    (fresh_data.data_dir / "exports" / "2022-01-06" / "isolation.csv").unlink()
    assert ingest(fresh_data).ok
    snapshot = Snapshot(fresh_data.db_path)
    report = build_report(snapshot, DAYS[2], default_at(DAYS[2]))
    snapshot.close()
    # The one sender of each (its file name) sent nothing on 01-06.
    assert report["feeds"]["testing_records"] == {"latest_export": "2022-01-05", "stale": True,
                                                  "missing_senders": ["testing_records"]}
    assert report["samples_on_day"] is None and report["positives_on_day"] is None
    # The ledger of 01-05 still answers for 01-06: C6 is planned to end on 01-06 but is not
    # marked ended, so it is active: home C3 + C6, home_monitoring C4, centralized C1 + C5.
    assert report["feeds"]["isolation"] == {"latest_export": "2022-01-05", "stale": True,
                                            "missing_senders": ["isolation"]}
    assert report["isolation_active"] == {"home": 2, "home_monitoring": 1, "centralized": 2}
    # Round 2 was sampled only on 01-06, whose file is gone: round 1 is current again.
    assert (report["current_round"], report["round_coverage"]) == (1, 0.675)


def test_cli_json_and_markdown(fixture_snapshot, capsys):
    args = ["--data", str(fixture_snapshot.data_dir), "--db", str(fixture_snapshot.db_path)]
    assert main(["report", *args, "--day", "2022-01-05", "--at", "2022-01-05 12:00"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["samples_on_day"] == 11 and report["staff_on_duty"] == 8
    assert main(["report", *args, "--format", "md"]) == 0
    briefing = capsys.readouterr().out
    assert "截至 2022-01-06" in briefing
    assert "当日采样：3,670 人次，阳性 1 例" in briefing
    assert "覆盖率 91.25%" in briefing
    assert "卡点查验：已更新" in briefing and "入户走访：已更新" in briefing
    assert main(["report", *args, "--day", "2022-01-04", "--format", "md"]) == 0
    assert "卡点查验：无数据" in capsys.readouterr().out


def test_markdown_says_missing_not_zero():
    report = {
        "as_of": "2022-01-06", "at": "2022-01-06T12:00", "feeds": {"testing_records": {"latest_export": "2022-01-05",
                                                                                       "stale": True}},
        "zones_active": None, "population_sealed": None, "samples_on_day": None, "positives_on_day": None,
        "current_round": None, "round_coverage": None, "isolation_active": None, "releases_due_next_day": None,
        "hotel_occupancy": None, "staff_on_duty": None, "posts_understaffed": None,
    }
    briefing = report_markdown(report)
    assert "当日采样：无数据" in briefing
    assert "未更新，最新为 2022-01-05" in briefing
    assert "：0 " not in briefing


def test_report_on_first_run_generates_nothing_when_data_configured(tmp_path, fixture_snapshot, capsys):
    # A configured data directory with no snapshot yet is ingested on first use.
    data = tmp_path / "data"
    shutil.copytree(fixture_snapshot.data_dir / "reference", data / "reference")
    shutil.copytree(fixture_snapshot.data_dir / "exports", data / "exports")
    assert main(["report", "--data", str(data), "--db", str(tmp_path / "new.duckdb")]) == 0
    assert json.loads(capsys.readouterr().out)["samples_on_day"] == 3670


def test_hotel_occupancy_counts_every_centralized_case(fresh_data):
    # A centralized case with no hotel (a designated hospital) still counts, as the contract says:
    # on 01-06, C1, C5, C7 and this one = 4 of 20 rooms.
    path = fresh_data.data_dir / "exports" / "2022-01-06" / "isolation.csv"
    with path.open("a") as f:
        f.write(f"{person_id(XINGYUAN, 990)},{XINGYUAN},centralized,,2022-01-06,2022-01-20,,阳性\n")
    assert ingest(fresh_data).ok
    snapshot = Snapshot(fresh_data.db_path)
    report = build_report(snapshot, DAYS[2], default_at(DAYS[2]))
    snapshot.close()
    assert report["hotel_occupancy"] == 0.2
