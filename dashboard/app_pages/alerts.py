"""告警 Alerts: what is open now, what was, and who was told when (issue 20). The alerts are
evaluated and sent by one process (the ingest watcher or `alerts --watch`); this page only reads
their state, for the sidebar's area."""

import streamlit as st

from dashboard.i18n import num, t
from dashboard.web import alert_state, cache, state, table_view
from dashboard.web.builders import alerts
from dashboard.web.kpi_strip import card_row
from dashboard.web.page_header import page_header

f = state.filters()
page_header(f, "page.alerts", charts=False)
store = alert_state.store()
if store is None:
    st.info(t("alerts.not_running", f.lang))
    st.stop()
names = dict(cache.area_frame()[["area_code", "name"]].itertuples(index=False))
open_now = store.open_alerts(f.area)
last = store.last_evaluated()
st.caption(t("alerts.as_of", f.lang, at=alerts.when(last, f.lang) if last else t("no_data", f.lang),
             count=num(len(open_now), f.lang)))
card_row(alerts.count_cards(open_now, last, f.lang))

st.header(t("alerts.open", f.lang))
table_view.show_table(alerts.alerts_table(open_now, names, f.lang, resolved=False), t("alerts.none_open", f.lang))

st.header(t("alerts.notified", f.lang))
table_view.show_table(alerts.notifications_table(store.notifications(f.area, limit=200), names, f.lang),
                      t("alerts.none_notified", f.lang))

st.header(t("alerts.history", f.lang))
table_view.show_table(alerts.alerts_table(store.history(f.area, limit=200), names, f.lang, resolved=True),
                      t("alerts.none_history", f.lang))
