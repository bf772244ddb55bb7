"""Faults during an ingest: a full disk, a read-only snapshot folder, kill -9 at random moments.

Each ends with a clear error and a non-zero exit, and the previous snapshot serving unchanged
figures. The disk faults need a small tmpfs, so they run as root only (CI and this machine's
helpers are); elsewhere they are skipped, saying why.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dashboard.__main__ import main
from dashboard.ingest.build import ingest
from dashboard.ingest.partitions import open_snapshot
from dashboard.ingest.status import read_status
from dashboard.settings import Settings
from tests.fixtures import DAYS, build_fixture

REPO = Path(__file__).resolve().parents[1]
FIGURES = "select export_day, count(*), count(distinct person_key) from testing_records group by all order by 1"


def figures(db_path: Path) -> list[tuple]:
    with open_snapshot(db_path) as con:
        return con.execute(FIGURES).fetchall()


def reexport_with_more_rows(settings: Settings, extra: int) -> None:
    path = settings.data_dir / "exports" / DAYS[-1].isoformat() / "testing_records.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    # Copies of the last row under new sample IDs: a re-export that changes the day's count.
    last = lines[-1].split(",")
    more = [",".join([f"EXTRA{n}", *last[1:]]) for n in range(extra)]
    path.write_text("\n".join(lines + more) + "\n", encoding="utf-8")


@pytest.fixture
def tmpfs(tmp_path):
    """A 64 MB tmpfs of its own, unmounted afterwards."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def snapshot_on(tmpfs: Path, tmp_path: Path) -> Settings:
    settings = Settings.from_env(build_fixture(tmp_path / "data"), tmpfs / "snap" / "snapshot.duckdb")
    assert ingest(settings).ok
    return settings


def test_full_disk_fails_clearly_and_the_old_snapshot_serves(tmpfs, tmp_path, capsys):
    settings = snapshot_on(tmpfs, tmp_path)
    before = figures(settings.db_path)
    reexport_with_more_rows(settings, 50)
    # Fill the disk, leaving less than a copy of the snapshot needs.
    free = shutil.disk_usage(tmpfs).free
    filler = tmpfs / "filler"
    with filler.open("wb") as f:
        f.write(b"\0" * max(0, free - settings.db_path.stat().st_size // 2))
    exit_code = main(["ingest", "--data", str(settings.data_dir), "--db", str(settings.db_path)])
    assert exit_code != 0
    error = capsys.readouterr().err
    assert "space" in error.lower()
    assert figures(settings.db_path) == before
    status = read_status(settings.db_path)
    assert status["ok"] is False and "space" in status["message"].lower()
    # Room again: the next ingest takes the re-export.
    filler.unlink()
    assert ingest(settings).ok
    assert figures(settings.db_path)[-1][1] == before[-1][1] + 50


def test_read_only_snapshot_folder_fails_clearly_and_the_old_snapshot_serves(tmpfs, tmp_path, capsys):
    settings = snapshot_on(tmpfs, tmp_path)
    before = figures(settings.db_path)
    reexport_with_more_rows(settings, 5)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    try:
        exit_code = main(["ingest", "--data", str(settings.data_dir), "--db", str(settings.db_path)])
        assert exit_code != 0
        error = capsys.readouterr().err
        assert "read-only file system" in error.lower()
        # The status file cannot be written there either, and the error says so.
        assert "status file could not be written" in error
        assert figures(settings.db_path) == before
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(tmpfs)], check=True)


@pytest.mark.slow
def test_kill_at_random_moments_leaves_the_previous_snapshot(tmp_path):
    settings = Settings.from_env(build_fixture(tmp_path / "data"), tmp_path / "snapshot.duckdb")
    assert ingest(settings).ok
    before = figures(settings.db_path)
    baseline = tmp_path / "baseline.duckdb"
    shutil.copyfile(settings.db_path, baseline)
    reexport_with_more_rows(settings, 200)
    after = _with_extra(before, 200)
    command = [sys.executable, "-m", "dashboard", "ingest", "--data", str(settings.data_dir),
               "--db", str(settings.db_path)]
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, capture_output=True, check=True)
    duration = time.perf_counter() - start
    rng = random.Random(9)
    for _ in range(20):
        # Back to the old snapshot, so that each kill interrupts the same work.
        shutil.copyfile(baseline, tmp_path / "restore.duckdb")
        os.replace(tmp_path / "restore.duckdb", settings.db_path)
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, duration))
        process.kill()
        process.wait()
        # Killed before the swap: the old figures; after it: the new ones, whole.
        assert figures(settings.db_path) in (before, after)
    assert ingest(settings).ok
    assert figures(settings.db_path) == after


def _with_extra(before: list[tuple], extra: int) -> list[tuple]:
    *earlier, (day, samples, persons) = before
    return [*earlier, (day, samples + extra, persons)]
