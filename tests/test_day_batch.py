"""A day's testing exports read in one statement, each written to its own Parquet file
(dashboard/ingest/day_batch.py), give the snapshot that reading them one by one gives: the same
rows in each file, the same counts, the same rejects by line."""

from __future__ import annotations

import csv
from pathlib import Path

from dashboard.ingest import build, day_batch, parse
from tests.test_batches import field_days, ingest_into, snapshot_rows

DAY_WITH_A_BAD_ID, DAY_WITH_A_REPEAT = "2022-01-05", "2022-01-06"


def rows_of(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def export(data: Path, day: str, sender: str) -> Path:
    return next((data / "exports" / day).glob(f"核酸采样_{sender}_*.csv"))


def test_a_days_testing_exports_read_together_are_the_snapshot_of_each_read_alone(tmp_path, monkeypatch):
    data = field_days(tmp_path / "data", 2)
    # 01-05: a vehicle's sample with an ID number failing its check digit fails the day's statement,
    # and both files are read alone. 01-06: the fixed sites' file repeats a sample (read alone, its
    # repeat a reject); the vehicles' file ends in a total row, skipped, and is read with the day.
    bad = export(data, DAY_WITH_A_BAD_ID, "采样车")
    rows = rows_of(bad)
    wrong_digit = rows[-1][1][:17] + ("0" if rows[-1][1][17] != "0" else "1")
    write_rows(bad, rows + [["S-BAD", wrong_digit, *rows[-1][2:]]])
    repeated = export(data, DAY_WITH_A_REPEAT, "固定点")
    rows = rows_of(repeated)
    write_rows(repeated, rows + [rows[1]])
    totalled = export(data, DAY_WITH_A_REPEAT, "采样车")
    write_rows(totalled, rows_of(totalled) + [["合计", str(len(rows_of(totalled)) - 1), "", "", "", "", ""]])

    together, alone = [], []
    real_day, real_alone = day_batch.parse_day, build.parse_file
    monkeypatch.setattr(day_batch, "parse_day", lambda *args: together.extend(found := real_day(*args)) or found)
    monkeypatch.setattr(build, "parse_file", lambda con, path, kind, *args, **kwargs: (
        kind.kind == "testing_records" and alone.append(path)) or real_alone(con, path, kind, *args, **kwargs))
    ingest_into(data, tmp_path / "together" / "s.duckdb")
    testing = sorted((data / "exports").glob("*/核酸采样_*.csv"))
    assert together == [totalled]
    assert sorted(alone) == sorted([export(data, DAY_WITH_A_BAD_ID, "固定点"), bad, repeated])
    read_together = snapshot_rows(tmp_path / "together" / "s.duckdb")

    together.clear(), alone.clear()
    monkeypatch.setattr(day_batch, "ahead", lambda upcoming, *args: ([upcoming[0]], []))
    ingest_into(data, tmp_path / "alone" / "s.duckdb")
    assert not together and sorted(alone) == testing
    read_alone = snapshot_rows(tmp_path / "alone" / "s.duckdb")
    assert read_together.keys() == read_alone.keys()
    assert [name for name in read_alone if read_together[name] != read_alone[name]] == []

    # And every file through the full checks, none the clean way: the same again.
    monkeypatch.setattr(parse, "_clean", lambda *args, **kwargs: None)
    monkeypatch.setattr(day_batch, "parse_day", lambda *args: {})
    ingest_into(data, tmp_path / "checked" / "s.duckdb")
    read_checked = snapshot_rows(tmp_path / "checked" / "s.duckdb")
    assert [name for name in read_checked if read_together[name] != read_checked[name]] == []

    # The rejects, by the line counted in each file: the bad ID on the vehicles' last line, the
    # repeat on the fixed sites' last.
    rejects = sorted(read_together["rejects"])
    assert len(rejects) == 2
    assert f"'{bad.relative_to(data)}'" in rejects[0] and f", {len(rows_of(bad))}, 'person_id'," in rejects[0]
    assert f"'{repeated.relative_to(data)}'" in rejects[1]
    assert f", {len(rows_of(repeated))}, 'sample_id', 'duplicate sample_id'," in rejects[1]
    # The total row: read with its day, and skipped (rows read, loaded, rejected, skipped).
    good = len(rows_of(totalled)) - 2
    log = [line for line in read_together["ingest_log"] if f"'{totalled.relative_to(data)}'" in line]
    assert len(log) == 1 and f"'utf-8', {good}, {good}, 0, 1, 'loaded'," in log[0]


def test_a_file_big_enough_to_keep_the_cores_busy_is_read_alone(tmp_path, monkeypatch):
    data = field_days(tmp_path / "data", 1)
    fixed, vehicles = export(data, "2022-01-06", "固定点"), export(data, "2022-01-06", "采样车")
    assert fixed.stat().st_size > vehicles.stat().st_size
    together = []
    real_day = day_batch.parse_day
    monkeypatch.setattr(day_batch, "parse_day", lambda *args: together.extend(found := real_day(*args)) or found)
    monkeypatch.setattr(day_batch, "LARGEST_BYTES", fixed.stat().st_size + 1)
    ingest_into(data, tmp_path / "together" / "s.duckdb")
    assert sorted(together) == sorted([fixed, vehicles])
    together.clear()
    # The fixed sites' file as big as the limit: it is read alone, and so is the vehicles' then.
    monkeypatch.setattr(day_batch, "LARGEST_BYTES", fixed.stat().st_size)
    ingest_into(data, tmp_path / "alone" / "s.duckdb")
    assert together == []
    assert snapshot_rows(tmp_path / "together" / "s.duckdb") == snapshot_rows(tmp_path / "alone" / "s.duckdb")
