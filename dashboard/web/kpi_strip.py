"""The overview's KPI cards, in rows, with a chip on the ones the last snapshot swap changed."""

from __future__ import annotations

import streamlit as st

from dashboard.i18n import t
from dashboard.web import state

KPI_ROWS = 2


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
