"""Every login and screen bound to an area (issue 19): a street's people see their street's subtree
and nothing else, checked on the server. The tables here are written by hand, not read from the
pages' or the queries' own declarations; the street's figures come from the fixture's arithmetic."""

from __future__ import annotations

from datetime import date, datetime

import bcrypt
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.figures import queries
from dashboard.figures.headline import headline_figures
from dashboard.web import auth, screen_tokens
from dashboard.web.pages import PAGES
from tests.fixtures import DAYS
from tests.test_app_pages import metrics, open_page
from tests.test_screens_and_login import app_env, log_in  # noqa: F401  (fixtures)

MIFENGZHANG, RENHELU = "410103001", "410103002"  # the fixture's two streets
XIGONGFANG = "410103001001"  # a community of 蜜蜂张街道
# username: (role, area)
USERS = {"zhang": ("leader", ""), "li": ("leader", MIFENGZHANG), "wang": ("clerk", MIFENGZHANG),
         "zhou": ("leader", XIGONGFANG), "ops": ("admin", "")}

# The queries that answer the same for every area: geography, the days and rounds there are, and
# when each feed last arrived. Any other query binds $area; a new query must do so too, or be
# added here by someone who decided that it shows nothing of any one area.
SAME_FOR_EVERY_AREA = {"map/areas", "map/boundaries", "health/export_days", "testing/rounds", "health/feed_status"}

# role: the pages it opens (the area changes what a page shows, never which pages).
OPENS = {
    "screen": {"overview"},
    "leader": {"overview", "zones", "testing", "isolation", "staff", "alerts", "health"},
    "admin": {"overview", "zones", "testing", "isolation", "staff", "alerts", "health", "upload"},
    "clerk": {"upload", "health"},
}
# (session's area, the area a query is run with): allowed?
AREA_CELLS = [
    ("", "", True), ("", MIFENGZHANG, True), ("", XIGONGFANG, True),
    (MIFENGZHANG, MIFENGZHANG, True), (MIFENGZHANG, XIGONGFANG, True),
    (MIFENGZHANG, "", False), (MIFENGZHANG, RENHELU, False), (MIFENGZHANG, "410103002001", False),
    (XIGONGFANG, XIGONGFANG, True), (XIGONGFANG, MIFENGZHANG, False), (XIGONGFANG, "410103001002", False),
]


@pytest.fixture
def area_users(app_env, tmp_path, monkeypatch):  # noqa: F811
    path = tmp_path / "users.toml"
    path.write_text("".join(
        f'[auth.users.{name}]\nrole = "{role}"\n' + (f'area = "{area}"\n' if area else "")
        + f'password_hash = "{bcrypt.hashpw(f"{name}-pw".encode(), bcrypt.gensalt(4)).decode()}"\n'
        for name, (role, area) in USERS.items()))
    monkeypatch.setenv("DASHBOARD_USERS_FILE", str(path))
    monkeypatch.setenv("DASHBOARD_STATE_DIR", str(tmp_path / "state"))
    st.cache_resource.clear()
    return path


# ---------------------------------------------------------------- the rules, without a session

def test_every_query_binds_the_area_unless_it_is_the_same_for_every_area():
    unbound = {name for name in queries.query_names() if "area" not in queries.load(name)[1]}
    assert unbound == SAME_FOR_EVERY_AREA
    assert {name for name in queries.query_names() if queries.same_for_every_area(name)} == SAME_FOR_EVERY_AREA


def test_a_query_that_neither_binds_the_area_nor_says_so_is_refused(tmp_path, monkeypatch):
    (tmp_path / "isolation").mkdir()
    (tmp_path / "isolation" / "by_street.sql").write_text("-- One row per street. Params: $day.\nselect 1\n")
    (tmp_path / "isolation" / "both.sql").write_text("-- One row. Params: $day, $area. Area: all.\nselect 1\n")
    monkeypatch.setattr(queries, "QUERIES_DIR", tmp_path)
    queries.load.cache_clear()
    try:
        for name in ("isolation/by_street", "isolation/both"):
            with pytest.raises(ValueError, match=r"binds \$area"):
                queries.load(name)
    finally:
        queries.load.cache_clear()


def test_the_page_table_covers_every_role_and_page():
    assert set(OPENS) == set(auth.ROLES)
    for role, pages in OPENS.items():
        for spec in PAGES:
            assert auth.may_open(role, spec.url_path) is (spec.url_path in pages), (role, spec.url_path)


@pytest.mark.parametrize("scope, area, allowed", AREA_CELLS)
def test_a_session_runs_queries_in_its_own_subtree_only(scope, area, allowed):
    for name in queries.query_names():
        bound = "area" in queries.load(name)[1]
        if not bound:
            auth.check_area(scope, name, None)  # the same for every area: open to every scope
        elif allowed:
            auth.check_area(scope, name, area)
        else:
            with pytest.raises(auth.AccessDenied, match="outside"):
                auth.check_area(scope, name, area)


def test_an_area_query_run_without_its_area_is_refused():
    with pytest.raises(auth.AccessDenied, match="binds no"):
        auth.check_area("", "testing/day_totals", None)


@pytest.mark.parametrize("entry, problem", [
    ('area = 410103001', "in quotes"), ('area = "4101"', "in quotes"), ('area = "410103001; drop"', "in quotes"),
])
def test_a_users_file_with_a_bad_area_is_refused(tmp_path, monkeypatch, entry, problem):
    path = tmp_path / "users.toml"
    path.write_text(f'[auth.users.li]\nrole = "leader"\n{entry}\npassword_hash = "{"$2b$04$" + "a" * 53}"\n')
    monkeypatch.setenv("DASHBOARD_USERS_FILE", str(path))
    with pytest.raises(auth.UsersFileError, match=problem):
        auth.load_users()


def test_a_clerk_needs_an_area(tmp_path, monkeypatch):
    path = tmp_path / "users.toml"
    path.write_text(f'[auth.users.wang]\nrole = "clerk"\npassword_hash = "{"$2b$04$" + "a" * 53}"\n')
    monkeypatch.setenv("DASHBOARD_USERS_FILE", str(path))
    with pytest.raises(auth.UsersFileError, match="needs an area"):
        auth.load_users()


def test_a_screen_tokens_area_is_signed(tmp_path, monkeypatch):
    monkeypatch.setenv("DASHBOARD_STATE_DIR", str(tmp_path / "state"))
    from dashboard.settings import Settings

    config = Settings.from_env()
    token = screen_tokens.issue(config, "蜜蜂张大屏", area=MIFENGZHANG)
    assert screen_tokens.screen_for(config, token) == screen_tokens.Screen("蜜蜂张大屏", MIFENGZHANG)
    # Widening the screen by editing the registry breaks its signature: the token stops working.
    registry = config.screen_tokens_file
    registry.write_text(registry.read_text(encoding="utf-8").replace(f'"area": "{MIFENGZHANG}"', '"area": ""'),
                        encoding="utf-8")
    assert screen_tokens.screen_for(config, token) is None


# ---------------------------------------------------------------- sessions, in-process

def titles(at: AppTest) -> list[str]:
    return [title.value for title in at.title]


def refused(at: AppTest) -> bool:
    return any("无权查看该区域" in error.value for error in at.error)


@pytest.mark.parametrize("username", ["li", "zhou"])
def test_a_street_or_community_user_is_offered_its_own_subtree(area_users, username):
    at = log_in(open_page("testing.py", day=DAYS[2].isoformat()), username, f"{username}-pw")
    assert not at.exception and titles(at)[0] == "核酸检测"
    area = USERS[username][1]
    street, community = at.sidebar.selectbox[1], at.sidebar.selectbox[2]
    assert street.options and all(option != "全区" for option in street.options)
    assert street.value == MIFENGZHANG
    # Offered: 蜜蜂张街道's communities (and all of them together) to its leader; only 西工房 to 西工房's.
    expected_communities = ["全部社区", "西工房社区", "兴华社区"] if area == MIFENGZHANG else ["西工房社区"]
    assert community.options == expected_communities
    assert at.query_params["area"] == area


@pytest.mark.parametrize("username, url_area", [("li", RENHELU), ("li", ""), ("li", "410103002001"),
                                                ("zhou", MIFENGZHANG)])
def test_a_link_outside_the_users_area_is_refused_and_shows_nothing(area_users, username, url_area):
    at = log_in(open_page("overview.py", day=DAYS[2].isoformat(), area=url_area), username, f"{username}-pw")
    assert not at.exception and refused(at)
    assert not at.metric and not at.dataframe and not at.get("deck_gl_json_chart")
    # One tap back to the user's own area.
    at = at.button[0].click().run()
    assert not refused(at) and at.query_params["area"] == USERS[username][1] and at.metric


def test_a_street_leaders_cards_are_the_streets_figures(area_users):
    at = log_in(open_page("overview.py", day=DAYS[2].isoformat()), "li", "li-pw")
    assert not at.exception and not refused(at)
    shown = metrics(at)
    # 蜜蜂张街道 on 01-06, from the fixture's tables (tests/fixtures.py):
    # samples 西工房 900 + 20 twice, 兴华 700 = 1,620; positives only in 杏苑 (人和路) -> 0;
    # round 2 persons 900 + 700 of 1,000 + 800 residents = 88.9 %;
    # zones: Z3 (西工房, precaution) lifted on 01-06 -> none; isolation: C4 (西工房, home
    # monitoring, due 01-07) and C5 (兴华, centralized) -> 0 / 1 / 1, one due tomorrow;
    # posts: TS01 (西工房) 1 of 2 on duty at 12:00, short; nobody awaiting transfer there.
    assert shown["当日采样"] == "1,620" and shown["当日阳性"] == "0" and shown["第 2 轮覆盖率"] == "88.9%"
    assert (shown["封控区"], shown["管控区"], shown["防范区"], shown["封控区人口"]) == ("0", "0", "0", "0")
    assert (shown["居家隔离"], shown["居家健康监测"], shown["集中隔离"]) == ("0", "1", "1")
    assert shown["明日到期解除"] == "1" and shown["阳性待转运"] == "0"
    assert shown["在岗人数 / 应到"] == "1 / 2" and shown["在岗不足点位"] == "1"


def test_a_clerk_opens_only_the_data_health_of_the_street(area_users):
    at = log_in(open_page("overview.py"), "wang", "wang-pw")
    assert not at.exception
    assert titles(at)[0] != "总览" and not at.metric
    at = log_in(open_page("health.py"), "wang", "wang-pw")
    assert not at.exception and titles(at)[0] == "数据状态"
    assert at.query_params["area"] == MIFENGZHANG
    # No map of the clerk's to choose layers for; a leader has them.
    assert not any("地图图层" in str(node.proto) for node in at.sidebar.get("button_group"))
    leader = log_in(open_page("health.py"), "li", "li-pw")
    assert any("地图图层" in str(node.proto) for node in leader.sidebar.get("button_group"))


def run_as_street_screen():
    """A page that asks the shared builds for the district's and a street's headline figures."""
    from datetime import date, datetime

    import streamlit as st

    from dashboard.figures.headline import headline_figures
    from dashboard.web import access, auth, cache

    if access.login_gate():
        for area in ("410103001", ""):
            try:
                figures = cache.figure(headline_figures, date(2022, 1, 6), datetime(2022, 1, 6, 12), area)
            except auth.AccessDenied:
                st.error(f"refused {area or 'district'}")
            else:
                st.metric(f"samples {area or 'district'}", figures.samples_on_day)


def test_a_street_screen_is_refused_the_districts_build_even_when_it_is_made(area_users, tmp_path):
    from dashboard.settings import Settings

    # A district session builds the district's figures first: the street's screen must not be handed them.
    district = AppTest.from_function(run_as_street_screen, default_timeout=30)
    district = log_in(district.run(), "ops", "ops-pw")
    assert {m.label for m in district.metric} == {"samples 410103001", "samples district"}
    token = screen_tokens.issue(Settings.from_env(), "蜜蜂张大屏", area=MIFENGZHANG)
    screen = AppTest.from_function(run_as_street_screen, default_timeout=30)
    screen.query_params["token"] = token
    screen.run()
    assert [m.label for m in screen.metric] == ["samples 410103001"]
    assert screen.metric[0].value == "1620"
    assert [e.value for e in screen.error] == ["refused district"]


def test_a_street_screen_shows_its_street_on_the_wall(area_users):
    from dashboard.settings import Settings

    token = screen_tokens.issue(Settings.from_env(), "蜜蜂张大屏", area=MIFENGZHANG)
    at = open_page("overview.py", kiosk="1", token=token, day=DAYS[2].isoformat())
    assert not at.exception and metrics(at)["当日采样"] == "1,620"
    assert refused(open_page("overview.py", kiosk="1", token=token, area=RENHELU))


def test_the_cli_makes_a_street_screen(app_env, tmp_path, monkeypatch):  # noqa: F811
    import subprocess
    import sys

    from dashboard.settings import Settings
    from tests.test_screen_tokens import LAST_LINE, REPO

    state_dir = tmp_path / "state"
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DASHBOARD_STATE_DIR": str(state_dir),
                   "DASHBOARD_SECRETS": str(tmp_path / "no-secrets.toml"), "DASHBOARD_DB": str(app_env.db_path), "DASHBOARD_DATA": str(app_env.data_dir)}
    done = subprocess.run([sys.executable, "-m", "dashboard", "screen-token", "--name", "蜜蜂张大屏", "--area",
                           MIFENGZHANG], cwd=REPO, env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "蜜蜂张街道 (410103001) only" in done.stdout
    token = LAST_LINE.fullmatch(done.stdout.splitlines()[-1]).group(1)
    monkeypatch.setenv("DASHBOARD_STATE_DIR", str(state_dir))
    assert screen_tokens.screen_for(Settings.from_env(), token).area == MIFENGZHANG
    unknown = subprocess.run([sys.executable, "-m", "dashboard", "screen-token", "--name", "x", "--area", "410103999"],
                             cwd=REPO, env=environment, capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2 and "unknown area code" in unknown.stderr


def test_the_street_figures_add_up_to_the_district(app_env):  # noqa: F811
    """An independent check of the binding: the two streets' samples are the district's."""
    from dashboard.figures.queries import Snapshot

    snapshot = Snapshot(app_env.db_path)
    day, at = date(2022, 1, 6), datetime(2022, 1, 6, 12)
    district = headline_figures(snapshot.run, day, at, "")
    streets = [headline_figures(snapshot.run, day, at, code) for code in (MIFENGZHANG, RENHELU)]
    assert district.samples_on_day == sum(s.samples_on_day for s in streets) == 3670
