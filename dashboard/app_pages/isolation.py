"""隔离管控 Isolation: who is isolated where (as counts), hotel rooms, inflow and outflow."""

import streamlit as st

from dashboard import i18n
from dashboard.i18n import t
from dashboard.web import access, cache, device, feeds, figure_view, map_view, state, table_view
from dashboard.web.builders import charts, maps, reconciliation, tables
from dashboard.web.page_header import page_header

f = state.filters()
page_header(f, "page.isolation")
status = feeds.feed_notice(f, ("isolation",))
if status["isolation"].missing:
    st.info(t("isolation.no_ledger", f.lang, day=i18n.day(f.day, f.lang)))
    st.stop()

by_kind = cache.query("isolation/active_by_kind", day=f.day, area=f.area).set_index("kind")
cards = [(t(f"kpi.isolation_{kind}", f.lang), by_kind.at[kind, "active"]) for kind in by_kind.index]
cards.append((t("kpi.releases_due", f.lang), by_kind["releases_due_next_day"].sum()))
cards.append((t("kpi.releases_overdue", f.lang), by_kind["releases_overdue"].sum()))
for column, (label, value) in zip(st.columns(len(cards)), cards):
    column.metric(label, i18n.num(value, f.lang), border=True, help=t("kpi.help.isolation", f.lang))

communities = cache.query("isolation/by_community", day=f.day, area=f.area)
map_column, table_column = st.columns([3, 2])
style = "isolation_3d" if "isolation_3d" in f.layers else "isolation"
with map_column:
    map_view.page_map(f, "isolation", "isolation.map", lambda base, options: map_view.shared_map(
        "isolation/map", (f.day, f.area, style), lambda: maps.district_map(
            base, lang=f.lang, layers=(style, "labels"), area=f.area, isolation=communities, day=f.day, **options),
        f.lang))
with table_column:
    st.header(t("isolation.by_community", f.lang))
    table_view.show_table(tables.isolation_table(communities, f.lang), t("no_data", f.lang))
    if device.kiosk():
        st.stop()  # releases, hotels and the daily flow are for the desk
    st.header(t("isolation.releases", f.lang))
    table_view.show_table(tables.releases_table(communities, f.lang), t("isolation.releases.empty", f.lang))

left, right = st.columns(2)
with left:
    hotels = cache.query("isolation/hotel_occupancy", day=f.day, area=f.area)
    if hotels.empty:
        st.info(t("isolation.hotels.empty", f.lang))
    else:
        figure_view.shared_figure("isolation/hotels", (f.day, f.area, f.lang),
                                  lambda: charts.hotel_occupancy(hotels, f.lang))
with right:
    figure_view.shared_figure("isolation/flow", (f.day, f.area, f.lang), lambda: charts.isolation_flow(
        cache.query("isolation/daily", day=f.day, area=f.area), f.lang))

if not hotels.empty:
    st.header(t("isolation.hotel_table", f.lang))
    table_view.show_table(reconciliation.hotel_table(hotels, f.lang), t("isolation.hotels.empty", f.lang))

st.header(t("isolation.awaiting", f.lang))
awaiting = cache.query("isolation/awaiting_by_community", day=f.day, area=f.area)
st.metric(t("kpi.awaiting_transfer", f.lang), i18n.num(awaiting["awaiting"].sum(), f.lang), border=True,
          help=t("kpi.help.awaiting_transfer", f.lang))
# Transfer teams need to tell people apart; a wall screen gets the count only.
if access.may_run("isolation/awaiting_transfer"):
    awaiting_people = cache.query("isolation/awaiting_transfer", day=f.day, area=f.area)
    table_view.show_table(reconciliation.awaiting_table(awaiting_people, f.lang), t("isolation.awaiting.empty", f.lang))
else:
    st.caption(t("isolation.awaiting.restricted", f.lang))
