"""The district's headline figures for a day, from the same named queries the pages use.

A figure whose feed has no export for the day is None (JSON null), never 0: the feeds block
says which export the other figures come from, and which of a feed's senders sent nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time

import pandas as pd

from dashboard.figures.queries import Snapshot
from dashboard.i18n import is_missing
from dashboard.ingest import vintages

WHOLE_DISTRICT = ""  # the area prefix that every area code starts with


def default_day(snapshot: Snapshot) -> date:
    days = snapshot.run("health/export_days")
    if days.empty:
        raise LookupError("the snapshot holds no export days")
    return days["day"].iloc[0].date()


def default_at(day: date) -> datetime:
    return datetime.combine(day, time(12, 0))


REPORT_KEYS = (
    "zones_active", "population_sealed", "samples_on_day", "positives_on_day", "current_round", "round_coverage",
    "isolation_active", "releases_due_next_day", "hotel_occupancy", "staff_on_duty", "posts_understaffed",
    "positives_awaiting_transfer", "releases_overdue",
)


@dataclass(frozen=True)
class HeadlineFigures:
    """A day's headline figures, for the report and the overview's KPI cards alike.

    None means "no export for this day", never 0. testing_day and shifts_day say which
    export the event figures come from: the day itself, an earlier one (follow_stale), or None.
    """

    feeds: dict[str, dict]
    zones_active: dict[str, int] | None
    population_sealed: int | None
    samples_on_day: int | None
    positives_on_day: int | None
    testing_day: date | None
    current_round: int | None
    round_coverage: float | None
    isolation_active: dict[str, int] | None
    releases_due_next_day: int | None
    hotel_occupancy: float | None
    staff_on_duty: int | None
    staff_required: int | None
    posts_understaffed: int | None
    shifts_day: date | None
    staff_at: datetime | None
    # Across feeds (issue 12): null, like the isolation figures, before the first isolation ledger.
    positives_awaiting_transfer: int | None = None
    releases_overdue: int | None = None

    def report_fields(self) -> dict:
        return {key: getattr(self, key) for key in REPORT_KEYS}


def headline_figures(run, day: date, at: datetime, area: str = WHOLE_DISTRICT,
                     follow_stale: bool = False) -> HeadlineFigures:
    """The headline figures of a day in an area.

    `run(name, **params)` runs a named query (the pages pass their cached runner). An event
    feed with no export for the day gives None, or with follow_stale its last export's figure.
    """
    feeds = run("health/feed_status", day=day)
    latest = {row.kind: None if is_missing(row.latest_export) else row.latest_export.date()
              for row in feeds.itertuples()}
    stale = dict(zip(feeds["kind"], feeds["stale"]))
    missing = missing_senders(run("health/reporting", day=day, area=area))

    def source_day(kind: str) -> date | None:
        if not stale.get(kind, True):
            return day
        return latest.get(kind) if follow_stale else None

    has_zones = latest.get("control_zones") is not None
    has_isolation = latest.get("isolation") is not None
    testing_day, shifts_day = source_day("testing_records"), source_day("shifts")
    zones = run("zones/active_by_level", day=day, area=area).set_index("level")
    current = run("testing/round_totals", day=day, round=None, area=area).iloc[0]
    isolation = run("isolation/active_by_kind", day=day, area=area).set_index("kind")
    capacity = run("isolation/hotel_occupancy", day=day, area=area)["capacity"].sum()
    testing = run("testing/day_totals", day=testing_day, area=area).iloc[0] if testing_day else None
    staff_at = staff_instant(shifts_day, at) if shifts_day else None
    posts = run("staff/on_duty_at", at=staff_at, area=area) if staff_at else None
    awaiting = run("isolation/awaiting_by_community", day=day, area=area)
    no_round = is_missing(current["round"])
    return HeadlineFigures(
        feeds={kind: {"latest_export": latest[kind].isoformat() if latest[kind] else None,
                      "stale": bool(stale[kind]), "missing_senders": missing.get(kind, [])} for kind in latest},
        zones_active={level: int(zones.at[level, "zones"]) for level in zones.index} if has_zones else None,
        population_sealed=int(zones.at["sealed", "population"]) if has_zones else None,
        samples_on_day=int(testing["samples"]) if testing is not None else None,
        positives_on_day=int(testing["positives"]) if testing is not None else None,
        testing_day=testing_day,
        current_round=None if no_round else int(current["round"]),
        round_coverage=None if no_round else float(current["coverage"]),
        isolation_active={kind: int(isolation.at[kind, "active"]) for kind in isolation.index}
        if has_isolation else None,
        releases_due_next_day=int(isolation["releases_due_next_day"].sum()) if has_isolation else None,
        # As the contract defines it: every active centralized case, including those placed
        # outside the hotels (designated hospitals), against the hotels' rooms.
        hotel_occupancy=round(float(isolation.at["centralized", "active"] / capacity), 4)
        if has_isolation and capacity else None,
        staff_on_duty=int(posts["on_duty"].sum()) if posts is not None else None,
        staff_required=int(posts["min_staff"].sum()) if posts is not None else None,
        posts_understaffed=int(posts["understaffed"].sum()) if posts is not None else None,
        shifts_day=shifts_day,
        staff_at=staff_at,
        positives_awaiting_transfer=int(awaiting["awaiting"].sum()) if has_isolation else None,
        releases_overdue=int(isolation["releases_overdue"].sum()) if has_isolation else None,
    )


def missing_senders(reporting: pd.DataFrame) -> dict[str, list[str]]:
    """Kind -> the names of its senders that sent nothing for the day, in the query's order."""
    missing = reporting[reporting["status"] == "missing"]
    names: dict[str, list[str]] = {}
    for row in missing.itertuples():
        names.setdefault(row.kind, []).append(row.sender_name)
    return names


def reporting_list(reporting: pd.DataFrame) -> list[dict]:
    """The report's `reporting`: who was expected to send what for the day, and whether they did."""
    return [{"kind": row.kind, "sender": row.sender_name,
             "area_code": None if is_missing(row.area_code) else row.area_code, "status": row.status,
             "received_at": None if is_missing(row.received_at)
             else pd.Timestamp(row.received_at).isoformat(timespec="seconds")}
            for row in reporting.itertuples()]


def staff_instant(shifts_day: date, at: datetime) -> datetime:
    """Staff are counted at the time of day of `at`, on the day the shift figures come from."""
    return datetime.combine(shifts_day, at.time())


def build_report(snapshot: Snapshot, day: date, at: datetime, area: str = WHOLE_DISTRICT) -> dict:
    """The `report` command's JSON: a stale feed's figures are null."""
    return report_from(snapshot.run, day, at, area)


def report_from(run, day: date, at: datetime, area: str = WHOLE_DISTRICT) -> dict:
    """build_report with any runner `run(name, **params)`: the pages pass their cached one, so the
    briefing reuses the results the overview already has."""
    figures = headline_figures(run, day, at, area)
    report = {"as_of": day.isoformat(), "at": at.isoformat(timespec="minutes")}
    if area:
        report["area"] = area
    corrections = vintages.from_rows(run("health/corrections", day=day, area=area))
    reporting = reporting_list(run("health/reporting", day=day, area=area))
    return {**report, "feeds": figures.feeds, **figures.report_fields(), "corrections": corrections,
            "reporting": reporting}


def to_json(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2)


def parse_at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M")
