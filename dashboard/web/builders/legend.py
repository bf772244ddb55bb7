"""The map's legend, read from the layers a deck actually draws, so it never names a layer that
is not on the map nor leaves one out. Pure: a deck in, entries (and their escaped HTML) out.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pydeck as pdk

from dashboard.i18n import enum, pct, t
from dashboard.web.builders.overlays import (
    ISOLATION_COLOR,
    LEVEL_COLORS,
    OUTLINED_LEVELS,
    POST_OK,
    POST_SHORT,
    coverage_color,
)


@dataclass(frozen=True)
class Entry:
    color: tuple[int, int, int]
    label: str
    shape: str = "square"  # or "dot"
    outlined: bool = False  # ringed like 封控 on the map, so the level reads without its colour


def _rgb(color) -> tuple[int, int, int]:
    return int(color[0]), int(color[1]), int(color[2])


def legend_for(deck: pdk.Deck, lang: str, coverage_target: float = 0.95) -> list[Entry]:
    """One entry per colour of every overlay the deck draws, in the order they are stacked."""
    drawn = {layer.id for layer in deck.layers}
    entries: list[Entry] = []
    if "communities" in drawn and not any(layer.type == "GeoJsonLayer" for layer in deck.layers):
        entries.append(Entry((100, 116, 139), t("legend.community_points", lang), "dot"))
    if "coverage" in drawn:
        entries += [
            Entry(_rgb(coverage_color(coverage_target, coverage_target)),
                  t("legend.coverage_ok", lang, target=pct(coverage_target, lang))),
            Entry(_rgb(coverage_color(coverage_target * 0.8, coverage_target)), t("legend.coverage_low", lang)),
            Entry(_rgb(coverage_color(coverage_target / 2, coverage_target)),
                  t("legend.coverage_far", lang, half=pct(coverage_target / 2, lang))),
        ]
    if {"zones-area", "zones-point"} & drawn:
        entries += [Entry(_rgb(color), enum("level", level, lang), outlined=level in OUTLINED_LEVELS)
                    for level, color in LEVEL_COLORS.items()]
    if "isolation" in drawn:
        entries.append(Entry(_rgb(ISOLATION_COLOR), t("legend.isolation", lang), "dot"))
    if "posts" in drawn:
        entries += [Entry(_rgb(POST_OK), t("legend.post_ok", lang), "dot"),
                    Entry(_rgb(POST_SHORT), t("legend.post_short", lang), "dot")]
    return entries


def legend_html(entries: list[Entry]) -> str:
    """The entries as one line of swatches; every label is escaped."""
    items = "".join(
        f'<span class="map-legend-item"><span class="map-legend-swatch map-legend-{entry.shape}'
        f'{" map-legend-sealed" if entry.outlined else ""}" '
        f'style="background: rgb{entry.color}"></span>{html.escape(entry.label)}</span>'
        for entry in entries)
    return f'<div class="map-legend">{items}</div>' if items else ""
