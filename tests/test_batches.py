"""Small files of one layout parsed in one statement (dashboard/ingest/batches.py) give the
snapshot that parsing them one by one gives, each file keeping its own rows, area and rejects."""

from __future__ import annotations

import csv
import itertools
import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
import python_calamine
import xlsxwriter

from dashboard.demo.generate import generate
from dashboard.ingest import batches, build, contract, parse, staging, workbook
from dashboard.ingest.build import ingest
from dashboard.settings import Settings
from tests.fixtures import build_fixture, person_id

# Differ from run to run whatever the batches: when an ingest ran, which files' hashes it could
# trust (hashes.RACY_SECONDS), and a Parquet file's bytes (its rows in the order DuckDB's threads
# wrote them; the rows themselves are compared below).
NOT_COMPARED = {"meta": {"value"}, "partitions": {"sha256"}, "ingest_log": {"ingested_at"},
                "feed_status": {"ingested_at"}}
NOT_COMPARED_TABLES = {"file_hashes"}
PER_SENDER = "select sender, count(*) from isolation_parts group by all"
# The testing records are never batched, and whole they would be most of each ingest here.
TESTING_LINES = 2000


@pytest.fixture
def batch_spy(monkeypatch):
    """The files each ingest parsed in a batch, in order."""
    parsed: list[Path] = []
    real = batches.parse_batch

    def spy(*args, **kwargs):
        found = real(*args, **kwargs)
        parsed.extend(found)
        return found

    monkeypatch.setattr(batches, "parse_batch", spy)
    return parsed


def snapshot_rows(db: Path) -> dict[str, list]:
    """Every table's rows, sorted, and every Parquet file's rows, by the file's name."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'main'"
                                            " order by 1").fetchall() if t not in NOT_COMPARED_TABLES]
        found = {}
        for table in tables:
            columns = [c for (c,) in con.execute("select column_name from duckdb_columns() where table_name = $t"
                                                 " and schema_name = 'main'", {"t": table}).fetchall()
                       if c not in NOT_COMPARED.get(table, set())]
            found[table] = sorted(map(repr, con.table(table).select(*map(duckdb.ColumnExpression, columns))
                                      .fetchall()))
        for (file,) in con.execute("select file from partitions").fetchall():
            path = str(db) + ".parts/" + file
            found[file] = sorted(map(repr, con.execute("select * from read_parquet($p)", {"p": path}).fetchall()))
    return found


def field_days(data: Path, days: int) -> Path:
    """The demo's field layout, the days up to 2022-01-06, each testing export cut to its first
    TESTING_LINES lines."""
    generate(data, days=days, end_date=date(2022, 1, 6), seed=7)
    for path in (data / "exports").glob("*/核酸采样_*.csv"):
        with path.open("rb") as export:
            head = b"".join(itertools.islice(export, TESTING_LINES))
        path.write_bytes(head)
    return data


def ingest_into(data: Path, db: Path) -> None:
    result = ingest(Settings.from_env(data_dir=data, db_path=db))
    assert not result.failed, [o.message for o in result.failed]


def test_a_field_day_batched_is_the_same_snapshot_as_file_by_file(tmp_path, batch_spy, monkeypatch):
    """The demo's field layout, three district days: street ledgers (CSV, some GBK, one Excel),
    rosters, rejects and all."""
    data = tmp_path / "data"
    field_days(data, 3)
    # On the second day a ledger with a bad date, whose batch then fails; on the third one with a
    # blank line, which its batch leaves a row short, and a roster's repeated shift.
    utf8 = [p for p in sorted((data / "exports" / "2022-01-05").glob("*隔离台账*.csv")) if _utf8(p)]
    lines = utf8[0].read_text(encoding="utf-8").splitlines()
    _write(utf8[0], lines + [lines[-1].replace("2021", "20x1").replace("2022", "20x2")])
    blank = next(p for p in sorted((data / "exports" / "2022-01-06").glob("*隔离台账*.csv")) if _utf8(p))
    _write(blank, blank.read_text(encoding="utf-8").splitlines() + [""])
    # And a workbook's sheet with a bad date, which leaves its batch and is read alone, by sheet row.
    spoiled_row = _spoil_last_dates(next((data / "exports" / "2022-01-05").glob("*隔离台账*.xlsx")))
    roster = next(p for p in sorted((data / "exports" / "2022-01-06").glob("*排班*.csv")) if _utf8(p))
    lines = roster.read_text(encoding="utf-8-sig").splitlines()
    _write(roster, lines + [lines[1]])
    alone_sheets = []
    real_parse = build.parse_file
    monkeypatch.setattr(build, "parse_file", lambda *args, shown=None, **kwargs: (
        shown and alone_sheets.append(shown)) or real_parse(*args, shown=shown, **kwargs))
    ingest_into(data, tmp_path / "batched" / "s.duckdb")
    assert len(alone_sheets) == 1 and "0105" in alone_sheets[0], alone_sheets
    assert len(batch_spy) >= 20, "the streets' ledgers and the rosters go in batches"
    gbk = {p for p in (data / "exports").glob("*/*.csv") if not _utf8(p)}
    assert {p.name[-8:] for p in gbk & set(batch_spy) if "卡点查验日报" in p.name} == {"0104.csv", "0105.csv", "0106.csv"}, \
        "a GBK file is read from its transcoded copy in a batch, with the other days' files of its layout"
    assert len(gbk & set(batch_spy)) > 3
    # A workbook's sheet joins the batch of its layout as the CSV file its reading wrote.
    sheets = [p.name for p in batch_spy if data / "exports" not in p.parents]
    # (the spoiled one of 01-05 left its batch).
    assert {name.split(".")[0][-4:] for name in sheets if "隔离台账" in name} == {"0104", "0106"}
    assert sum("封控管控区域台账" in name for name in sheets) == 3
    batched = snapshot_rows(tmp_path / "batched" / "s.duckdb")

    # Batches of three at most: the same again.
    batch_spy.clear()
    monkeypatch.setattr(batches, "LARGEST", 3)
    ingest_into(data, tmp_path / "threes" / "s.duckdb")
    assert len(batch_spy) >= 20
    threes = snapshot_rows(tmp_path / "threes" / "s.duckdb")
    assert [name for name in threes if batched[name] != threes[name]] == []

    alone = read_alone(data, tmp_path / "alone" / "s.duckdb", batch_spy, monkeypatch)
    assert batched.keys() == alone.keys()
    assert [name for name in alone if batched[name] != alone[name]] == []
    # The bad dates and the repeated shift are rejects either way, the sheet's by its row; the blank
    # line is a skipped row.
    assert sorted(r.split(", ")[7] for r in alone["rejects"]) == ["'shift_id'", "'started_on'", "'started_on'"]
    assert [r.split(", ")[6] for r in alone["rejects"] if "'隔离台账')" in r] == [str(spoiled_row)]

    # Every file through the full checks, none the clean way: the same again, skipped rows and all.
    monkeypatch.setattr(parse, "_clean", lambda *args, **kwargs: None)
    ingest_into(data, tmp_path / "checked" / "s.duckdb")
    checked = snapshot_rows(tmp_path / "checked" / "s.duckdb")
    assert [name for name in checked if batched[name] != checked[name]] == []


def test_files_named_by_the_contract_go_in_batches_as_the_fields_do(tmp_path, batch_spy, monkeypatch):
    """The hand-computed fixture names its files as the contract does (control_zones.csv, ...):
    each kind's files of the three days are read in one batch (door_visits.csv is of one day, and
    the testing records are a day's own), and give the snapshot that parsing them alone gives."""
    data = build_fixture(tmp_path / "data")
    ingest_into(data, tmp_path / "batched" / "s.duckdb")
    assert sorted(p.relative_to(data).as_posix() for p in batch_spy) == sorted(
        [f"exports/2022-01-0{day}/{kind}.csv" for day in (4, 5, 6) for kind in ("control_zones", "isolation", "shifts")]
        + [f"exports/2022-01-0{day}/checkpoint_log.csv" for day in (5, 6)])
    batched = snapshot_rows(tmp_path / "batched" / "s.duckdb")

    alone = read_alone(data, tmp_path / "alone" / "s.duckdb", batch_spy, monkeypatch)
    assert batched.keys() == alone.keys()
    assert [name for name in alone if batched[name] != alone[name]] == []


def read_alone(data: Path, db: Path, batch_spy: list[Path], monkeypatch) -> dict[str, list]:
    """The snapshot_rows of data ingested into db with no batch at all: every file parsed alone."""
    batch_spy.clear()
    monkeypatch.setattr(batches, "SMALLEST", 10**9)
    ingest_into(data, db)
    assert not batch_spy
    return snapshot_rows(db)


def _spoil_last_dates(path: Path) -> int:
    """Write the workbook's sheet again, every cell the text it shows, with the dates of its last
    row holding one made unreadable; that row, as Excel numbers rows."""
    name = python_calamine.load_workbook(path).sheet_names[0]
    rows = python_calamine.load_workbook(path).get_sheet_by_index(0).to_python(skip_empty_area=False)
    last = max(i for i, row in enumerate(rows) if any(isinstance(cell, date) for cell in row))
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet(name)
    for i, row in enumerate(rows):
        cells = [workbook.cell_text(cell) for cell in row]
        sheet.write_row(i, 0, [c.replace("2021", "20x1").replace("2022", "20x2") for c in cells] if i == last else cells)
    book.close()
    return last + 1


def _utf8(path: Path) -> bool:
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


def street_ledgers(data: Path, day: date, rows_by_street: dict[str, list[list[str]]]) -> None:
    folder = data / "exports" / day.isoformat()
    header = [c.zh for c in contract.ISOLATION.columns]
    for street, rows in rows_by_street.items():
        with open(folder / f"{street}隔离台账{day:%m%d}.csv", "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([header, *rows])


def day_without_ledgers(tmp_path: Path) -> tuple[Path, Path, list[tuple[str, str, str]]]:
    """The demo's 2022-01-06 without its street ledgers: the data folder, the day's folder, and
    the areas (code, name, parent), read from areas.csv."""
    data = tmp_path / "data"
    field_days(data, 1)
    day_folder = data / "exports" / "2022-01-06"
    for ledger in day_folder.glob("*隔离台账*"):
        ledger.unlink()
    with duckdb.connect() as con:
        areas = con.execute("select area_code, name, parent_code from read_csv($p, all_varchar = true)",
                            {"p": str(data / "reference" / "areas.csv")}).fetchall()
    return data, day_folder, areas


def test_each_file_of_a_batch_keeps_its_own_rows_and_its_own_area(tmp_path, batch_spy):
    """Three streets' ledgers of one day, in one batch: each street's rows are its own (sender,
    count, cases), a file with a blank line is read alone and still whole, and a row of another
    street fails its file only, with the reason naming the file's street."""
    data, day_folder, areas = day_without_ledgers(tmp_path)
    streets = {code: name for code, name, parent in areas if parent and len(code) == 9}
    (a, a_name), (b, b_name), (c, c_name) = sorted(streets.items())[:3]
    community = {street: next(code for code, _, parent in areas if parent == street) for street in (a, b, c)}

    def case_row(n: int, street: str) -> list[str]:
        return [person_id(community[street], n), community[street], "居家隔离", "", "2022-01-05", "", "", ""]

    street_ledgers(data, date(2022, 1, 6), {
        a_name: [case_row(n, a) for n in range(5)],
        b_name: [case_row(n, b) for n in range(10, 17)],
        c_name: [case_row(n, c) for n in range(20, 23)],
    })
    db = tmp_path / "s.duckdb"
    ingest_into(data, db)
    assert ledgers(batch_spy) == {f"{name}隔离台账0106.csv" for name in (a_name, b_name, c_name)}
    with duckdb.connect(str(db), read_only=True) as con:
        per_sender = dict(con.execute(PER_SENDER).fetchall())
        areas_of = dict(con.execute("select sender, list(distinct area_code) from isolation_parts group by all")
                        .fetchall())
    assert [per_sender[f"area:{street}"] for street in (a, b, c)] == [5, 7, 3]
    assert [areas_of[f"area:{street}"] for street in (a, b, c)] == [[community[a]], [community[b]], [community[c]]]

    # A blank line in b's file: b's file is read alone, a's and c's still in a batch, nothing lost.
    path_b = day_folder / f"{b_name}隔离台账0106.csv"
    path_b.write_bytes(path_b.read_bytes() + b"\r\n")
    assert again(tmp_path, data, batch_spy) == [5, 7, 3]
    assert ledgers(batch_spy) == {f"{name}隔离台账0106.csv" for name in (a_name, c_name)}

    # A signature row under a's rows: left out and counted as skipped, a's file still in the batch.
    path_b.write_bytes(path_b.read_bytes()[:-2])
    path_a = day_folder / f"{a_name}隔离台账0106.csv"
    path_a.write_bytes(path_a.read_bytes() + "填报人：王某某,,,,,,,\r\n".encode())
    assert again(tmp_path, data, batch_spy) == [5, 7, 3]
    assert ledgers(batch_spy) == {f"{name}隔离台账0106.csv" for name in (a_name, b_name, c_name)}
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        assert con.execute("select rows_read, rows_loaded, rows_skipped from ingest_log where file = $file",
                           {"file": f"exports/2022-01-06/{path_a.name}"}).fetchall() == [(5, 5, 1)]

    # A full-width quote opening a cell of a's: folded, the quote is never closed, and the line is
    # taken out of the copy DuckDB reads. In the batch it is a row of empty cells; a's file is parsed
    # alone, where the line is a reject.
    street_ledgers(data, date(2022, 1, 6), {a_name: [case_row(n, a) for n in range(5)]
                                            + [case_row(5, a)[:-1] + ["＂密接"]]})
    assert again(tmp_path, data, batch_spy) == [5, 7, 3]
    assert ledgers(batch_spy) == {f"{name}隔离台账0106.csv" for name in (b_name, c_name)}
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        assert con.execute("select rows_read, rows_loaded, rows_rejected, rows_skipped from ingest_log"
                           " where file = $file", {"file": f"exports/2022-01-06/{path_a.name}"}).fetchall() \
            == [(6, 5, 1, 0)]
    street_ledgers(data, date(2022, 1, 6), {a_name: [case_row(n, a) for n in range(5)]})

    # A row of street a in c's file: the batch fails, each file is read alone, and c's file alone
    # has a reject, naming c's street.
    street_ledgers(data, date(2022, 1, 6), {c_name: [case_row(n, c) for n in range(20, 23)] + [case_row(30, a)]})
    assert again(tmp_path, data, batch_spy) == [5, 7, 3]
    assert not ledgers(batch_spy)
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        reasons = con.execute("select file, line, reason from rejects where kind = 'isolation'").fetchall()
    assert reasons == [(f"exports/2022-01-06/{c_name}隔离台账0106.csv", 5,
                        f"area outside {c_name} ({c}), the area this file is of (named in its file name)")]


def ledgers(paths: list[Path]) -> set[str]:
    return {path.name for path in paths if "隔离台账" in path.name}


def again(tmp_path: Path, data: Path, batch_spy: list) -> list[int]:
    """A new snapshot of data; the isolation rows of the first three streets, each."""
    batch_spy.clear()
    shutil.rmtree(tmp_path / "s.duckdb.parts", ignore_errors=True)
    (tmp_path / "s.duckdb").unlink()
    ingest_into(data, tmp_path / "s.duckdb")
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        per_sender = dict(con.execute(PER_SENDER).fetchall())
        streets = [code for (code,) in con.execute("select area_code from areas where level = 'street'"
                                                   " order by 1 limit 3").fetchall()]
    return [per_sender[f"area:{street}"] for street in streets]


def test_a_file_gone_before_its_batch_is_parsed_alone_and_unchanged_files_join_no_batch(tmp_path, batch_spy,
                                                                                         monkeypatch):
    data = tmp_path / "data"
    field_days(data, 2)
    db = tmp_path / "s.duckdb"

    def gone(path, *args):
        raise FileNotFoundError(path)

    # Every batch finds a file gone: each file is parsed alone, and every one loads.
    with monkeypatch.context() as patched:
        patched.setattr(batches, "readable", gone)
        ingest_into(data, db)
    assert not batch_spy
    with duckdb.connect(str(db), read_only=True) as con:
        loaded = con.execute("select count(*) from loaded_files where kind = 'isolation'").fetchone()[0]
    assert loaded == len(list((data / "exports").glob("*/*隔离台账*")))

    # Three ledgers of the first day sent again with a row fewer, among their day's unchanged ones:
    # one batch of the three, made once.
    calls = []
    real = batches.parse_batch
    monkeypatch.setattr(batches, "parse_batch", lambda con, kind, members, *rest: calls.append(
        sorted(m.path.name for m in members)) or real(con, kind, members, *rest))
    changed = [p for p in sorted((data / "exports" / "2022-01-05").glob("*隔离台账*.csv")) if _utf8(p)][:6:2]
    for path in changed:
        _write(path, path.read_text(encoding="utf-8").splitlines()[:-1])
    looked_at = []
    real_layout = batches.arrival_layout
    monkeypatch.setattr(batches, "arrival_layout", lambda arrival, scanned: looked_at.append(arrival)
                        or real_layout(arrival, scanned))
    ingest_into(data, db)
    assert calls == [sorted(p.name for p in changed)]
    # Each file's layout is taken when the files are put in order, and once more at most when its
    # group is walked, plus the file that ends each group: no unchanged file walks its group again.
    files = len(list((data / "exports").glob("*/*")))
    assert len(looked_at) <= 3 * files

    # Three ledgers of the second day taken away, then brought back: nothing serves their streets'
    # day, so they wait to be written together, and they are the last files read (the others are
    # unchanged). Their rows, log lines and serving entries are written all the same.
    back = [p for p in sorted((data / "exports" / "2022-01-06").glob("*隔离台账*.csv")) if _utf8(p)][:3]
    aside = tmp_path / "aside"
    aside.mkdir()
    for path in back:
        path.rename(aside / path.name)
    ingest_into(data, db)
    for path in back:
        (aside / path.name).rename(path)
    calls.clear()
    ingest_into(data, db)
    assert calls == [sorted(p.name for p in back)]
    with duckdb.connect(str(db), read_only=True) as con:
        served = dict(con.execute(
            "select file, count(*) from isolation_parts join loaded_files using (file_id)"
            " where export_day = '2022-01-06' group by all").fetchall())
        logged = dict(con.execute("select file, rows_loaded from ingest_log where status = 'loaded'"
                                  " and day = '2022-01-06' and kind = 'isolation'").fetchall())
    for path in back:
        rows = len(path.read_text(encoding="utf-8").splitlines()) - 1
        assert served[f"exports/2022-01-06/{path.name}"] == logged[f"exports/2022-01-06/{path.name}"] == rows > 0


def test_a_bad_file_leaves_the_others_of_its_batch_together(tmp_path, batch_spy, monkeypatch):
    """Eight streets' ledgers of one day, two of them GBK, one with a row of another street: the
    batch fails, then its halves are read, then the quarters; only the bad file and the one beside it
    in the last quarter are parsed alone, and every good row is loaded either way."""
    data, day_folder, areas = day_without_ledgers(tmp_path)
    streets = sorted((code, name) for code, name, parent in areas if parent and len(code) == 9)[:8]
    community = {street: next(code for code, _, parent in areas if parent == street) for street, _ in streets}

    def case_row(n: int, street: str) -> list[str]:
        return [person_id(community[street], n), community[street], "居家隔离", "", "2022-01-05", "", "", ""]

    street_ledgers(data, date(2022, 1, 6), {name: [case_row(100 * i + n, code) for n in range(i + 2)]
                                            for i, (code, name) in enumerate(streets)})
    for _, name in streets[1:3]:
        path = day_folder / f"{name}隔离台账0106.csv"
        path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))
    bad_code, bad_name = streets[5]
    street_ledgers(data, date(2022, 1, 6), {bad_name: [case_row(500 + n, bad_code) for n in range(7)]
                                            + [case_row(999, streets[0][0])]})
    calls = []
    real = batches.parse_batch
    monkeypatch.setattr(batches, "parse_batch", lambda con, kind, members, *rest: calls.append(
        [m.path.name for m in members]) or real(con, kind, members, *rest))
    db = tmp_path / "s.duckdb"
    ingest_into(data, db)

    (order,) = [names for names in calls if any("隔离台账" in name for name in names)]
    assert len(order) == 8
    bad = order.index(f"{bad_name}隔离台账0106.csv")
    # Eight fail, four and four, the four with the bad file fails, two and two: the pair with it is alone.
    alone = {order[bad], order[bad ^ 1]}
    assert ledgers(batch_spy) == set(order) - alone
    with duckdb.connect(str(db), read_only=True) as con:
        per_sender = dict(con.execute(PER_SENDER).fetchall())
        rejects = con.execute("select file, line from rejects where kind = 'isolation'").fetchall()
    assert [per_sender[f"area:{code}"] for code, _ in streets] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert rejects == [(f"exports/2022-01-06/{bad_name}隔离台账0106.csv", 9)]

    # With one failed statement allowed, the batch is not halved: every file is parsed alone.
    monkeypatch.setattr(batches, "FAILED_TRIES", 1)
    batch_spy.clear()
    shutil.rmtree(tmp_path / "s.duckdb.parts")
    db.unlink()
    ingest_into(data, db)
    assert not ledgers(batch_spy)
    with duckdb.connect(str(db), read_only=True) as con:
        assert dict(con.execute(PER_SENDER).fetchall()) == per_sender


def test_rows_that_do_not_reach_the_snapshot_stop_the_ingest(tmp_path, monkeypatch):
    """A batch's rows written short of what its files loaded: the ingest fails, saying so, and the
    snapshot serving before keeps serving, whole."""
    data = tmp_path / "data"
    field_days(data, 2)
    db = tmp_path / "s.duckdb"
    ledgers_of_day_two = sorted((data / "exports" / "2022-01-06").glob("*隔离台账*.csv"))
    aside = tmp_path / "aside"
    aside.mkdir()
    for path in ledgers_of_day_two:
        path.rename(aside / path.name)
    ingest_into(data, db)
    with duckdb.connect(str(db), read_only=True) as con:
        before = con.execute("select count(*) from isolation_parts").fetchone()[0]
    for path in ledgers_of_day_two:
        (aside / path.name).rename(path)
    # The day's ledgers, new and batched, written with their last row missing.
    monkeypatch.setitem(staging.INSERT_ROWS, "isolation",
                        "insert into isolation_parts select * from query($rows) offset 1")
    with pytest.raises(staging.RowsLost, match="rows loaded, but"):
        ingest(Settings.from_env(data_dir=data, db_path=db))
    status = json.loads(db.with_name(db.name + ".status.json").read_text())
    assert status["ok"] is False and "RowsLost" in status["message"]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from isolation_parts").fetchone()[0] == before > 0
