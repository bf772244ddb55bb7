"""The needs-attention list's queries, in one place for the overview and the sent briefing: run
with any runner (the page's cached one, or a snapshot's), handed to the pure ranked builder."""

from __future__ import annotations

from datetime import date, datetime

from dashboard.data.report import HeadlineFigures
from dashboard.settings import Thresholds
from dashboard.web.builders import attention, tables

# Every query attention_list may run but staff/fatigue, which only roles that may see names run.
ATTENTION_QUERIES = ("map/areas", "testing/coverage_by_community", "zones/zone_table",
                     "testing/positives_by_community", "isolation/hotel_occupancy", "staff/on_duty_at",
                     "staff/understaffed_ahead", "isolation/awaiting_by_community", "health/corrections",
                     "health/held")


def attention_list(run, figures: HeadlineFigures, day: date, area: str, lang: str, config: Thresholds, *,
                   names_allowed: bool, now: datetime) -> list[attention.Item]:
    """What the overview lists for the day and area. `run(name, **params)` runs a named query; a
    feed with no export contributes nothing. Fatigue lines only where the role may see names:
    the lines carry counts, but the query behind them lists people."""
    has_zones = figures.feeds.get("control_zones", {}).get("latest_export") is not None
    has_isolation = figures.feeds.get("isolation", {}).get("latest_export") is not None
    testing_day, staff_at, round_ = figures.testing_day, figures.staff_at, figures.current_round
    fatigue = run("staff/fatigue", at=staff_at, area=area) if staff_at and names_allowed else None
    return attention.attention_items(
        lang, config, areas=run("map/areas"),
        coverage=run("testing/coverage_by_community", day=day, round=round_, area=area) if round_ is not None else None,
        coverage_round=round_,
        zones=run("zones/zone_table", day=day, area=area, review_days=config.lift_review_days) if has_zones else None,
        positives=run("testing/positives_by_community", day=testing_day, area=area) if testing_day else None,
        hotels=run("isolation/hotel_occupancy", day=day, area=area) if has_isolation else None,
        posts_now=run("staff/on_duty_at", at=staff_at, area=area) if staff_at else None,
        posts_ahead=run("staff/understaffed_ahead", at=staff_at, hours=config.understaffed_lookahead_hours,
                        area=area) if staff_at else None,
        fatigue=tables.fatigue_flags(fatigue, config.fatigue_hours_24h, config.fatigue_hours_7d,
                                     config.fatigue_consecutive_days) if fatigue is not None else None,
        awaiting=run("isolation/awaiting_by_community", day=day, area=area) if has_isolation else None,
        corrections=run("health/corrections", day=day),
        held=run("health/held"),
        now=now,
    )
