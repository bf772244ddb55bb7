"""How often a login may be tried: the backoff per username and per client address, the cap on
concurrent password checks, and the audit log line of every refused attempt.

The failures and the check slots are kept by web/login_store.py, so that they hold across cache
clears, restarts and replicas; the password itself is checked by auth.verify.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from dashboard.web import auth
from dashboard.web.login_store import CHECK_SLOTS_FOLDER_NAME, LOGIN_STORE_NAME, CheckSlots, open_store, writing

LOGGER = logging.getLogger("dashboard.login")
# A bcrypt check takes about 0.3 s of one core. More at once would only starve the pages.
MAX_CONCURRENT_CHECKS = 2
ANY_ADDRESS = "local"  # st.context.ip_address is None on loopback


@dataclass(frozen=True)
class Backoff:
    """How long a key (a username, or a client address) waits after failed logins.

    The first `free_failures` failures in the window cost nothing. Each one after that makes
    the key wait, counted from the last failure: `base_delay`, then twice as long, and so on.
    At `lockout_after` failures in the window the key is locked until the oldest of them leaves
    it, so no key gets more than `lockout_after` tries in any window.
    """

    free_failures: int
    lockout_after: int
    base_delay: float = 1.0
    window: float = 15 * 60

    def wait(self, failures: list[float], now: float) -> float:
        recent = [moment for moment in failures if now - moment < self.window]
        if len(recent) <= self.free_failures:
            return 0.0
        if len(recent) >= self.lockout_after:
            until = recent[-self.lockout_after] + self.window
        else:
            until = recent[-1] + self.base_delay * 2 ** (len(recent) - self.free_failures - 1)
        return max(0.0, until - now)


# A person mistypes a few times; one address may be a whole office behind NAT, so it gets more.
PER_USER = Backoff(free_failures=3, lockout_after=10)
PER_ADDRESS = Backoff(free_failures=10, lockout_after=30)


class LoginThrottle:
    """Failed logins per username and per client address, and the wait they impose.

    The failures live in SQLite: in memory (tests, and the fallback when the state directory is not
    writable), or in a file of the state directory. In the file they outlive any clearing of
    Streamlit's caches and a restart, and every replica that shares the directory counts the same
    failures, so a lockout holds whichever replica the next try reaches. Replicas must agree on
    the time, so the clock is wall time; tests pass their own clock and never sleep.
    """

    MAX_KEYS = 10_000  # guessing with ever new usernames must not grow the store without bound
    MAX_KEY_LENGTH = 64

    def __init__(self, per_user: Backoff = PER_USER, per_address: Backoff = PER_ADDRESS,
                 clock: Callable[[], float] = time.time, path: Path | str = ":memory:"):
        self.rules = {"user": per_user, "address": per_address}
        self.clock = clock
        self.path = path
        # One connection per throttle, used under this lock; SQLite's own file locks order the
        # writes of other processes.
        self._lock = threading.Lock()
        self._con = open_store(path)

    def _keys(self, username: str, address: str) -> list[tuple[str, str]]:
        return [("user", str(username)[:self.MAX_KEY_LENGTH]), ("address", str(address)[:self.MAX_KEY_LENGTH])]

    def _recent(self, kind: str, key: str, now: float) -> list[float]:
        window = self.rules[kind].window
        return [at for (at,) in self._con.execute(
            "select at from login_failures where kind = ? and key = ? and at > ? order by at",
            (kind, key, now - window))]

    def retry_after(self, username: str, address: str) -> float:
        """Seconds until this username may try again from this address; 0 when it may now."""
        now = self.clock()
        with self._lock:
            return max(self.rules[kind].wait(self._recent(kind, key, now), now)
                       for kind, key in self._keys(username, address))

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        with self._lock, writing(self._con) as con:
            for kind, key in self._keys(username, address):
                con.execute("delete from login_failures where kind = ? and at <= ?",
                            (kind, now - self.rules[kind].window))
                con.execute("insert into login_failures values (?, ?, ?)", (kind, key, now))
            (keys,) = con.execute("select count(*) from (select 1 from login_failures group by kind, key)").fetchone()
            if keys > self.MAX_KEYS:
                con.execute("delete from login_failures where (kind, key) in (select kind, key from login_failures"
                            " group by kind, key order by max(at) limit ?)", (keys - self.MAX_KEYS,))

    def succeeded(self, username: str, address: str) -> None:
        """A right password clears the user's count; the address's decays with its window."""
        kind, key = self._keys(username, address)[0]
        with self._lock, writing(self._con) as con:
            con.execute("delete from login_failures where kind = ? and key = ?", (kind, key))

    def __len__(self) -> int:
        """How many usernames and addresses are remembered."""
        with self._lock:
            return self._con.execute("select count(*) from (select 1 from login_failures group by kind, key)"
                                     ).fetchone()[0]


@dataclass(frozen=True)
class LoginResult:
    user: auth.User | None
    # "ok", or why not: "unknown_user", "wrong_password", "throttled", "busy".
    outcome: str
    retry_after: float = 0.0


@dataclass
class LoginGuard:
    """Every login attempt goes through here: throttle, a cap on concurrent bcrypt checks, the audit log."""

    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    # A threading.BoundedSemaphore counts this process; CheckSlots every process on a state directory.
    checks: threading.BoundedSemaphore | CheckSlots = field(
        default_factory=lambda: threading.BoundedSemaphore(MAX_CONCURRENT_CHECKS))
    wall_clock: Callable[[], datetime] = field(default=lambda: datetime.now().astimezone())
    # Failed attempts by outcome, since the process started.
    failures: Counter = field(default_factory=Counter)
    _count_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def attempt(self, users: dict[str, auth.User], username: str, password: str, address: str) -> LoginResult:
        address = address or ANY_ADDRESS
        wait = self.throttle.retry_after(username, address)
        if wait > 0:
            return self._refuse(username, address, LoginResult(None, "throttled", wait))
        # Queueing would let a burst of guesses hold every core; the form asks to try again.
        if not self.checks.acquire(blocking=False):
            return self._refuse(username, address, LoginResult(None, "busy"))
        try:
            user = auth.verify(users, username, password)
        finally:
            self.checks.release()
        if user:
            self.throttle.succeeded(username, address)
            return LoginResult(user, "ok")
        self.throttle.failed(username, address)
        outcome = "wrong_password" if username in users else "unknown_user"
        return self._refuse(username, address, LoginResult(None, outcome))

    def _refuse(self, username: str, address: str, result: LoginResult) -> LoginResult:
        with self._count_lock:
            self.failures[result.outcome] += 1
        # %r keeps a crafted username on one log line. The password is never logged.
        LOGGER.warning("failed login: user=%r address=%r reason=%s at=%s", username[:LoginThrottle.MAX_KEY_LENGTH],
                       address, result.outcome, self.wall_clock().isoformat(timespec="seconds"))
        return result


def shared_login_guard(state_dir: Path) -> LoginGuard:
    """The guard every session of this process uses, its throttle and cap kept in state_dir, so
    that replicas sharing that directory share both. If the directory cannot be written, the
    server still lets people log in, with both kept in this process only, and says so in its log."""
    try:
        return LoginGuard(throttle=LoginThrottle(path=state_dir / LOGIN_STORE_NAME),
                          checks=CheckSlots(state_dir / CHECK_SLOTS_FOLDER_NAME, MAX_CONCURRENT_CHECKS))
    except (OSError, sqlite3.Error) as error:
        LOGGER.error("cannot keep failed logins in %s (%s): the login throttle counts this process only, "
                     "and no longer holds across replicas or a restart", state_dir, error)
        return LoginGuard()


def client_address(ip_address: str | None) -> str:
    """The address to throttle by. uvicorn already replaced a loopback proxy's address with the
    X-Forwarded-For client; what is left as None is this machine."""
    return ip_address or ANY_ADDRESS
