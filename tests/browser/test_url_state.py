"""A shared link reproduces the view, and the view stays in the address bar while the user
moves between pages with the sidebar."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.browser.support import TITLES, open_app, wait_for_app

STREET = "410103001"  # 蜜蜂张街道 in tests/fixtures.py
LINK = f"/testing?day=2022-01-04&area={STREET}&lang=en&layers=coverage,zones"


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_a_shared_link_opens_its_view_and_keeps_it_across_pages(new_page, server):
    page = new_page()
    open_app(page, server, LINK, "Testing")
    assert page.locator("h1").first.inner_text().strip() == TITLES["testing"][1]
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_role("combobox", name="As-of day")).to_have_value("4 Jan 2022")
    expect(sidebar.get_by_role("combobox", name="Street")).to_have_value("蜜蜂张街道")
    expect(page.locator('[data-testid="stCaptionContainer"]', has_text="蜜蜂张街道 · 4 Jan 2022").first).to_be_visible()

    sidebar.locator('[data-testid="stSidebarNavLink"]', has_text=TITLES["zones"][1]).click()
    expect(page).to_have_url(re.compile(r"/zones\?.*day=2022-01-04"))
    wait_for_app(page, TITLES["zones"][1])
    assert urlsplit(page.url).path == "/zones"
    query = query_of(page.url)
    kept = {"day": "2022-01-04", "area": STREET, "lang": "en", "layers": "coverage,zones"}
    assert {name: query.get(name) for name in kept} == kept
    expect(sidebar.get_by_role("combobox", name="As-of day")).to_have_value("4 Jan 2022")
    expect(sidebar.get_by_role("combobox", name="Street")).to_have_value("蜜蜂张街道")
