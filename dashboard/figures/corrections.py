"""What a correction (a re-exported day) changed, in words: "阳性 3→8"."""

from __future__ import annotations

from dashboard.i18n import enum, num, t

FIGURE_NAMES = {"rows": "figure.rows", "samples_on_day": "figure.samples_on_day",
                "positives_on_day": "figure.positives_on_day", "staff_on_duty": "figure.staff_on_duty"}


def changes(before: dict, after: dict, lang: str) -> str:
    """Every figure a correction changed, "阳性 3→8", or all of them when none changed."""
    def flat(figures: dict) -> dict:
        out = {}
        for key, value in figures.items():
            if isinstance(value, dict):
                kind = "level" if key == "zones_active" else "isolation_kind"
                out.update({enum(kind, part, lang): v for part, v in value.items()})
            else:
                out[t(FIGURE_NAMES.get(key, "figure.rows"), lang)] = value
        return out

    old, new = flat(before), flat(after)
    changed = [name for name in new if old.get(name) != new[name]] or list(new)
    return ("、" if lang == "zh" else ", ").join(f"{n} {num(old.get(n), lang)}→{num(new[n], lang)}" for n in changed)
