"""The district map as a pydeck Deck, drawn from the boundaries alone so it works offline.

Coordinates are GCJ-02 throughout (the datum AMap uses, in which the boundaries, areas,
sites and zones are exported). Nothing is reprojected: the base is our own polygons, so
they line up with the data by construction. A configured intranet tile server or MapLibre
style must serve GCJ-02 tiles (AMap-style), not WGS-84 ones, or everything shifts by
a few hundred metres.

By default the deck has no basemap at all: `map_provider=None` with pydeck's default
style sentinel serialises as mapStyle "__MAP_STYLE__", which Streamlit's frontend
treats as "no basemap". (`map_style=None` would not do: the frontend then falls back to
a Carto style fetched from the internet.)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import pandas as pd
import pydeck as pdk

from dashboard.i18n import enum, is_missing, num, pct, short_day, t
from dashboard.web.builders.viewport import (  # noqa: F401  (fit_view, to_pixels, thin_labels: part of the map's API)
    Box,
    activity_box,
    bounds,
    fit_view,
    padded,
    point_bounds,
    thin_labels,
    to_pixels,
)

LEVEL_COLORS = {
    "sealed": [220, 38, 38],
    "controlled": [245, 140, 30],
    "precaution": [234, 196, 20],
}
POST_OK = [37, 99, 235]
POST_SHORT = [220, 38, 38]
ISOLATION_COLOR = [124, 58, 237]
OUTLINE = [55, 65, 81]


@dataclass(frozen=True)
class Palette:
    """The base map's colours: the light page, or a wall screen's dark one."""

    district_fill: list[int]
    district_line: list[int]
    community_line: list[int]
    street_line: list[int]
    label_text: list[int]
    label_background: list[int]


LIGHT = Palette([241, 245, 249, 255], [30, 41, 59], [148, 163, 184], OUTLINE, [15, 23, 42], [255, 255, 255, 190])
DARK = Palette([22, 32, 52, 255], [148, 163, 184], [51, 65, 85], [148, 163, 184], [226, 232, 240], [11, 18, 32, 200])
CJK_FONT = "'\"Noto Sans CJK SC\", \"Source Han Sans SC\", \"Microsoft YaHei\", \"PingFang SC\", sans-serif'"

ALL_LAYERS = ("coverage", "zones", "isolation", "isolation_3d", "posts", "labels")
DEFAULT_LAYERS = ("coverage", "zones", "isolation", "posts", "labels")
# Layers whose objects are communities: a click on one of them selects that community.
COMMUNITY_LAYERS = ("communities", "coverage", "zones-area", "isolation")


@dataclass(frozen=True)
class Geo:
    """The parsed boundaries and label points of the district."""

    district: list[dict] = field(default_factory=list)
    streets: list[dict] = field(default_factory=list)
    communities: list[dict] = field(default_factory=list)
    # area_code -> name, level, parent_code, population, lat, lon
    areas: dict[str, dict] = field(default_factory=dict)

    @property
    def outlined(self) -> bool:
        return bool(self.district or self.streets or self.communities)

    @property
    def empty(self) -> bool:
        """Nothing to draw: no outlines, and no community with a position to draw as a point."""
        return not self.outlined and not self.community_points()

    def community_points(self, area: str = "") -> dict[str, dict]:
        return {code: a for code, a in self.areas.items()
                if a["level"] == "community" and code.startswith(area) and finite_position(a)}


def _feature(row, extra: dict | None = None) -> dict:
    properties = {"area_code": row.area_code, "name": row.name, "level": row.level,
                  "parent_code": None if is_missing(row.parent_code) else row.parent_code}
    properties.update(extra or {})
    return {"type": "Feature", "properties": properties, "geometry": json.loads(row.geometry)}


def geo_from_frames(boundaries: pd.DataFrame, areas: pd.DataFrame) -> Geo:
    """Parse the boundaries query (GeoJSON text per area) and the areas query into a Geo."""
    by_level: dict[str, list[dict]] = {"district": [], "street": [], "community": []}
    for row in boundaries.itertuples(index=False):
        if row.level in by_level and isinstance(row.geometry, str) and row.geometry:
            by_level[row.level].append(_feature(row))
    area_index = {
        row.area_code: {"name": row.name, "level": row.level, "parent_code": row.parent_code,
                        "population": None if is_missing(row.population) else int(row.population),
                        "lat": float(row.lat), "lon": float(row.lon)}
        for row in areas.itertuples(index=False)
    }
    return Geo(by_level["district"], by_level["street"], by_level["community"], area_index)


def finite_position(a: dict) -> bool:
    return all(isinstance(a.get(k), float) and math.isfinite(a[k]) for k in ("lat", "lon"))


def focus_box(geo: Geo, area: str) -> Box | None:
    """The selected area's extent: its outline, or, without boundaries, its communities' points."""
    found = bounds(focus_features(geo, area)) if geo.outlined else None
    if found is None:
        found = point_bounds((a["lon"], a["lat"]) for a in geo.community_points(area).values())
        found = padded(found, share=0.12) if found else None
    return found


def activity_points(geo: Geo, zones: pd.DataFrame | None,
                    isolation: pd.DataFrame | None) -> list[tuple[float, float, float]]:
    """(lon, lat, weight) of what a command center watches: residents in zones, people in isolation.

    Each counts at the corners of its community's outline where there is one, so that a view
    fitted to them shows those communities whole rather than a point inside one.
    """
    outlines = {f["properties"]["area_code"]: bounds([f]) for f in geo.communities}
    points = []
    for frame, column in ((zones, "population"), (isolation, "active")):
        if frame is None or frame.empty:
            continue
        for row in frame.itertuples(index=False):
            weight = getattr(row, column)
            if is_missing(weight) or weight <= 0:
                continue
            box = outlines.get(row.area_code)
            if box:
                points += [(lon, lat, float(weight) / 4) for lon in (box[0], box[2]) for lat in (box[1], box[3])]
            elif not (is_missing(row.lon) or is_missing(row.lat)):
                points.append((float(row.lon), float(row.lat), float(weight)))
    return points


def focus_features(geo: Geo, area: str) -> list[dict]:
    """The polygons of the selected area (the district when area is '')."""
    if not area:
        return geo.district or geo.streets or geo.communities
    chosen = [f for f in geo.streets + geo.communities if f["properties"]["area_code"] == area]
    return chosen or [f for f in geo.communities if f["properties"]["area_code"].startswith(area)]


def coverage_color(coverage, target: float) -> list[int]:
    """Green at or above the target, through yellow, to deep red at half the target or less."""
    if is_missing(coverage):
        return [200, 200, 200, 90]
    share = max(0.0, min(1.0, (float(coverage) - target / 2) / (target / 2)))
    if coverage >= target:
        return [34, 160, 90, 150]
    # red (0) -> amber (1)
    return [int(200 + 45 * share), int(30 + 150 * share), 40, 170]


def _feature_collection(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def _clean(value):
    """JSON-safe scalars: NaN/NA become None, numpy numbers become Python numbers."""
    if is_missing(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def community_dots(geo: Geo, lang: str, area: str, palette: Palette) -> pdk.Layer:
    """Without boundaries, each community is a point at its centre, sized by its population."""
    points = geo.community_points()
    largest = max([a["population"] or 0 for a in points.values()] + [1])
    rows = [{"area_code": code, "lon": a["lon"], "lat": a["lat"],
             "radius": 3 + 6 * math.sqrt((a["population"] or 0) / largest),
             "fill": [59, 130, 246, 160] if area and code.startswith(area) else palette.community_line + [200],
             "tip": t("tip.community", lang, name=a["name"], population=num(a["population"], lang))}
            for code, a in points.items()]
    return pdk.Layer("ScatterplotLayer", rows, id="communities", get_position=["lon", "lat"], get_radius="radius",
                     radius_units="'pixels'", get_fill_color="fill", pickable=True, auto_highlight=True)


def base_layers(geo: Geo, lang: str, area: str, palette: Palette = LIGHT) -> list[pdk.Layer]:
    if not geo.outlined:
        return [community_dots(geo, lang, area, palette)]
    communities = []
    for feature in geo.communities:
        props = feature["properties"]
        info = geo.areas.get(props["area_code"], {})
        selected = bool(area) and props["area_code"].startswith(area)
        communities.append({**feature, "properties": {
            **props,
            "fill": [59, 130, 246, 40] if selected else [255, 255, 255, 0],
            "tip": t("tip.community", lang, name=props["name"], population=num(info.get("population"), lang)),
        }})
    return [
        pdk.Layer("GeoJsonLayer", _feature_collection(geo.district), id="district",
                  stroked=True, filled=True, get_fill_color=palette.district_fill, get_line_color=palette.district_line,
                  line_width_min_pixels=3, pickable=False),
        pdk.Layer("GeoJsonLayer", _feature_collection(communities), id="communities",
                  stroked=True, filled=True, get_fill_color="properties.fill", get_line_color=palette.community_line,
                  line_width_min_pixels=1, pickable=True, auto_highlight=True,
                  highlight_color=[59, 130, 246, 60]),
        pdk.Layer("GeoJsonLayer", _feature_collection(geo.streets), id="streets",
                  stroked=True, filled=False, get_line_color=palette.street_line, line_width_min_pixels=2, pickable=False),
    ]


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
            "coverage": _clean(row.coverage),
            "fill": coverage_color(row.coverage, target),
            "tip": tip(row),
        }})
    return pdk.Layer("GeoJsonLayer", _feature_collection(features), id="coverage", stroked=True, filled=True,
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
        if row.scope == "community" and row.area_code in polygons:
            feature = polygons[row.area_code]
            areas.append({**feature, "properties": {**feature["properties"], "zone_id": row.zone_id,
                                                    "fill": color + [110], "line": color + [255], "tip": tip}})
        elif not (is_missing(row.lat) or is_missing(row.lon)):
            points.append({"zone_id": row.zone_id, "area_code": row.area_code, "lon": float(row.lon),
                           "lat": float(row.lat), "population": _clean(row.population),
                           "radius": 5 + 13 * math.sqrt(max(float(row.population or 0), 0) / largest),
                           "color": color + [220], "tip": tip})
    return [
        pdk.Layer("GeoJsonLayer", _feature_collection(areas), id="zones-area", stroked=True, filled=True,
                  get_fill_color="properties.fill", get_line_color="properties.line", line_width_min_pixels=3,
                  pickable=True),
        pdk.Layer("ScatterplotLayer", points, id="zones-point", get_position=["lon", "lat"], get_radius="radius",
                  get_fill_color="color", get_line_color=[255, 255, 255], stroked=True, line_width_min_pixels=2,
                  radius_units="'pixels'", pickable=True),
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


def label_layers(geo: Geo, view: pdk.ViewState, width_px: int, height_px: int, area: str = "",
                 palette: Palette = LIGHT) -> list[pdk.Layer]:
    """Chinese place names. character_set 'auto' makes deck.gl build its font atlas from the
    characters actually present, which the default (ASCII only) would drop. Labels are
    thinned so none overlap at the initial view: street names win, then the selected
    area's communities, then bigger communities."""
    largest = max([a["population"] or 0 for a in geo.areas.values()] + [1])
    labels = [
        {"name": a["name"], "lon": a["lon"], "lat": a["lat"], "level": a["level"],
         "priority": 2000 if a["level"] == "street" else
         (1000 if area and code.startswith(area) else 0) + int(900 * (a["population"] or 0) / largest)}
        for code, a in geo.areas.items() if a["level"] in ("street", "community")
    ]
    kept = thin_labels(labels, view, width_px, height_px, size_px=13)
    common = dict(get_position=["lon", "lat"], get_text="name", character_set='"auto"', font_family=CJK_FONT,
                  get_text_anchor="'middle'", get_alignment_baseline="'center'", pickable=False,
                  background=True, get_background_color=palette.label_background, background_padding=[3, 1, 3, 1])
    return [
        pdk.Layer("TextLayer", [a for a in kept if a["level"] == "community"], id="labels-community", get_size=12,
                  get_color=palette.label_text, **common),
        pdk.Layer("TextLayer", [a for a in kept if a["level"] == "street"], id="labels-street", get_size=16,
                  get_color=palette.label_text, font_weight=700, **common),
    ]


def district_map(
    geo: Geo,
    *,
    lang: str,
    layers: tuple[str, ...] | list[str] | set[str] = DEFAULT_LAYERS,
    area: str = "",
    coverage: pd.DataFrame | None = None,
    coverage_round: int | None = None,
    coverage_target: float = 0.95,
    zones: pd.DataFrame | None = None,
    isolation: pd.DataFrame | None = None,
    posts: pd.DataFrame | None = None,
    day=None,
    basemap_style: str | None = None,
    width_px: int = 1000,
    height_px: int = 560,
    dark: bool = False,
    fit_activity: bool = False,
) -> pdk.Deck:
    """The base (district outline, streets, communities) plus the chosen overlays.

    An overlay is drawn only when it is both chosen and given data; layers are stacked so
    that small markers stay on top of polygons. The view fits the selected area with a margin;
    with fit_activity, a whole-district view fits where the zones and isolated people are instead.
    """
    chosen = set(layers)
    palette = DARK if dark else LIGHT
    deck_layers = base_layers(geo, lang, area, palette)
    if "coverage" in chosen and coverage is not None:
        deck_layers.append(coverage_layer(geo, coverage, lang, coverage_target, coverage_round))
    if "zones" in chosen and zones is not None:
        deck_layers.extend(zone_layers(geo, zones, lang, day))
    if ({"isolation", "isolation_3d"} & chosen) and isolation is not None:
        deck_layers.append(isolation_layer(isolation, lang, columns="isolation_3d" in chosen))
    if "posts" in chosen and posts is not None:
        deck_layers.append(posts_layer(posts, lang))
    box = focus_box(geo, area) or (113.5, 34.6, 113.75, 34.8)
    if fit_activity and not area:
        box = activity_box(box, activity_points(geo, zones if "zones" in chosen else None,
                                                isolation if {"isolation", "isolation_3d"} & chosen else None))
    view = fit_view(box, width_px=width_px, height_px=height_px, pitch=40 if "isolation_3d" in chosen else 0)
    if "labels" in chosen:
        deck_layers.extend(label_layers(geo, view, width_px, height_px, area, palette))
    tooltip = {"text": "{tip}", "style": {"whiteSpace": "pre-line", "backgroundColor": "#0f172a", "color": "#f8fafc",
                                          "fontSize": "14px", "padding": "6px 10px"}}
    if basemap_style:
        # An intranet MapLibre style serving GCJ-02 tiles (see the module docstring).
        return pdk.Deck(layers=deck_layers, initial_view_state=view, map_provider="maplibre",
                        map_style=basemap_style, tooltip=tooltip)
    return pdk.Deck(layers=deck_layers, initial_view_state=view, map_provider=None, tooltip=tooltip)


def area_from_selection(selection, known_codes=None) -> str | None:
    """The community a map click picked, from st.pydeck_chart's selection state.

    The state looks like {"indices": {layer_id: [i]}, "objects": {layer_id: [object]}}; a
    GeoJSON object keeps its area_code under "properties". Clicks on posts, zone markers or
    the outline select nothing.
    """
    if not selection:
        return None
    objects = selection.get("objects") or {}
    for layer_id in COMMUNITY_LAYERS:
        for obj in objects.get(layer_id) or []:
            if not isinstance(obj, dict):
                continue
            code = obj.get("area_code") or (obj.get("properties") or {}).get("area_code")
            if isinstance(code, str) and len(code) == 12 and (known_codes is None or code in known_codes):
                return code
    return None
