"""核酸检测 Testing: round coverage, the least-covered communities, sampling by hour, positives."""

import streamlit as st

from dashboard import i18n
from dashboard.i18n import t
from dashboard.web import cache, device, feeds, figure_view, map_view, situation_map, state, table_view
from dashboard.web.builders import charts, tables
from dashboard.web.builders.kpis import Card
from dashboard.web.kpi_strip import card_row
from dashboard.web.page_header import page_header

f = state.filters()
page_header(f, "page.testing")
status = feeds.feed_notice(f, ("testing_records",))
testing_day = feeds.data_day(status["testing_records"])

rounds = cache.query("testing/rounds", day=f.day)
if rounds.empty:
    st.info(t("testing.no_round", f.lang, day=i18n.day(f.day, f.lang)))
else:
    labels = {int(r.round): t("testing.round.option", f.lang, round=int(r.round),
                              started=i18n.short_day(r.started_on, f.lang)) for r in rounds.itertuples()}
    # A wall shows the current round (the first option); only the desk chooses.
    round_ = next(iter(labels)) if device.kiosk() else \
        st.selectbox(t("testing.round", f.lang), list(labels), format_func=labels.get, key="testing_round")
    coverage = cache.query("testing/coverage_by_community", day=f.day, round=round_, area=f.area)
    totals = cache.query("testing/round_totals", day=f.day, round=round_, area=f.area).iloc[0]
    as_of = i18n.short_day(testing_day, f.lang)
    card_row([Card("round_coverage", t("kpi.round_coverage", f.lang, round=round_), i18n.pct(totals["coverage"], f.lang),
                   None, t("kpi.help.coverage", f.lang), as_of=as_of),
              Card("persons_sampled", t("col.persons_sampled", f.lang), i18n.num(totals["persons_sampled"], f.lang),
                   None, "", as_of=as_of),
              Card("population", t("col.population", f.lang), i18n.num(totals["population"], f.lang), None, "",
                   as_of=as_of)])

    map_column, table_column = st.columns([3, 2])
    with map_column:
        map_view.page_map(f, "testing", "testing.coverage_map", lambda base, options: situation_map.map_deck(
            f.day, f, ("coverage", "labels"), base, round_=round_, **options))
    with table_column:
        st.header(t("testing.lowest", f.lang))
        table_view.show_table(tables.coverage_table(coverage, f.lang), t("no_data", f.lang))

if testing_day is not None and not device.kiosk():  # sampling by hour and positives are for the desk
    hourly = cache.query("testing/samples_by_hour", day=testing_day, area=f.area)
    positives = cache.query("testing/positives_by_community", day=testing_day, area=f.area)
    totals = cache.query("testing/day_totals", day=testing_day, area=f.area).iloc[0]
    as_of = i18n.short_day(testing_day, f.lang)
    card_row([Card("samples", i18n.label_on("kpi.samples", testing_day, f.day, f.lang),
                   i18n.num(totals["samples"], f.lang), None, t("kpi.help.samples", f.lang), as_of=as_of),
              Card("positives", i18n.label_on("kpi.positives", testing_day, f.day, f.lang),
                   i18n.num(totals["positives"], f.lang), None, t("kpi.help.positives", f.lang), as_of=as_of),
              Card("pending", i18n.label_on("kpi.pending", testing_day, f.day, f.lang),
                   i18n.num(totals["pending"], f.lang), None, "", as_of=as_of)])
    left, right = st.columns([3, 2])
    with left:
        if hourly.empty:
            st.info(t("testing.by_hour.empty", f.lang, day=i18n.day(testing_day, f.lang)))
        else:
            figure_view.shared_figure("testing/samples_heatmap", (testing_day, f.area, f.lang),
                                      lambda: charts.samples_heatmap(hourly, f.lang))
    with right:
        if positives["positives"].sum() == 0:
            st.info(t("testing.positives.empty", f.lang, day=i18n.day(testing_day, f.lang)))
        else:
            figure_view.shared_figure("testing/positives_bar", (testing_day, f.area, f.lang),
                                      lambda: charts.positives_bar(positives, f.lang))
