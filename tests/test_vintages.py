"""Corrections between re-exports: a re-export keeps what the replaced file said, as figures only.
Expected figures are worked out by hand from tests/fixtures.py and the edits made here."""

from __future__ import annotations

import csv
import time
from pathlib import Path

from dashboard.figures.headline import build_report, default_at
from dashboard.figures.queries import Snapshot
from dashboard.ingest.build import ingest
from dashboard.ingest.partitions import open_snapshot
from tests.fixtures import DAYS


def rewrite(path: Path, change) -> None:
    with path.open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    rows = change(rows)
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *rows])


def report_on(settings, day) -> dict:
    snapshot = Snapshot(settings.db_path)
    try:
        return build_report(snapshot, day, default_at(day))
    finally:
        snapshot.close()


def seven_more_positives_one_row_fewer(rows):
    # 01-06's testing file: the last row (a negative) dropped, seven negatives in 西工房 turned positive.
    rows = rows[:-1]
    turned = 0
    for row in rows:
        if row[2].endswith("001001") and row[6] == "negative" and turned < 7:
            row[6] = "positive"
            turned += 1
    return rows


def test_no_corrections_before_any_reexport(fresh_data):
    assert ingest(fresh_data).ok
    assert ingest(fresh_data).ok  # nothing changed: no replacement
    assert report_on(fresh_data, DAYS[2])["corrections"] == []


def test_a_reexport_records_before_and_after(fresh_data):
    assert ingest(fresh_data).ok
    exports = fresh_data.data_dir / "exports"
    rewrite(exports / "2022-01-06" / "testing_records.csv", seven_more_positives_one_row_fewer)
    assert ingest(fresh_data).ok
    time.sleep(1.1)  # ingest times are kept to the second: the next one must be later
    # 01-05's isolation ledger re-exported without C6 (杏苑, home, from 01-05).
    rewrite(exports / "2022-01-05" / "isolation.csv", lambda rows: rows[:-1])
    assert ingest(fresh_data).ok

    newest = report_on(fresh_data, DAYS[2])
    assert [(c["kind"], c["day"]) for c in newest["corrections"]] == [("isolation", "2022-01-05"),
                                                                       ("testing_records", "2022-01-06")]
    isolation, testing = newest["corrections"]
    # Testing, 01-06: 3,670 samples and 1 positive before; 3,669 and 1 + 7 = 8 after.
    assert testing["before"] == {"rows": 3670, "samples_on_day": 3670, "positives_on_day": 1}
    assert testing["after"] == {"rows": 3669, "samples_on_day": 3669, "positives_on_day": 8}
    assert newest["positives_on_day"] == 8
    # Isolation, 01-05: six cases, active (home 2, monitoring 1, centralized 2) before; C6 gone after.
    assert isolation["before"] == {"rows": 6, "isolation_active": {"home": 2, "home_monitoring": 1, "centralized": 2}}
    assert isolation["after"] == {"rows": 5, "isolation_active": {"home": 1, "home_monitoring": 1, "centralized": 2}}
    assert isolation["ingested_at"] > testing["ingested_at"]

    # A day's report lists only corrections of that day or earlier.
    assert [c["kind"] for c in report_on(fresh_data, DAYS[1])["corrections"]] == ["isolation"]
    assert report_on(fresh_data, DAYS[0])["corrections"] == []


def test_only_figures_are_kept(fresh_data):
    assert ingest(fresh_data).ok
    rewrite(fresh_data.data_dir / "exports" / "2022-01-06" / "shifts.csv", lambda rows: rows[1:])
    assert ingest(fresh_data).ok
    con = open_snapshot(fresh_data.db_path)
    try:
        stored = con.execute("select kind, day::varchar, before, after from corrections").fetchall()
    finally:
        con.close()
    # 01-06 shifts: 18 at CP01 + 2 at TS01 + 2 at MV01 = 22 rows; at noon 6 + 1 + 2 = 9 on duty.
    # The first row dropped is a CP01 night shift (00:00-08:00), so noon still counts 9.
    assert stored == [("shifts", "2022-01-06", '{"rows": 22, "staff_on_duty": 9}', '{"rows": 21, "staff_on_duty": 9}')]


def test_a_failed_reexport_is_no_correction(fresh_data):
    assert ingest(fresh_data).ok
    (fresh_data.data_dir / "exports" / "2022-01-06" / "control_zones.csv").write_text("zone_id\nZ1\n")
    assert not ingest(fresh_data).ok
    assert report_on(fresh_data, DAYS[2])["corrections"] == []
