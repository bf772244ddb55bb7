"""Wall screens: kiosk mode and rotation as a URL asks for them, and the kiosk chrome (dark large
type, no controls, a clock, the move to the next page).

A screen is left running for days, so it must never need a hand: it rotates, and shows when it
last redrew and when it next checks for new data. Its alarms are web/banners.py's.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from pathlib import Path

import streamlit as st

from dashboard import settings
from dashboard.i18n import t
from dashboard.web import cache, device, state
from dashboard.web.pages import PAGES

ROTATE = "_rotate"
DEFAULT_ROTATION = tuple(spec.url_path for spec in PAGES if spec.rotates)
# Seconds a rotating screen shows each page. ASCII digits only: str.isdigit() also accepts "²",
# which int() then rejects.
ROTATE_DIGITS = re.compile(r"[0-9]{1,5}")
MIN_ROTATE_SECONDS, MAX_ROTATE_SECONDS = 5, 86_400

# Static rules only: no data is ever interpolated into these strings.
KIOSK_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stToolbar"],
[data-testid="stHeader"], header, [data-testid="stDecoration"], [data-testid="stMainMenu"] {display: none !important;}
/* Nobody stands at a wall to press a button: every control goes, whatever page draws one. */
[data-testid="stDownloadButton"], [data-testid="stButton"], [data-testid="stSlider"], [data-testid="stSelectbox"],
[data-testid="stPills"], [data-testid="stExpander"], [data-testid="stElementToolbar"], [data-testid="stCode"],
.modebar-container, [data-testid="stTooltipIcon"] {display: none !important;}
.stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] {background: #0b1220; color: #e5e7eb;}
.stApp h1, .stApp h2, [data-testid="stMetricValue"], [data-testid="stMetricLabel"] p,
[data-testid="stCaptionContainer"], [data-testid="stMarkdownContainer"] p, .stApp label {color: #e5e7eb !important;}
[data-testid="stCaptionContainer"] {color: #cbd5e1 !important;}
.block-container {max-width: 100% !important; padding: 0.5rem 1.6rem 0.3rem !important;}
[data-testid="stVerticalBlock"] {gap: 0.45rem;}
.stApp h1 {font-size: 1.9rem; line-height: 1.25; padding: 0 12rem 0.3rem 0 !important;}
.stApp h2 {font-size: 1.3rem; line-height: 1.4; padding: 0.1rem 0 0.3rem !important;}
/* KPI figures readable from 5 m: 44 px at 1080p. */
[data-testid="stMetric"] {background: #111a2e; border-color: #24324f !important;}
[data-testid="stMetric"] > div {padding: 0.3rem 0.8rem !important;}
[data-testid="stMetricValue"] {font-size: 44px !important; line-height: 1.1 !important; font-variant-numeric: tabular-nums;}
[data-testid="stMetricValue"] > div {overflow: visible !important;}
[data-testid="stMetricLabel"] p {font-size: 15px !important;}
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] p {color: #111827 !important; font-size: 14px !important;}
/* Notices in light ink on dark amber, readable across the room. */
[data-testid="stAlert"] > div {background: #3a2a06 !important; border: 1px solid #a16207;}
[data-testid="stAlert"] p, [data-testid="stAlert"] div {color: #fde68a !important;}
.kiosk-table {width: 100%; border-collapse: collapse; font-size: 17px; color: #e5e7eb;}
.kiosk-table th {color: #94a3b8; font-weight: 600; text-align: left; border-bottom: 1px solid #334155; padding: 0.2rem 0.4rem;}
.kiosk-table td {border-bottom: 1px solid #1e293b; padding: 0.25rem 0.4rem;}
.kiosk-more {color: #94a3b8; font-size: 15px; padding: 0.3rem 0.4rem;}
.kiosk-notice {background: #3a2a06; border: 1px solid #a16207; color: #fde68a; border-radius: 0.3rem;
  padding: 0.1rem 0.7rem; font-size: 16px; line-height: 1.5; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;}
.map-legend {color: #e5e7eb;}
.kiosk-clock {position: fixed; top: 0.4rem; right: 1.4rem; z-index: 1000; text-align: right; color: #f8fafc;}
.kiosk-clock .time {font-size: 2rem; font-variant-numeric: tabular-nums; font-weight: 600; line-height: 1.1;}
.kiosk-clock .checks {font-size: 0.85rem; color: #94a3b8; font-variant-numeric: tabular-nums;}
</style>
"""


def kiosk_from_url() -> tuple[bool, int | None]:
    """Kiosk and rotation, remembered for the session once a URL asked for them."""
    params = st.query_params
    if params.get("kiosk") == "1":
        st.session_state[device.KIOSK] = True
    rotate = rotate_seconds(params.get("rotate"))
    if rotate is not None:
        st.session_state[ROTATE] = rotate
    return bool(st.session_state.get(device.KIOSK)), st.session_state.get(ROTATE)


def rotate_seconds(value: str | None) -> int | None:
    """The rotation period a URL asks for, or None when it is not a whole number of seconds in range."""
    if value is None or not ROTATE_DIGITS.fullmatch(value):
        return None
    seconds = int(value)
    return seconds if MIN_ROTATE_SECONDS <= seconds <= MAX_ROTATE_SECONDS else None


def url_extras() -> dict[str, str]:
    """The kiosk parameters to keep in the URL whenever the view is written back."""
    extras = {}
    if st.session_state.get(device.KIOSK):
        extras["kiosk"] = "1"
    if st.session_state.get(ROTATE):
        extras["rotate"] = str(st.session_state[ROTATE])
    return extras


def rotation(allowed: set[str]) -> list[str]:
    pages = settings.kiosk_pages() or DEFAULT_ROTATION
    return [p for p in pages if p in allowed]


def next_page(current: str, pages: list[str]) -> str | None:
    if not pages:
        return None
    if current not in pages:
        return pages[0]
    return pages[(pages.index(current) + 1) % len(pages)]


def show_kiosk(current_page: str, pages: dict[str, Path], allowed: set[str], seconds: int | None) -> None:
    """Kiosk chrome: hidden sidebar and toolbar, dark large type, a clock, and the rotation."""
    st.html(KIOSK_CSS)

    lang = state.current_lang()

    @st.fragment(run_every=1)
    def clock() -> None:
        # Only times go into this HTML; the words come from the catalog and are escaped.
        checks = [t("kiosk.refreshed", lang, at=f"{moment:%H:%M:%S}") if key == cache.REFRESHED_AT
                  else t("kiosk.next_check", lang, at=f"{moment:%H:%M:%S}")
                  for key in (cache.REFRESHED_AT, cache.NEXT_CHECK_AT)
                  if isinstance(moment := st.session_state.get(key), datetime)]
        st.html(f'<div class="kiosk-clock"><div class="time">{datetime.now():%H:%M:%S}</div>'
                f'<div class="checks">{html.escape(" · ".join(checks))}</div></div>')

    clock()
    order = rotation(allowed)
    target = next_page(current_page, order)
    if not seconds or target is None or target == current_page:
        return
    shown_since = datetime.now()

    @st.fragment(run_every=seconds)
    def rotate() -> None:
        # The fragment also runs once when the page is drawn; only a later tick moves on.
        if datetime.now() - shown_since >= timedelta(seconds=seconds - 0.5):
            st.switch_page(pages[target], query_params=st.query_params.to_dict())

    rotate()
