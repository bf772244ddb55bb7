"""What every page draws the same way: the header, tables, figures and the map with its drill-down.

A wall screen (kiosk) gets the same content in its own shape: dark, with no controls, tables cut to
their first rows as plain HTML (Streamlit's data grid paints its canvas in the app's light theme,
which CSS cannot reach), and every element sized so the page fits the screen without scrolling.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard import i18n
from dashboard.i18n import t
from dashboard.web import cache, screens, state
from dashboard.web.builders import charts, maps, shapes
from dashboard.web.builders.legend import legend_for, legend_html
from dashboard.web.builders.tables import Table

# Static layout rules only (no data passes through here): a wall screen needs the space that
# Streamlit's default top padding takes. On a phone, the plotly mode bar would sit on the titles.
COMPACT_CSS = """
<style>
.block-container {padding-top: 4.25rem; padding-bottom: 1rem;}
h1 {padding-top: 0.2rem; padding-bottom: 0.2rem;}
.map-legend {display: flex; flex-wrap: wrap; gap: 0.2rem 0.9rem; font-size: 0.85rem; margin: 0.2rem 0;}
.map-legend-item {display: inline-flex; align-items: center; gap: 0.3rem; white-space: nowrap;}
.map-legend-swatch {display: inline-block; width: 0.8rem; height: 0.8rem; border-radius: 0.15rem;}
.map-legend-dot {border-radius: 50%;}
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
  /* Replaying the days is for the desk; a phone keeps the day's map and the briefing. */
  .st-key-overview-main [data-testid="stSlider"], .st-key-overview-main [data-testid="stButton"] {display: none !important;}
  .st-key-overview-main [data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:last-child {order: -1;}
}
</style>
"""
# The map's panel on a phone: the whole selected area must fit its width.
PHONE_MAP = (360, 340)
KIOSK_TABLE_ROWS = 12
# What a table shows for a missing value: Streamlit's grid would print "None", which a reader
# takes for a name, and 0 would claim a count nobody made.
MISSING_CELL = "—"
# A wall's overview at 1080 CSS px (a 4K screen is zoomed 2x, so the same): what fits below the
# header and the KPI strip with nothing below the fold, the staleness banner included.
KIOSK_MAP_HEIGHT = 600
KIOSK_TREND_HEIGHT = 165
KPI_ROWS = 2
# The other rotation pages have one row of cards above their map.
KIOSK_PAGE_MAP_HEIGHT = 640
# Those heights leave room for one line of notice (the banner's). Every further line a page
# draws above its content (screens.notice_lines(): the wall banner's second line, the page's
# stale-feed line; and the map's outline notice) comes off the map, and on the overview off the
# two rows of trends beside it, so the wall never scrolls however many notices stack up.
KIOSK_NOTICE_LINE_PX = 26
KIOSK_NOTICE_LINES_ALLOWED = 1
KIOSK_MIN_TREND_HEIGHT = 110


def kiosk_squeeze() -> int:
    """The pixels this run's notices take beyond what the wall's heights allow for."""
    lines = screens.notice_lines() + (1 if outline_notice(geo(), state.current_lang()) else 0)
    return max(0, lines - KIOSK_NOTICE_LINES_ALLOWED) * KIOSK_NOTICE_LINE_PX


def kiosk_map_height() -> int:
    """The wall overview's map: as tall as the notices above it leave room for."""
    return KIOSK_MAP_HEIGHT - kiosk_squeeze()


def kiosk_trend_height() -> int:
    """The wall overview's small trends, two rows of them beside the map: each gives half."""
    return max(KIOSK_MIN_TREND_HEIGHT, KIOSK_TREND_HEIGHT - -(-kiosk_squeeze() // 2))


def map_height(desk_height: int) -> int:
    return KIOSK_PAGE_MAP_HEIGHT - kiosk_squeeze() if kiosk() else desk_height


def kiosk() -> bool:
    return screens.is_kiosk()


def screen() -> str:
    """The shape this session draws in, part of every shared build's key: wall, phone or desk."""
    return "kiosk" if kiosk() else "phone" if phone() else "desk"


def phone() -> bool:
    """A phone's browser, by the "Mobi" token every mobile browser puts in its User-Agent (MDN's
    advice): the server needs the screen's width before drawing the map's first view."""
    return "Mobi" in (st.context.headers.get("User-Agent") or "")


def page_header(f: state.Filters, title_key: str) -> None:
    st.html(COMPACT_CSS)
    st.title(t(title_key, f.lang))
    st.caption(f"{t('app.subtitle', f.lang)} · {i18n.literal(cache.area_name(f.area, f.lang))} · {i18n.day(f.day, f.lang)}")


def kpi_strip(cards, changed: set[str] = frozenset()) -> None:
    """The KPI cards in KPI_ROWS rows, however many cards there are; a card the last snapshot
    swap changed wears a "新 / updated" chip."""
    lang = state.current_lang()
    per_row = -(-len(cards) // KPI_ROWS)
    chip = f" :orange-badge[{t('kpi.updated', lang)}]"
    with st.container(key="kpi-strip"):
        for start in range(0, len(cards), per_row):
            row = cards[start:start + per_row]
            for column, card in zip(st.columns(per_row), row):
                column.metric(card.label + (chip if card.key in changed else ""), card.value, card.delta,
                              delta_color=card.delta_color, help=card.help, border=True,
                              delta_arrow=card.delta_arrow, height="stretch")


def _cell(value, column: str, table: Table, lang: str) -> str:
    if column in table.percent:
        return i18n.pct(value, lang)
    if column in table.counts:
        return i18n.num(value, lang)
    return "" if i18n.is_missing(value) else str(value)


def table_html(frame: pd.DataFrame, lang: str, *, table: Table | None = None, max_rows: int = KIOSK_TABLE_ROWS) -> str:
    """The first rows of a table as escaped HTML, with a "+k more" line for the rest."""
    table = table or Table(frame)
    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(value, column, table, lang))}</td>"
                         for column, value in zip(frame.columns, row)) + "</tr>"
        for row in frame.head(max_rows).itertuples(index=False))
    more = len(frame) - max_rows
    tail = f'<div class="kiosk-more">{html.escape(t("kiosk.more", lang, count=more))}</div>' if more > 0 else ""
    return f'<table class="kiosk-table"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{tail}'


def show_table(table: Table, empty_message: str, *, height: int | str = "auto", kiosk_rows: int = KIOSK_TABLE_ROWS) -> None:
    if table.empty:
        st.info(empty_message)
        return
    if kiosk():
        st.html(table_html(table.frame, state.current_lang(), table=table, max_rows=kiosk_rows))
        return
    # The grid's "Download as CSV" (and its copy) writes the cells as sent: text that starts like
    # a formula is sent with a leading ' so that Excel or WPS does not run it.
    frame = i18n.spreadsheet_safe_frame(table.frame).copy()
    # Shares are shown as percentages with one decimal, the same rounding everywhere.
    for name in table.percent:
        frame[name] = frame[name] * 100
    config = {name: st.column_config.NumberColumn(format="%.1f%%") for name in table.percent}
    config.update({name: st.column_config.NumberColumn(format="localized") for name in table.counts})
    st.dataframe(frame, hide_index=True, column_config=config, height=height, width="stretch",
                 placeholder=MISSING_CELL)


def for_screen(figure, *, height: int | None = None, kiosk_height: int | None = None):
    """The figure as this screen draws it (dark and small on a wall); changes and returns `figure`,
    so give it a fresh one, or call it inside a shared build."""
    if kiosk():
        return charts.on_dark(figure, height=kiosk_height)
    if height:
        figure.update_layout(height=height)
    return figure


def draw_figure(figure, *, key: str | None = None) -> None:
    """A figure for_screen made; st.plotly_chart serialises a copy and leaves the figure as it is."""
    if kiosk():
        st.plotly_chart(figure, width="stretch", theme=None, config={"displayModeBar": False, "staticPlot": True},
                        key=key)
        return
    st.plotly_chart(figure, width="stretch", config={"displaylogo": False}, key=key)


def show_figure(figure, *, key: str | None = None, height: int | None = None, kiosk_height: int | None = None) -> None:
    draw_figure(for_screen(figure, height=height, kiosk_height=kiosk_height), key=key)


def shared_figure(kind: str, view: tuple, build, *, queries: tuple[str, ...], key: str | None = None,
                  height: int | None = None, kiosk_height: int | None = None) -> None:
    """show_figure for a figure built once per data version, view and screen, for every session."""
    figure = cache.shared(kind, (*view, screen(), height, kiosk_height),
                          lambda: for_screen(build(), height=height, kiosk_height=kiosk_height), queries=queries)
    draw_figure(figure, key=key)


@dataclass(frozen=True)
class FrozenDeck:
    """A pydeck Deck already serialised, with its legend: what st.pydeck_chart reads of a Deck
    (to_json, _tooltip, mapbox_key, layers: streamlit/elements/deck_gl_json_chart.py). Building
    and serialising the district map takes ~50 ms; a frozen one is shared by every session."""

    spec: str
    _tooltip: dict | None
    legend: str
    layers: tuple = ()
    mapbox_key: str | None = None

    def to_json(self) -> str:
        return self.spec


def shared_map(kind: str, view: tuple, build, lang: str, *, queries: tuple[str, ...]) -> FrozenDeck:
    """A page's map, built and frozen once per data version, view and screen for every session;
    `queries` names those behind the frames build() draws (the shapes' are added here)."""
    return cache.shared(kind, (*view, lang, screen()), lambda: freeze(build(), lang),
                        queries=(*queries, "map/boundaries", "map/areas"))


def freeze(deck, lang: str) -> FrozenDeck:
    legend = legend_html(legend_for(deck, lang, cache.settings().thresholds.coverage_target))
    return FrozenDeck(deck.to_json(), getattr(deck, "_tooltip", None), legend)


def _select_from_map(key: str, known_codes: frozenset[str]) -> None:
    """on_select callback: a click on a community becomes the area filter on this rerun."""
    event = st.session_state.get(key)
    selection = event.get("selection") if event else None
    code = maps.area_from_selection(selection, known_codes)
    if code:
        st.session_state[state.PENDING_AREA] = code


def map_options(width_px: int, height_px: int) -> dict:
    """district_map's size and look for this screen: dark on a wall, narrow on a phone; the whole
    district fits where the activity is, except on a phone, which shows the whole area."""
    if phone():
        width_px, height_px = PHONE_MAP
    return {"width_px": width_px, "height_px": height_px, "dark": kiosk(), "fit_activity": not phone()}


# How many unplaced area codes the map's notice names.
UNPLACED_SHOWN = 5


def outline_notice(base: shapes.Geo, lang: str) -> str | None:
    """Why the map lacks outlines, when it does: a map that cannot draw its areas says so."""
    if not base.outlined:
        return t("map.no_outlines", lang)
    if base.unplaced:
        codes = t("list.sep", lang).join(i18n.literal(code or "—") for code in base.unplaced[:UNPLACED_SHOWN])
        more = len(base.unplaced) - UNPLACED_SHOWN
        return t("map.unplaced", lang, n=len(base.unplaced), codes=codes + (f" +{more}" if more > 0 else ""))
    return None


def show_map(deck, f: state.Filters, name: str, *, height: int = 560) -> None:
    """Draw the deck and its legend; a click on a community drills down to it (not on a wall).
    Above it, why it lacks outlines, if it does."""
    notice = outline_notice(geo(), f.lang)
    if notice:
        st.caption(notice)
    if phone():
        height = PHONE_MAP[1]
    key = f"map-{name}-{f.area or 'district'}"
    if not isinstance(deck, FrozenDeck):
        deck = freeze(deck, f.lang)
    legend = deck.legend
    if kiosk():
        st.pydeck_chart(deck, height=height, key=key, alt=t("map.alt", f.lang))
        st.html(legend)
        return
    communities = cache.shared("communities", (), lambda: frozenset(
        cache.area_frame().query("level == 'community'")["area_code"]), queries=("map/areas",))
    st.pydeck_chart(deck, height=height, on_select=functools.partial(_select_from_map, key, communities),
                    selection_mode="single-object", key=key, alt=t("map.alt", f.lang))
    st.html(legend)
    st.caption(t("map.drill_down", f.lang))


def geo() -> shapes.Geo:
    return cache.shared("geo", (), lambda: shapes.geo_from_frames(cache.query("map/boundaries"), cache.area_frame()),
                        queries=("map/boundaries", "map/areas"))
