"""The district's area outlines, loaded once per data version for every session, and what a map
says when it cannot draw some of them."""

from __future__ import annotations

from dashboard import i18n
from dashboard.i18n import t
from dashboard.web import cache
from dashboard.web.builders import shapes

# How many unplaced area codes the map's notice names.
UNPLACED_SHOWN = 5


def geo() -> shapes.Geo:
    return cache.shared("geo", (), lambda: shapes.geo_from_frames(cache.query("map/boundaries"), cache.area_frame()))


def outline_notice(base: shapes.Geo, lang: str) -> str | None:
    """Why the map lacks outlines, when it does: a map that cannot draw its areas says so."""
    if not base.outlined:
        return t("map.no_outlines", lang)
    if base.unplaced:
        codes = t("list.sep", lang).join(i18n.literal(code or "—") for code in base.unplaced[:UNPLACED_SHOWN])
        more = len(base.unplaced) - UNPLACED_SHOWN
        return t("map.unplaced", lang, n=len(base.unplaced), codes=codes + (f" +{more}" if more > 0 else ""))
    return None
