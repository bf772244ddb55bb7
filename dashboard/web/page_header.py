"""What heads every page: its CSS (a wall's top padding, a phone's layout rules), title and caption."""

from __future__ import annotations

import streamlit as st

from dashboard import i18n
from dashboard.i18n import t
from dashboard.web import cache, device, state

# Static layout rules only (no data passes through here): a wall screen needs the space that
# Streamlit's default top padding takes. On a phone, the plotly mode bar would sit on the titles.
COMPACT_CSS = """
<style>
.block-container {padding-top: 4.25rem; padding-bottom: 1rem;}
h1 {padding-top: 0.2rem; padding-bottom: 0.2rem;}
/* Sections are h2 (headings in order) with the h3's spacing they had. */
[data-testid="stMain"] h2 {padding-top: 0.75rem;}
.map-legend {display: flex; flex-wrap: wrap; gap: 0.2rem 0.9rem; font-size: 0.85rem; margin: 0.2rem 0;}
.map-legend-item {display: inline-flex; align-items: center; gap: 0.3rem; white-space: nowrap;}
.map-legend-swatch {display: inline-block; width: 0.8rem; height: 0.8rem; border-radius: 0.15rem;}
.map-legend-dot {border-radius: 50%;}
.map-legend-sealed {outline: 2px solid currentColor; outline-offset: 1px;}
/* A disabled widget's label (社区 before a street is chosen): Streamlit's 2.3:1 grey made 4.6:1. */
[data-testid="stWidgetLabel"][disabled] p {color: #6b6a68;}
/* A phone: two KPI cards a row, the attention list above the map, the trends two a row. */
@media (max-width: 640px) {
  .modebar-container {display: none !important;}
  .block-container {padding-left: 0.75rem; padding-right: 0.75rem;}
  .st-key-kpi-strip [data-testid="stHorizontalBlock"], .st-key-overview-trends [data-testid="stHorizontalBlock"]
    {flex-wrap: wrap !important; gap: 0.5rem !important;}
  .st-key-kpi-strip [data-testid="stColumn"], .st-key-overview-trends [data-testid="stColumn"]
    {min-width: calc(50% - 0.25rem) !important; max-width: calc(50% - 0.25rem) !important; flex: 1 1 calc(50% - 0.25rem) !important;}
  /* The strip's rows dissolve into one flow, so 15 cards make 8 rows, not two half-empty ones. */
  .st-key-kpi-strip {flex-direction: row !important; flex-wrap: wrap !important; gap: 0.5rem !important;}
  .st-key-kpi-strip > div, .st-key-kpi-strip [data-testid="stHorizontalBlock"] {display: contents !important;}
  .st-key-kpi-strip [data-testid="stMetric"] > div {padding: 0.3rem 0.55rem !important; gap: 0 !important;}
  h1 {font-size: 1.8rem !important;}
  .st-key-kpi-strip [data-testid="stMetricValue"] {font-size: 1.4rem !important; line-height: 1.2 !important;}
  .st-key-kpi-strip [data-testid="stMetricLabel"] {min-height: 0 !important;}
  .st-key-kpi-strip [data-testid="stMetricLabel"] p {font-size: 0.78rem !important;}
  .st-key-kpi-strip [data-testid="stMetricDelta"] {font-size: 0.7rem !important; padding: 0 0.3rem !important;}
  /* Replaying the days is for the desk. A phone's overview does not draw the slider and button
     (app_pages/overview.py); a desk window this narrow hides them. */
  .st-key-overview-main [data-testid="stSlider"], .st-key-overview-main [data-testid="stButton"] {display: none !important;}
  .st-key-overview-main [data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:last-child {order: -1;}
}
</style>
"""


def page_header(f: state.Filters, title_key: str, *, charts: bool = True) -> None:
    """The page's CSS, title and caption; on a phone, for a page with maps or charts, the switch
    that loads them (device.charts_shown)."""
    st.html(COMPACT_CSS)
    st.title(t(title_key, f.lang))
    st.caption(f"{t('app.subtitle', f.lang)} · {i18n.literal(cache.area_name(f.area, f.lang))} · {i18n.day(f.day, f.lang)}")
    if charts and device.phone():
        charts_switch(f.lang)


def charts_switch(lang: str) -> None:
    """One switch for the whole visit: once a leader turns it on, every page draws its maps and
    charts (the choice lives in session state, which outlasts the widget across pages)."""
    def keep() -> None:
        st.session_state[device.PHONE_CHARTS] = st.session_state["phone-charts"]

    st.toggle(t("phone.charts", lang), value=device.charts_shown(), key="phone-charts", on_change=keep,
              help=t("phone.charts.help", lang))


def chart_not_loaded(lang: str) -> None:
    """What stands where a phone has not loaded a map or chart yet."""
    st.caption(t("phone.chart_hidden", lang))
