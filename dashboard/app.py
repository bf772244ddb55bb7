"""Entry point and router: `streamlit run dashboard/app.py`.

Every run: open the snapshot, apply URL parameters, draw the shared sidebar, write the
state back to the URL, then run the chosen page from dashboard/app_pages/.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the repository root,
# so the package would not import without an editable install.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st  # noqa: E402

from dashboard import ui  # noqa: E402
from dashboard.app_pages import PAGES  # noqa: E402
from dashboard.i18n import t  # noqa: E402

days = ui.export_days()
areas = ui.area_frame()
if not days:
    st.error(t("app.no_days", ui.current_lang()))
    st.stop()
problems = ui.sync_from_url(days, areas)
lang = ui.current_lang()
st.set_page_config(page_title=t("app.title", lang), page_icon="🛡️", layout="wide", initial_sidebar_state="expanded")

page = st.navigation([
    st.Page(spec.path, title=t(spec.title_key, lang), icon=spec.icon, url_path=spec.url_path, default=spec.default)
    for spec in PAGES
])
filters = ui.sidebar(days, areas, problems)
ui.write_url(filters)
ui.watch_for_updates(filters)
st.session_state["_filters"] = filters
page.run()
