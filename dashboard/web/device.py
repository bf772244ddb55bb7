"""Which device this session draws on: a wall screen (kiosk), a phone or a desk.

A wall is a session a kiosk URL marked (web/wall.py reads the URL); a phone is known by its
browser. Every module that draws differently for them asks here.
"""

from __future__ import annotations

import streamlit as st

# The session-state key a kiosk URL sets; web/wall.py sets it, everything else only reads it.
KIOSK = "_kiosk"
# The session-state key of a phone's "show maps and charts" switch (web/page_header.py draws it).
PHONE_CHARTS = "_phone_charts"


def kiosk() -> bool:
    return bool(st.session_state.get(KIOSK))


def phone() -> bool:
    """A phone's browser, by the "Mobi" token every mobile browser puts in its User-Agent (MDN's
    advice): the server needs the screen's width before drawing the map's first view."""
    return "Mobi" in (st.context.headers.get("User-Agent") or "")


def charts_shown() -> bool:
    """Maps and charts are drawn everywhere but on a phone that has not asked for them: their
    bundles (plotly 1.4 MB and deck.gl 0.8 MB compressed) would reach a phone on a slow link
    before anything else could show, and a leader first wants the cards and the list."""
    return not phone() or bool(st.session_state.get(PHONE_CHARTS))


def form_factor() -> str:
    """The shape this session draws in, part of every shared build's key: wall, phone or desk."""
    return "kiosk" if kiosk() else "phone" if phone() else "desk"
