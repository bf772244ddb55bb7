"""The 14-day trends, for the overview's charts and the briefing's pictures alike."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.i18n import t


@dataclass(frozen=True)
class Trend:
    title: str
    days: list  # calendar days, oldest first
    values: list  # a number per day, None where that day has no export
    color: str = "#2563eb"


def trends(run, day, area: str, lang: str) -> list[Trend]:
    """The overview's 14-day trends, from the same named queries: positives, samples, people in
    isolation and sealed zones; a day without its export stays empty."""
    testing = run("testing/trend", day=day, area=area)
    isolation = run("isolation/daily", day=day, area=area).groupby("day", sort=True)["active"].sum(min_count=1)
    zones = run("zones/trend", day=day, area=area)
    sealed = zones[zones["level"] == "sealed"]
    return [
        Trend(t("trend.positives", lang), list(testing["day"]), list(testing["positives"]), "#dc2626"),
        Trend(t("trend.samples", lang), list(testing["day"]), list(testing["samples"])),
        Trend(t("trend.isolation_total", lang), list(isolation.index), list(isolation.values), "#7c3aed"),
        Trend(t("kpi.zones_sealed", lang), list(sealed["day"]), list(sealed["zones"]), "#b91c1c"),
    ]
