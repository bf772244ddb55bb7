"""Where failed logins and the password-check slots are kept, so that no cache clear, restart or
other replica can forget them: a SQLite file and lock files in the state directory.

login_throttle.LoginThrottle and LoginGuard use them; the rules (how long a key waits) stay there.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# In the state directory: the failed logins, and the lock files of the password-check slots.
LOGIN_STORE_NAME = "login_failures.sqlite3"
CHECK_SLOTS_FOLDER_NAME = "login-checks"


def open_store(path: Path | str) -> sqlite3.Connection:
    """The failures table, in memory or in a file created 0600 (it names users and addresses),
    never through a link planted in its place."""
    if str(path) != ":memory:":
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600))
    # isolation_level=None: no implicit transactions; writing() opens one that takes the write
    # lock at once, so two replicas never interleave their read-modify-write.
    con = sqlite3.connect(str(path), timeout=10, isolation_level=None, check_same_thread=False)
    con.execute("create table if not exists login_failures (kind text not null, key text not null, at real not null)")
    con.execute("create index if not exists login_failures_by_key on login_failures (kind, key, at)")
    return con


@contextmanager
def writing(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that takes the write lock at once: COMMIT, or ROLLBACK on an error."""
    con.execute("begin immediate")
    try:
        yield con
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


class CheckSlots:
    """At most `slots` password checks at once, over every process that shares `directory`: one
    lock file per slot, held (flock) while a check runs. The kernel lets go of a slot when its
    process dies, so a crash never leaves one taken. acquire and release, as a semaphore's."""

    def __init__(self, directory: Path, slots: int):
        self.paths = [Path(directory) / f"login-check-{index}.lock" for index in range(slots)]
        Path(directory).mkdir(parents=True, exist_ok=True, mode=0o700)
        self._held: list[int] = []
        self._held_lock = threading.Lock()

    def acquire(self, blocking: bool = False) -> bool:
        """A free slot, or False at once: a login waits for nobody (blocking is not supported)."""
        for path in self.paths:
            # A descriptor of its own per try: flock excludes other descriptors, threads included.
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            with self._held_lock:
                self._held.append(fd)
            return True
        return False

    def release(self) -> None:
        with self._held_lock:
            fd = self._held.pop()
        os.close(fd)  # closing the descriptor releases its lock
