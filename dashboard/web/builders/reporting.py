"""Who has reported (issue 18): health/reporting as a sender × kind table, and the files of the
newest ingest that were no export, for the data-health page."""

from __future__ import annotations

import pandas as pd

from dashboard.i18n import clock, is_missing, short_day, t
from dashboard.web.builders.tables import Table


def reporting_cell(status: str, received_at, lang: str, served_day=None) -> str:
    """已报送 09:12, 迟报 11:40 or 未报送; a ledger not sent says which earlier part its figures use."""
    if status == "missing" and not is_missing(served_day):
        return t("health.reporting.missing_kept", lang, day=short_day(served_day, lang))
    if status == "missing":
        return t("health.reporting.missing", lang)
    return t(f"health.reporting.{status}", lang, at=clock(received_at))


def reporting_matrix(df: pd.DataFrame, lang: str) -> Table:
    """One row per sender (by the name people use), one column per kind in feed order (the query's
    order); a sender that does not send a kind has no cell there (None), never "not sent"."""
    kinds = list(dict.fromkeys(df["kind"]))
    senders = list(dict.fromkeys(df["sender_name"]))
    cells: dict[str, dict[str, str]] = {kind: {} for kind in kinds}
    for row in df.itertuples(index=False):
        cells[row.kind][row.sender_name] = reporting_cell(row.status, row.received_at, lang,
                                                          getattr(row, "served_day", None))
    frame = pd.DataFrame({t("col.sender", lang): senders,
                          **{t(f"feed.{kind}", lang): [cells[kind].get(sender) for sender in senders]
                             for kind in kinds}})
    return Table(frame)


def unrecognised_table(df: pd.DataFrame, lang: str) -> Table:
    """health/unrecognised: the day folder, the file and why it is no export."""
    c = lambda key: t(key, lang)  # noqa: E731
    frame = pd.DataFrame({
        c("col.day"): ["" if is_missing(v) else short_day(v, lang) for v in df["day"]],
        c("col.file"): df["file"],
        c("col.reason"): df["reason"].fillna(""),
    })
    return Table(frame)
