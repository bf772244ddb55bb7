"""Login and roles, in a real browser against a server with users configured.

screen (wall): the overview only; leader (zhang): every page, no rejects or ingest log;
admin (ops): everything.
"""

from __future__ import annotations

import re

import bcrypt
import pytest
from playwright.sync_api import expect

from dashboard.i18n import t
from tests.browser.support import (
    LOGIN_BUTTON,
    PASSWORD_LABEL,
    TITLES,
    USER_LABEL,
    h1_texts,
    log_in,
    open_app,
    serve_fixture,
    wait_for_app,
)

USERS = {"wall": ("screen", "wall-pw"), "zhang": ("leader", "zhang-pw"), "ops": ("admin", "ops-pw")}
LINK = "/testing?day=2022-01-04&area=410103001&lang=en"
ADMIN_ONLY = "仅管理员可见"
REJECTS = "^拒收记录"  # health.rejects: 拒收记录（<day> 及参考数据）
# Every h1 the page ever shows, however briefly ("never shows the staff page" must hold between
# two looks as well), and how many script runs the page has started.
RECORD_TITLES_AND_RUNS = """
window.__titles = [];
window.__runs = 0;
new MutationObserver(records => {
    for (const h of document.querySelectorAll('h1')) {
        const text = h.textContent.trim();
        if (text && !window.__titles.includes(text)) window.__titles.push(text);
    }
    for (const r of records) {
        if (r.type === 'attributes' && r.target.getAttribute('data-test-script-state') === 'running') window.__runs++;
    }
}).observe(document, {subtree: true, childList: true, characterData: true, attributes: true,
                      attributeFilter: ['data-test-script-state']});
"""


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("auth")
    users = root / "users.toml"
    users.write_text("".join(
        f'[auth.users.{name}]\nrole = "{role}"\n'
        f'password_hash = "{bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()}"\n\n'
        for name, (role, password) in USERS.items()), encoding="utf-8")
    with serve_fixture(root, DASHBOARD_USERS_FILE=str(users)) as running:
        yield running


def log_in_as(page, username: str) -> None:
    """Log in with the user's password and wait until the dashboard has run."""
    log_in(page, username, USERS[username][1])
    expect(page.get_by_label(USER_LABEL)).to_have_count(0, timeout=30_000)
    wait_for_app(page)


def assert_no_dashboard(page) -> None:
    assert TITLES["overview"][0] not in h1_texts(page)
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(0)
    expect(page.locator('[data-testid="stDeckGlJsonChart"]')).to_have_count(0)
    expect(page.locator('[data-testid="stSidebarNavLink"]')).to_have_count(0)
    expect(page.get_by_role("combobox", name=t("sidebar.day", "zh"))).to_have_count(0)


def test_an_unauthenticated_visit_shows_only_the_login_form(new_page, auth_server):
    page = new_page()
    open_app(page, auth_server, "/")
    expect(page.get_by_label(USER_LABEL)).to_be_visible()
    expect(page.get_by_label(PASSWORD_LABEL)).to_be_visible()
    expect(page.get_by_role("button", name=LOGIN_BUTTON)).to_be_visible()
    assert_no_dashboard(page)


def test_a_wrong_password_is_refused(new_page, auth_server):
    page = new_page()
    open_app(page, auth_server, "/")
    log_in(page, "zhang", "wall-pw")
    expect(page.get_by_text("用户名或密码错误")).to_be_visible()
    wait_for_app(page)
    expect(page.get_by_label(USER_LABEL)).to_be_visible()
    assert_no_dashboard(page)


def test_login_lands_on_the_view_the_link_asked_for(new_page, auth_server):
    page = new_page()
    open_app(page, auth_server, LINK)
    log_in_as(page, "zhang")
    assert h1_texts(page)[:1] == [TITLES["testing"][1]], f"the link asked for /testing; after login: {page.url}"
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_role("combobox", name="As-of day")).to_have_value("4 Jan 2022")
    expect(sidebar.get_by_role("combobox", name="Street")).to_have_value("蜜蜂张街道")


def test_a_screen_cannot_reach_the_staff_page(new_page, auth_server):
    page = new_page()
    page.add_init_script(RECORD_TITLES_AND_RUNS)
    # By the address: the link asks for /staff, and it still does when the login form is sent.
    open_app(page, auth_server, "/staff")
    log_in_as(page, "wall")
    assert_staff_page_never_shown(page)

    # By navigation: the sidebar offers no link to it...
    links = page.locator('[data-testid="stSidebarNavLink"]')
    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
    assert not [href for href in hrefs if href.rstrip("/").endswith("/staff")], hrefs
    # ...and a history move to it (the back button) is refused within the session too.
    runs = page.evaluate("window.__runs")
    page.evaluate("history.pushState({}, '', '/staff'); dispatchEvent(new PopStateEvent('popstate', {state: {}}))")
    page.wait_for_function(f"window.__runs > {runs}", timeout=15_000)  # the server was asked for /staff
    assert_staff_page_never_shown(page)


def assert_staff_page_never_shown(page) -> None:
    page.wait_for_timeout(1500)  # long enough for a late rerun onto the staff page
    wait_for_app(page)
    seen = page.evaluate("window.__titles")
    assert TITLES["staff"][0] not in seen, seen
    not_found = page.get_by_text(re.compile(r"not found|无权|不存在|找不到", re.IGNORECASE))
    assert h1_texts(page)[:1] == [TITLES["overview"][0]] or not_found.count() > 0, (h1_texts(page), page.url)
    assert "卡点人员" not in page.locator("body").inner_text()  # staff names (tests/fixtures.py)


def open_health_as(page, server, username: str) -> None:
    """Log in on the overview, then follow the sidebar to Data health."""
    open_app(page, server, "/")
    log_in_as(page, username)
    page.locator('[data-testid="stSidebarNavLink"]', has_text=TITLES["health"][0]).click()
    wait_for_app(page, TITLES["health"][0])


def test_a_leader_sees_data_health_without_rejects_or_ingest_log(new_page, auth_server):
    page = new_page()
    open_health_as(page, auth_server, "zhang")
    expect(page.get_by_text(ADMIN_ONLY)).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^" + t("health.log", "zh")))).to_have_count(0)
    expect(page.get_by_role("heading", name=re.compile(REJECTS))).to_have_count(0)


def test_an_admin_sees_rejects_and_ingest_log(new_page, auth_server):
    page = new_page()
    open_health_as(page, auth_server, "ops")
    expect(page.get_by_role("heading", name=re.compile("^" + t("health.log", "zh")))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(REJECTS))).to_be_visible()
    expect(page.get_by_text(ADMIN_ONLY)).to_have_count(0)
