"""Turn a data directory of daily exports into a DuckDB snapshot, atomically and incrementally.

The new snapshot is built in a temporary file beside the old one, closed, then os.replace'd
over it: a reader opening the snapshot read-only sees the old data or the new, never half,
and a crash mid-ingest leaves the old snapshot serving. Files whose sha256 is unchanged since
the previous snapshot are not parsed again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.data.contract import AREAS, EXPORT_KINDS, REFERENCE_KINDS, SITES, FileKind
from dashboard.data.parse import ParsedFile, UnusableFile, parse_file, pseudonym_column
from dashboard.settings import Settings

SCHEMA_SQL = Path(__file__).parent / "schema.sql"
# One file per mart, run in the order of their numeric prefixes: a mart reads only the
# staging tables and the marts before it.
MARTS_DIR = Path(__file__).parent / "marts"
DAY_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Bump when schema.sql or the parsing rules change: an old snapshot is then rebuilt from scratch.
SCHEMA_VERSION = "1"

# Static statements, one per staging table: table names are never spliced into SQL.
DELETE_DAY = {
    "control_zones": "delete from control_zones where export_day = $day",
    "testing_records": "delete from testing_records where export_day = $day",
    "isolation": "delete from isolation where export_day = $day",
    "shifts": "delete from shifts where export_day = $day",
    "checkpoint_log": "delete from checkpoint_log where export_day = $day",
    "door_visits": "delete from door_visits where export_day = $day",
}
DELETE_ALL = {
    "areas": "delete from areas",
    "sites": "delete from sites",
}


@dataclass
class FileOutcome:
    kind: str
    day: date | None
    file: str
    status: str  # loaded | unchanged | failed | removed
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str = ""


@dataclass
class IngestResult:
    db_path: Path
    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def discover(data_dir: Path) -> list[tuple[FileKind, date | None, Path]]:
    """Every file of the contract in the data directory, reference files first."""
    found = []
    for kind in REFERENCE_KINDS:
        path = data_dir / "reference" / kind.filename
        if path.exists():
            found.append((kind, None, path))
    exports = data_dir / "exports"
    days = sorted(p for p in exports.iterdir() if p.is_dir() and DAY_FOLDER.match(p.name)) if exports.is_dir() else []
    for folder in days:
        for kind in EXPORT_KINDS:
            path = folder / kind.filename
            if path.exists():
                found.append((kind, date.fromisoformat(folder.name), path))
    return found


def _connect_building(db_path: Path) -> tuple[duckdb.DuckDBPyConnection, Path]:
    """A read-write connection to a fresh copy of the snapshot, to be swapped in when done."""
    building = db_path.with_name(db_path.name + ".building")
    building.unlink(missing_ok=True)
    building.with_name(building.name + ".wal").unlink(missing_ok=True)
    if db_path.exists():
        shutil.copyfile(db_path, building)
    con = duckdb.connect(str(building))
    version = None
    try:
        version = con.execute("select value from meta where key = 'schema_version'").fetchone()
    except duckdb.CatalogException:
        pass
    if version is None or version[0] != SCHEMA_VERSION:
        con.close()
        building.unlink()
        con = duckdb.connect(str(building))
    con.execute(SCHEMA_SQL.read_text())
    con.execute("delete from feeds")
    for position, kind in enumerate(EXPORT_KINDS):
        con.execute("insert into feeds values ($kind, $position, $optional)",
                    {"kind": kind.kind, "position": position, "optional": kind.optional})
    con.execute(
        "insert or replace into meta values ('schema_version', $v)", {"v": SCHEMA_VERSION}
    )
    return con, building


def _known_codes(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    return {
        "area": {r[0] for r in con.execute("select area_code from areas").fetchall()},
        "site": {r[0] for r in con.execute("select site_id from sites").fetchall()},
    }


def _next_file_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select coalesce(max(file_id), 0) + 1 from ingest_log").fetchone()[0]


def _log(con, outcome: FileOutcome, sha: str, encoding: str, skipped: int) -> int:
    file_id = _next_file_id(con)
    con.execute(
        "insert into ingest_log values ($id, $file, $sha, $kind, $day, $enc, $read, $loaded, $rejected,"
        " $skipped, $status, $message, $at)",
        {
            "id": file_id, "file": outcome.file, "sha": sha, "kind": outcome.kind, "day": outcome.day,
            "enc": encoding, "read": outcome.rows_read, "loaded": outcome.rows_loaded,
            "rejected": outcome.rows_rejected, "skipped": skipped, "status": outcome.status,
            "message": outcome.message, "at": datetime.now().replace(microsecond=0),
        },
    )
    return file_id


def _store(con, kind: FileKind, day: date | None, parsed: ParsedFile, file_id: int, file: str, sha: str) -> None:
    """Replace what the snapshot holds for (kind, day) with this file's good rows and rejects."""
    if day is None:
        con.execute(DELETE_ALL[kind.kind])
    else:
        con.execute(DELETE_DAY[kind.kind], {"day": day})
    rows = parsed.rows
    if day is not None:
        rows.insert(0, "export_day", pd.Timestamp(day))
    columns = [pseudonym_column(c.name) if c.type == "person_id" else c.name for c in kind.columns]
    rows = rows[(["export_day"] if day is not None else []) + columns]
    if len(rows):
        con.from_df(rows).insert_into(kind.kind)
    con.execute("delete from rejects where kind = $kind and day is not distinct from $day",
                {"kind": kind.kind, "day": day})
    if parsed.rejects:
        rejects = pd.DataFrame(
            {
                "file_id": file_id, "file": file, "kind": kind.kind, "day": pd.Timestamp(day) if day else None,
                "line": [r.line for r in parsed.rejects],
                "column": [r.column for r in parsed.rejects],
                "reason": [r.reason for r in parsed.rejects],
                "value": [r.value for r in parsed.rejects],
            }
        )
        con.from_df(rejects).insert_into("rejects")
    con.execute("delete from loaded_files where kind = $kind and day is not distinct from $day",
                {"kind": kind.kind, "day": day})
    con.execute("insert into loaded_files values ($kind, $day, $file, $sha, $id)",
                {"kind": kind.kind, "day": day, "file": file, "sha": sha, "id": file_id})


def _store_boundaries(con, path: Path) -> None:
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    con.execute("delete from boundaries")
    frame = pd.DataFrame(
        {
            "area_code": [str(f["properties"].get("area_code", "")) for f in features],
            "name": [f["properties"].get("name") for f in features],
            "level": [f["properties"].get("level") for f in features],
            "parent_code": [f["properties"].get("parent_code") for f in features],
            "geometry": [json.dumps(f["geometry"], separators=(",", ":")) for f in features],
        }
    )
    if len(frame):
        con.from_df(frame).insert_into("boundaries")


def _forget_removed(con, present: set[tuple[str, date | None]]) -> list[FileOutcome]:
    """A day folder or file that disappeared takes its rows with it: the snapshot mirrors the data."""
    outcomes = []
    for kind, day, file in con.execute("select kind, day, file from loaded_files where day is not null").fetchall():
        if (kind, day) not in present:
            con.execute(DELETE_DAY[kind], {"day": day})
            con.execute("delete from rejects where kind = $kind and day = $day", {"kind": kind, "day": day})
            con.execute("delete from loaded_files where kind = $kind and day = $day", {"kind": kind, "day": day})
            outcome = FileOutcome(kind, day, file, "removed")
            _log(con, outcome, "", "", 0)
            outcomes.append(outcome)
    return outcomes


def ingest(settings: Settings) -> IngestResult:
    """Build and swap in a new snapshot; the outcome is also left in <db>.status.json for the screens."""
    try:
        result = _build(settings)
    except Exception as error:
        write_status(settings.db_path, False, f"{type(error).__name__}: {error}")
        raise
    write_status(settings.db_path, result.ok, "; ".join(o.message for o in result.failed))
    return result


def _build(settings: Settings) -> IngestResult:
    data_dir, db_path = settings.data_dir, settings.db_path
    if not data_dir.is_dir():
        raise FileNotFoundError(f"data directory not found: {data_dir}")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    result = IngestResult(db_path)
    with open(db_path.with_name(db_path.name + ".lock"), "w") as lock:
        # One ingest at a time per snapshot: a watcher and a manual run must not interleave.
        fcntl.flock(lock, fcntl.LOCK_EX)
        con, building = _connect_building(db_path)
        try:
            _ingest_into(con, data_dir, settings.id_key(), result)
            build_marts(con)
            con.execute("insert or replace into meta values ('built_at', $at)",
                        {"at": datetime.now().isoformat(timespec="seconds")})
            con.execute("checkpoint")
        finally:
            con.close()
        os.replace(building, db_path)
    return result


def mart_files() -> list[Path]:
    return sorted(MARTS_DIR.glob("*.sql"))


def build_marts(con: duckdb.DuckDBPyConnection) -> None:
    for path in mart_files():
        con.execute(path.read_text())


def _ingest_into(con, data_dir: Path, id_key: bytes, result: IngestResult) -> None:
    loaded = {
        (kind, day): sha
        for kind, day, sha in con.execute("select kind, day, sha256 from loaded_files").fetchall()
    }
    files = discover(data_dir)
    missing_reference = [k.filename for k in REFERENCE_KINDS if not any(f[0] is k for f in files)]
    if missing_reference and not loaded:
        raise FileNotFoundError(f"{data_dir / 'reference'}: missing {', '.join(missing_reference)}")

    reference_changed = False
    known = _known_codes(con)
    for kind, day, path in files:
        file = str(path.relative_to(data_dir))
        sha = sha256_of(path)
        # Export rows were checked against the reference codes of their time: new codes
        # mean every export is checked again.
        if loaded.get((kind.kind, day)) == sha and not (reference_changed and day is not None):
            result.outcomes.append(FileOutcome(kind.kind, day, file, "unchanged"))
            continue
        try:
            parsed = parse_file(path, kind, known, id_key)
        except UnusableFile as error:
            outcome = FileOutcome(kind.kind, day, file, "failed", message=str(error))
            _log(con, outcome, sha, "", 0)
            result.outcomes.append(outcome)
            continue
        outcome = FileOutcome(kind.kind, day, file, "loaded", parsed.rows_read, len(parsed.rows), len(parsed.rejects))
        file_id = _log(con, outcome, sha, parsed.encoding, parsed.rows_skipped)
        _store(con, kind, day, parsed, file_id, file, sha)
        result.outcomes.append(outcome)
        if kind in (AREAS, SITES):
            reference_changed = True
            known = _known_codes(con)

    boundaries = data_dir / "reference" / "boundaries.geojson"
    if boundaries.exists():
        _store_boundaries(con, boundaries)
    present = {(kind.kind, day) for kind, day, _ in files}
    result.outcomes.extend(_forget_removed(con, present))
    for day in sorted({day for _, day, _ in files if day is not None}):
        for kind in EXPORT_KINDS:
            if (kind.kind, day) not in present:
                note = "optional feed, not exported" if kind.optional else "no file: figures for this day are stale"
                result.outcomes.append(FileOutcome(kind.kind, day, "", "missing", message=note))


def status_path(db_path: Path) -> Path:
    """Where the last ingest attempt is recorded, even one that crashed before the swap."""
    return db_path.with_name(db_path.name + ".status.json")


def write_status(db_path: Path, ok: bool, message: str) -> None:
    status = {"attempted_at": datetime.now().isoformat(timespec="seconds"), "ok": ok, "message": message}
    temporary = status_path(db_path).with_suffix(".tmp")
    temporary.write_text(json.dumps(status, ensure_ascii=False))
    os.replace(temporary, status_path(db_path))


def read_status(db_path: Path) -> dict | None:
    try:
        return json.loads(status_path(db_path).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def fingerprint(data_dir: Path) -> tuple:
    """Cheap to take every few seconds: names, sizes and mtimes of every file, no reading."""
    return tuple(sorted(
        (str(p.relative_to(data_dir)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in data_dir.rglob("*.*") if p.is_file()
    ))


def watch(settings: Settings, interval: float, report=print, rounds: int | None = None) -> None:
    """Ingest whenever the data directory changes; keeps going when one ingest fails."""
    last = None
    done = 0
    while rounds is None or done < rounds:
        current = fingerprint(settings.data_dir)
        if current != last:
            try:
                report(summary_table(ingest(settings)))
            except Exception as error:  # a watcher must outlive any one bad ingest; ingest() logged it
                report(f"ERROR ingest failed: {error}")
            last = current
        done += 1
        if rounds is None or done < rounds:
            time.sleep(interval)


def ensure_snapshot(settings: Settings) -> None:
    """First run needs nothing: with no data configured, generate the district demo and ingest it."""
    if settings.db_path.exists():
        return
    if settings.is_demo and not (settings.data_dir / "exports").is_dir():
        from dashboard.demo.generate import generate

        generate(settings.data_dir)
    ingest(settings)


def summary_table(result: IngestResult) -> str:
    """Per day, per kind: what happened to each file, for the terminal."""
    lines = [f"{'day':<10}  {'kind':<16} {'status':<9} {'read':>9} {'loaded':>9} {'rejected':>9}  note"]
    for o in sorted(result.outcomes, key=lambda o: (str(o.day or ""), o.kind)):
        lines.append(
            f"{str(o.day or 'reference'):<10}  {o.kind:<16} {o.status:<9} {o.rows_read:>9,} {o.rows_loaded:>9,}"
            f" {o.rows_rejected:>9,}  {o.message}"
        )
    return "\n".join(lines)
