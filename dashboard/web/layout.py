"""What every page draws the same way: the header, tables, figures and the map with its drill-down."""

from __future__ import annotations

import functools

import streamlit as st

from dashboard import i18n
from dashboard.i18n import t
from dashboard.web import cache, state
from dashboard.web.builders import maps
from dashboard.web.builders.tables import Table

# Static layout rules only (no data passes through here): a wall screen needs the space that
# Streamlit's default top padding takes.
COMPACT_CSS = """
<style>
.block-container {padding-top: 4.25rem; padding-bottom: 1rem;}
h1 {padding-top: 0.2rem; padding-bottom: 0.2rem;}
</style>
"""


def page_header(f: state.Filters, title_key: str) -> None:
    st.html(COMPACT_CSS)
    st.title(t(title_key, f.lang))
    st.caption(f"{t('app.subtitle', f.lang)} · {i18n.literal(cache.area_name(f.area, f.lang))} · {i18n.day(f.day, f.lang)}")


def show_table(table: Table, empty_message: str, *, height: int | str = "auto") -> None:
    if table.empty:
        st.info(empty_message)
        return
    frame = table.frame.copy()
    # Shares are shown as percentages with one decimal, the same rounding everywhere.
    for name in table.percent:
        frame[name] = frame[name] * 100
    config = {name: st.column_config.NumberColumn(format="%.1f%%") for name in table.percent}
    config.update({name: st.column_config.NumberColumn(format="localized") for name in table.counts})
    st.dataframe(frame, hide_index=True, column_config=config, height=height, width="stretch")


def show_figure(figure, *, key: str | None = None) -> None:
    st.plotly_chart(figure, width="stretch", config={"displaylogo": False}, key=key)


def _select_from_map(key: str, known_codes: frozenset[str]) -> None:
    """on_select callback: a click on a community becomes the area filter on this rerun."""
    event = st.session_state.get(key)
    selection = event.get("selection") if event else None
    code = maps.area_from_selection(selection, known_codes)
    if code:
        st.session_state[state.PENDING_AREA] = code


def show_map(deck, f: state.Filters, name: str, *, height: int = 560) -> None:
    """Draw the deck; a click on a community drills down to it."""
    key = f"map-{name}-{f.area or 'district'}"
    communities = frozenset(cache.area_frame().query("level == 'community'")["area_code"])
    st.pydeck_chart(deck, height=height, on_select=functools.partial(_select_from_map, key, communities),
                    selection_mode="single-object", key=key, alt=t("map.alt", f.lang))
    st.caption(t("map.legend", f.lang))


def geo() -> maps.Geo:
    return maps.geo_from_frames(cache.query("map/boundaries"), cache.area_frame())
