"""Builders without Streamlit: the deck's layers and the figures' traces, from fixture queries."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime

import pandas as pd
import pytest

from dashboard.figures.headline import HeadlineFigures, build_report, headline_figures
from dashboard.web.builders import charts, kpis, maps, shapes, tables
from dashboard.web.builders.overlays import POST_OK, POST_SHORT, coverage_color
from tests.fixtures import DAYS, TAIGUO, XIGONGFANG, XINGHUA, XINGYUAN

NEWEST = DAYS[-1]
NOON = datetime(2022, 1, 6, 12, 0)


@pytest.fixture
def geo(snapshot) -> shapes.Geo:
    return shapes.geo_from_frames(snapshot.run("map/boundaries"), snapshot.run("map/areas"))


@pytest.fixture
def overlays(snapshot) -> dict:
    return dict(
        coverage=snapshot.run("testing/coverage_by_community", day=NEWEST, round=2, area=""),
        coverage_round=2,
        zones=snapshot.run("zones/zone_table", day=NEWEST, area="", review_days=14),
        isolation=snapshot.run("isolation/by_community", day=NEWEST, area=""),
        posts=snapshot.run("staff/on_duty_at", at=NOON, area=""),
    )


def layer(deck, layer_id):
    return next(item for item in deck.layers if item.id == layer_id)


def test_geo_splits_the_boundaries_by_level(geo):
    assert len(geo.district) == 1
    assert len(geo.streets) == 2
    assert sorted(f["properties"]["area_code"] for f in geo.communities) == sorted(
        [XIGONGFANG, XINGHUA, TAIGUO, XINGYUAN])


def test_map_has_the_offline_base_and_every_overlay(geo, overlays):
    deck = maps.district_map(geo, lang="zh", layers=maps.ALL_LAYERS, day=NEWEST, **overlays)
    ids = [item.id for item in deck.layers]
    assert ids[:3] == ["district", "communities", "streets"]
    assert {"coverage", "zones-area", "zones-point", "isolation", "posts", "labels-community",
            "labels-street"} <= set(ids)
    # No basemap: no provider, and the style sentinel that Streamlit renders as "none".
    spec = json.loads(deck.to_json())
    assert spec["mapStyle"] == "__MAP_STYLE__"
    assert "mapProvider" not in spec
    assert "http" not in deck.to_json()


def test_map_without_layers_draws_only_the_base(geo, overlays):
    deck = maps.district_map(geo, lang="zh", layers=(), **overlays)
    assert [item.id for item in deck.layers] == ["district", "communities", "streets"]


def test_labels_are_chinese_text_layers(geo):
    deck = maps.district_map(geo, lang="en", layers=("labels",))
    spec = json.loads(deck.to_json())
    text_layers = [item for item in spec["layers"] if item["@@type"] == "TextLayer"]
    assert len(text_layers) == 2
    for item in text_layers:
        assert item["characterSet"] == "auto"
        assert item["fontFamily"].startswith('"Noto Sans CJK SC"')
    names = {row["name"] for item in text_layers for row in item["data"]}
    assert {"蜜蜂张街道", "人和路街道"} <= names


def test_coverage_layer_colours_below_target(geo, overlays):
    """Round 2 on 01-06: 台郭 reached 950 / 1,000 = 95 % (the target); 兴华 700 / 800 = 87.5 %."""
    deck = maps.district_map(geo, lang="zh", layers=("coverage",), coverage_target=0.95, **{
        k: overlays[k] for k in ("coverage", "coverage_round")})
    features = {f["properties"]["area_code"]: f["properties"] for f in layer(deck, "coverage").data["features"]}
    assert features[TAIGUO]["coverage"] == pytest.approx(0.95)
    assert features[TAIGUO]["fill"] == coverage_color(0.95, 0.95)
    assert features[TAIGUO]["fill"][1] > features[TAIGUO]["fill"][0]  # green
    assert features[XINGHUA]["fill"][0] > features[XINGHUA]["fill"][1]  # red side
    assert "87.5%" in features[XINGHUA]["tip"]


def test_zones_scope_decides_polygon_or_marker(geo, overlays):
    """Z2 (台郭, community scope) is the community polygon; Z1 and Z4 are markers."""
    deck = maps.district_map(geo, lang="zh", layers=("zones",), zones=overlays["zones"], day=NEWEST)
    polygons = layer(deck, "zones-area").data["features"]
    assert [f["properties"]["zone_id"] for f in polygons] == ["Z2"]
    assert polygons[0]["properties"]["fill"] == [234, 88, 12, 110]  # 管控 orange
    markers = layer(deck, "zones-point").data
    assert sorted(m["zone_id"] for m in markers) == ["Z1", "Z4"]
    assert {tuple(m["color"]) for m in markers} == {(153, 27, 27, 220)}  # 封控 dark red
    z1, z4 = sorted(markers, key=lambda m: m["zone_id"])
    assert z1["radius"] > z4["radius"]  # 300 residents against 120


def test_posts_are_red_when_understaffed_and_sized_by_staff(geo, overlays):
    deck = maps.district_map(geo, lang="en", layers=("posts",), posts=overlays["posts"])
    posts = {p["site_id"]: p for p in layer(deck, "posts").data}
    assert set(posts) == {"CP01", "TS01", "MV01"}
    assert posts["TS01"]["color"][:3] == POST_SHORT and posts["TS01"]["understaffed"]
    assert posts["CP01"]["color"][:3] == POST_OK
    assert posts["CP01"]["radius"] > posts["MV01"]["radius"]  # 6 on duty against 2
    assert "understaffed" in posts["TS01"]["tip"] and "1 on duty / minimum 2" in posts["TS01"]["tip"]


def test_isolation_as_circles_or_columns(geo, overlays):
    circles = layer(maps.district_map(geo, lang="zh", layers=("isolation",), isolation=overlays["isolation"]),
                    "isolation")
    columns = layer(maps.district_map(geo, lang="zh", layers=("isolation_3d",), isolation=overlays["isolation"]),
                    "isolation")
    assert circles.type == "ScatterplotLayer" and columns.type == "ColumnLayer"
    # 01-06: 台郭 2 (C1, C3), 西工房 1, 兴华 1, 杏苑 1 (C7).
    assert {row["area_code"]: row["active"] for row in circles.data} == {
        TAIGUO: 2, XIGONGFANG: 1, XINGHUA: 1, XINGYUAN: 1}


def test_tooltips_follow_the_language(geo, overlays):
    zh = layer(maps.district_map(geo, lang="zh", layers=("isolation",), isolation=overlays["isolation"]), "isolation")
    en = layer(maps.district_map(geo, lang="en", layers=("isolation",), isolation=overlays["isolation"]), "isolation")
    assert "在隔离 2 人" in next(r["tip"] for r in zh.data if r["area_code"] == TAIGUO)
    assert "2 in isolation" in next(r["tip"] for r in en.data if r["area_code"] == TAIGUO)


def test_drilling_down_zooms_in_on_the_area(geo):
    district = maps.district_map(geo, lang="zh", layers=())
    street = maps.district_map(geo, lang="zh", layers=(), area="410103001")
    community = maps.district_map(geo, lang="zh", layers=(), area=XINGYUAN)
    # The street (0.04° × 0.02°) and the community (0.02° square) are both as tall as the map allows.
    assert district.initial_view_state.zoom < street.initial_view_state.zoom <= community.initial_view_state.zoom
    assert community.initial_view_state.latitude == pytest.approx(34.70, abs=1e-3)
    assert community.initial_view_state.longitude == pytest.approx(113.62, abs=1e-3)


def test_fit_view_keeps_the_box_on_screen():
    box = (113.50, 34.60, 113.68, 34.77)
    view = maps.fit_view(box, width_px=1000, height_px=560)
    for lon, lat in ((box[0], box[1]), (box[2], box[3])):
        x, y = maps.to_pixels(lon, lat, view)
        assert abs(x) <= 500 and abs(y) <= 280
    # ...and uses most of it (not a tiny map in a big frame).
    x, y = maps.to_pixels(box[2], box[3], view)
    assert abs(y) > 0.8 * 280


def test_thin_labels_drops_overlaps_by_priority():
    view = maps.fit_view((113.5, 34.6, 113.7, 34.8), 1000, 560)
    labels = [{"name": "甲社区", "lon": 113.6, "lat": 34.7, "priority": 5},
              {"name": "乙社区", "lon": 113.6001, "lat": 34.7001, "priority": 9},
              {"name": "丙社区", "lon": 113.55, "lat": 34.65, "priority": 1}]
    assert [a["name"] for a in maps.thin_labels(labels, view, 1000, 560, 13)] == ["乙社区", "丙社区"]


def test_area_from_a_selection_event_like_streamlits():
    """The shape of st.pydeck_chart's event.selection: per layer id, indices and objects."""
    feature = {"type": "Feature", "properties": {"area_code": XINGYUAN, "name": "杏苑社区"}, "geometry": {}}
    selection = {"indices": {"coverage": [3]}, "objects": {"coverage": [feature]}}
    assert maps.area_from_selection(selection) == XINGYUAN
    assert maps.area_from_selection({"indices": {"isolation": [0]},
                                     "objects": {"isolation": [{"area_code": TAIGUO, "active": 2}]}}) == TAIGUO
    # A post is not a community; nothing selected is nothing.
    assert maps.area_from_selection({"indices": {"posts": [0]},
                                     "objects": {"posts": [{"site_id": "CP01", "area_code": TAIGUO}]}}) is None
    assert maps.area_from_selection({"indices": {}, "objects": {}}) is None
    assert maps.area_from_selection(selection, known_codes={TAIGUO}) is None


def test_daily_bars_leave_missing_days_empty_not_zero():
    trend = pd.DataFrame({"day": pd.to_datetime(["2022-01-04", "2022-01-05", "2022-01-06"]),
                          "samples": [2700, None, 3670]})
    fig = charts.daily_bars(trend, "samples", "samples", "en")
    bar = fig.data[0]
    assert list(bar.y) == [2700, None, 3670]
    assert list(bar.text) == ["2,700", "no data", "3,670"]
    assert list(bar.x) == ["4 Jan", "5 Jan", "6 Jan"]


def test_trend_lines_one_per_level(snapshot):
    fig = charts.zones_trend(snapshot.run("zones/trend", day=NEWEST, area=""), "zh")
    assert [trace.name for trace in fig.data] == ["封控区", "管控区", "防范区"]
    assert list(fig.data[0].y) == [1, 2, 2]  # sealed: Z1, then Z1 + Z4
    assert list(fig.data[2].y) == [1, 1, 0]  # precaution: Z3 until it lifts on 01-06


def test_isolation_flow_in_and_out(snapshot):
    fig = charts.isolation_flow(snapshot.run("isolation/daily", day=NEWEST, area=""), "en")
    started, ended = fig.data
    # Started: C4 on 01-04; C5, C6 on 01-05; C7 on 01-06. Ended: C2 on 01-05, C6 on 01-06.
    assert list(started.y) == [1, 2, 1]
    assert list(ended.y) == [0, -1, -1]


def test_samples_heatmap_marks_mobile_vehicles(snapshot):
    fig = charts.samples_heatmap(snapshot.run("testing/samples_by_hour", day=NEWEST, area=""), "zh")
    heat = fig.data[0]
    assert list(heat.y) == ["西工房固定采样点", "◆ 流动采样车1号（流动）"]
    assert len(heat.x) == 24
    # 01-06: TS01 sampled 西工房 and 兴华 (900 + 20 + 700), MV01 台郭 and 杏苑 (950 + 1,100).
    assert [sum(row) for row in heat.z] == [1620, 2050]


def test_staff_heatmap_red_where_short(snapshot):
    fig = charts.staff_heatmap(snapshot.run("staff/hourly_coverage", day=NEWEST, area=""), "en")
    heat = fig.data[0]
    rows = dict(zip([label.split(" (")[0].split("（")[0] for label in heat.y], heat.z))
    # TS01 has one doctor 08-16 against 2 needed: short all day; CP01 never.
    assert all(v == 0.0 for v in rows["西工房固定采样点"])
    assert all(v == 1.0 for v in rows["郑少高速郑州西南站卡点"])
    # MV01: two doctors 08:00-16:00 only.
    mobile = rows["流动采样车1号"]
    assert [h for h, v in enumerate(mobile) if v == 1.0] == list(range(8, 16))


def test_zone_gantt_bars_per_level(snapshot):
    fig = charts.zone_gantt(snapshot.run("zones/timeline", day=NEWEST, area=""), NEWEST, "zh")
    assert [trace.name for trace in fig.data] == ["封控区", "管控区", "防范区"]
    assert list(fig.data[2].y) == ["西工房社区"]
    # Z3 ran from 01-03 until it lifted on 01-06: three days.
    assert fig.data[2].x[0] == pytest.approx(3 * 24 * 3600 * 1000)


def test_feed_matrix_marks_missing_optional_files(snapshot):
    fig = charts.feed_matrix(snapshot.run("health/feed_matrix", area=""), "en")
    heat = fig.data[0]
    assert list(heat.y) == ["6 Jan", "5 Jan", "4 Jan"]
    testing_col = list(heat.x).index("Testing records")
    checkpoint_col = list(heat.x).index("Checkpoint log")
    door_col = list(heat.x).index("Door-to-door visits")
    assert heat.text[0][testing_col] == "3,670 / 0"
    # Checkpoint counts arrive from 01-05 (3 periods a day), door visits on 01-06 (4 rows).
    assert [row[checkpoint_col] for row in heat.text] == ["3 / 0", "3 / 0", "missing"]
    assert [row[door_col] for row in heat.text] == ["4 / 0", "missing", "missing"]


def test_kpi_cards_match_the_report(snapshot):
    """The overview's cards show build_report's figures for the district."""
    figures = headline_figures(snapshot.run, NEWEST, NOON)
    assert figures.report_fields() == {key: value for key, value in build_report(snapshot, NEWEST, NOON).items()
                                       if key not in ("as_of", "at", "feeds", "corrections", "reporting")}
    cards = {c.key: c for c in kpis.kpi_cards(figures, None, "en", day=NEWEST)}
    assert cards["samples"].value == "3,670"
    assert cards["zones_sealed"].value == "2"
    assert cards["round_coverage"].value == "91.3%"
    assert cards["hotel_occupancy"].value == "15.0%"
    assert cards["staff_on_duty"].value == "9 / 10"
    assert all(c.delta is None for c in cards.values())


def test_kpi_card_from_an_earlier_export_says_so_and_has_no_delta():
    figures = HeadlineFigures(feeds={}, zones_active=None, population_sealed=None, samples_on_day=11,
                              positives_on_day=1, testing_day=date(2022, 1, 5), current_round=None,
                              round_coverage=None, isolation_active=None, releases_due_next_day=None,
                              hotel_occupancy=None, staff_on_duty=None, staff_required=None,
                              posts_understaffed=None, shifts_day=None, staff_at=None)
    previous = dataclasses.replace(figures, samples_on_day=2700, testing_day=date(2022, 1, 4))
    cards = {c.key: c for c in kpis.kpi_cards(figures, previous, "en", day=date(2022, 1, 6),
                                               previous_day=date(2022, 1, 5))}
    assert cards["samples"].label == "Samples on 5 Jan"
    assert cards["samples"].value == "11" and cards["samples"].delta is None
    assert cards["zones_sealed"].value == "no data"
    assert cards["staff_on_duty"].value == "no data"


def test_each_kpi_card_is_as_of_its_own_feeds_export():
    """The zones' ledger is of 6 Jan, the isolation ledger of 4 Jan, the samples of 5 Jan, and no
    roster came: each card says its own day, and "no data" where its feed has none."""
    figures = HeadlineFigures(
        feeds={"control_zones": {"latest_export": "2022-01-06"}, "isolation": {"latest_export": "2022-01-04"}},
        zones_active={"sealed": 1}, population_sealed=9, samples_on_day=11, positives_on_day=1,
        testing_day=date(2022, 1, 5), current_round=2, round_coverage=0.5, isolation_active={"home": 3},
        releases_due_next_day=0, hotel_occupancy=0.1, staff_on_duty=None, staff_required=None,
        posts_understaffed=None, shifts_day=None, staff_at=None)
    as_of = {c.key: c.as_of for c in kpis.kpi_cards(figures, None, "en", day=date(2022, 1, 6))}
    assert {key: as_of[key] for key in ("zones_sealed", "population_sealed", "samples", "round_coverage",
                                        "isolation_home", "hotel_occupancy", "staff_on_duty")} == {
        "zones_sealed": "6 Jan", "population_sealed": "6 Jan", "samples": "5 Jan", "round_coverage": "5 Jan",
        "isolation_home": "4 Jan", "hotel_occupancy": "4 Jan", "staff_on_duty": "no data"}
    assert all(as_of.values()), "every card has an as-of, if only 'no data'"


def test_a_cards_as_of_cannot_break_out_of_its_css_string():
    from dashboard.web.kpi_strip import css_string

    quoted = css_string('1月6日"; } body {display: none} </style><script>')
    assert quoted.startswith('"1月6日\\') and quoted.endswith('"')
    inner = quoted[1:-1]
    assert not set(inner) & set('"<>;{}/'), quoted


def test_releases_table_has_counts_not_people(snapshot):
    table = tables.releases_table(snapshot.run("isolation/by_community", day=NEWEST, area=""), "zh")
    assert table.frame.to_dict("list") == {"社区": ["西工房社区"], "明日解除": [1]}


def test_roster_table_shows_names_and_local_words(snapshot):
    table = tables.roster_table(snapshot.run("staff/roster", day=NEWEST, area="410103001"), "en")
    assert table.frame["Name"].tolist() == ["采样医生0", "采样医生1"]
    assert table.frame["Status"].tolist() == ["done", "absent"]
    assert table.frame["Starts"].tolist() == ["08:00–16:00", "08:00–16:00"]


def test_catalog_has_both_languages_with_the_same_placeholders():
    import string

    from dashboard.i18n import CATALOG

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for key, (zh, en) in CATALOG.items():
        assert zh and en, key
        assert fields(zh) == fields(en), key


def test_numbers_and_dates_follow_the_language():
    from dashboard.i18n import day, num, pct, short_day

    assert num(1234567, "zh") == num(1234567, "en") == "1,234,567"
    assert num(None, "zh") == "无数据" and num(float("nan"), "en") == "no data"
    assert pct(0.9125, "en") == "91.3%"  # half up, as a person rounds
    assert day(date(2022, 1, 6), "zh") == "2022年1月6日"
    assert day(date(2022, 1, 6), "en") == "6 Jan 2022"
    assert short_day(pd.Timestamp("2022-01-06"), "zh") == "1月6日"


def test_map_tooltip_is_text_so_data_cannot_inject_markup(geo, overlays):
    # deck.gl puts a tooltip's "html" into innerHTML; zone and site names come from exports.
    deck = maps.district_map(geo, lang="zh", layers=maps.ALL_LAYERS, day=NEWEST, **overlays)
    assert deck._tooltip["text"] == "{tip}" and "html" not in deck._tooltip
