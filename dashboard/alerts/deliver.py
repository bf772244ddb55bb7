"""Sending the alerts' messages: who gets what, mute timings and their morning summary, and
retries that never drop a message or break its order.

Per robot, messages go strictly in the order they were made: when the oldest waits for its
backoff, nothing after it is sent. A failed post is retried after 30 s, doubling to 15 min,
for as long as it takes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from dashboard.alerts.alert import SEVERITIES, Alert
from dashboard.alerts.store import AlertStore
from dashboard.briefing import send
from dashboard.briefing.document import ROBOT_LIMIT_BYTES
from dashboard.ingest.ids import mask_ids
from dashboard.settings import ON_DUTY, WHOLE_DISTRICT, Mute

__all__ = ["Mute", "DeliveryResult", "deliver_due", "default_post", "routes_for", "message_payload"]

FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(minutes=15)
SEVERITY_WORDS = {"critical": "紧急", "high": "重要", "low": "一般"}
# Lines of still-open alerts a mute's summary lists before "另有 N 条".
SUMMARY_LINES = 10


def default_post(url: str, message: dict) -> None:
    """One attempt: retrying is the queue's job, not a sleep's."""
    send.post(url, message, attempts=1)


def routes_for(webhooks: dict[str, str], on_duty_min: str) -> Callable[[Alert], list[str]]:
    """Where an alert goes: the robot of every configured area that contains its area (its
    street's, its community's), and the on-duty group's (else the district's) when it is at
    least `on_duty_min` or no area robot took it, so that no alert has nowhere to go."""
    duty = ON_DUTY if ON_DUTY in webhooks else WHOLE_DISTRICT
    areas = [code for code in webhooks if code not in (ON_DUTY, WHOLE_DISTRICT)]

    def routes(alert: Alert) -> list[str]:
        found = [code for code in sorted(areas, key=len) if alert.area and alert.area.startswith(code)]
        if not found or SEVERITIES.index(alert.severity) <= SEVERITIES.index(on_duty_min):
            found.append(duty)
        return found

    return routes


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0
    pending: int = 0
    muted: int = 0
    # Destination names (never URLs) with the reason the last post to each failed.
    problems: tuple[str, ...] = ()

    @property
    def all_sent(self) -> bool:
        return self.pending == 0

    def summary(self) -> str:
        line = f"sent {self.sent}, failed {self.failed}, queued {self.pending}, muted {self.muted}"
        return line + ("; " + "; ".join(self.problems) if self.problems else "")


def _when(text: str) -> str:
    return datetime.fromisoformat(text).strftime("%m-%d %H:%M")


def message_payload(message: dict, area_names: dict[str, str]) -> dict:
    """The robot's markdown message (WeCom and DingTalk take this shape, as the briefing does)."""
    area = area_names.get(message["area"], message["area"]) if message["area"] else "全区"
    severity = SEVERITY_WORDS.get(message["severity"], message["severity"])
    event = message["event"]
    if event == "start":
        head = f"**【{severity}告警】{area}** {_when(message['created_at'])}"
    elif event == "renotify":
        since = message.get("opened_at") or message["created_at"]
        hours = (datetime.fromisoformat(message["created_at"]) - datetime.fromisoformat(since)).total_seconds() / 3600
        head = f"**【{severity}·再次提醒】{area}** 仍未解除，已持续 {hours:.0f} 小时（自 {_when(since)}）"
    elif event == "resolve":
        head = f"**【已解除】{area}** {_when(message['created_at'])}"
    else:
        head = ""
    content = mask_ids(f"{head}\n> {message['text']}" if head else message["text"])
    while len(content.encode()) > ROBOT_LIMIT_BYTES:
        content = content[: len(content) * 9 // 10]
    return {"msgtype": "markdown", "markdown": {"content": content}}


def _backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def _mute_end(mute: Mute, now: datetime) -> datetime:
    end = datetime.combine(now.date(), mute.end)
    return end if end > now else end + timedelta(days=1)


def _hold_muted(store: AlertStore, now: datetime, mutes) -> int:
    """Pending messages of a muted severity are held (not posted) until their mute ends."""
    held = 0
    con = store.connect()
    try:
        with con:
            for row in con.execute("select id, severity from messages where status = 'pending' and event != 'summary'"
                                   ).fetchall():
                mute = next((m for m in mutes if m.covers(row["severity"], now)), None)
                if mute is not None:
                    con.execute("update messages set status = 'muted', muted_until = ? where id = ?",
                                (_mute_end(mute, now).isoformat(timespec="seconds"), row["id"]))
                    held += 1
    finally:
        con.close()
    return held


def _summarise_ended_mutes(store: AlertStore, now: datetime, area_names: dict[str, str]) -> None:
    """Once a mute is over, each robot gets one summary of what it held instead of the messages."""
    con = store.connect()
    try:
        with con:
            rows = con.execute(
                "select messages.*, alerts.resolved_at as alert_resolved_at, alerts.text as alert_text from messages"
                " left join alerts on alerts.id = messages.alert_id"
                " where status = 'muted' and muted_until <= ? order by messages.id",
                (now.isoformat(timespec="seconds"),)).fetchall()
            by_destination: dict[str, list] = {}
            for row in rows:
                by_destination.setdefault(row["destination"], []).append(row)
            for destination, held in by_destination.items():
                con.execute("insert into messages (alert_id, event, severity, area, text, created_at, destination)"
                            " values (null, 'summary', ?, '', ?, ?, ?)",
                            (min((r["severity"] for r in held), key=SEVERITIES.index),
                             _summary_text(held, area_names), now.isoformat(timespec="seconds"), destination))
                con.executemany("update messages set status = 'summarised' where id = ?", [(r["id"],) for r in held])
    finally:
        con.close()


def _summary_text(held: list, area_names: dict[str, str]) -> str:
    started = sum(row["event"] == "start" for row in held)
    resolved = sum(row["event"] == "resolve" for row in held)
    still_open = list(dict.fromkeys(row["alert_text"] for row in held if row["alert_resolved_at"] is None
                                    and row["alert_text"]))
    first, last = _when(held[0]["created_at"]), _when(held[-1]["created_at"])
    lines = [f"**【静默期汇总】** {first} 至 {last} 静默期间的{SEVERITY_WORDS[held[0]['severity']]}告警："
             f"开始 {started} 条，解除 {resolved} 条，仍未解除 {len(still_open)} 条"]
    lines += [f"> {text}" for text in still_open[:SUMMARY_LINES]]
    if len(still_open) > SUMMARY_LINES:
        lines.append(f"> 另有 {len(still_open) - SUMMARY_LINES} 条")
    return "\n".join(lines)


def deliver_due(store: AlertStore, now: datetime, urls: dict[str, str], mutes=(), post=default_post,
                area_names: dict[str, str] | None = None) -> DeliveryResult:
    """Send what is due at `now`: hold what a mute covers, summarise what a finished mute held,
    then post each robot's pending messages in order until one fails or waits for its backoff."""
    names = area_names or {}
    result = DeliveryResult(muted=_hold_muted(store, now, mutes))
    _summarise_ended_mutes(store, now, names)
    problems = []
    con = store.connect()
    try:
        pending = con.execute(
            "select messages.*, alerts.opened_at from messages left join alerts on alerts.id = messages.alert_id"
            " where status = 'pending' order by messages.destination, messages.id").fetchall()
        blocked: set[str] = set()
        for row in pending:
            message, destination = dict(row), row["destination"]
            if destination in blocked:
                result.pending += 1
                continue
            if row["next_try_at"] and datetime.fromisoformat(row["next_try_at"]) > now:
                blocked.add(destination)
                result.pending += 1
                continue
            url = urls.get(destination)
            error = None if url else f"no robot configured for {destination}"
            if url:
                try:
                    post(url, message_payload(message, names))
                except Exception as failure:  # noqa: BLE001  (a robot down must never lose the message)
                    # NotSent never quotes the URL; anything else is named by its type alone.
                    error = str(failure) if isinstance(failure, send.NotSent) else type(failure).__name__
            at = now.isoformat(timespec="seconds")
            with con:
                con.execute("insert into deliveries (message_id, destination, attempted_at, ok, error)"
                            " values (?, ?, ?, ?, ?)", (row["id"], destination, at, error is None, error))
                if error is None:
                    con.execute("update messages set status = 'sent', sent_at = ?, attempts = attempts + 1,"
                                " last_error = null where id = ?", (at, row["id"]))
                else:
                    retry = (now + _backoff(row["attempts"] + 1)).isoformat(timespec="seconds")
                    con.execute("update messages set attempts = attempts + 1, next_try_at = ?, last_error = ?"
                                " where id = ?", (retry, error, row["id"]))
            if error is None:
                result.sent += 1
            else:
                result.failed += 1
                result.pending += 1
                blocked.add(destination)
                problems.append(f"{destination}: {error}")
    finally:
        con.close()
    result.problems = tuple(mask_ids(problem) for problem in problems)
    return result
