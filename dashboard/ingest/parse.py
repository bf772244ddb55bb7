"""Read one export file into typed rows and rejected rows, inside DuckDB.

DuckDB's CSV reader splits the cells, all as text; renaming, casting and validation are one
statement over those cells (checks.py; the casting rules are the macros of parse.sql). Python only
decodes what DuckDB cannot (text.py) and masks reject values. A file that cannot be used at
all raises UnusableFile; a bad row becomes a reject with its line, column and reason, and the
good rows of the same file still load. Every line after the header is loaded, rejected or skipped
(blank, or a summary row): a file whose counts do not add up to its lines is refused whole.

Most files have no bad row at all, and a city's testing file has twelve million good ones: a file
is first read as one statement that streams its rows from the reader into their destination (a
Parquet file, or a table) and fails at the first row with a problem. Only a file that fails it is
read again into tables, with line numbers, and checked row by row; both ways give the same rows.

Rejects stay in DuckDB's temp tables, which spill to disk; only the first STORED_REJECTS of a
file, by line, come to Python, to be masked and stored. The count is of all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from duckdb import ColumnExpression

from dashboard.ingest import checks, ids
from dashboard.ingest.contract import PERSON_ID, FileKind
from dashboard.ingest.partitions import Staged
from dashboard.ingest.text import (
    MAX_LINE_BYTES,
    SYMLINK_NOT_READ,
    TOO_LONG,
    Readable,
    Scan,
    UnusableFile,
    open_regular,
    readable,
    scan,
)

__all__ = ["SYMLINK_NOT_READ", "UnusableFile", "open_regular", "parse_file", "ParsedFile", "Reject"]

MACROS_SQL = Path(__file__).with_name("parse.sql")
# Rejects of one file kept in the snapshot, the first by line: enough to find what went wrong,
# while a file bad in every row (a city day: millions) is not copied into it. The ingest log
# counts all of them.
STORED_REJECTS = 1000
# What each of the reader's threads takes of a file at a time: four of the longest lines. With
# DuckDB's 32 MB, a district's testing exports (1-67 MB) kept a core idle for a quarter of their
# statements; with 8 MB their 28 statements took 9.1 s where they took 10.1 s (docs/performance.md).
READ_BUFFER_BYTES = 4 * MAX_LINE_BYTES
# Static statements over temp tables of fixed names: no name from a file reaches SQL text.
READ_CELLS = """
create or replace temp table csv_cells as
select * from read_csv($path, columns = $columns, header = false, skip = 1, auto_detect = false,
                       delim = ',', quote = '"', escape = '"', null_padding = false, strict_mode = true,
                       ignore_errors = true, store_rejects = true, max_line_size = $max_line,
                       rejects_table = 'csv_read_errors', rejects_scan = 'csv_read_scans')
"""
BAD_LINES = """
create or replace temp table csv_bad_lines as
select line,
       case when min(error_type)::varchar in ('MISSING COLUMNS', 'TOO MANY COLUMNS') then $wrong_cells
            when min(error_type)::varchar = 'LINE SIZE OVER MAXIMUM' then $too_long
            else 'row cannot be read as CSV (' || lower(min(error_type)::varchar) || ')' end as reason,
from csv_read_errors
group by line
"""
# The lines text.py took out (they reach DuckDB as rows of empty cells), with their reasons.
TAKEN_OUT = """
create or replace temp table csv_taken_out as
select * from read_csv($path, columns = {'line': 'BIGINT', 'reason': 'VARCHAR'}, header = false,
                       auto_detect = false, delim = ',', quote = '"', escape = '"', strict_mode = true)
"""
NONE_TAKEN_OUT = "create or replace temp table csv_taken_out (line bigint, reason varchar)"
# DuckDB keeps the good rows in file order: the row after k rejected lines is k lines further down.
NUMBER_LINES = """
create or replace temp view csv_rows as
with numbered as (
    select line - 1 - row_number() over (order by line) as good_before,
           row_number() over (order by line) as bad_upto,
    from csv_bad_lines
),
-- Bad lines in a row share their good_before: the join must see the last of them only.
bad as (
    select good_before, max(bad_upto) as bad_upto, from numbered group by all
)
select cells.*, cells.rowid + 2 + coalesce(bad.bad_upto, 0) as _line,
from csv_cells as cells
asof left join bad on cells.rowid >= bad.good_before
"""
# With no unreadable line, a row's line follows from its position alone.
NUMBER_LINES_PLAIN = "create or replace temp view csv_rows as select cells.*, cells.rowid + 2 as _line, from csv_cells as cells"
WITHOUT_TAKEN_OUT = """
create or replace temp view csv_read_rows as
select csv_rows.* from csv_rows anti join csv_taken_out on csv_rows._line = csv_taken_out.line
"""
# A file read as DuckDB's reader streams it, for a file in which every row is good (clean_query):
# no line numbers, no table of unreadable lines (a line DuckDB cannot read fails the statement),
# nothing materialised. The file's path and columns are variables, so the text is always the same.
# The reader's threads split a file by its buffers, 16 times the longest line (32 MB) unless told:
# a day's smaller testing exports were read by one thread (READ_BUFFER_BYTES).
STREAM_SOURCE = ("set variable csv_source = {'path': $path, 'columns': $columns, 'max_line': $max_line,"
                 " 'buffer': $buffer}")
STREAM_CELLS = """
create or replace temp view csv_stream as
select *, null::bigint as _line,
from read_csv(getvariable('csv_source').path, columns = getvariable('csv_source').columns, header = false, skip = 1,
              auto_detect = false, delim = ',', quote = '"', escape = '"', null_padding = false, strict_mode = true,
              max_line_size = getvariable('csv_source').max_line, buffer_size = getvariable('csv_source').buffer)
"""
MATERIALISE_CLEAN = "create or replace temp table csv_clean as select * from query($clean)"
COUNT_CLEAN = "select count(*) from csv_clean"
LEFT_OUT = "select * from query($left_out)"
# The reader's row count is a guess, as no sniffer ran: the planner must not put the file on the
# build side of the joins with the reference codes (it did: a city's testing file ran out of memory).
PLAN_AS_WRITTEN = "set disabled_optimizers = 'join_order,build_side_probe_side'"
PLAN_AS_USUAL = "reset disabled_optimizers"
# Temp tables, in memory (spilling to the temp folder): never written into the snapshot file.
# The checks' statement is a value given to query(), as DuckDB's relation API rendered it.
MATERIALISE_CHECKED = "create or replace temp table csv_checked as select * from query($checks)"
COUNT_ROWS = {"csv_rows": "select count(*) from csv_rows", "csv_read_rows": "select count(*) from csv_read_rows"}
COUNT_CHECKED = "select count(*) filter (where _problem is null), count(*) from csv_checked"
# The area a file is of (a street's ledger, an upload), or a row of nulls: read by the checks.
SCOPE = "create or replace temp table csv_scope as select $code::varchar as _scope_code, $name::varchar as _scope_name"
KNOWN_CODES = """
create or replace temp table csv_known as
select 'area' as ref, unnest($area::varchar[]) as code, code as area_code
union all select 'site', unnest($site::varchar[]), unnest($site_area::varchar[])
"""
# Every reject of the file, whatever found it; their values are masked in Python (ids.mask_ids),
# and only for the ones stored.
REJECTS = """
create or replace temp view csv_rejects as
select line, '' as "column", reason, '' as value, from csv_bad_lines
union all
select line, '', reason, '', from csv_taken_out
union all
select _line, split_part(_problem, chr(9), 1), substr(_problem, strpos(_problem, chr(9)) + 1), _value,
from csv_checked
where _problem is not null
"""
COUNT_REJECTS = "select count(*) from csv_rejects"
FIRST_REJECTS = 'select line, "column", reason, value from csv_rejects order by line limit $limit'
CLEAN_UP = ("drop view if exists csv_rejects; drop view if exists csv_read_rows;"
            " drop table if exists csv_read_errors; drop table if exists csv_read_scans;"
            " drop table if exists csv_bad_lines; drop table if exists csv_taken_out;"
            " drop view if exists csv_rows; drop table if exists csv_checked;"
            " drop table if exists csv_scope; drop table if exists csv_known;"
            " drop view if exists csv_stream; drop table if exists csv_clean;"
            " drop view if exists main.csv_checked_input")


@dataclass
class Reject:
    line: int | None
    column: str
    reason: str
    value: str


@dataclass
class ParsedFile:
    """Good rows stay in DuckDB (the relation `rows`, contract columns, person IDs as keys), or in
    the Parquet file the parse was given to stage them in. A batch's file has no relation until it
    is stored (batches.rows_of)."""

    rows: duckdb.DuckDBPyRelation | None
    rejects: list[Reject] = field(default_factory=list)  # the first STORED_REJECTS, by line
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0  # all of them
    rows_skipped: int = 0
    encoding: str = "utf-8"
    # Every row was good, and went straight from the reader to its destination (clean_query).
    clean: bool = False
    # Its place in csv_batch, for a file parsed in a batch (batches.py).
    batch_file: int | None = None
    # The Parquet file holding its rows, for the testing records (partitions.py, day_batch.py).
    staged: Staged | None = None


def map_headers(cells: list[str], kind: FileKind, path: Path) -> list[str]:
    """Canonical names for the header cells; unknown (or repeated) headers keep a placeholder name."""
    aliases = kind.header_aliases()
    names: list[str] = []
    for position, cell in enumerate(cells):
        name = aliases.get(cell.strip())
        names.append(name if name and name not in names else f"_extra_{position}")
    missing = [c for c in kind.columns if c.required and c.name not in names]
    if missing:
        # The first line is described, never quoted: in a file without a header row it is a
        # person's row, ID number included.
        wanted = ", ".join(f"{c.name} ({c.zh})" for c in missing)
        recognised = [name for name in names if not name.startswith("_extra_")]
        if recognised:
            found = (f"the header row has {len(names)} cells; recognised: {', '.join(recognised)};"
                     f" not recognised: {len(names) - len(recognised)}")
        else:
            found = (f"none of the first line's {len(names)} cells is a column name:"
                     " the first line looks like data (no header row?)")
        raise UnusableFile(f"{path}: required column missing: {wanted}; {found}")
    return names


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(MACROS_SQL.read_text(encoding="utf-8"))


def drop_parse_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Nothing of a parse stays in the snapshot: not the cells, nor a view left by a failed parse."""
    con.execute(CLEAN_UP)


def _read_cells(con, source: Readable, names: list[str]) -> str:
    """The name of the view of every row DuckDB read, its cells as text, with its line in the
    source file; csv_bad_lines and csv_taken_out hold the lines that are no row, with reasons."""
    con.execute(READ_CELLS, {"path": source.path, "columns": {name: "VARCHAR" for name in names},
                             "max_line": MAX_LINE_BYTES})
    con.execute(BAD_LINES, {"wrong_cells": f"row has the wrong number of cells (expected {len(names)})",
                            "too_long": TOO_LONG})
    if source.taken_out:
        con.execute(TAKEN_OUT, {"path": source.taken_out})
    else:
        con.execute(NONE_TAKEN_OUT)
    bad = con.execute("select count(*) from csv_bad_lines").fetchall()[0][0]
    con.execute(NUMBER_LINES if bad else NUMBER_LINES_PLAIN)
    if not source.taken_out:
        return "csv_rows"
    con.execute(WITHOUT_TAKEN_OUT)
    return "csv_read_rows"


def parse_file(con: duckdb.DuckDBPyConnection, path: Path, kind: FileKind, known_codes: dict,
               id_key: bytes, workdir: Path, within: tuple[str, str] | None = None, shown: str | None = None,
               first_row: int = 1, found: Scan | None = None, staged: Staged | None = None) -> ParsedFile:
    """Parse into temp tables of `con`; the result's rows relation is valid until the next parse.

    A workbook's sheet comes as the CSV file workbook.py wrote: shown names the workbook and sheet
    in messages instead, and first_row is the sheet row of its header, so rejects name sheet rows.
    within, (area code, name): the area whose file this is (a ledger part, an upload); a row of
    another area is rejected. found: the file's scan, when the ingest already made it (hashes.py).
    staged: where the good rows are written, as the Parquet file of a big kind (partitions.py).

    A file whose every row is good streams from the reader to its destination in one statement;
    one that is not (a reject, a blank or summary row, a line DuckDB cannot read, a repeat) is
    read again and checked in full, row by row. Both give the same rows."""
    try:
        found = found or scan(path)
        names = map_headers(found.header, kind, path)
        try:
            with readable(path, found, len(names), workdir) as source:
                drop_parse_tables(con)
                reference_codes(con, known_codes, within)
                ids.use_key(con, id_key)
                parsed = _clean(con, source, kind, names, found, within is not None, staged)
                if parsed is None and found.blank_lines is not None:
                    rows_view = _read_cells(con, source, names)
            if parsed is None and found.blank_lines is None:
                # A scan that did not look for blank lines: look now, as DuckDB skips them.
                found = scan(path)
                with readable(path, found, len(names), workdir) as source:
                    rows_view = _read_cells(con, source, names)
            if parsed is None:
                parsed = _check(con, path, kind, names, found, rows_view, within, first_row - 1)
                if staged is not None:
                    staged.write(con, parsed.rows.sql_query())
            parsed.staged = staged
            return parsed
        except duckdb.Error as error:
            # Named by its type only: DuckDB's message may quote a cell.
            raise UnusableFile(f"{path}: not readable as CSV ({type(error).__name__})") from None
    except UnusableFile as error:
        if shown is None:
            raise
        raise UnusableFile(str(error).replace(str(path), shown)) from None


def reference_codes(con, known_codes: dict, within: tuple[str, str] | None) -> None:
    """csv_known and csv_scope, which the checks read: the codes a cell may name, and the file's area."""
    sites = sorted(known_codes["site"].items())  # site -> its area
    con.execute(KNOWN_CODES, {"area": sorted(known_codes["area"]), "site": [site for site, _ in sites],
                              "site_area": [area for _, area in sites]})
    con.execute(SCOPE, {"code": within[0] if within else None, "name": within[1] if within else None})


@contextmanager
def planned_as_written(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The statements run inside planned as written (PLAN_AS_WRITTEN), as usual again after."""
    con.execute(PLAN_AS_WRITTEN)
    try:
        yield
    finally:
        con.execute(PLAN_AS_USUAL)


def _clean(con, source: Readable, kind: FileKind, names: list[str], found: Scan, scoped: bool,
           staged: Staged | None) -> ParsedFile | None:
    """The file's rows, if every line after the header is a good row or one the full checks skip (a
    blank or summary row); None if one is not, and the file takes the full checks (which find the
    same good rows, and say why the others are not)."""
    con.execute(STREAM_SOURCE, {"path": source.path, "columns": {name: "VARCHAR" for name in names},
                                "max_line": MAX_LINE_BYTES, "buffer": READ_BUFFER_BYTES})
    con.execute(STREAM_CELLS)
    query = checks.statement(("clean", repr(kind), tuple(names), scoped),
                             lambda: checks.clean_query(con, kind, names, "csv_stream", scoped))
    try:
        with planned_as_written(con):
            if staged is not None:
                loaded = staged.write(con, query)
                rows = staged.rows(con)
            else:
                con.execute(MATERIALISE_CLEAN, {"clean": query})
                loaded = con.execute(COUNT_CLEAN).fetchone()[0]
                rows = con.table("csv_clean")
    except duckdb.Error:
        # The statement's own error at a row with a problem, or one of the reader's: the full
        # checks find and name it, or fail the file as they always have.
        return None
    data_lines = found.lines - 1
    # A blank or summary row is left out, as the full checks skip it: the count must say so. A line
    # taken out (text.readable) is a row of empty cells here, and a reject in the full checks.
    left_out = 0
    if loaded != data_lines and not source.taken_out:
        query = checks.statement(("left out", repr(kind), tuple(names)),
                                 lambda: checks.left_out_query(con, kind, names, "csv_stream"))
        try:
            left_out = con.execute(LEFT_OUT, {"left_out": query}).fetchone()[0]
        except duckdb.Error:
            return None
    if loaded + left_out != data_lines or (kind.unique and checks.repeated_in(
            con, checks.statement(("clean repeats", repr(kind), staged is not None),
                                  lambda: checks.repeats_query(rows, kind.unique, by_hash=True)), kind.unique)):
        return None
    return ParsedFile(rows=rows, rows_read=loaded, rows_loaded=loaded, rows_skipped=left_out, encoding=found.encoding,
                      clean=True)


def _check(con, path: Path, kind: FileKind, names: list[str], found: Scan, rows_view: str,
           within: tuple[str, str] | None, line_offset: int) -> ParsedFile:
    total = con.execute(COUNT_ROWS[rows_view]).fetchall()[0][0]
    # Skipped rows are counted too: a column without a repeat among them has none among the kept.
    repeated = frozenset()
    if kind.unique:
        repeats = checks.statement(("repeats", repr(kind), tuple(names), rows_view), lambda: checks.repeats_query(
            checks.trimmed_rows(con, kind, names, rows_view), kind.unique))
        repeated = checks.repeated_in(con, repeats, kind.unique)
    scoped = within is not None
    query = checks.statement(("checks", repr(kind), tuple(names), rows_view, scoped, repeated),
                             lambda: checks.checks_query(con, kind, names, rows_view, scoped, repeated))
    con.execute(MATERIALISE_CHECKED, {"checks": query})
    checked = con.table("csv_checked")

    con.execute(REJECTS)
    rejects = []
    for line, column, reason, value in con.execute(FIRST_REJECTS, {"limit": STORED_REJECTS}).fetchall():
        if column and kind.column(column).type == PERSON_ID:
            value = ids.mask(value)
        # A shifted column can put an ID number under any header: mask ID shapes in every value.
        rejects.append(Reject(int(line) + line_offset, column, reason, ids.mask_ids(value)))
    rejected = con.execute(COUNT_REJECTS).fetchall()[0][0]

    # The raw ID stops here: only its keyed hash goes on.
    good = checked.filter(ColumnExpression("_problem").isnull()).select(*checks.stored_columns(kind))
    good_count, kept_count = con.execute(COUNT_CHECKED).fetchall()[0]
    skipped = total - kept_count
    # A reader that lost lines (a quote taking the rest of the file into one bad row did) must
    # not pass for a file that loaded.
    data_lines = found.lines - 1
    if good_count + rejected + skipped != data_lines:
        raise UnusableFile(f"{path}: {data_lines:,} lines after the header, but {good_count:,} loaded,"
                           f" {rejected:,} rejected and {skipped:,} skipped: lines not accounted for")
    return ParsedFile(rows=good, rejects=rejects, rows_read=data_lines - skipped, rows_loaded=good_count,
                      rows_rejected=rejected, rows_skipped=skipped, encoding=found.encoding)
