"""The 14-day trends: which four there are and what each reads, for the overview and the briefing.

The overview draws each over its 14 days, by isolation kind or zone level where it has them
(web/builders/charts.trend_chart); the briefing, which robots and mail show small, one number a
day: the total, or the sealed zones. A day without its export stays empty in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.i18n import t


@dataclass(frozen=True)
class TrendSpec:
    key: str
    query: str  # a named query with one row per day (and kind or level) of the trend window
    color: str  # the bars of a trend drawn as one series


TRENDS = (
    TrendSpec("positives", "testing/trend", "#dc2626"),
    TrendSpec("samples", "testing/trend", "#2563eb"),
    TrendSpec("isolation", "isolation/daily", "#7c3aed"),
    TrendSpec("zones", "zones/trend", "#b91c1c"),
)


@dataclass(frozen=True)
class Trend:
    title: str
    days: list  # calendar days, oldest first
    values: list  # a number per day, None where that day has no export
    color: str = "#2563eb"


def trend_frame(run, spec: TrendSpec, day, area: str) -> pd.DataFrame:
    """What a trend draws from: `run(name, **params)` runs a named query."""
    return run(spec.query, day=day, area=area)


def trends(run, day, area: str, lang: str) -> list[Trend]:
    """The four trends as one number a day, for the briefing: positives, samples, people in
    isolation (all kinds) and sealed zones."""
    frames = {spec.query: trend_frame(run, spec, day, area) for spec in TRENDS}
    specs = {spec.key: spec for spec in TRENDS}
    testing = frames[specs["positives"].query]
    isolation = frames[specs["isolation"].query].groupby("day", sort=True)["active"].sum(min_count=1)
    zones = frames[specs["zones"].query]
    sealed = zones[zones["level"] == "sealed"]
    return [
        Trend(t("trend.positives", lang), list(testing["day"]), list(testing["positives"]), specs["positives"].color),
        Trend(t("trend.samples", lang), list(testing["day"]), list(testing["samples"]), specs["samples"].color),
        Trend(t("trend.isolation_total", lang), list(isolation.index), list(isolation.values),
              specs["isolation"].color),
        Trend(t("kpi.zones_sealed", lang), list(sealed["day"]), list(sealed["zones"]), specs["zones"].color),
    ]
