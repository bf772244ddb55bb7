"""The situation map of a day: each chosen overlay runs its own named cache.query, then the pure
builder draws the deck, frozen (serialised) once per data version and view for every session."""

from __future__ import annotations

from datetime import date

from dashboard import i18n
from dashboard.web import cache, map_view, state
from dashboard.web.builders import maps, shapes

# Every query _deck may run; the role is checked for each before the shared cache is asked.


def map_deck(day: date, f: state.Filters, layers: tuple[str, ...], base: shapes.Geo, *, round_: int | None = None,
             width_px: int = 1000, height_px: int = 560, dark: bool = False,
             fit_activity: bool = False) -> map_view.FrozenDeck:
    """The situation map of a day, built once per data version and view: each chosen overlay runs
    its own named cache.query."""
    posts_at = state.now_for(day) if day != f.day else f.at
    view = (day, f.area, f.lang, tuple(layers), round_, posts_at, width_px, height_px, dark, fit_activity)
    return cache.shared("situation_map", view, lambda: map_view.freeze(
        _deck(day, f, layers, base, round_=round_, posts_at=posts_at, width_px=width_px, height_px=height_px,
              dark=dark, fit_activity=fit_activity), f.lang))


def _deck(day: date, f: state.Filters, layers: tuple[str, ...], base: shapes.Geo, *, round_: int | None,
          posts_at, width_px: int, height_px: int, dark: bool, fit_activity: bool):
    config = cache.settings().thresholds
    chosen = set(layers)
    if round_ is None and "coverage" in chosen:
        current = cache.query("testing/round_totals", day=day, round=None, area=f.area).iloc[0]
        round_ = None if i18n.is_missing(current["round"]) else int(current["round"])
    coverage = cache.query("testing/coverage_by_community", day=day, round=round_, area=f.area) \
        if "coverage" in chosen and round_ is not None else None
    zones = cache.query("zones/zone_table", day=day, area=f.area, review_days=config.lift_review_days) \
        if "zones" in chosen else None
    isolation = cache.query("isolation/by_community", day=day, area=f.area) \
        if {"isolation", "isolation_3d"} & chosen else None
    posts = cache.query("staff/on_duty_at", at=posts_at, area=f.area) \
        if "posts" in chosen else None
    awaiting = cache.query("isolation/awaiting_by_community", day=day, area=f.area) if "awaiting" in chosen else None
    return maps.district_map(base, lang=f.lang, layers=layers, area=f.area, coverage=coverage, coverage_round=round_,
                             coverage_target=config.coverage_target, zones=zones, isolation=isolation, posts=posts,
                             awaiting=awaiting, day=day, width_px=width_px, height_px=height_px, dark=dark,
                             fit_activity=fit_activity)
