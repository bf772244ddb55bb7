"""Every page at 1920×1080, as a wall screen shows it: no exception box, its title, the
fixture's figures, a drawn map, nothing wider than the screen, and not one request that leaves
the machine. Screenshots go to screenshots/."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from dashboard.i18n import t
from tests.browser.support import (
    CHART_PAGES,
    DECK,
    MAP_PAGES,
    PAGES,
    TITLES,
    browser_context,
    canvas_box,
    canvas_shot,
    covered_by_header,
    duplicate_tick_labels,
    exceptions,
    h1_texts,
    metrics,
    not_blank_share,
    open_app,
    overflow,
    path_of,
    screenshot,
    wait_for_map_drawn,
)
from tests.fixtures import DAYS, EXPECTED

NEWEST = EXPECTED[DAYS[-1]]  # 2022-01-06, the day a page shows when the URL names none


def overview_figures() -> dict[str, str]:
    """The overview's cards on 2022-01-06 for the whole district, by hand from tests/fixtures.py.

    Staff are counted at 12:00 on a past day: CP01 6 + TS01 1 + MV01 2 = 9 of a minimum
    6 + 2 + 2 = 10. Coverage is round 2's 3,650 persons of 4,000 residents.
    """
    sealed, controlled, precaution = NEWEST["zones"]
    home, monitoring, centralized = NEWEST["isolation"]
    return {
        t("kpi.zones_sealed", "zh"): str(sealed),
        t("kpi.zones_controlled", "zh"): str(controlled),
        t("kpi.zones_precaution", "zh"): str(precaution),
        t("kpi.population_sealed", "zh"): f"{NEWEST['sealed_population']:,}",
        t("kpi.samples", "zh"): "3,670",
        t("kpi.positives", "zh"): str(NEWEST["positives"]),
        t("kpi.round_coverage", "zh", round=2): "91.3%",
        t("kpi.isolation_home", "zh"): str(home),
        t("kpi.isolation_home_monitoring", "zh"): str(monitoring),
        t("kpi.isolation_centralized", "zh"): str(centralized),
        t("kpi.releases_due", "zh"): str(NEWEST["releases"]),
        t("kpi.hotel_occupancy", "zh"): "15.0%",
        t("kpi.staff_on_duty", "zh"): "9 / 10",
        t("kpi.posts_understaffed", "zh"): str(NEWEST["understaffed"]),
    }


@dataclass
class Shown:
    name: str
    page: object  # playwright Page
    requests: list[str] = field(repr=False)  # every URL the page asked for, websockets included


@pytest.fixture(scope="module")
def wall(chromium):
    """One browser context for the module, so the pages share its cache as a wall screen would."""
    with browser_context(chromium) as context:
        yield context


@pytest.fixture(scope="module")
def wall_page(request, wall, server):
    """One page opened at 1920×1080, its map given time to draw, then photographed."""
    name = request.param
    page = wall.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("websocket", lambda ws: requests.append(ws.url))
    open_app(page, server, path_of(name), TITLES[name][0])
    if name in MAP_PAGES:
        wait_for_map_drawn(page)
    screenshot(page, f"{name}-1920x1080")
    yield Shown(name, page, requests)
    page.close()


@pytest.mark.parametrize("wall_page", PAGES, indirect=True, scope="module")
def test_page_loads_without_exception_and_shows_its_title(wall_page):
    assert exceptions(wall_page.page) == []
    assert h1_texts(wall_page.page)[0] == TITLES[wall_page.name][0]


@pytest.mark.parametrize("wall_page", ["overview"], indirect=True, scope="module")
def test_overview_cards_show_the_fixture_figures(wall_page):
    shown = metrics(wall_page.page)
    expected = overview_figures()
    assert {label: shown.get(label) for label in expected} == expected


@pytest.mark.parametrize("wall_page", PAGES, indirect=True, scope="module")
def test_map_canvas_is_drawn(wall_page):
    """Pages with a map draw on its canvas (deck.gl, offline); the data-health page has none."""
    maps = wall_page.page.locator(f"{DECK} canvas")
    if wall_page.name not in MAP_PAGES:
        assert maps.count() == 0
        return
    assert maps.count() >= 1
    assert not_blank_share(canvas_shot(wall_page.page)) >= 0.01, "the map canvas is a single colour"


@pytest.mark.parametrize("wall_page", PAGES, indirect=True, scope="module")
def test_page_is_no_wider_than_the_screen(wall_page):
    scroll_width, inner_width = overflow(wall_page.page)
    assert scroll_width <= inner_width + 1


@pytest.mark.parametrize("wall_page", ["overview"], indirect=True, scope="module")
def test_the_banner_is_not_under_the_header(wall_page):
    """The fixture's exports are from 2022, so every page carries the staleness banner: all of it
    must show, not slide under Streamlit's header. (Every page shares the same header and top
    padding, so the overview stands for them.)"""
    expect(wall_page.page.locator(".stale-banner")).to_be_visible()
    problem = covered_by_header(wall_page.page, ".stale-banner")
    assert not problem, problem


@pytest.mark.parametrize("wall_page", CHART_PAGES, indirect=True, scope="module")
def test_chart_axes_do_not_repeat_a_label(wall_page):
    """Every page has plotly charts; a count axis must not read 0 1 1 2 2."""
    page = wall_page.page
    expect(page.locator(".js-plotly-plot .main-svg").first).to_be_attached()
    charts = page.locator('[data-testid="stPlotlyChart"]').count()
    expect(page.locator(".js-plotly-plot")).to_have_count(charts)
    repeated = duplicate_tick_labels(page)
    assert not repeated, "; ".join(repeated)


def leaves_the_machine(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return False
    return parts.scheme not in ("http", "https", "ws", "wss") or parts.hostname not in ("127.0.0.1", "localhost")


# Last in the module: the hover leaves a tooltip on the page.
@pytest.mark.parametrize("wall_page", PAGES, indirect=True, scope="module")
def test_no_request_leaves_the_machine(wall_page):
    """The command center has no internet: no tiles, fonts, CDNs or telemetry, even on hover."""
    page = wall_page.page
    if wall_page.name in MAP_PAGES:
        box = canvas_box(page)
        for fx, fy in ((0.35, 0.4), (0.6, 0.6)):
            page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy, steps=3)
            page.wait_for_timeout(200)
    page.wait_for_timeout(500)
    assert any(urlsplit(url).hostname == "127.0.0.1" for url in wall_page.requests), "no request was seen at all"
    assert [url for url in wall_page.requests if leaves_the_machine(url)] == []
