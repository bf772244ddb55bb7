"""A clerk's upload (issue 19): a file checked at once by the ingest's own recognition and parser,
then written atomically into its day folder under a name that records the sender.

check() runs on a private temporary copy with the rows held to the clerk's area, exactly as the
ingest will hold them (senders.py: an upload's name carries its area). save() writes only a file
that passed: one whose kind was recognised and that the parser could read. A file with some
rejected rows passes, as the ingest loads its good rows and lists the rest; the page shows them
first. Nothing here follows a link: the day folder is opened with O_NOFOLLOW and the file is made
under a hidden temporary name (which the ingest skips) inside it, fsynced, then renamed into place.

Every saved and every refused file is one JSON line of the upload log (Settings.upload_log): who,
when, the file's name, sha256, kind, rows and outcome; never a cell of the file.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from dashboard.ingest import workbook
from dashboard.ingest.arrivals import Unrecognised, by_header
from dashboard.ingest.ids import mask_ids
from dashboard.ingest.parse import UnusableFile, install_macros, parse_file
from dashboard.ingest.senders import UPLOAD_PREFIX, NotASender, sender_of
from dashboard.settings import REPO, Settings

SUFFIXES = (".csv", ".xlsx")
SHOWN_REJECTS = 20
MB = 1 << 20
LOG_LINES_SHOWN = 500
FILE_MODE = 0o644
AREAS_AND_SITES = ("select area_code, name, level from areas", "select site_id, area_code from sites")


class Refused(ValueError):
    """The upload was not written: the message says why."""


@dataclass(frozen=True)
class Reject:
    line: int | None  # the file's line, or a workbook sheet's row
    column: str
    reason: str
    value: str  # masked as the ingest masks it


@dataclass
class Checked:
    filename: str  # as shown: no path, no control characters, ID shapes masked
    saved_name: str  # the name it is saved under in the day folder
    area: str
    sha256: str
    size: int
    kind: str = ""
    sheet: str | None = None
    sender: str = ""  # senders.Sender.key of the saved name
    sender_name: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rejects: list[Reject] = field(default_factory=list)
    problem: str = ""  # why the file cannot be used; "" when it can
    note: str = ""
    data: bytes = field(default=b"", repr=False)

    @property
    def usable(self) -> bool:
        return bool(self.kind) and not self.problem


def shown_name(filename: str) -> str:
    """The last part of the name the browser sent, without control characters, ID shapes masked."""
    name = unicodedata.normalize("NFKC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return mask_ids(name).strip() or "?"


def saved_name(area: str, filename: str) -> str:
    """上传-<area>-<stem>.<suffix>: a name that records the sender, with no path, link or hidden part."""
    name = shown_name(filename)
    suffix = Path(name).suffix.lower() if Path(name).suffix.lower() in SUFFIXES else ".csv"
    stem = name[: -len(Path(name).suffix)] if Path(name).suffix else name
    stem = re.sub(r"[^\w()（）\- ]+", "_", stem).replace("..", "_").strip(" ._-")[:80]
    return f"{UPLOAD_PREFIX}-{area}-{stem or '文件'}{suffix}"


def reference(settings: Settings) -> tuple[list[tuple[str, str, str]], dict]:
    """The areas (code, name, level) and the known area and site codes, from the serving snapshot."""
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        areas = [tuple(row) for row in con.execute(AREAS_AND_SITES[0]).fetchall()]
        sites = dict(con.execute(AREAS_AND_SITES[1]).fetchall())
    return areas, {"area": {code for code, _, _ in areas}, "site": sites}


def check(data: bytes, filename: str, area: str, settings: Settings) -> Checked:
    """What the ingest would make of this file from this area, without keeping any of it."""
    checked = Checked(shown_name(filename), saved_name(area, filename), area, hashlib.sha256(data).hexdigest(),
                      len(data), data=data)
    if len(data) > settings.upload_max_mb * MB:
        checked.problem = f"larger than {settings.upload_max_mb} MB"
    elif Path(checked.filename).suffix.lower() not in SUFFIXES:
        checked.problem = "not a CSV or XLSX file"
    if checked.problem:
        return checked
    try:
        areas, known = reference(settings)
    except (duckdb.Error, OSError):
        checked.problem = "no snapshot yet: nothing to check the file against; try again after the first ingest"
        return checked
    if area not in {code for code, _, level in areas if level in ("street", "community")}:
        checked.problem = f"{area or 'the district'} is no street or community: an upload is one area's"
        return checked
    with tempfile.TemporaryDirectory(prefix="upload-check-") as private:
        try:
            _parse(checked, Path(private), areas, known)
        except (UnusableFile, workbook.NotATable, NotASender) as error:
            checked.problem = str(error).replace(private + os.sep, "").replace(private, "")
    return checked


def _parse(checked: Checked, private: Path, areas: list, known: dict) -> None:
    path, workdir = private / checked.saved_name, private / "work"
    workdir.mkdir()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as copy:
        copy.write(checked.data)
    recognised = by_header(None, path, workdir)
    if isinstance(recognised, Unrecognised):
        raise UnusableFile(recognised.reason)
    kind, sheet = recognised
    sender = sender_of(path, kind.role, areas)
    checked.kind, checked.sender, checked.sender_name = kind.kind, sender.key, sender.name
    checked.sheet = sheet.sheet if sheet else None
    with duckdb.connect() as con:
        install_macros(con)
        # A key of this check alone: its pseudonyms are dropped with it, and the web needs no ID key.
        parsed = parse_file(con, sheet.csv_path if sheet else path, kind, known, secrets.token_bytes(32), workdir,
                            within=sender.within,
                            shown=f"{checked.filename} (sheet {sheet.sheet})" if sheet else checked.filename,
                            first_row=sheet.header_row if sheet else 1)
        checked.rows_read, checked.rows_loaded = parsed.rows_read, parsed.rows_loaded
        checked.rows_rejected = parsed.rows_rejected
        checked.rejects = [Reject(r.line, r.column, r.reason, r.value) for r in parsed.rejects[:SHOWN_REJECTS]]
    if parsed.rows_read == 0:
        checked.note = (f"header only: nothing active in {sender.name}" if kind.role == "ledger"
                        else "header only, no data row: the day counts as not exported")


def save(checked: Checked, day: date, username: str, settings: Settings, replaces: str = "") -> Path:
    """Write a checked file into exports/<day>/, atomically, and log it; Refused for a file that
    failed its check, or a day folder that is a link or no folder. replaces: the file serving the
    same kind, day and sender now, which this one corrects (for the log)."""
    if not checked.usable:
        log(settings, entry(checked, day, username, "refused", checked.problem or "not recognised"))
        raise Refused(checked.problem or "not recognised as an export")
    exports = settings.data_dir / "exports"
    try:
        if exports.is_symlink() or not exports.is_dir():
            raise Refused("exports/ is a link or no folder: nothing is written")
        folder = exports / day.isoformat()
        try:
            os.mkdir(folder, 0o755)
        except FileExistsError:
            pass
        try:
            folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as error:
            raise Refused(f"exports/{day.isoformat()} is a link or no folder: nothing is written"
                          f" ({error.strerror})") from None
        try:
            _write_into(folder_fd, checked.saved_name, checked.data)
        finally:
            os.close(folder_fd)
    except Refused as refusal:
        log(settings, entry(checked, day, username, "refused", str(refusal)))
        raise
    log(settings, entry(checked, day, username, "saved", f"replaces {replaces}" if replaces else "", replaces))
    return folder / checked.saved_name


def _write_into(folder_fd: int, name: str, data: bytes) -> None:
    if "/" in name or name.startswith(".") or name in ("", ".", ".."):
        raise Refused("not a plain file name")
    # Hidden while written: the ingest and its watcher never read a name starting with a dot.
    temporary = f".{name}.{secrets.token_hex(6)}.part"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE, dir_fd=folder_fd)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        # A rename replaces a link planted at the name, never writes through it.
        os.replace(temporary, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        os.fsync(folder_fd)
    except BaseException:
        try:
            os.unlink(temporary, dir_fd=folder_fd)
        except FileNotFoundError:
            pass
        raise


def entry(checked: Checked, day: date, username: str, outcome: str, message: str = "", replaces: str = "") -> dict:
    return {"at": datetime.now().isoformat(timespec="seconds"), "user": username, "area": checked.area,
            "day": day.isoformat(), "file": checked.filename,
            "saved": checked.saved_name if outcome == "saved" else "", "sha256": checked.sha256,
            "kind": checked.kind, "rows_read": checked.rows_read, "rows_loaded": checked.rows_loaded,
            "rows_rejected": checked.rows_rejected, "outcome": outcome, "correction": bool(replaces),
            "message": mask_ids(message)}


def log(settings: Settings, line: dict) -> None:
    """One line per upload, appended whole: O_APPEND and one write, under a lock for shares that
    do not keep appends whole."""
    settings.upload_log.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(settings.upload_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_log(settings: Settings, area: str) -> list[dict]:
    """The log's entries of the area's subtree ("" = all), newest first, at most LOG_LINES_SHOWN."""
    try:
        fd = os.open(settings.upload_log, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return []
    with os.fdopen(fd, encoding="utf-8", errors="replace") as f:
        lines = f.readlines()
    entries = []
    for line in reversed(lines):
        try:
            found = json.loads(line)
        except ValueError:
            continue  # a line cut short by a full disk: the others still count
        if isinstance(found, dict) and str(found.get("area", "")).startswith(area):
            entries.append(found)
        if len(entries) >= LOG_LINES_SHOWN:
            break
    return entries


def may_start_ingest(settings: Settings) -> bool:
    """Whether the page takes an upload in itself: only when told to, and only where this process
    would use the ingest's own ID key (with the key in ingest.env alone, a page-started ingest
    would make a new one, and everyone new pseudonyms)."""
    if settings.upload_ingest != "page":
        return False
    return settings.id_key_source() != str(settings.id_key_file) or settings.id_key_file.is_file()


def start_ingest(settings: Settings) -> subprocess.Popen:
    """`python -m dashboard ingest` in a process of its own, as an operator runs it: the snapshot's
    lock serialises it with a watcher's or another replica's ingest, and it outlives this server."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "ingest", "--data", str(settings.data_dir), "--db", str(settings.db_path)],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
    threading.Thread(target=process.wait, name="upload-ingest", daemon=True).start()  # reaped, never a zombie
    return process
