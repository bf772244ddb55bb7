"""The upload page's tables (issue 19): one checked file, its first rejects, and the upload log.
Pure: plain values in, a Table out; a page shows them with table_view, which escapes every cell."""

from __future__ import annotations

import pandas as pd

from dashboard.i18n import clock, literal, moment, short_day, t
from dashboard.web.builders.tables import Table


def _kind(kind: str, lang: str) -> str:
    return t(f"feed.{kind}", lang) if kind else t("upload.kind.none", lang)


def replaced_file(serving: pd.DataFrame, kind: str, sender: str, saved_name: str) -> str:
    """The file an upload of this kind and sender replaces on its day, or "" (a first send).
    Its own earlier copy counts: the same name uploaded again is a re-send too."""
    if serving.empty or not kind:
        return ""
    same = serving[(serving["kind"] == kind) & (serving["sender"] == sender)]
    return str(same["file"].iloc[0]).rsplit("/", 1)[-1] if not same.empty else ""


def checked_table(checked, replaces: str, lang: str) -> Table:
    """One row: what the file was recognised as, its rows, and what confirming it would do."""
    if not checked.usable:
        outcome = t("upload.outcome.refused", lang, reason=checked.problem or t("upload.kind.none", lang))
    elif replaces:
        outcome = t("upload.outcome.replaces", lang, file=replaces)
    else:
        outcome = t("upload.outcome.new", lang)
    c = lambda key: t(key, lang)  # noqa: E731
    frame = pd.DataFrame({
        c("col.file"): [checked.filename],
        c("col.kind"): [_kind(checked.kind, lang)],
        c("upload.col.sheet"): [checked.sheet or ""],
        c("col.rows_read"): [checked.rows_read],
        c("col.rows_loaded"): [checked.rows_loaded],
        c("col.rows_rejected"): [checked.rows_rejected],
        c("upload.col.outcome"): [" · ".join(filter(None, [outcome, checked.note]))],
    })
    return Table(frame, counts=(c("col.rows_read"), c("col.rows_loaded"), c("col.rows_rejected")))


def rejects_table(rejects: list, lang: str) -> Table:
    """The first rejects: row (a sheet's row for a workbook), column, reason; values already masked."""
    c = lambda key: t(key, lang)  # noqa: E731
    return Table(pd.DataFrame({
        c("upload.col.row"): pd.array([r.line for r in rejects], dtype="Int64"),
        c("upload.col.column"): [r.column for r in rejects],
        c("upload.col.reason"): [r.reason for r in rejects],
        c("upload.col.value"): [r.value for r in rejects],
    }))


def upload_log_table(entries: list[dict], lang: str) -> Table:
    """The upload log, newest first: who, when, which file (its sha256), kind, rows, outcome."""
    c = lambda key: t(key, lang)  # noqa: E731
    get = lambda name: [entry.get(name, "") for entry in entries]  # noqa: E731
    outcome = [t("upload.log.correction", lang) if e.get("correction") else
               t(f"upload.log.{e.get('outcome')}", lang) if e.get("outcome") in ("saved", "refused") else
               str(e.get("outcome", "")) for e in entries]
    frame = pd.DataFrame({
        c("upload.col.at"): [moment(v, lang) if v else "" for v in get("at")],
        c("upload.col.user"): get("user"),
        c("upload.col.area"): get("area"),
        c("col.day"): [short_day(v, lang) if v else "" for v in get("day")],
        c("col.file"): get("file"),
        c("upload.col.saved"): get("saved"),
        c("upload.col.sha256"): get("sha256"),
        c("col.kind"): [_kind(k, lang) for k in get("kind")],
        c("col.rows_read"): pd.array([e.get("rows_read") for e in entries], dtype="Int64"),
        c("col.rows_loaded"): pd.array([e.get("rows_loaded") for e in entries], dtype="Int64"),
        c("col.rows_rejected"): pd.array([e.get("rows_rejected") for e in entries], dtype="Int64"),
        c("upload.col.outcome"): outcome,
        c("col.message"): get("message"),
    })
    return Table(frame, counts=(c("col.rows_read"), c("col.rows_loaded"), c("col.rows_rejected")))


def taken_in_notice(found: pd.DataFrame, status: dict | None, saved_at: str, shown: str,
                    lang: str) -> tuple[str, str]:
    """(level, text) for one saved file: "success" only when an ingest loaded these very bytes;
    "warning" when it took them in but held them or found no row, so its figures are not live;
    "error" when the ingest that ran after the save failed as a whole (<db>.status.json); else
    "info", still waiting. found: upload/taken_in's row, if any; status: read_status()."""
    file = literal(shown)
    if not found.empty:
        row = found.iloc[0]
        status_name = t(f"health.status.{row['status']}", lang) if row["status"] in (
            "loaded", "held", "empty", "failed") else literal(row["status"])
        if row["status"] == "loaded":
            return "success", t("upload.live", lang, file=file, taken=clock(row["ingested_at"]), status=status_name,
                                live=clock(row["live_since"]))
        return "warning", t("upload.not_live", lang, file=file, taken=clock(row["ingested_at"]), status=status_name,
                            message=literal(str(row["message"] or "")[:300]))
    if status and not status.get("ok", True) and str(status.get("attempted_at", "")) >= saved_at:
        return "error", t("upload.ingest_failed", lang, file=file, message=literal(str(status.get("message", ""))[:300]))
    return "info", t("upload.waiting", lang, file=file)
