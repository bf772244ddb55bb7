"""Writing one parsed file into the staging tables: its good rows replace its sender's rows of its
(kind, day), its rejects and its line in the ingest log go beside them (a batch's files that
replace nothing: many at once, Waiting). Per-person testing rows go to a Parquet file of their own
instead (partitions.py); every other kind is small enough to live in the snapshot, in <kind>_parts,
from which the marts compose what the figures read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from dashboard.ingest import partitions
from dashboard.ingest.contract import FileKind
from dashboard.ingest.ids import mask_ids
from dashboard.ingest.parse import ParsedFile, open_regular
from dashboard.ingest.senders import Sender
from dashboard.ingest.status import FileOutcome

# Static statements, one per staging table: table names are never spliced into SQL.
DELETE_PART = {
    "control_zones": "delete from control_zones_parts where export_day = $day and sender = $sender",
    "isolation": "delete from isolation_parts where export_day = $day and sender = $sender",
    "shifts": "delete from shifts_parts where export_day = $day and sender = $sender",
    "checkpoint_log": "delete from checkpoint_log_parts where export_day = $day and sender = $sender",
    "door_visits": "delete from door_visits_parts where export_day = $day and sender = $sender",
}
# A file's good rows (the rendering of its rows relation, bound) under its day, sender, scope and id.
INSERT_PART = {
    "control_zones": "insert into control_zones_parts select $day, $sender, $scope, $file_id, * from query($rows)",
    "isolation": "insert into isolation_parts select $day, $sender, $scope, $file_id, * from query($rows)",
    "shifts": "insert into shifts_parts select $day, $sender, $scope, $file_id, * from query($rows)",
    "checkpoint_log": "insert into checkpoint_log_parts select $day, $sender, $scope, $file_id, * from query($rows)",
    "door_visits": "insert into door_visits_parts select $day, $sender, $scope, $file_id, * from query($rows)",
}

# Rows that come with their day, sender, scope and file_id (batches.store_waiting).
INSERT_ROWS = {
    "control_zones": "insert into control_zones_parts select * from query($rows)",
    "isolation": "insert into isolation_parts select * from query($rows)",
    "shifts": "insert into shifts_parts select * from query($rows)",
    "checkpoint_log": "insert into checkpoint_log_parts select * from query($rows)",
    "door_visits": "insert into door_visits_parts select * from query($rows)",
}


DELETE_ALL = {
    "areas": "delete from areas",
    "sites": "delete from sites",
    "reporting": "delete from reporting",
}
SERVED = "select file_id from loaded_files where kind = $kind and day is not distinct from $day and sender is not distinct from $sender"
FORGET_SERVED = "delete from loaded_files where kind = $kind and day is not distinct from $day and sender is not distinct from $sender"
FORGET_REJECTS = "delete from rejects where file_id = $file_id"
INSERT_BOUNDARIES = """
insert into boundaries
select unnest($codes::varchar[]), unnest($names::varchar[]), unnest($levels::varchar[]),
       unnest($parents::varchar[]), unnest($geometries::varchar[])
"""
# A file's stored rejects, one list per column, zipped by unnest.
INSERT_REJECTS = """
insert into rejects
select $file_id, $file, $kind, $day::date, unnest($lines::bigint[]), unnest($columns::varchar[]),
       unnest($reasons::varchar[]), unnest($values::varchar[]), $sheet::varchar
"""


def known_codes(con: duckdb.DuckDBPyConnection) -> dict:
    """The reference codes an export's cells are checked against: area codes, and each site's area."""
    return {
        "area": {r[0] for r in con.execute("select area_code from areas").fetchall()},
        "site": dict(con.execute("select site_id, area_code from sites").fetchall()),
    }


# The log's next file_id is taken in the statement that writes the line.
LOG_LINE = """
insert into ingest_log
select coalesce(max(file_id), 0) + 1, $file, $sha, $kind, $day, $enc, $read, $loaded, $rejected, $skipped, $status,
       $message, $at, $sender, $sheet
from ingest_log
returning file_id
"""


def log_outcome(con, outcome: FileOutcome, sha: str, encoding: str, skipped: int, sender: str | None = None,
                sheet: str | None = None) -> int:
    """Write the file's line in the ingest log; its file_id, which its rows and rejects carry."""
    return con.execute(
        LOG_LINE,
        {
            "file": outcome.file, "sha": sha, "kind": outcome.kind, "day": outcome.day,
            "enc": encoding, "read": outcome.rows_read, "loaded": outcome.rows_loaded,
            "rejected": outcome.rows_rejected, "skipped": skipped, "status": outcome.status,
            "message": mask_ids(outcome.message), "at": datetime.now().replace(microsecond=0),
            "sender": sender, "sheet": sheet,
        },
    ).fetchone()[0]


NEXT_FILE_ID = "select coalesce(max(file_id), 0) + 1 from ingest_log"
# Many files' lines at once, one list per column, zipped by unnest.
LOG_LINES = """
insert into ingest_log
select unnest($ids::bigint[]), unnest($files::varchar[]), unnest($shas::varchar[]), $kind, unnest($days::date[]),
       unnest($encodings::varchar[]), unnest($read::bigint[]), unnest($loaded::bigint[]), unnest($rejected::bigint[]),
       unnest($skipped::bigint[]), 'loaded', unnest($messages::varchar[]), $at, unnest($senders::varchar[]),
       unnest($sheets::varchar[])
"""
SERVE_FILES = """
insert into loaded_files
select $kind, unnest($days::date[]), unnest($files::varchar[]), unnest($shas::varchar[]), unnest($ids::bigint[]),
       unnest($senders::varchar[]), unnest($names::varchar[]), unnest($scopes::varchar[]), unnest($sheets::varchar[]),
       unnest($received::timestamp[])
"""


@dataclass
class Waiting:
    """A loaded file whose log line, rows and serving entry are written with the other files of its
    batch (batches.store_waiting): one whose (kind, day, sender) nothing served, so nothing is
    replaced, and whose rows are in csv_batch, without rejects."""

    kind: FileKind
    day: date
    outcome: FileOutcome
    sha: str
    parsed: ParsedFile
    sender: Sender
    received_at: datetime | None
    sheet: str | None


def log_loaded(con, waiting: list[Waiting]) -> list[int]:
    """The files' lines in the ingest log, in their order; their file_ids."""
    first = con.execute(NEXT_FILE_ID).fetchone()[0]
    ids = list(range(first, first + len(waiting)))
    con.execute(LOG_LINES, {
        "ids": ids, "files": [w.outcome.file for w in waiting], "shas": [w.sha for w in waiting],
        "kind": waiting[0].kind.kind, "days": [w.day for w in waiting],
        "encodings": [w.parsed.encoding for w in waiting], "read": [w.outcome.rows_read for w in waiting],
        "loaded": [w.outcome.rows_loaded for w in waiting], "rejected": [w.outcome.rows_rejected for w in waiting],
        "skipped": [w.parsed.rows_skipped for w in waiting], "messages": [mask_ids(w.outcome.message) for w in waiting],
        "at": datetime.now().replace(microsecond=0), "senders": [w.sender.key for w in waiting],
        "sheets": [w.sheet for w in waiting]})
    return ids


def serve(con, waiting: list[Waiting], ids: list[int]) -> None:
    """Name each file as serving its (kind, day, sender), under its file_id."""
    con.execute(SERVE_FILES, {
        "kind": waiting[0].kind.kind, "days": [w.day for w in waiting], "files": [w.outcome.file for w in waiting],
        "shas": [w.sha for w in waiting], "ids": ids, "senders": [w.sender.key for w in waiting],
        "names": [w.sender.name for w in waiting], "scopes": [w.sender.scope for w in waiting],
        "sheets": [w.sheet for w in waiting], "received": [w.received_at for w in waiting]})


class RowsLost(Exception):
    """Fewer or more rows went into a staging table than the parse counted: the ingest stops, and
    the snapshot serving keeps serving."""


def insert_rows(con, statement: str, params: dict, expected: int, files: str) -> None:
    """Run an INSERT_PART or INSERT_ROWS statement; RowsLost unless it wrote the rows counted."""
    (written,) = con.execute(statement, params).fetchone()
    if written != expected:
        raise RowsLost(f"{files}: {expected:,} rows loaded, but {written:,} written to the snapshot")


def _forget_served(con, kind: str, day: date | None, sender: str | None) -> None:
    """The file serving (kind, day, sender) is no longer named, nor are its rejects."""
    served = {"kind": kind, "day": day, "sender": sender}
    for (file_id,) in con.execute(SERVED, served).fetchall():
        con.execute(FORGET_REJECTS, {"file_id": file_id})
    con.execute(FORGET_SERVED, served)


def forget_part(con, kind: str, day: date, sender: str) -> None:
    if kind == partitions.KIND:
        partitions.forget(con, day, sender)
    else:
        con.execute(DELETE_PART[kind], {"day": day, "sender": sender})
    _forget_served(con, kind, day, sender)


def store_file(con, kind: FileKind, day: date | None, parsed: ParsedFile, file_id: int, file: str, sha: str,
               db_path: Path, sender: Sender | None = None, received_at: datetime | None = None,
               sheet: str | None = None, staged: partitions.Staged | None = None, fresh: bool = False) -> None:
    """Replace what the snapshot holds for (kind, day, sender) with this file's good rows and stored
    rejects (the first parse.STORED_REJECTS: a few, already masked, so a list is fine here). The
    testing records' rows come as the Parquet file the parse staged. fresh: the snapshot holds
    nothing for (kind, day, sender), so there is nothing to delete first."""
    key = sender.key if sender else None
    if day is None:
        _forget_served(con, kind.kind, None, None)
        con.execute(DELETE_ALL[kind.kind])
        parsed.rows.insert_into(kind.kind)
    else:
        if not fresh:
            forget_part(con, kind.kind, day, key)
        if kind.kind == partitions.KIND:
            partitions.store(con, staged, key, file_id, sha, db_path)
        else:
            insert_rows(con, INSERT_PART[kind.kind], {"day": day, "sender": key, "scope": sender.scope,
                                                      "file_id": file_id, "rows": parsed.rows.sql_query()},
                        parsed.rows_loaded, file)
    if parsed.rejects:
        con.execute(INSERT_REJECTS, {
            "file_id": file_id, "file": file, "kind": kind.kind, "day": day, "sheet": sheet,
            "lines": [r.line for r in parsed.rejects], "columns": [r.column for r in parsed.rejects],
            "reasons": [r.reason for r in parsed.rejects], "values": [r.value for r in parsed.rejects]})
    con.execute("insert into loaded_files values ($kind, $day, $file, $sha, $id, $sender, $name, $scope, $sheet,"
                " $received)", {"kind": kind.kind, "day": day, "file": file, "sha": sha, "id": file_id, "sender": key,
                                "name": sender.name if sender else None, "scope": sender.scope if sender else None,
                                "sheet": sheet, "received": received_at})


def store_boundaries(con, path: Path) -> FileOutcome | None:
    """Replace the boundaries with the file's features, as given; the map fills a missing name or
    level from areas.csv. Returns a note naming the features whose area_code matches no area (nor
    the district the streets belong to), or None when every feature matches."""
    with open_regular(path) as f:
        features = json.loads(f.read().decode("utf-8"))["features"]
    properties = [f.get("properties") or {} for f in features]
    con.execute("delete from boundaries")
    codes = [_code_text(p.get("area_code")) for p in properties]
    if features:
        con.execute(INSERT_BOUNDARIES, {
            "codes": codes, "names": [_text_or_none(p.get("name")) for p in properties],
            "levels": [_text_or_none(p.get("level")) for p in properties],
            "parents": [_text_or_none(p.get("parent_code")) for p in properties],
            "geometries": [json.dumps(f.get("geometry"), separators=(",", ":")) for f in features]})
    known = {code for (code,) in con.execute("select area_code from areas union select parent_code from areas"
                                             " where parent_code is not null").fetchall()}
    unmatched = [code for code in codes if code not in known]
    if not unmatched:
        return None
    shown = ", ".join(code or "(none)" for code in unmatched[:UNMATCHED_SHOWN])
    more = f" and {len(unmatched) - UNMATCHED_SHOWN} more" if len(unmatched) > UNMATCHED_SHOWN else ""
    return FileOutcome("boundaries", None, str(path.name), "note", message=(
        f"{len(unmatched)} of {len(codes)} features match no area_code in areas.csv: {shown}{more}; "
        "one without a name and level of its own is not drawn"))


# How many unmatched codes the note lists; the count says how many there are.
UNMATCHED_SHOWN = 10


def _text_or_none(value) -> str | None:
    return None if value is None else str(value)


def _code_text(value) -> str:
    """An area code as areas.csv writes it: GIS tools export 410103001 as a number, or as 410103001.0."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def forget_removed(con, present: set[tuple[str, date | None, str]]) -> list[FileOutcome]:
    """A day folder or file that disappeared takes its rows with it: the snapshot mirrors the data.
    present holds (kind, day, sender) still there."""
    outcomes = []
    served = "select kind, day, sender, file from loaded_files where day is not null"
    for kind, day, sender, file in con.execute(served).fetchall():
        if (kind, day, sender) not in present:
            forget_part(con, kind, day, sender)
            outcome = FileOutcome(kind, day, file, "removed")
            log_outcome(con, outcome, "", "", 0, sender)
            outcomes.append(outcome)
    return outcomes
