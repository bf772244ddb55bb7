"""The snapshot and its caches, shared by every session of the server process.

Only the ingest writes snapshots and keys. The one exception is a fresh clone's first run on the
bundled demo, which this process generates and ingests itself; a replica of configured data
that finds no snapshot says it waits for the first ingest, and looks again every refresh.

The Snapshot (one DuckDB connection, reopened when an ingest swaps the file) is a
cache_resource. Query results are kept per process, keyed on the query name, its parameters and
snapshot.version(), which changes with every ingest, so new data shows on the next rerun; a swap
drops the old version's results, and max_entries bounds the memory of screens that run for days.
The session's role is checked before the cache, so no page reaches a query its role may not run.

Figures, maps and lists built from those results are shared too (shared(): one build per version
and view, not one per session). A build's queries are the ones it ran, recorded as it runs them,
so no list of them is kept by hand: a session that finds the build already made is checked
against those queries, as if it had run them itself.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Hashable
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard.figures.queries import Snapshot
from dashboard.i18n import t
from dashboard.ingest.status import read_status
from dashboard.settings import Settings
from dashboard.web import access, per_run, state
from dashboard.web.builders import kpis
from dashboard.web.shared_builds import SharedBuilds

CACHE_MAX_ENTRIES = 2000
NOW_STEP = timedelta(minutes=5)
# Shared builds: every view of every page for a day or two of a wall's rotation, not more.
SHARED_MAX_ENTRIES = 300
# The snapshot version each snapshot path's cached results were last made for, process-wide.
_cached_for: dict[str, str] = {}
_cached_for_lock = threading.Lock()


# A wall screen says when it last redrew and when it next checks for a new snapshot; and which
# KPIs the last swap changed (kpis.mark_changes keeps the rule, this the session's memory).
REFRESHED_AT, NEXT_CHECK_AT, KPI_CHANGES = "_refreshed_at", "_next_check_at", "_kpi_changes"
# The snapshot version the session's last run started on, and whether that run failed: the
# refresh check reruns the app on a new version, and after a failed run at every tick.
SHOWN_VERSION, RUN_FAILED = "_shown_version", "_run_failed"
# When this process last finished a good run, for a screen whose own first run failed.
_last_good_run: dict[str, datetime] = {}


def settings() -> Settings:
    return per_run.once("settings", Settings.from_env)


@st.cache_resource(show_spinner=False)
def _snapshot(db_path: str) -> Snapshot:
    return Snapshot(Path(db_path))


def _wait_for_first_ingest(config: Settings) -> None:
    """No snapshot yet, and only the ingest may make one: say so, look again every refresh, stop."""
    lang = state.current_lang()
    st.info(t("app.waiting_first_ingest", lang))
    last = read_status(config.db_path)
    if last and not last.get("ok", True):
        st.caption(t("app.waiting_first_ingest.failed", lang, message=str(last.get("message", ""))[:300]))

    @st.fragment(run_every=config.refresh_seconds)
    def look_again() -> None:
        if config.db_path.exists():
            st.rerun(scope="app")

    look_again()
    st.stop()


def snapshot() -> Snapshot:
    """The serving snapshot. With none yet, only the bundled demo's first run (first_run.prepare,
    which the router calls first) makes one; anything else waits for its ingest."""
    return per_run.once("snapshot", _open_snapshot)


def _open_snapshot() -> Snapshot:
    config = settings()
    if not config.db_path.exists():
        _wait_for_first_ingest(config)
    return _snapshot(str(config.db_path))


@st.cache_resource(show_spinner=False)
def query_results() -> SharedBuilds:
    """Every query's result by name, parameters and snapshot version, one store per process: a
    cache_resource, so clearing Streamlit's caches clears it too. Each query runs once per key
    even when fifty sessions ask for it at the same moment."""
    return SharedBuilds(CACHE_MAX_ENTRIES)


def _forget_replaced_versions(snap: Snapshot) -> str:
    """The snapshot's version; when it changed, drop every cached result of the old one.

    Results of a replaced snapshot are never asked for again, but the stores would keep them
    until newer entries pushed them out: about 2 MB per swap on the district demo, which the soak
    saw as RSS growth.
    """
    version = _version(snap)
    with _cached_for_lock:
        previous = _cached_for.get(str(snap.path))
        _cached_for[str(snap.path)] = version
    if previous is not None and previous != version:
        query_results().clear()
        shared_builds().clear()
    return version


def _version(snap: Snapshot) -> str:
    """The snapshot's version as this run first saw it (one stat per run, and one version per run)."""
    return per_run.once(("version", str(snap.path)), snap.version)


def query(name: str, **params) -> pd.DataFrame:
    """run_query through the cache: keyed on name, params and the snapshot's version.

    The session's role is checked here, before the cache, so no page can reach a query its
    role may not run, whatever the URL says.
    """
    area = params.get("area")
    access.check_query(name, area)
    ran = _ran_by_build.get()
    if ran is not None:
        ran.add((name, area))
    snap = snapshot()
    key = (name, tuple(sorted(params.items())), _forget_replaced_versions(snap), str(snap.path))
    # A shallow copy: pandas' copy-on-write keeps whatever the caller does to it from reaching
    # the stored frame, which every session shares (st.cache_data unpickled a copy per call,
    # 0.4 ms each, tens of times a page run).
    return query_results().get(key, lambda: snap.run(name, **params)).copy(deep=False)


# The queries the shared build running in this thread has run so far, each with the $area it was
# bound to (None outside a build).
_ran_by_build: contextvars.ContextVar[set[tuple[str, str | None]] | None] = contextvars.ContextVar("ran_by_build", default=None)


@st.cache_resource(show_spinner=False)
def shared_builds() -> SharedBuilds:
    """One per process; st.cache_resource, so clearing Streamlit's caches clears it too."""
    return SharedBuilds(SHARED_MAX_ENTRIES)


def shared(kind: str, view: tuple, build: Callable) -> object:
    """build() once per snapshot version, thresholds and view, for every session of the process.

    `view` must hold everything the result depends on besides the data and the thresholds (day,
    area, language, form factor). The queries build() runs are recorded with its result, each with
    the area it was bound to; a session that finds the result built must be allowed each of them,
    in its own area, checked here, since it runs none: one street's build is never another's.
    A build inside a build adds its queries to the outer one's. The result is shared: draw it,
    never change it.
    """
    snap = snapshot()
    key: Hashable = (kind, view, settings().thresholds, _forget_replaced_versions(snap), str(snap.path))

    def build_recording_queries() -> tuple[object, frozenset[tuple[str, str | None]]]:
        ran: set[tuple[str, str | None]] = set()
        token = _ran_by_build.set(ran)
        try:
            return build(), frozenset(ran)
        finally:
            _ran_by_build.reset(token)

    value, ran = shared_builds().get(key, build_recording_queries)
    access.check_queries(ran)
    outer = _ran_by_build.get()
    if outer is not None:
        outer.update(ran)
    return value


def figure(function: Callable, *args, **kwargs):
    """A figure function of dashboard.figures, `function(run, *args, **kwargs)`, run with the
    cached queries and shared once per snapshot version and arguments. The page names the figure
    function, the function names its queries: a card is one hop from its SQL."""
    return shared(f"{function.__module__}.{function.__qualname__}", (args, tuple(sorted(kwargs.items()))),
                  lambda: function(query, *args, **kwargs))


def export_days() -> list[date]:
    return [pd.Timestamp(d).date() for d in query("health/export_days")["day"]]


def area_frame() -> pd.DataFrame:
    return query("map/areas")


def area_name(area: str, lang: str) -> str:
    if not area:
        return t("sidebar.whole_district", lang)
    names = area_frame().set_index("area_code")["name"]
    return str(names.get(area, area))


def watch_for_updates() -> None:
    """Rerun when an ingest swaps in a new snapshot, after a failed run, and to keep "now" current
    on today's view.

    Screens stay open for days: without this they would show the data and the staff instant of
    the moment they were opened, or an error until someone reloads. So the router registers this
    before anything that can fail, and the check itself reads only the snapshot file's identity
    and the session's state. "Now" moves in steps of NOW_STEP so that a wall screen is not
    redrawn every minute.
    """
    # The fragment also runs once inline, as the router registers it: that run is the one being
    # checked, so only the later, timed runs may ask for another.
    registering = [True]

    @st.fragment(run_every=settings().refresh_seconds)
    def check() -> None:
        st.session_state[NEXT_CHECK_AT] = datetime.now() + timedelta(seconds=settings().refresh_seconds)
        if registering[0]:
            registering[0] = False
        elif _needs_a_run():
            st.rerun(scope="app")

    check()


def _needs_a_run() -> bool:
    state_now = st.session_state
    if state_now.get(RUN_FAILED):
        return True
    try:
        version = _snapshot(str(settings().db_path)).version()
    except OSError:
        # No snapshot file at the moment: a screen keeps what it shows until one is back (a new
        # version then); a page waiting for the first ingest looks again by itself.
        return False
    if version != state_now.get(SHOWN_VERSION):
        return True
    f = state_now.get("_filters")
    return f is not None and f.day == date.today() and state.now_for(f.day) - f.at >= NOW_STEP


def run_started() -> None:
    """A run begins on the current snapshot: the refresh check compares the file against it."""
    st.session_state[SHOWN_VERSION] = _version(snapshot())


def page_reached() -> None:
    """Everything before the page worked: this run counts as a good update unless the page fails.

    Said before the page runs, since a page may end with st.stop(), after which Streamlit refuses
    any further write to the session's state."""
    st.session_state[RUN_FAILED] = False
    st.session_state[REFRESHED_AT] = datetime.now()


def run_failed(last_good: datetime | None) -> None:
    """The run failed: the refresh check runs the app again at its next tick, and the screen's
    last good update is the one before this run."""
    st.session_state[RUN_FAILED] = True
    st.session_state[REFRESHED_AT] = last_good


def run_ended(good: bool) -> None:
    """For screens whose own first run fails: when this server last finished a good run (one
    that drew its page without failing). Plain process state, so it can be written even after a
    page's st.stop()."""
    if good:
        _last_good_run[str(settings().db_path)] = datetime.now()


def last_good_run() -> datetime | None:
    """When this screen last showed good figures; else when any screen of this server did."""
    mine = st.session_state.get(REFRESHED_AT)
    return mine if isinstance(mine, datetime) else _last_good_run.get(str(settings().db_path))


def kpi_changes(view: tuple, values: dict[str, str]) -> set[str]:
    """The KPIs whose value the latest snapshot swap changed, while their mark lasts."""
    seen, changed = kpis.mark_changes(st.session_state.get(KPI_CHANGES), view, _version(snapshot()), values,
                                      datetime.now())
    st.session_state[KPI_CHANGES] = seen
    return changed
