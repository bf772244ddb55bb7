"""Plotly figures as a page draws them: dark, small and static on a wall; interactive on a desk;
and built once per data version, view and device for every session (shared_figure)."""

from __future__ import annotations

import streamlit as st

from dashboard.web import cache, device, state
from dashboard.web.builders import charts
from dashboard.web.page_header import chart_not_loaded


def for_form_factor(figure, *, height: int | None = None, kiosk_height: int | None = None):
    """The figure as this device draws it (dark and small on a wall); changes and returns `figure`,
    so give it a fresh one, or call it inside a shared build."""
    if device.kiosk():
        return charts.on_dark(figure, height=kiosk_height)
    if height:
        figure.update_layout(height=height)
    return figure


def draw_figure(figure, *, key: str | None = None) -> None:
    """A figure for_form_factor made; st.plotly_chart serialises a copy and leaves the figure as it is.
    A phone that has not asked for charts gets a line saying so (device.charts_shown)."""
    if not device.charts_shown():
        chart_not_loaded(state.current_lang())
        return
    if device.kiosk():
        st.plotly_chart(figure, width="stretch", theme=None, config={"displayModeBar": False, "staticPlot": True},
                        key=key)
        return
    st.plotly_chart(figure, width="stretch", config={"displaylogo": False}, key=key)


def show_figure(figure, *, key: str | None = None, height: int | None = None, kiosk_height: int | None = None) -> None:
    draw_figure(for_form_factor(figure, height=height, kiosk_height=kiosk_height), key=key)


def shared_figure(kind: str, view: tuple, build, *, key: str | None = None,
                  height: int | None = None, kiosk_height: int | None = None) -> None:
    """show_figure for a figure built once per data version, view and device, for every session."""
    if not device.charts_shown():
        chart_not_loaded(state.current_lang())
        return
    figure = cache.shared(kind, (*view, device.form_factor(), height, kiosk_height),
                          lambda: for_form_factor(build(), height=height, kiosk_height=kiosk_height))
    draw_figure(figure, key=key)
