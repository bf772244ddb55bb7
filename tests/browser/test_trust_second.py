"""The second trust pass (issue 16), where only a real server and Chromium show it: the data-health
matrix's title clear of its column names.

tests/test_web_trust_second.py has the AppTest side.
"""

from __future__ import annotations

import pytest

from tests.browser.support import CHROMIUM, LOAD_MS, NO_CHROMIUM, TITLES, open_app, screenshot

pytestmark = pytest.mark.browser
if not CHROMIUM.is_file():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)


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
