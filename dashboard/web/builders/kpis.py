"""KPI cards for the overview: the headline figures of a day and of the previous export day in,
label / value / delta / help out, in the UI language.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from dashboard.figures.headline import HeadlineFigures
from dashboard.i18n import is_missing, label_on, literal, num, pct, short_day, t


@dataclass(frozen=True)
class Card:
    key: str
    label: str
    value: str
    delta: str | None
    help: str
    # "inverse" when a rise is bad news (positives, understaffed posts).
    tone: str = "off"
    # The day (or minute) the figure is of, as shown: read out after the label (kpi_strip).
    as_of: str = ""

    @property
    def unchanged(self) -> bool:
        return self.delta in ("+0", "+0.0 pp", "-0.0 pp")

    @property
    def delta_color(self) -> str:
        """Grey for "no change": a red or green +0 would read as news."""
        return "off" if self.unchanged else self.tone

    @property
    def delta_arrow(self) -> str:
        return "off" if self.unchanged else "auto"


def _delta(now, before, *, percent: bool = False) -> str | None:
    if is_missing(now) or is_missing(before):
        return None
    change = float(now) - float(before)
    if percent:
        return f"{change * 100:+.1f} pp"
    return f"{int(round(change)):+,}"


def kpi_cards(figures: HeadlineFigures, previous: HeadlineFigures | None, lang: str, *, day=None,
              previous_day=None) -> list[Card]:
    """Cards in reading order. A figure taken from an earlier export says so in its label
    and gets no delta, since it is not today's change."""

    def before(key: str):
        return getattr(previous, key) if previous else None

    help_delta = "\n\n" + t("kpi.delta_help", lang, day=short_day(previous_day, lang)) if previous_day else ""

    zones = figures.zones_active or {}
    zones_before = (before("zones_active") or {}) if previous else {}
    isolation = figures.isolation_active or {}
    isolation_before = (before("isolation_active") or {}) if previous else {}
    testing_fresh = figures.testing_day == day
    shifts_fresh = figures.shifts_day == day
    cards = []
    for level in ("sealed", "controlled", "precaution"):
        value = zones.get(level) if figures.zones_active is not None else None
        cards.append(Card(f"zones_{level}", t(f"kpi.zones_{level}", lang), num(value, lang),
                          _delta(value, zones_before.get(level)), t("kpi.help.zones", lang) + help_delta, "inverse"))
    cards.append(Card("population_sealed", t("kpi.population_sealed", lang), num(figures.population_sealed, lang),
                      _delta(figures.population_sealed, before("population_sealed")),
                      t("kpi.help.population_sealed", lang) + help_delta, "inverse"))
    cards.append(Card("samples", label_on("kpi.samples", figures.testing_day, day, lang),
                      num(figures.samples_on_day, lang),
                      _delta(figures.samples_on_day, before("samples_on_day")) if testing_fresh else None,
                      t("kpi.help.samples", lang) + help_delta, "normal"))
    cards.append(Card("positives", label_on("kpi.positives", figures.testing_day, day, lang),
                      num(figures.positives_on_day, lang),
                      _delta(figures.positives_on_day, before("positives_on_day")) if testing_fresh else None,
                      t("kpi.help.positives", lang) + help_delta, "inverse"))
    cards.append(Card("positives_awaiting_transfer", t("kpi.awaiting_transfer", lang),
                      num(figures.positives_awaiting_transfer, lang),
                      _delta(figures.positives_awaiting_transfer, before("positives_awaiting_transfer")),
                      t("kpi.help.awaiting_transfer", lang) + help_delta, "inverse"))
    round_ = figures.current_round
    label = t("kpi.round_coverage", lang, round=round_) if round_ is not None else t("kpi.round_coverage_none", lang)
    same_round = before("current_round") == round_
    cards.append(Card("round_coverage", label, pct(figures.round_coverage, lang),
                      _delta(figures.round_coverage, before("round_coverage"), percent=True)
                      if same_round else None, t("kpi.help.coverage", lang) + help_delta, "normal"))
    for kind in ("home", "home_monitoring", "centralized"):
        value = isolation.get(kind) if figures.isolation_active is not None else None
        cards.append(Card(f"isolation_{kind}", t(f"kpi.isolation_{kind}", lang), num(value, lang),
                          _delta(value, isolation_before.get(kind)), t("kpi.help.isolation", lang) + help_delta,
                          "inverse"))
    cards.append(Card("releases_due", t("kpi.releases_due", lang), num(figures.releases_due_next_day, lang),
                      _delta(figures.releases_due_next_day, before("releases_due_next_day")),
                      t("kpi.help.releases", lang) + help_delta))
    cards.append(Card("hotel_occupancy", t("kpi.hotel_occupancy", lang), pct(figures.hotel_occupancy, lang),
                      _delta(figures.hotel_occupancy, before("hotel_occupancy"), percent=True),
                      t("kpi.help.hotel", lang) + help_delta, "inverse"))
    on_duty, required = figures.staff_on_duty, figures.staff_required
    staff_value = t("no_data", lang) if on_duty is None else f"{num(on_duty, lang)} / {num(required, lang)}"
    cards.append(Card("staff_on_duty", label_on("kpi.staff_on_duty", figures.shifts_day, day, lang),
                      staff_value, _delta(on_duty, before("staff_on_duty")) if shifts_fresh else None,
                      t("kpi.help.staff", lang) + help_delta, "normal"))
    cards.append(Card("posts_understaffed",
                      label_on("kpi.posts_understaffed", figures.shifts_day, day, lang),
                      num(figures.posts_understaffed, lang),
                      _delta(figures.posts_understaffed, before("posts_understaffed")) if shifts_fresh else None,
                      t("kpi.help.understaffed", lang) + help_delta, "inverse"))
    return [replace(card, as_of=_as_of(card.key, figures, lang)) for card in cards]


# Card key -> the export kind its figure is counted from.
FEED_OF = {
    **{f"zones_{level}": "control_zones" for level in ("sealed", "controlled", "precaution")},
    "population_sealed": "control_zones",
    **dict.fromkeys(("samples", "positives", "round_coverage"), "testing_records"),
    **{f"isolation_{kind}": "isolation" for kind in ("home", "home_monitoring", "centralized")},
    **dict.fromkeys(("positives_awaiting_transfer", "releases_due", "hotel_occupancy"), "isolation"),
    **dict.fromkeys(("staff_on_duty", "posts_understaffed"), "shifts"),
}


def _as_of(key: str, figures: HeadlineFigures, lang: str) -> str:
    """The export day a card's figure comes from; "no data" before its feed's first export."""
    kind = FEED_OF.get(key)
    if kind == "testing_records":
        return short_day(figures.testing_day, lang)
    if kind == "shifts":
        return short_day(figures.shifts_day, lang)
    return short_day((figures.feeds.get(kind) or {}).get("latest_export"), lang)


# Card key -> (export kind, where its figure sits in a correction's before/after).
CORRECTED_FIGURES = {
    **{f"zones_{level}": ("control_zones", ("zones_active", level)) for level in ("sealed", "controlled", "precaution")},
    "samples": ("testing_records", ("samples_on_day",)),
    "positives": ("testing_records", ("positives_on_day",)),
    **{f"isolation_{kind}": ("isolation", ("isolation_active", kind)) for kind in ("home", "home_monitoring", "centralized")},
    "staff_on_duty": ("shifts", ("staff_on_duty",)),
}


def mark_corrected(cards: list[Card], figures: HeadlineFigures, corrections: list[dict], lang: str) -> list[Card]:
    """A card whose export was replaced by a re-export says "corrected", with the district's figure
    before and after the newest replacement in its help. corrections: the report's, newest first."""
    source_days = {
        "control_zones": (figures.feeds.get("control_zones") or {}).get("latest_export"),
        "isolation": (figures.feeds.get("isolation") or {}).get("latest_export"),
        "testing_records": figures.testing_day.isoformat() if figures.testing_day else None,
        "shifts": figures.shifts_day.isoformat() if figures.shifts_day else None,
    }
    marked = []
    for card in cards:
        kind, path = CORRECTED_FIGURES.get(card.key, (None, ()))
        newest = next((c for c in corrections if c["kind"] == kind and c["day"] == source_days.get(kind)), None)
        if newest is None:
            marked.append(card)
            continue
        note = t("kpi.corrected_help", lang, feed=t(f"feed.{kind}", lang), day=short_day(newest["day"], lang),
                 at=newest["ingested_at"].replace("T", " ")[:16], before=num(_dig(newest["before"], path), lang),
                 after=num(_dig(newest["after"], path), lang))
        marked.append(replace(card, label=f"{card.label} · {t('kpi.corrected', lang)}", help=f"{card.help}\n\n{note}"))
    return marked


# Card key -> the export kinds its figure is made from.
CARD_FEEDS = {
    **{f"zones_{level}": ("control_zones",) for level in ("sealed", "controlled", "precaution")},
    "population_sealed": ("control_zones",),
    "samples": ("testing_records",), "positives": ("testing_records",), "round_coverage": ("testing_records",),
    "positives_awaiting_transfer": ("testing_records", "isolation"),
    **{f"isolation_{kind}": ("isolation",) for kind in ("home", "home_monitoring", "centralized")},
    "releases_due": ("isolation",), "hotel_occupancy": ("isolation",),
    "staff_on_duty": ("shifts",), "posts_understaffed": ("shifts",),
}


def mark_partial(cards: list[Card], figures: HeadlineFigures, lang: str) -> list[Card]:
    """A card whose feed arrived from some of its senders only says "partial", and its help names who
    is missing: "截至 1月6日 · 部分报送：缺 蜜蜂张街道". A feed none of whose senders sent is stale,
    which the card says already. The names come from file names: the help is Markdown, so shown literally."""
    marked = []
    for card in cards:
        notes = []
        for kind in CARD_FEEDS.get(card.key, ()):
            feed = figures.feeds.get(kind) or {}
            if feed.get("missing_senders") and not feed.get("stale"):
                notes.append(t("kpi.partial_help", lang, day=short_day(feed["latest_export"], lang),
                               senders=t("list.sep", lang).join(
                    literal(sender) for sender in feed["missing_senders"])))
        if not notes:
            marked.append(card)
            continue
        marked.append(replace(card, label=f"{card.label} · {t('kpi.partial', lang)}",
                              help="\n\n".join([card.help, *notes])))
    return marked


def _dig(figures: dict, path: tuple[str, ...]):
    for step in path:
        figures = (figures or {}).get(step)
    return figures


# How long a figure the last ingest changed keeps its "新 / updated" chip.
CHANGE_MARK = timedelta(minutes=10)


def mark_changes(seen: dict | None, view: tuple, version: str, values: dict[str, str], now: datetime,
                 keep: timedelta = CHANGE_MARK) -> tuple[dict, set[str]]:
    """Which cards a snapshot swap changed: (what to remember, the keys to mark now).

    Only a new snapshot marks a card: the same view redrawn, or a different area or language
    chosen, marks nothing. A mark lasts `keep` after the swap that set it.
    """
    marked: dict[str, datetime] = {}
    if seen and seen.get("view") == view:
        marked = {key: at for key, at in seen["marked"].items() if now - at < keep}
        if seen["version"] != version:
            marked.update({key: now for key, value in values.items()
                           if key in seen["values"] and seen["values"][key] != value})
    return {"view": view, "version": version, "values": dict(values), "marked": marked}, set(marked)
