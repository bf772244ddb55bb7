"""Screen tokens: the command that issues, revokes and lists them, the rules a token must pass
(signed, unexpired, still registered), and what a session gets with one (the screen role only).
"""

from __future__ import annotations

import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dashboard.settings import Settings
from dashboard.web import screen_tokens
from tests.fixtures import DAYS
from tests.test_app_pages import open_page
from tests.test_screens_and_login import app_env, log_in, with_users  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parents[1]
LAST_LINE = re.compile(r"/\?kiosk=1&token=([A-Za-z0-9_-]{16}\.[0-9]+\.[A-Za-z0-9_-]{43})")
LOGIN_LABELS = ["用户名 / Username", "密码 / Password"]


@pytest.fixture
def state(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("DASHBOARD_STATE_DIR", str(tmp_path / "state"))
    return Settings.from_env()


def run_command(state_dir: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(state_dir.parent), "DASHBOARD_STATE_DIR": str(state_dir),
                   "DASHBOARD_SECRETS": str(state_dir.parent / "no-secrets.toml")}
    return subprocess.run([sys.executable, "-m", "dashboard", "screen-token", *args], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=120)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---------------------------------------------------------------- the rules

def test_a_token_is_valid_for_its_screen_and_stored_hashed(state):
    token = screen_tokens.issue(state, "大厅主屏", days=30)
    assert screen_tokens.screen_for(state, token).name == "大厅主屏"
    registry = state.screen_tokens_file.read_text(encoding="utf-8")
    assert token not in registry and token.split(".")[2] not in registry and token.split(".")[0] not in registry
    assert mode(state.screen_tokens_file) == 0o600
    assert mode(state.state_dir / "screen_token_secret") == 0o600


def test_expired_tokens_are_refused(state):
    now = time.time()
    old = screen_tokens.issue(state, "old", days=1, now=now - 2 * 86_400)
    assert screen_tokens.screen_for(state, old) is None
    fresh = screen_tokens.issue(state, "fresh", days=1, now=now)
    assert screen_tokens.screen_for(state, fresh, now=now + 86_400 - 5).name == "fresh"
    assert screen_tokens.screen_for(state, fresh, now=now + 86_400 + 5) is None


def test_revoked_and_replaced_tokens_are_refused(state):
    first = screen_tokens.issue(state, "wall-1")
    second = screen_tokens.issue(state, "wall-1")  # re-issuing replaces
    other = screen_tokens.issue(state, "wall-2")
    assert screen_tokens.screen_for(state, first) is None
    assert screen_tokens.screen_for(state, second).name == "wall-1"
    assert screen_tokens.revoke(state, "wall-1") is True
    assert screen_tokens.screen_for(state, second) is None
    assert screen_tokens.screen_for(state, other).name == "wall-2"
    assert screen_tokens.revoke(state, "wall-1") is False
    assert [screen.name for screen in screen_tokens.registered(state)] == ["wall-2"]


def test_a_forged_or_altered_token_is_refused(state):
    token = screen_tokens.issue(state, "wall")
    token_id, expires, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    later = str(int(expires) + 86_400)
    for forged in (f"{token_id}.{expires}.{flipped}", f"{token_id}.{later}.{signature}", token + "x", "", "admin",
                   f"{'a' * 16}.{expires}.{signature}"):
        assert screen_tokens.screen_for(state, forged) is None, forged


def test_another_secret_invalidates_every_token(state):
    token = screen_tokens.issue(state, "wall")
    (state.state_dir / "screen_token_secret").write_text("f" * 64 + "\n")
    assert screen_tokens.screen_for(state, token) is None


def test_checking_never_creates_a_secret(state):
    assert screen_tokens.screen_for(state, f"{'a' * 16}.9999999999.{'b' * 43}") is None
    assert not (state.state_dir / "screen_token_secret").exists()


def test_a_secret_from_the_secrets_file_is_used_and_none_is_generated(state, tmp_path, monkeypatch):
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(f'[screens]\ntoken_secret = "{"9" * 64}"\n')
    monkeypatch.setenv("DASHBOARD_SECRETS", str(secrets_file))
    token = screen_tokens.issue(state, "wall")
    assert screen_tokens.screen_for(state, token).name == "wall"
    assert not (state.state_dir / "screen_token_secret").exists()
    secrets_file.write_text(f'[screens]\ntoken_secret = "{"8" * 64}"\n')
    assert screen_tokens.screen_for(state, token) is None


@pytest.mark.parametrize("name", ["", " wall", "a\nb", "x" * 65])
def test_unusable_names_are_refused(state, name):
    with pytest.raises(screen_tokens.ScreenTokenError):
        screen_tokens.issue(state, name)


# ---------------------------------------------------------------- the command

def test_the_command_issues_lists_and_revokes(tmp_path, monkeypatch):
    state_dir = tmp_path / "state"
    issued = run_command(state_dir, "--name", "大厅主屏", "--days", "30")
    assert issued.returncode == 0, issued.stderr
    match = LAST_LINE.fullmatch(issued.stdout.splitlines()[-1])
    assert match, issued.stdout
    # Another process (a replica of the server) checks it from the state directory alone.
    monkeypatch.setenv("DASHBOARD_STATE_DIR", str(state_dir))
    assert screen_tokens.screen_for(Settings.from_env(), match.group(1)).name == "大厅主屏"
    assert int(match.group(1).split(".")[1]) - time.time() == pytest.approx(30 * 86_400, abs=300)

    listed = run_command(state_dir, "--list")
    assert listed.returncode == 0 and listed.stdout.startswith("大厅主屏\tvalid\t")
    assert match.group(1) not in listed.stdout

    assert run_command(state_dir, "--revoke", "大厅主屏").returncode == 0
    assert screen_tokens.screen_for(Settings.from_env(), match.group(1)) is None
    unknown = run_command(state_dir, "--revoke", "大厅主屏")
    assert unknown.returncode == 1 and "no screen named" in unknown.stderr
    assert run_command(state_dir, "--name", "wall", "--days", "0").returncode == 1


# ---------------------------------------------------------------- a session with a token

@pytest.fixture
def token_env(state, request):
    """Users configured (the fixture's wall, zhang and ops) and a fresh state directory."""
    request.getfixturevalue("with_users")
    return state


def is_login_page(at) -> bool:
    return [t.label for t in at.text_input] == LOGIN_LABELS and not at.metric


@pytest.mark.usefixtures("app_env")
def test_a_valid_token_opens_the_overview_as_a_screen(token_env):
    token = screen_tokens.issue(token_env, "wall-1")
    at = open_page("overview.py", kiosk="1", token=token, day=DAYS[2].isoformat())
    assert not at.exception and at.title[0].value == "总览" and at.metric
    # Kept in the address bar: a reload, or the reconnect after a restart, sends it again.
    assert at.query_params["token"] == token and at.query_params["kiosk"] == "1"
    # The screen role: fatigue (names) withheld — said in the desk view, a wall has no room for
    # the note — and the staff page not open to it.
    desk = open_page("overview.py", token=token, day=DAYS[2].isoformat())
    assert any("疲劳预警含人员姓名" in c.value for c in desk.caption)
    staff = open_page("staff.py", token=token)
    assert staff.title[0].value == "总览"


@pytest.mark.usefixtures("app_env")
def test_the_session_keeps_its_token_when_a_link_drops_the_query(token_env):
    token = screen_tokens.issue(token_env, "wall-1")
    at = open_page("overview.py", token=token)
    del at.query_params["token"]
    at.run()
    assert not is_login_page(at) and at.metric
    assert at.query_params["token"] == token


@pytest.mark.usefixtures("app_env")
def test_a_revoked_token_gets_the_login_page_at_the_next_run(token_env):
    token = screen_tokens.issue(token_env, "wall-1")
    at = open_page("overview.py", kiosk="1", token=token)
    assert at.metric
    screen_tokens.revoke(token_env, "wall-1")
    at.run()
    assert is_login_page(at)
    assert any("此屏幕链接已失效" in w.value for w in at.warning)


@pytest.mark.usefixtures("app_env")
@pytest.mark.parametrize("kind", ["expired", "forged"])
def test_expired_and_forged_tokens_get_the_login_page(token_env, kind):
    token = screen_tokens.issue(token_env, "wall-1", days=1, now=time.time() - 2 * 86_400 if kind == "expired" else None)
    if kind == "forged":
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    at = open_page("overview.py", kiosk="1", token=token)
    assert is_login_page(at)
    assert not any('class="attention"' in str(block.body) for block in at.get("html"))


@pytest.mark.usefixtures("app_env")
def test_a_password_login_replaces_a_refused_token(token_env):
    at = open_page("overview.py", token=f"{'a' * 16}.9999999999.{'b' * 43}")
    assert is_login_page(at)
    at = log_in(at, "zhang", "zhang-pw")
    assert at.title[0].value == "总览" and at.metric
    assert "token" not in at.query_params


@pytest.mark.usefixtures("app_env")
def test_without_users_a_token_still_grants_only_the_screen_role(state):
    """No users means the operator at the machine is admin; a screen link opened there stays a screen."""
    token = screen_tokens.issue(state, "wall-1")
    assert open_page("staff.py").title[0].value == "人员排班"
    assert open_page("staff.py", token=token).title[0].value == "总览"

