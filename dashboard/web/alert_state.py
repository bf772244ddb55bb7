"""The alerts' state as the pages read it: the store the evaluating process writes, opened only
when it exists (a page never creates it), and the count of open alerts for the wall."""

from __future__ import annotations

from dashboard.alerts.store import AlertStore
from dashboard.web import cache


def store() -> AlertStore | None:
    """The alerts' store, or None when no process has evaluated alerts yet."""
    path = cache.settings().alerts_db
    return AlertStore(path, read_only=True) if path.exists() else None


def open_count(area: str) -> int | None:
    """How many alerts are open in the area; None when alerts have never been evaluated (never 0)."""
    opened = store()
    return None if opened is None else opened.open_count(area)
