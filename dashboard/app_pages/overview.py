"""总览 Overview: the command-center page."""

import time
from datetime import datetime

import streamlit as st

from dashboard import i18n
from dashboard.briefing.document import report_markdown
from dashboard.figures.attention import WALL_LINES, attention_list
from dashboard.figures.headline import headline_figures, report_from
from dashboard.figures.trends import TRENDS, trend_frame
from dashboard.i18n import t
from dashboard.web import (
    access,
    alert_state,
    area_outlines,
    cache,
    device,
    feeds,
    figure_view,
    map_view,
    situation_map,
    state,
    wall_fit,
)
from dashboard.web.builders import charts, kpis
from dashboard.web.builders.attention_html import attention_html
from dashboard.web.kpi_strip import kpi_strip
from dashboard.web.page_header import chart_not_loaded, page_header

f = state.filters()
config = cache.settings().thresholds
page_header(f, "page.overview")
status = feeds.feed_notice(f, ("control_zones", "testing_records", "isolation", "shifts"))
# Where an event feed is stale, its cards show its last export's figure, and the day it comes from.
figures = cache.figure(headline_figures, f.day, f.at, f.area, follow_stale=True)
previous = cache.figure(headline_figures, f.previous_day, state.now_for(f.previous_day), f.area,
                        follow_stale=True) if f.previous_day else None
report = cache.figure(report_from, f.day, f.at, f.area)

cards = kpis.kpi_cards(figures, previous, f.lang, day=f.day, previous_day=f.previous_day)
cards = kpis.mark_corrected(cards, figures, report["corrections"], f.lang)
cards = kpis.mark_partial(cards, figures, f.lang)
kpi_strip(cards, changed=cache.kpi_changes((f.area, f.lang), {card.key: card.value for card in cards}))

# Fatigue alerts come from a list of people: a wall screen's role sees the rest without them.
names_allowed = access.may_run("staff/fatigue")
# One list per data version, view, minute ("recent corrections" count back from now) and what
# the role may see.
minute = datetime.now().replace(second=0, microsecond=0)
items = cache.shared("overview/attention", (f.day, f.at, f.area, f.lang, names_allowed, minute),
                     lambda: attention_list(cache.query, figures, f.day, f.area, f.lang, config,
                                            names_allowed=names_allowed, now=minute))
def show_trend(number: int, **sizes) -> None:
    spec = TRENDS[number]
    figure_view.shared_figure(f"overview/trend-{number}", (f.day, f.area, f.lang),
                              lambda: charts.trend_chart(spec, trend_frame(cache.query, spec, f.day, f.area), f.lang),
                              **sizes)


base = area_outlines.geo()


def show_attention(rows: int | None = None) -> None:
    """The ranked list: a wall shows its top lines and "+k more", the desk and the phone all of it,
    per-street lines expandable."""
    # The alerts open in the area, when alerts run at all (alerts/): the wall shows the count too.
    alerts_open = alert_state.open_count(f.area)
    st.header(t("overview.attention", f.lang) if alerts_open is None
              else t("overview.attention.alerts", f.lang, count=i18n.num(alerts_open, f.lang)))
    if not names_allowed and not device.kiosk():
        st.caption(t("overview.fatigue_hidden", f.lang))
    if not items:
        st.success(t("overview.attention.none", f.lang))
    elif rows is None and device.phone() and len(items) > PHONE_ATTENTION_LINES:
        # A phone keeps the overview within three screens: the top lines, the rest one tap away.
        st.html(attention_html(items[:PHONE_ATTENTION_LINES], f.lang))
        with st.expander(t("attention.more", f.lang, count=i18n.num(len(items) - PHONE_ATTENTION_LINES, f.lang))):
            st.html(attention_html(items[PHONE_ATTENTION_LINES:], f.lang))
    else:
        st.html(attention_html(items, f.lang, limit=rows))


TREND_HEIGHT = 220  # four small trends in a row on a desk
TREND_HEIGHT_PHONE = 140  # two a row on a phone, within its three screens
PHONE_ATTENTION_LINES = 3
if device.kiosk():
    # A wall: the map is the largest thing on the screen; beside it the list and small trends.
    map_column, side_column = st.columns([3, 2])
    with map_column:
        st.header(t("overview.map", f.lang))
        if base.empty:
            st.warning(t("map.empty", f.lang))
        else:
            options = map_view.map_options(1100, wall_fit.kiosk_map_height())
            deck = situation_map.map_deck(f.day, f, f.layers, base, **options)
            map_view.show_map(deck, f, "overview", height=wall_fit.kiosk_map_height())
    with side_column:
        show_attention(rows=WALL_LINES)
        for row in ((0, 1), (2, 3)):
            for column, number in zip(st.columns(2), row):
                with column:
                    show_trend(number, kiosk_height=wall_fit.kiosk_trend_height())
    st.stop()

with st.container(key="overview-main"):
    map_column, attention_column = st.columns([5, 3])
with map_column:
    st.header(t("overview.map", f.lang))
    days_oldest_first = sorted(f.days)
    if st.session_state.get("_replay_for") != f.day:
        st.session_state["replay_day"] = f.day
        st.session_state["_replay_for"] = f.day
    if device.phone():
        # Replaying the days is for the desk: a phone keeps the day's map and the briefing, and
        # does not draw the slider and button at all (its frontend would render them, hidden).
        replay_day, play, download_column = f.day, False, st.container()
    else:
        slider_column, play_column, download_column = st.columns([4, 1, 2], vertical_alignment="bottom")
        replay_day = slider_column.select_slider(t("overview.replay.day", f.lang), days_oldest_first,
                                                 key="replay_day", format_func=lambda d: i18n.short_day(d, f.lang),
                                                 help=t("overview.replay.help", f.lang))
        play = play_column.button(t("overview.replay.play", f.lang), width="stretch")
    briefing = report_markdown(report, f.lang,
                           i18n.spreadsheet_safe(cache.area_name(f.area, f.lang)) if f.area else None)
    download_column.download_button(t("overview.briefing", f.lang), briefing,
                                    file_name=f"briefing-{f.day.isoformat()}-{f.area or 'district'}-{f.lang}.md", mime="text/markdown",
                                    help=t("overview.briefing.help", f.lang), icon=":material/download:",
                                    width="stretch")
    if not device.charts_shown():
        chart_not_loaded(f.lang)
    elif base.empty:
        st.warning(t("map.empty", f.lang))
    elif play:
        frame = st.empty()
        for day in days_oldest_first:
            with frame.container():
                st.caption(t("overview.replay.caption", f.lang, day=i18n.day(day, f.lang)))
                st.pydeck_chart(situation_map.map_deck(day, f, f.layers, base, **map_view.map_options(1000, 640)),
                                height=640)
            time.sleep(1.2)
    else:
        st.caption(t("overview.replay.caption", f.lang, day=i18n.day(replay_day, f.lang)))
        map_view.show_map(situation_map.map_deck(replay_day, f, f.layers, base, **map_view.map_options(1000, 640)),
                          f, "overview", height=640)
with attention_column:
    show_attention()

st.header(t("overview.trends", f.lang))
if not device.charts_shown():  # one line for the four trends
    chart_not_loaded(f.lang)
else:
    with st.container(key="overview-trends"):
        for column, number in zip(st.columns(4), range(len(TRENDS))):
            with column:
                show_trend(number, height=TREND_HEIGHT_PHONE if device.phone() else TREND_HEIGHT)
