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

import math
from dataclasses import dataclass

import pandas as pd
import pydeck as pdk

from dashboard.i18n import is_missing, num, t
from dashboard.web.builders.overlays import awaiting_layer, coverage_layer, isolation_layer, posts_layer, zone_layers
from dashboard.web.builders.shapes import Geo, feature_collection
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

ALL_LAYERS = ("coverage", "zones", "isolation", "isolation_3d", "posts", "awaiting", "labels")
DEFAULT_LAYERS = ("coverage", "zones", "isolation", "posts", "labels")
# Layers whose objects are communities: a click on one of them selects that community.
COMMUNITY_LAYERS = ("communities", "coverage", "zones-area", "isolation")


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
        pdk.Layer("GeoJsonLayer", feature_collection(geo.district), id="district",
                  stroked=True, filled=True, get_fill_color=palette.district_fill, get_line_color=palette.district_line,
                  line_width_min_pixels=3, pickable=False),
        pdk.Layer("GeoJsonLayer", feature_collection(communities), id="communities",
                  stroked=True, filled=True, get_fill_color="properties.fill", get_line_color=palette.community_line,
                  line_width_min_pixels=1, pickable=True, auto_highlight=True,
                  highlight_color=[59, 130, 246, 60]),
        pdk.Layer("GeoJsonLayer", feature_collection(geo.streets), id="streets",
                  stroked=True, filled=False, get_line_color=palette.street_line, line_width_min_pixels=2, pickable=False),
    ]


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
    awaiting: pd.DataFrame | None = None,
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
    if "awaiting" in chosen and awaiting is not None:
        deck_layers.append(awaiting_layer(awaiting, lang))
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
