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

import fcntl
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from dashboard.ingest import batches, day_batch, matching, partitions, staging, vintages, workbook
from dashboard.ingest.arrivals import Arrival, arrivals
from dashboard.ingest.building import connect_building, open_lock
from dashboard.ingest.contract import AREAS, EXPORT_KINDS, REFERENCE_KINDS, SITES
from dashboard.ingest.hashes import FileHashes
from dashboard.ingest.inputs import accepted_files, discover
from dashboard.ingest.parse import (
    SYMLINK_NOT_READ,
    UnusableFile,
    drop_parse_tables,
    parse_file,
)
from dashboard.ingest.staging import Waiting, forget_removed, known_codes, log_outcome, store_boundaries, store_file
from dashboard.ingest.status import (
    SNAPSHOT_FOLDER_MODE,
    SNAPSHOT_MODE,
    FileOutcome,
    IngestResult,
    leftovers,
    path_free,
    write_status,
)
from dashboard.settings import Settings

# One file per mart, run in the order of their numeric prefixes: a mart reads only the
# staging tables and the marts before it.
MARTS_DIR = Path(__file__).parent / "marts"
# Told as a first run goes: (stage, done, total), stage "generate" (days) or "ingest" (files).
Progress = Callable[[str, int, int], None]


class ExportsUnavailable(OSError):
    """exports/ is missing, unreadable or holds no day folder: most likely an unmounted share."""


def ingest(settings: Settings, progress: Progress | None = None, newest_days: int | None = None,
           accept: tuple[str, ...] = (), rehash: bool = False) -> IngestResult:
    """Build and swap in a new snapshot; the outcome is also left in <db>.status.json for the screens.

    newest_days, for a first run only (no snapshot yet): take just the newest export days, so
    the screens have data while a second, ordinary ingest adds the older days. accept names
    export files (DAY/FILE.csv) to apply even if held: those very bytes, by their sha256. rehash:
    read every file to learn its sha256, trusting no stat (hashes.py).
    """
    try:
        result = _build(settings, progress, newest_days, tuple(accept), rehash)
    except Exception as error:
        try:
            write_status(settings.db_path, False, f"{type(error).__name__}: {error}", roots=(settings.data_dir,))
        except OSError as status_error:
            raise OSError(f"{error}; and the status file could not be written either: {status_error}") from error
        raise
    # A hold is no failure for the screens' banner: the figures shown are whole, only not new.
    write_status(settings.db_path, not result.failed, "; ".join(o.message for o in result.failed),
                 held=[o.file for o in result.held], roots=(settings.data_dir,),
                 unrecognised=[o.message for o in result.unrecognised])
    return result


def _build(settings: Settings, progress: Progress | None, newest_days: int | None,
           accept: tuple[str, ...], rehash: bool = False) -> IngestResult:
    data_dir, db_path = settings.data_dir, settings.db_path
    if not data_dir.is_dir():
        raise FileNotFoundError(f"data directory not found: {data_dir}")
    id_key = settings.id_key()
    db_path.parent.mkdir(parents=True, exist_ok=True, mode=SNAPSHOT_FOLDER_MODE)
    result = IngestResult(db_path)
    lock = open_lock(db_path.with_name(db_path.name + ".lock"))
    try:
        # One ingest at a time per snapshot: a watcher and a manual run must not interleave.
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            con, building, start_over = connect_building(db_path, id_key)
            # A reader that opened the serving snapshot just before the swap may still read
            # the files it names: those are kept one more generation.
            named = partitions.named_files(con)
            if start_over:
                rebuilt = FileOutcome("snapshot", None, db_path.name, "rebuilt", message=start_over)
                log_outcome(con, rebuilt, "", "", 0)
                result.outcomes.append(rebuilt)
            try:
                # The newest ingest's log lines (its unrecognised files, say) start at this id: two may start in one second.
                con.execute("insert or replace into meta values ('ingest_started_at', $at), ('ingest_first_log_id',"
                            " (select coalesce(max(file_id), 0) + 1 from ingest_log)::varchar)",
                            {"at": datetime.now().replace(microsecond=0).isoformat(sep=" ")})
                run = _Run(data_dir, db_path, id_key, building.parent, result, settings.reexport_max_drop,
                           FileHashes.of(con, rehash))
                _ingest_into(con, run, progress, newest_days, accept)
                run.hashes.save(con)
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
    result.outcomes.extend(leftovers(settings))
    return result


def mart_files() -> list[Path]:
    return sorted(MARTS_DIR.glob("*.sql"))


def build_marts(con: duckdb.DuckDBPyConnection) -> None:
    for path in mart_files():
        con.execute(path.read_text())


@dataclass
class _Run:
    """What one ingest carries from file to file."""

    data_dir: Path
    db_path: Path
    id_key: bytes
    workdir: Path
    result: IngestResult
    max_drop: float
    hashes: FileHashes
    # (kind, day, sender) -> (sha256, file) of the file serving it when the ingest began.
    loaded: dict = field(default_factory=dict)
    # (kind, day, sha256) the operator accepted, held or not.
    accepted: set = field(default_factory=set)
    known: dict = field(default_factory=dict)
    reference_changed: bool = False
    # (kind, day, sender) whose file has no data row (a header only): it counts as not there.
    empty: set = field(default_factory=set)
    # path -> its file parsed in a batch (batches.py), the paths a batch looked at, and the
    # (kind, day, sender) stored by this ingest.
    batched: dict = field(default_factory=dict)
    tried: set = field(default_factory=set)
    stored: set = field(default_factory=set)
    # The loaded files of the batch to be written together (staging.Waiting).
    waiting: list = field(default_factory=list)


SERVED_FILES = "select kind, day, sender, sha256, file from loaded_files"
AREA_NAMES = "select area_code, name, level from areas"


def _ingest_into(con, run: _Run, progress: Progress | None = None, newest_days: int | None = None,
                 accept: tuple[str, ...] = ()) -> None:
    data_dir, result = run.data_dir, run.result
    con.execute("set variable parts_folder = $folder", {"folder": str(partitions.folder(run.db_path))})
    run.loaded = {(kind, day, sender): (sha, file) for kind, day, sender, sha, file
                  in con.execute(SERVED_FILES).fetchall()}
    loaded = run.loaded
    inputs = discover(data_dir)
    if inputs.exports_unavailable:
        # An unmounted share looks like a data directory whose every day was removed: fail before
        # anything is forgotten, and the serving snapshot keeps every day.
        raise ExportsUnavailable(f"{inputs.exports_unavailable}: nothing was ingested or removed, the"
                                 " screens keep the last snapshot; mount or restore the folder, then run again")
    vintages.clear_holds(con)
    # A file whose Parquet copy is gone or damaged is read again from its export, as if new.
    for (day, sender), (file, reason) in partitions.unreadable_days(con, run.db_path).items():
        _forget_partition(con, run, day, sender, file, reason)
    files, candidates = inputs.files, inputs.candidates
    if newest_days and not loaded:
        first_days = sorted({day for _, day, _ in files if day is not None} | {d for d, _ in candidates})[-newest_days:]
        files = [f for f in files if f[1] is None or f[1] in first_days]
        candidates = [c for c in candidates if c[0] in first_days]
    linked = {kind for kind, _, _ in inputs.links}
    missing_reference = [
        k.filename + (f" ({SYMLINK_NOT_READ})" if k.kind in linked or "reference" in linked else "")
        for k in REFERENCE_KINDS if not k.optional and not any(f[0] is k for f in files)
    ]
    if missing_reference and not loaded:
        raise FileNotFoundError(f"{data_dir / 'reference'}: missing {', '.join(missing_reference)}")

    # A link is reported like an unusable file: what the snapshot held for it stays.
    present = set()
    for kind, day, path in inputs.links:
        file = str(path.relative_to(data_dir))
        _report(con, result, FileOutcome(kind if kind != "file" else "", day, file, "failed",
                                         message=f"{file}: {SYMLINK_NOT_READ}"))
        present |= {key for key, (_, served) in loaded.items() if key[1] is not None and (
            kind == "exports" or (key[1] == day and (kind == "" or kind == key[0] or served == file)))}
    # So is a day folder that cannot be read, or two folders naming the same day.
    for day, path, reason in inputs.unusable_days:
        file = str(path.relative_to(data_dir))
        _report(con, result, FileOutcome("", day, file, "failed", message=reason if reason.startswith("exports/")
                                         else f"{file}: {reason}"))
        present |= {key for key in loaded if key[1] == day}
    # Named, never read: the summary says what the ingest passed over, and why.
    for day, path, reason in inputs.skipped:
        file = str(path.relative_to(data_dir))
        result.outcomes.append(FileOutcome("" if day else path.parent.name, day, file, "skipped",
                                           message=f"{file}: {reason}"))

    run.known = known_codes(con)
    reference = [f for f in files if f[1] is None]
    # The day folders' files are counted before they are classified: what the progress bar shows.
    total = len(reference) + sum(1 for f in files if f[1] is not None) + len(candidates)
    for done, (kind, day, path) in enumerate(reference):
        if progress:
            progress("ingest", done, total)
        _read_file(con, run, Arrival(kind, day, path, None, "", None))
    found, still_there = _arrived(con, run, [f for f in files if f[1] is not None], candidates)
    present |= still_there
    for kind, day, path in accepted_files(data_dir, [(a.kind, a.day, a.path) for a in found], accept):
        vintages.accept(con, kind.kind, day, str(path.relative_to(data_dir)), run.hashes.sha256(path))
    run.accepted = vintages.accepted(con)
    found = batches.grouped(found, run.hashes.scanned)
    run.hashes.ahead([a.path for a in found if not a.sha and a.kind.kind == partitions.KIND])
    for done, arrival in enumerate(found):
        if progress:
            progress("ingest", done + len(reference), total)
        if arrival.path not in run.tried:
            _batch(con, run, found[done:])
        _read_file(con, run, arrival)
    batches.store_waiting(con, run.waiting)
    batches.drop(con)

    if progress:
        progress("ingest", total, total)
    if inputs.boundaries and (unmatched := store_boundaries(con, inputs.boundaries)):
        result.outcomes.append(unmatched)
    result.outcomes.extend(forget_removed(con, present - run.empty))
    try:
        partitions.recount_rounds(con, run.db_path)
    except partitions.Unreadable as unreadable_files:
        # A file whose footer was sound but whose rows are not: rebuilt the same way, then counted again.
        exports = {(a.day, a.sender.key): a for a in found if a.kind.kind == partitions.KIND}
        for (day, sender), (file, reason) in unreadable_files.days.items():
            _forget_partition(con, run, day, sender, file, reason)
            if (day, sender) in exports:
                _read_file(con, run, exports[(day, sender)])
        partitions.recount_rounds(con, run.db_path)
    served = {(kind, day) for kind, day, _ in present}
    for day in sorted({a.day for a in found} | {day for day, _ in candidates}):
        for kind in EXPORT_KINDS:
            if (kind.kind, day) not in served:
                note = "optional feed, not exported" if kind.optional else "no file: figures for this day are stale"
                result.outcomes.append(FileOutcome(kind.kind, day, "", "missing", message=note))


def _arrived(con, run: _Run, files: list, candidates: list) -> tuple[list[Arrival], set]:
    """The day folders' files to read, each with its kind and sender; the others reported. Also the
    (kind, day, sender) whose rows stay: those arriving, and those of a file that can no longer be
    read or recognised, which keeps what it held, as a failed file does."""
    data_dir, result = run.data_dir, run.result
    served = {(str(data_dir / file), sha): key[0] for key, (sha, file) in run.loaded.items()}
    found, superseded, unrecognised, unreadable = arrivals(files, candidates, run.workdir, served, con.execute(
        AREA_NAMES).fetchall(), run.hashes.sha256, hashed_when_read=(partitions.KIND,))
    for item in unrecognised:
        file = str(item.path.relative_to(data_dir))
        _report(con, result, FileOutcome("", item.day, file, "unrecognised", message=f"{file}: {item.reason}"))
    for day, path, message in unreadable:
        file = str(path.relative_to(data_dir))
        _report(con, result, FileOutcome("", day, file, "failed", message=path_free(message, (data_dir,))))
    for old, newer in superseded:
        file = str(old.path.relative_to(data_dir))
        result.outcomes.append(FileOutcome(old.kind.kind, old.day, file, "skipped", message=(
            f"{file}: an older copy of {old.sender.name}'s file; {newer.path.name} is read")))
    gone = {str(item.path.relative_to(data_dir)) for item in unrecognised} | {
        str(path.relative_to(data_dir)) for _, path, _ in unreadable}
    still_there = {(a.kind.kind, a.day, a.sender.key) for a in found}
    return found, still_there | {key for key, (_, file) in run.loaded.items() if file in gone}


def _report(con, result: IngestResult, outcome: FileOutcome) -> None:
    log_outcome(con, outcome, "", "", 0)
    result.outcomes.append(outcome)


def _batch(con, run: _Run, upcoming: list[Arrival]) -> None:
    """Parse together the files of the next layout that are to be read (batches.py), or a day's
    testing exports (day_batch.py)."""
    def to_parse(arrival: Arrival) -> bool:
        return arrival.path not in run.tried and not _unchanged(run, arrival, arrival.sha)

    testing = upcoming[0].kind.kind == partitions.KIND
    seen, members = (day_batch.ahead(upcoming, run.hashes, to_parse) if testing
                     else batches.ahead(upcoming, run.hashes.scanned, to_parse))
    run.tried |= {arrival.path for arrival in seen}  # unchanged ones too: each layout is walked once
    if members:
        batches.store_waiting(con, run.waiting)  # the batch before's rows go with its table
        run.batched = (day_batch.parse_day if testing else batches.parse_batch)(con, members[0].kind, [batches.Member(
            batches.source_of(a), batches.found_of(a, run.hashes.scanned), a.sender.within if a.sender else None,
            a.day) for a in members], run.known, run.id_key, run.workdir)


def _unchanged(run: _Run, arrival: Arrival, sha: str) -> bool:
    """Export rows were checked against the reference codes of their time: new codes mean every
    export is checked again."""
    served = run.loaded.get((arrival.kind.kind, arrival.day, arrival.sender.key if arrival.sender else None), ("",))
    return served[0] == sha and not (run.reference_changed and arrival.day is not None)


def _read_file(con, run: _Run, arrival: Arrival) -> None:
    """Parse one file and store it, unless it is unchanged, unusable, held or has no data row."""
    kind, day, path, sender = arrival.kind, arrival.day, arrival.path, arrival.sender
    key = sender.key if sender else None
    file = str(path.relative_to(run.data_dir))
    sha = arrival.sha
    sheet = None
    try:
        sha = sha or run.hashes.sha256(path, text=not arrival.is_workbook)
        if _unchanged(run, arrival, sha):
            run.result.outcomes.append(FileOutcome(kind.kind, day, file, "unchanged"))
            return
        if arrival.is_workbook and arrival.sheet is None:
            arrival.sheet = workbook.read_sheet(path, run.workdir, lambda cells: matching.recognise(cells, (kind,)))
            if arrival.sheet is None:
                raise UnusableFile(f"{path}: no sheet has the header of {kind.kind} any more")
        sheet = arrival.sheet
        # A CSV file was scanned as it was hashed; a sheet's CSV file is scanned by the parse.
        found = None if sheet else run.hashes.scanned(path)
        staged = partitions.Staged(run.workdir / "rows.parquet", day) if kind.kind == partitions.KIND else None
        source = batches.source_of(arrival)  # the file itself, or its sheet as CSV
        parsed = run.batched.pop(source, None) or parse_file(
            con, source, kind, run.known, run.id_key, run.workdir, within=sender.within if sender else None,
            shown=f"{path} (sheet {sheet.sheet})" if sheet else None, first_row=sheet.header_row if sheet else 1,
            found=found, staged=staged)
    except (UnusableFile, workbook.NotATable) as error:
        # Shown on the data-health page: the file relative to the data directory, as everywhere.
        outcome = FileOutcome(kind.kind, day, file, "failed", message=path_free(
            str(error) if isinstance(error, UnusableFile) else f"{path}: {error}", (run.data_dir,)))
        _log(con, run, outcome, sha, "", 0, key)
        run.result.outcomes.append(outcome)
        return
    sheet_name = sheet.sheet if sheet else None
    counts = (parsed.rows_read, parsed.rows_loaded, parsed.rows_rejected)
    # Nothing served for (kind, day, sender), when the ingest began or since: no file to replace.
    slot = (kind.kind, day, key)
    fresh = day is not None and slot not in run.loaded and slot not in run.stored
    serving = None if fresh else vintages.serving_rows(con, kind.kind, day, key, sha)
    held = vintages.hold_reason(serving, parsed.rows_read, parsed.rows_loaded, run.max_drop)
    note = f"sheet {sheet_name} read" + "".join(f"; {n}" for n in sheet.notes) if sheet else ""
    if held and (kind.kind, day, sha) in run.accepted:
        note = "; ".join(filter(None, [note, f"accepted by the operator: {held}"]))
    elif held:
        # The file serving the day stays, rows and figures; the held one waits for --accept.
        outcome = FileOutcome(kind.kind, day, file, "held", *counts, message=(
            f"{file} held: {held}; the current figures keep serving. If the new file is right:"
            f" python -m dashboard ingest --accept {path.relative_to(run.data_dir / 'exports')}"))
        _log(con, run, outcome, sha, parsed.encoding, parsed.rows_skipped, key, sheet_name)
        vintages.hold(con, kind.kind, day, file, sha, parsed.rows_read, parsed.rows_loaded, serving)
        run.result.outcomes.append(outcome)
        return
    if day is not None and parsed.rows_read == 0 and not (sender and sender.scope and kind.role == "ledger"):
        # A header alone says nothing about the day: it must not read as a day of zeros, so
        # the day counts as not exported, and its figures follow the last export. An area's own
        # ledger is the exception: a header alone says nothing is active there.
        outcome = FileOutcome(kind.kind, day, file, "empty", *counts, message=(
            f"{note}; " if note else "") + "header only, no data row: the day counts as not exported")
        _log(con, run, outcome, sha, parsed.encoding, parsed.rows_skipped, key, sheet_name)
        run.empty.add((kind.kind, day, key))
        run.result.outcomes.append(outcome)
        return
    if day is not None and parsed.rows_read == 0:
        note = "; ".join(filter(None, [note, f"header only: nothing active in {sender.name}"]))
    outcome = FileOutcome(kind.kind, day, file, "loaded", *counts, message=note)
    run.stored.add(slot)
    run.result.outcomes.append(outcome)
    if fresh and parsed.batch_file is not None:
        # Nothing to replace: written with the rest of its batch, before anything else is stored.
        run.waiting.append(Waiting(kind, day, outcome, sha, parsed, sender, arrival.received_at, sheet_name))
        return
    file_id = _log(con, run, outcome, sha, parsed.encoding, parsed.rows_skipped, key, sheet_name)
    before = None if fresh else vintages.before_replacing(con, kind.kind, day, key, sha)  # a re-send's figures
    if parsed.rows is None:
        parsed.rows = batches.rows_of(con, kind, parsed.batch_file)
    store_file(con, kind, day, parsed, file_id, file, sha, run.db_path, sender, arrival.received_at, sheet_name,
               parsed.staged, fresh)
    vintages.record(con, kind.kind, day, key, before)
    if kind in (AREAS, SITES):
        run.reference_changed = True
        run.known = known_codes(con)


def _log(con, run: _Run, outcome: FileOutcome, *line) -> int:
    """log_outcome, after the lines of the files waiting: the log keeps the order files were read in."""
    batches.store_waiting(con, run.waiting)
    return log_outcome(con, outcome, *line)


def _forget_partition(con, run: _Run, day: date, sender: str, file: str, reason: str) -> None:
    """The snapshot stops naming a sender's unreadable Parquet file, and its export counts as never read."""
    staging.forget_part(con, partitions.KIND, day, sender)
    run.loaded.pop((partitions.KIND, day, sender), None)
    outcome = FileOutcome(partitions.KIND, day, file, "rebuilt", message=(
        f"Parquet file {file} unreadable ({path_free(reason, (partitions.folder(run.db_path),))}):"
        f" rebuilt from the day's {partitions.KIND} export"))
    log_outcome(con, outcome, "", "", 0, sender)
    run.result.outcomes.append(outcome)
