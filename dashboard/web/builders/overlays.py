"""The situation map's overlays, one layer builder per kind of data: coverage, zones, isolation,
posts, positives awaiting transfer. Pure: frames in, pydeck layers out."""

from __future__ import annotations

import math

import pandas as pd
import pydeck as pdk

from dashboard.i18n import enum, is_missing, num, pct, short_day, t
from dashboard.web.builders.shapes import Geo, clean, feature_collection

# Darker is more severe, so the levels stay apart by lightness alone, for a red-green colour-blind
# viewer or on a greyscale print (tests/test_zone_palette.py simulates deuteranopia and protanopia).
LEVEL_COLORS = {
    "sealed": [153, 27, 27],
    "controlled": [234, 88, 12],
    "precaution": [253, 224, 71],
}

# 封控 is marked beyond colour: its polygon's line is wider, its marker's white ring thicker (pixels).
# Its fill is denser too, since a dark red at the others' alpha all but vanishes on the wall's dark
# blue for a protanope.
OUTLINED_LEVELS = frozenset({"sealed"})
ZONE_LINE_PX = {True: 7, False: 3}
ZONE_RING_PX = {True: 4, False: 1}
ZONE_FILL_ALPHA = {True: 160, False: 110}


POST_OK = [37, 99, 235]


POST_SHORT = [220, 38, 38]


ISOLATION_COLOR = [124, 58, 237]


AWAITING_COLOR = [153, 27, 27]


def coverage_color(coverage, target: float) -> list[int]:
    """Green at or above the target, through yellow, to deep red at half the target or less."""
    if is_missing(coverage):
        return [200, 200, 200, 90]
    share = max(0.0, min(1.0, (float(coverage) - target / 2) / (target / 2)))
    if coverage >= target:
        return [34, 160, 90, 150]
    # red (0) -> amber (1)
    return [int(200 + 45 * share), int(30 + 150 * share), 40, 170]


def coverage_layer(geo: Geo, coverage: pd.DataFrame, lang: str, target: float, round_: int | None) -> pdk.Layer:
    by_code = {row.area_code: row for row in coverage.itertuples(index=False)}

    def tip(row) -> str:
        return t("tip.coverage", lang, name=row.name, round=round_ if round_ is not None else "–",
                 coverage=pct(row.coverage, lang), sampled=num(row.persons_sampled, lang),
                 population=num(row.population, lang))

    if not geo.outlined:
        points = geo.community_points()
        largest = max([a["population"] or 0 for a in points.values()] + [1])
        rows = [{"area_code": code, "lon": a["lon"], "lat": a["lat"], "fill": coverage_color(by_code[code].coverage, target),
                 "radius": 4 + 8 * math.sqrt((a["population"] or 0) / largest), "tip": tip(by_code[code])}
                for code, a in points.items() if code in by_code]
        return pdk.Layer("ScatterplotLayer", rows, id="coverage", get_position=["lon", "lat"], get_radius="radius",
                         radius_units="'pixels'", get_fill_color="fill", pickable=True, auto_highlight=True)
    features = []
    for feature in geo.communities:
        row = by_code.get(feature["properties"]["area_code"])
        if row is None:
            continue
        features.append({**feature, "properties": {
            **feature["properties"],
            "coverage": clean(row.coverage),
            "fill": coverage_color(row.coverage, target),
            "tip": tip(row),
        }})
    return pdk.Layer("GeoJsonLayer", feature_collection(features), id="coverage", stroked=True, filled=True,
                     get_fill_color="properties.fill", get_line_color=[100, 116, 139], line_width_min_pixels=1,
                     pickable=True, auto_highlight=True)


def zone_layers(geo: Geo, zones: pd.DataFrame, lang: str, day) -> list[pdk.Layer]:
    """Community-scope zones as the community's polygon; smaller zones as markers sized by population."""
    polygons = {f["properties"]["area_code"]: f for f in geo.communities}
    largest = max([float(v) for v in zones["population"] if not is_missing(v)] + [1.0])
    areas, points = [], []
    for row in zones.itertuples(index=False):
        tip = t("tip.zone", lang, name=row.name, level=enum("level", row.level, lang),
                scope=enum("scope", row.scope, lang), population=num(row.population, lang),
                started=short_day(row.started_on, lang), days=num(row.days_in_force, lang))
        color = LEVEL_COLORS.get(row.level, [120, 120, 120])
        outlined = row.level in OUTLINED_LEVELS
        if row.scope == "community" and row.area_code in polygons:
            feature = polygons[row.area_code]
            areas.append({**feature, "properties": {**feature["properties"], "zone_id": row.zone_id,
                                                    "fill": color + [ZONE_FILL_ALPHA[outlined]], "line": color + [255],
                                                    "width": ZONE_LINE_PX[outlined], "tip": tip}})
        elif not (is_missing(row.lat) or is_missing(row.lon)):
            points.append({"zone_id": row.zone_id, "area_code": row.area_code, "lon": float(row.lon),
                           "lat": float(row.lat), "population": clean(row.population),
                           "radius": 5 + 13 * math.sqrt(max(float(row.population or 0), 0) / largest),
                           "color": color + [220], "ring": ZONE_RING_PX[outlined], "tip": tip})
    return [
        pdk.Layer("GeoJsonLayer", feature_collection(areas), id="zones-area", stroked=True, filled=True,
                  get_fill_color="properties.fill", get_line_color="properties.line",
                  get_line_width="properties.width", line_width_units="'pixels'", line_width_min_pixels=3,
                  pickable=True),
        pdk.Layer("ScatterplotLayer", points, id="zones-point", get_position=["lon", "lat"], get_radius="radius",
                  get_fill_color="color", get_line_color=[255, 255, 255], stroked=True, get_line_width="ring",
                  line_width_units="'pixels'", line_width_min_pixels=1, radius_units="'pixels'", pickable=True),
    ]


def isolation_layer(isolation: pd.DataFrame, lang: str, columns: bool) -> pdk.Layer:
    """Circles (or columns) whose area grows with the count, sized in screen pixels so that a
    drilled-down view does not blow them up; the largest is 52 px across."""
    rows = []
    largest = max([float(v) for v in isolation["active"] if not is_missing(v)] + [1.0])
    for row in isolation.itertuples(index=False):
        if is_missing(row.active) or row.active <= 0:
            continue
        rows.append({"area_code": row.area_code, "lon": float(row.lon), "lat": float(row.lat),
                     "active": int(row.active), "radius": 4 + 22 * math.sqrt(float(row.active) / largest),
                     "height": 2000 * float(row.active) / largest,
                     "tip": t("tip.isolation", lang, name=row.name, active=num(row.active, lang),
                              home=num(row.home, lang), monitoring=num(row.home_monitoring, lang),
                              centralized=num(row.centralized, lang))})
    if columns:
        return pdk.Layer("ColumnLayer", rows, id="isolation", get_position=["lon", "lat"], get_elevation="height",
                         elevation_scale=1, radius=120, extruded=True, get_fill_color=ISOLATION_COLOR + [200],
                         pickable=True, auto_highlight=True)
    return pdk.Layer("ScatterplotLayer", rows, id="isolation", get_position=["lon", "lat"], get_radius="radius",
                     radius_units="'pixels'", get_fill_color=ISOLATION_COLOR + [150], get_line_color=[255, 255, 255],
                     stroked=True, line_width_min_pixels=1, pickable=True, auto_highlight=True)


def posts_layer(posts: pd.DataFrame, lang: str) -> pdk.Layer:
    rows = []
    for row in posts.itertuples(index=False):
        short = bool(row.understaffed)
        tip = t("tip.post", lang, name=row.name, kind=enum("site_kind", row.kind, lang),
                on_duty=num(row.on_duty, lang), min_staff=num(row.min_staff, lang))
        rows.append({"site_id": row.site_id, "area_code": row.area_code, "lon": float(row.lon),
                     "lat": float(row.lat), "on_duty": int(row.on_duty), "understaffed": short,
                     "radius": 3 + 1.2 * math.sqrt(float(row.on_duty)),
                     "color": (POST_SHORT if short else POST_OK) + [235],
                     "tip": tip + ("\n" + t("tip.post_short", lang) if short else "")})
    return pdk.Layer("ScatterplotLayer", rows, id="posts", get_position=["lon", "lat"], get_radius="radius",
                     radius_units="'pixels'", get_fill_color="color", get_line_color=[255, 255, 255],
                     stroked=True, line_width_min_pixels=2, pickable=True, auto_highlight=True)


def awaiting_layer(awaiting: pd.DataFrame, lang: str) -> pdk.Layer:
    """Positives awaiting transfer per community: a dark-red ring, so the isolation circle at the
    same spot stays visible, wider where more people wait; the largest is 44 px across."""
    largest = max([float(v) for v in awaiting["awaiting"] if not is_missing(v)] + [1.0])
    rows = [{"area_code": row.area_code, "lon": float(row.lon), "lat": float(row.lat), "awaiting": int(row.awaiting),
             "radius": 6 + 16 * math.sqrt(float(row.awaiting) / largest),
             "tip": t("tip.awaiting", lang, name=row.name, awaiting=num(row.awaiting, lang),
                      hours=num(row.longest_wait_hours, lang))}
            for row in awaiting.itertuples(index=False) if not is_missing(row.awaiting) and row.awaiting > 0]
    return pdk.Layer("ScatterplotLayer", rows, id="awaiting", get_position=["lon", "lat"], get_radius="radius",
                     radius_units="'pixels'", filled=False, stroked=True, get_line_color=AWAITING_COLOR + [235],
                     line_width_min_pixels=3, pickable=True, auto_highlight=True)
