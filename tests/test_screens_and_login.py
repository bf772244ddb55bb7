"""Wall screens and leaders' logins, in-process with AppTest; the browser suite repeats the
parts only a browser shows."""

from __future__ import annotations

from datetime import date, datetime

import bcrypt
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.web import auth, banners, wall
from tests.conftest import serving
from tests.test_app_pages import APP, open_page

USERS = {"wall": "screen", "zhang": "leader", "ops": "admin"}


@pytest.fixture
def app_env(fixture_snapshot, monkeypatch):
    with serving(fixture_snapshot, monkeypatch):
        yield fixture_snapshot


@pytest.fixture
def with_users(app_env, tmp_path, monkeypatch):
    path = tmp_path / "users.toml"
    path.write_text("".join(
        f'[auth.users.{name}]\nrole = "{role}"\npassword_hash = "{bcrypt.hashpw(f"{name}-pw".encode(), bcrypt.gensalt(4)).decode()}"\n'
        for name, role in USERS.items()))
    monkeypatch.setenv("DASHBOARD_USERS_FILE", str(path))
    st.cache_resource.clear()
    return path


def html_blocks(at: AppTest) -> str:
    return "\n".join(str(getattr(node, "body", "")) for node in at.get("html"))


def log_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    return at.button[0].click().run()


def test_without_users_everything_is_open_and_says_so(app_env):
    at = open_page("staff.py")
    assert not at.exception and at.title[0].value == "人员排班"
    assert any("未配置登录" in c.value for c in at.sidebar.caption)


def test_login_is_required_and_checks_the_password(with_users):
    at = open_page("overview.py")
    assert [t.label for t in at.text_input] == ["用户名 / Username", "密码 / Password"]
    assert not at.metric and all(t.value != "总览" for t in at.title)
    at = log_in(at, "zhang", "wall-pw")
    assert any("用户名或密码错误" in e.value for e in at.error)
    assert not at.metric
    at = log_in(at, "zhang", "zhang-pw")
    assert not at.exception and at.title[0].value == "总览" and at.metric


def test_after_login_the_url_view_is_kept(with_users):
    at = open_page("testing.py", day="2022-01-04", area="410103001", lang="en")
    at = log_in(at, "zhang", "zhang-pw")
    assert at.title[0].value == "Testing"
    assert at.query_params["day"] == "2022-01-04" and at.query_params["area"] == "410103001"
    assert at.session_state["day"] == "2022-01-04" and at.session_state["street"] == "410103001"


def test_screen_role_sees_only_aggregates(with_users):
    at = log_in(open_page("staff.py"), "wall", "wall-pw")
    # The staff page is not in a screen's navigation, so the router falls back to the overview.
    assert not at.exception and at.title[0].value == "总览"
    assert any("疲劳预警含人员姓名" in c.value for c in at.caption)
    assert not any("人员排班" == t.value for t in at.title)


def test_leader_does_not_see_rejects(with_users):
    at = log_in(open_page("health.py"), "zhang", "zhang-pw")
    assert at.title[0].value == "数据状态"
    assert any("仅管理员可见" in i.value for i in at.info)
    at = log_in(open_page("health.py"), "ops", "ops-pw")
    assert not any("仅管理员可见" in i.value for i in at.info)


def test_a_role_never_comes_from_the_url(with_users):
    at = open_page("health.py", role="admin", user="ops")
    assert [t.label for t in at.text_input] == ["用户名 / Username", "密码 / Password"]
    with pytest.raises(auth.AccessDenied):
        auth.check_query("screen", "staff/roster")


def test_open_address_without_users_is_refused(app_env):
    at = AppTest.from_file(str(APP), default_timeout=30)
    st.cache_resource.clear()
    from streamlit import config

    previous = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        at.run()
    finally:
        config.set_option("server.address", previous)
    assert any("Refusing to serve on 0.0.0.0" in e.value for e in at.error)
    assert not at.metric


def test_kiosk_mode_hides_the_chrome_and_keeps_its_parameters(app_env):
    at = open_page("overview.py", kiosk="1", rotate="30")
    assert not at.exception
    blocks = html_blocks(at)
    assert 'data-testid="stSidebar"' in blocks and "display: none" in blocks
    assert "kiosk-clock" in blocks
    assert at.query_params["kiosk"] == "1" and at.query_params["rotate"] == "30"


def test_stale_banner_on_every_page(app_env):
    # The fixture's newest exports are of January 2022: long past the 26-hour threshold.
    at = open_page("isolation.py")
    blocks = html_blocks(at)
    assert "stale-banner" in blocks
    assert "封控管控台账、核酸采样、隔离台账、排班：最新导出为 2022年1月6日" in blocks


def test_stale_alarms_by_hand():
    latest = {"testing_records": date(2022, 1, 6), "shifts": date(2022, 1, 5), "isolation": None}
    # 2022-01-07 20:00: the 01-06 export ended 20 h ago (fine); the 01-05 one 44 h ago.
    alarms = banners.stale_alarms(latest, datetime(2022, 1, 7, 20), 26, None)
    assert [(a.feed, a.since) for a in alarms] == [("shifts", date(2022, 1, 5))]
    failed = {"ok": False, "attempted_at": "2022-01-07T19:00:00", "message": "shifts.csv: column missing"}
    # At 01:00 the 01-05 export is 25 h old: only the failed ingest is an alarm.
    alarms = banners.stale_alarms(latest, datetime(2022, 1, 7, 1), 26, failed)
    assert [(a.feed, a.message) for a in alarms] == [(None, "shifts.csv: column missing")]


def test_rotation_order():
    pages = wall.rotation({"overview", "zones", "testing", "isolation", "staff", "health"})
    assert pages == ["overview", "zones", "testing", "isolation", "staff"]
    assert wall.next_page("staff", pages) == "overview"
    assert wall.next_page("health", pages) == "overview"
    assert wall.rotation({"overview"}) == ["overview"]
