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
from dashboard.app_pages import PAGES
from dashboard.data.contract import EXPORT_KINDS
from dashboard.i18n import t

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
.stApp {background: #0b1220; color: #e5e7eb;}
.stApp h1, .stApp h2, .stApp h3, [data-testid="stMetricValue"], [data-testid="stMetricLabel"] p,
[data-testid="stCaptionContainer"], [data-testid="stMarkdownContainer"] p, .stApp label {color: #e5e7eb !important;}
[data-testid="stMetric"] {background: #111a2e; border-color: #24324f !important;}
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] p {color: #111827 !important;}
.stApp button {background: #111a2e !important; border-color: #24324f !important;}
.stApp button p {color: #e5e7eb !important;}
.block-container {max-width: 100% !important; padding: 1.2rem 2rem !important;}
.kiosk-clock {position: fixed; top: 0.6rem; right: 1.4rem; z-index: 1000; font-size: 2rem;
  font-variant-numeric: tabular-nums; color: #f8fafc; font-weight: 600;}
/* 3840x2160 screens: the same layout at twice the size. */
@media (min-width: 3000px) { .stApp {zoom: 2;} }
</style>
"""
BANNER_CSS = """
<style>
.stale-banner {background: #b91c1c; color: #fff; padding: 0.6rem 1rem; border-radius: 0.4rem;
  font-weight: 600; margin-bottom: 0.6rem;}
.stale-banner div {margin: 0.1rem 0;}
</style>
"""


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

    @st.fragment(run_every=1)
    def clock() -> None:
        st.html(f'<div class="kiosk-clock">{datetime.now():%H:%M:%S}</div>')

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
    few lines rather than a screenful.
    """
    if not alarms:
        return
    by_day: dict = {}
    for alarm in alarms:
        if alarm.feed:
            by_day.setdefault(alarm.since, []).append(t(f"feed.{alarm.feed}", lang))
    lines = [t("banner.stale", lang, feed=t("list.sep", lang).join(feeds), day=i18n.day(since, lang),
               hours=i18n.num(threshold_hours, lang)) for since, feeds in sorted(by_day.items())]
    lines += [t("banner.ingest_failed", lang, at=i18n.moment(alarm.since, lang), message=alarm.message[:300])
              for alarm in alarms if not alarm.feed]
    body = "".join(f"<div>{html.escape(line)}</div>" for line in lines)
    st.html(BANNER_CSS + '<div class="stale-banner" role="alert">' + body + "</div>")
