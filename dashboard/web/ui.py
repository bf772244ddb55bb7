"""What every page shares: the snapshot and its caches, the sidebar, URL state and feed notices.

URL state. The page lives in the path (st.navigation's url_path); day, area, layers and
lang live in st.query_params. At the start of a run, a parameter whose value differs from
what this session last wrote is applied to the widgets (a pasted link, or a test setting
params); parameters that are absent change nothing, because Streamlit drops the query
string when the user follows a navigation link. At the end of the sidebar the widgets'
values are written back, so the address bar always reproduces the view.

Caching. The Snapshot (one DuckDB connection, reopened when an ingest swaps the file) is
a cache_resource. Query results are cache_data keyed on the query name, its parameters
and snapshot.version(), which changes with every ingest, so new data shows on the next
rerun without any invalidation; ttl and max_entries bound the memory of screens that run
for days.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from dashboard import i18n
from dashboard.data.ingest import ensure_snapshot
from dashboard.data.queries import Snapshot
from dashboard.data.report import HeadlineFigures, build_report, default_at, headline_figures
from dashboard.i18n import DEFAULT_LANG, LANG_NAMES, LANGS, t
from dashboard.settings import Settings
from dashboard.web import access
from dashboard.web.builders import maps
from dashboard.web.builders.tables import Table

CACHE_TTL_SECONDS = 6 * 3600
CACHE_MAX_ENTRIES = 2000
PARAMS = ("day", "area", "layers", "lang")
LAST_WRITTEN = "_url_written"
PENDING_AREA = "_pending_area"
# True once the day was chosen (in the URL or the widget); until then the view follows the
# newest export day, so a wall screen left open moves on when tomorrow's data arrives.
DAY_PINNED = "_day_pinned"
NOW_STEP = timedelta(minutes=5)
LEDGER_FEEDS = ("control_zones", "isolation")
OPTIONAL_FEEDS = ("checkpoint_log", "door_visits")


# ---------------------------------------------------------------- snapshot and caches

def settings() -> Settings:
    return Settings.from_env()


@st.cache_resource(show_spinner=False)
def _prepared(data_dir: str, db_path: str, is_demo: bool) -> bool:
    """Generate and ingest the demo on the very first run; once per process."""
    ensure_snapshot(Settings(Path(data_dir), Path(db_path), is_demo))
    return True


@st.cache_resource(show_spinner=False)
def _snapshot(db_path: str) -> Snapshot:
    return Snapshot(Path(db_path))


def snapshot() -> Snapshot:
    config = settings()
    if not config.db_path.exists():
        # First run on the demo: generating and ingesting it takes minutes, so say so.
        with st.spinner(t("app.preparing", current_lang())):
            _prepared(str(config.data_dir), str(config.db_path), config.is_demo)
    return _snapshot(str(config.db_path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=CACHE_MAX_ENTRIES, show_spinner=False)
def _cached_query(name: str, params: tuple, version: str, db_path: str) -> pd.DataFrame:
    return _snapshot(db_path).run(name, **dict(params))


def query(name: str, **params) -> pd.DataFrame:
    """run_query through the cache: keyed on name, params and the snapshot's version.

    The session's role is checked here, before the cache, so no page can reach a query its
    role may not run, whatever the URL says.
    """
    access.check_query(name)
    snap = snapshot()
    return _cached_query(name, tuple(sorted(params.items())), snap.version(), str(snap.path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=200, show_spinner=False)
def _cached_report(day: date, at: datetime, area: str, version: str, db_path: str) -> dict:
    return build_report(_snapshot(db_path), day, at, area)


def report(day: date, at: datetime, area: str) -> dict:
    snap = snapshot()
    return _cached_report(day, at, area, snap.version(), str(snap.path))


# ---------------------------------------------------------------- filters and URL state

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


def export_days() -> list[date]:
    return [pd.Timestamp(d).date() for d in query("health/export_days")["day"]]


def area_frame() -> pd.DataFrame:
    return query("map/areas")


def area_name(area: str, lang: str) -> str:
    if not area:
        return t("sidebar.whole_district", lang)
    names = area_frame().set_index("area_code")["name"]
    return str(names.get(area, area))


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


def sync_from_url(days: list[date], areas: pd.DataFrame) -> list[str]:
    """Apply changed URL parameters to the widgets' state; return notes on values ignored."""
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


def sidebar(days: list[date], areas: pd.DataFrame, problems: list[str]) -> Filters:
    """The shared sidebar: language, as-of day, area drill-down and map layers."""
    lang = current_lang()
    streets = areas[areas["level"] == "street"]
    names = dict(zip(areas["area_code"], areas["name"]))
    with st.sidebar:
        st.radio(t("sidebar.language", lang), LANGS, key="lang", format_func=LANG_NAMES.get, horizontal=True)
        st.selectbox(t("sidebar.day", lang), [d.isoformat() for d in days], key="day",
                     format_func=lambda d: i18n.day(d, lang), help=t("sidebar.day.help", lang),
                     on_change=_pin_day)
        st.selectbox(t("sidebar.street", lang), ["", *streets["area_code"]], key="street",
                     format_func=lambda c: names.get(c, c) if c else t("sidebar.whole_district", lang),
                     help=t("sidebar.area.help", lang))
        street = st.session_state["street"]
        communities = areas[(areas["level"] == "community") & (areas["parent_code"] == street)] if street else \
            areas.iloc[0:0]
        st.selectbox(t("sidebar.community", lang), ["", *communities["area_code"]], key="community",
                     format_func=lambda c: names.get(c, c) if c else t("sidebar.all_communities", lang),
                     disabled=not street)
        st.pills(t("sidebar.layers", lang), list(maps.ALL_LAYERS), selection_mode="multi", key="layers",
                 format_func=lambda v: t(f"layer.{v}", lang), help=t("sidebar.layers.help", lang))
        for note in problems:
            st.warning(note)
    day = date.fromisoformat(st.session_state["day"])
    area = st.session_state["community"] or st.session_state["street"]
    filters = Filters(day=day, days=tuple(days), area=area, lang=lang,
                      layers=tuple(v for v in maps.ALL_LAYERS if v in (st.session_state["layers"] or ())),
                      at=now_for(day))
    with st.sidebar:
        st.caption(t("sidebar.now", lang, at=i18n.moment(filters.at, lang)))
        share_link(filters)
        who_is_looking(lang)
    return filters


def share_link(f: Filters) -> None:
    """The current view as a link, in a code box with a copy button (phones have no address bar)."""
    params = {"day": f.day.isoformat(), "lang": f.lang, "layers": ",".join(f.layers)}
    if f.area:
        params["area"] = f.area
    base = st.context.url or ""
    with st.expander(t("sidebar.copy_link", f.lang), icon=":material/link:"):
        st.code(f"{base}?{urlencode(params)}", language=None, wrap_lines=True)
        st.caption(t("sidebar.share", f.lang))


def who_is_looking(lang: str) -> None:
    user = access.current_user()
    if user:
        st.caption(t("sidebar.user", lang, name=i18n.literal(user.name), role=t(f"role.{user.role}", lang)))
        access.logout_button(t("sidebar.logout", lang))
    else:
        st.caption(t("sidebar.no_login", lang))


def watch_for_updates(f: Filters) -> None:
    """Rerun when an ingest swaps in a new snapshot, and keep "now" current on today's view.

    Screens stay open for days: without this they would show the data and the staff
    instant of the moment they were opened. "Now" moves in steps of NOW_STEP so that a wall
    screen is not redrawn every minute.
    """
    version = snapshot().version()

    @st.fragment(run_every=settings().refresh_seconds)
    def check() -> None:
        if snapshot().version() != version or (f.day == date.today() and now_for(f.day) - f.at >= NOW_STEP):
            st.rerun(scope="app")

    check()


def filters() -> Filters:
    """The filters the router put in session state for this run."""
    return st.session_state["_filters"]


# ---------------------------------------------------------------- feeds and staleness

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
    frame = query("health/feed_status", day=day)
    result = {}
    for row in frame.itertuples(index=False):
        latest = None if i18n.is_missing(row.latest_export) else pd.Timestamp(row.latest_export).date()
        ingested = None if i18n.is_missing(row.ingested_at) else pd.Timestamp(row.ingested_at).to_pydatetime()
        result[row.kind] = Feed(row.kind, latest, bool(row.stale), ingested)
    return result


def feed_notice(f: Filters, kinds: tuple[str, ...]) -> dict[str, Feed]:
    """Say, for every feed the page uses, which export its figures come from."""
    status = feeds(f.day)
    lang = f.lang
    lines, stale = [], []
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
            st.warning(t("feed.stale", lang, feed=name, day=i18n.day(f.day, lang),
                         latest=i18n.day(feed.latest_export, lang)), icon="⚠️")
        else:
            lines.append(t("feed.fresh", lang, feed=name, day=i18n.short_day(feed.latest_export, lang),
                           ingested=i18n.short_moment(feed.ingested_at, lang)))
    if lines:
        st.caption(t("feed.as_of", lang) + " · " + " · ".join(lines))
    return status


def newest_exports(newest_day: date) -> dict[str, date | None]:
    """Each feed's newest export day in the snapshot, whatever day the view shows."""
    return {kind: feed.latest_export for kind, feed in feeds(newest_day).items()}


def data_day(feed: Feed) -> date | None:
    """The day an event feed's figures come from: the day itself, or its last export."""
    return feed.latest_export


# ---------------------------------------------------------------- headline figures

def headline(day: date, at: datetime, area: str) -> HeadlineFigures:
    """The overview's figures: report.headline_figures for any area, through the cache.

    Where an event feed is stale, the figure is taken from its last export and the day it
    comes from is returned beside it ("testing_day", "shifts_day"), instead of None.
    """
    return headline_figures(query, day, at, area, follow_stale=True)


# ---------------------------------------------------------------- rendering helpers

# Static layout rules only (no data passes through here): a wall screen needs the space that
# Streamlit's default top padding takes.
COMPACT_CSS = """
<style>
.block-container {padding-top: 4.25rem; padding-bottom: 1rem;}
h1 {padding-top: 0.2rem; padding-bottom: 0.2rem;}
</style>
"""


def page_header(f: Filters, title_key: str) -> None:
    st.html(COMPACT_CSS)
    st.title(t(title_key, f.lang))
    st.caption(f"{t('app.subtitle', f.lang)} · {i18n.literal(area_name(f.area, f.lang))} · {i18n.day(f.day, f.lang)}")


def show_table(table: Table, empty_message: str, *, height: int | str = "auto") -> None:
    if table.empty:
        st.info(empty_message)
        return
    frame = table.frame.copy()
    # Shares are shown as percentages with one decimal, the same rounding everywhere.
    for name in table.percent:
        frame[name] = frame[name] * 100
    config = {name: st.column_config.NumberColumn(format="%.1f%%") for name in table.percent}
    config.update({name: st.column_config.NumberColumn(format="localized") for name in table.counts})
    st.dataframe(frame, hide_index=True, column_config=config, height=height, width="stretch")


def show_figure(figure, *, key: str | None = None) -> None:
    st.plotly_chart(figure, width="stretch", config={"displaylogo": False}, key=key)


def _select_from_map(key: str, known_codes: frozenset[str]) -> None:
    """on_select callback: a click on a community becomes the area filter on this rerun."""
    event = st.session_state.get(key)
    selection = event.get("selection") if event else None
    code = maps.area_from_selection(selection, known_codes)
    if code:
        st.session_state[PENDING_AREA] = code


def show_map(deck, f: Filters, name: str, *, height: int = 560) -> None:
    """Draw the deck; a click on a community drills down to it."""
    key = f"map-{name}-{f.area or 'district'}"
    communities = frozenset(area_frame().query("level == 'community'")["area_code"])
    st.pydeck_chart(deck, height=height, on_select=functools.partial(_select_from_map, key, communities),
                    selection_mode="single-object", key=key, alt=t("map.alt", f.lang))
    st.caption(t("map.legend", f.lang))


def geo() -> maps.Geo:
    return maps.geo_from_frames(query("map/boundaries"), area_frame())


def label_for(key: str, data_day: date | None, f: Filters) -> str:
    """A metric label, or its "on <day>" form when the figure comes from an earlier export."""
    if data_day is None or data_day == f.day:
        return t(key, f.lang)
    return t(f"{key}_on", f.lang, day=i18n.short_day(data_day, f.lang))


def map_deck(day: date, f: Filters, layers: tuple[str, ...], base: maps.Geo, *, round_: int | None = None,
             height: int = 560):
    """The situation map of a day: each chosen overlay runs its own named query."""
    config = settings().thresholds
    chosen = set(layers)
    if round_ is None and "coverage" in chosen:
        current = query("testing/current_round", day=day, area=f.area).iloc[0]
        round_ = None if i18n.is_missing(current["round"]) else int(current["round"])
    coverage = query("testing/coverage_by_community", day=day, round=round_, area=f.area) \
        if "coverage" in chosen and round_ is not None else None
    zones = query("zones/zone_table", day=day, area=f.area, review_days=config.lift_review_days) \
        if "zones" in chosen else None
    isolation = query("isolation/by_community", day=day, area=f.area) \
        if {"isolation", "isolation_3d"} & chosen else None
    posts = query("staff/on_duty_at", at=now_for(day) if day != f.day else f.at, area=f.area) \
        if "posts" in chosen else None
    return maps.district_map(base, lang=f.lang, layers=layers, area=f.area, coverage=coverage, coverage_round=round_,
                             coverage_target=config.coverage_target, zones=zones, isolation=isolation, posts=posts,
                             day=day, height_px=height)
