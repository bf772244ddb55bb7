"""What an alert is: one broken rule about one subject, while it lasts."""

from __future__ import annotations

from dataclasses import dataclass

# Most urgent first. A rule's severity is its entry in figures/attention.KINDS.
SEVERITIES = ("critical", "high", "low")


@dataclass(frozen=True)
class Alert:
    """One rule broken by one subject (a post, a community, a hotel, a feed, a sender).

    `key` ("<rule>:<subject>") stays the same while the condition lasts, so an evaluation that
    finds it again continues the same alert. `text` is one line in Chinese, naming places and
    counts, never a person's name or an ID number.
    """

    key: str
    rule: str
    severity: str
    area: str  # the area code it concerns; "" is the whole district
    text: str
