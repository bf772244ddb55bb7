"""Wall screens and phones without a browser: where the map looks, its legend, the dark figures,
the "updated" chips, the wall's tables, and what a kiosk page leaves out (issue 10).

Layout in pixels (no scrolling, dark samples, the phone's bounds) is for tests/browser/test_screens_fit.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest

from dashboard.i18n import t
from dashboard.web import table_view
from dashboard.web.builders import charts, kpis, legend, maps, overlays, shapes, viewport
from dashboard.web.builders.tables import Table
from tests.test_app_pages import open_page
from tests.test_screens_and_login import app_env, html_blocks  # noqa: F401  (fixture)

# ---------------------------------------------------------------- where the map looks

# A made-up district 1° wide and 1° tall, with a busy corner.
DISTRICT = (113.0, 34.0, 114.0, 35.0)


def test_weighted_range_drops_the_light_tails():
    # Weights 10, 10, 10, 10, 1: the point at 100 holds 1/41 of the weight, under the 5 % cut.
    assert viewport.weighted_range([1, 2, 3, 4, 100], [10, 10, 10, 10, 1], 0.05) == (1, 4)
    # Equal weights: with a 5 % cut of five points, every point keeps some weight inside.
    assert viewport.weighted_range([1, 2, 3, 4, 5], [1] * 5, 0.05) == (1, 5)
    assert viewport.weighted_range([0, 1, 2], [1, 98, 1], 0.05) == (1, 1)


def test_activity_box_fits_the_busy_corner_and_leaves_a_lonely_village_to_panning():
    core = [(113.80 + 0.01 * i, 34.80 + 0.01 * i, 100.0) for i in range(11)]  # 113.80..113.90, 34.80..34.90
    village = [(113.10, 34.10, 5.0)]
    box = viewport.activity_box(DISTRICT, core + village, outliers=0.03, min_share=0.25)
    # The core spans 0.10°; padded 12 % each side, then grown to the minimum of 0.25° (centred).
    assert box == pytest.approx((113.725, 34.725, 113.975, 34.975))


def test_activity_box_keeps_the_area_when_activity_is_everywhere_or_nowhere():
    spread = [(113.05, 34.05, 1.0), (113.95, 34.95, 1.0)]
    assert viewport.activity_box(DISTRICT, spread) == DISTRICT
    assert viewport.activity_box(DISTRICT, []) == DISTRICT
    assert viewport.activity_box(DISTRICT, [(113.5, 34.5, 0.0)]) == DISTRICT  # no weight, no activity


def test_activity_box_stays_inside_the_area():
    box = viewport.activity_box(DISTRICT, [(113.99, 34.99, 1.0)])
    assert box[2] <= 114.0 and box[3] <= 35.0
    # The 0.25° minimum centred on the point, then cut at the district's edge (not shifted inside).
    assert box == pytest.approx((113.99 - 0.125, 34.99 - 0.125, 114.0, 35.0))


def square(code: str, level: str, lon: float, lat: float, size: float) -> dict:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Feature", "properties": {"area_code": code, "name": code, "level": level, "parent_code": None},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def areas(**coordinates) -> dict:
    return {code: {"name": f"社区{code[-1]}", "level": "community", "parent_code": code[:9], "population": population,
                   "lat": lat, "lon": lon} for code, (lon, lat, population) in coordinates.items()}


COMMUNITIES = areas(**{"410103001001": (113.85, 34.85, 4000), "410103001002": (113.15, 34.15, 1000)})


def test_district_view_fits_where_the_zones_and_isolation_are_and_a_phone_sees_it_all():
    geo = shapes.Geo(district=[square("410103", "district", 113.0, 34.0, 1.0)], areas=COMMUNITIES)
    isolation = pd.DataFrame({"area_code": ["410103001001"], "name": ["甲"], "lon": [113.85], "lat": [34.85],
                              "active": [40], "home": [40], "home_monitoring": [0], "centralized": [0]})
    whole = maps.district_map(geo, lang="zh", layers=("isolation",), isolation=isolation, fit_activity=False)
    busy = maps.district_map(geo, lang="zh", layers=("isolation",), isolation=isolation, fit_activity=True)
    # The whole district is 1° wide; the activity box is the 0.25° minimum around 113.85, 34.85.
    assert whole.initial_view_state.longitude == pytest.approx(113.5)
    assert busy.initial_view_state.longitude == pytest.approx(113.85)
    assert busy.initial_view_state.zoom - whole.initial_view_state.zoom == pytest.approx(2, abs=0.02)  # 1° / 0.25°


def test_without_boundaries_the_communities_are_points_with_the_same_overlays():
    geo = shapes.Geo(areas=COMMUNITIES)
    assert not geo.empty and not geo.outlined
    coverage = pd.DataFrame({"area_code": ["410103001001", "410103001002"], "name": ["甲", "乙"],
                             "coverage": [0.97, 0.40], "persons_sampled": [3880, 400], "population": [4000, 1000]})
    deck = maps.district_map(geo, lang="zh", layers=("coverage", "labels"), coverage=coverage, coverage_round=2)
    communities, dots = deck.layers[0], next(item for item in deck.layers if item.id == "coverage")
    assert communities.type == "ScatterplotLayer" and dots.type == "ScatterplotLayer"
    by_code = {row["area_code"]: row for row in dots.data}
    assert by_code["410103001001"]["fill"] == overlays.coverage_color(0.97, 0.95)
    assert by_code["410103001002"]["fill"] == overlays.coverage_color(0.40, 0.95)
    # The bigger community gets the bigger dot (radius 4 + 8·√(population / largest)).
    assert by_code["410103001001"]["radius"] == pytest.approx(12)
    assert by_code["410103001002"]["radius"] == pytest.approx(8)
    # The view is centred on the two points (the box padded evenly on both sides).
    assert deck.initial_view_state.longitude == pytest.approx(113.5)
    assert shapes.Geo().empty


def test_the_dark_map_has_a_dark_base_and_light_labels():
    geo = shapes.Geo(district=[square("410103", "district", 113.0, 34.0, 1.0)], areas=COMMUNITIES)
    deck = maps.district_map(geo, lang="zh", layers=("labels",), dark=True)
    district = next(item for item in deck.layers if item.id == "district")
    assert sum(district.get_fill_color[:3]) < 3 * 80
    labels = next(item for item in deck.layers if item.id == "labels-community")
    assert sum(labels.get_color[:3]) > 3 * 200


# ---------------------------------------------------------------- the legend

def test_legend_names_every_drawn_layer_and_nothing_else():
    geo = shapes.Geo(district=[square("410103", "district", 113.0, 34.0, 1.0)], areas=COMMUNITIES)
    posts = pd.DataFrame({"site_id": ["CP01"], "area_code": ["410103001001"], "name": ["卡点"], "kind": ["checkpoint"],
                          "lon": [113.85], "lat": [34.85], "on_duty": [2], "min_staff": [3], "understaffed": [True]})
    deck = maps.district_map(geo, lang="en", layers=("posts", "zones"), posts=posts)  # zones chosen, no data
    labels = [entry.label for entry in legend.legend_for(deck, "en")]
    assert labels == ["Post staffed", "Post understaffed"]
    deck = maps.district_map(geo, lang="zh", layers=("coverage",), coverage=pd.DataFrame(
        {"area_code": [], "name": [], "coverage": [], "persons_sampled": [], "population": []}), coverage_round=1)
    assert [entry.label for entry in legend.legend_for(deck, "zh", 0.95)] == ["覆盖率 ≥ 95.0%", "低于目标", "≤ 47.5%"]


def test_legend_html_escapes_its_labels():
    shown = legend.legend_html([legend.Entry((1, 2, 3), "<b>x</b>")])
    assert "&lt;b&gt;x&lt;/b&gt;" in shown and "<b>" not in shown
    assert legend.legend_html([]) == ""


# ---------------------------------------------------------------- figures and tables on a wall

def test_dark_figures_keep_their_colours_and_lose_the_crowding():
    trend = pd.DataFrame({"day": pd.to_datetime(["2022-01-05", "2022-01-06"]), "positives": [3, 5]})
    figure = charts.daily_bars(trend, "positives", "阳性", "zh", "#dc2626")
    dark = charts.on_dark(figure, height=150)
    assert dark.layout.paper_bgcolor == charts.DARK_PAPER and dark.layout.height == 150
    assert dark.data[0].marker.color == "#dc2626" and dark.data[0].textposition == "none"
    assert figure.layout.paper_bgcolor is None  # the desk's figure is left as it was


def test_wall_tables_escape_every_cell_and_say_how_many_more():
    frame = pd.DataFrame({"名称": [f"<script>{i}</script>" for i in range(5)], "覆盖率": [0.5, 0.25, 1, 0.9, 0.1]})
    shown = table_view.table_html(frame, "zh", table=Table(frame, percent=("覆盖率",)), max_rows=3)
    assert "<script>" not in shown and "&lt;script&gt;0&lt;/script&gt;" in shown
    assert shown.count("<tr>") == 4  # the header and three rows
    assert "25.0%" in shown and "90.0%" not in shown
    assert t("kiosk.more", "zh", count=2) in shown


# ---------------------------------------------------------------- what changed

NOW = datetime(2022, 1, 6, 9, 0)


def test_a_new_snapshot_marks_the_changed_cards_for_ten_minutes():
    view = ("", "zh")
    seen, marked = kpis.mark_changes(None, view, "v1", {"positives": "3", "samples": "100"}, NOW)
    assert marked == set()
    seen, marked = kpis.mark_changes(seen, view, "v1", {"positives": "3", "samples": "100"}, NOW + timedelta(minutes=1))
    assert marked == set()
    seen, marked = kpis.mark_changes(seen, view, "v2", {"positives": "5", "samples": "100"}, NOW + timedelta(minutes=2))
    assert marked == {"positives"}
    seen, marked = kpis.mark_changes(seen, view, "v2", {"positives": "5", "samples": "100"}, NOW + timedelta(minutes=11))
    assert marked == {"positives"}  # 9 minutes after the swap
    seen, marked = kpis.mark_changes(seen, view, "v2", {"positives": "5", "samples": "100"}, NOW + timedelta(minutes=12))
    assert marked == set()  # 10 minutes after the swap


def test_another_area_or_language_is_not_a_change():
    seen, _ = kpis.mark_changes(None, ("", "zh"), "v1", {"positives": "3"}, NOW)
    _, marked = kpis.mark_changes(seen, ("410103001", "zh"), "v2", {"positives": "1"}, NOW)
    assert marked == set()


# ---------------------------------------------------------------- a kiosk page leaves the controls out

@pytest.mark.usefixtures("app_env")
@pytest.mark.parametrize("file", ["overview.py", "zones.py", "testing.py", "isolation.py", "staff.py"])
def test_kiosk_pages_draw_no_control_and_no_data_grid(file):
    at = open_page(file, kiosk="1")
    assert not at.exception
    # The sidebar keeps the view's state (day, area, layers) but is hidden; the page draws no control.
    main = at.main
    assert not main.button and not main.select_slider and not main.selectbox
    assert not main.get("download_button")
    assert not at.sidebar.get("expander"), "the copy-link box"
    assert not main.dataframe, "a kiosk table is plain HTML: the data grid cannot be made dark"
    assert "kiosk-table" in html_blocks(at) or file == "overview.py"


@pytest.mark.usefixtures("app_env")
def test_kiosk_overview_shows_the_top_of_the_attention_list_and_small_trends():
    at = open_page("overview.py", kiosk="1")
    assert len(at.get("plotly_chart")) == 4
    assert [h.value for h in at.header] == [t("overview.map", "zh"), t("overview.attention", "zh")]


@pytest.mark.usefixtures("app_env")
def test_the_desk_overview_keeps_replay_and_download():
    at = open_page("overview.py")
    assert at.select_slider and at.get("download_button")
    # The ranked attention list, with its expandable per-street lines.
    assert any('class="attention"' in element.proto.body for element in at.get("html"))


def test_activity_in_one_community_shows_that_community_whole():
    # The community is the square 113.6..113.8 × 34.6..34.8 of a 1° district.
    geo = shapes.Geo(district=[square("410103", "district", 113.0, 34.0, 1.0)],
                   communities=[square("410103001001", "community", 113.6, 34.6, 0.2)], areas=COMMUNITIES)
    isolation = pd.DataFrame({"area_code": ["410103001001"], "name": ["甲"], "lon": [113.7], "lat": [34.7],
                              "active": [40], "home": [40], "home_monitoring": [0], "centralized": [0]})
    points = maps.activity_points(geo, None, isolation)
    assert sorted((round(lon, 6), round(lat, 6), weight) for lon, lat, weight in points) == [
        (113.6, 34.6, 10.0), (113.6, 34.8, 10.0), (113.8, 34.6, 10.0), (113.8, 34.8, 10.0)]
    # 0.2° padded by 12 % each side: 0.248° (just under the 0.25° minimum, so the minimum wins).
    assert viewport.activity_box(DISTRICT, points) == pytest.approx((113.575, 34.575, 113.825, 34.825))
