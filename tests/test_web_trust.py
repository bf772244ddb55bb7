"""What the web side must not trust: the Host, a proxy in front, an unusable users file, a
password guesser, Markdown in a URL or an export, and a URL number that is not one.

The rules are pure functions and a clock-injected throttle, tested here without sleeps; AppTest
runs the router to show that each rule is applied. tests/browser/test_web_trust.py repeats the
parts only a real server shows (the Host check, a real X-Forwarded-For header, a rendered link).
"""

from __future__ import annotations

import csv
import html
import json
import logging
import re
import string
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import bcrypt
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.i18n import literal
from dashboard.ingest.build import ingest
from dashboard.settings import Settings
from dashboard.web import access, auth, login_throttle, loopback_only, wall
from tests.conftest import serving
from tests.fixtures import XINGYUAN, build_fixture

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "dashboard" / "app.py"
USERS = {"wall": "screen", "zhang": "leader", "ops": "admin"}


# ---------------------------------------------------------------- helpers

def users_toml(roles: dict[str, str]) -> str:
    return "".join(
        f'[auth.users.{name}]\nrole = "{role}"\n'
        f'password_hash = "{bcrypt.hashpw(f"{name}-pw".encode(), bcrypt.gensalt(4)).decode()}"\n'
        for name, role in roles.items())


@pytest.fixture
def app_env(fixture_snapshot, tmp_path, monkeypatch):
    monkeypatch.setenv("DASHBOARD_SECRETS", str(tmp_path / "absent-secrets.toml"))
    with serving(fixture_snapshot, monkeypatch):
        yield fixture_snapshot


@pytest.fixture
def users_file(app_env, tmp_path, monkeypatch) -> Path:
    path = tmp_path / "users.toml"
    path.write_text(users_toml(USERS))
    monkeypatch.setenv("DASHBOARD_USERS_FILE", str(path))
    return path


def open_app(page: str | None = None, *, timeout: float = 30, **params) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    for name, value in params.items():
        at.query_params[name] = value
    if page:
        at.switch_page(f"app_pages/{page}.py")
    return at.run()


def log_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    return at.button[0].click().run()


def shows_data(at: AppTest) -> bool:
    return bool(at.metric) or any(title.value == "总览" for title in at.title)


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


# CommonMark: a backslash before ASCII punctuation makes it literal. Written out here rather than
# taken from the dashboard, so the tests read Markdown the way a renderer does.
PUNCTUATION = set(string.punctuation)


def unescaped_punctuation(markdown: str) -> list[str]:
    """ASCII punctuation a Markdown renderer would act on (not preceded by a backslash)."""
    active, escaped = [], False
    for char in markdown:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in PUNCTUATION:
            active.append(char)
    return active


def as_rendered(markdown: str) -> str:
    """The text a renderer shows for escaped punctuation."""
    return re.sub(r"\\([" + re.escape(string.punctuation) + "])", r"\1", markdown)


MARKDOWN_LINK = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\(")
# What GitHub-style Markdown links by itself in the text it shows, after escapes are resolved
# (the patterns of mdast-util-gfm-autolink-literal, the plugin Streamlit's renderer uses).
AUTOLINK = re.compile(r"(?i)(https?://|www(?=\.))[-.\w]+|[-.\w+]+@[-\w]+(\.[-\w]+)+", re.ASCII)


def visible(text: str) -> str:
    """The text without the invisible word joiners that keep an address from being linked."""
    return text.replace("\u2060", "")


# ---------------------------------------------------------------- 4. hosts and proxies

def test_config_allows_only_loopback_host_names_and_hides_tracebacks():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["allowedHosts"] == ["localhost", "127.0.0.1"]
    assert config["server"]["address"] == "127.0.0.1"
    assert config["client"]["showErrorDetails"] == "none"


@pytest.mark.parametrize(
    ("headers", "refused"),
    [({}, False), ({"host": "127.0.0.1:8501", "user-agent": "Chromium"}, False),
     ({"x-forwarded-for": "203.0.113.7"}, True), ({"X-Forwarded-For": "203.0.113.7"}, True),
     ({"forwarded": "for=203.0.113.7;proto=https"}, True), ({"x-real-ip": "203.0.113.7"}, True),
     ({"x-forwarded-proto": "https"}, True)],
)
def test_a_proxied_request_without_users_is_refused(headers, refused):
    assert (loopback_only.refuse_proxied_without_users(headers, {}) is not None) is refused
    # With users, everyone logs in, so a proxy in front changes nothing.
    assert loopback_only.refuse_proxied_without_users(headers, {"u": auth.User("u", "u", "admin", "h")}) is None


def test_the_router_stops_a_proxied_session_before_any_data(app_env, monkeypatch):
    # AppTest cannot send headers; the browser suite sends a real one. Here: the router applies the rule.
    monkeypatch.setattr(access, "_request_headers", lambda: {"x-forwarded-for": "203.0.113.7"})
    at = open_app("staff")
    assert not at.exception
    assert any("forwarded by a proxy" in error.value for error in at.error)
    assert not shows_data(at) and not at.sidebar.selectbox and not at.dataframe


# ---------------------------------------------------------------- 5. users files that cannot be used

GOOD_HASH = bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode()


@pytest.mark.parametrize(
    ("content", "problem"),
    [('[auth.users.zhang\nrole = "leader"', "not valid TOML"),
     ('[auth.users.zhang]\nrole = "leader"\n', "password_hash"),
     ('[auth.users.zhang]\nrole = "leader"\npassword_hash = ""\n', "password_hash"),
     # The placeholder in .streamlit/secrets.example.toml, copied without making a hash.
     ('[auth.users.zhang]\nrole = "leader"\n'
      'password_hash = "$2b$12$replace.with.output.of.hash-password......................"\n', "password_hash"),
     ('[auth.users.zhang]\nrole = "root"\npassword_hash = "' + GOOD_HASH + '"\n', "role must be one of"),
     ('[auth]\nusers = "zhang"\n', "must be a table"),
     ('[ids]\nhmac_key = "x"\n', "defines no"),
     (b"\xff\xfe[auth]", "not UTF-8")],
    ids=["bad-toml", "no-hash", "empty-hash", "placeholder-hash", "bad-role", "users-not-table", "no-users",
         "not-utf8"],
)
def test_an_unusable_users_file_is_an_error_not_no_users(tmp_path, monkeypatch, content, problem):
    path = tmp_path / "users.toml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    monkeypatch.setenv("DASHBOARD_USERS_FILE", str(path))
    monkeypatch.setenv("DASHBOARD_SECRETS", str(tmp_path / "absent.toml"))
    with pytest.raises(auth.UsersFileError, match=re.escape(problem)) as raised:
        auth.load_users()
    assert str(path) in str(raised.value)


def test_a_users_file_that_cannot_be_read_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("DASHBOARD_SECRETS", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("DASHBOARD_USERS_FILE", str(tmp_path / "missing.toml"))
    with pytest.raises(auth.UsersFileError, match="does not exist"):
        auth.load_users()
    (tmp_path / "a-directory.toml").mkdir()
    monkeypatch.setenv("DASHBOARD_USERS_FILE", str(tmp_path / "a-directory.toml"))
    with pytest.raises(auth.UsersFileError, match="cannot be read"):
        auth.load_users()
    # Permissions do not stop root, who runs these tests in CI: make the read itself fail.
    locked = tmp_path / "locked.toml"
    locked.write_text(users_toml({"zhang": "leader"}))
    monkeypatch.setenv("DASHBOARD_USERS_FILE", str(locked))
    real_read = Path.read_bytes

    def refuse(path: Path) -> bytes:
        if path == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(auth.UsersFileError, match="cannot be read \\(Permission denied\\)"):
        auth.load_users()


def test_the_secrets_file_may_be_absent_or_hold_no_users_but_not_be_broken(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    monkeypatch.setenv("DASHBOARD_SECRETS", str(secrets))
    assert auth.load_users() == {}
    secrets.write_text('[ids]\nhmac_key = "k"\n')
    assert auth.load_users() == {}
    secrets.write_text('[ids]\nhmac_key = "k\n')
    with pytest.raises(auth.UsersFileError, match="not valid TOML"):
        auth.load_users()


def test_a_users_file_wins_over_the_secrets_file(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(users_toml({"zhang": "admin", "li": "leader"}))
    named = tmp_path / "users.toml"
    named.write_text(users_toml({"zhang": "screen"}))
    monkeypatch.setenv("DASHBOARD_SECRETS", str(secrets))
    monkeypatch.setenv("DASHBOARD_USERS_FILE", str(named))
    assert {name: user.role for name, user in auth.load_users().items()} == {"zhang": "screen", "li": "leader"}


@pytest.mark.parametrize(
    ("users_file", "message"),
    [("missing.toml", "does not exist"), ("broken.toml", "not valid TOML")],
)
def test_serve_stops_on_an_unusable_users_file(tmp_path, users_file, message):
    (tmp_path / "broken.toml").write_text("[auth.users.zhang\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DASHBOARD_SECRETS": str(tmp_path / "none.toml"),
           "DASHBOARD_USERS_FILE": str(tmp_path / users_file)}
    # Loopback would be allowed without users: the users file alone must stop it.
    done = subprocess.run([sys.executable, "-m", "dashboard", "serve", "--address", "127.0.0.1"],
                          capture_output=True, text=True, env=env, timeout=60, cwd=REPO)
    assert done.returncode == 2
    assert message in done.stderr and str(tmp_path / users_file) in done.stderr
    assert "Uvicorn" not in done.stdout + done.stderr  # streamlit never started


def test_the_app_stops_on_an_unusable_users_file(app_env, tmp_path, monkeypatch, caplog):
    broken = tmp_path / "broken.toml"
    broken.write_text('[auth.users.zhang]\nrole = "leader"\n')
    monkeypatch.setenv("DASHBOARD_USERS_FILE", str(broken))
    with caplog.at_level(logging.ERROR, logger="dashboard.login"):
        at = open_app("overview")
    assert not at.exception
    assert [error.value for error in at.error] == [access.USERS_FILE_BROKEN]
    assert not shows_data(at) and not at.text_input  # neither the data nor a login form
    # The visitor is told to ask the operator; the operator's log names the file and the entry.
    assert "zhang" not in at.error[0].value and str(broken) not in at.error[0].value
    logged = [r.getMessage() for r in caplog.records if r.name == "dashboard.login"]
    assert any(str(broken) in message and "'zhang': password_hash" in message for message in logged)


# ---------------------------------------------------------------- 6. login: throttle, cap, audit, lookup

def test_backoff_per_user_doubles_then_locks(tmp_path):
    clock = FakeClock()
    throttle = login_throttle.LoginThrottle(clock=clock)
    waits = [0.0]
    for _ in range(10):
        clock.now += waits[-1]  # each try waits out the previous delay
        assert throttle.retry_after("zhang", "10.0.0.5") == 0
        throttle.failed("zhang", "10.0.0.5")
        waits.append(throttle.retry_after("zhang", "10.0.0.5"))
    waits = waits[1:]
    # Three free failures, then 1, 2, 4, 8, 16, 32 s; the tenth failure in 15 minutes locks the
    # name until the first one (at t=1000) is 15 minutes old.
    assert waits[:9] == [0, 0, 0, 1, 2, 4, 8, 16, 32]
    first_failure, tenth_failure = 1000.0, 1000.0 + 1 + 2 + 4 + 8 + 16 + 32
    assert waits[9] == first_failure + 900 - tenth_failure
    # Another address does not help the name...
    assert throttle.retry_after("zhang", "10.0.0.6") == waits[9]
    # ...and another name from the same address is free (the address has 10 of its 30).
    assert throttle.retry_after("li", "10.0.0.5") == 0
    clock.now = first_failure + 900
    assert throttle.retry_after("zhang", "10.0.0.5") == 0


def test_backoff_per_address_across_usernames():
    clock = FakeClock()
    throttle = login_throttle.LoginThrottle(clock=clock)
    for index in range(11):
        throttle.failed(f"guess{index}", "10.0.0.9")
    # Ten free failures per address, then 1 s for any name from it; other addresses are not slowed.
    assert throttle.retry_after("zhang", "10.0.0.9") == 1
    assert throttle.retry_after("zhang", "10.0.0.1") == 0


def test_failures_leave_the_window_and_success_clears_the_name():
    clock = FakeClock()
    throttle = login_throttle.LoginThrottle(clock=clock)
    for _ in range(5):
        throttle.failed("zhang", "a")
    assert throttle.retry_after("zhang", "a") == 2  # failures 4 and 5: 1 s, then 2 s
    clock.now += 901
    assert throttle.retry_after("zhang", "a") == 0
    throttle.failed("zhang", "a")
    assert throttle.retry_after("zhang", "a") == 0  # the old five are forgotten: one failure
    for _ in range(3):
        throttle.failed("zhang", "b")
    assert throttle.retry_after("zhang", "b") == 1
    throttle.succeeded("zhang", "b")
    assert throttle.retry_after("zhang", "c") == 0


def test_the_throttle_forgets_the_oldest_when_full():
    clock = FakeClock()
    throttle = login_throttle.LoginThrottle(clock=clock)
    throttle.MAX_KEYS = 6
    for index in range(10):
        clock.now += 1
        throttle.failed(f"guess{index}", "10.0.0.9")
    # One address key plus the newest usernames, never more than the bound.
    assert len(throttle) == 6


@pytest.fixture
def counted_verify(monkeypatch):
    """auth.verify with a call count, so a test sees when a password was not even checked."""
    calls = []
    real = auth.verify

    def verify(users, username, password):
        calls.append(username)
        return real(users, username, password)

    monkeypatch.setattr(auth, "verify", verify)
    return calls


@pytest.fixture
def some_users() -> dict[str, auth.User]:
    return {name: auth.User(name, name, role, bcrypt.hashpw(f"{name}-pw".encode(), bcrypt.gensalt(4)).decode())
            for name, role in USERS.items()}


def test_a_throttled_attempt_is_refused_without_checking_the_password(some_users, counted_verify):
    clock = FakeClock()
    guard = login_throttle.LoginGuard(throttle=login_throttle.LoginThrottle(clock=clock))
    for _ in range(4):
        assert guard.attempt(some_users, "zhang", "wrong", "10.0.0.5").outcome == "wrong_password"
    result = guard.attempt(some_users, "zhang", "zhang-pw", "10.0.0.5")
    assert (result.user, result.outcome, result.retry_after) == (None, "throttled", 1)
    assert len(counted_verify) == 4
    clock.now += 1
    assert guard.attempt(some_users, "zhang", "zhang-pw", "10.0.0.5").user.role == "leader"


def test_password_checks_are_capped_and_the_rest_told_busy(some_users, monkeypatch):
    inside, release = threading.Semaphore(0), threading.Event()
    real = auth.verify

    def slow_verify(users, username, password):
        inside.release()
        release.wait(timeout=30)
        return real(users, username, password)

    monkeypatch.setattr(auth, "verify", slow_verify)
    guard = login_throttle.LoginGuard()
    results = []
    checking = [threading.Thread(target=lambda: results.append(guard.attempt(some_users, "zhang", "zhang-pw", "a")))
                for _ in range(login_throttle.MAX_CONCURRENT_CHECKS)]
    for thread in checking:
        thread.start()
    for _ in checking:
        assert inside.acquire(timeout=30)  # both checks are running now
    busy = guard.attempt(some_users, "ops", "ops-pw", "b")
    release.set()
    for thread in checking:
        thread.join(timeout=30)
    assert (busy.user, busy.outcome) == (None, "busy")
    assert [r.outcome for r in results] == ["ok", "ok"]
    assert guard.attempt(some_users, "ops", "ops-pw", "b").outcome == "ok"  # free again


def test_failed_logins_are_logged_without_the_password(some_users, caplog):
    clock = FakeClock()
    guard = login_throttle.LoginGuard(throttle=login_throttle.LoginThrottle(clock=clock))
    with caplog.at_level(logging.WARNING, logger="dashboard.login"):
        guard.attempt(some_users, "zhang", "s3cret-guess", "10.0.0.5")
        guard.attempt(some_users, "nobody\nforged line", "s3cret-guess", "10.0.0.5")
        guard.attempt(some_users, "ops", "ops-pw", "10.0.0.5")
    records = [r for r in caplog.records if r.name == "dashboard.login"]
    assert len(records) == 2  # the successful login is not a failure
    first, second = (r.getMessage() for r in records)
    assert "user='zhang'" in first and "address='10.0.0.5'" in first and "reason=wrong_password" in first
    assert re.search(r"at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", first)
    assert "reason=unknown_user" in second and "\n" not in second
    assert all("s3cret-guess" not in message for message in (first, second))
    assert guard.failures == {"wrong_password": 1, "unknown_user": 1}


def test_the_login_form_throttles(users_file, monkeypatch):
    clock = FakeClock()
    guard = login_throttle.LoginGuard(throttle=login_throttle.LoginThrottle(clock=clock))
    monkeypatch.setattr(access, "login_guard", lambda: guard)
    at = open_app("overview")
    for _ in range(4):
        at = log_in(at, "zhang", "wrong")
    at = log_in(at, "zhang", "zhang-pw")
    assert any("Too many failed logins: try again in 1 s" in error.value for error in at.error)
    assert not shows_data(at)
    clock.now += 1
    at = log_in(at, "zhang", "zhang-pw")
    assert not at.exception and shows_data(at)
    assert guard.failures == {"wrong_password": 4, "throttled": 1}


def test_a_demoted_or_removed_user_loses_access_at_the_next_rerun(users_file):
    at = log_in(open_app("staff"), "zhang", "zhang-pw")
    assert at.title[0].value == "人员排班"
    users_file.write_text(users_toml({**USERS, "zhang": "screen"}))
    at.run()
    # The staff page is not a screen's: the router falls back to the overview, without staff names.
    assert at.title[0].value == "总览"
    assert any("疲劳预警含人员姓名" in caption.value for caption in at.caption)
    assert any("大屏" in caption.value for caption in at.sidebar.caption)
    users_file.write_text(users_toml({"wall": "screen", "ops": "admin"}))
    at.run()
    assert [field.label for field in at.text_input] == ["用户名 / Username", "密码 / Password"]
    assert not shows_data(at)


# ---------------------------------------------------------------- 7. Markdown from URLs and exports

NASTY = ["[click](http://x)", "<b>bold</b>", "**strong** _em_", "`code`", ":red[red] :material/home:", "$x^2$",
         "# heading", "line\n- item", "see https://evil.example/a?b=c", "WWW.example.com", "mail a.b@c.example",
         "![img](http://x.example/i.png)", "杏苑社区"]


@pytest.mark.parametrize("value", NASTY)
def test_literal_leaves_nothing_for_markdown_to_act_on(value):
    escaped = literal(value)
    assert unescaped_punctuation(escaped) == []
    assert not AUTOLINK.search(as_rendered(escaped))
    assert visible(as_rendered(escaped)) == " ".join(value.split())


def test_a_markdown_link_in_the_url_is_shown_as_text(app_env):
    at = open_app(area="[click](http://x)", layers="https://evil.example/")
    bodies = [warning.value for warning in at.sidebar.warning]
    assert len(bodies) == 2
    for body, value in zip(bodies, ["[click](http://x)", "https://evil.example/"]):
        assert not MARKDOWN_LINK.search(body) and not AUTOLINK.search(as_rendered(body))
        assert value in visible(as_rendered(body))


MD_COMMUNITY = "杏苑[点此](http://x.example)<b>社区</b>"
MD_ZONE = '<a href="http://x.example">7号楼</a>*封*'
MD_HOTEL = "酒店<i>甲</i>&[x](http://x.example)"


def _rename(path: Path, column: str, old: str, new: str) -> None:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    index = rows[0].index(column)
    for row in rows[1:]:
        if row[index] == old:
            row[index] = new
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def name_things_in_markdown(data: Path) -> None:
    """Rename a community, a hotel and a zone of the fixture in Markdown and HTML."""
    _rename(data / "reference" / "areas.csv", "name", "杏苑社区", MD_COMMUNITY)
    _rename(data / "reference" / "sites.csv", "name", "隔离酒店甲", MD_HOTEL)
    for day in (data / "exports").iterdir():
        _rename(day / "control_zones.csv", "name", "杏苑社区7号楼", MD_ZONE)


@pytest.fixture(scope="module")
def markdown_names(tmp_path_factory) -> Settings:
    root = tmp_path_factory.mktemp("markdown-names")
    data = build_fixture(root / "data")
    name_things_in_markdown(data)
    settings = Settings.from_env(data, root / "snapshot.duckdb")
    assert ingest(settings).ok
    return settings


@pytest.fixture
def markdown_env(markdown_names, tmp_path, monkeypatch):
    monkeypatch.setenv("DASHBOARD_SECRETS", str(tmp_path / "absent-secrets.toml"))
    with serving(markdown_names, monkeypatch):
        yield


def plotly_category_labels(at: AppTest) -> list[str]:
    labels = []
    for chart in at.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            labels += [value for value in trace.get("y", []) if isinstance(value, str)]
    return labels


def test_names_from_exports_are_shown_literally(markdown_env):
    at = open_app("zones", area=XINGYUAN)
    assert not at.exception, [e.message for e in at.exception]
    header = next(caption.value for caption in at.caption if "二七区疫情防控指挥部" in caption.value)
    assert MD_COMMUNITY in visible(as_rendered(header))
    assert not MARKDOWN_LINK.search(header) and not AUTOLINK.search(as_rendered(header))
    assert "<" not in header.replace("\\<", "")
    # Plotly reads <a>, <b> and <i> in labels: the zone's name must arrive as entities.
    zone_labels = [label for label in plotly_category_labels(at) if "7号楼" in label]
    assert zone_labels and all("<" not in label for label in zone_labels)
    assert html.unescape(zone_labels[0]) == MD_ZONE

    at = open_app("isolation")
    hotel_labels = [label for label in plotly_category_labels(at) if "酒店" in label]
    assert hotel_labels and all("<" not in label for label in hotel_labels)
    assert MD_HOTEL in {html.unescape(label) for label in hotel_labels}
    assert "隔离酒店乙" in hotel_labels  # a plain name is unchanged


def test_markdown_names_reach_the_snapshot_as_written(markdown_names):
    """Guards the test above: the names are in the snapshot unchanged, so "shown literally" is
    a property of the pages, not of the ingest."""
    import duckdb

    with duckdb.connect(str(markdown_names.db_path), read_only=True) as db:
        names = {row[0] for row in db.execute("select name from areas union all select name from sites "
                                              "union all select name from control_zones").fetchall()}
    assert {MD_COMMUNITY, MD_HOTEL, MD_ZONE} <= names


# ---------------------------------------------------------------- 8. numbers in URLs

@pytest.mark.parametrize(
    ("value", "seconds"),
    [("60", 60), ("5", 5), ("86400", 86400), ("4", None), ("0", None), ("86401", None), ("²", None),
     ("٣٠", None), ("６０", None), ("60\n", None), ("+60", None), (" 60", None), ("6e1", None), ("", None),
     ("9" * 400, None), (None, None)],
)
def test_rotate_seconds_are_ascii_digits_in_range(value, seconds):
    assert wall.rotate_seconds(value) == seconds


def test_a_superscript_rotation_runs_without_a_traceback(app_env):
    at = open_app(kiosk="1", rotate="²")
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "总览"
    assert wall.ROTATE not in at.session_state
    assert at.query_params["kiosk"] == "1"
    assert "rotate" not in at.query_params
