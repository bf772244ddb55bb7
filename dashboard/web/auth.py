"""Users, roles and what each role may see. Checked on the server for every page and query.

Users come from `[auth.users.<username>]` tables in `.streamlit/secrets.toml`, or from the TOML
file named by DASHBOARD_USERS_FILE (kept outside the repo), each with a bcrypt `password_hash`,
a `role` and a display `name`. `python -m dashboard hash-password` makes a hash.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import bcrypt

from dashboard.settings import SECRETS_FILE

# Pages by url_path, as app.py names them.
OVERVIEW, ZONES, TESTING, ISOLATION, STAFF, HEALTH = "overview", "zones", "testing", "isolation", "staff", "health"

ROLES = {
    # Wall screens: aggregates only.
    "screen": frozenset({OVERVIEW}),
    "leader": frozenset({OVERVIEW, ZONES, TESTING, ISOLATION, STAFF, HEALTH}),
    "admin": frozenset({OVERVIEW, ZONES, TESTING, ISOLATION, STAFF, HEALTH}),
}
# Queries that return names or row-level detail, and the roles that may run them. Any query not
# listed is an aggregate that every role may run.
RESTRICTED_QUERIES = {
    "staff/roster": frozenset({"leader", "admin"}),
    "staff/fatigue": frozenset({"leader", "admin"}),
    "health/rejects": frozenset({"admin"}),
    "health/ingest_log": frozenset({"admin"}),
}
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


def load_users(secrets_file: Path = SECRETS_FILE) -> dict[str, User]:
    table: dict = {}
    users_file = os.environ.get("DASHBOARD_USERS_FILE")
    for path in [Path(p) for p in (users_file, os.environ.get("DASHBOARD_SECRETS", secrets_file)) if p]:
        if path.is_file():
            with path.open("rb") as f:
                table = {**tomllib.load(f).get("auth", {}).get("users", {}), **table}
    users = {}
    for username, entry in table.items():
        role = entry.get("role")
        if role not in ROLES:
            raise ValueError(f"user {username!r}: role must be one of {sorted(ROLES)}, not {role!r}")
        users[username] = User(username, entry.get("name", username), role, entry["password_hash"])
    return users


def verify(users: dict[str, User], username: str, password: str) -> User | None:
    user = users.get(username)
    # Compare against a dummy hash for unknown names too, so timing does not reveal who exists.
    candidate = user.password_hash if user else "$2b$12$" + "." * 53
    try:
        matches = bcrypt.checkpw(password.encode(), candidate.encode())
    except ValueError:
        matches = False
    return user if user and matches else None


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def may_open(role: str, page: str) -> bool:
    return page in ROLES.get(role, frozenset())


def may_run(role: str, query: str) -> bool:
    if role not in ROLES:
        return False
    allowed = RESTRICTED_QUERIES.get(query)
    return allowed is None or role in allowed


def check_query(role: str, query: str) -> None:
    if not may_run(role, query):
        raise AccessDenied(f"role {role!r} may not run {query}")


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
