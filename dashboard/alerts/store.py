"""The alerts' state: which alerts are open, the outbox of messages to send, and every attempt.

One SQLite file beside the snapshot (`<db>.alerts.sqlite`), written by the one evaluating process
and read by the pages of every replica. Evaluation and the messages it makes are one
transaction, so a process killed after evaluating sends them once after its restart, and one
that restarts never starts an open alert again. Destinations are names (an area code,
"district", "on_duty", "override"), never URLs: a robot's URL carries its key.

Times are naive local datetimes passed in by the caller (the tests' clock), stored as ISO text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from dashboard.alerts.alert import Alert
from dashboard.ingest.ids import mask_ids

SCHEMA = """
create table if not exists alerts (
    id integer primary key autoincrement,
    key text not null, rule text not null, severity text not null, area text not null, text text not null,
    opened_at text not null, last_notified_at text not null, resolved_at text,
    destinations text not null
);
create unique index if not exists one_open_alert on alerts (key) where resolved_at is null;
create table if not exists messages (
    id integer primary key autoincrement,
    alert_id integer references alerts (id), event text not null, severity text not null, area text not null,
    text text not null, created_at text not null, destination text not null,
    status text not null default 'pending', attempts integer not null default 0, next_try_at text,
    sent_at text, last_error text, muted_until text
);
create index if not exists messages_to_send on messages (destination, status, id);
create table if not exists deliveries (
    id integer primary key autoincrement,
    message_id integer not null references messages (id), destination text not null, attempted_at text not null,
    ok integer not null, error text
);
create table if not exists evaluations (
    at text not null, open integer not null, evaluated_rules text not null
);
"""


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


# An area prefix: "" is everything; a street sees its own subtree only, not the district-wide
# alerts (area "").
IN_AREA = "(:area = '' or (area != '' and substr(area, 1, length(:area)) = :area))"


class AlertStore:
    def __init__(self, path: Path, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        else:
            con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        return con

    def _rows(self, sql: str, params: dict | tuple = ()) -> list[dict]:
        con = self._connect()
        try:
            return [dict(row) for row in con.execute(sql, params)]
        finally:
            con.close()

    # ------------------------------------------------------------------ writing: the evaluating process

    def record(self, at: datetime, alerts: Iterable[Alert], evaluated_rules: Iterable[str],
               routes: Callable[[Alert], list[str]], renotify: timedelta) -> list[int]:
        """Diff one evaluation against the open alerts, in one transaction: a new alert starts (one
        message per destination), one still open is re-notified once `renotify` has passed since it
        last was, one that an evaluated rule no longer finds resolves. An open alert whose rule was
        not evaluated (no data for it) is left as it is. The new messages' ids."""
        evaluated = set(evaluated_rules)
        # The rules name places and counts only; masking here keeps an ID number out of the file anyway.
        found = {alert.key: replace(alert, text=mask_ids(alert.text)) for alert in alerts}
        new_messages: list[int] = []
        con = self._connect()
        try:
            with con:
                con.execute("begin immediate")
                open_now = {row["key"]: dict(row) for row in con.execute("select * from alerts where resolved_at is null")}
                for key, alert in found.items():
                    if key not in open_now:
                        destinations = list(dict.fromkeys(routes(alert)))
                        cursor = con.execute(
                            "insert into alerts (key, rule, severity, area, text, opened_at, last_notified_at,"
                            " destinations) values (?, ?, ?, ?, ?, ?, ?, ?)",
                            (key, alert.rule, alert.severity, alert.area, alert.text, _iso(at), _iso(at),
                             ",".join(destinations)))
                        new_messages += self._enqueue(con, cursor.lastrowid, "start", alert, at, destinations)
                        continue
                    row = open_now[key]
                    con.execute("update alerts set text = ?, severity = ? where id = ?",
                                (alert.text, alert.severity, row["id"]))
                    if at - datetime.fromisoformat(row["last_notified_at"]) >= renotify:
                        con.execute("update alerts set last_notified_at = ? where id = ?", (_iso(at), row["id"]))
                        new_messages += self._enqueue(con, row["id"], "renotify", alert, at,
                                                      row["destinations"].split(","))
                for key, row in open_now.items():
                    if key in found or row["rule"] not in evaluated:
                        continue
                    con.execute("update alerts set resolved_at = ? where id = ?", (_iso(at), row["id"]))
                    alert = Alert(key, row["rule"], row["severity"], row["area"], row["text"])
                    new_messages += self._enqueue(con, row["id"], "resolve", alert, at, row["destinations"].split(","))
                con.execute("insert into evaluations values (?, ?, ?)",
                            (_iso(at), len(found), ",".join(sorted(evaluated))))
        finally:
            con.close()
        return new_messages

    @staticmethod
    def _enqueue(con, alert_id, event: str, alert: Alert, at: datetime, destinations: list[str]) -> list[int]:
        ids = []
        for destination in destinations:
            if not destination:
                continue
            cursor = con.execute(
                "insert into messages (alert_id, event, severity, area, text, created_at, destination)"
                " values (?, ?, ?, ?, ?, ?, ?)",
                (alert_id, event, alert.severity, alert.area, alert.text, _iso(at), destination))
            ids.append(cursor.lastrowid)
        return ids

    def connect(self) -> sqlite3.Connection:
        """A connection for delivery's own transactions (deliver.py)."""
        return self._connect()

    # ------------------------------------------------------------------ reading: the pages and the report

    def open_alerts(self, area: str = "") -> list[dict]:
        return self._rows("select * from alerts where resolved_at is null and " + IN_AREA +
                          " order by case severity when 'critical' then 0 when 'high' then 1 else 2 end, opened_at",
                          {"area": area})

    def open_count(self, area: str = "") -> int:
        return self._rows("select count(*) as n from alerts where resolved_at is null and " + IN_AREA,
                          {"area": area})[0]["n"]

    def history(self, area: str = "", limit: int = 200) -> list[dict]:
        return self._rows("select * from alerts where " + IN_AREA + " order by opened_at desc, id desc limit :limit",
                          {"area": area, "limit": limit})

    def notifications(self, area: str = "", limit: int = 500) -> list[dict]:
        """Messages, newest first; a summary has no area of its own, so a street sees the summaries
        sent to its own robot."""
        return self._rows("select * from messages where (" + IN_AREA + " or (event = 'summary' and :area != ''"
                          " and substr(destination, 1, length(:area)) = :area)) order by id desc limit :limit",
                          {"area": area, "limit": limit})

    def delivery_log(self, limit: int = 200) -> list[dict]:
        return self._rows("select * from deliveries order by id desc limit :limit", {"limit": limit})

    def last_evaluated(self) -> datetime | None:
        rows = self._rows("select max(at) as at from evaluations")
        return datetime.fromisoformat(rows[0]["at"]) if rows and rows[0]["at"] else None
