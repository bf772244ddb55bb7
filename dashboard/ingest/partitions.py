"""Per-person testing rows as Parquet files beside the served snapshot, one per sender and export day.

A city's testing day is about twelve million rows; copying them into every new snapshot would
make adding a day cost the whole history. Each sender's good rows of a day are written once, to a
Parquet file of their own under <db>.parts/, and the snapshot keeps only the file's name and the
day's small aggregates, counted from all the day's files with each sample once. The marts are
summed from those aggregates, so a new file costs its own parse and a read of its day.

Files are never rewritten: a re-export gets a new name (its ingest-log id is in it), and files
the serving snapshot no longer names are deleted only after the new snapshot was swapped in.
A killed ingest therefore leaves the previous snapshot and every file it names intact; what the
killed run wrote is an orphan that the next good ingest deletes.

Distinct persons per round must be exact, and a person's first sample of a round can sit in any
day of the round: a changed day recounts the rounds it touches from the days holding them,
never the whole history.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
from duckdb import ColumnExpression, FunctionExpression

from dashboard.ingest.status import SNAPSHOT_FOLDER_MODE, SNAPSHOT_MODE

KIND = "testing_records"
CHUNK = 1 << 20

# Temp objects of the building connection, gone when it closes.
TOUCHED_TABLE = "create temp table if not exists touched_rounds (round integer)"
TOUCH_DAYS = ("insert into touched_rounds select distinct round from testing_daily_parts"
              " where export_day in (select day from changed_days) and round > 0")
TOUCHED = "select distinct round from touched_rounds order by round"
CHANGED_TABLE = "create temp table if not exists changed_days (day date)"
CHANGE_DAY = "insert into changed_days values ($day)"
CHANGED = "select distinct day from changed_days order by day"
# The files this ingest wrote: hashed as they were written, and not read again to be checked.
WRITTEN_NOW_TABLE = "create temp table if not exists written_now (file varchar)"
WROTE = "insert into written_now values ($file)"
WRITTEN_NOW = "select file from written_now"
FORGET_AGGREGATES = (
    "delete from testing_daily_parts where export_day in (select day from changed_days)",
    "delete from testing_hourly_parts where export_day in (select day from changed_days)",
    "delete from testing_positives where export_day in (select day from changed_days)",
)
FORGET_FILE = "delete from partitions where kind = 'testing_records' and day = $day and sender = $sender"
FORGET_DAY = "delete from partitions where kind = 'testing_records' and day = $day"
DAY_FILES = "select file from partitions where kind = 'testing_records' and day = $day order by file_id"
# The rows of the days whose files share no sample, all in one view: a day's rows are those of
# all its senders' files (each file holds its export_day). A day whose files share a sample takes
# each sample once, from the newest file holding it: only such a day pays for the window.
DAY_ROWS_PLAIN = ("create or replace temp view testing_day as"
                  " select * from read_parquet(getvariable('testing_day_files'))")
# No stored file repeats a sample (a repeat is a reject), so a sample is shared when it is in two
# files of its day. Two files, the usual day: do any of one's samples occur in the other (a semi
# join, a hash table of one file's samples: a third of counting the distinct samples of both). A
# day at a time: a city's fourteen days asked at once held one table of 35 M samples, beyond the
# ingest's memory limit (3.1 s where the days one by one took 2.4 s, unlimited). More files:
# distinct hashes, whose equal counts prove that no sample is in two files (two samples may share
# a hash, one sample never has two; unequal counts take the exact way, which dedupes nothing more).
SHARED_BY_TWO = "select count(*) from read_parquet($one) semi join read_parquet($other) using (sample_id)"
SHARED_SAMPLES = """
select count(*) - count(distinct hash(sample_id)) from read_parquet(getvariable('testing_day_files'))
"""
DAY_ROWS_ONCE = """
create or replace temp view testing_day as
select * exclude (filename, position) from (
    select *, list_position(getvariable('testing_day_files'), filename) as position,
    from read_parquet(getvariable('testing_day_files'), filename = true)
)
qualify max(position) over (partition by sample_id) = position
"""
ADD_DAYS = (
    """insert into testing_daily_parts
    select export_day, sampled_at::date, area_code, site_id, round,
        count(*), count(*) filter (where result = 'positive'), count(*) filter (where result = 'pending'),
    from testing_day group by all""",
    """insert into testing_hourly_parts
    select export_day, sampled_at::date, site_id, hour(sampled_at), count(*), from testing_day group by all""",
    """insert into testing_positives
    select export_day, person_key, area_code, sampled_at, from testing_day where result = 'positive'""",
)
NAME_FILE = "insert into partitions values ('testing_records', $day, $file, $sender, $file_id, $rows, $sha256)"
# Parquet keeps no checksum DuckDB checks, and zeroed bytes of a key read as another key: the bytes
# of each file an ingest is about to read are checked against what was written.
WRITTEN = "select file, day, sender, sha256 from partitions where kind = 'testing_records'"
DAYS_WITH_ROUND = """
select file from partitions
where kind = 'testing_records'
  and day in (select export_day from testing_daily_parts where round = $round)
order by day, file_id
"""
FORGET_ROUND = "delete from round_firsts where round = $round"
# The round's areas numbered, from the day counts of its files (refresh made them first).
ROUND_AREAS = """
create or replace temp table round_areas as
select area_code, row_number() over (order by area_code) as position,
from (select distinct area_code from testing_daily_parts where round = $round and area_code is not null)
"""
# Each person counts once per round, on the day of their first sample in that round, in the
# community of that sample. The round filter reaches Parquet's row-group statistics; grouped by
# the person alone, the round being one.
#
# A sample is one number, (its time in microseconds + 2^63) << 32 | its area's position, so the
# first is the least: one min() over a fixed-width number, where arg_min over text cost a city
# round a third more (1.3-1.5 s against 1.7-2.2 s). Two samples at one moment count in the
# smaller area code. An area missing from round_areas (or none, which the checks never store)
# fails the statement (error()), and the round is counted by COUNT_ROUND_BY_TEXT: nothing is dropped.
COUNT_ROUND = """
insert into round_firsts
select $round, round_areas.area_code, make_timestamp(((first >> 32) - 9223372036854775808)::bigint)::date,
       count(*),
from (
    select min(((epoch_us(sampled_at)::hugeint + 9223372036854775808) << 32)
               + coalesce(position, error('an area missing from round_areas'))) as first,
    from read_parquet($files) left join round_areas using (area_code)
    where round = $round
    group by person_key
)
left join round_areas on round_areas.position = (first & 4294967295)::bigint
group by all
"""
COUNT_ROUND_BY_TEXT = """
insert into round_firsts
select $round, area_code, first_day, count(*),
from (
    select person_key, arg_min(area_code, sampled_at) as area_code, min(sampled_at)::date as first_day,
    from read_parquet($files)
    where round = $round
    group by person_key
)
group by all
"""
NAMED = "select file from partitions"
NAMED_DAYS = "select day, file, sender, rows from partitions where kind = 'testing_records' order by day, file_id"
FILE_ROWS = "select num_rows from parquet_file_metadata($path)"
# For reading the rows themselves (tests, an operator's look): a temp view over the named
# files, bound through a variable so no path is spliced into SQL.
SHOW = ("create or replace temp view testing_records as"
        " select * from read_parquet(getvariable('testing_record_files'))")
SHOW_NONE = """
create or replace temp view testing_records as
select null::date as export_day, null::varchar as sample_id, null::uuid as person_key,
    null::varchar as area_code, null::varchar as site_id, null::integer as round,
    null::timestamp as sampled_at, null::varchar as result,
where false
"""


# The rows a parse staged, as a relation: bound through a variable, so no path is in the text.
STAGED_ROWS = "select * exclude (export_day) from read_parquet(getvariable('staged_rows'))"
# zstd at level 1: a city's file is written a sixth faster than at the default level 3, and came
# out no bigger (88 MB against 91 MB for a day's vehicle samples).
STAGE = """
copy (select $day::date as export_day, * from query($rows)) to $path
(format parquet, compression zstd, compression_level 1)
"""


@dataclass
class Staged:
    """Where a parse leaves a sender's good rows of the day: a Parquet file laid out as the stored
    ones, which store() moves into place. Written by the parse itself, so a file whose rows are all
    good goes from DuckDB's CSV reader into Parquet in one statement, never held in a table."""

    path: Path
    day: date

    def write(self, con: duckdb.DuckDBPyConnection, rows: str) -> int:
        """Write the rows of the statement rows (contract columns, IDs as keys), the export day
        first; the number written."""
        self.path.unlink(missing_ok=True)
        try:
            con.execute(STAGE, {"day": self.day, "rows": rows, "path": str(self.path)})
        except duckdb.Error:
            self.path.unlink(missing_ok=True)
            raise
        return con.execute(FILE_ROWS, {"path": str(self.path)}).fetchone()[0]

    def rows(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
        con.execute("set variable staged_rows = $path", {"path": str(self.path)})
        return con.sql(STAGED_ROWS)


def folder(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".parts")


def _private_folder(db_path: Path) -> Path:
    """<db>.parts/testing_records, each level readable like the snapshot itself, whatever the umask."""
    for path in (folder(db_path), folder(db_path) / KIND):
        if path.is_symlink():
            raise OSError(f"{path}: a symbolic link where the ingest keeps its Parquet files; remove it")
        path.mkdir(mode=SNAPSHOT_FOLDER_MODE, exist_ok=True)
        os.chmod(path, SNAPSHOT_FOLDER_MODE)
    return folder(db_path) / KIND


def forget(con: duckdb.DuckDBPyConnection, day: date, sender: str | None = None) -> None:
    """The snapshot stops naming the day's file of sender (every file of the day when None); the
    day's aggregates and the rounds they touch are counted again at the end (refresh)."""
    if sender is None:
        con.execute(FORGET_DAY, {"day": day})
    else:
        con.execute(FORGET_FILE, {"day": day, "sender": sender})
    con.execute(CHANGED_TABLE)
    con.execute(CHANGE_DAY, {"day": day})


def store(con: duckdb.DuckDBPyConnection, staged: Staged, sender: str, file_id: int, sha: str,
          db_path: Path) -> None:
    """Move a sender's staged rows of the day into place, under a new name, to be counted at the end."""
    forget(con, staged.day, sender)
    directory = _private_folder(db_path)
    name = f"{staged.day.isoformat()}-{file_id}-{sha[:12]}.parquet"
    os.chmod(staged.path, SNAPSHOT_MODE)
    os.replace(staged.path, directory / name)
    (count,) = con.execute(FILE_ROWS, {"path": str(directory / name)}).fetchone()
    con.execute(NAME_FILE, {"day": staged.day, "file": f"{KIND}/{name}", "sender": sender, "file_id": file_id,
                            "rows": count, "sha256": _sha256(directory / name)})
    con.execute(WRITTEN_NOW_TABLE)
    con.execute(WROTE, {"file": f"{KIND}/{name}"})


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Checked:
    """The files one ingest found whole (or wrote itself), so that the day's count and the round's
    read each once."""

    def __init__(self, con: duckdb.DuckDBPyConnection, base: Path) -> None:
        self.base = base
        self.written = {str(base / file): (day, sender, sha) for file, day, sender, sha in con.execute(WRITTEN).fetchall()}
        con.execute(WRITTEN_NOW_TABLE)
        self.whole = {str(base / file) for (file,) in con.execute(WRITTEN_NOW).fetchall()}

    def files(self, files: list[str]) -> list[str]:
        """files, once each has the bytes it was written with; else Unreadable, naming the others."""
        damaged = {}
        for path in files:
            if path in self.whole:
                continue
            day, sender, sha = self.written[path]
            try:
                if _sha256(Path(path)) != sha:
                    raise ValueError("its bytes are not those written (sha256)")
            except (OSError, ValueError) as error:
                damaged[(day, sender)] = (str(Path(path).relative_to(self.base)), _reason(error))
            else:
                self.whole.add(path)
        if damaged:
            raise Unreadable(damaged)
        return files


def refresh(con: duckdb.DuckDBPyConnection, db_path: Path, checked: _Checked) -> None:
    """Count the aggregates of every day a stored or forgotten file changed, from all the day's
    files: the days whose files share no sample together (a full ingest's fourteen days: three
    statements, not forty-two), each other day alone."""
    con.execute(CHANGED_TABLE)
    con.execute(TOUCHED_TABLE)
    base = folder(db_path)
    con.execute(TOUCH_DAYS)  # the rounds the days held
    for statement in FORGET_AGGREGATES:
        con.execute(statement)
    days = {day: [str(base / f) for (f,) in con.execute(DAY_FILES, {"day": day}).fetchall()]
            for (day,) in con.execute(CHANGED).fetchall()}
    checked.files([file for files in days.values() for file in files])
    shared = _shared_days(con, days)
    plain = [file for day, files in days.items() if day not in shared for file in files]
    for files, rows in [(plain, DAY_ROWS_PLAIN), *[(days[day], DAY_ROWS_ONCE) for day in sorted(shared)]]:
        if files:
            con.execute("set variable testing_day_files = $files", {"files": files})
            con.execute(rows)
            for statement in ADD_DAYS:
                con.execute(statement)
    con.execute(TOUCH_DAYS)  # and the rounds they hold now
    con.execute("delete from changed_days")
    con.execute("drop view if exists testing_day")


def _shared_days(con: duckdb.DuckDBPyConnection, days: dict[date, list[str]]) -> set[date]:
    """The days of which a sample is in two files (days: each day's files)."""
    shared = set()
    for day, files in days.items():
        if len(files) == 2:
            if con.execute(SHARED_BY_TWO, {"one": files[0], "other": files[1]}).fetchone()[0] > 0:
                shared.add(day)
        elif len(files) > 2:
            con.execute("set variable testing_day_files = $files", {"files": files})
            if con.execute(SHARED_SAMPLES).fetchone()[0] > 0:
                shared.add(day)
    return shared


class Unreadable(Exception):
    """Named Parquet files that cannot be read: {(day, sender): (file, reason)}, to be rebuilt from
    their exports."""

    def __init__(self, days: dict[tuple[date, str], tuple[str, str]]):
        super().__init__("; ".join(f"{file}: {reason}" for file, reason in days.values()))
        self.days = days


def _reason(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def unreadable_days(con: duckdb.DuckDBPyConnection, db_path: Path) -> dict[tuple[date, str], tuple[str, str]]:
    """The (day, sender) whose named file is gone, is no regular file, or whose footer is unreadable
    or counts other rows than were stored: the cheap check, made before every ingest (it reads each
    file's footer, not its rows)."""
    base = folder(db_path)
    bad = {}
    for day, file, sender, expected in con.execute(NAMED_DAYS).fetchall():
        path = base / file
        try:
            if path.is_symlink() or not path.is_file():
                raise FileNotFoundError("missing, or not a regular file")
            (rows,) = con.execute(FILE_ROWS, {"path": str(path)}).fetchone()
            if rows != expected:
                raise ValueError(f"{rows:,} rows where {expected:,} were stored")
        except (OSError, ValueError, duckdb.Error) as error:
            bad[(day, sender)] = (file, _reason(error))
    return bad


def _unreadable_of(con: duckdb.DuckDBPyConnection, base: Path, files: list[str]) -> dict[tuple[date, str], tuple[str, str]]:
    """Which of a round's files cannot be read whole: each one read, every column (the slow path,
    taken only once reading them together failed)."""
    bad = {}
    for day, file, sender, _ in con.execute(NAMED_DAYS).fetchall():
        if str(base / file) not in files:
            continue
        try:
            rows = con.read_parquet(str(base / file))
            rows.aggregate([FunctionExpression("max", FunctionExpression("hash", ColumnExpression(column)))
                            for column in rows.columns]).fetchall()
        except duckdb.Error as error:
            bad[(day, sender)] = (file, _reason(error))
    return bad


def recount_rounds(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    """Recount the distinct persons of every round a stored or forgotten day touched.

    Raises Unreadable, naming the days, when a file of a round cannot be read: the ingest
    rebuilds those from their exports and recounts again.
    """
    base = folder(db_path)
    checked = _Checked(con, base)
    refresh(con, db_path, checked)
    rounds = [r for (r,) in con.execute(TOUCHED).fetchall()]
    for round_ in rounds:
        con.execute(FORGET_ROUND, {"round": round_})
        files = checked.files([str(base / f) for (f,) in con.execute(DAYS_WITH_ROUND, {"round": round_}).fetchall()])
        if files:
            try:
                _count_round(con, files, round_)
            except duckdb.OutOfMemoryException:
                raise
            except duckdb.Error as error:
                bad = _unreadable_of(con, base, files)
                if not bad:
                    raise
                raise Unreadable(bad) from error
    con.execute("delete from touched_rounds")


def _count_round(con: duckdb.DuckDBPyConnection, files: list[str], round_: int) -> None:
    con.execute(ROUND_AREAS, {"round": round_})
    try:
        con.execute(COUNT_ROUND, {"files": files, "round": round_})
    except duckdb.InvalidInputException:
        # error(): a row's area is not among the round's day counts (a sample in two files
        # under two areas, say). Anything else is raised; an unreadable file fails this one too.
        con.execute(COUNT_ROUND_BY_TEXT, {"files": files, "round": round_})
    finally:
        con.execute("drop table if exists round_areas")


def named_files(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {file for (file,) in con.execute(NAMED).fetchall()}


def delete_unnamed(db_path: Path, named: set[str]) -> int:
    """After a swap: delete the files the serving snapshot does not name (replaced, or orphans)."""
    base = folder(db_path)
    if not base.is_dir() or base.is_symlink():
        return 0
    deleted = 0
    for path in (base / KIND).glob("*"):
        if f"{KIND}/{path.name}" not in named and not path.is_dir():
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted


def show(con: duckdb.DuckDBPyConnection, db_path: Path) -> duckdb.DuckDBPyConnection:
    """Make `testing_records` readable on a connection to the snapshot (read-only is fine)."""
    files = sorted(str(folder(db_path) / f) for f in named_files(con))
    if files:
        con.execute("set variable testing_record_files = $files", {"files": files})
        con.execute(SHOW)
    else:
        con.execute(SHOW_NONE)
    return con


def open_snapshot(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the snapshot on which testing_records can be read like a table."""
    return show(duckdb.connect(str(db_path), read_only=True), db_path)
