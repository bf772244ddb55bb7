"""Tables for st.dataframe: query results in, display frames out.

Column names and coded values are put in the UI language; counts stay numbers (so columns
sort as numbers) and dates become text in the language's format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from dashboard.i18n import clock, enum, is_missing, moment, short_day, t


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame
    # Display names of columns holding shares (0..1), shown as percentages.
    percent: tuple[str, ...] = ()
    counts: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return self.frame.empty


def _int(series: pd.Series) -> pd.Series:
    return series.astype("Float64").round().astype("Int64")


def _yes_no(value, lang: str) -> str:
    return t("yes", lang) if bool(value) else t("no", lang)


def zone_table(df: pd.DataFrame, lang: str) -> Table:
    c = lambda key: t(key, lang)  # noqa: E731
    frame = pd.DataFrame({
        c("col.zone"): df["name"],
        c("col.community"): df["community"],
        c("col.level"): [enum("level", v, lang) for v in df["level"]],
        c("col.scope"): [enum("scope", v, lang) for v in df["scope"]],
        c("col.started_on"): [short_day(v, lang) for v in df["started_on"]],
        c("col.days_in_force"): _int(df["days_in_force"]),
        c("col.population"): _int(df["population"]),
        c("col.positives_7d"): _int(df["positives_7d"]),
        c("col.lift_review_on"): [short_day(v, lang) for v in df["lift_review_on"]],
        c("col.due_for_review"): [_yes_no(v, lang) for v in df["due_for_review"]],
    })
    return Table(frame, counts=(c("col.days_in_force"), c("col.population"), c("col.positives_7d")))


def coverage_table(df: pd.DataFrame, lang: str, limit: int = 10) -> Table:
    lowest = df.sort_values(["coverage", "area_code"]).head(limit)
    c = lambda key: t(key, lang)  # noqa: E731
    frame = pd.DataFrame({
        c("col.community"): lowest["name"],
        c("col.coverage"): lowest["coverage"].astype("Float64"),
        c("col.persons_sampled"): _int(lowest["persons_sampled"]),
        c("col.population"): _int(lowest["population"]),
    })
    return Table(frame, percent=(c("col.coverage"),), counts=(c("col.persons_sampled"), c("col.population")))


def isolation_table(df: pd.DataFrame, lang: str) -> Table:
    shown = df[df["active"] > 0]
    c = lambda key: t(key, lang)  # noqa: E731
    frame = pd.DataFrame({
        c("col.community"): shown["name"],
        c("kpi.isolation_home"): _int(shown["home"]),
        c("kpi.isolation_home_monitoring"): _int(shown["home_monitoring"]),
        c("kpi.isolation_centralized"): _int(shown["centralized"]),
        c("col.active"): _int(shown["active"]),
        c("col.started"): _int(shown["started"]),
        c("col.ended"): _int(shown["ended"]),
    })
    return Table(frame, counts=tuple(frame.columns[1:]))


def releases_table(df: pd.DataFrame, lang: str) -> Table:
    """Counts per community only: who is released is not shown on any screen."""
    shown = df[df["releases_due_next_day"] > 0].sort_values(["releases_due_next_day", "area_code"],
                                                             ascending=[False, True])
    c = lambda key: t(key, lang)  # noqa: E731
    frame = pd.DataFrame({c("col.community"): shown["name"], c("col.releases_due"): _int(shown["releases_due_next_day"])})
    return Table(frame, counts=(c("col.releases_due"),))


def posts_table(df: pd.DataFrame, lang: str) -> Table:
    c = lambda key: t(key, lang)  # noqa: E731
    frame = pd.DataFrame({
        c("col.site"): df["name"],
        c("col.site_kind"): [enum("site_kind", v, lang) for v in df["kind"]],
        c("col.on_duty"): _int(df["on_duty"]),
        c("col.min_staff"): _int(df["min_staff"]),
        c("col.understaffed"): [("⚠ " if v else "") + _yes_no(v, lang) for v in df["understaffed"]],
    })
    return Table(frame, counts=(c("col.on_duty"), c("col.min_staff")))


def roster_table(df: pd.DataFrame, lang: str) -> Table:
    c = lambda key: t(key, lang)  # noqa: E731

    def span(start, end) -> str:
        same_day = pd.Timestamp(start).date() == pd.Timestamp(end).date()
        return f"{clock(start)}–{clock(end)}" if same_day else f"{clock(start)}–{short_day(end, lang)} {clock(end)}"

    frame = pd.DataFrame({
        c("col.staff_name"): df["staff_name"].fillna(""),
        c("col.staff_id"): df["staff_id"],
        c("col.unit"): df["unit"].fillna(""),
        c("col.role"): [enum("role", v, lang) for v in df["role"]],
        c("col.site"): df["site_name"],
        c("col.starts_at"): [span(s, e) for s, e in zip(df["starts_at"], df["ends_at"])],
        c("col.status"): [enum("shift_status", v, lang) for v in df["status"]],
    })
    return Table(frame)



def fatigue_table(flagged: pd.DataFrame, lang: str) -> Table:
    c = lambda key: t(key, lang)  # noqa: E731
    separator = "、" if lang == "zh" else ", "
    reasons = [
        separator.join(t(key, lang) for key, on in (("fatigue.24h", a), ("fatigue.7d", b), ("fatigue.days", d)) if on)
        for a, b, d in zip(flagged["over_24h"], flagged["over_7d"], flagged["over_days"])
    ]
    frame = pd.DataFrame({
        c("col.staff_name"): flagged["staff_name"].fillna(""),
        c("col.staff_id"): flagged["staff_id"],
        c("col.site"): flagged["site_name"],
        c("col.hours_24h"): flagged["hours_24h"].astype("Float64"),
        c("col.hours_7d"): flagged["hours_7d"].astype("Float64"),
        c("col.consecutive_days"): _int(flagged["consecutive_days"]),
        c("col.reasons"): reasons,
    })
    return Table(frame, counts=(c("col.consecutive_days"),))


def feed_table(df: pd.DataFrame, lang: str) -> Table:
    c = lambda key: t(key, lang)  # noqa: E731
    frame = pd.DataFrame({
        c("col.day"): [short_day(v, lang) for v in df["day"]],
        c("col.kind"): [t(f"feed.{k}", lang) for k in df["kind"]],
        c("col.status"): [t(f"health.status.{s}", lang) for s in df["status"]],
        c("col.rows_loaded"): _int(df["rows_loaded"]),
        c("col.rows_rejected"): _int(df["rows_rejected"]),
        c("col.ingested_at"): [moment(v, lang) if not is_missing(v) else "" for v in df["ingested_at"]],
        c("col.latest_export"): [short_day(v, lang) for v in df["latest_export"]],
        c("col.stale"): [_yes_no(v, lang) for v in df["stale"]],
        c("col.message"): df["failure"].fillna(""),
    })
    return Table(frame, counts=(c("col.rows_loaded"), c("col.rows_rejected")))


def rejects_table(df: pd.DataFrame, lang: str) -> Table:
    c = lambda key: t(key, lang)  # noqa: E731
    frame = pd.DataFrame({
        c("col.day"): [t("col.reference", lang) if is_missing(v) else short_day(v, lang) for v in df["day"]],
        c("col.kind"): [t(f"feed.{k}", lang) if f"feed.{k}" in _FEEDS else k for k in df["kind"]],
        c("col.file"): df["file"],
        c("col.line"): _int(df["line"]),
        c("col.column"): df["column_name"].fillna(""),
        c("col.reason"): df["reason"].fillna(""),
        c("col.value"): df["value"].fillna(""),
    })
    return Table(frame)


_FEEDS = {f"feed.{k}" for k in ("control_zones", "testing_records", "isolation", "shifts", "checkpoint_log",
                                 "door_visits")}


def ingest_log_table(df: pd.DataFrame, lang: str) -> Table:
    c = lambda key: t(key, lang)  # noqa: E731
    frame = pd.DataFrame({
        c("col.ingested_at"): [moment(v, lang) for v in df["ingested_at"]],
        c("col.kind"): [t(f"feed.{k}", lang) if f"feed.{k}" in _FEEDS else k for k in df["kind"]],
        c("col.day"): [t("col.reference", lang) if is_missing(v) else short_day(v, lang) for v in df["day"]],
        c("col.file"): df["file"],
        c("col.status"): [t(f"health.status.{s}", lang) if f"health.status.{s}" in _STATUSES else s
                          for s in df["status"]],
        c("col.encoding"): df["encoding"].fillna(""),
        c("col.rows_read"): _int(df["rows_read"]),
        c("col.rows_loaded"): _int(df["rows_loaded"]),
        c("col.rows_rejected"): _int(df["rows_rejected"]),
        c("col.rows_skipped"): _int(df["rows_skipped"]),
        c("col.message"): df["message"].fillna(""),
    })
    return Table(frame, counts=(c("col.rows_read"), c("col.rows_loaded"), c("col.rows_rejected"),
                                c("col.rows_skipped")))


_STATUSES = {f"health.status.{s}" for s in ("loaded", "missing", "failed", "removed", "unchanged", "held",
                                                   "empty")}

