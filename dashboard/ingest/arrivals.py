"""What arrived in the day folders: each file's kind (by name or by header), its sender, and for a
workbook the sheet to read; and every file that is no export, named with the reason.

Only the first line of a CSV file is read here; a workbook is converted once, to the CSV file the
parser reads (workbook.py), unless its bytes are the ones already serving.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from dashboard.ingest import matching, workbook
from dashboard.ingest.contract import EXPORT_KINDS, FileKind
from dashboard.ingest.senders import NotASender, Sender, newest_copies, sender_of
from dashboard.ingest.text import UnusableFile, open_regular

TEXT_SUFFIXES = (".csv", ".txt")
HEAD_BYTES = 1 << 16


@dataclass
class Arrival:
    kind: FileKind
    day: date
    path: Path
    sender: Sender
    sha: str
    received_at: datetime
    sheet: workbook.SheetRead | None = None  # a workbook's sheet, as CSV

    @property
    def is_workbook(self) -> bool:
        return self.path.suffix.lower() in workbook.WORKBOOK_SUFFIXES


@dataclass
class Unrecognised:
    day: date
    path: Path
    reason: str


def csv_header(path: Path) -> list[str] | None:
    """The cells of a text file's first line, or None when it is no text (a photo, a document)."""
    with open_regular(path) as f:
        head = f.read(HEAD_BYTES)
    if b"\0" in head:
        return None
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    for codec in ("utf-8-sig", "gb18030"):
        try:
            text = line.decode(codec)
        except UnicodeDecodeError:
            continue
        return next(csv.reader([text.lstrip("\ufeff")]), [])
    return None


def _received(path: Path) -> datetime:
    return datetime.fromtimestamp(path.lstat().st_mtime).replace(microsecond=0)


def by_header(day: date, path: Path, workdir: Path) -> tuple[FileKind, object] | Unrecognised:
    """(kind, sheet or None) of a file without a contract name, or why it is no export."""
    suffix = path.suffix.lower()
    if suffix in workbook.WORKBOOK_SUFFIXES:
        try:
            sheet = workbook.read_sheet(path, workdir, matching.recognise)
        except workbook.NotATable as error:
            return Unrecognised(day, path, f"not a table: {error}")
        if sheet is None:
            candidates = workbook.header_candidates(path)
            cells = candidates[0][2] if candidates else []
            return Unrecognised(day, path, f"no sheet is an export: {matching.why_not(cells)}")
        return sheet.match.kind, sheet
    if suffix not in TEXT_SUFFIXES:
        return Unrecognised(day, path, f"not a table (a {suffix or 'suffix-less'} file)")
    header = csv_header(path)
    if header is None:
        return Unrecognised(day, path, "not a table (not text)")
    match = matching.recognise(header)
    if match is None:
        return Unrecognised(day, path, f"not recognised as an export: {matching.why_not(header)}")
    return match.kind, None


def _hashed(path: Path, kind: FileKind, sha256_of: Callable[[Path, bool], str], hashed_when_read: tuple[str, ...]) -> str:
    """The sha256 of a CSV file named by the contract, scanned as it is hashed; "" for one hashed as
    it is read, for a workbook, and for one that cannot be hashed."""
    if kind.kind in hashed_when_read or path.suffix.lower() not in TEXT_SUFFIXES:
        return ""
    try:
        return sha256_of(path, True)
    except (OSError, UnusableFile):
        return ""


def arrivals(files: list[tuple[FileKind, date, Path]], candidates: list[tuple[date, Path]], workdir: Path,
             served: dict[tuple[str, str], str], areas: list[tuple[str, str, str]],
             sha256_of: Callable[[Path, bool], str], hashed_when_read: tuple[str, ...] = ()):
    """(arrivals to read, superseded copies [(arrival, the copy read instead)], unrecognised files,
    failed [(day, path, message)]). served maps (file, sha256) to the kind serving them already,
    so an unchanged workbook is not converted again; sha256_of(path, is text) is the ingest's (hashes.py).
    A CSV file whose header is of a kind in hashed_when_read is not hashed here: its arrival's sha
    is "", and the ingest hashes it as it reads it (hashes.FileHashes.ahead). A file named by the
    contract is hashed here too, so that the small ones of a kind are read in one batch (batches.py),
    as the field's are; one that cannot be hashed gets "", and its read says why."""
    found, unrecognised, failed = [], [], []
    for kind, day, path in files:
        try:
            found.append(Arrival(kind, day, path, sender_of(path, kind.role, areas),
                                 _hashed(path, kind, sha256_of, hashed_when_read), _received(path)))
        except OSError as error:
            failed.append((day, path, f"cannot be read ({error.strerror or error})"))
    for day, path in candidates:
        try:
            text = path.suffix.lower() in TEXT_SUFFIXES
            recognised = by_header(day, path, workdir) if text else None
            if isinstance(recognised, tuple) and recognised[0].kind in hashed_when_read:
                kind = recognised[0]
                found.append(Arrival(kind, day, path, sender_of(path, kind.role, areas), "", _received(path)))
                continue
            sha = sha256_of(path, text)
            known = served.get((str(path), sha))
            if known:
                kind, sheet = next(k for k in EXPORT_KINDS if k.kind == known), None
            else:
                recognised = recognised or by_header(day, path, workdir)
                if isinstance(recognised, Unrecognised):
                    unrecognised.append(recognised)
                    continue
                kind, sheet = recognised
            found.append(Arrival(kind, day, path, sender_of(path, kind.role, areas), sha, _received(path), sheet))
        except NotASender as error:
            unrecognised.append(Unrecognised(day, path, str(error)))
        except (OSError, UnusableFile) as error:
            failed.append((day, path, str(error) if isinstance(error, UnusableFile)
                           else f"cannot be read ({error.strerror or error})"))
    keep, superseded = newest_copies(found)
    return keep, superseded, unrecognised, failed
