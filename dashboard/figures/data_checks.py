"""Rules about the data rather than the outbreak: a feed gone silent, releases overdue, and data
that contradicts itself (DHIS2's validation rules). Query results in, items of the rule table out
(figures/rules.py); a None input is a rule not evaluated, never a clean bill."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd

from dashboard.figures.rules import Item
from dashboard.figures.rules import subject_of as _of
from dashboard.i18n import feed_in_sentence, hours, num, pct, short_day, t
from dashboard.ingest.contract import EXPORT_KINDS

# The feeds every day must have; an optional one (door visits, checkpoints) going quiet is no alarm.
CORE_FEEDS = tuple(kind.kind for kind in EXPORT_KINDS if not kind.optional)
# Days before the day that an outlier's range is learned from, and the fewest of them with data.
OUTLIER_DAYS = 7
OUTLIER_MIN_DAYS = 3


def stale_feeds(latest_exports: dict[str, date | None], now: datetime, threshold_hours: float) -> list[tuple[str, date]]:
    """The core feeds whose newest export ended more than threshold_hours before `now`, with that
    export's day; an export for day D covers D, so its age counts from the end of D."""
    stale = []
    for feed in CORE_FEEDS:
        latest = latest_exports.get(feed)
        if latest is not None and now - datetime.combine(latest + timedelta(days=1), datetime.min.time()) \
                > timedelta(hours=threshold_hours):
            stale.append((feed, latest))
    return stale


def feed_stale(lang, latest_exports, now: datetime | None, threshold_hours: float) -> list[Item]:
    if latest_exports is None or now is None:
        return []
    return [Item("feed_stale", t("attention.feed_stale", lang, feed=feed_in_sentence(feed, lang),
                                 day=short_day(latest, lang), hours=hours(threshold_hours, lang)),
                 badness=-pd.Timestamp(latest).timestamp(), subject=feed)
            for feed, latest in stale_feeds(latest_exports, now, threshold_hours)]


def releases_overdue(lang, overdue) -> list[Item]:
    if overdue is None:
        return []
    return [Item("releases_overdue", t("attention.releases_overdue", lang, name=row.name, count=num(row.overdue, lang)),
                 badness=float(row.overdue), subject=_of(row, "area_code"), area=_of(row, "area_code"))
            for row in overdue.itertuples()]


def positives_over_samples(lang, positives) -> list[Item]:
    if positives is None:
        return []
    over = positives[positives["positives"] > positives["samples"]]
    return [Item("positives_over_samples", t("attention.positives_over_samples", lang, name=row.name,
                                             positives=num(row.positives, lang), samples=num(row.samples, lang)),
                 badness=float(row.positives - row.samples), subject=_of(row, "area_code"), area=_of(row, "area_code"))
            for row in over.itertuples()]


def hotels_over_rooms(lang, hotels) -> list[Item]:
    if hotels is None:
        return []
    over = hotels[hotels["capacity"].notna() & (hotels["active"] > hotels["capacity"])]
    return [Item("hotel_over_rooms", t("attention.hotel_over_rooms", lang, name=row.name,
                                       active=num(row.active, lang), capacity=num(row.capacity, lang)),
                 badness=float(row.active - row.capacity), subject=_of(row, "site_id"), area=_of(row, "area_code"))
            for row in over.itertuples()]


def coverage_over_full(lang, coverage, coverage_round) -> list[Item]:
    if coverage is None or coverage_round is None:
        return []
    over = coverage[coverage["coverage"] > 1]
    return [Item("coverage_over_full", t("attention.coverage_over_full", lang, name=row.name, round=coverage_round,
                                         coverage=pct(row.coverage, lang)),
                 badness=float(row.coverage), subject=f"{_of(row, 'area_code')}:{coverage_round}", area=_of(row, "area_code"))
            for row in over.itertuples()]


def outlier_range(values: list[float], margin: float) -> tuple[float, float]:
    """The range a day's figure is expected in: the lowest of the days before less `margin` of it,
    to the highest plus `margin` of it."""
    return min(values) * (1 - margin), max(values) * (1 + margin)


def outliers(lang, trend, day: date | None, margin: float, area: str) -> list[Item]:
    """The day's samples and positives (testing/trend) against the range of the OUTLIER_DAYS before
    it that have an export; too few such days and nothing is said."""
    if trend is None or day is None or trend.empty:
        return []
    days = pd.to_datetime(trend["day"]).dt.date
    today = trend[days == day]
    before = trend[(days < day) & (days >= day - timedelta(days=OUTLIER_DAYS))]
    items = []
    for figure in ("samples", "positives"):
        history = [float(v) for v in before[figure] if not pd.isna(v)]
        if today.empty or pd.isna(today[figure].iloc[0]) or len(history) < OUTLIER_MIN_DAYS:
            continue
        value = float(today[figure].iloc[0])
        low, high = outlier_range(history, margin)
        if low <= value <= high:
            continue
        items.append(Item("outlier", t("attention.outlier", lang, day=short_day(day, lang),
                                       figure=t(f"correction.figure.{figure}_on_day", lang), value=num(value, lang),
                                       days=OUTLIER_DAYS, low=num(round(low), lang), high=num(round(high), lang)),
                          badness=abs(value - (low if value < low else high)) / max(high, 1),
                          subject=f"{figure}:{day.isoformat()}", area=area))
    return items
