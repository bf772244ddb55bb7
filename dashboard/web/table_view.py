"""Tables as a page shows them: Streamlit's grid on a desk or a phone, plain HTML on a wall.

A wall gets a table cut to its first rows as escaped HTML: Streamlit's data grid paints its
canvas in the app's light theme, which CSS cannot reach.
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from dashboard import i18n
from dashboard.i18n import t
from dashboard.web import device, state
from dashboard.web.builders.tables import Table

KIOSK_TABLE_ROWS = 12
# What a table shows for a missing value: Streamlit's grid would print "None", which a reader
# takes for a name, and 0 would claim a count nobody made.
MISSING_CELL = "—"


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
    if device.kiosk():
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
