"""What an ingest reads from a data directory: the contract's files, found without following links."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from dashboard.data.contract import EXPORT_KINDS, REFERENCE_KINDS, FileKind
from dashboard.data.parse import (
    open_regular,
)

DAY_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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

    def add(self, kind: FileKind, day: date | None, path: Path) -> None:
        """A contract file if it is there, listed as a link (never read) if it is one."""
        if path.is_symlink():
            self.links.append((kind.kind, day, path))
        elif path.exists():
            self.files.append((kind, day, path))

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
            found.add(kind, None, reference / kind.filename)
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
            found.add(kind, day, folder / kind.filename)
    return found


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
