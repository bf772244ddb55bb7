"""Wall screens and the leader's phone as a command center uses them (issue 10): every kiosk page
fits the screen with nothing below the fold, dark throughout, with no control to press; the
phone shows the cards two a row, the attention list before the map, within three screens. And axe
finds no serious fault on a wall's page (issue 21).

The fixture's exports are from 2022, so every page also carries the staleness banner: the pages
must fit with it, and with every banner and notice at once (issue 16).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from dashboard.i18n import t
from dashboard.ingest.status import write_status
from tests.browser.axe import faults
from tests.browser.support import (
    DECK,
    PHONE,
    TITLES,
    browser_context,
    element_shots,
    exceptions,
    luminance_share,
    open_app,
    overflow,
    path_of,
    phone_context,
    screenshot,
    scroll_to_top,
    serve_fixture,
    show_charts_on_phone,
    vertical_overflow,
    visible_controls,
    wait_for_map_drawn,
)
from tests.test_web_trust_second import boundaries_with_codes_only

ROTATION = ("overview", "zones", "testing", "isolation", "staff")
# A 4K screen runs at 200 % scaling (the OS setting, or Chromium's --force-device-scale-factor=2):
# 3840×2160 device pixels, the 1080p layout twice as sharp.
SCREENS = {
    "1920x1080": ({"width": 1920, "height": 1080}, 1),
    "3840x2160": ({"width": 1920, "height": 1080}, 2),
}


@pytest.fixture(scope="module", params=list(SCREENS))
def wall(request, chromium):
    viewport, scale = SCREENS[request.param]
    with browser_context(chromium, viewport, device_scale_factor=scale) as context:
        yield request.param, context


@contextmanager
def kiosk_page_on(wall, server, name: str, shot: str) -> Iterator[tuple[str, object]]:
    """(name, page): a rotation page opened on the wall in kiosk mode, its map drawn, photographed
    as screenshots/<shot>-<name>-<screen>.png; closed after."""
    screen, context = wall
    page = context.new_page()
    open_app(page, server, path_of(name) + "?kiosk=1", TITLES[name][0])
    wait_for_map_drawn(page, timeout_s=40)
    scroll_to_top(page)
    screenshot(page, f"{shot}-{name}-{screen}")
    try:
        yield name, page
    finally:
        page.close()


def assert_fits_the_screen(name: str, page) -> None:
    """No exception box, and nothing to scroll, down or across."""
    assert exceptions(page) == []
    assert vertical_overflow(page) == {}, f"{name} scrolls"
    width, inner = overflow(page)
    assert width <= inner + 1


# One page per screen and rotation page for the module: the four checks below only read it, and
# opening a kiosk page to its drawn map is most of their time (40 opens became 10).
@pytest.fixture(scope="module", params=ROTATION)
def kiosk_page(request, wall, server):
    with kiosk_page_on(wall, server, request.param, "kiosk") as shown:
        yield shown


def test_every_rotation_page_fits_the_screen(kiosk_page):
    assert_fits_the_screen(*kiosk_page)


def test_no_control_is_visible_on_a_wall(kiosk_page):
    name, page = kiosk_page
    assert visible_controls(page) == [], name


def test_charts_tables_and_the_map_are_dark(kiosk_page):
    """Sampled from the screen: at most a few pixels of each chart, table and map are light (text,
    markers), never their background, which the complaint found white."""
    name, page = kiosk_page
    areas = {"map": element_shots(page, f"{DECK} canvas"), "table": element_shots(page, ".kiosk-table"),
             "chart": element_shots(page, ".js-plotly-plot")}
    assert areas["map"], f"{name} has no map"
    assert areas["table"] or areas["chart"], f"{name} has neither a table nor a chart"
    for kind, shots in areas.items():
        for shot in shots:
            light = luminance_share(shot, above=200)
            assert light < 0.08, f"{name}: {light:.0%} of a {kind} is light"
    assert not page.locator('[data-testid="stDataFrame"]').count(), "the data grid paints itself white"


def test_kpi_figures_are_readable_from_across_the_room(kiosk_page):
    name, page = kiosk_page
    sizes = page.eval_on_selector_all('[data-testid="stMetricValue"]',
                                      "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert sizes and min(sizes) >= 40, (name, sizes)


# axe-core's scan (tests/browser/axe.py; the desk's and the phone's pages: test_accessibility.py)
# of each rotation page on the 1080p wall. The 4K wall is the same page in the same CSS pixels,
# drawn twice as sharp.
@pytest.mark.parametrize("wall", ["1920x1080"], indirect=True, scope="module")
def test_a_wall_page_has_no_serious_fault(kiosk_page, axe_source):
    name, page = kiosk_page
    assert faults(page, axe_source) == [], name


# The overview's page of the checks above: it is only read here too.
@pytest.mark.parametrize("kiosk_page", ["overview"], indirect=True, scope="module")
def test_the_wall_overview_is_mostly_map(kiosk_page):
    _, page = kiosk_page
    scroll_to_top(page)
    viewport = page.viewport_size
    deck = page.locator(DECK).first.bounding_box()
    others = [box for selector in (".js-plotly-plot", "ol.attention", '[data-testid="stMetric"]')
              for box in (e.bounding_box() for e in page.locator(selector).all()) if box]
    assert deck["height"] >= viewport["height"] / 2, deck
    assert deck["y"] + deck["height"] <= viewport["height"], "the map is cut at the bottom edge"
    assert all(deck["width"] * deck["height"] > box["width"] * box["height"] for box in others)
    # The top of the ranked list, with the rest counted, and the refresh line under the clock.
    # The ranked needs-attention list, its top lines only.
    assert page.locator("ol.attention").count() == 1
    assert page.locator(".kiosk-clock .checks").inner_text().startswith("数据刷新")


# ---------------------------------------------------------------- the leader's phone

@pytest.fixture(scope="module")
def phone_overview(chromium, server):
    with phone_context(chromium) as context:
        page = context.new_page()
        open_app(page, server, path_of("overview"), TITLES["overview"][0])
        show_charts_on_phone(page)
        wait_for_map_drawn(page, timeout_s=40)
        screenshot(page, "phone-overview")
        yield page


def test_phone_shows_the_cards_two_a_row(phone_overview):
    boxes = [e.bounding_box() for e in phone_overview.locator('[data-testid="stMetric"]').all()]
    rows: dict[int, list] = {}
    for box in boxes:
        rows.setdefault(round(box["y"]), []).append(box)
    counts = [len(row) for _, row in sorted(rows.items())]
    assert all(count == 2 for count in counts[:-1]) and counts[-1] in (1, 2), counts
    assert all(box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1 for box in boxes)


def test_phone_puts_the_attention_list_before_the_map(phone_overview):
    attention = phone_overview.locator("h2", has_text=t("overview.attention", "zh")).first.bounding_box()
    situation = phone_overview.locator("h2", has_text=t("overview.map", "zh")).first.bounding_box()
    assert attention["y"] < situation["y"]


def test_phone_map_shows_the_whole_district_within_the_width(phone_overview):
    scroll_to_top(phone_overview)
    canvas = phone_overview.locator(f"{DECK} canvas").first.bounding_box()
    assert canvas["x"] >= 0 and canvas["x"] + canvas["width"] <= PHONE["width"] + 1
    width, inner = overflow(phone_overview)
    assert width <= inner + 1


def test_phone_charts_have_no_mode_bar_over_their_titles(phone_overview):
    chart = phone_overview.locator(".js-plotly-plot").first
    chart.scroll_into_view_if_needed()
    chart.hover()
    phone_overview.wait_for_timeout(300)  # plotly shows its mode bar on hover
    assert not [box for box in (e.bounding_box() for e in phone_overview.locator(".modebar-container").all())
                if box and box["height"] > 0]


def test_phone_overview_is_at_most_three_screens_tall(phone_overview):
    height = phone_overview.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    assert height <= 3 * PHONE["height"], height


# ---------------------------------------------------------------- every banner and notice at once (issue 16)

def everything_stale_and_a_stray_shape(data_dir) -> None:
    """Each core feed silent since a different day (the banner's lines), three of them without
    an export for the day shown (the page's own notice), and a boundary shape that matches no
    area (the map's notice)."""
    exports = data_dir / "exports"
    for day, kind in (("2022-01-06", "testing_records"), ("2022-01-06", "control_zones"),
                      ("2022-01-05", "isolation"), ("2022-01-06", "isolation")):
        (exports / day / f"{kind}.csv").unlink()
    boundaries_with_codes_only(data_dir)


@pytest.fixture(scope="module")
def crowded_server(tmp_path_factory):
    with serve_fixture(tmp_path_factory.mktemp("crowded"), everything_stale_and_a_stray_shape) as running:
        # And the last ingest failed, with a long reason: the banner's line for it.
        write_status(running.db_path, False, "exports/2022-01-06/shifts.csv: " + "the file could not be read; " * 12)
        yield running


@pytest.fixture(params=ROTATION)
def crowded_page(request, wall, crowded_server):
    with kiosk_page_on(wall, crowded_server, request.param, "kiosk-crowded") as shown:
        yield shown


def test_every_rotation_page_fits_with_every_banner_and_notice(crowded_page):
    name, page = crowded_page
    assert_fits_the_screen(name, page)
    # Nothing is cut at the bottom edge: the last element ends inside the screen.
    bottom = page.evaluate("""() => Math.max(...[...document.querySelectorAll(
        '[data-testid="stMain"] [data-testid="stElementContainer"]')].map(e => e.getBoundingClientRect().bottom))""")
    assert bottom <= page.viewport_size["height"] + 1, (name, bottom)
    banner = page.locator(".stale-banner")
    # Every notice is there: silent feeds and the failed ingest, the page's stale feeds (pages
    # whose feeds all have the day's export have none), the shape the map cannot place.
    expect(banner).to_contain_text(t("feed.isolation", "zh"))
    expect(banner).to_contain_text("最近一次数据导入失败")
    if name in ("overview", "zones", "testing", "isolation"):
        expect(page.locator(".kiosk-notice")).to_be_visible()
    expect(page.get_by_text("个图形未画出")).to_be_visible()
