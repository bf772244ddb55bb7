"""Wall screens: kiosk mode, page rotation, the clock, and the staleness banner.

A screen is left running for days, so everything here assumes nobody is watching: it must say
by itself when the data stops arriving or the last ingest failed.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import streamlit as st

from dashboard import i18n, settings
from dashboard.i18n import t
from dashboard.ingest.contract import EXPORT_KINDS
from dashboard.web import cache, state
from dashboard.web.pages import PAGES

KIOSK = "_kiosk"
ROTATE = "_rotate"
# A screen raises the alarm for the feeds every figure depends on, not for the optional ones.
CORE_FEEDS = tuple(kind.kind for kind in EXPORT_KINDS if not kind.optional)
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
.stApp h1, .stApp h2, .stApp h3, [data-testid="stMetricValue"], [data-testid="stMetricLabel"] p,
[data-testid="stCaptionContainer"], [data-testid="stMarkdownContainer"] p, .stApp label {color: #e5e7eb !important;}
[data-testid="stCaptionContainer"] {color: #cbd5e1 !important;}
.block-container {max-width: 100% !important; padding: 0.5rem 1.6rem 0.3rem !important;}
[data-testid="stVerticalBlock"] {gap: 0.45rem;}
.stApp h1 {font-size: 1.9rem; line-height: 1.25; padding: 0 12rem 0 0 !important;}
.stApp h3 {font-size: 1.3rem; padding: 0.1rem 0 !important;}
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
BANNER_CSS = """
<style>
.stale-banner {background: #b91c1c; color: #fff; padding: 0.6rem 1rem; border-radius: 0.4rem;
  font-weight: 600; margin-bottom: 0.6rem;}
.stale-banner div {margin: 0.1rem 0;}
/* On a wall every line is one line high, so the page below can be sized to fit: see layout. */
.stale-banner.on-wall {padding: 0.2rem 13rem 0.2rem 0.8rem; margin-bottom: 0.1rem; font-size: 16px; line-height: 1.5;}
.stale-banner.on-wall div {margin: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;}
</style>
"""
# The lines of notice a wall page draws above its content, this run: the banner's, the page's
# stale-feed line, the map's; layout takes them off the map and the charts.
NOTICE_LINES = "_notice_lines"


# A failed run on a wall: one dark panel over the whole screen, above Streamlit's own header, so
# that nothing half-drawn, white or clickable shows through. Static rules only.
RETRY_CSS = """
<style>
.retry-panel {position: fixed; inset: 0; z-index: 1000100; background: #0b1220; color: #e5e7eb;
  display: flex; flex-direction: column; align-items: center; justify-content: center; gap: 1.2rem;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif; text-align: center;}
.retry-panel .retry-title {font-size: 3.2rem; font-weight: 600; color: #fde68a;}
.retry-panel .retry-detail {font-size: 1.6rem; color: #cbd5e1; font-variant-numeric: tabular-nums;}
</style>
"""


def show_run_failed(lang: str, last_good: datetime | None, next_try: datetime | None) -> None:
    """Say that this run failed and that the screen retries by itself, with the last good update.

    A wall gets the dark panel; a desk a plain error line, its sidebar still usable. Neither
    shows the exception: that goes to the server's log.
    """
    details = [t("app.retrying.last_good", lang, at=i18n.moment(last_good, lang)) if last_good
               else t("app.retrying.never", lang)]
    if next_try:
        details.append(t("app.retrying.next", lang, at=f"{next_try:%H:%M:%S}"))
    if not is_kiosk():
        st.error(t("app.retrying", lang) + " · " + " · ".join(details))
        return
    st.html(RETRY_CSS + '<div class="retry-panel" role="alert"><div class="retry-title">'
            + html.escape(t("app.retrying", lang)) + '</div><div class="retry-detail">'
            + html.escape(" · ".join(details)) + "</div></div>")


def is_kiosk() -> bool:
    return bool(st.session_state.get(KIOSK))


def kiosk_from_url() -> tuple[bool, int | None]:
    """Kiosk and rotation, remembered for the session once a URL asked for them."""
    params = st.query_params
    if params.get("kiosk") == "1":
        st.session_state[KIOSK] = True
    rotate = rotate_seconds(params.get("rotate"))
    if rotate is not None:
        st.session_state[ROTATE] = rotate
    return bool(st.session_state.get(KIOSK)), st.session_state.get(ROTATE)


def rotate_seconds(value: str | None) -> int | None:
    """The rotation period a URL asks for, or None when it is not a whole number of seconds in range."""
    if value is None or not ROTATE_DIGITS.fullmatch(value):
        return None
    seconds = int(value)
    return seconds if MIN_ROTATE_SECONDS <= seconds <= MAX_ROTATE_SECONDS else None


def url_extras() -> dict[str, str]:
    """The kiosk parameters to keep in the URL whenever the view is written back."""
    extras = {}
    if st.session_state.get(KIOSK):
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


@dataclass(frozen=True)
class Alarm:
    feed: str | None  # None for a failed ingest
    since: date | datetime
    message: str = ""


def stale_alarms(latest_exports: dict[str, date | None], now: datetime, threshold_hours: float,
                 ingest_status: dict | None) -> list[Alarm]:
    """Feeds whose newest export ended more than threshold_hours ago, and a failed last ingest.

    An export for day D covers D, so its age is counted from the end of D.
    """
    alarms = []
    for feed in CORE_FEEDS:
        latest = latest_exports.get(feed)
        if latest is None:
            continue
        end_of_day = datetime.combine(latest + timedelta(days=1), datetime.min.time())
        if now - end_of_day > timedelta(hours=threshold_hours):
            alarms.append(Alarm(feed, latest))
    if ingest_status and not ingest_status.get("ok", True):
        alarms.append(Alarm(None, datetime.fromisoformat(ingest_status["attempted_at"]),
                            ingest_status.get("message", "")))
    return alarms


def show_banner(alarms: list[Alarm], lang: str, threshold_hours: float) -> None:
    """One red banner naming each silent feed and since when, and a failed ingest.

    Feeds that went silent on the same day share a line, so a phone shows the banner in a
    few lines rather than a screenful. A wall puts every silent feed on one line, and the failed
    ingest on another: each cut to the screen's width, so the page can budget its height.
    """
    st.session_state[NOTICE_LINES] = 0
    if not alarms:
        return
    by_day: dict = {}
    for alarm in alarms:
        if alarm.feed:
            by_day.setdefault(alarm.since, []).append(t(f"feed.{alarm.feed}", lang))
    hours = i18n.num(threshold_hours, lang)
    if is_kiosk():
        groups = [t("banner.stale_wall_group", lang, feeds=t("list.sep", lang).join(feeds), day=i18n.day(since, lang))
                  for since, feeds in sorted(by_day.items())]
        lines = [t("banner.stale_wall", lang, hours=hours, feeds=t("list.sep", lang).join(groups))] if groups else []
    else:
        lines = [t("banner.stale", lang, feed=t("list.sep", lang).join(feeds), day=i18n.day(since, lang), hours=hours)
                 for since, feeds in sorted(by_day.items())]
    lines += [t("banner.ingest_failed", lang, at=i18n.moment(alarm.since, lang), message=alarm.message[:300])
              for alarm in alarms if not alarm.feed]
    body = "".join(f"<div>{html.escape(line)}</div>" for line in lines)
    shape = "stale-banner on-wall" if is_kiosk() else "stale-banner"
    st.html(BANNER_CSS + f'<div class="{shape}" role="alert">' + body + "</div>")
    st.session_state[NOTICE_LINES] = len(lines)


def add_notice_line() -> None:
    """A wall page drew one more line of notice above its content."""
    st.session_state[NOTICE_LINES] = st.session_state.get(NOTICE_LINES, 0) + 1


def notice_lines() -> int:
    return st.session_state.get(NOTICE_LINES, 0)
