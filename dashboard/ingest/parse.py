"""Read one export file into typed rows and rejected rows, inside DuckDB.

DuckDB's CSV reader splits the cells, all as text; renaming, casting and validation are
expressions over those cells (the casting rules are the macros of parse.sql). Python only
decodes what DuckDB cannot (text.py) and masks reject values. A file that cannot be used at
all raises UnusableFile; a bad row becomes a reject with its line, column and reason, and the
good rows of the same file still load. Every line after the header is loaded, rejected or skipped
(blank, or a summary row): a file whose counts do not add up to its lines is refused whole.

Rejects stay in DuckDB's temp tables, which spill to disk; only the first STORED_REJECTS of a
file, by line, come to Python, to be masked and stored. The count is of all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from duckdb import (
    CaseExpression,
    CoalesceOperator,
    ColumnExpression,
    ConstantExpression,
    FunctionExpression,
    StarExpression,
)

from dashboard.ingest import ids
from dashboard.ingest.contract import (
    DATE,
    ENUM,
    FLOAT,
    INT,
    PERSON_ID,
    SIGNATURE_WORDS,
    SUMMARY_WORDS,
    TIMESTAMP,
    Column,
    FileKind,
)
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
# Rows whose first non-empty cell starts with a summary word are Excel's totals, not data; so are
# the signature lines under a ledger.
SUMMARY_PATTERN = ("^(?:" + "|".join(re.escape(word) for word in SUMMARY_WORDS) + ")|^(?:"
                   + "|".join(re.escape(word) for word in SIGNATURE_WORDS) + r")\s*[:：]")
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
# Temp tables, in memory (spilling to the temp folder): never written into the snapshot file.
# A relation's view is a view of the snapshot itself: each is dropped as soon as it is read.
MATERIALISE_CHECKED = ("create or replace temp table csv_checked as select * from csv_checked_input;"
                       " drop view csv_checked_input")
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
            " drop view if exists main.csv_checked_input")


@dataclass
class Reject:
    line: int | None
    column: str
    reason: str
    value: str


@dataclass
class ParsedFile:
    """Good rows stay in DuckDB (the relation `rows`, contract columns, person IDs as keys)."""

    rows: duckdb.DuckDBPyRelation
    rejects: list[Reject] = field(default_factory=list)  # the first STORED_REJECTS, by line
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0  # all of them
    rows_skipped: int = 0
    encoding: str = "utf-8"


def pseudonym_column(name: str) -> str:
    """person_id -> person_key: the snapshot never has a column holding an ID number."""
    return name.removesuffix("_id") + "_key"


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
    drop_parse_tables(con)
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


def _text(name: str):
    return CoalesceOperator(FunctionExpression("trimmed", ColumnExpression(name)), ConstantExpression(""))


def _typed(column: Column, raw):
    """(typed value, why the cell cannot be typed: a condition true for a bad non-empty cell)."""
    if column.type in (INT, FLOAT):
        value = FunctionExpression("as_int" if column.type == INT else "as_float", raw)
        return value, value.isnull(), "not a whole number" if column.type == INT else "not a number"
    if column.type in (DATE, TIMESTAMP):
        value = FunctionExpression("parse_stamp", raw)
        if column.type == DATE:
            value = value.cast(duckdb.sqltype("DATE"))
        return value, value.isnull(), "not a date" if column.type == DATE else "not a date and time"
    if column.type == ENUM:
        words = list(column.values) + list(column.values.values())
        values = list(column.values) * 2
        value = FunctionExpression("list_extract", ConstantExpression(values),
                                   FunctionExpression("list_position", ConstantExpression(words), raw))
        allowed = "/".join(f"{v} {zh}" for v, zh in column.values.items())
        return value, value.isnull(), f"unknown value (expected {allowed})"
    if column.type == PERSON_ID:
        return raw, None, ""
    return FunctionExpression("nullif", raw, ConstantExpression("")), None, ""


def _problems(kind: FileKind, typed: dict, within: tuple[str, str] | None = None,
              repeated: frozenset[str] | None = None) -> list:
    """(condition, column, reason) in the order they are checked: a row's first problem is its reason.
    within, (area code, name): the area whose file this is (a ledger part, an upload); a row of another area is rejected.
    repeated: the unique columns where some value appears twice in the file (None: all of them may)."""
    problems = []
    located = any(column.references == "area" for column in kind.columns)
    for column in kind.columns:
        raw = ColumnExpression(column.name)
        filled = raw != ConstantExpression("")
        if column.required:
            problems.append((~filled, column.name, f"missing required value: {column.name} ({column.zh})"))
        _, cannot, reason = _typed(column, raw)
        if cannot is not None:
            # A typed value is null exactly when its cell cannot be typed: read the cast column.
            problems.append((filled & typed[column.name].isnull(), column.name, reason))
        if column.type == PERSON_ID:
            problem = FunctionExpression("id_problem", raw, ColumnExpression(f"_id_digits_{column.name}"))
            problems.append((problem.isnotnull(), column.name, problem))
        if column.references:
            unknown = filled & ColumnExpression(f"_known_{column.name}").isnull()
            problems.append((unknown, column.name, f"unknown {column.references} code"))
        if column.references == "area" and within:
            outside = filled & ~FunctionExpression("starts_with", raw, ConstantExpression(within[0]))
            problems.append((outside, column.name, f"area outside {within[1]} ({within[0]}), the area this"
                                                   " file is of (named in its file name)"))
        # A row without an area column is where its post is (a roster, a checkpoint's counts); a
        # ledger's hotel may lie in another street than its case, whose area column says where it is.
        if column.references == "site" and within and not located:
            site_area = ColumnExpression(f"_known_area_{column.name}")
            outside = site_area.isnotnull() & ~FunctionExpression("starts_with", site_area,
                                                                  ConstantExpression(within[0]))
            problems.append((outside, column.name, f"site outside {within[1]} ({within[0]}), the area this"
                                                   " file is of (named in its file name)"))
    for start, end in kind.ordered:
        problems.append((typed[end] < typed[start], end, f"{end} is before {start}"))
    for name in kind.unique:
        if repeated is not None and name not in repeated:
            continue  # no value appears twice: no row can be a repeat
        raw = ColumnExpression(name)
        repeat = FunctionExpression("row_number").over(partition_by=[raw], order_by=[ColumnExpression("_line")])
        problems.append(((repeat > ConstantExpression(1)) & (raw != ConstantExpression("")), name, f"duplicate {name}"))
    return problems


def parse_file(con: duckdb.DuckDBPyConnection, path: Path, kind: FileKind, known_codes: dict,
               id_key: bytes, workdir: Path, within: tuple[str, str] | None = None, shown: str | None = None,
               first_row: int = 1) -> ParsedFile:
    """Parse into temp tables of `con`; the result's rows relation is valid until the next parse.

    A workbook's sheet comes as the CSV file workbook.py wrote: shown names the workbook and sheet
    in messages instead, and first_row is the sheet row of its header, so rejects name sheet rows.
    within: see _problems."""
    try:
        found = scan(path)
        names = map_headers(found.header, kind, path)
        try:
            with readable(path, found, len(names), workdir) as source:
                rows_view = _read_cells(con, source, names)
            return _check(con, path, kind, names, known_codes, id_key, found, rows_view, within, first_row - 1)
        except duckdb.Error as error:
            # Named by its type only: DuckDB's message may quote a cell.
            raise UnusableFile(f"{path}: not readable as CSV ({type(error).__name__})") from None
    except UnusableFile as error:
        if shown is None:
            raise
        raise UnusableFile(str(error).replace(str(path), shown)) from None


def _repeated(trimmed, unique: tuple[str, ...]) -> frozenset[str]:
    """The unique columns where a non-empty value appears on two rows, skipped rows included.

    The duplicate check is a window, sorting every row by its value (a city day: millions), while
    almost every file has no repeat at all; counting distinct values is a hash, several times
    cheaper. The rows the check sees are some of these, so a column without a repeat here has
    none there, and where there is one the window decides as it always has.
    """
    if not unique:
        return frozenset()
    values = [FunctionExpression("nullif", ColumnExpression(name), ConstantExpression("")) for name in unique]
    row = trimmed.aggregate([count for value in values
                             for count in (FunctionExpression("count", value), value.n_unique())]).fetchall()[0]
    return frozenset(name for i, name in enumerate(unique) if row[2 * i] != row[2 * i + 1])


def _check(con, path: Path, kind: FileKind, names: list[str], known_codes: dict, id_key: bytes,
           found: Scan, rows_view: str, within: tuple[str, str] | None, line_offset: int) -> ParsedFile:

    cells = con.view(rows_view)
    contract = [c.name for c in kind.columns]
    text = {name: _text(name) if name in names else ConstantExpression("") for name in contract}
    id_digits = []
    for column in kind.columns:
        if column.type == PERSON_ID:
            # A lower-case x check character is the same as X.
            text[column.name] = FunctionExpression("upper", text[column.name])
            id_digits.append(FunctionExpression("left", ColumnExpression(column.name), ConstantExpression(17))
                             .try_cast(duckdb.sqltype("BIGINT")).alias(f"_id_digits_{column.name}"))
    first_cell = CoalesceOperator(*[FunctionExpression("nullif", _text(n), ConstantExpression("")) for n in names],
                                  ConstantExpression(""))
    trimmed = cells.select(ColumnExpression("_line"), first_cell.alias("_first"),
                           *[expr.alias(name) for name, expr in text.items()])
    trimmed = trimmed.select(StarExpression(), *id_digits)
    blank = None
    for name in contract:
        empty = ColumnExpression(name) == ConstantExpression("")
        blank = empty if blank is None else blank & empty
    summary = FunctionExpression("regexp_matches", ColumnExpression("_first"), ConstantExpression(SUMMARY_PATTERN))
    total = cells.aggregate("count(*)").fetchall()[0][0]
    kept = trimmed.filter(~(blank | summary))
    repeated = _repeated(trimmed, kind.unique)
    # Reference codes by a join, not an IN list: a list is compared one code at a time per row.
    sites = sorted(known_codes["site"].items())  # site -> its area
    con.execute(KNOWN_CODES, {"area": sorted(known_codes["area"]), "site": [site for site, _ in sites],
                              "site_area": [area for _, area in sites]})
    for column in kind.columns:
        if column.references:
            known = con.table("csv_known").filter(ColumnExpression("ref") == ConstantExpression(column.references)) \
                .select(ColumnExpression("code").alias(f"_known_{column.name}"),
                        ColumnExpression("area_code").alias(f"_known_area_{column.name}"))
            kept = kept.join(known, ColumnExpression(column.name) == ColumnExpression(f"_known_{column.name}"),
                             how="left")
    # Each cell is cast once, into a column of its own that the checks and the output read: a cast
    # repeated in every check that needs it made each file's statement slow to plan (issue 18: a
    # day is many senders' small files). Not materialised: read once, in the same statement.
    kept = kept.select(StarExpression(), *[_typed(c, ColumnExpression(c.name))[0].alias(f"_typed_{c.name}")
                                           for c in kind.columns])
    typed = {c.name: ColumnExpression(f"_typed_{c.name}") for c in kind.columns}
    problem = CaseExpression(ConstantExpression(True), ConstantExpression(None))
    chain = None
    for condition, column, reason in _problems(kind, typed, within, repeated):
        reason_expr = reason if not isinstance(reason, str) else ConstantExpression(reason)
        tagged = FunctionExpression("concat", ConstantExpression(column + "\t"), reason_expr)
        chain = CaseExpression(condition, tagged) if chain is None else chain.when(condition, tagged)
    problem = chain.otherwise(ConstantExpression(None)) if chain is not None else problem
    reject_value = CaseExpression(ConstantExpression(False), ConstantExpression(""))
    for name in contract:
        reject_value = reject_value.when(
            FunctionExpression("split_part", ColumnExpression("_problem"), ConstantExpression("\t"),
                               ConstantExpression(1)) == ConstantExpression(name), ColumnExpression(name))
    kept.select(ColumnExpression("_line"), problem.alias("_problem"), *[ColumnExpression(n) for n in contract],
                *typed.values()) \
        .select(ColumnExpression("_line"), ColumnExpression("_problem"),
                reject_value.otherwise(ConstantExpression("")).alias("_value"),
                *[typed[n].alias(n) for n in contract]) \
        .create_view("csv_checked_input")
    con.execute(MATERIALISE_CHECKED)
    checked = con.table("csv_checked")

    con.execute(REJECTS)
    rejects = []
    for line, column, reason, value in con.execute(FIRST_REJECTS, {"limit": STORED_REJECTS}).fetchall():
        if column and kind.column(column).type == PERSON_ID:
            value = ids.mask(value)
        # A shifted column can put an ID number under any header: mask ID shapes in every value.
        rejects.append(Reject(int(line) + line_offset, column, reason, ids.mask_ids(value)))
    rejected = con.execute(COUNT_REJECTS).fetchall()[0][0]

    output = []
    for column in kind.columns:
        if column.type == PERSON_ID:
            # The raw ID stops here: only its keyed hash goes on, under a name that says so.
            output.append(ids.pseudonymise(ColumnExpression(column.name), id_key).alias(pseudonym_column(column.name)))
        else:
            output.append(ColumnExpression(column.name))
    good = checked.filter(ColumnExpression("_problem").isnull()).select(*output)
    good_count = checked.filter(ColumnExpression("_problem").isnull()).aggregate("count(*)").fetchall()[0][0]
    kept_count = checked.aggregate("count(*)").fetchall()[0][0]
    skipped = total - kept_count
    # A reader that lost lines (a quote taking the rest of the file into one bad row did) must
    # not pass for a file that loaded.
    data_lines = found.lines - 1
    if good_count + rejected + skipped != data_lines:
        raise UnusableFile(f"{path}: {data_lines:,} lines after the header, but {good_count:,} loaded,"
                           f" {rejected:,} rejected and {skipped:,} skipped: lines not accounted for")
    return ParsedFile(rows=good, rejects=rejects, rows_read=data_lines - skipped, rows_loaded=good_count,
                      rows_rejected=rejected, rows_skipped=skipped, encoding=found.encoding)
