"""Corrections between re-exports: when a re-export replaces a day's file, what the replaced file
said and what its replacement says, as figures only.

The ingest calls before_replacing() just before it stores a file and record() just after; a
(kind, day) seen for the first time, or one stored again with the same bytes (the reference
codes changed), is no correction and records nothing. The superseded rows are deleted as
before: only their figures are kept, so no person's row outlives its file.

Before either, hold_reason() asks whether the re-export is to be applied at all: a copy cut
short (half the bytes, a header only) looks like a re-export with far fewer rows, and would
replace a full day with no sign. Such a file is held, the file it would replace keeps serving,
until the operator accepts that very file (by its sha256).
"""

from __future__ import annotations

import json
from datetime import date, datetime

# The day's headline figures of one sender's export file, from its rows in the staging table alone.
# Static statements, one per kind: table names are never spliced into SQL. Staff are counted
# at noon, the report's default instant.
FIGURES_SQL = {
    # Per-person testing rows live in Parquet, a file per sender and day.
    "testing_records": """
        select count(*) as rows,
            count(*) filter (where sampled_at::date = $day) as samples_on_day,
            count(*) filter (where sampled_at::date = $day and result = 'positive') as positives_on_day,
        from read_parquet($files)""",
    "control_zones": """
        select count(*) as rows,
            count(*) filter (where level = 'sealed' and active) as sealed,
            count(*) filter (where level = 'controlled' and active) as controlled,
            count(*) filter (where level = 'precaution' and active) as precaution,
        from (select *, in_force_on(started_on, lifted_on, $day) as active,
              from control_zones_parts where export_day = $day and sender = $sender)""",
    "isolation": """
        select count(*) as rows,
            count(*) filter (where kind = 'home' and active) as home,
            count(*) filter (where kind = 'home_monitoring' and active) as home_monitoring,
            count(*) filter (where kind = 'centralized' and active) as centralized,
        from (select *, in_force_on(started_on, ended_on, $day) as active,
              from isolation_parts where export_day = $day and sender = $sender)""",
    "shifts": """
        select count(*) as rows,
            count(*) filter (where on_duty_at(starts_at, ends_at, status, $day + interval 12 hour)) as staff_on_duty,
        from shifts_parts where export_day = $day and sender = $sender""",
    "checkpoint_log": "select count(*) as rows from checkpoint_log_parts where export_day = $day and sender = $sender",
    "door_visits": "select count(*) as rows from door_visits_parts where export_day = $day and sender = $sender",
}
# Figures kept as one mapping, under the report's key for them.
GROUPED = {"control_zones": "zones_active", "isolation": "isolation_active"}


SENDER_FILES = "select file from partitions where kind = 'testing_records' and day = $day and sender = $sender"


def day_figures(con, kind: str, day: date, sender: str) -> dict:
    """{"rows": n, <figure>: value}: what the (kind, day, sender) held in the staging table right now."""
    if kind == "testing_records":
        # Set by the ingest for its connection (build._ingest_into): <db>.parts/.
        folder = con.execute("select getvariable('parts_folder')").fetchone()[0]
        files = [f"{folder}/{file}" for (file,) in con.execute(SENDER_FILES, {"day": day, "sender": sender}).fetchall()]
        if not files:
            return {"rows": 0, "samples_on_day": 0, "positives_on_day": 0}
        cursor = con.execute(FIGURES_SQL[kind], {"day": day, "files": files})
    else:
        cursor = con.execute(FIGURES_SQL[kind], {"day": day, "sender": sender})
    names = [column[0] for column in cursor.description]
    values = dict(zip(names, (int(v) for v in cursor.fetchone())))
    figures = {"rows": values.pop("rows")}
    if kind in GROUPED:
        figures[GROUPED[kind]] = values
    else:
        figures.update(values)
    return figures


def _replaces(con, kind: str, day: date | None, sender: str | None, sha: str) -> bool:
    """Whether a file of these bytes is a re-send: another file of its sender serves its export day now."""
    if day is None or kind not in FIGURES_SQL:
        return False
    served = con.execute("select sha256 from loaded_files where kind = $kind and day = $day and sender = $sender",
                         {"kind": kind, "day": day, "sender": sender}).fetchone()
    return served is not None and served[0] != sha


def before_replacing(con, kind: str, day: date | None, sender: str | None, sha: str) -> dict | None:
    """The figures a re-send is about to replace, or None when this is no re-send."""
    return day_figures(con, kind, day, sender) if _replaces(con, kind, day, sender, sha) else None


def record(con, kind: str, day: date | None, sender: str | None, before: dict | None) -> None:
    """Keep the replaced file's figures beside its replacement's; nothing when before is None."""
    if before is None:
        return
    con.execute("insert into corrections values ($kind, $day, $at, $before, $after, $sender)", {
        "kind": kind, "day": day, "at": datetime.now().replace(microsecond=0),
        "before": json.dumps(before), "after": json.dumps(day_figures(con, kind, day, sender)), "sender": sender,
    })


def from_rows(frame) -> list[dict]:
    """health/corrections rows as the report's entries: kind, day, sender, ingested_at, before, after."""
    return [{"kind": row.kind, "day": row.day.date().isoformat(), "sender": row.sender,
             "ingested_at": row.ingested_at.isoformat(timespec="seconds"),
             "before": json.loads(row.before), "after": json.loads(row.after)}
            for row in frame.itertuples(index=False)]


SERVING_ROWS = """
select log.rows_read, log.rows_loaded,
from loaded_files as served
join ingest_log as log using (file_id)
where served.kind = $kind and served.day = $day and served.sender = $sender
"""
ACCEPTED = "select kind, day, sha256 from accepted_files"
ACCEPT = "insert into accepted_files values ($kind, $day, $file, $sha, $at)"
HOLD = "insert into held_files values ($kind, $day, $file, $sha, $read, $loaded, $served_read, $served_loaded, $at)"
CLEAR_HOLDS = "delete from held_files"


def serving_rows(con, kind: str, day: date | None, sender: str | None, sha: str) -> tuple[int, int] | None:
    """(rows read, rows loaded) of the file a re-send would replace; None when it replaces none."""
    if not _replaces(con, kind, day, sender, sha):
        return None
    row = con.execute(SERVING_ROWS, {"kind": kind, "day": day, "sender": sender}).fetchone()
    return (int(row[0] or 0), int(row[1] or 0)) if row else None


def _drop(before: int, after: int) -> float:
    return (before - after) / before if before > 0 else 0.0


def hold_reason(serving: tuple[int, int] | None, rows_read: int, rows_loaded: int, max_drop: float) -> str:
    """Why a re-export is held ('' when it is applied): no data row where the day had some, or
    more than max_drop fewer rows read or loaded than the file serving the day. A first file for
    a (kind, day) replaces nothing and is never held."""
    if serving is None:
        return ""
    served_read, served_loaded = serving
    if rows_read == 0 and (served_read or served_loaded):
        return f"header only, no data row, where the file serving the day has {served_loaded:,} rows"
    drop = max(_drop(served_read, rows_read), _drop(served_loaded, rows_loaded))
    if drop > max_drop:
        return (f"{rows_loaded:,} rows loaded ({rows_read:,} read) against {served_loaded:,} ({served_read:,} read)"
                f" in the file serving the day: {drop:.0%} fewer, over the {max_drop:.0%} a re-export may drop")
    return ""


def accepted(con) -> set[tuple[str, date, str]]:
    return {(kind, day, sha) for kind, day, sha in con.execute(ACCEPTED).fetchall()}


def accept(con, kind: str, day: date, file: str, sha: str) -> None:
    con.execute(ACCEPT, {"kind": kind, "day": day, "file": file, "sha": sha,
                         "at": datetime.now().replace(microsecond=0)})


def clear_holds(con) -> None:
    """At the start of an ingest: a file still held is held again as it is read."""
    con.execute(CLEAR_HOLDS)


def hold(con, kind: str, day: date, file: str, sha: str, rows_read: int, rows_loaded: int,
         serving: tuple[int, int]) -> None:
    con.execute(HOLD, {"kind": kind, "day": day, "file": file, "sha": sha, "read": rows_read,
                       "loaded": rows_loaded, "served_read": serving[0], "served_loaded": serving[1],
                       "at": datetime.now().replace(microsecond=0)})
