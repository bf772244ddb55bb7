"""Turn a data directory of daily exports into a DuckDB snapshot, atomically and incrementally.

The new snapshot is built in a private folder beside the old one, closed, then os.replace'd
over it: a reader opening the snapshot read-only sees the old data or the new, never half,
and a crash mid-ingest leaves the old snapshot serving. Files whose sha256 is unchanged since
the previous snapshot are not parsed again.

Whoever can write into the data directory must not be able to make the ingest read or write
elsewhere: symbolic links there are reported, never followed, and the files the ingest
creates are opened so that a link planted in their place is not written through.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.data.contract import AREAS, EXPORT_KINDS, REFERENCE_KINDS, SITES, FileKind
from dashboard.data.ids import key_fingerprint, mask_ids
from dashboard.data.parse import (
    SYMLINK_NOT_READ,
    ParsedFile,
    UnusableFile,
    open_regular,
    parse_file,
    pseudonym_column,
)
from dashboard.settings import Settings

SCHEMA_SQL = Path(__file__).parent / "schema.sql"
# One file per mart, run in the order of their numeric prefixes: a mart reads only the
# staging tables and the marts before it.
MARTS_DIR = Path(__file__).parent / "marts"
DAY_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Bump when schema.sql or the parsing rules change: an old snapshot is then rebuilt from scratch.
SCHEMA_VERSION = "1"
# The snapshot and its status file: readable by the ingest's group (a server run under another
# user of that group), never by others. The lock and the key are the owner's alone.
SNAPSHOT_MODE = 0o640
SNAPSHOT_FOLDER_MODE = 0o750
LOCK_MODE = 0o600
BUILT_SNAPSHOT = "snapshot.duckdb"
REFERENCE_LABELS = {kind.kind for kind in REFERENCE_KINDS} | {"boundaries", "reference"}

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
    status: str  # loaded | unchanged | failed | removed | missing | rebuilt
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str = ""

    def __post_init__(self):
        self.message = mask_ids(self.message)


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
    with open_regular(path) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class Inputs:
    """What an ingest reads from a data directory, and the symbolic links it refuses to read."""

    files: list[tuple[FileKind, date | None, Path]] = field(default_factory=list)
    boundaries: Path | None = None
    # (kind, day, path); kind is "" for a whole day folder, "exports" or "reference" for those.
    links: list[tuple[str, date | None, Path]] = field(default_factory=list)

    def paths(self) -> list[Path]:
        return ([path for _, _, path in self.files] + [path for _, _, path in self.links]
                + ([self.boundaries] if self.boundaries else []))


def discover(data_dir: Path) -> Inputs:
    """Every file of the contract in the data directory, reference files first.

    A symbolic link anywhere below the data directory could point at any file of the machine,
    and its rows would reach every screen: it is listed, never read.
    """
    found = Inputs()
    reference = data_dir / "reference"
    if reference.is_symlink():
        found.links.append(("reference", None, reference))
    else:
        for kind in REFERENCE_KINDS:
            path = reference / kind.filename
            if path.is_symlink():
                found.links.append((kind.kind, None, path))
            elif path.exists():
                found.files.append((kind, None, path))
        boundaries = reference / "boundaries.geojson"
        if boundaries.is_symlink():
            found.links.append(("boundaries", None, boundaries))
        elif boundaries.exists():
            found.boundaries = boundaries
    exports = data_dir / "exports"
    if exports.is_symlink():
        found.links.append(("exports", None, exports))
        return found
    folders = sorted(p for p in exports.iterdir() if DAY_FOLDER.match(p.name)) if exports.is_dir() else []
    for folder in folders:
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        if folder.is_symlink():
            found.links.append(("", day, folder))
            continue
        if not folder.is_dir():
            continue
        for kind in EXPORT_KINDS:
            path = folder / kind.filename
            if path.is_symlink():
                found.links.append((kind.kind, day, path))
            elif path.exists():
                found.files.append((kind, day, path))
    return found


def _open_lock(lock_path: Path) -> int:
    try:
        return os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, LOCK_MODE)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise OSError(f"{lock_path}: the lock file is a {SYMLINK_NOT_READ}; remove it and run again") from None
        raise


def _fresh_building_folder(db_path: Path) -> Path:
    """<db>.building as a new folder only this user can enter: DuckDB creates the snapshot and
    its .wal inside, where nobody else can plant a link for it to write through."""
    building = db_path.with_name(db_path.name + ".building")
    if building.is_symlink() or building.is_file():
        building.unlink()  # removes a planted link itself, never what it points to
    elif building.is_dir():
        shutil.rmtree(building)  # left by a killed ingest
    # Earlier versions built <db>.building as a file, with its .wal beside it.
    building.with_name(building.name + ".wal").unlink(missing_ok=True)
    building.mkdir(mode=0o700)
    return building


def _copy_snapshot(db_path: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, SNAPSHOT_MODE)
    with open(db_path, "rb") as source, os.fdopen(fd, "wb") as copy:
        shutil.copyfileobj(source, copy, 1 << 20)


def _connect_building(db_path: Path, id_key: bytes) -> tuple[duckdb.DuckDBPyConnection, Path, str]:
    """A read-write connection to a copy of the snapshot, to be swapped in when done, and why it
    was started from scratch instead ('' when it was not).

    Pseudonyms made under two keys must never meet in one snapshot, or one person becomes two:
    a snapshot made under another key (or under an unknown one) is rebuilt, every file re-read.
    """
    building = _fresh_building_folder(db_path) / BUILT_SNAPSHOT
    fingerprint_now = key_fingerprint(id_key)
    start_over = ""
    if db_path.exists():
        _copy_snapshot(db_path, building)
        con = duckdb.connect(str(building))
        try:
            meta = dict(con.execute("select key, value from meta").fetchall())
        except duckdb.CatalogException:
            meta = {}
        if meta.get("schema_version") != SCHEMA_VERSION:
            start_over = "snapshot format changed: rebuilt from scratch, every file re-read"
        elif "id_key_fingerprint" not in meta:
            start_over = "snapshot made before ID key fingerprints: rebuilt under the current key, every file re-read"
        elif meta["id_key_fingerprint"] != fingerprint_now:
            start_over = ("ID key changed: snapshot rebuilt from scratch, every file re-read;"
                          " every person has a new pseudonym")
        if start_over:
            con.close()
            building.unlink()
    if not building.exists():
        con = duckdb.connect(str(building))
    con.execute(SCHEMA_SQL.read_text())
    con.execute("delete from feeds")
    for position, kind in enumerate(EXPORT_KINDS):
        con.execute("insert into feeds values ($kind, $position, $optional)",
                    {"kind": kind.kind, "position": position, "optional": kind.optional})
    con.execute("insert or replace into meta values ('schema_version', $v)", {"v": SCHEMA_VERSION})
    con.execute("insert or replace into meta values ('id_key_fingerprint', $f)", {"f": fingerprint_now})
    return con, building, start_over


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
            "message": mask_ids(outcome.message), "at": datetime.now().replace(microsecond=0),
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
    with open_regular(path) as f:
        features = json.loads(f.read().decode("utf-8"))["features"]
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
    id_key = settings.id_key()
    db_path.parent.mkdir(parents=True, exist_ok=True, mode=SNAPSHOT_FOLDER_MODE)
    result = IngestResult(db_path)
    lock = _open_lock(db_path.with_name(db_path.name + ".lock"))
    try:
        # One ingest at a time per snapshot: a watcher and a manual run must not interleave.
        fcntl.flock(lock, fcntl.LOCK_EX)
        con, building, start_over = _connect_building(db_path, id_key)
        if start_over:
            result.outcomes.append(FileOutcome("snapshot", None, db_path.name, "rebuilt", message=start_over))
        try:
            _ingest_into(con, data_dir, id_key, result)
            build_marts(con)
            con.execute("insert or replace into meta values ('built_at', $at)",
                        {"at": datetime.now().isoformat(timespec="seconds")})
            con.execute("checkpoint")
        finally:
            con.close()
        os.chmod(building, SNAPSHOT_MODE)
        os.replace(building, db_path)
        shutil.rmtree(building.parent)
    finally:
        os.close(lock)
    result.outcomes.extend(_leftovers(settings))
    return result


def mart_files() -> list[Path]:
    return sorted(MARTS_DIR.glob("*.sql"))


def build_marts(con: duckdb.DuckDBPyConnection) -> None:
    for path in mart_files():
        con.execute(path.read_text())


def _leftovers(settings: Settings) -> list[FileOutcome]:
    """Files earlier versions left in the data directory, which should not travel with it."""
    notes = []
    for old_key in settings.old_id_key_files:
        notes.append(FileOutcome(
            "id_key", None, str(old_key), "note",
            message=f"old ID key file, no longer read (the key comes from {settings.id_key_source()}):"
                    " back that up, then delete this copy"))
    old_snapshot = settings.data_dir / "snapshot.duckdb"
    if old_snapshot != settings.db_path and old_snapshot.exists():
        notes.append(FileOutcome(
            "snapshot", None, str(old_snapshot), "note",
            message=f"no longer used (the snapshot is {settings.db_path}): delete it and its .lock/.status.json"))
    return notes


def _ingest_into(con, data_dir: Path, id_key: bytes, result: IngestResult) -> None:
    loaded = {
        (kind, day): sha
        for kind, day, sha in con.execute("select kind, day, sha256 from loaded_files").fetchall()
    }
    inputs = discover(data_dir)
    files = inputs.files
    linked = {kind for kind, _, _ in inputs.links}
    missing_reference = [
        k.filename + (f" ({SYMLINK_NOT_READ})" if k.kind in linked or "reference" in linked else "")
        for k in REFERENCE_KINDS if not any(f[0] is k for f in files)
    ]
    if missing_reference and not loaded:
        raise FileNotFoundError(f"{data_dir / 'reference'}: missing {', '.join(missing_reference)}")

    # A link is reported like an unusable file: what the snapshot held for it stays.
    present = {(kind.kind, day) for kind, day, _ in files}
    for kind, day, path in inputs.links:
        outcome = FileOutcome(kind, day, str(path.relative_to(data_dir)), "failed", message=f"{path}: {SYMLINK_NOT_READ}")
        _log(con, outcome, "", "", 0)
        result.outcomes.append(outcome)
        present |= {(k, d) for k, d in loaded if d is not None and (
            kind == "exports" or (d == day and kind in ("", k)))}

    reference_changed = False
    known = _known_codes(con)
    for kind, day, path in files:
        file = str(path.relative_to(data_dir))
        sha = ""
        try:
            sha = sha256_of(path)
            # Export rows were checked against the reference codes of their time: new codes
            # mean every export is checked again.
            if loaded.get((kind.kind, day)) == sha and not (reference_changed and day is not None):
                result.outcomes.append(FileOutcome(kind.kind, day, file, "unchanged"))
                continue
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

    if inputs.boundaries:
        _store_boundaries(con, inputs.boundaries)
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
    """Replace the status file whole. The temporary file gets a fresh random name (mkstemp), so
    a link planted beside the snapshot cannot redirect the write, and os.replace swaps a link at
    the status path itself for the file without writing through it."""
    status = {"attempted_at": datetime.now().isoformat(timespec="seconds"), "ok": ok, "message": mask_ids(message)}
    target = status_path(db_path)
    target.parent.mkdir(parents=True, exist_ok=True, mode=SNAPSHOT_FOLDER_MODE)
    fd, temporary = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, SNAPSHOT_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(status, ensure_ascii=False))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_status(db_path: Path) -> dict | None:
    try:
        fd = os.open(status_path(db_path), os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, encoding="utf-8") as f:
            return json.loads(f.read())
    except (OSError, json.JSONDecodeError):
        return None


def fingerprint(data_dir: Path) -> tuple:
    """Cheap to take every few seconds: names, sizes and mtimes of the ingest's inputs, no reading.

    Only the inputs count. The snapshot, its lock, status file and key may well sit in the data
    directory, and when they counted, every ingest changed the fingerprint and so triggered the next.
    """
    entries = []
    for path in discover(data_dir).paths():
        try:
            facts = path.lstat()
        except FileNotFoundError:
            continue  # removed since it was listed: the next poll sees it gone
        entries.append((str(path.relative_to(data_dir)), facts.st_size, facts.st_mtime_ns, facts.st_mode))
    return tuple(sorted(entries))


def watch(settings: Settings, interval: float, report=print, rounds: int | None = None) -> None:
    """Ingest whenever the data directory changes; keeps going when one ingest fails."""
    last = None
    done = 0
    while rounds is None or done < rounds:
        try:
            current = fingerprint(settings.data_dir)
            if current != last:
                last = current
                report(summary_table(ingest(settings)))
        except Exception as error:  # a watcher must outlive any one bad ingest; ingest() logged it
            report(mask_ids(f"ERROR ingest failed: {error}"))
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
    """Per day, per kind: what happened to each file, for the terminal (and cron's mail), IDs masked."""
    lines = [f"{'day':<10}  {'kind':<16} {'status':<9} {'read':>9} {'loaded':>9} {'rejected':>9}  note"]
    for o in sorted(result.outcomes, key=lambda o: (str(o.day or ""), o.kind)):
        day = o.day or ("reference" if o.kind in REFERENCE_LABELS else "-")
        lines.append(
            f"{str(day):<10}  {o.kind:<16} {o.status:<9} {o.rows_read:>9,} {o.rows_loaded:>9,}"
            f" {o.rows_rejected:>9,}  {o.message}"
        )
    return mask_ids("\n".join(lines))
