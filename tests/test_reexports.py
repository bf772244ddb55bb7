"""Re-exports and removed days, for every export kind of the contract: the snapshot mirrors the
files. Expected counts are read from the CSV files themselves, and every data invariant in
tests/invariants/ must hold after each change."""

from __future__ import annotations

import csv
import dataclasses
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from dashboard.ingest.build import ingest
from dashboard.ingest.contract import EXPORT_KINDS
from dashboard.ingest.partitions import open_snapshot
from tests.test_queries import INVARIANTS

KINDS = [kind.kind for kind in EXPORT_KINDS]


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def rows_in_files(data_dir: Path, kind: str) -> Counter:
    """Data rows per export day, counted in the files (the fixture has no rejects)."""
    return Counter({date.fromisoformat(path.parent.name): len(csv_rows(path)) - 1
                    for path in (data_dir / "exports").glob(f"*/{kind}.csv")})


def rows_in_snapshot(settings, kind: str) -> Counter:
    con = open_snapshot(settings.db_path)
    try:
        days = con.table(kind).df()["export_day"]
    finally:
        con.close()
    return Counter({day.date(): count for day, count in days.value_counts().items()})


def broken_invariants(settings) -> dict[str, list]:
    con = open_snapshot(settings.db_path)
    try:
        found = {path.stem: con.execute(path.read_text()).fetchall() for path in INVARIANTS}
    finally:
        con.close()
    return {name: rows for name, rows in found.items() if rows}


def assert_snapshot_mirrors_files(settings) -> None:
    for kind in KINDS:
        assert rows_in_snapshot(settings, kind) == rows_in_files(settings.data_dir, kind), kind
    assert broken_invariants(settings) == {}


def newest_day_with(data_dir: Path, kind: str) -> Path:
    return max((data_dir / "exports").glob(f"*/{kind}.csv"))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def test_every_kind_has_a_fixture_file_to_change(fresh_data):
    for kind in KINDS:
        assert len(csv_rows(newest_day_with(fresh_data.data_dir, kind))) >= 3, kind  # header + 2 rows


@pytest.mark.parametrize("kind", KINDS)
def test_reexported_and_removed_file(fresh_data, kind):
    # Dropping one row of a three-row fixture file is over the share a re-export may drop
    # unaccepted (tests/test_ingest_guards.py): here the replacing itself is tested.
    fresh_data = dataclasses.replace(fresh_data, reexport_max_drop=1.0)
    assert ingest(fresh_data).ok
    assert_snapshot_mirrors_files(fresh_data)
    path = newest_day_with(fresh_data.data_dir, kind)
    day = date.fromisoformat(path.parent.name)
    original = csv_rows(path)

    # A re-export with its last row gone: the day holds the new file's rows, never both.
    write_rows(path, original[:-1])
    assert ingest(fresh_data).ok
    assert rows_in_snapshot(fresh_data, kind)[day] == len(original) - 2
    assert_snapshot_mirrors_files(fresh_data)

    # And back to the full file: the row comes back once.
    write_rows(path, original)
    assert ingest(fresh_data).ok
    assert rows_in_snapshot(fresh_data, kind)[day] == len(original) - 1
    assert_snapshot_mirrors_files(fresh_data)

    # The file removed: its rows go, and nothing else does.
    others_before = {k: rows_in_snapshot(fresh_data, k) for k in KINDS if k != kind}
    path.unlink()
    assert ingest(fresh_data).ok
    assert rows_in_snapshot(fresh_data, kind)[day] == 0
    assert {k: rows_in_snapshot(fresh_data, k) for k in KINDS if k != kind} == others_before
    assert_snapshot_mirrors_files(fresh_data)


@pytest.mark.parametrize("day", ["2022-01-05", "2022-01-06"])
def test_removed_day_takes_its_rows_for_every_kind(fresh_data, day):
    assert ingest(fresh_data).ok
    folder = fresh_data.data_dir / "exports" / day
    kept = fresh_data.data_dir / "held-back"
    shutil.move(folder, kept)
    assert ingest(fresh_data).ok
    for kind in KINDS:
        assert rows_in_snapshot(fresh_data, kind)[date.fromisoformat(day)] == 0, kind
    con = open_snapshot(fresh_data.db_path)
    try:
        leftovers = con.execute("select count(*) from loaded_files where day = $day", {"day": day}).fetchone()[0]
        leftovers += con.execute("select count(*) from rejects where day = $day", {"day": day}).fetchone()[0]
    finally:
        con.close()
    assert leftovers == 0
    assert_snapshot_mirrors_files(fresh_data)

    # The day comes back as it was.
    shutil.move(kept, folder)
    assert ingest(fresh_data).ok
    assert_snapshot_mirrors_files(fresh_data)
