"""Entry point and router: `streamlit run dashboard/app.py`.

Every run: refuse what cannot say who is looking (an unusable users file; no users on an open
address or behind a proxy), ask for a login if users are configured, register the check for a
new snapshot, open the snapshot, apply URL parameters, draw the shared sidebar (or the kiosk
chrome), write the state back to the URL, say when data stopped arriving, then run the chosen
page from dashboard/app_pages/ if the session's role may open it. A run that fails says the
screen is retrying (a dark panel on a wall), and the refresh check runs it again.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the repository root,
# so the package would not import without an editable install.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import logging  # noqa: E402

import streamlit as st  # noqa: E402

from dashboard import first_run  # noqa: E402
from dashboard.i18n import t  # noqa: E402
from dashboard.ingest.status import read_status  # noqa: E402
from dashboard.web import access, auth, banners, cache, cache_clearing, feeds, per_run, sidebar, state, wall  # noqa: E402
from dashboard.web.pages import PAGES  # noqa: E402

cache_clearing.install()
kiosk, rotate_seconds = wall.kiosk_from_url()
lang = state.current_lang()
st.set_page_config(page_title=t("app.title", lang), page_icon="🛡️", layout="wide",
                   initial_sidebar_state="collapsed" if kiosk else "auto")
access.remember_role(None)  # until this run has shown who is looking
access.refuse_if_unsafe()
LOGGER = logging.getLogger("dashboard.app")


def keep_the_page_path() -> None:
    """Register the pages (hidden, never run) so the link's page path survives a run that shows
    none of them; without a navigation call the browser would fall back to the root page."""
    st.navigation([st.Page(spec.path, url_path=spec.url_path, default=spec.default) for spec in PAGES],
                  position="hidden")


if not access.login_gate():
    keep_the_page_path()
    st.stop()
role = access.role()
access.remember_role(role)
# Before anything that can fail: a failed run still leaves the check that retries it, so a wall
# screen heals by itself once the snapshot is good again.
cache.watch_for_updates()
navigated = reached = failed = False
last_good = cache.last_good_run()
this_run = per_run.begin()
try:
    first_run.prepare(cache.settings(), lang)
    cache.run_started()
    days = cache.export_days()
    areas = cache.area_frame()
    if not days:
        st.error(t("app.no_days", lang))
        st.stop()
    scope = access.scope()
    refusal = access.area_refusal(st.query_params.get("area", scope), areas)
    if refusal:
        # Before any figure: a link to another street's view shows this, never that street's data.
        st.error(refusal)
        if refusal == access.AREA_REFUSED and st.button(t("app.own_area", lang), type="primary"):
            st.query_params["area"] = scope
            st.rerun()
        keep_the_page_path()
        st.stop()
    problems = state.sync_from_url(days, areas, scope)
    lang = state.current_lang()

    allowed = [spec for spec in PAGES if auth.may_open(role, spec.url_path)]
    pages = {
        spec.url_path: st.Page(spec.path, title=t(spec.title_key, lang), icon=spec.icon, url_path=spec.url_path,
                               default=spec.is_home(role, allowed))
        for spec in allowed
    }
    page = st.navigation(list(pages.values()), position="hidden" if kiosk else "sidebar")
    navigated = True
    current = next(url_path for url_path, candidate in pages.items() if candidate is page)

    filters = sidebar.sidebar(days, areas, problems, scope)
    state.write_url(filters, extras={**wall.url_extras(), **access.token_param()})
    st.session_state["_filters"] = filters
    if kiosk:
        wall.show_kiosk(current, {spec.url_path: spec.path for spec in allowed}, {s.url_path for s in allowed},
                        rotate_seconds)
    settings = cache.settings()
    banners.show_banner(
        banners.stale_alarms(feeds.newest_exports(days[0]), datetime.now(), settings.thresholds.stale_after_hours,
                             read_status(settings.db_path)),
        lang, settings.thresholds.stale_after_hours)
    first_run.notice(lang)
    access.require_page(current)
    cache.page_reached()
    reached = True
    page.run()
except Exception:
    # The screen says it is retrying, never a traceback or a white error box; the server's log
    # has the exception. st.stop and st.rerun are not Exceptions: they pass through.
    failed = True
    LOGGER.exception("a run failed; the screen retries at its next refresh check")
    if not navigated:
        keep_the_page_path()
    cache.run_failed(last_good)
    banners.show_run_failed(lang, last_good, st.session_state.get(cache.NEXT_CHECK_AT))
finally:
    cache.run_ended(good=reached and not failed)
    per_run.end(this_run)
