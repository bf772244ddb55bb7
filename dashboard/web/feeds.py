"""Which export every figure on a page comes from, and the notice that says so."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
import streamlit as st

from dashboard import i18n
from dashboard.figures.headline import missing_senders
from dashboard.i18n import t
from dashboard.ingest.contract import EXPORT_KINDS
from dashboard.web import banners, cache, device, state

OPTIONAL_FEEDS = frozenset(kind.kind for kind in EXPORT_KINDS if kind.optional)


@dataclass(frozen=True)
class Feed:
    kind: str
    latest_export: date | None
    stale: bool
    ingested_at: datetime | None

    @property
    def missing(self) -> bool:
        return self.latest_export is None


def feeds(day: date) -> dict[str, Feed]:
    """Every feed's newest export and staleness on that day, made once per snapshot version."""
    return dict(cache.shared("feeds", (day,), lambda: _feeds(day)))


def _feeds(day: date) -> dict[str, Feed]:
    frame = cache.query("health/feed_status", day=day)
    result = {}
    for row in frame.itertuples(index=False):
        latest = None if i18n.is_missing(row.latest_export) else pd.Timestamp(row.latest_export).date()
        ingested = None if i18n.is_missing(row.ingested_at) else pd.Timestamp(row.ingested_at).to_pydatetime()
        result[row.kind] = Feed(row.kind, latest, bool(row.stale), ingested)
    return result


def feed_notice(f: state.Filters, kinds: tuple[str, ...]) -> dict[str, Feed]:
    """Say, for every feed the page uses, which export its figures come from, and whose files of it
    are missing."""
    status = feeds(f.day)
    lang = f.lang
    missing = cache.shared("missing_senders", (f.day, f.area),
                           lambda: missing_senders(cache.query("health/reporting", day=f.day, area=f.area)))
    lines, stale, warnings = [], [], []
    for kind in kinds:
        feed = status.get(kind, Feed(kind, None, True, None))
        name = t(f"feed.{kind}", lang)
        if feed.missing:
            key = "feed.optional_missing" if kind in OPTIONAL_FEEDS else "feed.missing"
            lines.append(t(key, lang, feed=name, day=i18n.day(f.day, lang)))
            if kind not in OPTIONAL_FEEDS:
                stale.append(name)
        elif feed.stale:
            stale.append(name)
            warnings.append(t("feed.stale", lang, feed=name, day=i18n.day(f.day, lang),
                              latest=i18n.day(feed.latest_export, lang)))
        else:
            # Some senders' files arrived, not every one's: say whose are missing (names from file
            # names, so shown literally in the Markdown caption).
            key, senders = ("feed.partial", t("list.sep", lang).join(
                i18n.literal(sender) for sender in missing[kind])) if missing.get(kind) else (
                "feed.fresh", "")
            lines.append(t(key, lang, feed=name, day=i18n.short_day(feed.latest_export, lang),
                           ingested=i18n.short_moment(feed.ingested_at, lang), senders=senders))
    if warnings and device.kiosk():
        # One line, cut to the width: a wall's page is sized to the lines above it.
        st.html(f'<div class="kiosk-notice" role="status">⚠ {html.escape(" · ".join(warnings))}</div>')
        banners.add_notice_line()
    else:
        for warning in warnings:
            st.warning(warning, icon="⚠️")
    if lines:
        st.caption(t("feed.as_of", lang) + " · " + " · ".join(lines))
    return status


def newest_exports(newest_day: date) -> dict[str, date | None]:
    """Each feed's newest export day in the snapshot, whatever day the view shows."""
    return {kind: feed.latest_export for kind, feed in feeds(newest_day).items()}


def data_day(feed: Feed) -> date | None:
    """The day an event feed's figures come from: the day itself, or its last export."""
    return feed.latest_export
