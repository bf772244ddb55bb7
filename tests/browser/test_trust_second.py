"""The second trust pass (issue 16), where only a real server and Chromium show it: the map drawn
from boundaries that carry only area codes, and the data-health matrix's title clear of its column
names.

tests/test_web_trust_second.py has the AppTest side.
"""

from __future__ import annotations

import pytest

from tests.browser.support import (
    CHROMIUM,
    LOAD_MS,
    NO_CHROMIUM,
    TITLES,
    WALL,
    canvas_shot,
    not_blank_share,
    open_app,
    screenshot,
    serve_fixture,
    wait_for_map_drawn,
)
from tests.test_web_trust_second import STRAY_CODE, boundaries_with_codes_only

pytestmark = pytest.mark.browser
if not CHROMIUM.is_file():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)


# ---------------------------------------------------------------- 17. boundaries with area codes only

@pytest.fixture(scope="module")
def codes_only_server(tmp_path_factory):
    running = serve_fixture(tmp_path_factory.mktemp("codes-only"), boundaries_with_codes_only)
    yield running
    running.stop()


def drawn_share(chromium, server, name: str) -> tuple[float, object]:
    """How much of the wall overview's map canvas is drawn on, and the page (left open)."""
    context = chromium.new_context(viewport=WALL, locale="zh-CN")
    context.set_default_timeout(LOAD_MS)
    page = context.new_page()
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
    context = chromium.new_context(viewport=viewport, locale="zh-CN")
    context.set_default_timeout(LOAD_MS)
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
