"""An ingest does not read again the bytes of a file whose stat is as when an earlier ingest hashed
it (dashboard/ingest/hashes.py), and reads every file that may have changed."""

from __future__ import annotations

import csv
import hashlib
import os
import threading
import time
from pathlib import Path

import pytest

from dashboard.__main__ import main
from dashboard.ingest import batches, build, hashes, text
from dashboard.ingest.build import ingest
from dashboard.ingest.partitions import open_snapshot
from dashboard.settings import Settings
from tests.fixtures import DAYS, build_fixture
from tests.test_batches import field_days


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


# A file's bytes are hashed in the pass that scans them for the parse (text.scan with a digest):
# UTF-8, GBK (whose UTF-8 pass stops at its first Chinese character), a first line too long for a header, an empty file,
# and a file longer than one chunk.
SCANNED = {
    "utf-8": b"sample_id,person_id\nS1,a\nS2,b\n",
    "utf-8, Chinese": "样本编号,身份证号\nS1,甲\n".encode(),
    "gbk": "样本编号,身份证号\nS1,甲\n".encode("gb18030"),
    # Its UTF-8 pass fails in the first chunk, with more chunks to hash after it.
    "gbk, several chunks": ("样本编号,身份证号\n" + "S1,甲\n" * (3 * text.CHUNK // 7)).encode("gb18030"),
    "first line too long": b"x" * (text.MAX_LINE_BYTES + 10) + b"\nS1,a\n",
    "empty": b"",
    "several chunks": b"sample_id,person_id\n" + b"S1,abcdefgh\n" * (3 * text.CHUNK // 12),
}


@pytest.mark.parametrize("content", SCANNED.values(), ids=SCANNED.keys())
def test_the_scan_hashes_every_byte_and_scans_as_without_hashing(tmp_path, content):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    digest = hashlib.sha256()
    outcomes = []
    for given in (digest, None):
        try:
            outcomes.append(text.scan(path, given))
        except text.UnusableFile as error:
            outcomes.append(str(error))
    assert digest.hexdigest() == hashlib.sha256(content).hexdigest()
    assert outcomes[0] == outcomes[1]


def test_a_hashed_csv_file_is_scanned_once(tmp_path, monkeypatch):
    path = tmp_path / "export.csv"
    path.write_bytes(SCANNED["several chunks"])
    scans = []
    monkeypatch.setattr(hashes, "scan", lambda *args, **kwargs: scans.append(args) or text.scan(*args, **kwargs))
    files = hashes.FileHashes({})
    assert files.sha256(path, text=True) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert files.scanned(path) == text.scan(path, blank_lines=False) and len(scans) == 1
    # Changed since: the scan is not handed out.
    path.write_bytes(SCANNED["utf-8"])
    assert files.scanned(path) is None


@pytest.fixture
def reads(monkeypatch) -> list[tuple[str, str]]:
    """(file name, thread name) of each file whose bytes a FileHashes read, in order."""
    done = []
    real = hashes.FileHashes._read

    def recorded(self, path, text):
        done.append((path.name, threading.current_thread().name))
        return real(self, path, text)

    monkeypatch.setattr(hashes.FileHashes, "_read", recorded)
    return done


def test_exports_hashed_ahead_are_hashed_in_their_order_in_a_thread_no_more_than_ahead(tmp_path, reads):
    paths = []
    for i in range(5):
        paths.append(tmp_path / f"{i}.csv")
        paths[-1].write_bytes(b"sample_id,person_id\n" + f"S{i},a\n".encode() * (i + 1))
    files = hashes.FileHashes({})
    files.ahead(paths)
    assert wait_for(lambda: len(reads) == hashes.AHEAD) and not wait_for(lambda: len(reads) > hashes.AHEAD, 0.3)
    assert files.sha256(paths[0], text=True) == hashlib.sha256(paths[0].read_bytes()).hexdigest()
    assert wait_for(lambda: len(reads) == hashes.AHEAD + 1)
    # Asked out of its order, a file is read where it is asked for.
    assert files.sha256(paths[4], text=True) == hashlib.sha256(paths[4].read_bytes()).hexdigest()
    for path in paths[1:4]:
        assert files.sha256(path, text=True) == hashlib.sha256(path.read_bytes()).hexdigest()
        assert files.scanned(path).lines == int(path.name[0]) + 2
    assert sorted(reads) == sorted([(f"{i}.csv", "hash-ahead_0") for i in range(4)] + [("4.csv", "MainThread")])
    assert [name for name, _ in reads][:3] == ["0.csv", "1.csv", "2.csv"]
    # Asked again (a day's exports are hashed before they are read together, day_batch.py), each
    # gives the same answer, and is not read again.
    for path in paths:
        assert files.sha256(path, text=True) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(reads) == 5


def test_an_export_gone_before_it_is_hashed_ahead_cannot_be_read(tmp_path):
    files = hashes.FileHashes({})
    files.ahead([tmp_path / "gone.csv", tmp_path / "gone too.csv"])
    # The same answer each time, in its order or out of it.
    for path in [tmp_path / "gone too.csv", tmp_path / "gone.csv"] * 2:
        with pytest.raises(text.UnusableFile, match=f"{path.name}: cannot be read"):
            files.sha256(path, text=True)


def test_an_ingest_hashes_the_testing_exports_ahead_once_each_and_carries_on_past_one_gone(tmp_path, reads,
                                                                                          monkeypatch):
    data = field_days(tmp_path / "data", 2)
    testing = sorted((data / "exports").glob("*/核酸采样_*.csv"))
    gone = testing[1]
    real = batches.grouped
    monkeypatch.setattr(build.batches, "grouped", lambda *args: gone.unlink() or real(*args))
    result = ingest(Settings.from_env(data, tmp_path / "s.duckdb"))
    assert sorted(name for name, thread in reads if thread.startswith("hash-ahead")) == sorted(
        p.name for p in testing)
    assert all(thread == "MainThread" for name, thread in reads if not name.startswith("核酸采样_"))
    assert [(o.file, o.message) for o in result.failed] == [
        (str(gone.relative_to(data)), f"{gone.relative_to(data)}: cannot be read (No such file or directory)")]
    loaded = {o.file for o in result.outcomes if o.status == "loaded"}
    assert {str(p.relative_to(data)) for p in testing if p != gone} <= loaded


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
