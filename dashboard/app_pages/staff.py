"""人员排班 Staff & shifts: who is on duty now, the day's coverage and roster, fatigue, field work.

Staff names are shown on this page only.
"""


import streamlit as st

from dashboard import i18n
from dashboard.figures.attention import fatigue_flags
from dashboard.figures.headline import staff_instant
from dashboard.i18n import t
from dashboard.web import cache, device, feeds, figure_view, map_view, state, table_view
from dashboard.web.builders import charts, maps, tables
from dashboard.web.builders.kpis import Card
from dashboard.web.kpi_strip import card_row
from dashboard.web.page_header import page_header

f = state.filters()
config = cache.settings().thresholds
page_header(f, "page.staff")
status = feeds.feed_notice(f, ("shifts", "checkpoint_log", "door_visits"))
shifts_day = feeds.data_day(status["shifts"])

if shifts_day is not None:
    at = staff_instant(shifts_day, f.at)
    posts = cache.query("staff/on_duty_at", at=at, area=f.area)
    as_of = i18n.short_day(shifts_day, f.lang)
    label = lambda key: i18n.label_on(key, shifts_day, f.day, f.lang)  # noqa: E731
    card_row([Card("on_duty", label("kpi.on_duty"), i18n.num(posts["on_duty"].sum(), f.lang), None,
                   t("kpi.help.staff", f.lang), as_of=as_of),
              Card("min_staff", label("kpi.min_staff"), i18n.num(posts["min_staff"].sum(), f.lang), None, "",
                   as_of=as_of),
              Card("posts_understaffed", label("kpi.posts_understaffed"), i18n.num(posts["understaffed"].sum(), f.lang),
                   None, t("kpi.help.understaffed", f.lang), as_of=as_of)])

    map_column, table_column = st.columns([3, 2])
    with map_column:
        map_view.page_map(f, "staff", "staff.map", lambda base, options: map_view.shared_map(
            "staff/map", (f.day, f.area, at), lambda: maps.district_map(
                base, lang=f.lang, layers=("posts", "labels"), area=f.area, posts=posts, day=f.day, **options),
            f.lang))
    with table_column:
        st.header(t("staff.on_duty", f.lang))
        st.caption(t("staff.on_duty.caption", f.lang, at=i18n.moment(at, f.lang)))
        table_view.show_table(tables.posts_table(posts, f.lang), t("staff.no_posts", f.lang))
    if device.kiosk():
        st.stop()  # the hour grid, fatigue, roster and field work are for the desk

    hourly = cache.query("staff/hourly_coverage", day=shifts_day, area=f.area)
    if hourly.empty:
        st.info(t("staff.heatmap.empty", f.lang, day=i18n.day(shifts_day, f.lang)))
    else:
        figure_view.shared_figure("staff/heatmap", (shifts_day, f.area, f.lang),
                                  lambda: charts.staff_heatmap(hourly, f.lang))

    st.header(t("staff.fatigue", f.lang))
    st.caption(t("staff.fatigue.caption", f.lang, h24=i18n.hours(config.fatigue_hours_24h, f.lang),
                 h7=i18n.hours(config.fatigue_hours_7d, f.lang), days=config.fatigue_consecutive_days))
    flagged = fatigue_flags(cache.query("staff/fatigue", at=at, area=f.area), config.fatigue_hours_24h,
                                   config.fatigue_hours_7d, config.fatigue_consecutive_days)
    table_view.show_table(tables.fatigue_table(flagged, f.lang), t("staff.fatigue.empty", f.lang))

    st.header(t("staff.roster", f.lang))
    roster = cache.query("staff/roster", day=shifts_day, area=f.area)
    table_view.show_table(tables.roster_table(roster, f.lang), t("staff.roster.empty", f.lang,
                                                             day=i18n.day(shifts_day, f.lang)), height=420)

# Field work, side by side: each optional feed, its query, what it says when empty, its chart.
FIELD_WORK = (
    ("checkpoint_log", "staff/checkpoint_throughput", "staff.checkpoints.empty", charts.checkpoint_bars),
    ("door_visits", "staff/door_visits", "staff.door_visits.empty", charts.door_visit_bars),
)
for column, (feed, query_name, empty_key, chart) in zip(st.columns(2), FIELD_WORK):
    with column:
        if status[feed].missing:
            st.info(t("staff.optional_absent", f.lang, feed=t(f"feed.{feed}", f.lang)))
            continue
        frame = cache.query(query_name, day=f.day, area=f.area)
        if frame.empty:
            st.info(t(empty_key, f.lang))
        else:
            figure_view.show_figure(chart(frame, f.lang))
