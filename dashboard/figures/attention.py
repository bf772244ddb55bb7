"""The 'needs attention' list: one ranked list for the wall, the overview and the phone, and the
alerts' findings (alerts/rules.py), from the same rules.

Query results in, ranked lines out. Each line names the rule it broke and the threshold, so a
reader never has to know the settings. The order is the rule table, figures/rules.py KINDS: a
kind's place in it is its rank, so adding a kind is one entry there plus the function that finds
its items.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

import pandas as pd

from dashboard.figures import data_checks
from dashboard.figures.headline import HeadlineFigures
from dashboard.figures.rules import BY_KEY, COLLAPSING, KINDS, RANK, TONES, Item, alerts_on, evaluated
from dashboard.figures.rules import subject_of as _of
from dashboard.i18n import clock, feed_in_sentence, hours, moment, num, pct, short_day, t
from dashboard.settings import Thresholds

__all__ = ["KINDS", "RANK", "TONES", "Item", "attention_inputs", "attention_items", "attention_list", "found_items", "alert_items", "latest_exports"]

# Lines a wall screen shows before "+k more".
WALL_LINES = 6
# A correction stays on the list this long after the re-export was ingested.
CORRECTION_HOURS = 24
# Zone levels that contain an outbreak; a precaution zone alone does not.
CONTAINING_LEVELS = ("sealed", "controlled")


def found_items(
    lang: str,
    thresholds: Thresholds,
    *,
    areas: pd.DataFrame,
    coverage: pd.DataFrame | None = None,
    coverage_round: int | None = None,
    zones: pd.DataFrame | None = None,
    positives: pd.DataFrame | None = None,
    hotels: pd.DataFrame | None = None,
    posts_now: pd.DataFrame | None = None,
    posts_ahead: pd.DataFrame | None = None,
    fatigue: pd.DataFrame | None = None,
    awaiting: pd.DataFrame | None = None,
    corrections: pd.DataFrame | None = None,
    held: pd.DataFrame | None = None,
    reporting: pd.DataFrame | None = None,
    overdue: pd.DataFrame | None = None,
    trend: pd.DataFrame | None = None,
    trend_day: date | None = None,
    latest_exports: dict | None = None,
    area: str = "",
    now: datetime | None = None,
) -> list[Item]:
    """Every item each rule of the table finds, one per subject, unranked and uncollapsed.

    A None input means that feed has no data for the day (or, for fatigue, that the role may not
    see names), so it contributes nothing; it never counts as "all clear" (rules.evaluated says
    which rules were). `areas` (area_code, name, level, parent_code) names the streets that
    per-street lines stand for. `corrections` (health/corrections) counts when ingested within
    CORRECTION_HOURS before `now`; `held` (health/held) for as long as the re-export is held;
    `reporting` (health/reporting) names each sender that sent nothing by its due time (up to
    `now`) or sent late; `trend` (testing/trend) is the 14 days to `trend_day`, for the outliers;
    `latest_exports` each feed's newest export day, stale by `now`.
    """
    return [
        *data_checks.feed_stale(lang, latest_exports, now, thresholds.stale_after_hours),
        *_understaffed(lang, posts_now, posts_ahead),
        *_awaiting_transfer(lang, awaiting),
        *_held(lang, held),
        *_reporting(lang, reporting, now, thresholds.sender_due_hour),
        *_corrections(lang, corrections, now),
        *_hotels_full(lang, hotels, thresholds.hotel_full),
        *_positives_uncontained(lang, positives),
        *data_checks.releases_overdue(lang, overdue),
        *data_checks.positives_over_samples(lang, positives),
        *data_checks.hotels_over_rooms(lang, hotels),
        *data_checks.coverage_over_full(lang, coverage, coverage_round),
        *data_checks.outliers(lang, trend, trend_day, thresholds.outlier_margin, area),
        *_lift_reviews(lang, zones, thresholds.lift_review_days, _streets_of(areas)),
        *_coverage(lang, coverage, coverage_round, thresholds.coverage_target),
        *_fatigue(lang, fatigue, thresholds),
    ]


def attention_items(lang: str, thresholds: Thresholds, *, areas: pd.DataFrame, **inputs) -> list[Item]:
    """The ranked list (found_items' inputs): by the rule table, then worst first within a kind;
    a rule that says it elsewhere (a stale feed's banner) is left off."""
    found = [item for item in found_items(lang, thresholds, areas=areas, **inputs) if BY_KEY[item.kind].listed]
    street_names = dict(zip(areas["area_code"], areas["name"]))
    collapsed = _collapse_per_street(found, lang, street_names, thresholds, inputs.get("coverage_round"))
    # sorted() is stable: equals keep the order their query gave them.
    return sorted(collapsed, key=lambda item: (item.rank, -item.badness))


def alert_items(lang: str, thresholds: Thresholds, inputs: dict) -> tuple[list[Item], set[str]]:
    """What the alerts send (found_items' inputs): every item whose rule alerts and has reached
    its threshold, most urgent first, and the rules that were evaluated at all."""
    found = [item for item in found_items(lang, thresholds, **inputs) if alerts_on(item, thresholds)]
    return sorted(found, key=lambda item: (item.rank, -item.badness)), evaluated(inputs)


def _streets_of(areas: pd.DataFrame) -> dict[str, str]:
    """Area code -> the code of its street: a community's parent, a street itself."""
    communities = areas[areas["level"] == "community"]
    streets = areas[areas["level"] == "street"]
    return {**dict(zip(communities["area_code"], communities["parent_code"])),
            **dict(zip(streets["area_code"], streets["area_code"]))}


# Lines that say the figures themselves are partial: a wall keeps one on screen whatever outranks it,
# since a figure missing a street's part must never pass for a whole one.
PARTIAL_DATA = frozenset({"held", "sender_missing"})


def wall_lines(items: list[Item], limit: int = WALL_LINES) -> tuple[list[Item], int]:
    """The top `limit` items, and how many more there are; when the top holds no line saying the
    data is partial but a later one does, the first such line takes the last place."""
    shown = items[:limit]
    if limit and not any(item.kind in PARTIAL_DATA for item in shown):
        partial = next((item for item in items[limit:] if item.kind in PARTIAL_DATA), None)
        if partial is not None:
            shown = [*shown[:limit - 1], partial]
    return shown, max(0, len(items) - len(shown))


def _understaffed(lang, posts_now, posts_ahead) -> list[Item]:
    items = []
    short_now = posts_now[posts_now["understaffed"]] if posts_now is not None else None
    if short_now is not None:
        for row in short_now.itertuples():
            items.append(Item("understaffed_now", t("attention.understaffed_now", lang, name=row.name,
                                                     on_duty=num(row.on_duty, lang), min_staff=num(row.min_staff, lang)),
                              badness=float(row.min_staff - row.on_duty), subject=_of(row, "site_id"), area=_of(row, "area_code")))
    if posts_ahead is not None:
        already = set(short_now["site_id"]) if short_now is not None else set()
        for row in posts_ahead[~posts_ahead["site_id"].isin(already)].itertuples():
            # Sooner is worse.
            items.append(Item("understaffed_soon", t("attention.understaffed_soon", lang, name=row.name,
                                                      at=moment(row.first_short_at, lang),
                                                      min_staff=num(row.min_staff, lang)),
                              badness=-pd.Timestamp(row.first_short_at).timestamp(), subject=_of(row, "site_id"),
                              area=_of(row, "area_code")))
    return items


def _awaiting_transfer(lang, awaiting) -> list[Item]:
    """Communities with positives not yet in centralized isolation, the longest wait first."""
    if awaiting is None:
        return []
    return [Item("awaiting_transfer", t("attention.awaiting_transfer", lang, name=row.name,
                                        count=num(row.awaiting, lang), hours=hours(row.longest_wait_hours, lang)),
                 badness=float(row.longest_wait_hours), subject=_of(row, "area_code"), area=_of(row, "area_code"))
            for row in awaiting.itertuples()]


def _corrections(lang, corrections, now: datetime | None) -> list[Item]:
    """Re-exports ingested in the last CORRECTION_HOURS, naming each figure that changed."""
    if corrections is None or now is None or corrections.empty:
        return []
    recent = corrections[pd.to_datetime(corrections["ingested_at"]) >= now - timedelta(hours=CORRECTION_HOURS)]
    items = []
    for row in recent.itertuples():
        before, after = _flat(json.loads(row.before)), _flat(json.loads(row.after))
        changes = [t("attention.correction_change", lang, figure=t(f"correction.figure.{name}", lang),
                     before=num(before.get(name), lang), after=num(value, lang))
                   for name, value in after.items() if name != "rows" and before.get(name) != value]
        if not changes:  # only the row count moved
            changes = [t("attention.correction_change", lang, figure=t("correction.figure.rows", lang),
                         before=num(before.get("rows"), lang), after=num(after.get("rows"), lang))]
        items.append(Item("correction", t("attention.correction", lang, day=short_day(row.day, lang),
                                          feed=t(f"feed.{row.kind}", lang),
                                          changes=t("list.sep", lang).join(changes)),
                          badness=pd.Timestamp(row.ingested_at).timestamp()))
    return items


def held_text(row, lang: str, key: str = "attention.held") -> str:
    """One held re-export (a health/held row), in words: its rows against the serving file's."""
    return t(key, lang, day=short_day(row.day, lang), feed=t(f"feed.{row.kind}", lang), file=row.file,
             rows=num(row.rows_loaded, lang), serving=num(row.serving_rows_loaded, lang),
             accept=row.file.removeprefix("exports/"))


def _held(lang, held) -> list[Item]:
    if held is None:
        return []
    return [Item("held", held_text(row, lang), badness=float(row.serving_rows_loaded - row.rows_loaded),
                 subject=f"{row.kind}:{pd.Timestamp(row.day).date().isoformat()}")
            for row in held.itertuples()]


def _reporting(lang, reporting, now: datetime | None, due_hour: float) -> list[Item]:
    """One line per sender of the day that sent nothing by its due time (a sender without one of
    its own is due at due_hour), and per one that sent after its due time, in the query's order
    (by feed). With no `now` every missing sender counts."""
    if reporting is None:
        return []
    items = []
    for row in reporting[reporting["status"] == "missing"].itertuples():
        due = pd.Timestamp(row.due_at) if not pd.isna(row.due_at) else \
            pd.Timestamp(datetime.combine(pd.Timestamp(row.day).date(), time())) + pd.Timedelta(hours=due_hour)
        if now is not None and pd.Timestamp(now) < due:
            continue
        items.append(Item("sender_missing", t("attention.sender_missing", lang, sender=row.sender_name,
                                              feed=feed_in_sentence(row.kind, lang)),
                          subject=f"{row.kind}:{row.sender}", area=_of(row, "area_code")))
    for row in reporting[reporting["status"] == "late"].itertuples():
        items.append(Item("sender_late", t("attention.sender_late", lang, sender=row.sender_name,
                                           feed=feed_in_sentence(row.kind, lang), at=clock(row.received_at),
                                           due=clock(row.due_at)),
                          # The later, the worse.
                          badness=float((pd.Timestamp(row.received_at) - pd.Timestamp(row.due_at)).total_seconds())))
    return items




def _flat(figures: dict) -> dict:
    """{"zones_active": {"sealed": 2}} -> {"sealed": 2}: every figure at one level."""
    flat = {}
    for name, value in figures.items():
        flat.update(value if isinstance(value, dict) else {name: value})
    return flat


def _hotels_full(lang, hotels, hotel_full: float) -> list[Item]:
    if hotels is None:
        return []
    return [Item("hotel_full", t("attention.hotel_at_threshold", lang, name=row.name, active=num(row.active, lang),
                                 capacity=num(row.capacity, lang), occupancy=pct(row.occupancy, lang, 0),
                                 threshold=pct(hotel_full, lang, 0)),
                 badness=float(row.occupancy), subject=_of(row, "site_id"), area=_of(row, "area_code"))
            for row in hotels[hotels["occupancy"] >= hotel_full].itertuples()]


def _positives_uncontained(lang, positives) -> list[Item]:
    if positives is None:
        return []
    uncontained = positives[(positives["positives"] > 0) & (positives["containing_zones"] == 0)]
    return [Item("positive_uncontained", t("attention.positive_uncontained", lang, name=row.name,
                                           positives=num(row.positives, lang)),
                 badness=float(row.positives), subject=_of(row, "area_code"), area=_of(row, "area_code"))
            for row in uncontained.itertuples()]


def _lift_reviews(lang, zones, review_days: int, streets_of: Mapping[str, str]) -> list[Item]:
    if zones is None:
        return []
    due = zones[(zones["level"] == "sealed") & zones["due_for_review"].fillna(False).astype(bool)]
    return [Item("lift_review", t("attention.lift_review", lang, name=row.name, community=row.community,
                                  days=review_days, review=short_day(row.lift_review_on, lang)),
                 # An older review date has waited longer.
                 badness=-pd.Timestamp(row.lift_review_on).timestamp(), street=streets_of.get(row.area_code, ""))
            for row in due.itertuples()]


def _coverage(lang, coverage, coverage_round, target: float) -> list[Item]:
    if coverage is None or coverage_round is None:
        return []
    below = coverage[coverage["coverage"] < target]
    return [Item("coverage", t("attention.coverage", lang, name=row.name, round=coverage_round,
                               coverage=pct(row.coverage, lang), target=pct(target, lang, 0)),
                 badness=-float(row.coverage), street=str(row.street_code))
            for row in below.itertuples()]


def _fatigue(lang, fatigue, thresholds: Thresholds) -> list[Item]:
    if fatigue is None or fatigue.empty:
        return []
    items = []
    for column, key, values in (
        ("over_24h", "attention.fatigue_24h", {"hours": hours(thresholds.fatigue_hours_24h, lang)}),
        ("over_7d", "attention.fatigue_7d", {"hours": hours(thresholds.fatigue_hours_7d, lang)}),
        ("over_days", "attention.fatigue_days", {"days": thresholds.fatigue_consecutive_days}),
    ):
        count = int(fatigue[column].sum())
        if count:
            items.append(Item("fatigue", t(key, lang, count=f"{count:,}", **values), badness=count))
    return items


def _collapse_per_street(items: list[Item], lang: str, street_names: Mapping[str, str], thresholds: Thresholds,
                         coverage_round: int | None) -> list[Item]:
    """Two or more items of a collapsing kind in one street become one line naming the street,
    the count, the rule and the threshold; a street with one such item keeps its own line."""
    groups: dict[tuple[str, str], list[Item]] = {}
    kept = []
    for item in items:
        if item.kind in COLLAPSING and item.street:
            groups.setdefault((item.kind, item.street), []).append(item)
        else:
            kept.append(item)
    for (kind, street), members in groups.items():
        if len(members) == 1:
            kept.append(members[0])
            continue
        worst_first = sorted(members, key=lambda item: (-item.badness, item.text))
        values = {"street": street_names.get(street, street), "count": num(len(members), lang)}
        if kind == "coverage":
            text = t("attention.coverage_street", lang, round=coverage_round,
                     target=pct(thresholds.coverage_target, lang, 0), **values)
        else:
            text = t("attention.lift_review_street", lang, days=thresholds.lift_review_days, **values)
        kept.append(Item(kind, text, badness=worst_first[0].badness, street=street,
                         details=tuple(item.text for item in worst_first)))
    return kept

def fatigue_flags(df: pd.DataFrame, hours_24h: float, hours_7d: float, days_in_row: int) -> pd.DataFrame:
    """The staff over any fatigue threshold, with which ones they are over."""
    flagged = df.assign(
        over_24h=df["hours_24h"] > hours_24h,
        over_7d=df["hours_7d"] > hours_7d,
        over_days=df["consecutive_days"] >= days_in_row,
    )
    return flagged[flagged["over_24h"] | flagged["over_7d"] | flagged["over_days"]].reset_index(drop=True)


def attention_list(run, figures: HeadlineFigures, day: date, area: str, lang: str, config: Thresholds, *,
                   names_allowed: bool, now: datetime) -> list[Item]:
    """What the overview lists for the day and area. `run(name, **params)` runs a named query; a
    feed with no export contributes nothing. Fatigue lines only where the role may see names:
    the lines carry counts, but the query behind them lists people."""
    return attention_items(lang, config, **attention_inputs(run, figures, day, area, config,
                                                            names_allowed=names_allowed, now=now))


def attention_inputs(run, figures: HeadlineFigures, day: date, area: str, config: Thresholds, *,
                     names_allowed: bool, now: datetime, instant: bool = False) -> dict:
    """found_items' inputs for the day and area, from the named queries. With `instant` (the
    alerts' clock) a positive's wait counts to `now`, not to the end of the day."""
    has_zones = figures.feeds.get("control_zones", {}).get("latest_export") is not None
    has_isolation = figures.feeds.get("isolation", {}).get("latest_export") is not None
    testing_day, staff_at, round_ = figures.testing_day, figures.staff_at, figures.current_round
    fatigue = run("staff/fatigue", at=staff_at, area=area) if staff_at and names_allowed else None
    if not has_isolation:
        awaiting = None
    elif instant:
        awaiting = run("isolation/awaiting_at", at=now, area=area)
    else:
        awaiting = run("isolation/awaiting_by_community", day=day, area=area)
    return dict(
        areas=run("map/areas"),
        coverage=run("testing/coverage_by_community", day=day, round=round_, area=area) if round_ is not None else None,
        coverage_round=round_,
        zones=run("zones/zone_table", day=day, area=area, review_days=config.lift_review_days) if has_zones else None,
        positives=run("testing/positives_by_community", day=testing_day, area=area) if testing_day else None,
        hotels=run("isolation/hotel_occupancy", day=day, area=area) if has_isolation else None,
        posts_now=run("staff/on_duty_at", at=staff_at, area=area) if staff_at else None,
        posts_ahead=run("staff/understaffed_ahead", at=staff_at, hours=config.understaffed_lookahead_hours,
                        area=area) if staff_at else None,
        fatigue=fatigue_flags(fatigue, config.fatigue_hours_24h, config.fatigue_hours_7d,
                              config.fatigue_consecutive_days) if fatigue is not None else None,
        awaiting=awaiting,
        corrections=run("health/corrections", day=day, area=area),
        held=run("health/held", area=area),
        reporting=run("health/reporting", day=day, area=area),
        overdue=run("isolation/releases_overdue", day=day, area=area) if has_isolation else None,
        trend=run("testing/trend", day=testing_day, area=area) if testing_day else None,
        trend_day=testing_day,
        latest_exports=latest_exports(figures),
        area=area,
        now=now,
    )


def latest_exports(figures: HeadlineFigures) -> dict[str, date | None]:
    """Each feed's newest export day on or before the figures' day."""
    return {kind: date.fromisoformat(feed["latest_export"]) if feed.get("latest_export") else None
            for kind, feed in figures.feeds.items()}
