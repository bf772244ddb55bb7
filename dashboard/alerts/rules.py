"""The alerts' evaluation: the attention list's rules (figures/rules.py) at one instant, for the
whole district, as alerts with their severity and area.

One table for both: an alert is an item of the list whose rule has a severity (and, for a wait,
has reached the alert threshold). The instant matters: a shift that ends at 16:00 leaves a post
short at 16:00 with no new file, and a positive's wait counts to the instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dashboard.alerts.alert import Alert
from dashboard.figures.attention import alert_items, attention_inputs, latest_exports
from dashboard.figures.headline import WHOLE_DISTRICT, default_at, headline_figures
from dashboard.figures.rules import BY_KEY
from dashboard.settings import Thresholds

LANG = "zh"  # the groups on duty read Chinese


@dataclass(frozen=True)
class Evaluation:
    at: datetime
    alerts: list[Alert]
    # Rules that had data to be judged on: only an open alert of one of these may clear.
    evaluated_rules: frozenset[str]
    # The export day the figures came from; None when the snapshot holds no export yet.
    day: object = None


def evaluate(run, thresholds: Thresholds, at: datetime) -> Evaluation:
    """Every alert open at `at`. `run(name, **params)` runs a named query on the snapshot.

    A day with no export yet (the clock has passed the newest file) can be judged only on how old
    the feeds are: the rest is not evaluated, so nothing clears for want of data.
    """
    days = run("health/export_days")
    if days.empty:
        return Evaluation(at, [], frozenset())
    newest = days["day"].iloc[0].date()
    day = at.date()
    if day > newest:
        figures = headline_figures(run, newest, default_at(newest))
        inputs = dict(areas=run("map/areas"), latest_exports=latest_exports(figures), now=at)
        day = newest
    else:
        figures = headline_figures(run, day, at)
        inputs = attention_inputs(run, figures, day, WHOLE_DISTRICT, thresholds, names_allowed=False, now=at,
                                  instant=True)
    items, evaluated = alert_items(LANG, thresholds, inputs)
    alerts: dict[str, Alert] = {}
    for item in items:
        key = f"{item.kind}:{item.subject}"
        alerts.setdefault(key, Alert(key, item.kind, BY_KEY[item.kind].severity, item.area, item.text))
    return Evaluation(at, list(alerts.values()), frozenset(evaluated), day)

