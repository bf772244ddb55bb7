"""Where the map looks: the bounds of what is drawn, a view that fits them on a map of a given size,
and which labels fit at that view. Pure geometry on Web-Mercator, no deck layers here.
"""

from __future__ import annotations

import math

import pydeck as pdk

Box = tuple[float, float, float, float]  # min lon, min lat, max lon, max lat


def _points(geometry: dict):
    kind, coordinates = geometry["type"], geometry["coordinates"]
    rings = coordinates if kind == "Polygon" else [ring for polygon in coordinates for ring in polygon]
    for ring in rings:
        yield from ring


def bounds(features: list[dict]) -> tuple[float, float, float, float] | None:
    """(min lon, min lat, max lon, max lat) of the features, or None."""
    xs, ys = [], []
    for feature in features:
        for lon, lat, *_ in _points(feature["geometry"]):
            xs.append(lon)
            ys.append(lat)
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


# deck.gl's world is 512 px wide at zoom 0 (not the 256 of raster tiles).
WORLD_PX = 512


def _mercator_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def fit_view(box, width_px: int = 1000, height_px: int = 560, pitch: float = 0) -> pdk.ViewState:
    """A view that shows the box whole, with a margin, on a Web-Mercator map of the given size."""
    min_lon, min_lat, max_lon, max_lat = box
    lon_span = max(max_lon - min_lon, 1e-4)
    # Latitude span in Mercator units, so the fit is right away from the equator.
    lat_span = max(abs(_mercator_y(max_lat) - _mercator_y(min_lat)) * 180 / math.pi, 1e-4)
    zoom = min(math.log2(width_px * 360 / (WORLD_PX * lon_span)),
               math.log2(height_px * 360 / (WORLD_PX * lat_span))) - 0.15
    center_lat = math.degrees(2 * math.atan(math.exp((_mercator_y(min_lat) + _mercator_y(max_lat)) / 2)) - math.pi / 2)
    # A tilted view shows the far half smaller: come a little closer to keep the area filling the map.
    zoom += 0.3 if pitch else 0
    return pdk.ViewState(latitude=round(center_lat, 6), longitude=round((min_lon + max_lon) / 2, 6),
                         zoom=round(max(min(zoom, 17), 3), 2), pitch=pitch, bearing=0)


def to_pixels(lon: float, lat: float, view: pdk.ViewState) -> tuple[float, float]:
    """Screen position of a point relative to the view's centre, in CSS pixels."""
    scale = WORLD_PX * 2 ** view.zoom / (2 * math.pi)
    x = scale * math.radians(lon - view.longitude)
    y = -scale * (_mercator_y(lat) - _mercator_y(view.latitude))
    return x, y


def thin_labels(labels: list[dict], view: pdk.ViewState, width_px: int, height_px: int,
                size_px: float) -> list[dict]:
    """Keep the labels that fit without overlapping at the initial view, highest priority first.

    The map's first look is what a wall screen shows all day, so it must be legible; zooming
    in by drilling down re-fits the view and lets more names through.
    """
    kept, boxes = [], []
    for label in sorted(labels, key=lambda a: -a["priority"]):
        x, y = to_pixels(label["lon"], label["lat"], view)
        if abs(x) > width_px / 2 or abs(y) > height_px / 2:
            continue
        half_w, half_h = len(label["name"]) * size_px / 2 + 2, size_px / 2 + 2
        box = (x - half_w, y - half_h, x + half_w, y + half_h)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes):
            continue
        kept.append(label)
        boxes.append(box)
    return kept




def point_bounds(points) -> Box | None:
    """(min lon, min lat, max lon, max lat) of (lon, lat) pairs, or None."""
    points = list(points)
    if not points:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def padded(box: Box, share: float = 0.08, min_span: float = 0.01) -> Box:
    """The box grown by `share` of its span on every side, and to at least min_span degrees, so that
    markers at its edge are not cut in half and a single point still gets a neighbourhood."""
    min_lon, min_lat, max_lon, max_lat = box
    grow_lon = max((max_lon - min_lon) * share, (min_span - (max_lon - min_lon)) / 2, 0)
    grow_lat = max((max_lat - min_lat) * share, (min_span - (max_lat - min_lat)) / 2, 0)
    return min_lon - grow_lon, min_lat - grow_lat, max_lon + grow_lon, max_lat + grow_lat


def weighted_range(values: list[float], weights: list[float], share: float) -> tuple[float, float]:
    """The smallest and largest value once `share` of the weight is dropped from each end."""
    order = sorted(zip(values, weights))
    total = sum(w for _, w in order)
    before, kept = 0.0, []
    for value, weight in order:
        # A value stays when some of its weight lies inside (share, 1 - share) of the total.
        if before + weight > total * share and before < total * (1 - share):
            kept.append(value)
        before += weight
    return (kept[0], kept[-1]) if kept else (order[0][0], order[-1][0])


def activity_box(area_box: Box, activity: list[tuple[float, float, float]], *, outliers: float = 0.03,
                 min_share: float = 0.25) -> Box:
    """The part of the area where most of the activity is (zones, isolated people), padded, inside
    the area's box.

    A district is mostly quiet countryside with a dense urban core; fitting the whole outline
    leaves the core a tenth of the panel. Each point (lon, lat, weight) counts by its weight (people
    in isolation, residents in a zone), and the lightest `outliers` share at either end of each axis
    is left to panning, so a few village zones do not pull the view back out. The box never
    shrinks below min_share of the area's span, and where it would cover most of the area anyway
    (or there is no activity), the area's own box is kept.
    """
    points = [(lon, lat, weight) for lon, lat, weight in activity if weight > 0]
    if not points:
        return area_box
    weights = [w for _, _, w in points]
    min_lon, min_lat, max_lon, max_lat = area_box
    lon_span, lat_span = max_lon - min_lon, max_lat - min_lat
    west, east = weighted_range([p[0] for p in points], weights, outliers)
    south, north = weighted_range([p[1] for p in points], weights, outliers)
    box = padded((west, south, east, north), share=0.12, min_span=min(lon_span, lat_span) * min_share)
    box = (max(box[0], min_lon), max(box[1], min_lat), min(box[2], max_lon), min(box[3], max_lat))
    if (box[2] - box[0]) * (box[3] - box[1]) > 0.6 * lon_span * lat_span:
        return area_box
    return box
