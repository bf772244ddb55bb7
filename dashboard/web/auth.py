"""Users, roles and what each role may see: the rules, checked on the server for every page and
query (web/access.py applies them to a session).

Users come from `[auth.users.<username>]` tables in `.streamlit/secrets.toml`, or from the TOML
file named by DASHBOARD_USERS_FILE (kept outside the repo), each with a bcrypt `password_hash`,
a `role`, a display `name` and, for a street's or a community's people, an `area` code: a user
with an area sees that area's subtree only (web/access.py binds it to every query); one without
is district-wide. `python -m dashboard hash-password` makes a hash. How often a
password may be tried is web/login_throttle.py's; where the server may run with no users at all,
web/loopback_only.py's.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import bcrypt

from dashboard import settings
from dashboard.figures import queries
from dashboard.web.pages import EVERYONE, PAGES

# The pages each role may open, by url_path, from the one page table.
ROLES = {role: frozenset(spec.url_path for spec in PAGES if role in spec.roles) for role in EVERYONE}
# With no users configured the dashboard only listens on loopback, and whoever can reach it
# there is the operator at the machine.
LOCAL_ROLE = "admin"
# Roles that only exist for an area: a data clerk uploads their own street's files.
AREA_ROLES = frozenset({"clerk"})


@dataclass(frozen=True)
class User:
    username: str
    name: str
    role: str
    password_hash: str
    area: str = ""  # a street or community code; "" = the whole district


class AccessDenied(PermissionError):
    pass


class UsersFileError(ValueError):
    """A configured users file that cannot be used. The server stops rather than run without login."""

    def __init__(self, path: Path, problem: str):
        super().__init__(
            f"Users file {path}: {problem}. The dashboard does not start while a configured users file is "
            "unusable, because that would mean no login. Fix the file (see .streamlit/secrets.example.toml) "
            f"or remove the setting. 用户配置文件 {path} 无法使用，服务已停止：请修正该文件。")


# A street's code (9 digits) or a community's (12): whether it names an area of the snapshot is
# checked on every run, against the snapshot's areas (web/access.py).
AREA_CODE = re.compile(r"[0-9]{9}(?:[0-9]{3})?")

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
            area = entry.get("area", "")
            if not isinstance(area, str) or not (area == "" or AREA_CODE.fullmatch(area)):
                raise UsersFileError(path, f"user {username!r}: area must be a street's 9-digit or a community's"
                                           " 12-digit code in quotes, or absent for the whole district")
            if role in AREA_ROLES and not area:
                raise UsersFileError(path, f"user {username!r}: role {role} needs an area (the clerk's street)")
            table[username] = User(username, str(entry.get("name", username)), role, password_hash, area)
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


def within(scope: str, area: str) -> bool:
    """Whether `area` (a code, "" = the district) lies in the subtree of `scope`: codes nest by prefix."""
    return area.startswith(scope)


def check_area(scope: str, query: str, area: str | None) -> None:
    """A session bound to `scope` may run `query` with `area` (None: the query binds no area)
    only inside its subtree; a query that binds no area must say it is the same for every area,
    which queries.load already holds every header to."""
    if area is None:
        if not queries.same_for_every_area(query):
            raise AccessDenied(f"{query} binds no $area and is not marked 'Area: all.'")
    elif not within(scope, area):
        raise AccessDenied(f"{query} asked for area {area!r}, outside the session's area {scope!r}")
