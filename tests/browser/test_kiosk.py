"""Kiosk mode for wall screens: no sidebar or toolbar, a clock, each feed's as-of, and pages that
rotate by themselves."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from dashboard.i18n import t
from tests.browser.support import TITLES

FEEDS = ("control_zones", "testing_records", "isolation", "shifts")  # the overview's feeds


def test_kiosk_hides_the_chrome_and_shows_a_clock_and_the_feeds(new_page, server):
    page = new_page()
    page.goto(server.url + "/?kiosk=1")
    expect(page.locator("h1").first).to_have_text(TITLES["overview"][0])
    expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
    expect(page.locator('[data-testid="stToolbar"]')).to_be_hidden()
    clock = page.locator(".kiosk-clock")
    expect(clock).to_be_visible()
    expect(clock).to_have_text(re.compile(r"\d{1,2}:\d{2}"))
    as_of = page.locator('[data-testid="stCaptionContainer"]', has_text=re.compile(r"^\s*数据截至")).first
    expect(as_of).to_be_visible()
    for feed in FEEDS:
        expect(as_of).to_contain_text(t(f"feed.{feed}", "zh"))


def test_kiosk_rotates_pages_by_itself(new_page, server):
    page = new_page()
    page.goto(server.url + "/?kiosk=1&rotate=5")
    expect(page.locator("h1").first).to_have_text(TITLES["overview"][0])
    others = "|".join(re.escape(zh) for name, (zh, _) in TITLES.items() if name != "overview")
    expect(page.locator("h1").first).to_have_text(re.compile(f"^({others})$"), timeout=20_000)
    expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
    # A screen that reloads keeps being a kiosk.
    expect(page).to_have_url(re.compile(r"[?&]kiosk=1(&|$)"))
