"""The notices a screen shows by itself, since nobody may be watching it: the red banner when a
feed stops arriving or the last ingest failed, and the panel when a run failed and retries.

On a wall, every line of notice is counted (notice_lines), so the page below can be sized to fit:
see web/wall_fit.py.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime

import streamlit as st

from dashboard import i18n
from dashboard.figures.data_checks import stale_feeds
from dashboard.i18n import t
from dashboard.web import device

BANNER_CSS = """
<style>
.stale-banner {background: #b91c1c; color: #fff; padding: 0.6rem 1rem; border-radius: 0.4rem;
  font-weight: 600; margin-bottom: 0.6rem;}
.stale-banner div {margin: 0.1rem 0;}
/* On a wall every line is one line high, so the page below can be sized to fit: see wall_fit. */
.stale-banner.on-wall {padding: 0.2rem 13rem 0.2rem 0.8rem; margin-bottom: 0.1rem; font-size: 16px; line-height: 1.5;}
.stale-banner.on-wall div {margin: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;}
</style>
"""
# The lines of notice a wall page draws above its content, this run: the banner's, the page's
# stale-feed line, the map's; wall_fit takes them off the map and the charts.
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
    if not device.kiosk():
        st.error(t("app.retrying", lang) + " · " + " · ".join(details))
        return
    st.html(RETRY_CSS + '<div class="retry-panel" role="alert"><div class="retry-title">'
            + html.escape(t("app.retrying", lang)) + '</div><div class="retry-detail">'
            + html.escape(" · ".join(details)) + "</div></div>")


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
    # The alerts' feed_stale rule is the same test (figures/data_checks.py).
    alarms = [Alarm(feed, latest) for feed, latest in stale_feeds(latest_exports, now, threshold_hours)]
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
    if device.kiosk():
        groups = [t("banner.stale_wall_group", lang, feeds=t("list.sep", lang).join(feeds), day=i18n.day(since, lang))
                  for since, feeds in sorted(by_day.items())]
        lines = [t("banner.stale_wall", lang, hours=hours, feeds=t("list.sep", lang).join(groups))] if groups else []
    else:
        lines = [t("banner.stale", lang, feed=t("list.sep", lang).join(feeds), day=i18n.day(since, lang), hours=hours)
                 for since, feeds in sorted(by_day.items())]
    lines += [t("banner.ingest_failed", lang, at=i18n.moment(alarm.since, lang), message=alarm.message[:300])
              for alarm in alarms if not alarm.feed]
    body = "".join(f"<div>{html.escape(line)}</div>" for line in lines)
    shape = "stale-banner on-wall" if device.kiosk() else "stale-banner"
    st.html(BANNER_CSS + f'<div class="{shape}" role="alert">' + body + "</div>")
    st.session_state[NOTICE_LINES] = len(lines)


def add_notice_line() -> None:
    """A wall page drew one more line of notice above its content."""
    st.session_state[NOTICE_LINES] = st.session_state.get(NOTICE_LINES, 0) + 1


def notice_lines() -> int:
    return st.session_state.get(NOTICE_LINES, 0)
