"""An ingest does not read again the bytes of a file whose stat is as when an earlier ingest hashed
it (dashboard/ingest/hashes.py), and reads every file that may have changed."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from dashboard.__main__ import main
from dashboard.ingest import build, hashes
from dashboard.ingest.build import ingest
from dashboard.ingest.partitions import open_snapshot
from dashboard.settings import Settings
from tests.fixtures import DAYS, build_fixture


@pytest.fixture
def readings(monkeypatch) -> list[hashes.FileHashes]:
    """The FileHashes of each ingest, in order: how many files each one read."""
    made = []

    class Recorded(hashes.FileHashes):
        @classmethod
        def of(cls, con, rehash=False):
            made.append(super().of(con, rehash))
            return made[-1]

    monkeypatch.setattr(build, "FileHashes", Recorded)
    return made


@pytest.fixture
def settled(monkeypatch):
    """The fixture's files were written a moment ago: without this, none is old enough to trust."""
    monkeypatch.setattr(hashes, "RACY_SECONDS", 0.0)


def fixture_settings(tmp_path: Path) -> Settings:
    root = build_fixture(tmp_path / "data")
    return Settings.from_env(root, tmp_path / "snapshot.duckdb")


def data_files(root: Path) -> list[Path]:
    """The tables an ingest hashes: every file of the fixture but boundaries.geojson, which it stores as it is."""
    return sorted(p for p in root.rglob("*.csv") if p.is_file())


def positives_in_file(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as f:
        return sum(1 for row in csv.DictReader(f) if row["result"] == "positive")


def positives_served(db_path: Path, day) -> int:
    con = open_snapshot(db_path)
    try:
        return con.execute("select count(*) from testing_records where export_day = $day and result = 'positive'",
                           {"day": day}).fetchone()[0]
    finally:
        con.close()


def test_an_unchanged_file_is_not_read_again_and_a_changed_one_is(tmp_path, readings, settled):
    settings = fixture_settings(tmp_path)
    ingest(settings)
    every_file = len(data_files(settings.data_dir))
    assert readings[0].files_read == every_file

    assert all(o.status in ("unchanged", "missing") for o in ingest(settings).outcomes)
    assert readings[1].files_read == 0

    newest = settings.data_dir / "exports" / DAYS[-1].isoformat() / "testing_records.csv"
    with newest.open("a", encoding="utf-8") as f:
        f.write(f"S{DAYS[-1]:%Y%m%d}999999,,,,,,\n")  # a row with nothing in it: one more line to account for
    outcome = next(o for o in ingest(settings).outcomes if o.file.endswith(f"{DAYS[-1]}/testing_records.csv"))
    assert readings[2].files_read == 1
    assert outcome.status == "loaded"


def test_a_file_rewritten_in_place_with_its_size_and_modification_time_kept_is_read_again(tmp_path, readings,
                                                                                           settled):
    settings = fixture_settings(tmp_path)
    ingest(settings)
    newest = settings.data_dir / "exports" / DAYS[-1].isoformat() / "testing_records.csv"
    before = os.stat(newest)
    text = newest.read_bytes()
    # Same bytes count, same inode, the modification time set back: only the change time moves.
    with newest.open("r+b") as f:
        f.write(text.replace(b",negative", b",positive", 1))
    os.utime(newest, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(newest)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)

    result = ingest(settings)
    assert readings[1].files_read == 1
    assert next(o for o in result.outcomes if o.file.endswith(f"{DAYS[-1]}/testing_records.csv")).status == "loaded"
    assert positives_served(settings.db_path, DAYS[-1]) == positives_in_file(newest)


def test_a_file_hashed_moments_after_it_was_written_is_read_again_next_time(tmp_path, readings, monkeypatch):
    # Every file written within the window: an hour, where the ingest's is two seconds, so that a
    # slow first ingest cannot take the fixture's first files out of it.
    monkeypatch.setattr(hashes, "RACY_SECONDS", 3600.0)
    settings = fixture_settings(tmp_path)
    ingest(settings)
    ingest(settings)
    assert readings[1].files_read == len(data_files(settings.data_dir))


def test_rehash_reads_every_file_again(tmp_path, readings, settled):
    settings = fixture_settings(tmp_path)
    ingest(settings)
    ingest(settings, rehash=True)
    assert readings[1].files_read == len(data_files(settings.data_dir))
    assert main(["ingest", "--rehash", "--data", str(settings.data_dir), "--db", str(settings.db_path)]) == 0
    assert readings[2].files_read == len(data_files(settings.data_dir))
    ingest(settings)
    assert readings[3].files_read == 0
