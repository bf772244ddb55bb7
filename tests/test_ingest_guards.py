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
from dashboard.ingest.build import ingest
from dashboard.ingest.partitions import open_snapshot
from dashboard.ingest.status import read_status
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
    # A file without a contract name is read for its header: a note is named, with the reason.
    assert [(o.file, o.message) for o in result.outcomes if o.status == "unrecognised"] == [
        ("exports/2022-01-06/notes.txt", "exports/2022-01-06/notes.txt: not recognised as an export:"
                                         " no cell of its header row is a column name of any export")]
    assert sorted((o.file, o.status, o.message) for o in result.outcomes if o.status == "skipped") == [
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


# ---------------------------------------------------------------- item 3: a cut-short re-export


NEWEST_TESTING = Path("exports") / DAYS[-1].isoformat() / "testing_records.csv"
ACCEPT = f"{DAYS[-1].isoformat()}/testing_records.csv"


def cut(path: Path, how: str) -> None:
    data = path.read_bytes()
    lines = data.splitlines(keepends=True)
    path.write_bytes({"half the bytes": data[:len(data) // 2],
                      "at a line end": b"".join(lines[:2000]),  # head -2000: the header and 1,999 rows
                      "header only": lines[0]}[how])


def day_report(settings, day: date) -> dict:
    from dashboard.figures.headline import build_report, default_at
    from dashboard.figures.queries import Snapshot

    snapshot = Snapshot(settings.db_path)
    try:
        return build_report(snapshot, day, default_at(day))
    finally:
        snapshot.close()


def held_rows(settings) -> list[tuple]:
    con = open_snapshot(settings.db_path)
    try:
        return con.execute("select file, rows_loaded, serving_rows_loaded from held_files").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("how", ["half the bytes", "at a line end", "header only"])
def test_a_cut_short_reexport_is_held_and_the_day_keeps_serving(fresh_data, how, capsys):
    assert ingest(fresh_data).ok
    path = fresh_data.data_dir / NEWEST_TESTING
    full_rows = data_rows(path)
    assert full_rows == 3670  # fixtures.py: 900 + 700 + 950 + 1,100 + 20
    cut(path, how)
    capsys.readouterr()

    assert run_ingest(fresh_data) == 1
    err = capsys.readouterr().err
    assert f"python -m dashboard ingest --accept {ACCEPT}" in err
    # The full file keeps serving: its rows, and the day's figures.
    assert rows_in_snapshot(fresh_data.db_path)[("testing_records", DAYS[-1])] == full_rows
    report = day_report(fresh_data, DAYS[-1])
    assert report["samples_on_day"] == full_rows and report["feeds"]["testing_records"]["stale"] is False
    [(file, rows, serving)] = held_rows(fresh_data)
    assert (file, serving) == (str(NEWEST_TESTING), full_rows)
    # The held file's rows, at most its data lines (a half line at the cut may be rejected).
    assert rows <= max(0, data_rows(path))
    if how == "at a line end":
        assert rows == 1999
    assert read_status(fresh_data.db_path)["held"] == [str(NEWEST_TESTING)]


def test_an_accepted_reexport_applies_and_a_later_different_one_is_held_again(fresh_data, capsys):
    import hashlib

    assert ingest(fresh_data).ok
    path = fresh_data.data_dir / NEWEST_TESTING
    cut(path, "at a line end")
    assert run_ingest(fresh_data) == 1
    assert rows_in_snapshot(fresh_data.db_path)[("testing_records", DAYS[-1])] == 3670

    assert run_ingest(fresh_data, "--accept", ACCEPT) == 0
    assert rows_in_snapshot(fresh_data.db_path)[("testing_records", DAYS[-1])] == 1999
    assert held_rows(fresh_data) == []
    con = open_snapshot(fresh_data.db_path)
    try:
        accepted = con.execute("select kind, day, file, sha256 from accepted_files").fetchall()
    finally:
        con.close()
    assert accepted == [("testing_records", DAYS[-1], str(NEWEST_TESTING), hashlib.sha256(path.read_bytes()).hexdigest())]
    # Running again changes nothing; a different, shorter file is held against the accepted one.
    assert run_ingest(fresh_data) == 0
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:1000]))
    assert run_ingest(fresh_data) == 1
    assert rows_in_snapshot(fresh_data.db_path)[("testing_records", DAYS[-1])] == 1999
    assert held_rows(fresh_data) == [(str(NEWEST_TESTING), 999, 1999)]


def test_accepting_a_file_that_is_not_there_changes_nothing(fresh_data, capsys):
    assert ingest(fresh_data).ok
    before, status = served_identity(fresh_data.db_path), read_status(fresh_data.db_path)
    assert run_ingest(fresh_data, "--accept", "2022-01-09/testing_records.csv") == 2
    assert "--accept 2022-01-09/testing_records.csv: no export file" in capsys.readouterr().err
    assert served_identity(fresh_data.db_path) == before and read_status(fresh_data.db_path) == status


def test_an_accepted_header_only_file_leaves_the_day_not_exported_never_zero(fresh_data):
    assert ingest(fresh_data).ok
    cut(fresh_data.data_dir / NEWEST_TESTING, "header only")
    assert run_ingest(fresh_data, "--accept", ACCEPT) == 0
    assert rows_in_snapshot(fresh_data.db_path)[("testing_records", DAYS[-1])] == 0
    report = day_report(fresh_data, DAYS[-1])
    # No export for the day: stale, its figure null, never a day of zero samples.
    # Its one sender (the file's name) sent no row: not reported either.
    assert report["feeds"]["testing_records"] == {"latest_export": DAYS[1].isoformat(), "stale": True,
                                                  "missing_senders": ["testing_records"]}
    assert report["samples_on_day"] is None


def test_a_first_file_for_a_day_is_never_held(fresh_data):
    assert ingest(fresh_data).ok
    new_day = fresh_data.data_dir / "exports" / "2022-01-07"
    shutil.copytree(fresh_data.data_dir / "exports" / DAYS[-1].isoformat(), new_day)
    for name in ("testing_records.csv", "shifts.csv"):
        path = new_day / name
        path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:3]))  # 2 rows
    cut(new_day / "door_visits.csv", "header only")
    result = ingest(fresh_data)
    assert result.ok and not result.held
    snapshot = rows_in_snapshot(fresh_data.db_path)
    assert snapshot[("testing_records", date(2022, 1, 7))] == 2 and snapshot[("shifts", date(2022, 1, 7))] == 2
    # A first file with a header only holds no day either: door visits of 01-07 count as not exported.
    assert [(o.kind, o.status) for o in result.outcomes if o.day == date(2022, 1, 7) and o.status != "loaded"] == [
        ("door_visits", "empty")]
    assert day_report(fresh_data, date(2022, 1, 7))["feeds"]["door_visits"]["stale"] is True


def test_a_first_header_only_testing_file_never_shows_a_day_of_zero(fresh_data):
    assert ingest(fresh_data).ok
    new_day = fresh_data.data_dir / "exports" / "2022-01-07"
    shutil.copytree(fresh_data.data_dir / "exports" / DAYS[-1].isoformat(), new_day)
    cut(new_day / "testing_records.csv", "header only")
    assert ingest(fresh_data).ok
    report = day_report(fresh_data, date(2022, 1, 7))
    assert not (report["samples_on_day"] == 0 and report["feeds"]["testing_records"]["stale"] is False)
    assert report["feeds"]["testing_records"] == {"latest_export": DAYS[-1].isoformat(), "stale": True,
                                                  "missing_senders": ["testing_records"]}


def test_the_hold_shows_on_the_health_page_and_the_attention_list(fresh_data, monkeypatch):
    from tests.conftest import serving
    from tests.test_app_pages import open_page
    from tests.test_attention import overview_list

    assert ingest(fresh_data).ok
    cut(fresh_data.data_dir / NEWEST_TESTING, "at a line end")
    assert not ingest(fresh_data).ok
    with serving(fresh_data, monkeypatch):
        health = open_page("health.py", day=DAYS[-1].isoformat(), lang="zh")
        assert not health.exception, [e.message for e in health.exception]
        assert ("exports/2022-01-06/testing_records.csv 已暂缓：1,999 行，现用文件 3,670 行，仍显示原数据。确认新文件无误后运行"
                " python -m dashboard ingest --accept 2022-01-06/testing_records.csv") in [w.value for w in health.warning]
        overview = open_page("overview.py", day=DAYS[-1].isoformat(), lang="zh")
        assert not overview.exception, [e.message for e in overview.exception]
        assert ("held", "1月6日核酸采样新导出仅 1,999 行（现用文件 3,670 行），已暂缓，仍显示原数据", []) in \
            overview_list(overview).items


# ---------------------------------------------------------------- item 6: corruption, and no server path


def persons_per_round(data_dir: Path) -> dict[int, int]:
    """Distinct persons per round > 0 across every testing export, counted with the csv module."""
    persons: dict[int, set] = {}
    for path in (data_dir / "exports").glob("*/testing_records.csv"):
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                if int(row["round"]) > 0:
                    persons.setdefault(int(row["round"]), set()).add(row["person_id"])
    return {round_: len(ids) for round_, ids in sorted(persons.items())}


def persons_in_snapshot(db_path: Path) -> dict[int, int]:
    con = open_snapshot(db_path)
    try:
        return dict(con.execute("select round, sum(persons)::integer from round_firsts group by all order by 1")
                    .fetchall())
    finally:
        con.close()


def person_keys(db_path: Path) -> set[str]:
    con = open_snapshot(db_path)
    try:
        return {key for (key,) in con.execute("select distinct person_key from testing_records").fetchall()}
    finally:
        con.close()


def damage_parquet(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        path.write_bytes(bytes(data[:len(data) // 2]))
    elif how == "deleted":
        path.unlink()
    else:  # the rows' pages zeroed in places, the footer intact
        for start in range(200, min(len(data) - 4096, 60_000), 500):
            data[start:start + 16] = bytes(16)
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "deleted", "rows damaged, footer intact"])
def test_a_damaged_partition_is_rebuilt_from_its_export(fresh_data, how):
    from dashboard.ingest import partitions

    assert ingest(fresh_data).ok
    [parquet] = (partitions.folder(fresh_data.db_path) / partitions.KIND).glob(f"{DAYS[-1].isoformat()}-*.parquet")
    damage_parquet(parquet, how)
    # A new day of round 2: counting the round reads every file holding it, the damaged one too.
    shutil.copytree(fresh_data.data_dir / "exports" / DAYS[-1].isoformat(), fresh_data.data_dir / "exports" / "2022-01-07")

    result = ingest(fresh_data)
    assert result.ok, result.failed
    rebuilt = [o for o in result.outcomes if o.status == "rebuilt"]
    assert [(o.kind, o.day, o.file) for o in rebuilt] == [("testing_records", DAYS[-1], f"testing_records/{parquet.name}")]
    assert "unreadable" in rebuilt[0].message and "/" + parquet.parent.parent.name not in rebuilt[0].message
    assert rows_in_snapshot(fresh_data.db_path) == rows_in_files(fresh_data.data_dir)
    # Round 2 holds 3,650 persons (fixtures.py), sampled again on 01-07: still 3,650.
    assert persons_in_snapshot(fresh_data.db_path) == persons_per_round(fresh_data.data_dir) == {1: 2700, 2: 3650}
    # And the next ingest has nothing left to rebuild.
    assert not [o for o in ingest(fresh_data).outcomes if o.status == "rebuilt"]


def _damage_snapshot(db_path: Path, how: str) -> None:
    import duckdb

    data = bytearray(db_path.read_bytes())
    if how == "truncated":
        data = data[:len(data) // 3]
    elif how == "header zeroed":
        data[:4096] = bytes(4096)
    else:  # one block of the shifts table: DuckDB's file is three 4 KiB headers, then its blocks
        con = duckdb.connect(str(db_path), read_only=True)
        try:
            block_size = con.execute("select block_size from pragma_database_size()").fetchone()[0]
            block = con.execute("select min(block_id) from pragma_storage_info('shifts') where block_id >= 0"
                                ).fetchone()[0]
        finally:
            con.close()
        start = 3 * 4096 + block * block_size + 200
        data[start:start + 64] = b"\xa5" * 64
    db_path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "header zeroed", "a block damaged"])
def test_a_damaged_snapshot_is_rebuilt_from_the_exports_under_the_same_key(fresh_data, how, capsys):
    assert ingest(fresh_data).ok
    keys = person_keys(fresh_data.db_path)
    assert len(keys) == 2700 + 1 + 3650 - 2700  # 01-04's persons are 01-06's; 01-05 adds person 990 only
    _damage_snapshot(fresh_data.db_path, how)
    capsys.readouterr()

    assert run_ingest(fresh_data) == 0
    out = capsys.readouterr().out
    assert "rebuilt" in out and "snapshot unreadable" in out and "same ID key" in out
    assert rows_in_snapshot(fresh_data.db_path) == rows_in_files(fresh_data.data_dir)
    assert person_keys(fresh_data.db_path) == keys  # nobody got a new pseudonym
    assert read_status(fresh_data.db_path)["ok"] is True


ABSOLUTE_PATH = r"(?:^|[\s'\"(=:])/[^\s/]+/"


def test_no_server_path_reaches_the_status_file_the_health_page_or_the_banner(fresh_data, monkeypatch):
    import re

    from tests.conftest import serving
    from tests.test_app_pages import open_page

    assert ingest(fresh_data).ok
    # A file linked from elsewhere (its message is on the data-health page), then a failed run
    # (its message is on every screen's banner).
    linked = fresh_data.data_dir / "exports" / DAYS[-1].isoformat() / "shifts.csv"
    outside = fresh_data.data_dir.parent / "elsewhere.csv"
    shutil.copyfile(linked, outside)
    linked.unlink()
    linked.symlink_to(outside)
    assert not ingest(fresh_data).ok
    status = read_status(fresh_data.db_path)
    assert status["message"] == "exports/2022-01-06/shifts.csv: symbolic link, not read"
    (fresh_data.data_dir / "exports").rename(fresh_data.data_dir / "exports.unmounted")
    with pytest.raises(OSError):
        ingest(fresh_data)
    status = read_status(fresh_data.db_path)
    assert status["ok"] is False and status["message"].startswith("ExportsUnavailable: exports: missing")
    assert not re.search(ABSOLUTE_PATH, status["message"]), status["message"]

    with serving(fresh_data, monkeypatch):
        health = open_page("health.py", day=DAYS[-1].isoformat(), lang="zh")
        assert not health.exception, [e.message for e in health.exception]
        shown = [str(node.value) for node in health.get("markdown")] + [str(node.body) for node in health.get("html")]
        shown += [health.dataframe[i].value.to_csv() for i in range(len(health.dataframe))]
        banner = [text for text in shown if "stale-banner" in text]
        assert banner and "exports: missing" in banner[0]
        for text in shown:
            assert str(fresh_data.data_dir) not in text and str(fresh_data.db_path.parent) not in text
            assert not re.search(ABSOLUTE_PATH, text.replace("</", "<")), text[:300]


# ---------------------------------------------------------------- item 9: only the ingest writes snapshots


def test_a_replica_with_no_snapshot_waits_for_the_first_ingest(fresh_data, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from dashboard.settings import Settings
    from tests.conftest import serving
    from tests.test_app_pages import APP

    # The replica's own state directory: a key made there would pseudonymise under a key of its own.
    monkeypatch.setenv("DASHBOARD_STATE_DIR", str(tmp_path / "replica-state"))
    with serving(fresh_data, monkeypatch):
        at = AppTest.from_file(str(APP), default_timeout=60).run()
        assert not at.exception, [e.message for e in at.exception]
        assert [i.value for i in at.info] == [
            "等待首次数据导入：数据导入（python -m dashboard ingest）完成后，页面自动显示数据"]
        # Nothing was written: no snapshot, no status, no key.
        assert not fresh_data.db_path.exists()
        assert not (fresh_data.db_path.parent / (fresh_data.db_path.name + ".status.json")).exists()
        assert not (tmp_path / "replica-state").exists()

        # The ingest runs (the watcher, elsewhere): the next run of the page shows the data.
        assert ingest(Settings.from_env(fresh_data.data_dir, fresh_data.db_path)).ok
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        assert not at.info
        assert len(at.selectbox(key="day").options) == len(DAYS)
