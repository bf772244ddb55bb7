"""KPI cards: the overview's strip, with a chip on the ones the last snapshot swap changed, and a
row of cards for the other pages. Each card tells a screen reader its "as of" after its label."""

from __future__ import annotations

import streamlit as st

from dashboard.i18n import t
from dashboard.web import state

KPI_ROWS = 2

# Read by a screen reader, not shown: clipped to nothing, yet still in the accessibility tree
# (display: none or visibility: hidden would take it out).
_HIDDEN = "position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap;"


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
                _card(column, card, card.label + (chip if card.key in changed else ""))
    _as_of(cards, lang)


def card_row(cards) -> None:
    """Cards side by side, one column each."""
    for column, card in zip(st.columns(len(cards)), cards):
        _card(column, card, card.label)
    _as_of(cards, state.current_lang())


def _card(column, card, label: str) -> None:
    with column.container(key=f"card-{card.key}", height="stretch"):
        st.metric(label, card.value, card.delta, delta_color=card.delta_color, help=card.help, border=True,
                  delta_arrow=card.delta_arrow, height="stretch")


def _as_of(cards, lang: str) -> None:
    css = as_of_css(cards, lang)
    if css:  # st.html refuses an empty body
        st.html(css)


def as_of_css(cards, lang: str) -> str:
    """A rule per card with an "as of", adding it after the card's label as hidden text."""
    rules = "".join(
        f'.st-key-card-{card.key} [data-testid="stMetricLabel"]::after '
        f"{{content: {css_string(t('kpi.as_of', lang, day=card.as_of))}; {_HIDDEN}}}\n"
        for card in cards if card.as_of and card.key.isidentifier())
    return f"<style>\n{rules}</style>" if rules else ""


def css_string(text: str) -> str:
    """text as a CSS string: every character but letters, digits and spaces as a hex escape, so
    neither a quote nor `</style>` can end the string or the style block."""
    return '"' + "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in text) + '"'
