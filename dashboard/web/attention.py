"""The needs-attention list outside a page, for the sent briefing: the overview's queries, run with
any runner, handed to the attention builder as they are."""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboard.data.report import HeadlineFigures
from dashboard.settings import Thresholds
from dashboard.web.builders import tables


def attention_list(run, figures: HeadlineFigures, day: date, area: str, lang: str,
                   config: Thresholds) -> pd.DataFrame:
    """What the overview lists for the day and area. `run(name, **params)` runs a named query; a
    feed with no export contributes nothing, as on the page."""
    has_zones = figures.feeds.get("control_zones", {}).get("latest_export") is not None
    has_isolation = figures.feeds.get("isolation", {}).get("latest_export") is not None
    testing_day, staff_at, round_ = figures.testing_day, figures.staff_at, figures.current_round
    fatigue = run("staff/fatigue", at=staff_at, area=area) if staff_at else None
    return tables.attention_items(
        lang,
        coverage=run("testing/coverage_by_community", day=day, round=round_, area=area) if round_ is not None else None,
        coverage_round=round_,
        coverage_target=config.coverage_target,
        zones=run("zones/zone_table", day=day, area=area, review_days=config.lift_review_days) if has_zones else None,
        lift_review_days=config.lift_review_days,
        positives=run("testing/positives_by_community", day=testing_day, area=area) if testing_day else None,
        hotels=run("isolation/hotel_occupancy", day=day, area=area) if has_isolation else None,
        hotel_full=config.hotel_full,
        posts_now=run("staff/on_duty_at", at=staff_at, area=area) if staff_at else None,
        posts_ahead=run("staff/understaffed_ahead", at=staff_at, hours=config.understaffed_lookahead_hours,
                        area=area) if staff_at else None,
        # Only counts of tired staff reach the list, never names.
        fatigue=tables.fatigue_flags(fatigue, config.fatigue_hours_24h, config.fatigue_hours_7d,
                                     config.fatigue_consecutive_days) if fatigue is not None else None,
        fatigue_hours_24h=config.fatigue_hours_24h,
        fatigue_hours_7d=config.fatigue_hours_7d,
        fatigue_days=config.fatigue_consecutive_days,
    )
