"""Tables for what no single export shows: positives awaiting transfer, hotels against their rooms,
ledger slips, and corrections by re-exports. Query results in, display frames out."""

from __future__ import annotations

import pandas as pd

from dashboard.figures.corrections import changes
from dashboard.i18n import moment, short_day, t
from dashboard.web.builders.tables import Table, _int


def awaiting_table(df: pd.DataFrame, lang: str) -> Table:
    """One row per person, by short code only: never a key, a name or an ID number."""
    c = lambda key: t(key, lang)  # noqa: E731
    frame = pd.DataFrame({
        c("col.person_code"): df["person_code"],
        c("col.community"): df["community"].fillna(df["area_code"]),
        c("col.sampled_at"): [moment(v, lang) for v in df["sampled_at"]],
        c("col.hours_waiting"): _int(df["hours_waiting"]),
    })
    return Table(frame, counts=(c("col.hours_waiting"),))


def hotel_table(df: pd.DataFrame, lang: str) -> Table:
    """Centralized cases placed in each hotel against its rooms, fullest first."""
    c = lambda key: t(key, lang)  # noqa: E731
    capacity = df["capacity"].astype("Float64")
    placed = df["active"].astype("Float64")
    frame = pd.DataFrame({
        c("col.site"): df["name"],
        c("col.occupied"): _int(placed),
        c("col.capacity"): _int(capacity),
        c("col.free"): _int((capacity - placed).clip(lower=0)),
        c("col.over_capacity"): _int((placed - capacity).clip(lower=0)),
        c("col.occupancy"): df["occupancy"].astype("Float64"),
    })
    return Table(frame, percent=(c("col.occupancy"),),
                 counts=(c("col.occupied"), c("col.capacity"), c("col.free"), c("col.over_capacity")))


def conflicts_table(df: pd.DataFrame, lang: str) -> Table:
    c = lambda key: t(key, lang)  # noqa: E731
    frame = pd.DataFrame({
        c("col.problem"): [t(f"health.problem.{p}", lang) for p in df["problem"]],
        c("col.community"): df["community"].fillna(df["area_code"]),
        c("col.site"): df["site"].fillna(""),
        c("col.found"): _int(df["found"]),
    })
    return Table(frame, counts=(c("col.found"),))


def corrections_table(corrections: list[dict], lang: str) -> Table:
    c = lambda key: t(key, lang)  # noqa: E731
    frame = pd.DataFrame({
        c("col.ingested_at"): [moment(x["ingested_at"], lang) for x in corrections],
        c("col.kind"): [t(f"feed.{x['kind']}", lang) for x in corrections],
        c("col.day"): [short_day(x["day"], lang) for x in corrections],
        c("col.message"): [changes(x["before"], x["after"], lang) for x in corrections],
    }, columns=[c("col.ingested_at"), c("col.kind"), c("col.day"), c("col.message")])
    return Table(frame)
