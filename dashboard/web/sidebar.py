"""The shared sidebar: language, as-of day, area drill-down, map layers, the share link and who is looking."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from dashboard import i18n
from dashboard.i18n import LANG_NAMES, LANGS, t
from dashboard.web import access, auth, device, state
from dashboard.web.builders import maps


def sidebar(days: list[date], areas: pd.DataFrame, problems: list[str], scope: str = "") -> state.Filters:
    """The shared sidebar: language, as-of day, area drill-down and map layers. A session bound to
    an area (`scope`) is offered its own subtree only, and never the whole district."""
    lang = state.current_lang()
    names = dict(zip(areas["area_code"], areas["name"]))
    areas = state.in_scope(areas, scope)
    streets = areas[areas["level"] == "street"]
    # Whole district, or all of a street's communities: only where the session may see that much.
    any_street, any_community = ([""] if not scope else []), ([""] if len(scope) <= 9 else [])
    with st.sidebar:
        st.radio(t("sidebar.language", lang), LANGS, key="lang", format_func=LANG_NAMES.get, horizontal=True)
        st.selectbox(t("sidebar.day", lang), [d.isoformat() for d in days], key="day",
                     format_func=lambda d: i18n.day(d, lang), help=t("sidebar.day.help", lang),
                     on_change=state._pin_day)
        st.selectbox(t("sidebar.street", lang), [*any_street, *streets["area_code"]], key="street",
                     format_func=lambda c: names.get(c, c) if c else t("sidebar.whole_district", lang),
                     help=t("sidebar.area.help", lang))
        street = st.session_state["street"]
        communities = areas[(areas["level"] == "community") & (areas["parent_code"] == street)] if street else \
            areas.iloc[0:0]
        st.selectbox(t("sidebar.community", lang), [*any_community, *communities["area_code"]], key="community",
                     format_func=lambda c: names.get(c, c) if c else t("sidebar.all_communities", lang),
                     disabled=not street)
        if auth.may_open(access.role() or "", "overview"):  # a clerk has no map to choose layers of
            st.pills(t("sidebar.layers", lang), list(maps.ALL_LAYERS), selection_mode="multi", key="layers",
                     format_func=lambda v: t(f"layer.{v}", lang), help=t("sidebar.layers.help", lang))
        for note in problems:
            st.warning(note)
    day = date.fromisoformat(st.session_state["day"])
    area = st.session_state["community"] or st.session_state["street"]
    filters = state.Filters(day=day, days=tuple(days), area=area, lang=lang,
                      layers=tuple(v for v in maps.ALL_LAYERS if v in (st.session_state["layers"] or ())),
                      at=state.now_for(day))
    with st.sidebar:
        st.caption(t("sidebar.now", lang, at=i18n.moment(filters.at, lang)))
        if not device.kiosk():  # nobody at a wall copies a link
            share_link(filters)
        who_is_looking(lang, names)
    return filters


def share_link(f: state.Filters) -> None:
    """The current view as a link, in a text box to select and copy (an app's browser on a phone
    shows no address bar). Not a code box: its syntax highlighter is a 1.5 MB bundle a phone
    would load for one line."""
    params = {"day": f.day.isoformat(), "lang": f.lang, "layers": ",".join(f.layers)}
    if f.area:
        params["area"] = f.area
    base = st.context.url or ""
    with st.expander(t("sidebar.copy_link", f.lang), icon=":material/link:"):
        st.text_input(t("sidebar.link", f.lang), f"{base}?{urlencode(params)}", help=t("sidebar.share", f.lang))


def who_is_looking(lang: str, names: dict[str, str]) -> None:
    user = access.current_user()
    if user:
        role = t(f"role.{user.role}", lang)
        if user.area:
            st.caption(t("sidebar.user.area", lang, name=i18n.literal(user.name), role=role,
                         area=i18n.literal(names.get(user.area, user.area))))
        else:
            st.caption(t("sidebar.user", lang, name=i18n.literal(user.name), role=role))
        access.logout_button(t("sidebar.logout", lang))
    else:
        st.caption(t("sidebar.no_login", lang))
