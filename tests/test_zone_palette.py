"""The zone levels stay apart without hue: the palette checked for deuteranopia and protanopia, on the
desk's light map and the wall's dark one, and 封控 marked beyond colour on the map and in its legend.

The colour science is written here, independently of the product: sRGB decoding, the Machado,
Oliveira & Fernandes (2009) severity-1.0 matrices applied in linear RGB, CIELAB (D65) with the
CIE76 ΔE, and WCAG 2 relative luminance.
"""

from __future__ import annotations

import itertools
import json
from datetime import date

import pandas as pd
import pytest

from dashboard.web.builders import legend, maps, shapes
from dashboard.web.builders.overlays import LEVEL_COLORS

# Machado et al. 2009, Table 1, severity 1.0 (rows give linear R, G, B from linear R, G, B).
DEUTERANOPIA = ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881))
PROTANOPIA = ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998))
VISIONS = {"normal": None, "deuteranopia": DEUTERANOPIA, "protanopia": PROTANOPIA}

# Two levels must stay apart for a dichromat by both measures. ΔE76 ≥ 20 is about ten just-noticeable
# differences (≈ 2.3): small patches on a busy map need far more than the JND to read as different
# categories. A luminance ratio ≥ 1.5 is the lightness step alone (about 15 L* in these tones), so the
# levels differ even with no hue at all, on a greyscale print or to an achromat.
MIN_DELTA_E = 20.0
MIN_LUMINANCE_RATIO = 1.5
# A zone must stand out from the map's own background: the same ΔE, after its alpha is composited.
MIN_DELTA_E_ON_MAP = 20.0

OLD_LEVEL_COLORS = {"sealed": (220, 38, 38), "controlled": (245, 140, 30), "precaution": (234, 196, 20)}
SEVERITY = ("sealed", "controlled", "precaution")  # most severe first


def linear(channel: float) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def encoded(value: float) -> float:
    v = min(1.0, max(0.0, value))
    return 255 * (12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055)


def seen(rgb, vision: str) -> tuple[float, float, float]:
    matrix = VISIONS[vision]
    if matrix is None:
        return tuple(float(c) for c in rgb)
    lin = [linear(c) for c in rgb]
    return tuple(encoded(sum(row[j] * lin[j] for j in range(3))) for row in matrix)


def luminance(rgb) -> float:
    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def luminance_ratio(a, b) -> float:
    lighter, darker = sorted((luminance(a), luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def lab(rgb) -> tuple[float, float, float]:
    r, g, b = (linear(c) for c in rgb)
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047  # sRGB to XYZ (IEC 61966-2-1), D65 white
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def delta_e(a, b) -> float:
    return sum((p - q) ** 2 for p, q in zip(lab(a), lab(b))) ** 0.5


def composited(rgba, background) -> tuple[float, float, float]:
    alpha = rgba[3] / 255
    return tuple(alpha * f + (1 - alpha) * b for f, b in zip(rgba[:3], background[:3]))


def pairs_apart(palette: dict) -> list[str]:
    """Every pair of levels a dichromat could not tell apart, with its figures."""
    close = []
    for vision in ("deuteranopia", "protanopia"):
        for (a, color_a), (b, color_b) in itertools.combinations(palette.items(), 2):
            seen_a, seen_b = seen(color_a, vision), seen(color_b, vision)
            de, ratio = delta_e(seen_a, seen_b), luminance_ratio(seen_a, seen_b)
            if de < MIN_DELTA_E or ratio < MIN_LUMINANCE_RATIO:
                close.append(f"{vision} {a}/{b}: ΔE76 {de:.1f}, luminance ratio {ratio:.2f}")
    return close


# ---------------------------------------------------------------- the colour science itself

def test_the_helpers_match_published_values():
    assert lab((255, 255, 255)) == pytest.approx((100.0, 0.0, 0.0), abs=0.01)
    assert lab((255, 0, 0)) == pytest.approx((53.24, 80.09, 67.20), abs=0.05)  # sRGB red in CIELAB D65
    assert luminance((255, 0, 0)) == pytest.approx(0.2126)
    assert luminance_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    for matrix in (DEUTERANOPIA, PROTANOPIA):  # greys stay grey for a dichromat
        assert [sum(row) for row in matrix] == pytest.approx([1.0, 1.0, 1.0], abs=1e-4)
    assert seen((128, 128, 128), "deuteranopia") == pytest.approx((128, 128, 128), abs=0.1)
    # Red and green, which a deuteranope confuses, come out far closer than they went in.
    assert delta_e(seen((220, 38, 38), "deuteranopia"), seen((34, 160, 90), "deuteranopia")) < 0.5 * delta_e(
        (220, 38, 38), (34, 160, 90))


# ---------------------------------------------------------------- the palette

def test_the_old_palette_fails_for_a_deuteranope():
    """The check can fail: 管控 orange and 防范 yellow were ΔE76 12.6 and 1.35 × apart for a deuteranope."""
    close = pairs_apart(OLD_LEVEL_COLORS)
    assert any(line.startswith("deuteranopia controlled/precaution") for line in close), close
    simulated = [seen(OLD_LEVEL_COLORS[level], "deuteranopia") for level in ("controlled", "precaution")]
    assert delta_e(*simulated) == pytest.approx(12.6, abs=0.1)
    assert luminance_ratio(*simulated) == pytest.approx(1.35, abs=0.01)


def test_the_levels_stay_apart_for_red_green_colour_blind_viewers():
    assert set(LEVEL_COLORS) == set(SEVERITY)
    assert pairs_apart(LEVEL_COLORS) == []
    # The closest pair (管控/防范 for a deuteranope), figured once by hand from (234, 88, 12) and (253, 224, 71).
    simulated = [seen(LEVEL_COLORS[level], "deuteranopia") for level in ("controlled", "precaution")]
    assert delta_e(*simulated) == pytest.approx(30.2, abs=0.1)
    assert luminance_ratio(*simulated) == pytest.approx(2.39, abs=0.01)


@pytest.mark.parametrize("vision", list(VISIONS))
def test_darker_is_more_severe(vision):
    lightness = [luminance(seen(LEVEL_COLORS[level], vision)) for level in SEVERITY]
    assert lightness == sorted(lightness)


# ---------------------------------------------------------------- the deck: fills, lines, the 封控 mark

LEVELS_ON_MAP = {"410103001001": "sealed", "410103001002": "controlled", "410103001003": "precaution"}


def square(code: str, lon: float, lat: float) -> dict:
    ring = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]
    return {"type": "Feature", "properties": {"area_code": code, "name": code, "level": "community",
                                              "parent_code": None},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


@pytest.fixture
def geo() -> shapes.Geo:
    return shapes.Geo(communities=[square(code, 113.6 + 0.02 * i, 34.7) for i, code in enumerate(LEVELS_ON_MAP)])


@pytest.fixture
def zones() -> pd.DataFrame:
    """Each level twice: the whole community (its polygon), and a building (a marker)."""
    rows = []
    for i, (code, level) in enumerate(LEVELS_ON_MAP.items()):
        for scope, zone_id in (("community", f"C{i}"), ("building", f"B{i}")):
            rows.append({"zone_id": zone_id, "area_code": code, "name": f"{level} {scope}", "level": level,
                         "scope": scope, "population": 100 * (i + 1), "started_on": date(2022, 1, 1),
                         "days_in_force": 3, "lon": 113.605 + 0.02 * i, "lat": 34.705})
    return pd.DataFrame(rows)


def zone_layers(deck) -> tuple[dict, dict]:
    """The zones' polygon properties and markers, by level."""
    area = next(layer for layer in deck.layers if layer.id == "zones-area")
    point = next(layer for layer in deck.layers if layer.id == "zones-point")
    polygons = {LEVELS_ON_MAP[f["properties"]["area_code"]]: f["properties"] for f in area.data["features"]}
    markers = {LEVELS_ON_MAP[m["area_code"]]: m for m in point.data}
    return polygons, markers


@pytest.mark.parametrize("dark", [False, True], ids=["desk", "wall"])
def test_every_zone_stands_out_from_the_map_it_is_drawn_on(geo, zones, dark):
    deck = maps.district_map(geo, lang="zh", layers=("zones",), zones=zones, dark=dark)
    background = (maps.DARK if dark else maps.LIGHT).district_fill[:3]
    polygons, markers = zone_layers(deck)
    faint = []
    for level in SEVERITY:
        for what, rgba in (("fill", polygons[level]["fill"]), ("line", polygons[level]["line"]),
                           ("marker", markers[level]["color"])):
            for vision in VISIONS:
                shown = seen(composited(rgba, background), vision)
                de = delta_e(shown, seen(background, vision))
                if de < MIN_DELTA_E_ON_MAP:
                    faint.append(f"{level} {what} {vision}: ΔE76 {de:.1f}")
    assert faint == []


@pytest.mark.parametrize("dark", [False, True], ids=["desk", "wall"])
def test_sealed_zones_are_outlined_beyond_colour(geo, zones, dark):
    deck = maps.district_map(geo, lang="zh", layers=("zones",), zones=zones, dark=dark)
    polygons, markers = zone_layers(deck)
    # What the browser's deck.gl receives: per-feature widths, in pixels (deck.gl's default is metres).
    drawn = {layer["id"]: layer for layer in json.loads(deck.to_json())["layers"]}
    assert drawn["zones-area"]["getLineWidth"] == "@@=properties.width"
    assert drawn["zones-point"]["getLineWidth"] == "@@=ring"
    assert drawn["zones-area"]["lineWidthUnits"] == drawn["zones-point"]["lineWidthUnits"] == "pixels"
    assert drawn["zones-point"]["getLineColor"] == [255, 255, 255] and drawn["zones-point"]["stroked"]
    # 封控 7 px against 3 px; its marker's white ring 4 px against 1 px.
    assert {level: p["width"] for level, p in polygons.items()} == {"sealed": 7, "controlled": 3, "precaution": 3}
    assert {level: m["ring"] for level, m in markers.items()} == {"sealed": 4, "controlled": 1, "precaution": 1}
    # Its fill is denser, the line opaque in the level's own colour.
    assert {level: p["fill"][3] for level, p in polygons.items()} == {"sealed": 160, "controlled": 110,
                                                                       "precaution": 110}
    assert all(p["line"] == p["fill"][:3] + [255] for p in polygons.values())


def test_the_legend_rings_the_sealed_swatch_and_names_every_level(geo, zones):
    deck = maps.district_map(geo, lang="zh", layers=("zones",), zones=zones)
    entries = legend.legend_for(deck, "zh")
    assert [(entry.label, entry.color, entry.outlined) for entry in entries] == [
        ("封控区", (153, 27, 27), True), ("管控区", (234, 88, 12), False), ("防范区", (253, 224, 71), False)]
    shown = legend.legend_html(entries)
    assert shown.count("map-legend-sealed") == 1
    assert shown.index("map-legend-sealed") < shown.index("封控区") < shown.index("管控区")
    ringed = legend.legend_html([legend.Entry((153, 27, 27), "<封控>", outlined=True)])
    assert "&lt;封控&gt;" in ringed and "<封控>" not in ringed and "map-legend-sealed" in ringed


def test_the_page_styles_the_sealed_ring():
    from dashboard.web.page_header import COMPACT_CSS

    rule = next(line for line in COMPACT_CSS.splitlines() if line.startswith(".map-legend-sealed "))
    assert "outline:" in rule and "currentColor" in rule  # the text's colour: dark on the desk, light on the wall
