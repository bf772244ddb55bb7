"""The view's filters and their URL state.

The page lives in the path (st.navigation's url_path); day, area, layers and lang live in
st.query_params. At the start of a run, a parameter whose value differs from what this session
last wrote is applied to the widgets (a pasted link, or a test setting params); parameters that
are absent change nothing, because Streamlit drops the query string when the user follows a
navigation link. At the end of the sidebar the widgets' values are written back, so the address
bar always reproduces the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
import streamlit as st

from dashboard import i18n
from dashboard.figures.headline import default_at
from dashboard.i18n import DEFAULT_LANG, LANGS, t
from dashboard.web.builders import maps

PARAMS = ("day", "area", "layers", "lang")


LAST_WRITTEN = "_url_written"


PENDING_AREA = "_pending_area"


# True once the day was chosen (in the URL or the widget); until then the view follows the
# newest export day, so a wall screen left open moves on when tomorrow's data arrives.
DAY_PINNED = "_day_pinned"


@dataclass(frozen=True)
class Filters:
    day: date
    days: tuple[date, ...]  # export days, newest first
    area: str
    lang: str
    layers: tuple[str, ...]
    at: datetime  # "now" for staff figures

    @property
    def previous_day(self) -> date | None:
        older = [d for d in self.days if d < self.day]
        return older[0] if older else None


def now_for(day: date, today: date | None = None, clock: datetime | None = None) -> datetime:
    """Staff 'now': the current minute on today's view, 12:00 on a past day (as the report)."""
    clock = clock or datetime.now()
    if day == (today or clock.date()):
        return clock.replace(second=0, microsecond=0)
    return default_at(day)


def _parse_layers(value: str) -> list[str] | None:
    chosen = [v for v in value.split(",") if v]
    return chosen if all(v in maps.ALL_LAYERS for v in chosen) else None


def apply_area(area: str, areas: pd.DataFrame) -> bool:
    """Point the street and community widgets at an area code; False if it is not one."""
    codes = set(areas["area_code"])
    if area == "":
        st.session_state["street"], st.session_state["community"] = "", ""
        return True
    if area not in codes:
        return False
    if len(area) > 9:
        st.session_state["street"], st.session_state["community"] = area[:9], area
    else:
        st.session_state["street"], st.session_state["community"] = area, ""
    return True


def in_scope(areas: pd.DataFrame, scope: str) -> pd.DataFrame:
    """The areas a session bound to `scope` may choose: its subtree, and a community's street (which
    the sidebar shows, fixed, above it)."""
    if not scope:
        return areas
    codes = areas["area_code"]
    return areas[codes.str.startswith(scope) | (codes == scope[:9])]


def sync_from_url(days: list[date], areas: pd.DataFrame, scope: str = "") -> list[str]:
    """Apply changed URL parameters to the widgets' state; return notes on values ignored.

    `scope` is the session's area (access.scope()): the street and community always stay inside it,
    whatever the URL or an earlier session state says; the router refuses a URL area outside it first.
    """
    state = st.session_state
    last = state.get(LAST_WRITTEN, {})
    problems = []
    for name in PARAMS:
        if name not in st.query_params:
            continue
        value = st.query_params[name]
        if name in last and last[name] == value:
            continue
        ok = True
        if name == "lang":
            ok = value in LANGS
            if ok:
                state["lang"] = value
        elif name == "day":
            ok = value in {d.isoformat() for d in days}
            if ok:
                state["day"] = value
                state[DAY_PINNED] = True
        elif name == "area":
            ok = apply_area(value, areas)
        elif name == "layers":
            chosen = _parse_layers(value)
            ok = chosen is not None
            if ok:
                state["layers"] = chosen
        if not ok:
            problems.append((name, value))
    if PENDING_AREA in state:
        apply_area(state.pop(PENDING_AREA), areas)
    # Defaults, and values that no longer fit their options (a day dropped from the data, a
    # community left behind when the street changed).
    if state.get("lang") not in LANGS:
        state["lang"] = DEFAULT_LANG
    if not state.get(DAY_PINNED) or state.get("day") not in {d.isoformat() for d in days}:
        state["day"] = days[0].isoformat()
    streets = set(areas.loc[areas["level"] == "street", "area_code"])
    if state.get("street") not in streets:
        state["street"] = ""
    community = state.get("community") or ""
    if not (state["street"] and community.startswith(state["street"]) and community in set(areas["area_code"])):
        state["community"] = ""
    if scope and not (state["community"] or state["street"]).startswith(scope):
        apply_area(scope, areas)
    if "layers" not in state:
        state["layers"] = list(maps.DEFAULT_LAYERS)
    lang = state["lang"]
    return [t("sidebar.bad_param", lang, name=name, value=i18n.literal(value)) for name, value in problems]


def write_url(filters: Filters, extras: dict[str, str] | None = None) -> None:
    """Put the view in the address bar; extras (kiosk, rotate) ride along unchanged."""
    desired = {"day": filters.day.isoformat(), "lang": filters.lang, "layers": ",".join(filters.layers),
               **(extras or {})}
    if filters.area:
        desired["area"] = filters.area
    if st.query_params.to_dict() != desired:
        st.query_params.from_dict(desired)
    st.session_state[LAST_WRITTEN] = desired


def _pin_day() -> None:
    st.session_state[DAY_PINNED] = True


def current_lang() -> str:
    lang = st.session_state.get("lang")
    return lang if lang in LANGS else DEFAULT_LANG


def filters() -> Filters:
    """The filters the router put in session state for this run."""
    return st.session_state["_filters"]
