"""When exports stop arriving, every screen says which feed went silent and since when.

Its own server, over a copy of the fixture without 2022-01-06's testing file: testing's newest
export is then 2022-01-05, the other feeds' 2022-01-06, and all of them are years older than
the 26 h threshold.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dashboard.i18n import t
from tests.browser.support import (
    PAGES,
    TITLES,
    browser_context,
    path_of,
    serve_fixture,
)

TESTING = t("feed.testing_records", "zh")  # 核酸采样
# 2022-01-05 as a Chinese screen may write it.
JAN_5 = re.compile(r"2022年0?1月0?5日|(?<!\d)0?1月0?5日|2022-01-05|2022/0?1/0?5")


def drop_newest_testing(data_dir) -> None:
    (data_dir / "exports" / "2022-01-06" / "testing_records.csv").unlink()


@pytest.fixture(scope="module")
def stale_server(tmp_path_factory):
    with serve_fixture(tmp_path_factory.mktemp("stale"), drop_newest_testing) as running:
        yield running


@pytest.fixture(scope="module")
def stale_screen(chromium):
    with browser_context(chromium) as context:
        yield context


def open_title(page, server, path: str, title: str) -> None:
    """Only as far as the title: the banner is drawn before the page, so no need to wait for
    the page's charts and map."""
    page.goto(server.url + path)
    page.locator("h1", has_text=title).first.wait_for()


def assert_banner_names_testing_since_jan_5(page) -> None:
    banner = page.locator(".stale-banner").first
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(TESTING)
    lines = [line for line in banner.inner_text().splitlines() if TESTING in line]
    assert any(JAN_5.search(line) for line in lines), lines


@pytest.mark.parametrize("name", PAGES)
def test_every_page_shows_the_stale_banner(stale_screen, stale_server, name):
    page = stale_screen.new_page()
    try:
        open_title(page, stale_server, path_of(name), TITLES[name][0])
        assert_banner_names_testing_since_jan_5(page)
    finally:
        page.close()


def test_kiosk_shows_the_stale_banner(stale_screen, stale_server):
    page = stale_screen.new_page()
    try:
        open_title(page, stale_server, "/?kiosk=1", TITLES["overview"][0])
        assert_banner_names_testing_since_jan_5(page)
    finally:
        page.close()
