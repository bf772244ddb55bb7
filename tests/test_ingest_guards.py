"""Guards of the ingest (issue 16): an unmounted share removes nothing, a cut-short re-export is held
until accepted, corruption is rebuilt from the exports, and every folder or file passed over is
named. Expected counts are read from the CSV files themselves (csv module), or written by hand."""

from __future__ import annotations

import csv
import errno
import os
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from dashboard.__main__ import main
from dashboard.data.ingest import ingest
from dashboard.data.partitions import open_snapshot
from dashboard.data.status import read_status
from tests.fixtures import DAYS


def data_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def rows_in_files(data_dir: Path) -> Counter:
    """(kind, export day) -> data rows, counted in the fixture's CSV files."""
    return Counter({(path.stem, date.fromisoformat(path.parent.name)): data_rows(path)
                    for path in (data_dir / "exports").glob("*/*.csv")})


ROWS_PER_DAY = """
select 'control_zones', export_day, count(*) from control_zones group by all
union all select 'testing_records', export_day, count(*) from testing_records group by all
union all select 'isolation', export_day, count(*) from isolation group by all
union all select 'shifts', export_day, count(*) from shifts group by all
union all select 'checkpoint_log', export_day, count(*) from checkpoint_log group by all
union all select 'door_visits', export_day, count(*) from door_visits group by all
"""


def rows_in_snapshot(db_path: Path) -> Counter:
    """(kind, export day) -> rows, read back from the snapshot's staging tables and Parquet files."""
    con = open_snapshot(db_path)
    try:
        return Counter({(kind, day): n for kind, day, n in con.execute(ROWS_PER_DAY).fetchall()})
    finally:
        con.close()


def run_ingest(settings, *extra: str) -> int:
    return main(["ingest", "--data", str(settings.data_dir), "--db", str(settings.db_path), *extra])


def served_identity(db_path: Path) -> tuple:
    facts = db_path.stat()
    return facts.st_ino, facts.st_mtime_ns, facts.st_size


# ---------------------------------------------------------------- item 4: an unmounted share


def _unreadable_exports(settings, monkeypatch):
    """Root reads any folder whatever its mode, so the refusal is made where Python lists folders."""
    exports = str(settings.data_dir / "exports")
    real_scandir, real_listdir = os.scandir, os.listdir

    def refuse(real):
        def listing(path="."):
            if isinstance(path, (str, os.PathLike)) and os.fspath(path) == exports:
                raise PermissionError(errno.EACCES, "Permission denied", exports)
            return real(path)
        return listing

    monkeypatch.setattr(os, "scandir", refuse(real_scandir))
    monkeypatch.setattr(os, "listdir", refuse(real_listdir))


@pytest.mark.parametrize("share", ["missing", "empty", "unreadable"])
def test_an_unmounted_share_removes_nothing_and_fails_loudly(fresh_data, share, monkeypatch, capsys):
    assert ingest(fresh_data).ok
    expected = rows_in_files(fresh_data.data_dir)
    # 01-04: 4 core feeds; 01-05: + checkpoint counts; 01-06: + door visits (fixtures.py).
    assert len(expected) == 4 + 5 + 6
    assert rows_in_snapshot(fresh_data.db_path) == expected
    before = served_identity(fresh_data.db_path)
    exports = fresh_data.data_dir / "exports"
    if share == "unreadable":
        _unreadable_exports(fresh_data, monkeypatch)
    else:
        exports.rename(fresh_data.data_dir / "exports.unmounted")
        if share == "empty":
            exports.mkdir()  # the mount point, without the share on it
    capsys.readouterr()

    assert run_ingest(fresh_data) == 1
    out, err = capsys.readouterr()
    assert "removed" not in out
    assert str(exports) in err
    status = read_status(fresh_data.db_path)
    assert status["ok"] is False and "exports" in status["message"]
    # No swap: the screens keep reading the very same snapshot, every day in it.
    assert served_identity(fresh_data.db_path) == before
    assert rows_in_snapshot(fresh_data.db_path) == expected


def test_a_removed_day_folder_is_still_a_removal(fresh_data):
    """Only the whole share going is refused; one day folder taken away still leaves the snapshot."""
    assert ingest(fresh_data).ok
    shutil.rmtree(fresh_data.data_dir / "exports" / DAYS[-1].isoformat())
    result = ingest(fresh_data)
    assert result.ok
    assert sorted(o.kind for o in result.outcomes if o.status == "removed") == [
        "checkpoint_log", "control_zones", "door_visits", "isolation", "shifts", "testing_records"]
    assert {day for _, day in rows_in_snapshot(fresh_data.db_path)} == set(DAYS[:2])


# ---------------------------------------------------------------- item 14: folder names


def test_day_folder_names_are_normalised_or_named_as_skipped(fresh_data, capsys):
    exports = fresh_data.data_dir / "exports"
    newest = exports / DAYS[-1].isoformat()
    shutil.copytree(newest, exports / "2022-1-7")
    shutil.copytree(newest, exports / "２０２２－０１－０８")  # full-width digits and hyphens
    shutil.copytree(newest, exports / "2022-13-45")
    (exports / "README.txt").write_text("exports of the district\n", encoding="utf-8")
    (newest / "notes.txt").write_text("call back\n", encoding="utf-8")
    (fresh_data.data_dir / "reference" / "old_areas.csv").write_text("area_code\n", encoding="utf-8")
    testing_rows = data_rows(newest / "testing_records.csv")
    assert testing_rows == 3670  # fixtures.py: 900 + 700 + 950 + 1,100 + 20

    result = ingest(fresh_data)
    assert result.ok, result.failed
    assert sorted((o.file, o.status, o.message) for o in result.outcomes if o.status == "skipped") == [
        ("exports/2022-01-06/notes.txt", "skipped", "exports/2022-01-06/notes.txt: not a file of the contract"),
        ("exports/2022-13-45", "skipped",
         "exports/2022-13-45: not a day folder name (expected YYYY-MM-DD)"),
        ("exports/README.txt", "skipped", "exports/README.txt: not a day folder"),
        ("reference/old_areas.csv", "skipped", "reference/old_areas.csv: not a file of the contract"),
    ]
    snapshot = rows_in_snapshot(fresh_data.db_path)
    assert snapshot[("testing_records", date(2022, 1, 7))] == testing_rows
    assert snapshot[("testing_records", date(2022, 1, 8))] == testing_rows
    # The summary a cron mail shows names each of them.
    assert run_ingest(fresh_data) == 0
    out = capsys.readouterr().out
    for name in ("exports/2022-13-45", "exports/README.txt", "exports/2022-01-06/notes.txt"):
        assert name in out


def test_two_folders_of_one_day_are_an_error_naming_both(fresh_data):
    assert ingest(fresh_data).ok
    exports = fresh_data.data_dir / "exports"
    other = exports / "2022-1-5"
    shutil.copytree(exports / "2022-01-05", other)
    path = other / "testing_records.csv"
    path.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:3]), encoding="utf-8")

    result = ingest(fresh_data)
    assert not result.ok
    assert [(o.day, o.status) for o in result.failed] == [(DAYS[1], "failed")]
    assert "exports/2022-01-05" in result.failed[0].message and "exports/2022-1-5" in result.failed[0].message
    # Neither is read, and the day keeps what it had: 11 samples (fixtures.py).
    assert rows_in_snapshot(fresh_data.db_path)[("testing_records", DAYS[1])] == 11
    assert not [o for o in result.outcomes if o.status == "removed"]
