"""Many small files of one layout, read and checked in one statement.

A day brings a ledger from each street and a roster from each post: tens of files of a few layouts,
a few hundred rows each. DuckDB spends about 20 ms planning a file's checks and about 1 ms running
them (docs/performance.md, "fourth step"), so the files of one layout, of every day to be read, go
through one clean statement together (checks.clean_query, by_file): each row carries its file's
place in the batch, in _line, and a street's file is checked against its own street
(csv_batch_scope). A file DuckDB cannot read as it is (GBK, full-width, mixed line endings) is read
from its transcoded copy (text.readable), as it would be alone; a workbook from the CSV file of its
sheet, written as the workbook was recognised (workbook.py).

A file whose rows and skipped rows (blank, summary: counted by checks.left_out_query) are not its
lines, or that may repeat a unique value, and every file of a batch whose statement fails, is parsed
alone, as before (parse.parse_file): either way a file gets the same rows, counts and rejects. A
file with a line to take out is parsed alone from the start: its batch would fail. The good files'
rows stay in csv_batch until the ingest stores them: those that replace nothing together, with
their log lines and serving entries (store_waiting), before the next batch or any other log line;
the others one after the other, as they are read.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import NamedTuple

import duckdb
from duckdb import ColumnExpression, ConstantExpression

from dashboard.ingest import checks, ids, partitions, staging
from dashboard.ingest.arrivals import Arrival
from dashboard.ingest.contract import PERSON_ID, FileKind
from dashboard.ingest.parse import (
    READ_BUFFER_BYTES,
    ParsedFile,
    UnusableFile,
    drop_parse_tables,
    map_headers,
    planned_as_written,
    reference_codes,
)
from dashboard.ingest.text import MAX_LINE_BYTES, Scan, readable

# Fewer files than this are parsed one by one: a batch of one saves nothing.
SMALLEST = 2
# Each file of a batch is held open (or copied, transcoded) until its statement has run.
LARGEST = 256
# Failed statements a batch may take before its failing ranges are no longer halved (_Reader).
FAILED_TRIES = 16
# The batch's files and columns are a variable, so the statement's text is always the same.
SOURCE = ("set variable csv_batch_source = {'paths': $paths, 'first': $first, 'columns': $columns,"
          " 'max_line': $max_line, 'buffer': $buffer}")
STREAM = """
create or replace temp view csv_batch_stream as
select * exclude (filename),
       list_position(getvariable('csv_batch_source').paths, filename)::bigint + getvariable('csv_batch_source').first
       as _line,
from read_csv(getvariable('csv_batch_source').paths, columns = getvariable('csv_batch_source').columns,
              header = false, skip = 1, auto_detect = false, delim = ',', quote = '"', escape = '"',
              null_padding = false, strict_mode = true, max_line_size = getvariable('csv_batch_source').max_line,
              buffer_size = getvariable('csv_batch_source').buffer, filename = true)
"""
SCOPE = """
create or replace temp table csv_batch_scope as
select unnest($files::bigint[]) as _scope_file, unnest($codes::varchar[]) as _scope_code,
       unnest($names::varchar[]) as _scope_name
"""
MATERIALISE = "create temp table csv_batch as select * from query($clean)"
APPEND = "insert into csv_batch select * from query($clean)"
COUNTS = "select _file, count(*) from csv_batch group by _file"
REPEATS = "select * from query($repeats)"
LEFT_OUT = "select * from query($left_out)"
WAITING = """
create or replace temp table csv_batch_waiting as
select unnest($files::bigint[]) as _waiting_file, unnest($days::date[]) as _waiting_day,
       unnest($senders::varchar[]) as _waiting_sender, unnest($scopes::varchar[]) as _waiting_scope,
       unnest($ids::bigint[]) as _waiting_id
"""
DROP = ("drop view if exists csv_batch_stream; drop table if exists csv_batch;"
        " drop table if exists csv_batch_scope; drop table if exists csv_batch_waiting")


@dataclass
class Member:
    """A file of a batch: where it is, its scan, the area it is of (None: any), and its day."""

    path: Path
    found: Scan
    within: tuple[str, str] | None
    day: date | None = None


def layout(kind: FileKind, path: Path, found: Scan | None, within: tuple[str, str] | None) -> tuple | None:
    """What the files of one batch share (the kind, the header's columns, of one area or not), or
    None for a file that is parsed alone: one with a line to take out, or whose header lacks a
    column (the parse says so)."""
    if found is None or found.unreadable:
        return None
    try:
        names = map_headers(found.header, kind, path)
    except UnusableFile:
        return None
    return kind.kind, tuple(names), within is not None


class Prepared(NamedTuple):
    """A batch's sources, set up to be read in one statement (prepare)."""

    names: list[str]  # the contract's names of the members' columns, in the header's order
    paths: list[Path]  # what DuckDB reads: each member's file, or its transcoded copy
    taken_out: set[int]  # the places (from 1) of the members with a line taken out of their copy
    query: str  # the clean statement over csv_batch_stream, with each row's _file


def prepare(con: duckdb.DuckDBPyConnection, files: ExitStack, kind: FileKind, members: list[Member],
            known_codes: dict, id_key: bytes, workdir: Path, prefix: str) -> Prepared | None:
    """Open the members' sources (held open by files) and set con up for the clean statement over
    them all: no parse's tables left, the reference codes, the ID key, the stream, and each member's
    area if they are of one. None if a file is gone or replaced by a link since it was hashed: its
    own parse says so."""
    names = map_headers(members[0].found.header, kind, members[0].path)
    drop_parse_tables(con)
    try:
        sources = [files.enter_context(readable(m.path, m.found, len(names), workdir, f"{prefix}-{position}"))
                   for position, m in enumerate(members)]
    except (OSError, UnusableFile):
        return None
    paths = [source.path for source in sources]
    reference_codes(con, known_codes, None)
    ids.use_key(con, id_key)
    set_source(con, paths, names, 0, len(paths))
    con.execute(STREAM)
    scoped = members[0].within is not None
    if scoped:
        con.execute(SCOPE, {"files": list(range(1, len(members) + 1)),
                            "codes": [m.within[0] for m in members], "names": [m.within[1] for m in members]})
    query = checks.statement(("clean batch", repr(kind), tuple(names), scoped), lambda: checks.clean_query(
        con, kind, names, "csv_batch_stream", scoped, by_file=True))
    # A line taken out of a copy (a full-width quote folded) is a reject of the file's own parse.
    return Prepared(names, paths, {position for position, source in enumerate(sources, 1) if source.taken_out},
                    query)


def parse_batch(con: duckdb.DuckDBPyConnection, kind: FileKind, members: list[Member], known_codes: dict,
                id_key: bytes, workdir: Path) -> dict[Path, ParsedFile]:
    """The parsed files of the batch whose every line is a good row or one the checks skip (blank,
    summary), by path; each one's rows are in csv_batch until the next batch. The others are left
    out, to be parsed alone."""
    con.execute(DROP)
    with ExitStack() as files:
        opened = prepare(con, files, kind, members, known_codes, id_key, workdir, "batch")
        if opened is None:
            return {}
        names, paths, taken_out, query = opened
        with planned_as_written(con):
            reader = _Reader(con, query, paths, names, FAILED_TRIES)
            reader.read(0, len(paths))
        if not reader.made:
            return {}
        counted = dict(con.execute(COUNTS).fetchall())
        short = [position for position in sorted(reader.files)
                 if counted.get(position, 0) != members[position - 1].found.lines - 1]
        left_out = left_out_of(con, kind, names, paths, short)
    batch = con.table("csv_batch")
    repeating = set()
    if kind.unique:
        repeats = checks.statement(("batch repeats", repr(kind)), lambda: checks.repeats_query(
            batch, kind.unique, by_hash=True, per="_file"))
        for file, *counts in con.execute(REPEATS, {"repeats": repeats}).fetchall():
            if any(counts[2 * i] != counts[2 * i + 1] for i in range(len(kind.unique))):
                repeating.add(file)
    parsed = {}
    for position, member in enumerate(members, 1):
        lines, skipped = member.found.lines - 1, left_out.get(position, 0)
        # A blank line DuckDB skipped (the scan did not look for it) leaves the file a row short.
        if (position not in reader.files or counted.get(position, 0) + skipped != lines or position in repeating
                or position in taken_out):
            continue
        # Its rows relation is made only if it replaces a file (rows_of): one of most files, 0.5 ms apiece.
        parsed[member.path] = ParsedFile(rows=None, rows_read=lines - skipped, rows_loaded=lines - skipped,
                                         rows_skipped=skipped, encoding=member.found.encoding, clean=True,
                                         batch_file=position)
    return parsed


def rows_of(con: duckdb.DuckDBPyConnection, kind: FileKind, position: int) -> duckdb.DuckDBPyRelation:
    """The rows of the batch's file at position, as the snapshot stores them."""
    return con.table("csv_batch").filter(ColumnExpression("_file") == ConstantExpression(position)).select(
        *_stored(kind))


def _stored(kind: FileKind) -> list[ColumnExpression]:
    """csv_batch's columns as the snapshot stores them."""
    return [ColumnExpression(checks.pseudonym_column(c.name) if c.type == PERSON_ID else c.name) for c in kind.columns]


def store_waiting(con: duckdb.DuckDBPyConnection, waiting: list[staging.Waiting]) -> None:
    """Write the loaded files of the batch that wait (staging.Waiting) in four statements, not three
    a file: their log lines, their rows from csv_batch under their day, sender, scope and file_id,
    and their serving entries. Then none waits."""
    if not waiting:
        return
    ids = staging.log_loaded(con, waiting)
    con.execute(WAITING, {"files": [w.parsed.batch_file for w in waiting], "days": [w.day for w in waiting],
                          "senders": [w.sender.key for w in waiting], "scopes": [w.sender.scope for w in waiting],
                          "ids": ids})
    kind = waiting[0].kind
    rows = con.table("csv_batch").join(
        con.table("csv_batch_waiting"), ColumnExpression("_file") == ColumnExpression("_waiting_file")).select(
        *map(ColumnExpression, ("_waiting_day", "_waiting_sender", "_waiting_scope", "_waiting_id")), *_stored(kind))
    staging.insert_rows(con, staging.INSERT_ROWS[kind.kind], {"rows": rows.sql_query()},
                        sum(w.outcome.rows_loaded for w in waiting),
                        waiting[0].outcome.file + (f" and {len(waiting) - 1} more files" if len(waiting) > 1 else ""))
    staging.serve(con, waiting, ids)
    waiting.clear()


def left_out_of(con, kind: FileKind, names: list[str], paths: list[str], short: list[int]) -> dict[int, int]:
    """Of the files short (their places in paths) read short of their lines, how many rows each had
    that the checks skip (blank or summary rows), by place; {} if they cannot be counted."""
    if not short:
        return {}
    set_source(con, [paths[position - 1] for position in short], names, 0, len(short))
    query = checks.statement(("batch left out", repr(kind), tuple(names)), lambda: checks.left_out_query(
        con, kind, names, "csv_batch_stream", by_file=True))
    try:
        counted = con.execute(LEFT_OUT, {"left_out": query}).fetchall()
    except duckdb.Error:
        return {}
    return {short[file - 1]: count for file, count in counted}


@dataclass
class _Reader:
    """Reads and checks a batch's files into csv_batch. A statement that fails (a row with a problem
    in one of the files, or a line DuckDB cannot read) is tried again on each half, so that one bad
    file leaves the others of its batch together; a file left on its own is parsed alone, where its
    rejects are found and named. After FAILED_TRIES failed statements, a range that fails is not
    split again: files with problems everywhere are parsed alone without a statement per level."""

    con: duckdb.DuckDBPyConnection
    query: str
    paths: list[str]
    names: list[str]
    failures_left: int = 0
    made: bool = False  # whether csv_batch holds any file's rows
    files: set[int] = field(default_factory=set)  # the files read (their places in paths, from 1)

    def read(self, start: int, end: int) -> None:
        set_source(self.con, self.paths, self.names, start, end)
        try:
            self.con.execute(APPEND if self.made else MATERIALISE, {"clean": self.query})
            self.made = True
            self.files.update(range(start + 1, end + 1))
            return
        except duckdb.Error:
            self.failures_left -= 1
            if end - start < 2 * SMALLEST or self.failures_left <= 0:
                return
        middle = (start + end) // 2
        self.read(start, middle)
        self.read(middle, end)


def set_source(con, paths: list[str], names: list[str], start: int, end: int) -> None:
    """What csv_batch_stream reads: the files paths[start:end], each row's _line its file's place in paths."""
    con.execute(SOURCE, {"paths": paths[start:end], "first": start, "columns": {name: "VARCHAR" for name in names},
                         "max_line": MAX_LINE_BYTES, "buffer": READ_BUFFER_BYTES})


def drop(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DROP)


def arrival_layout(arrival: Arrival, scanned) -> tuple | None:
    """The layout of an arrival that may be parsed in a batch, not of the testing records
    (partitions.py): a CSV export hashed and scanned already (scanned: FileHashes.scanned), or a
    workbook whose sheet was read as it was recognised; else None."""
    if not arrival.sha or arrival.kind.kind == partitions.KIND:
        return None
    try:
        found = found_of(arrival, scanned)
    except UnusableFile:
        return None
    return layout(arrival.kind, arrival.path, found, arrival.sender.within if arrival.sender else None)


def source_of(arrival: Arrival) -> Path:
    """The CSV file a batch reads for the arrival: its own, or its sheet's (workbook.py)."""
    return arrival.sheet.csv_path if arrival.sheet else arrival.path


def found_of(arrival: Arrival, scanned) -> Scan | None:
    """The scan of source_of(arrival): made as the file was hashed, or the sheet's; None if none."""
    if arrival.is_workbook:
        return arrival.sheet.found if arrival.sheet else None
    return scanned(arrival.path)


def grouped(found: list[Arrival], scanned) -> list[Arrival]:
    """The arrivals with the files of one layout side by side, day after day, where the first of
    them was; otherwise in their order."""
    group_start: dict[tuple, int] = {}
    order = []
    for position, arrival in enumerate(found):
        shape = arrival_layout(arrival, scanned)
        group = shape if shape is not None else ("alone", position)
        order.append((group_start.setdefault(group, position), position))
    return [found[position] for _, position in sorted(order)]


def ahead(upcoming: list[Arrival], scanned, to_parse) -> tuple[list[Arrival], list[Arrival]]:
    """The arrivals of the next batch: those to parse among the first arrival's layout's files
    that follow it without a break (grouped put them so), up to LARGEST; none if that arrival is
    read alone or they are fewer than SMALLEST. Also the arrivals looked at, which need not be
    looked at again."""
    shape = arrival_layout(upcoming[0], scanned)
    if shape is None:
        return [], []
    members = []
    for seen, arrival in enumerate(upcoming, 1):
        if arrival_layout(arrival, scanned) != shape:
            seen -= 1
            break
        if to_parse(arrival):
            members.append(arrival)
            if len(members) == LARGEST:
                break
    return upcoming[:seen], members if len(members) >= SMALLEST else []
