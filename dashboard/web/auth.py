"""Users, roles and what each role may see. Checked on the server for every page and query.

Users come from `[auth.users.<username>]` tables in `.streamlit/secrets.toml`, or from the TOML
file named by DASHBOARD_USERS_FILE (kept outside the repo), each with a bcrypt `password_hash`,
a `role` and a display `name`. `python -m dashboard hash-password` makes a hash.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import sqlite3
import threading
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import bcrypt

from dashboard import settings
from dashboard.figures import queries
from dashboard.web.login_store import CHECK_SLOTS_FOLDER_NAME, LOGIN_STORE_NAME, CheckSlots, open_store, writing
from dashboard.web.pages import EVERYONE, PAGES

# The pages each role may open, by url_path, from the one page table.
ROLES = {role: frozenset(spec.url_path for spec in PAGES if role in spec.roles) for role in EVERYONE}
# With no users configured the dashboard only listens on loopback, and whoever can reach it
# there is the operator at the machine.
LOCAL_ROLE = "admin"


@dataclass(frozen=True)
class User:
    username: str
    name: str
    role: str
    password_hash: str


class AccessDenied(PermissionError):
    pass


class UsersFileError(ValueError):
    """A configured users file that cannot be used. The server stops rather than run without login."""

    def __init__(self, path: Path, problem: str):
        super().__init__(
            f"Users file {path}: {problem}. The dashboard does not start while a configured users file is "
            "unusable, because that would mean no login. Fix the file (see .streamlit/secrets.example.toml) "
            f"or remove the setting. 用户配置文件 {path} 无法使用，服务已停止：请修正该文件。")


# What bcrypt.hashpw writes: $2b$, a two-digit cost, then 53 characters of bcrypt's base64.
BCRYPT_HASH = re.compile(r"\$2[abxy]\$[0-9]{2}\$[./A-Za-z0-9]{53}")


def users_sources() -> list[tuple[Path, bool]]:
    """Where users come from, first one wins: (path, must exist).

    DASHBOARD_USERS_FILE, once set, must exist: a mistyped path would otherwise mean no login.
    The secrets file is optional; it may hold only the ID key.
    """
    named = settings.users_file()
    return ([(named, True)] if named else []) + [(settings.secrets_file(), False)]


def users_signature() -> tuple:
    """Changes whenever a users source is created, removed or rewritten: the cache key for load_users."""
    signature = []
    for path, _ in users_sources():
        try:
            stat = path.stat()
            signature.append((str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size))
        except OSError as error:
            signature.append((str(path), type(error).__name__))
    return tuple(signature)


def _users_table(path: Path, required: bool) -> dict:
    try:
        document = settings.read_toml(path)
    except FileNotFoundError:
        if required:
            raise UsersFileError(path, "DASHBOARD_USERS_FILE names a file that does not exist") from None
        return {}
    except OSError as error:
        raise UsersFileError(path, f"cannot be read ({error.strerror or type(error).__name__})") from None
    except UnicodeDecodeError:
        raise UsersFileError(path, "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        # tomllib names the line and column, never the content.
        raise UsersFileError(path, f"is not valid TOML ({error})") from None
    table = document.get("auth", {})
    table = table.get("users", {}) if isinstance(table, dict) else None
    if not isinstance(table, dict):
        raise UsersFileError(path, "[auth.users] must be a table of users")
    if required and not table:
        raise UsersFileError(path, "defines no [auth.users.<name>] entry")
    return table


def load_users() -> dict[str, User]:
    """Every configured user; raises UsersFileError (a ValueError) when a configured file is unusable."""
    table: dict = {}
    for path, required in users_sources():
        entries = _users_table(path, required)
        for username, entry in entries.items():
            if username in table:
                continue
            if not isinstance(entry, dict):
                raise UsersFileError(path, f"user {username!r} must be a table")
            role = entry.get("role")
            if role not in ROLES:
                raise UsersFileError(path, f"user {username!r}: role must be one of {sorted(ROLES)}, not {role!r}")
            password_hash = entry.get("password_hash")
            if not isinstance(password_hash, str) or not BCRYPT_HASH.fullmatch(password_hash):
                raise UsersFileError(path, f"user {username!r}: password_hash is missing or not a bcrypt hash "
                                           "(make one with python -m dashboard hash-password)")
            table[username] = User(username, str(entry.get("name", username)), role, password_hash)
    return table


def verify(users: dict[str, User], username: str, password: str) -> User | None:
    user = users.get(username)
    # Compare against a dummy hash for unknown names too, so timing does not reveal who exists.
    candidate = user.password_hash if user else "$2b$12$" + "." * 53
    try:
        matches = bcrypt.checkpw(password.encode(), candidate.encode())
    except ValueError:
        matches = False
    return user if user and matches else None


# bcrypt reads at most 72 bytes of a password: 72 ASCII characters, 24 Chinese ones in UTF-8.
MAX_PASSWORD_BYTES = 72


class PasswordTooLong(ValueError):
    pass


def hash_password(password: str) -> str:
    encoded = password.encode()
    if len(encoded) > MAX_PASSWORD_BYTES:
        raise PasswordTooLong(f"the password is {len(encoded)} bytes in UTF-8; bcrypt takes at most"
                              f" {MAX_PASSWORD_BYTES} ({MAX_PASSWORD_BYTES} letters or digits, 24 Chinese characters)")
    return bcrypt.hashpw(encoded, bcrypt.gensalt()).decode()


def may_open(role: str, page: str) -> bool:
    return page in ROLES.get(role, frozenset())


def may_run(role: str, query: str) -> bool:
    if role not in ROLES:
        return False
    allowed = queries.allowed_roles(query)  # from the query's own header line
    return allowed is None or role in allowed


def check_query(role: str, query: str) -> None:
    if not may_run(role, query):
        raise AccessDenied(f"role {role!r} may not run {query}")


# ---------------------------------------------------------------- login attempts

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
    user: User | None
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

    def attempt(self, users: dict[str, User], username: str, password: str, address: str) -> LoginResult:
        address = address or ANY_ADDRESS
        wait = self.throttle.retry_after(username, address)
        if wait > 0:
            return self._refuse(username, address, LoginResult(None, "throttled", wait))
        # Queueing would let a burst of guesses hold every core; the form asks to try again.
        if not self.checks.acquire(blocking=False):
            return self._refuse(username, address, LoginResult(None, "busy"))
        try:
            user = verify(users, username, password)
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


# ---------------------------------------------------------------- where the server may run

def is_loopback(address: str) -> bool:
    if address in ("localhost", ""):
        return address == "localhost"
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def refuse_open_without_users(address: str, users: dict[str, User]) -> str | None:
    """The message to stop with when the server would be reachable by anyone, else None."""
    if users or is_loopback(address):
        return None
    return (
        f"Refusing to serve on {address or 'all interfaces'} with no users configured: anyone on the "
        "network could read the dashboard. Add users to .streamlit/secrets.toml (see "
        ".streamlit/secrets.example.toml) or bind to 127.0.0.1. "
        f"拒绝在 {address or '所有网卡'} 上无登录运行：请在 .streamlit/secrets.toml 中配置用户，或仅绑定 127.0.0.1。"
    )


# Headers a reverse proxy adds. A browser talking to the server directly sends none of them.
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip")


def refuse_proxied_without_users(headers: Mapping[str, str], users: dict[str, User]) -> str | None:
    """The message to stop with when a request came through a proxy and nobody has to log in.

    Without users, loopback is trusted to mean the operator at the machine; behind a proxy on
    that machine, every visitor arrives from loopback, so the rule no longer holds.
    """
    if users:
        return None
    present = sorted({name.lower() for name in headers} & set(PROXY_HEADERS))
    if not present:
        return None
    return (
        f"Refusing a request forwarded by a proxy ({', '.join(present)}) with no users configured: behind a "
        "proxy every visitor would be treated as the operator at this machine. Add users (see README, "
        "\"Login and roles\") or open the dashboard directly on 127.0.0.1. "
        "经代理转发的访问在未配置登录时被拒绝：请先配置用户，或在本机直接访问 127.0.0.1。"
    )
