"""What an ingest did: each file's outcome, the terminal summary, and <db>.status.json, the last
attempt (written even when it crashed) for the screens' banner."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dashboard.ingest.contract import REFERENCE_KINDS
from dashboard.ingest.ids import mask_ids

if TYPE_CHECKING:
    from dashboard.settings import Settings

# The snapshot and its status file: readable by the ingest's group (a server run under another
# user of that group), never by others. The lock and the key are the owner's alone.
SNAPSHOT_MODE = 0o640
SNAPSHOT_FOLDER_MODE = 0o750

REFERENCE_LABELS = {kind.kind for kind in REFERENCE_KINDS} | {"boundaries", "reference"}
# The folders of an absolute path (or of ~/...): what path_free leaves out of a message.
ABSOLUTE_FOLDERS = re.compile(r"(?<![\w:/.~-])~?/(?:[^\s/'\"]+/)*(?=[^\s/'\"])")


def path_free(message: str, roots: Iterable[Path] = ()) -> str:
    """The message with no absolute path in it, for screens that lobbies and phones show: a path
    under one of roots (the data directory, the snapshot's folder) relative to it, any other
    path reduced to its last name."""
    forms = {str(form) for given in roots for form in (Path(given), Path(given).absolute())}
    for root in sorted(forms, key=len, reverse=True):  # the deepest first
        message = message.replace(root.rstrip(os.sep) + os.sep, "")
    return ABSOLUTE_FOLDERS.sub("", message)


@dataclass
class FileOutcome:
    kind: str
    day: date | None
    file: str
    # loaded | unchanged | failed | held | empty | removed | missing | rebuilt | skipped | unrecognised
    status: str
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
    def held(self) -> list[FileOutcome]:
        """Re-exports held back (far fewer rows than the file they would replace)."""
        return [o for o in self.outcomes if o.status == "held"]

    @property
    def unrecognised(self) -> list[FileOutcome]:
        """Files of a day folder that are no export (a note, a photo): named, never read as data."""
        return [o for o in self.outcomes if o.status == "unrecognised"]

    @property
    def ok(self) -> bool:
        """Nothing failed and nothing waits for the operator: the exit code is 0."""
        return not self.failed and not self.held


def summary_table(result: IngestResult) -> str:
    """Per day, per kind: what happened to each file, for the terminal (and cron's mail), IDs masked."""
    lines = [f"{'day':<10}  {'kind':<16} {'status':<12} {'read':>9} {'loaded':>9} {'rejected':>9}  note"]
    for o in sorted(result.outcomes, key=lambda o: (str(o.day or ""), o.kind, o.file)):
        day = o.day or ("reference" if o.kind in REFERENCE_LABELS else "-")
        # Several senders' files of a kind and day: each line names its file.
        name = o.file.rsplit("/", 1)[-1]
        note = o.message if not name or name in o.message else "  ".join(filter(None, [name, o.message]))
        lines.append(
            f"{str(day):<10}  {o.kind:<16} {o.status:<12} {o.rows_read:>9,} {o.rows_loaded:>9,}"
            f" {o.rows_rejected:>9,}  {note}"
        )
    return mask_ids("\n".join(lines))

def status_path(db_path: Path) -> Path:
    """Where the last ingest attempt is recorded, even one that crashed before the swap."""
    return db_path.with_name(db_path.name + ".status.json")


def write_status(db_path: Path, ok: bool, message: str, held: list[str] | tuple = (),
                 roots: Iterable[Path] = (), unrecognised: list[str] | tuple = ()) -> None:
    """Replace the status file whole. The temporary file gets a fresh random name (mkstemp), so
    a link planted beside the snapshot cannot redirect the write, and os.replace swaps a link at
    the status path itself for the file without writing through it.

    The message is shown on every screen's banner: ID numbers are masked, and no path says where
    the server keeps its files (relative to roots and the snapshot's folder, or a bare name)."""
    shown = path_free(mask_ids(message), (*roots, db_path.parent))
    status = {"attempted_at": datetime.now().isoformat(timespec="seconds"), "ok": ok, "message": shown,
              "held": list(held),
              "unrecognised": [path_free(mask_ids(note), (*roots, db_path.parent)) for note in unrecognised]}
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


def leftovers(settings: Settings) -> list[FileOutcome]:
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
