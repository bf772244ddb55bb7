"""The second trust pass (issue 16), where only a real server and Chromium show it: a lockout
that Streamlit's clear_cache message cannot lift, sent over a real websocket; a wall screen that
heals by itself after a failed run; the map drawn from boundaries that carry only area codes; and
the data-health matrix's title clear of its column names.

tests/test_web_trust_second.py has the AppTest side.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil

import pytest
from playwright.sync_api import expect
from streamlit.proto.BackMsg_pb2 import BackMsg

from bench.st_client import Tab
from dashboard.i18n import t
from dashboard.web import login_store, login_throttle
from tests.browser.support import (
    REFRESH_SECONDS,
    TITLES,
    USER_LABEL,
    browser_context,
    canvas_shot,
    exceptions,
    log_in,
    luminance_share,
    not_blank_share,
    open_app,
    screenshot,
    serve_fixture,
    wait_for_app,
    wait_for_map_drawn,
)
from tests.test_web_trust import USERS, users_toml
from tests.test_web_trust_second import STRAY_CODE, boundaries_with_codes_only

# ---------------------------------------------------------------- 2. a lockout nobody can lift

THROTTLED = "登录失败次数过多"


def served_with_query_log(root, **env):
    """A server whose every query that reaches DuckDB is a line of its query log (the benchmarks'
    DASHBOARD_BENCH_QUERY_LOG), so a test sees a cold cache run queries again."""
    log = root / "queries.log"
    return serve_fixture(root, DASHBOARD_BENCH_QUERY_LOG=str(log), **env), log


def runs_of(log, name: str) -> int:
    return sum(line.split("\t", 1)[0] == name for line in log.read_text(encoding="utf-8").splitlines())


async def clear_cache_from(url: str) -> None:
    """Open the page as a tab that never logs in, send BackMsg.clear_cache, then ask for one more
    run: the server handles a session's messages in order, so once that run has finished the
    clear_cache has been handled too."""
    tab = Tab(url)
    try:
        await tab.open("/")
        message = BackMsg()
        message.clear_cache = True
        await tab._ws.send(message.SerializeToString())
        await tab.set_query("")
    finally:
        await tab.close()


def run_async(coroutine):
    """asyncio.run in a thread of its own: Playwright's sync API keeps a loop running in this one."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=300)


def log_in_and_wait(page, server, username: str, password: str) -> None:
    open_app(page, server, "/")
    log_in(page, username, password)
    wait_for_app(page)


@pytest.fixture(scope="module")
def guarded_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("clear-cache")
    users = root / "users.toml"
    users.write_text(users_toml(USERS), encoding="utf-8")
    running, log = served_with_query_log(root, DASHBOARD_USERS_FILE=str(users),
                                         DASHBOARD_STATE_DIR=str(root / "state"))
    with running:
        yield running, log, root / "state"


def test_an_anonymous_clear_cache_lifts_no_lockout_and_leaves_the_caches_warm(new_page, guarded_server):
    server, log, state = guarded_server
    # zhang has been locked out: ten wrong passwords, on another replica sharing the state directory.
    replica = login_throttle.LoginThrottle(path=state / login_store.LOGIN_STORE_NAME)
    for _ in range(login_throttle.PER_USER.lockout_after):
        replica.failed("zhang", "203.0.113.9")
    guesser, viewer = new_page(), new_page()
    log_in_and_wait(guesser, server, "zhang", "zhang-pw")
    expect(guesser.get_by_text(THROTTLED)).to_be_visible()
    log_in_and_wait(viewer, server, "ops", "ops-pw")  # an admin looking at the overview: warm caches
    expect(viewer.locator('[data-testid="stMetric"]').first).to_be_visible()
    warm = runs_of(log, "map/areas")
    assert warm >= 1

    run_async(clear_cache_from(server.url))

    assert "refused clear_cache" in server.log_tail(80)
    log_in_and_wait(guesser, server, "zhang", "zhang-pw")
    expect(guesser.get_by_text(THROTTLED)).to_be_visible()
    expect(guesser.get_by_label(USER_LABEL)).to_be_visible()  # still the login form
    again = new_page()
    log_in_and_wait(again, server, "ops", "ops-pw")
    expect(again.locator('[data-testid="stMetric"]').first).to_be_visible()
    assert runs_of(log, "map/areas") == warm, "the caches went cold"


def test_the_operator_without_users_may_clear_the_caches(tmp_path_factory):
    """The control for the test above: the same message from the local operator (no users, loopback)
    is carried out, and the next run queries again, so "warm" above is not true by construction."""
    server, log = served_with_query_log(tmp_path_factory.mktemp("clear-cache-local"))
    with server:
        async def scenario() -> tuple[int, int]:
            first = Tab(server.url)
            await first.open("/")
            await first.close()
            before = runs_of(log, "map/areas")
            await clear_cache_from(server.url)
            return before, runs_of(log, "map/areas")

        before, after = run_async(scenario())
        assert before >= 1 and after > before


# ---------------------------------------------------------------- 5. a wall that heals itself

@pytest.fixture(scope="module")
def healing_server(tmp_path_factory):
    with serve_fixture(tmp_path_factory.mktemp("healing")) as running:
        yield running


def swap_in(db_path, content: bytes | None = None, copy_of=None) -> None:
    """Replace the snapshot whole, as an ingest does (os.replace): with bytes, or a copy of a file."""
    temporary = db_path.with_name(db_path.name + ".swap")
    if copy_of is not None:
        shutil.copyfile(copy_of, temporary)
    else:
        temporary.write_bytes(content)
    os.replace(temporary, db_path)


def test_a_wall_shows_the_retry_panel_on_a_failed_run_and_heals_without_a_reload(new_page, healing_server):
    server = healing_server
    good = server.db_path.with_name("good-copy.duckdb")
    shutil.copyfile(server.db_path, good)
    page = new_page()
    open_app(page, server, "/?kiosk=1", TITLES["overview"][0])
    samples = page.locator('[data-testid="stMetric"]', has_text=t("kpi.samples", "zh"))
    expect(samples).to_be_visible()
    shown = samples.locator('[data-testid="stMetricValue"]').inner_text()
    page.evaluate("window.__marker = 1")
    within_two_checks = (2 * REFRESH_SECONDS + 20) * 1000

    swap_in(server.db_path, b"not a DuckDB file at all " * 4096)  # a run on it fails
    panel = page.locator(".retry-panel")
    expect(panel).to_be_visible(timeout=within_two_checks)
    expect(panel).to_contain_text("暂时无法更新，正在重试")
    expect(panel).to_contain_text("上次成功更新")
    screenshot(page, "kiosk-overview-retrying")
    assert exceptions(page) == [], "a white error box"
    assert luminance_share(page.screenshot(), above=200) < 0.01, "the panel is not dark"
    assert str(server.db_path) not in page.locator("body").inner_text()

    swap_in(server.db_path, copy_of=good)  # the next good snapshot
    expect(panel).to_have_count(0, timeout=within_two_checks)
    expect(samples.locator('[data-testid="stMetricValue"]')).to_have_text(shown, timeout=within_two_checks)
    wait_for_app(page)
    screenshot(page, "kiosk-overview-healed")
    assert page.evaluate("window.__marker") == 1, "the page was reloaded"


# ---------------------------------------------------------------- 17. boundaries with area codes only

@pytest.fixture(scope="module")
def codes_only_server(tmp_path_factory):
    with serve_fixture(tmp_path_factory.mktemp("codes-only"), boundaries_with_codes_only) as running:
        yield running


def drawn_share(chromium, server, name: str) -> tuple[float, object]:
    """How much of the wall overview's map canvas is drawn on, and the page (left open)."""
    page = browser_context(chromium).new_page()
    open_app(page, server, "/?kiosk=1", TITLES["overview"][0])
    wait_for_map_drawn(page, timeout_s=40)
    page.wait_for_timeout(1000)  # deck.gl draws its layers over a few frames
    screenshot(page, name)
    return not_blank_share(canvas_shot(page)), page


def test_the_wall_map_draws_the_areas_from_a_codes_only_file(chromium, server, codes_only_server):
    named, named_page = drawn_share(chromium, server, "kiosk-overview-named-boundaries")
    codes, codes_page = drawn_share(chromium, codes_only_server, "kiosk-overview-codes-only-boundaries")
    try:
        # The same shapes, so about as much of the canvas; dots alone would cover a sliver of it.
        assert codes >= 0.8 * named, (codes, named)
        notice = codes_page.get_by_text("1 个图形未画出")
        assert notice.is_visible() and STRAY_CODE in notice.inner_text()
        assert not named_page.get_by_text("个图形未画出").count()
    finally:
        named_page.context.close()
        codes_page.context.close()


# ---------------------------------------------------------------- 18. the matrix title and its columns

# The feed names run along the top of the matrix, where plotly puts a title by default.
_TITLE_AND_TOP_LABELS = """() => {
    const plot = [...document.querySelectorAll('.js-plotly-plot')]
        .find(p => (p.querySelector('.gtitle') || {}).textContent === '各日数据到达情况');
    if (!plot) return null;
    return {title: plot.querySelector('.gtitle').getBoundingClientRect().toJSON(),
            labels: [...plot.querySelectorAll('.xtick text')].map(e => e.getBoundingClientRect().toJSON())};
}"""


@pytest.mark.parametrize("viewport", [{"width": 1920, "height": 1080}, {"width": 1366, "height": 768}],
                         ids=["1920x1080", "1366x768"])
def test_the_arrival_matrix_title_stays_clear_of_its_column_names(chromium, server, viewport):
    context = browser_context(chromium, viewport)
    page = context.new_page()
    try:
        open_app(page, server, "/health?day=2022-01-04", TITLES["health"][0])
        page.locator(".js-plotly-plot .gtitle").first.wait_for()
        boxes = page.evaluate(_TITLE_AND_TOP_LABELS)
        screenshot(page, f"health-matrix-{viewport['width']}x{viewport['height']}")
        assert boxes and boxes["labels"], "no matrix with its feed names"
        title = boxes["title"]
        # The whole title line above the highest feed name: the two never share a line.
        highest = min(label["top"] for label in boxes["labels"])
        assert title["bottom"] <= highest, (title, highest)
    finally:
        context.close()
