"""Every page at 390×844, as a leader's phone shows it: the cards stack, the map and the tables
fit the width (wide tables scroll inside their frame), and nothing overflows the page.

One phone for the module: it opens a link to the overview, then moves between pages with the
menu, as a leader does.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.browser.support import (
    CHART_BUNDLES,
    DECK,
    MAP_PAGES,
    PAGES,
    PHONE,
    TITLES,
    covered_by_header,
    exceptions,
    open_app,
    overflow,
    path_of,
    phone_context,
    screenshot,
    show_charts_on_phone,
    wait_for_app,
    wait_for_map_drawn,
)

WIDTH = PHONE["width"]
SIDEBAR = '[data-testid="stSidebar"]'


@dataclass
class Shown:
    name: str
    page: object  # playwright Page


@dataclass
class Phone:
    page: object  # playwright Page
    sidebar_on_load: dict | None  # the sidebar's box when the first page had run
    first_screen: list[str]  # what the browser fetched before the leader asked for charts
    cards_and_list: bool  # the KPI cards and the attention list were drawn by then


@pytest.fixture(scope="module")
def phone(chromium, server):
    """A phone (a touch screen 390 px wide, a mobile browser) that opened a link to the overview,
    then turned on its maps and charts."""
    with phone_context(chromium) as context:
        page = context.new_page()
        fetched: list[str] = []
        page.on("request", lambda request: fetched.append(request.url))
        open_app(page, server, path_of("overview"), TITLES["overview"][0])
        page.locator("ol.attention").first.wait_for()
        page.wait_for_timeout(1000)  # a bundle asked for late would still show up in `fetched`
        drawn = page.locator('[data-testid="stMetric"]').count() > 0 and page.locator("ol.attention").count() > 0
        sidebar = page.locator(SIDEBAR)
        sidebar_box = sidebar.bounding_box() if sidebar.count() else None
        first_screen = list(fetched)
        show_charts_on_phone(page)
        yield Phone(page, sidebar_box, first_screen, drawn)


def close_sidebar(page) -> None:
    sidebar = page.locator(SIDEBAR)
    if sidebar.count() and sidebar.is_visible():
        page.locator('[data-testid="stSidebarCollapseButton"] button').click(force=True)
        sidebar.wait_for(state="hidden")


@pytest.fixture(scope="module")
def phone_page(request, phone):
    """One page on the phone, reached as a phone user does: menu, then the page's link."""
    name = request.param
    page = phone.page
    title = TITLES[name][0]
    close_sidebar(page)  # if it opened over the page, as a user would first
    if page.locator("h1").first.inner_text().strip() != title:
        page.locator('[data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapsedControl"] button') \
            .first.click()
        page.locator(f'{SIDEBAR} [data-testid="stSidebarNavLink"]', has_text=title).click()
        wait_for_app(page, title)
        close_sidebar(page)
    if name in MAP_PAGES:
        wait_for_map_drawn(page)
    screenshot(page, f"{name}-390x844")
    return Shown(name, page)


def boxes(page, selector: str) -> list[dict]:
    return [box for box in (element.bounding_box() for element in page.locator(selector).all()) if box]


@pytest.mark.parametrize("phone_page", PAGES, indirect=True, scope="module")
def test_phone_page_loads_and_does_not_overflow(phone_page):
    assert exceptions(phone_page.page) == []
    scroll_width, inner_width = overflow(phone_page.page)
    assert scroll_width <= inner_width + 1


def test_phone_first_screen_fetches_no_chart_bundle(phone):
    """The cards and the list show without plotly's or deck.gl's bundle (2.2 MB compressed): the
    phone fetches them only when the leader turns on the maps and charts."""
    assert phone.cards_and_list
    bundles = [url for url in phone.first_screen if any(name in url for name in CHART_BUNDLES)]
    assert bundles == []
    assert any("/static/js/index." in url for url in phone.first_screen), "the listener saw the page load"


def test_phone_opens_on_the_page_not_the_sidebar(phone):
    """A leader opening a link sees the figures first; the sidebar (300 px of a 390 px screen)
    waits behind its button."""
    box = phone.sidebar_on_load
    assert box is None or box["width"] == 0 or box["x"] + box["width"] <= 0, (
        f"the sidebar covers the page on load: {box}")


@pytest.mark.parametrize("phone_page", [p for p in PAGES if p != "health"], indirect=True, scope="module")
def test_phone_kpi_cards_stack(phone_page):
    cards = boxes(phone_page.page, '[data-testid="stMetric"]')
    assert cards, "no KPI card on the page"
    columns = {round(box["x"]) for box in cards}
    assert len(columns) <= 2, f"cards in {len(columns)} columns at x = {sorted(columns)}"
    assert all(box["x"] >= 0 and box["x"] + box["width"] <= WIDTH + 1 for box in cards)


@pytest.mark.parametrize("phone_page", MAP_PAGES, indirect=True, scope="module")
def test_phone_map_fits_the_width(phone_page):
    canvases = boxes(phone_page.page, f"{DECK} canvas")
    assert canvases, "no map canvas"
    for box in canvases:
        assert box["x"] >= 0 and box["width"] <= WIDTH and box["x"] + box["width"] <= WIDTH + 1, box


@pytest.mark.parametrize("phone_page", PAGES, indirect=True, scope="module")
def test_phone_tables_stay_inside_the_screen(phone_page):
    """A table wider than the phone scrolls inside its frame: the frame itself fits. The
    overview's table is the needs-attention list."""
    frames = boxes(phone_page.page, '[data-testid="stDataFrame"], ol.attention')
    assert frames, "no table on the page"
    for box in frames:
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH + 1, box


@pytest.mark.parametrize("phone_page", ["overview"], indirect=True, scope="module")
def test_phone_banner_is_not_under_the_header(phone_page):
    """As on the wall: the whole staleness banner shows below the header."""
    expect(phone_page.page.locator(".stale-banner")).to_be_visible()
    problem = covered_by_header(phone_page.page, ".stale-banner")
    assert not problem, problem
