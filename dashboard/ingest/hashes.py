"""The sha256 of each file an ingest reads, without reading again the bytes of a file that has not changed.

Every ingest compares each export's sha256 with that of the file serving it, to pass over what is
unchanged: on a city's fourteen days that read about 13 GB to learn that thirteen of them were as
before. A file keeps the hash an earlier ingest took while its device, inode, size, modification
time and change time are all as they were then, as git's index trusts a file's stat:

- the change time (ctime) is the kernel's: any write moves it, and so does setting the
  modification time back (`touch -d`, `cp -p`, an unzip);
- a file whose times were within RACY_SECONDS of the moment it was hashed is not remembered: a
  write in the same tick of the file system's clock would leave its stat as it was;
- `python -m dashboard ingest --rehash` reads every file again, for a share whose times cannot be
  trusted.

Only the files of the ingest that saved them are remembered; a failed ingest saves nothing.

A big export read alone (a day's testing records) is hashed ahead (FileHashes.ahead): in a thread
of its own, while the ingest reads the files before it. hashlib lets go of the GIL, and DuckDB does
while it runs a statement, so the two share the machine's cores.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb

from dashboard.ingest.text import Scan, UnusableFile, open_regular, scan

RACY_SECONDS = 2.0
CHUNK = 1 << 20
# Files hashed ahead of the one being read: what a failed ingest may have read for nothing.
AHEAD = 2
KNOWN = "select path, device, inode, size, mtime_ns, ctime_ns, sha256 from file_hashes"
FORGET_ALL = "delete from file_hashes"
REMEMBER = """
insert into file_hashes
select unnest($path), unnest($device), unnest($inode), unnest($size), unnest($mtime_ns), unnest($ctime_ns),
       unnest($sha256)
"""
FIELDS = ("path", "device", "inode", "size", "mtime_ns", "ctime_ns", "sha256")


def _identity(status: os.stat_result) -> tuple[int, int, int, int, int]:
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns


class FileHashes:
    """sha256(path) for one ingest: remembered where the file's stat is unchanged, else read."""

    def __init__(self, known: dict[str, tuple[tuple, str]]) -> None:
        self._known = known
        self._taken: dict[str, tuple[tuple, str]] = {}
        # path -> (stat, scan or why the file is unusable), for a text file read to hash it.
        self._scans: dict[str, tuple[tuple, Scan | UnusableFile]] = {}
        self.files_read = 0  # files whose bytes were hashed by this ingest
        self._counting = threading.Lock()
        # ahead(): the files still to hash, in order, and those being hashed.
        self._queue: list[Path] = []
        self._ahead: dict[str, Future] = {}
        self._done: dict[str, Future] = {}  # those asked for once
        self._pool: ThreadPoolExecutor | None = None

    @classmethod
    def of(cls, con: duckdb.DuckDBPyConnection, rehash: bool = False) -> FileHashes:
        """What the snapshot remembers, or nothing with rehash."""
        if rehash:
            return cls({})
        return cls({path: (tuple(identity), sha) for path, *identity, sha in con.execute(KNOWN).fetchall()})

    def ahead(self, paths: list[Path]) -> None:
        """Hash and scan these CSV exports, in this order, AHEAD at a time, in a thread: sha256 then
        waits only for what is not done yet. One that cannot be read raises UnusableFile there."""
        self._queue = list(paths)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="hash-ahead") if paths else None
        self._next()

    def _next(self) -> None:
        while self._queue and len(self._ahead) < AHEAD:
            path = self._queue.pop(0)
            self._ahead[str(path)] = self._pool.submit(self._read_ahead, path)
        if not self._queue and self._pool:
            self._pool.shutdown(wait=False)  # the files submitted are still hashed
            self._pool = None

    def _read_ahead(self, path: Path) -> str:
        try:
            return self._read(path, text=True)
        except OSError as error:
            raise UnusableFile(f"{path}: cannot be read ({error.strerror or error})") from None

    def sha256(self, path: Path, text: bool = False) -> str:
        """text: the file is a CSV export, whose bytes the same pass scans for its parse (scanned).
        A file hashed ahead gives the same answer (its sha256, or its UnusableFile) each time asked."""
        ahead = self._ahead.pop(str(path), None) or self._done.get(str(path))
        if ahead is None and path in self._queue:  # asked out of order: read here
            self._queue.remove(path)
            self._next()
            self._done[str(path)] = ahead = Future()
            try:
                ahead.set_result(self._read_ahead(path))
            except UnusableFile as error:
                ahead.set_exception(error)
        self._next()
        if ahead is None:
            return self._read(path, text)
        self._done[str(path)] = ahead
        return ahead.result()

    def _read(self, path: Path, text: bool) -> str:
        with open_regular(path) as f:
            before = _identity(os.fstat(f.fileno()))
            known = self._known.get(str(path))
            if known and known[0] == before:
                self._taken[str(path)] = known
                return known[1]
            hashed_at = time.time_ns()
            digest = hashlib.sha256()
            if text:
                try:
                    # Blank lines are looked for only if the parse's count says there are some.
                    found = scan(path, digest, blank_lines=False)
                except UnusableFile as error:
                    found = error
            else:
                for chunk in iter(lambda: f.read(CHUNK), b""):
                    digest.update(chunk)
            after = _identity(os.fstat(f.fileno()))
        if text:
            self._scans[str(path)] = (after, found)
        with self._counting:
            self.files_read += 1
        sha = digest.hexdigest()
        settled = max(after[3], after[4]) < hashed_at - int(RACY_SECONDS * 1e9)
        if before == after and settled:
            self._taken[str(path)] = (after, sha)
        return sha

    def scanned(self, path: Path) -> Scan | None:
        """The scan made while hashing path, if the file is still as it was then (None if none was
        made); raises UnusableFile if the scan found the file unusable."""
        taken = self._scans.get(str(path))
        if taken is None or taken[0] != _identity(os.stat(path, follow_symlinks=False)):
            return None
        if isinstance(taken[1], UnusableFile):
            raise taken[1]
        return taken[1]

    def save(self, con: duckdb.DuckDBPyConnection) -> None:
        """Remember this ingest's hashes in the snapshot it builds, and nothing older."""
        con.execute(FORGET_ALL)
        if not self._taken:
            return
        rows = [(path, *identity, sha) for path, (identity, sha) in sorted(self._taken.items())]
        con.execute(REMEMBER, {name: [row[i] for row in rows] for i, name in enumerate(FIELDS)})
