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
import os
import shutil
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb

from dashboard.data import partitions, vintages
from dashboard.data.contract import AREAS, EXPORT_KINDS, REFERENCE_KINDS, SITES
from dashboard.data.ids import key_fingerprint, mask_ids
from dashboard.data.inputs import discover, fingerprint, sha256_of
from dashboard.data.parse import (
    SYMLINK_NOT_READ,
    UnusableFile,
    drop_parse_tables,
    install_macros,
    parse_file,
)
from dashboard.data.staging import forget_removed, known_codes, log_outcome, store_boundaries, store_file
from dashboard.data.status import (
    SNAPSHOT_FOLDER_MODE,
    SNAPSHOT_MODE,
    FileOutcome,
    IngestResult,
    summary_table,
    write_status,
)
from dashboard.settings import Settings

SCHEMA_SQL = Path(__file__).parent / "schema.sql"
# One file per mart, run in the order of their numeric prefixes: a mart reads only the
# staging tables and the marts before it.
MARTS_DIR = Path(__file__).parent / "marts"
# Bump when schema.sql or the parsing rules change: an old snapshot is then rebuilt from scratch.
SCHEMA_VERSION = "2"
LOCK_MODE = 0o600
BUILT_SNAPSHOT = "snapshot.duckdb"
# DuckDB spills its temp tables to <building>/snapshot.duckdb.tmp beyond this, so a city's
# testing day (twelve million rows) fits a small ingest machine.
MEMORY_LIMIT = "SET memory_limit = '1GB'"
# Told as a first run goes: (stage, done, total), stage "generate" (days) or "ingest" (files).
Progress = Callable[[str, int, int], None]


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
    con.execute(MEMORY_LIMIT)
    con.execute(SCHEMA_SQL.read_text())
    install_macros(con)
    con.execute("delete from feeds")
    for position, kind in enumerate(EXPORT_KINDS):
        con.execute("insert into feeds values ($kind, $position, $optional)",
                    {"kind": kind.kind, "position": position, "optional": kind.optional})
    con.execute("insert or replace into meta values ('schema_version', $v)", {"v": SCHEMA_VERSION})
    con.execute("insert or replace into meta values ('id_key_fingerprint', $f)", {"f": fingerprint_now})
    return con, building, start_over


def ingest(settings: Settings, progress: Progress | None = None, newest_days: int | None = None) -> IngestResult:
    """Build and swap in a new snapshot; the outcome is also left in <db>.status.json for the screens.

    newest_days, for a first run only (no snapshot yet): take just the newest export days, so
    the screens have data while a second, ordinary ingest adds the older days.
    """
    try:
        result = _build(settings, progress, newest_days)
    except Exception as error:
        try:
            write_status(settings.db_path, False, f"{type(error).__name__}: {error}")
        except OSError as status_error:
            raise OSError(f"{error}; and the status file could not be written either: {status_error}") from error
        raise
    write_status(settings.db_path, result.ok, "; ".join(o.message for o in result.failed))
    return result


def _build(settings: Settings, progress: Progress | None, newest_days: int | None) -> IngestResult:
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
        try:
            con, building, start_over = _connect_building(db_path, id_key)
            # A reader that opened the serving snapshot just before the swap may still read
            # the files it names: those are kept one more generation.
            named = partitions.named_files(con)
            if start_over:
                result.outcomes.append(FileOutcome("snapshot", None, db_path.name, "rebuilt", message=start_over))
            try:
                _ingest_into(con, data_dir, id_key, result, db_path, building.parent, progress, newest_days)
                drop_parse_tables(con)
                build_marts(con)
                con.execute("insert or replace into meta values ('built_at', $at)",
                            {"at": datetime.now().isoformat(timespec="seconds")})
                con.execute("checkpoint")
                named |= partitions.named_files(con)
            finally:
                con.close()
            os.chmod(building, SNAPSHOT_MODE)
            os.replace(building, db_path)
            shutil.rmtree(building.parent)
            # Only now is no serving snapshot left that names a replaced day's file.
            partitions.delete_unnamed(db_path, named)
        except Exception:
            # Holding the lock, the building folder is ours: on a full disk its space is what the
            # status file needs.
            shutil.rmtree(db_path.with_name(db_path.name + ".building"), ignore_errors=True)
            raise
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


def _ingest_into(con, data_dir: Path, id_key: bytes, result: IngestResult, db_path: Path, workdir: Path,
                 progress: Progress | None = None, newest_days: int | None = None) -> None:
    loaded = {
        (kind, day): sha
        for kind, day, sha in con.execute("select kind, day, sha256 from loaded_files").fetchall()
    }
    inputs = discover(data_dir)
    files = inputs.files
    if newest_days and not loaded:
        first_days = sorted({day for _, day, _ in files if day is not None})[-newest_days:]
        files = [f for f in files if f[1] is None or f[1] in first_days]
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
        log_outcome(con, outcome, "", "", 0)
        result.outcomes.append(outcome)
        present |= {(k, d) for k, d in loaded if d is not None and (
            kind == "exports" or (d == day and kind in ("", k)))}

    reference_changed = False
    known = known_codes(con)
    for done, (kind, day, path) in enumerate(files):
        if progress:
            progress("ingest", done, len(files))
        file = str(path.relative_to(data_dir))
        sha = ""
        try:
            sha = sha256_of(path)
            # Export rows were checked against the reference codes of their time: new codes
            # mean every export is checked again.
            if loaded.get((kind.kind, day)) == sha and not (reference_changed and day is not None):
                result.outcomes.append(FileOutcome(kind.kind, day, file, "unchanged"))
                continue
            parsed = parse_file(con, path, kind, known, id_key, workdir)
        except UnusableFile as error:
            outcome = FileOutcome(kind.kind, day, file, "failed", message=str(error))
            log_outcome(con, outcome, sha, "", 0)
            result.outcomes.append(outcome)
            continue
        outcome = FileOutcome(kind.kind, day, file, "loaded", parsed.rows_read, parsed.rows_loaded, len(parsed.rejects))
        file_id = log_outcome(con, outcome, sha, parsed.encoding, parsed.rows_skipped)
        before = vintages.before_replacing(con, kind.kind, day, sha)  # a re-export's replaced figures
        store_file(con, kind, day, parsed, file_id, file, sha, db_path)
        vintages.record(con, kind.kind, day, before)
        result.outcomes.append(outcome)
        if kind in (AREAS, SITES):
            reference_changed = True
            known = known_codes(con)

    if progress:
        progress("ingest", len(files), len(files))
    if inputs.boundaries and (unmatched := store_boundaries(con, inputs.boundaries)):
        result.outcomes.append(unmatched)
    result.outcomes.extend(forget_removed(con, present))
    partitions.recount_rounds(con, db_path)
    for day in sorted({day for _, day, _ in files if day is not None}):
        for kind in EXPORT_KINDS:
            if (kind.kind, day) not in present:
                note = "optional feed, not exported" if kind.optional else "no file: figures for this day are stale"
                result.outcomes.append(FileOutcome(kind.kind, day, "", "missing", message=note))


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


def ensure_snapshot(settings: Settings, progress: Progress | None = None, newest_days: int | None = None) -> bool:
    """First run needs nothing: with no data configured, generate the district demo and ingest it.

    With newest_days, only those days are ingested (see ingest); returns True when older days
    were left for a second ingest.
    """
    if settings.db_path.exists():
        return False
    if settings.is_demo and not (settings.data_dir / "exports").is_dir():
        from dashboard.demo.generate import generate

        generate(settings.data_dir, on_day=(lambda done, days: progress("generate", done, days)) if progress else None)
    result = ingest(settings, progress, newest_days)
    all_days = {day for _, day, _ in discover(settings.data_dir).files if day is not None}
    return bool(newest_days) and len(all_days) > len({o.day for o in result.outcomes if o.day is not None})


