"""Users, roles and the refusal to serve an open address without them."""

from __future__ import annotations

import subprocess
import sys

import bcrypt
import pytest

from dashboard.web import auth, loopback_only


@pytest.fixture
def users_file(tmp_path, monkeypatch):
    path = tmp_path / "users.toml"
    hashes = {name: bcrypt.hashpw(f"{name}-pw".encode(), bcrypt.gensalt(4)).decode()
              for name in ("wall", "zhang", "ops")}
    path.write_text(
        f'[auth.users.wall]\nrole = "screen"\npassword_hash = "{hashes["wall"]}"\n'
        f'[auth.users.zhang]\nname = "张指挥长"\nrole = "leader"\npassword_hash = "{hashes["zhang"]}"\n'
        f'[auth.users.ops]\nrole = "admin"\npassword_hash = "{hashes["ops"]}"\n'
    )
    monkeypatch.setenv("DASHBOARD_USERS_FILE", str(path))
    monkeypatch.setenv("DASHBOARD_SECRETS", str(tmp_path / "absent.toml"))
    return path


def test_users_load_with_roles(users_file):
    users = auth.load_users()
    assert {u.username: u.role for u in users.values()} == {"wall": "screen", "zhang": "leader", "ops": "admin"}
    assert users["zhang"].name == "张指挥长" and users["wall"].name == "wall"


def test_password_is_checked(users_file):
    users = auth.load_users()
    assert auth.verify(users, "zhang", "zhang-pw").role == "leader"
    assert auth.verify(users, "zhang", "wall-pw") is None
    assert auth.verify(users, "nobody", "zhang-pw") is None
    assert auth.verify(users, "zhang", "") is None


def test_unknown_role_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "users.toml"
    path.write_text('[auth.users.x]\nrole = "root"\npassword_hash = "$2b$04$abc"\n')
    monkeypatch.setenv("DASHBOARD_USERS_FILE", str(path))
    with pytest.raises(ValueError, match="role must be one of"):
        auth.load_users()


@pytest.mark.parametrize(
    ("role", "page", "allowed"),
    [("screen", "overview", True), ("screen", "staff", False), ("screen", "health", False),
     ("leader", "staff", True), ("leader", "health", True), ("admin", "health", True), ("nobody", "overview", False)],
)
def test_pages_by_role(role, page, allowed):
    assert auth.may_open(role, page) is allowed


@pytest.mark.parametrize(
    ("role", "query", "allowed"),
    [("screen", "testing/day_totals", True), ("screen", "staff/roster", False), ("leader", "staff/roster", True),
     ("leader", "health/rejects", False), ("leader", "health/ingest_log", False), ("admin", "health/rejects", True),
     ("", "testing/day_totals", False), ("guest", "zones/active_by_level", False)],
)
def test_queries_by_role(role, query, allowed):
    assert auth.may_run(role, query) is allowed
    if not allowed:
        with pytest.raises(auth.AccessDenied):
            auth.check_query(role, query)


@pytest.mark.parametrize(
    ("address", "refused"),
    [("127.0.0.1", False), ("localhost", False), ("::1", False), ("0.0.0.0", True), ("", True),
     ("192.168.1.20", True)],
)
def test_open_address_needs_users(address, refused):
    assert (loopback_only.refuse_open_without_users(address, {}) is not None) is refused
    assert loopback_only.refuse_open_without_users(address, {"u": auth.User("u", "u", "admin", "h")}) is None


def test_serve_refuses_open_address_without_users(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DASHBOARD_SECRETS": str(tmp_path / "none.toml"), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "dashboard", "serve", "--address", "0.0.0.0"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert "Refusing to serve on 0.0.0.0 with no users configured" in done.stderr
