"""The district's shapes for the map: boundaries and areas as GeoJSON features, built once per view."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import pandas as pd

from dashboard.i18n import is_missing


@dataclass(frozen=True)
class Geo:
    """The parsed boundaries and label points of the district."""

    district: list[dict] = field(default_factory=list)
    streets: list[dict] = field(default_factory=list)
    communities: list[dict] = field(default_factory=list)
    # area_code -> name, level, parent_code, population, lat, lon
    areas: dict[str, dict] = field(default_factory=dict)
    # Boundary features with a shape that could not be placed: no level of their own, and an
    # area_code that matches no area. Their codes, so that the map can say why they are missing.
    unplaced: tuple[str, ...] = ()

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


def feature(row, extra: dict | None = None) -> dict:
    properties = {"area_code": row.area_code, "name": row.name, "level": row.level,
                  "parent_code": None if is_missing(row.parent_code) else row.parent_code}
    properties.update(extra or {})
    return {"type": "Feature", "properties": properties, "geometry": json.loads(row.geometry)}


def geo_from_frames(boundaries: pd.DataFrame, areas: pd.DataFrame) -> Geo:
    """Parse the boundaries query (GeoJSON text per area) and the areas query into a Geo.

    A feature's missing name, level or parent is taken from areas.csv by its area_code: a GIS
    office exports the shapes with their codes only. The district is not a row of areas.csv;
    a feature whose code is the streets' parent is the district.
    """
    area_index = {
        row.area_code: {"name": row.name, "level": row.level, "parent_code": row.parent_code,
                        "population": None if is_missing(row.population) else int(row.population),
                        "lat": float(row.lat), "lon": float(row.lon)}
        for row in areas.itertuples(index=False)
    }
    districts = {a["parent_code"] for a in area_index.values() if a["level"] == "street"}
    by_level: dict[str, list[dict]] = {"district": [], "street": [], "community": []}
    unplaced = []
    for row in boundaries.itertuples(index=False):
        if not (isinstance(row.geometry, str) and row.geometry):
            continue
        known = area_index.get(row.area_code, {})
        filled = row._replace(
            name=known.get("name") if is_missing(row.name) else row.name,
            level=(known.get("level") or ("district" if row.area_code in districts else None))
            if is_missing(row.level) else row.level,
            parent_code=known.get("parent_code") if is_missing(row.parent_code) else row.parent_code)
        if filled.level in by_level:
            by_level[filled.level].append(feature(filled))
        else:
            unplaced.append(row.area_code)
    return Geo(by_level["district"], by_level["street"], by_level["community"], area_index, tuple(unplaced))


def finite_position(a: dict) -> bool:
    return all(isinstance(a.get(k), float) and math.isfinite(a[k]) for k in ("lat", "lon"))


def feature_collection(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def clean(value):
    """JSON-safe scalars: NaN/NA become None, numpy numbers become Python numbers."""
    if is_missing(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
