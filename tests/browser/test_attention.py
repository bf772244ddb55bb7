"""The ranked 'needs attention' list as a browser shows it, on the fixture's newest day (01-06 at
12:00, worked out in tests/test_attention.py): the post short now first, then the two positives
awaiting transfer (台郭 since 01-04 10:00, 杏苑 since 01-06 16:00), the post short from 16:00,
then 台郭's release overdue, then coverage, 蜜蜂张街道's two communities as one line that expands.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.support import TITLES, open_app
from tests.test_attention import NEWEST_DAY_LINES as LINES

ITEMS = "ol.attention > li"


def shown_lines(page) -> list[tuple[str, str]]:
    return page.eval_on_selector_all(ITEMS, """items => items.map(li => [li.dataset.kind,
        (li.querySelector('summary') || li.querySelector(':scope > span:last-child')).innerText.trim()])""")


def test_a_post_short_now_ranks_above_coverage(server, new_page):
    page = new_page()
    open_app(page, server, "/?day=2022-01-06&lang=en", TITLES["overview"][1])
    expect(page.locator(ITEMS)).to_have_count(len(LINES))
    assert [tuple(line) for line in shown_lines(page)] == LINES
    street_line = page.locator(ITEMS).nth(5)
    detail = street_line.get_by_text("兴华社区: round 2 coverage 87.5%, below the 95% target")
    expect(detail).to_be_hidden()
    street_line.locator("summary").click()
    expect(detail).to_be_visible()


def test_the_wall_shows_the_same_order_without_expanding(server, new_page):
    page = new_page()
    open_app(page, server, "/?kiosk=1&day=2022-01-06&lang=en", TITLES["overview"][1])
    # Seven lines since releases overdue joined the list (issue 20): a wall shows six and "+1 more".
    expect(page.locator(ITEMS)).to_have_count(6)
    assert [tuple(line) for line in shown_lines(page)] == LINES[:6]
    expect(page.locator(f"{ITEMS} details")).to_have_count(0)
