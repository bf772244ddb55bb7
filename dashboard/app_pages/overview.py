"""总览 Overview: the command-center page."""

import time
from datetime import datetime

import streamlit as st

from dashboard import i18n
from dashboard.data.report import to_markdown
from dashboard.i18n import t
from dashboard.web import access, cache, feeds, layout, screens, situation_map, state
from dashboard.web.attention import attention_list
from dashboard.web.builders import attention, charts, kpis

f = state.filters()
config = cache.settings().thresholds
layout.page_header(f, "page.overview")
status = feeds.feed_notice(f, ("control_zones", "testing_records", "isolation", "shifts"))
figures = cache.headline(f.day, f.at, f.area)
previous = cache.headline(f.previous_day, state.now_for(f.previous_day), f.area) if f.previous_day else None

cards = kpis.kpi_cards(figures, previous, f.lang, day=f.day, previous_day=f.previous_day)
cards = kpis.mark_corrected(cards, figures, cache.report(f.day, f.at, f.area)["corrections"], f.lang)
for row in (cards[:8], cards[8:]):
    for column, card in zip(st.columns(8), row):
        column.metric(card.label, card.value, card.delta, delta_color=card.delta_color, help=card.help,
                      border=True, delta_arrow=card.delta_arrow, height="stretch")

map_column, attention_column = st.columns([5, 3])
with map_column:
    st.subheader(t("overview.map", f.lang))
    days_oldest_first = sorted(f.days)
    if st.session_state.get("_replay_for") != f.day:
        st.session_state["replay_day"] = f.day
        st.session_state["_replay_for"] = f.day
    slider_column, play_column, download_column = st.columns([4, 1, 2], vertical_alignment="bottom")
    replay_day = slider_column.select_slider(t("overview.replay.day", f.lang), days_oldest_first, key="replay_day",
                                             format_func=lambda d: i18n.short_day(d, f.lang),
                                             help=t("overview.replay.help", f.lang))
    play = play_column.button(t("overview.replay.play", f.lang), width="stretch")
    briefing = to_markdown(cache.report(f.day, f.at, f.area), f.lang, cache.area_name(f.area, f.lang) if f.area else None)
    download_column.download_button(t("overview.briefing", f.lang), briefing,
                                    file_name=f"briefing-{f.day.isoformat()}-{f.area or 'district'}-{f.lang}.md", mime="text/markdown",
                                    help=t("overview.briefing.help", f.lang), icon=":material/download:",
                                    width="stretch")
    base = layout.geo()
    if base.empty:
        st.warning(t("map.empty", f.lang))
    elif play:
        frame = st.empty()
        for day in days_oldest_first:
            with frame.container():
                st.caption(t("overview.replay.caption", f.lang, day=i18n.day(day, f.lang)))
                st.pydeck_chart(situation_map.map_deck(day, f, f.layers, base, height=640), height=640)
            time.sleep(1.2)
    else:
        st.caption(t("overview.replay.caption", f.lang, day=i18n.day(replay_day, f.lang)))
        layout.show_map(situation_map.map_deck(replay_day, f, f.layers, base, height=640), f, "overview", height=640)

with attention_column:
    st.subheader(t("overview.attention", f.lang))
    # Fatigue alerts come from a list of people: a wall screen's role sees the rest without them.
    names_allowed = access.may_run("staff/fatigue")
    items = attention_list(cache.query, figures, f.day, f.area, f.lang, config, names_allowed=names_allowed,
                           now=datetime.now())
    if not names_allowed:
        st.caption(t("overview.fatigue_hidden", f.lang))
    if not items:
        st.success(t("overview.attention.none", f.lang))
    else:
        # The wall shows the top lines and how many more; the normal view all, per-street lines expandable.
        wall = bool(st.session_state.get(screens.KIOSK))
        st.html(attention.attention_html(items, f.lang, limit=attention.WALL_LINES if wall else None))

st.subheader(t("overview.trends", f.lang))
testing_trend = cache.query("testing/trend", day=f.day, area=f.area)
left, right = st.columns(2)
with left:
    layout.show_figure(charts.daily_bars(testing_trend, "positives", t("trend.positives", f.lang), f.lang, "#dc2626"))
    layout.show_figure(charts.isolation_trend(cache.query("isolation/daily", day=f.day, area=f.area), f.lang))
with right:
    layout.show_figure(charts.daily_bars(testing_trend, "samples", t("trend.samples", f.lang), f.lang))
    layout.show_figure(charts.zones_trend(cache.query("zones/trend", day=f.day, area=f.area), f.lang))
