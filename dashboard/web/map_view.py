"""A page's map as the page draws it: the deck frozen once for every session, its size on this
device, its legend, the notice when outlines are missing, and the drill-down a click makes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from dashboard.i18n import t
from dashboard.web import area_outlines, cache, device, state, wall_fit
from dashboard.web.builders import maps, shapes
from dashboard.web.builders.legend import legend_for, legend_html
from dashboard.web.page_header import chart_not_loaded

# The map's panel on a phone: the whole selected area must fit its width.
PHONE_MAP = (360, 340)


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


def shared_map(kind: str, view: tuple, build, lang: str) -> FrozenDeck:
    """A page's map, built and frozen once per data version, view and device for every session;
    `queries` names those behind the frames build() draws (the shapes' are added here)."""
    return cache.shared(kind, (*view, lang, device.form_factor()), lambda: freeze(build(), lang))


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
    """district_map's size and look for this device: dark on a wall, narrow on a phone; the whole
    district fits where the activity is, except on a phone, which shows the whole area."""
    if device.phone():
        width_px, height_px = PHONE_MAP
    return {"width_px": width_px, "height_px": height_px, "dark": device.kiosk(),
            "fit_activity": not device.phone()}


def show_map(deck, f: state.Filters, name: str, *, height: int = 560) -> None:
    """Draw the deck and its legend; a click on a community drills down to it (not on a wall).
    Above it, why it lacks outlines, if it does. A phone that has not asked for maps gets a line
    saying so (device.charts_shown)."""
    if not device.charts_shown():
        chart_not_loaded(f.lang)
        return
    notice = area_outlines.outline_notice(area_outlines.geo(), f.lang)
    if notice:
        st.caption(notice)
    if device.phone():
        height = PHONE_MAP[1]
    key = f"map-{name}-{f.area or 'district'}"
    if not isinstance(deck, FrozenDeck):
        deck = freeze(deck, f.lang)
    legend = deck.legend
    if device.kiosk():
        st.pydeck_chart(deck, height=height, key=key, alt=t("map.alt", f.lang))
        st.html(legend)
        return
    communities = cache.shared("communities", (), lambda: frozenset(
        cache.area_frame().query("level == 'community'")["area_code"]))
    st.pydeck_chart(deck, height=height, on_select=functools.partial(_select_from_map, key, communities),
                    selection_mode="single-object", key=key, alt=t("map.alt", f.lang))
    st.html(legend)
    st.caption(t("map.drill_down", f.lang))


def page_map(f: state.Filters, name: str, title_key: str, deck_for: Callable[[shapes.Geo, dict], object], *,
             width_px: int = 1000, desk_height: int = 560) -> None:
    """A page's map panel under its heading: deck_for(base, options) builds the deck from the
    district's outlines and map_options for this device (pass both on to district_map), at the
    height a wall leaves it; or, with no outlines to draw on, a warning instead of a blank map."""
    st.header(t(title_key, f.lang))
    if not device.charts_shown():  # nor build a deck nobody will draw
        chart_not_loaded(f.lang)
        return
    base = area_outlines.geo()
    if base.empty:
        st.warning(t("map.empty", f.lang))
        return
    height = wall_fit.map_height(desk_height)
    show_map(deck_for(base, map_options(width_px, height)), f, name, height=height)
