"""How tall a wall page's map and trends may be, so that the page fits the screen without scrolling
however many notices stack up above it."""

from __future__ import annotations

from dashboard.web import area_outlines, banners, device, state

# A wall's overview at 1080 CSS px (a 4K screen is zoomed 2x, so the same): what fits below the
# header and the KPI strip with nothing below the fold, the staleness banner included.
KIOSK_MAP_HEIGHT = 600
KIOSK_TREND_HEIGHT = 165
# The other rotation pages have one row of cards above their map.
KIOSK_PAGE_MAP_HEIGHT = 640
# Those heights leave room for one line of notice (the banner's). Every further line a page
# draws above its content (banners.notice_lines(): the wall banner's second line, the page's
# stale-feed line; and the map's outline notice) comes off the map, and on the overview off the
# two rows of trends beside it, so the wall never scrolls however many notices stack up.
KIOSK_NOTICE_LINE_PX = 26
KIOSK_NOTICE_LINES_ALLOWED = 1
KIOSK_MIN_TREND_HEIGHT = 110


def kiosk_squeeze() -> int:
    """The pixels this run's notices take beyond what the wall's heights allow for."""
    outline_line = 1 if area_outlines.outline_notice(area_outlines.geo(), state.current_lang()) else 0
    lines = banners.notice_lines() + outline_line
    return max(0, lines - KIOSK_NOTICE_LINES_ALLOWED) * KIOSK_NOTICE_LINE_PX


def kiosk_map_height() -> int:
    """The wall overview's map: as tall as the notices above it leave room for."""
    return KIOSK_MAP_HEIGHT - kiosk_squeeze()


def kiosk_trend_height() -> int:
    """The wall overview's small trends, two rows of them beside the map: each gives half."""
    return max(KIOSK_MIN_TREND_HEIGHT, KIOSK_TREND_HEIGHT - -(-kiosk_squeeze() // 2))


def map_height(desk_height: int) -> int:
    return KIOSK_PAGE_MAP_HEIGHT - kiosk_squeeze() if device.kiosk() else desk_height
