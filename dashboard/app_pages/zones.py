"""封控管控 Sealed areas: zones in force, where they are, and how long they have run."""

import streamlit as st

from dashboard import i18n
from dashboard.i18n import t
from dashboard.web import cache, device, feeds, figure_view, map_view, state, table_view
from dashboard.web.builders import charts, maps, tables
from dashboard.web.page_header import page_header

f = state.filters()
config = cache.settings().thresholds
page_header(f, "page.zones")
status = feeds.feed_notice(f, ("control_zones", "testing_records"))

if status["control_zones"].missing:
    st.info(t("zones.no_ledger", f.lang, day=i18n.day(f.day, f.lang)))
    st.stop()

zones = cache.query("zones/zone_table", day=f.day, area=f.area, review_days=config.lift_review_days)
levels = cache.query("zones/active_by_level", day=f.day, area=f.area).set_index("level")
cards = [(t(f"kpi.zones_{level}", f.lang), levels.at[level, "zones"], t("kpi.help.zones", f.lang))
         for level in ("sealed", "controlled", "precaution")]
cards.append((t("kpi.population_sealed", f.lang), levels.at["sealed", "population"],
              t("kpi.help.population_sealed", f.lang)))
for column, (label, value, help_text) in zip(st.columns(len(cards)), cards):
    column.metric(label, i18n.num(value, f.lang), help=help_text, border=True)

map_column, table_column = st.columns([2, 3])
layers = ("zones", "labels", *[v for v in f.layers if v == "posts"])
with map_column:
    map_view.page_map(f, "zones", "zones.map", lambda base, options: map_view.shared_map(
        "zones/map", (f.day, f.area, layers), lambda: maps.district_map(
            base, lang=f.lang, layers=layers, area=f.area, zones=zones, day=f.day, **options),
        f.lang), width_px=640, desk_height=600)
with table_column:
    st.header(t("zones.table", f.lang))
    table_view.show_table(tables.zone_table(zones, f.lang), t("zones.empty", f.lang, day=i18n.day(f.day, f.lang)),
                          height=600)
if device.kiosk():
    st.stop()  # the timeline is for the desk: a wall shows the zones in force

timeline = cache.query("zones/timeline", day=f.day, area=f.area)
if timeline.empty:
    st.info(t("zones.timeline.empty", f.lang, day=i18n.day(f.day, f.lang)))
else:
    figure_view.shared_figure("zones/gantt", (f.day, f.area, f.lang),
                              lambda: charts.zone_gantt(timeline, f.day, f.lang))
