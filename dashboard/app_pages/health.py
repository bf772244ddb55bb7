"""数据状态 Data health: what arrived each day and from whom, what was rejected and why, the ingest log,
and the upload log (an admin's whole, a clerk's own area's)."""

import streamlit as st

from dashboard import i18n
from dashboard.figures.attention import held_text
from dashboard.figures.headline import report_from
from dashboard.i18n import t
from dashboard.ingest import upload
from dashboard.web import access, alert_state, cache, feeds, figure_view, state, table_view
from dashboard.web.builders import alerts as alert_tables
from dashboard.web.builders import charts, reconciliation, tables, uploads
from dashboard.web.builders import reporting as reporting_builders
from dashboard.web.page_header import page_header

f = state.filters()
page_header(f, "page.health")
feeds.feed_notice(f, ("control_zones", "testing_records", "isolation", "shifts", "checkpoint_log", "door_visits"))
for held in cache.query("health/held", area=f.area).itertuples():
    st.warning(held_text(held, f.lang, "health.held"))

matrix = cache.query("health/feed_matrix", area=f.area)
st.caption(t("health.matrix.caption", f.lang))
figure_view.show_figure(charts.feed_matrix(matrix, f.lang))
arrivals = tables.feed_table(matrix[matrix["day"].dt.date == f.day], f.lang)
table_view.show_table(arrivals, t("no_data", f.lang))
if arrivals.frame[list(arrivals.counts)].isna().any(axis=None):
    st.caption(t("health.missing_legend", f.lang))

st.header(t("health.reporting", f.lang, day=i18n.day(f.day, f.lang)))
reporting = cache.query("health/reporting", day=f.day, area=f.area)
st.caption(t("health.reporting.caption", f.lang))
table_view.show_table(reporting_builders.reporting_matrix(reporting, f.lang),
                      t("health.reporting.empty", f.lang, day=i18n.day(f.day, f.lang)))
if access.may_run("health/unrecognised"):
    st.header(t("health.unrecognised", f.lang))
    table_view.show_table(reporting_builders.unrecognised_table(cache.query("health/unrecognised", area=f.area), f.lang),
                          t("health.unrecognised.empty", f.lang))

st.header(t("health.conflicts", f.lang, day=i18n.day(f.day, f.lang)))
conflicts = cache.query("health/isolation_conflicts", day=f.day, area=f.area)
table_view.show_table(reconciliation.conflicts_table(conflicts, f.lang), t("health.conflicts.empty", f.lang))
st.header(t("health.corrections", f.lang, day=i18n.day(f.day, f.lang)))
table_view.show_table(reconciliation.corrections_table(cache.figure(report_from, f.day, f.at, f.area)["corrections"],
                                                         f.lang),
                      t("health.corrections.empty", f.lang, day=i18n.day(f.day, f.lang)))

if access.role() in ("admin", "clerk"):
    # Not the snapshot's: the upload page's own log, shared by the replicas (docs/operations.md).
    st.header(t("upload.log", f.lang))
    table_view.show_table(uploads.upload_log_table(upload.read_log(cache.settings(), f.area), f.lang),
                          t("upload.log.empty", f.lang), height=300)

if not access.may_run("health/rejects"):
    st.info(t("health.admin_only", f.lang))
    st.stop()

st.header(t("health.rejects", f.lang, day=i18n.day(f.day, f.lang)))
rejects = cache.query("health/rejects", day=f.day, area=f.area)
table_view.show_table(tables.rejects_table(rejects, f.lang),
                      t("health.rejects.empty", f.lang, day=i18n.day(f.day, f.lang)), height=360)

if not access.may_run("health/ingest_log"):  # a clerk: their files' rejects, not every file's log
    st.stop()
st.header(t("health.log", f.lang))
table_view.show_table(tables.ingest_log_table(cache.query("health/ingest_log", area=f.area), f.lang),
                      t("health.log.empty", f.lang), height=360)

# The alerts' own log (alerts/store.py), not the snapshot's: every attempt to post, failures kept.
alerts_store = alert_state.store()
if alerts_store is not None:
    st.header(t("alerts.delivery_log", f.lang))
    st.caption(t("alerts.delivery_log.caption", f.lang))
    area_names = dict(cache.area_frame()[["area_code", "name"]].itertuples(index=False))
    table_view.show_table(alert_tables.delivery_log_table(alerts_store.delivery_log(limit=200), area_names, f.lang),
                          t("alerts.none_delivered", f.lang), height=300)
