"""The checks of an export file's cells, as one DuckDB statement built from the contract.

A file's cells arrive in csv_rows (or csv_read_rows) as text. The statement trims them, skips
blank and summary rows, casts each cell once, and gives every kept row its first problem (column,
tab, reason), which parse.py turns into rejects. It is built with DuckDB's expression API and
rendered to text once per layout (the kind, the header's columns, whether the file is of one
area, the columns with a repeat): a day is many senders' files of a few layouts, and building
a statement step by step binds every step again, most of a small file's parse.

Nothing of a file is in the text: its area is a row of csv_scope and the reference codes are rows
of csv_known, temp tables parse.py fills with bound values; the rest comes from the contract.
"""

from __future__ import annotations

import re
from collections.abc import Callable

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
    TEXT,
    TIMESTAMP,
    Column,
    FileKind,
)

# Rows whose first non-empty cell starts with a summary word are Excel's totals, not data; so are
# the signature lines under a ledger.
SUMMARY_PATTERN = ("^(?:" + "|".join(re.escape(word) for word in SUMMARY_WORDS) + ")|^(?:"
                   + "|".join(re.escape(word) for word in SIGNATURE_WORDS) + r")\s*[:：]")
# What a clean file's statement fails with at its first row with a problem: the file then takes the
# checks that find each reject (parse.py).
NOT_CLEAN = "a row with a problem: the file takes the full checks"
# A rendered statement is a value given to query(): no statement text is put together here.
REPEATS = "select * from query($repeats)"
# Layouts remembered; more than a process meets in a day (an upload page may meet many).
KEPT = 512
_statements: dict[tuple, str] = {}


def statement(key: tuple, build: Callable[[], str]) -> str:
    """The statement for key, built by build() the first time the process meets it."""
    if key not in _statements:
        if len(_statements) >= KEPT:
            _statements.clear()
        _statements[key] = build()
    return _statements[key]


def cell_text(name: str):
    return CoalesceOperator(FunctionExpression("trimmed", ColumnExpression(name)), ConstantExpression(""))


def _cell_as_is(name: str):
    return CoalesceOperator(ColumnExpression(name), ConstantExpression(""))


def _checked_untrimmed(column: Column) -> bool:
    """Whether a cell of this column with a space at an edge fails a check, or types to the value
    of the trimmed cell: a number (as_int and as_float trim), a date (a space fails every pattern;
    an Excel serial casts to the same number), a value word or a reference code (no match). A
    text cell would be stored with its space, and an ID number keyed with it."""
    return column.type in (INT, FLOAT, DATE, TIMESTAMP, ENUM) or (column.type == TEXT and column.references is not None)

def typed_value(column: Column, raw):
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


def _outside(what: str):
    """The reason for a row of another area than its file's, naming that area (from csv_scope)."""
    return FunctionExpression("concat", ConstantExpression(f"{what} outside "), ColumnExpression("_scope_name"),
                              ConstantExpression(" ("), ColumnExpression("_scope_code"),
                              ConstantExpression("), the area this file is of (named in its file name)"))


def problems(kind: FileKind, typed: dict, scoped: bool = False, repeated: frozenset[str] | None = None) -> list:
    """(condition, column, reason) in the order they are checked: a row's first problem is its reason.
    scoped: the file is of one area (a ledger part, an upload), whose code and name csv_scope holds;
    a row of another area is rejected.
    repeated: the unique columns where some value appears twice in the file (None: all of them may)."""
    found = []
    located = any(column.references == "area" for column in kind.columns)
    for column in kind.columns:
        raw = ColumnExpression(column.name)
        filled = raw != ConstantExpression("")
        if column.required:
            found.append((~filled, column.name, f"missing required value: {column.name} ({column.zh})"))
        _, cannot, reason = typed_value(column, raw)
        if cannot is not None:
            # A typed value is null exactly when its cell cannot be typed: read the cast column.
            found.append((filled & typed[column.name].isnull(), column.name, reason))
        if column.type == PERSON_ID:
            problem = FunctionExpression("id_problem", raw, ColumnExpression(f"_id_digits_{column.name}"))
            found.append((problem.isnotnull(), column.name, problem))
        if column.references:
            unknown = filled & ColumnExpression(f"_known_{column.name}").isnull()
            found.append((unknown, column.name, f"unknown {column.references} code"))
        if column.references == "area" and scoped:
            outside = filled & ~FunctionExpression("starts_with", raw, ColumnExpression("_scope_code"))
            found.append((outside, column.name, _outside("area")))
        # A row without an area column is where its post is (a roster, a checkpoint's counts); a
        # ledger's hotel may lie in another street than its case, whose area column says where it is.
        if column.references == "site" and scoped and not located:
            site_area = ColumnExpression(f"_known_area_{column.name}")
            outside = site_area.isnotnull() & ~FunctionExpression("starts_with", site_area,
                                                                  ColumnExpression("_scope_code"))
            found.append((outside, column.name, _outside("site")))
    for start, end in kind.ordered:
        found.append((typed[end] < typed[start], end, f"{end} is before {start}"))
    for name in kind.unique:
        if repeated is not None and name not in repeated:
            continue  # no value appears twice: no row can be a repeat
        raw = ColumnExpression(name)
        repeat = FunctionExpression("row_number").over(partition_by=[raw], order_by=[ColumnExpression("_line")])
        found.append(((repeat > ConstantExpression(1)) & (raw != ConstantExpression("")), name, f"duplicate {name}"))
    return found


def trimmed_rows(con, kind: FileKind, names: list[str], rows_view: str, trim_all: bool = True):
    """The rows with every contract column's cell trimmed ('' where the file has no such column),
    the first non-empty cell, and the leading digits of each ID number.

    trim_all=False, for a file that must be clean (clean_query): a cell that every check of its
    column would find untrimmed (a number, a date, a value word, a reference code) is taken as it
    is. Either its value is the trimmed cell's, or a check fails and the file takes the full checks.
    Trimming is most of a big file's checks (every cell copied or looked at both ends)."""
    def text_of(column: Column):
        if column.name not in names:
            return ConstantExpression("")
        return cell_text(column.name) if trim_all or not _checked_untrimmed(column) else _cell_as_is(column.name)

    text = {c.name: text_of(c) for c in kind.columns}
    id_digits = []
    for column in kind.columns:
        if column.type == PERSON_ID:
            # A lower-case x check character is the same as X.
            text[column.name] = FunctionExpression("upper", text[column.name])
            id_digits.append(FunctionExpression("left", ColumnExpression(column.name), ConstantExpression(17))
                             .try_cast(duckdb.sqltype("BIGINT")).alias(f"_id_digits_{column.name}"))
    # The first non-empty cell, by a chain of cases: DuckDB's coalesce computed every cell of the
    # row, where almost every row's first cell is the one (on a city's testing file, the first
    # non-empty cell took a third of the checks).
    first_cell = None
    for name in names:
        filled = cell_text(name) != ConstantExpression("")
        first_cell = CaseExpression(filled, cell_text(name)) if first_cell is None else first_cell.when(
            filled, cell_text(name))
    first_cell = first_cell.otherwise(ConstantExpression("")) if first_cell is not None else ConstantExpression("")
    rows = con.view(rows_view).select(ColumnExpression("_line"), first_cell.alias("_first"),
                                      *[expr.alias(name) for name, expr in text.items()])
    return rows.select(StarExpression(), *id_digits)


def repeats_query(rows, unique: tuple[str, ...], by_hash: bool = False, per: str | None = None) -> str:
    """Counting, for each unique column of rows, its non-empty values and its distinct ones.

    by_hash: distinct 64-bit hashes of the values instead, a third cheaper on a city's file. Two
    values may share a hash, never one value two: equal counts prove that no value repeats, and
    unequal ones only that one may (then whoever asked checks again, exactly). per: a column to
    count by (a batch's _file), first in each row."""
    values = [FunctionExpression("nullif", ColumnExpression(name), ConstantExpression("")) for name in unique]
    # hash(null) is a number like any other: a null stays null, and is not counted.
    distinct = [CaseExpression(value.isnotnull(), FunctionExpression("hash", value)) if by_hash else value
                for value in values]
    counts = [count for value, hashed in zip(values, distinct)
              for count in (FunctionExpression("count", value), hashed.n_unique())]
    if per is None:
        return rows.aggregate(counts).sql_query()
    return rows.aggregate([ColumnExpression(per), *counts], per).sql_query()


def repeated_in(con, query: str, unique: tuple[str, ...]) -> frozenset[str]:
    """The unique columns where a non-empty value appears on two rows (query: repeats_query's).

    The duplicate check is a window, sorting every row by its value (a city day: millions), while
    almost every file has no repeat at all; counting distinct values is a hash, several times
    cheaper. The rows the check sees are some of the counted ones, so a column without a repeat
    here has none there, and where there is one the window decides as it always has.
    """
    row = con.execute(REPEATS, {"repeats": query}).fetchall()[0]
    return frozenset(name for i, name in enumerate(unique) if row[2 * i] != row[2 * i + 1])


def _left_out(kind: FileKind):
    """A row the checks skip: every cell blank, or a summary or signature row (合计, 填报人：...)."""
    blank = None
    for column in kind.columns:
        empty = ColumnExpression(column.name) == ConstantExpression("")
        blank = empty if blank is None else blank & empty
    return blank | FunctionExpression("regexp_matches", ColumnExpression("_first"), ConstantExpression(SUMMARY_PATTERN))


def left_out_query(con, kind: FileKind, names: list[str], rows_view: str, by_file: bool = False) -> str:
    """How many rows clean_query leaves out as blank or summary rows (of each file, by_file:
    _file, the count): with the rows it gave, they must make up the file's lines."""
    rows = trimmed_rows(con, kind, names, rows_view, trim_all=False).filter(_left_out(kind))
    if not by_file:
        return rows.aggregate([FunctionExpression("count")]).sql_query()
    return rows.aggregate([ColumnExpression("_line").alias("_file"), FunctionExpression("count")], "_line").sql_query()


def _checked(con, kind: FileKind, names: list[str], rows_view: str, scoped: bool, repeated: frozenset[str],
             trim_all: bool = True, by_file: bool = False):
    """Every kept row with its line, its first problem (column, tab, reason), its cells as text and
    its typed cells (_typed_<column>), over csv_known's reference codes and csv_scope's area.
    by_file: the rows are of many files, _line holding each row's file, and each file's area is
    csv_batch_scope's row of that file (batches.py)."""
    contract = [c.name for c in kind.columns]
    kept = trimmed_rows(con, kind, names, rows_view, trim_all).filter(~_left_out(kind))
    if scoped and by_file:
        kept = kept.join(con.table("csv_batch_scope"), ColumnExpression("_line") == ColumnExpression("_scope_file"))
    elif scoped:
        kept = kept.cross(con.table("csv_scope"))
    # Reference codes by a join, not an IN list: a list is compared one code at a time per row.
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
    kept = kept.select(StarExpression(), *[typed_value(c, ColumnExpression(c.name))[0].alias(f"_typed_{c.name}")
                                           for c in kind.columns])
    typed = {c.name: ColumnExpression(f"_typed_{c.name}") for c in kind.columns}
    problem = CaseExpression(ConstantExpression(True), ConstantExpression(None))
    chain = None
    for condition, column, reason in problems(kind, typed, scoped, repeated):
        reason_expr = reason if not isinstance(reason, str) else ConstantExpression(reason)
        tagged = FunctionExpression("concat", ConstantExpression(column + "\t"), reason_expr)
        chain = CaseExpression(condition, tagged) if chain is None else chain.when(condition, tagged)
    problem = chain.otherwise(ConstantExpression(None)) if chain is not None else problem
    return kept.select(ColumnExpression("_line"), problem.alias("_problem"), *[ColumnExpression(n) for n in contract],
                       *typed.values())


def checks_query(con, kind: FileKind, names: list[str], rows_view: str, scoped: bool,
                 repeated: frozenset[str]) -> str:
    """Every kept row with its line, its first problem (column, tab, reason), the value to show in
    its reject, and its typed cells; over csv_known's reference codes and csv_scope's area."""
    contract = [c.name for c in kind.columns]
    reject_value = CaseExpression(ConstantExpression(False), ConstantExpression(""))
    for name in contract:
        reject_value = reject_value.when(
            FunctionExpression("split_part", ColumnExpression("_problem"), ConstantExpression("\t"),
                               ConstantExpression(1)) == ConstantExpression(name), ColumnExpression(name))
    return _checked(con, kind, names, rows_view, scoped, repeated) \
        .select(ColumnExpression("_line"), ColumnExpression("_problem"),
                reject_value.otherwise(ConstantExpression("")).alias("_value"),
                *[ColumnExpression(f"_typed_{n}").alias(n) for n in contract]) \
        .sql_query()


def clean_query(con, kind: FileKind, names: list[str], rows_view: str, scoped: bool, by_file: bool = False) -> str:
    """The rows of a file in which every row is good, as they are stored: typed, each ID number
    replaced by its key (under the pads in the variable id_pads). The statement fails at the first
    row with a problem; a blank or summary row is left out, which the caller counts (left_out_query).

    The same checks as checks_query's, but for repeats, which the caller counts on the result, and
    without the reject's line and value, which a file without rejects does not need: the whole file
    streams from the CSV reader into its destination, nothing materialised on the way.
    by_file: rows of many files, _line holding each row's file, which the result keeps as _file.
    """
    fail = FunctionExpression("error", ConstantExpression(NOT_CLEAN))
    rows = _checked(con, kind, names, rows_view, scoped, frozenset(), trim_all=False, by_file=by_file) \
        .filter(CaseExpression(ColumnExpression("_problem").isnull(), ConstantExpression(True)).otherwise(fail))
    by = [ColumnExpression("_line").alias("_file")] if by_file else []
    return rows.select(*stored_columns(kind, "_typed_"), *by).sql_query()


def stored_columns(kind: FileKind, prefix: str = "") -> list:
    """The columns of kind as stored, from its typed columns (named prefix + column): every ID
    number replaced by its key (ids.key_of), under a name that says so."""
    return [ids.key_of(ColumnExpression(prefix + c.name)).alias(pseudonym_column(c.name)) if c.type == PERSON_ID
            else ColumnExpression(prefix + c.name).alias(c.name) for c in kind.columns]


def pseudonym_column(name: str) -> str:
    """person_id -> person_key: the snapshot never has a column holding an ID number."""
    return name.removesuffix("_id") + "_key"
