"""`python -m dashboard alerts --once | --watch`, and the tick the ingest watcher runs.

One process evaluates and sends: it holds an exclusive lock beside the snapshot
(`<db>.alerts.lock`) for as long as it runs (the ingest watcher by default, or `alerts --watch` where a deployment separates
them). A second one is refused, so replicas never evaluate, and a message is never sent twice
by two processes.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dashboard import settings as configured
from dashboard.alerts import deliver
from dashboard.alerts.rules import Evaluation, evaluate
from dashboard.alerts.store import AlertStore
from dashboard.figures.queries import Snapshot
from dashboard.ingest.ids import mask_ids
from dashboard.settings import Settings

OVERRIDE = "override"  # the destination every alert goes to with --post URL


class AlertsBusy(RuntimeError):
    """Another process evaluates and sends the alerts."""


@contextmanager
def exclusive(settings: Settings, wait_seconds: float = 0):
    """Hold the alerts' lock, waiting up to wait_seconds for it; AlertsBusy when another holds it."""
    lock = settings.db_path.with_name(settings.db_path.name + ".alerts.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise AlertsBusy(f"another process evaluates the alerts (it holds {lock}):"
                                     " the ingest watcher, or alerts --watch") from None
                time.sleep(0.5)
        yield
    finally:
        os.close(fd)  # releases the lock


@dataclass
class Alerting:
    """What one evaluating process needs between ticks: where the state is, where messages go,
    and when it last evaluated which snapshot."""

    settings: Settings
    post_url: str | None = None
    post: Callable = deliver.default_post
    last_version: str | None = None
    last_evaluated: datetime | None = None
    area_names: dict = field(default_factory=dict)
    store: AlertStore = field(init=False)

    def __post_init__(self):
        self.store = AlertStore(self.settings.alerts_db)
        self.delivery = configured.alert_delivery()

    def routes(self):
        if self.post_url:
            return lambda alert: [OVERRIDE]
        return deliver.routes_for(configured.alert_webhooks(), self.delivery.on_duty_min)

    def urls(self) -> dict[str, str]:
        return {OVERRIDE: self.post_url} if self.post_url else configured.alert_webhooks()

    def evaluate_and_record(self, at: datetime) -> Evaluation:
        snapshot = Snapshot(self.settings.db_path)
        try:
            self.last_version = snapshot.version()
            evaluation = evaluate(snapshot.run, self.settings.thresholds, at)
            self.area_names = dict(snapshot.run("map/areas")[["area_code", "name"]].itertuples(index=False))
        finally:
            snapshot.close()
        self.store.record(at, evaluation.alerts, evaluation.evaluated_rules, self.routes(),
                          timedelta(hours=self.delivery.renotify_hours))
        self.last_evaluated = at
        return evaluation

    def deliver(self, now: datetime):
        return deliver.deliver_due(self.store, now, self.urls(), self.delivery.mutes, post=self.post,
                                   area_names=self.area_names)

    def tick(self, now: datetime | None = None) -> str:
        """Evaluate when the snapshot changed or the clock's interval has passed, then send what
        is due at `now` (the machine's clock by default); a line saying what happened."""
        now = now or datetime.now().replace(microsecond=0)
        changed = self.settings.db_path.exists() and Snapshot(self.settings.db_path).version() != self.last_version
        due = self.last_evaluated is None or now - self.last_evaluated >= timedelta(seconds=self.delivery.interval_seconds)
        line = ""
        if self.settings.db_path.exists() and (changed or due):
            evaluation = self.evaluate_and_record(now)
            line = f"alerts at {now:%Y-%m-%d %H:%M}: {len(evaluation.alerts)} found, {self.store.open_count()} open"
        result = self.deliver(now)
        return mask_ids(f"{line}; {result.summary()}" if line else result.summary())


def once(settings: Settings, at: datetime | None, post_url: str | None, out=print) -> int:
    """Evaluate at `at` (now by default), record and deliver; exit 1 when anything is undelivered."""
    now = at or datetime.now().replace(second=0, microsecond=0)
    if not settings.db_path.exists():
        print(f"ERROR no snapshot at {settings.db_path}: run python -m dashboard ingest first", file=sys.stderr)
        return 1
    with exclusive(settings, wait_seconds=60):
        alerting = Alerting(settings, post_url)
        evaluation = alerting.evaluate_and_record(now)
        result = alerting.deliver(now)
    for alert in evaluation.alerts:
        out(mask_ids(f"{alert.severity:<8} {alert.area or '-':<12} {alert.text}"))
    out(mask_ids(f"{len(evaluation.alerts)} found, {alerting.store.open_count()} open at {now:%Y-%m-%d %H:%M}"
                 f" ({len(evaluation.evaluated_rules)} rules evaluated); {result.summary()}"))
    return 0 if result.all_sent else 1


def watch(settings: Settings, out=print, rounds: int | None = None) -> int:
    """Evaluate on every new snapshot and on the clock, and send, until stopped."""
    with exclusive(settings):
        alerting = Alerting(settings)
        done = 0
        while rounds is None or done < rounds:
            try:
                out(alerting.tick())
            except Exception as error:  # a pager must outlive one bad evaluation
                out(mask_ids(f"ERROR alerts: {type(error).__name__}: {error}"))
            done += 1
            if rounds is None or done < rounds:
                time.sleep(min(alerting.delivery.interval_seconds, 30))
    return 0
