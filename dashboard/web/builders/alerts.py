"""The alerts page's tables (issue 20): open alerts, their history, who was notified when, and
the delivery log. Pure: the store's rows (dicts) in, a Table out; table_view escapes every cell."""

from __future__ import annotations

import pandas as pd

from dashboard.alerts.alert import SEVERITIES
from dashboard.i18n import literal, moment, num, t
from dashboard.web.builders.kpis import Card
from dashboard.web.builders.tables import Table


def when(value, lang: str) -> str:
    return moment(pd.Timestamp(value), lang) if value else ""


def area_label(area: str, names: dict[str, str], lang: str) -> str:
    return literal(names.get(area, area)) if area else t("sidebar.whole_district", lang)


def destination_label(destination: str, names: dict[str, str], lang: str) -> str:
    """A robot's name as people know it: 值班群, 全区群, or the area's group; never its URL."""
    if destination in ("on_duty", "district", "override"):
        return t(f"alerts.destination.{destination}", lang)
    return t("alerts.destination.area", lang, area=literal(names.get(destination, destination)))


def count_cards(rows: list[dict], evaluated_at, lang: str) -> list[Card]:
    """The open alerts counted, then by severity; each card says when they were last evaluated."""
    at = when(evaluated_at, lang) or t("no_data", lang)
    help_ = t("alerts.kpi.help", lang, at=at)
    cards = [Card("alerts_open", t("alerts.kpi.open", lang), num(len(rows), lang), None, help_, as_of=at)]
    for severity in SEVERITIES:
        label = t("alerts.kpi.severity", lang, severity=t(f"alerts.severity.{severity}", lang))
        count = sum(row["severity"] == severity for row in rows)
        cards.append(Card(f"alerts_{severity}", label, num(count, lang), None, help_, as_of=at))
    return cards


def alerts_table(rows: list[dict], names: dict[str, str], lang: str, *, resolved: bool) -> Table:
    """One row per alert: severity, rule, area, what, since when, last sent (and cleared when)."""
    c = lambda key: t(key, lang)  # noqa: E731
    columns = {
        c("alerts.col.severity"): [t(f"alerts.severity.{row['severity']}", lang) for row in rows],
        c("alerts.col.rule"): [t(f"attention.kind.{row['rule']}", lang) for row in rows],
        c("alerts.col.area"): [area_label(row["area"], names, lang) for row in rows],
        c("alerts.col.text"): [row["text"] for row in rows],
        c("alerts.col.opened"): [when(row["opened_at"], lang) for row in rows],
        c("alerts.col.notified"): [when(row["last_notified_at"], lang) for row in rows],
    }
    if resolved:
        columns[c("alerts.col.resolved")] = [when(row.get("resolved_at"), lang) or c("alerts.still_open")
                                             for row in rows]
    return Table(pd.DataFrame(columns))


def notifications_table(rows: list[dict], names: dict[str, str], lang: str) -> Table:
    """Who was notified when: one row per message and robot, with its state and last error."""
    c = lambda key: t(key, lang)  # noqa: E731
    return Table(pd.DataFrame({
        c("alerts.col.created"): [when(row["created_at"], lang) for row in rows],
        c("alerts.col.event"): [t(f"alerts.event.{row['event']}", lang) for row in rows],
        c("alerts.col.destination"): [destination_label(row["destination"], names, lang) for row in rows],
        c("alerts.col.text"): [row["text"] for row in rows],
        c("alerts.col.status"): [t(f"alerts.status.{row['status']}", lang) for row in rows],
        c("alerts.col.sent"): [when(row.get("sent_at"), lang) for row in rows],
        c("alerts.col.attempts"): [int(row.get("attempts") or 0) for row in rows],
        c("alerts.col.error"): [row.get("last_error") or "" for row in rows],
    }), counts=(c("alerts.col.attempts"),))


def delivery_log_table(rows: list[dict], names: dict[str, str], lang: str) -> Table:
    """Every attempt to post, failures included: when, to whom, and why it failed."""
    c = lambda key: t(key, lang)  # noqa: E731
    return Table(pd.DataFrame({
        c("alerts.col.attempted"): [when(row["attempted_at"], lang) for row in rows],
        c("alerts.col.destination"): [destination_label(row["destination"], names, lang) for row in rows],
        c("alerts.col.status"): [c("alerts.delivered") if row["ok"] else c("alerts.failed") for row in rows],
        c("alerts.col.error"): [row.get("error") or "" for row in rows],
    }))
