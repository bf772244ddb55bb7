"""The rule table: every rule the attention list shows and the alerts send, in one place.

A rule's place in KINDS is its rank on the list; its severity says whether it alerts and how
urgently (None: the list only); `needs` names the input it is found from, so an evaluation that
had no data for that input knows the rule was not evaluated (and an open alert of it stays open:
a feed that went silent never clears an alert). Adding a rule is one entry here plus the function
that finds its items (figures/attention.py, figures/data_checks.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    key: str
    # The attention_items input the rule reads: None there means the rule was not evaluated.
    needs: str
    # Many items of a low-severity kind in one street read as one line for that street.
    collapse_per_street: bool = False
    # Red, orange, yellow or grey on the list: how urgent the kind is at a glance.
    tone: str = "red"
    # "critical", "high" or "low" (alerts/alert.py SEVERITIES); None: shown on the list, never sent.
    severity: str | None = None
    # A Thresholds field the item's badness must reach before it alerts (the list shows every item).
    alert_from: str | None = None
    # False for a rule the pages already say elsewhere (a stale feed has its red banner).
    listed: bool = True


# Most urgent first.
KINDS: tuple[Kind, ...] = (
    # A feed whose newest export ended long ago: every page's banner says so; an alert says it at night.
    Kind("feed_stale", needs="latest_exports", severity="high", listed=False),
    Kind("understaffed_now", needs="posts_now", severity="critical"),
    # Alerts from the transfer threshold on; the list shows every wait.
    Kind("awaiting_transfer", needs="awaiting", severity="critical", alert_from="transfer_alert_hours"),
    Kind("understaffed_soon", needs="posts_ahead", severity="high"),
    Kind("hotel_full", needs="hotels", severity="high"),
    Kind("positive_uncontained", needs="positives", tone="orange", severity="high"),
    Kind("releases_overdue", needs="overdue", tone="orange", severity="high"),
    # A re-export was held back (far fewer rows): the figures shown are the previous file's.
    Kind("held", needs="held", tone="orange", severity="low"),
    # A sender expected for the day sent nothing by its due time: its part is its last file's.
    Kind("sender_missing", needs="reporting", tone="orange", severity="high"),
    # A figure already on screen changed under a re-export: say so, below what needs action.
    Kind("correction", needs="corrections", tone="orange"),
    # Data that contradicts itself (DHIS2's validation rules): a feed to check, not a fact to act on.
    Kind("positives_over_samples", needs="positives", tone="grey", severity="low"),
    Kind("hotel_over_rooms", needs="hotels", tone="grey", severity="low"),
    Kind("coverage_over_full", needs="coverage", tone="grey", severity="low"),
    Kind("outlier", needs="trend", tone="grey", severity="low"),
    # Sent, but after its due time: the figures are whole, the habit is worth a word.
    Kind("sender_late", needs="reporting", tone="grey"),
    Kind("lift_review", needs="zones", collapse_per_street=True, tone="yellow"),
    Kind("coverage", needs="coverage", collapse_per_street=True, tone="yellow"),
    Kind("fatigue", needs="fatigue", tone="grey"),
)
BY_KEY = {kind.key: kind for kind in KINDS}
RANK = {kind.key: rank for rank, kind in enumerate(KINDS)}
COLLAPSING = {kind.key for kind in KINDS if kind.collapse_per_street}
TONES = {kind.key: kind.tone for kind in KINDS}
ALERTING = {kind.key for kind in KINDS if kind.severity}


@dataclass(frozen=True)
class Item:
    kind: str
    text: str
    # How bad, within its kind: larger first (a bigger shortfall, a lower coverage...).
    badness: float = 0.0
    street: str = ""  # the street code, for the kinds that collapse per street
    # The single lines a per-street line stands for, for the normal view to expand.
    details: tuple[str, ...] = ()
    # What the item is about (a post, a community, a hotel, a feed), stable while it lasts: an
    # alert's identity with the kind. And the area code it concerns, for routing ("" the district).
    subject: str = ""
    area: str = ""

    @property
    def rank(self) -> int:
        return RANK[self.kind]


def evaluated(inputs: dict) -> set[str]:
    """The rules whose input was given (not None): only they may say an alert has cleared."""
    return {kind.key for kind in KINDS if inputs.get(kind.needs) is not None}


def alerts_on(item: Item, thresholds) -> bool:
    """Whether an item of the list is also an alert: its rule has a severity and, where the rule
    alerts from a threshold, the item has reached it."""
    kind = BY_KEY[item.kind]
    if kind.severity is None:
        return False
    return kind.alert_from is None or item.badness >= getattr(thresholds, kind.alert_from)


def subject_of(row, column: str) -> str:
    """A row's post, community or hotel code for an item, "" where the frame has none (a
    district-wide sender, or a hand-made frame without the column)."""
    value = getattr(row, column, None)
    return "" if value is None or value != value else str(value)  # NaN is not equal to itself
