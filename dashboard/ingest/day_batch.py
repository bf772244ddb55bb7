"""A day's testing exports read in one statement, each written to its own Parquet file.

A day's testing records come from the fixed sites and from the sampling vehicles: a file of
hundreds of thousands of rows and a smaller one. DuckDB splits a file into buffers that its
threads read side by side (parse.READ_BUFFER_BYTES); a file of a few buffers keeps a core idle for
much of its statement. Read together, and written one Parquet file per export with
`partition_by`, the day's files keep both cores busy: the district's 28 files took 8.8 s in 14
statements where 28 took 9.3 s, and its full ingest 0.4-0.75 s less in each of three alternated
pairs (docs/performance.md, "seventh step"). A file of LARGEST_BYTES or more keeps both cores busy
alone, and written with another took longer: a city's day (files of 250 MB and 1 GB) took 0.5-1.4 s
more together than one by one, so such a file is read alone.

The files of one day that go together are those with one header, hashed and scanned whole, of no
one area (a street's upload is checked against its street: parsed alone). A file whose rows and
skipped rows are not its lines, or that may repeat a sample, and every file of a statement that
fails, is parsed alone as before (parse.parse_file): either way it gets the same rows and counts.
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path

import duckdb

from dashboard.ingest import batches, checks
from dashboard.ingest.arrivals import Arrival
from dashboard.ingest.contract import FileKind
from dashboard.ingest.hashes import FileHashes
from dashboard.ingest.parse import READ_BUFFER_BYTES, ParsedFile, UnusableFile, planned_as_written
from dashboard.ingest.partitions import Staged

# Sixteen of the reader's buffers: a file this big is read alone.
LARGEST_BYTES = 16 * READ_BUFFER_BYTES
# As partitions.STAGE writes one file's rows, each file's to a folder of its own (_file=N), and
# the number of rows written to each.
STAGE = """
copy (select $day::date as export_day, * from query($rows)) to $folder
(format parquet, compression zstd, compression_level 1, partition_by (_file), return_stats)
"""


def ahead(upcoming: list[Arrival], hashes: FileHashes, to_parse) -> tuple[list[Arrival], list[Arrival]]:
    """The testing exports of upcoming[0]'s day to read together: those to_parse(arrival) asks to
    read, smaller than LARGEST_BYTES, of one header and of no one area, each hashed (its arrival's
    sha is set) and scanned whole; none if they are fewer than batches.SMALLEST. Also the arrivals
    looked at."""
    first = upcoming[0]
    seen, members, shape = [], [], None
    for arrival in upcoming:
        if arrival.kind is not first.kind or arrival.day != first.day or arrival.is_workbook:
            continue
        seen.append(arrival)
        if _size(arrival.path) >= LARGEST_BYTES:
            continue  # busy enough alone
        try:
            arrival.sha = arrival.sha or hashes.sha256(arrival.path, text=True)
            found = hashes.scanned(arrival.path)
        except UnusableFile:
            continue  # its own read says why
        within = arrival.sender.within if arrival.sender else None
        layout = batches.layout(arrival.kind, arrival.path, found, within)
        if layout is None or within is not None or not to_parse(arrival) or shape not in (None, layout):
            continue
        shape = layout
        members.append(arrival)
    return seen, members if len(members) >= batches.SMALLEST else []


def _size(path: Path) -> int:
    try:
        return path.stat(follow_symlinks=False).st_size
    except OSError:
        return 0  # its own read says why


def parse_day(con: duckdb.DuckDBPyConnection, kind: FileKind, members: list[batches.Member], known_codes: dict,
              id_key: bytes, workdir: Path) -> dict[Path, ParsedFile]:
    """The parsed files of the members (of one day) whose every line is a good row or one the checks
    skip, by path; each one's rows are in the Parquet file of its Staged. The others are left out,
    to be parsed alone."""
    day = members[0].day
    with ExitStack() as files:
        prepared = batches.prepare(con, files, kind, members, known_codes, id_key, workdir, "day")
        if prepared is None or prepared.taken_out:
            return {}  # a line taken out stops the day's statement: each file alone
        names, paths, _, query = prepared
        folder = Path(tempfile.mkdtemp(prefix="day-", dir=workdir))
        try:
            with planned_as_written(con):
                written = con.execute(STAGE, {"day": day, "rows": query, "folder": str(folder)}).fetchall()
        except duckdb.Error:
            return {}  # a row with a problem, or a line DuckDB cannot read: each file alone finds it
        # One folder per file with rows, _file=N: N its place in paths, from 1. A file written in
        # two parts is parsed alone.
        staged: dict[int, tuple[Path, int] | None] = {}
        for file, count, *_, keys, _ in written:
            position = int(keys["_file"])
            staged[position] = None if position in staged else (Path(file), count)
        short = [position for position, m in enumerate(members, 1)
                 if staged.get(position) is None or staged[position][1] != m.found.lines - 1]
        left_out = batches.left_out_of(con, kind, names, paths, short)
    parsed = {}
    for position, member in enumerate(members, 1):
        if staged.get(position) is None:
            continue  # no row written, or two files: parsed alone
        path, loaded = staged[position]
        skipped = left_out.get(position, 0)
        if loaded + skipped != member.found.lines - 1:
            continue
        rows = Staged(path, day)
        relation = rows.rows(con)
        if kind.unique:
            repeats = checks.statement(("clean repeats", repr(kind), True), lambda relation=relation: (
                checks.repeats_query(relation, kind.unique, by_hash=True)))
            if checks.repeated_in(con, repeats, kind.unique):
                continue
        parsed[member.path] = ParsedFile(rows=relation, rows_read=loaded, rows_loaded=loaded, rows_skipped=skipped,
                                         encoding=member.found.encoding, clean=True, staged=rows)
    return parsed
