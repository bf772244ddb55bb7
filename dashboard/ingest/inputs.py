"""What an ingest reads from a data directory: its files, found without following links.

Reference files are known by name. A day folder's files are known by name when they carry the
contract's (isolation.csv, ...); any other file there is a candidate, whose kind the ingest reads
from its header row (matching.py): the field names its files as it likes.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from dashboard.ingest.contract import EXPORT_KINDS, REFERENCE_KINDS, FileKind

# After NFKC (full-width digits and hyphens become ASCII): 2022-01-07, also 2022-1-7. ASCII
# digits only, so no other script's digits pass for a date.
DAY_FOLDER = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
NOT_A_DAY_FOLDER = "not a day folder name (expected YYYY-MM-DD)"
NOT_A_CONTRACT_FILE = "not a file of the contract"
NOT_READ_FOLDER = "a folder inside a day folder: not read"
EXPORT_FILES = {kind.filename for kind in EXPORT_KINDS}
REFERENCE_FILES = {kind.filename for kind in REFERENCE_KINDS} | {"boundaries.geojson"}


def day_of_folder(name: str) -> date | None:
    """The day a folder name stands for, or None: 2022-01-07, 2022-1-7 and ２０２２-０１-０７ are
    all 7 January 2022; 2022-13-45 is no day."""
    match = DAY_FOLDER.fullmatch(unicodedata.normalize("NFKC", name))
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


@dataclass
class Inputs:
    """What an ingest reads from a data directory, and the symbolic links it refuses to read."""

    files: list[tuple[FileKind, date | None, Path]] = field(default_factory=list)
    # Files of a day folder without a contract name: their kind comes from their header (day, path).
    candidates: list[tuple[date, Path]] = field(default_factory=list)
    boundaries: Path | None = None
    # (kind, day, path); kind is "" for a whole day folder, "exports" or "reference" for those,
    # "file" for a day folder's file without a contract name.
    links: list[tuple[str, date | None, Path]] = field(default_factory=list)
    # Entries read as nothing, each with the reason: (day or None, path, reason).
    skipped: list[tuple[date | None, Path, str]] = field(default_factory=list)
    # Day folders that cannot be used: unreadable, or two folders naming one day (day, path, reason).
    unusable_days: list[tuple[date, Path, str]] = field(default_factory=list)
    # Why exports/ as a whole cannot be read (missing, not a folder, unreadable, no day folder):
    # an unmounted share looks like this, and must never read as "every day was removed".
    exports_unavailable: str = ""

    def add(self, kind: FileKind, day: date | None, path: Path) -> None:
        """A contract file if it is there, listed as a link (never read) if it is one."""
        if path.is_symlink():
            self.links.append((kind.kind, day, path))
        elif path.exists():
            self.files.append((kind, day, path))

    def paths(self) -> list[Path]:
        """Everything the ingest reports on, so that the watcher notices a new stray folder too."""
        return ([path for _, _, path in self.files] + [path for _, path in self.candidates]
                + [path for _, _, path in self.links]
                + [path for _, path, _ in self.skipped] + [path for _, path, _ in self.unusable_days]
                + ([self.boundaries] if self.boundaries else []))


def _entries(folder: Path) -> list[Path]:
    with os.scandir(folder) as entries:
        return sorted(folder / entry.name for entry in entries)


def discover(data_dir: Path) -> Inputs:
    """Every file of the contract in the data directory, reference files first, and every
    other entry of reference/, exports/ and the day folders named as skipped.

    A symbolic link anywhere below the data directory could point at any file of the machine,
    and its rows would reach every screen: it is listed, never read.
    """
    found = Inputs()
    reference = data_dir / "reference"
    if reference.is_symlink():
        found.links.append(("reference", None, reference))
    else:
        for kind in REFERENCE_KINDS:
            found.add(kind, None, reference / kind.filename)
        boundaries = reference / "boundaries.geojson"
        if boundaries.is_symlink():
            found.links.append(("boundaries", None, boundaries))
        elif boundaries.exists():
            found.boundaries = boundaries
        if reference.is_dir():
            found.skipped += [(None, path, NOT_A_CONTRACT_FILE) for path in _entries(reference)
                              if path.name not in REFERENCE_FILES]
    exports = data_dir / "exports"
    if exports.is_symlink():
        found.links.append(("exports", None, exports))
        return found
    _discover_exports(exports, found)
    return found


def _discover_exports(exports: Path, found: Inputs) -> None:
    if not exports.exists():
        found.exports_unavailable = f"{exports}: missing"
        return
    if not exports.is_dir():
        found.exports_unavailable = f"{exports}: not a folder"
        return
    try:
        entries = _entries(exports)
    except OSError as error:
        found.exports_unavailable = f"{exports}: cannot be read ({error.strerror or error})"
        return
    folders: dict[date, list[Path]] = {}
    for path in entries:
        day = day_of_folder(path.name)
        if day is None:
            found.skipped.append((None, path, NOT_A_DAY_FOLDER if path.is_dir() else "not a day folder"))
        elif path.is_symlink():
            found.links.append(("", day, path))
        elif not path.is_dir():
            found.skipped.append((None, path, "not a folder"))
        else:
            folders.setdefault(day, []).append(path)
    if not folders and not any(kind == "" for kind, _, _ in found.links):
        found.exports_unavailable = f"{exports}: no day folder (YYYY-MM-DD) in it"
        return
    for day, same_day in sorted(folders.items()):
        if len(same_day) > 1:
            names = " and ".join(f"exports/{path.name}" for path in same_day)
            found.unusable_days.append((day, same_day[0], f"{names} are both {day.isoformat()}: none is read,"
                                                          " the day keeps what it had; rename or remove one"))
            continue
        folder = same_day[0]
        try:
            names = {path.name for path in _entries(folder)}
        except OSError as error:
            found.unusable_days.append((day, folder, f"cannot be read ({error.strerror or error})"))
            continue
        for kind in EXPORT_KINDS:
            if kind.filename in names:
                found.add(kind, day, folder / kind.filename)
        for name in sorted(names - EXPORT_FILES):
            path = folder / name
            if path.is_symlink():
                found.links.append(("file", day, path))
            elif path.is_dir():
                found.skipped.append((day, path, NOT_READ_FOLDER))
            elif name.startswith((".", "~$")):
                found.skipped.append((day, path, "a hidden file or an open workbook's lock file: not read"))
            else:
                found.candidates.append((day, path))
    if not any(day is not None for _, day, _ in found.files) and not found.candidates and not found.links \
            and not found.unusable_days:
        found.exports_unavailable = f"{exports}: no export file in any day folder"


def fingerprint(data_dir: Path) -> tuple:
    """Cheap to take every few seconds: names, sizes and mtimes of the ingest's inputs, no reading.

    Only the inputs count. The snapshot, its lock, status file and key may well sit in the data
    directory, and when they counted, every ingest changed the fingerprint and so triggered the next.
    """
    entries = []
    inputs = discover(data_dir)
    if inputs.exports_unavailable:
        entries.append(("exports", inputs.exports_unavailable))
    for path in inputs.paths():
        try:
            facts = path.lstat()
        except FileNotFoundError:
            continue  # removed since it was listed: the next poll sees it gone
        entries.append((str(path.relative_to(data_dir)), facts.st_size, facts.st_mtime_ns, facts.st_mode))
    return tuple(sorted(entries))


def check_accepted(data_dir: Path, names: tuple[str, ...]) -> None:
    """Raise FileNotFoundError, before any ingest, when --accept names no file of a day folder."""
    inputs = discover(data_dir)
    accepted_files(data_dir, inputs.files + [(None, day, path) for day, path in inputs.candidates], names)


def accepted_files(data_dir: Path, entries: list, names: tuple[str, ...]) -> list[tuple[FileKind, date, Path]]:
    """The export files --accept names, of entries (kind, day, path): relative to exports/
    (2022-01-07/testing_records.csv), to the data directory, or absolute; each must be there now."""
    by_path = {os.path.abspath(path): (kind, day, path) for kind, day, path in entries if day is not None}
    found = []
    for name in names:
        given = Path(name)
        candidates = [given] if given.is_absolute() else [data_dir / "exports" / given, data_dir / given]
        match = next((by_path[os.path.abspath(c)] for c in candidates if os.path.abspath(c) in by_path), None)
        if match is None:
            raise FileNotFoundError(f"--accept {name}: no export file there"
                                    " (give it as DAY/FILE.csv, relative to exports/)")
        found.append(match)
    return found
