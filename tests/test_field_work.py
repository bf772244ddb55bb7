"""Checkpoint counts and door-to-door visits: the optional field-work feeds, against the figures
worked out by hand next to CHECKPOINT_LOG and DOOR_VISITS in tests/fixtures.py."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest

from dashboard.i18n import t
from dashboard.web.builders import charts
from tests.fixtures import DAYS
from tests.test_app_pages import app_env, open_page  # noqa: F401  (app_env is a fixture)

MIFENGZHANG, RENHELU = "410103001", "410103002"  # 西工房 + 兴华; 台郭 + 杏苑 and the checkpoint CP01


def records(frame, columns: list[str]) -> list[tuple]:
    return [tuple(row) for row in frame[columns].itertuples(index=False)]


CHECKPOINT_COLUMNS = ["site_id", "vehicles_checked", "people_checked", "turned_back", "fever_found"]


def test_checkpoint_throughput_per_day_over_fourteen_days(snapshot):
    frame = snapshot.run("staff/checkpoint_throughput", day=DAYS[2], area="")
    assert [d.date() for d in frame["day"]] == [DAYS[1], DAYS[2]]
    assert records(frame, CHECKPOINT_COLUMNS) == [("CP01", 280, 400, 10, 2), ("CP01", 300, 450, 15, 1)]
    assert set(frame["name"]) == {"郑少高速郑州西南站卡点"}


def test_checkpoint_throughput_follows_the_day_and_the_area(snapshot):
    # 01-05 sees only its own counts: the window ends at the day.
    assert records(snapshot.run("staff/checkpoint_throughput", day=DAYS[1], area=""), CHECKPOINT_COLUMNS) == [
        ("CP01", 280, 400, 10, 2)]
    # Nothing was exported before 01-05.
    assert snapshot.run("staff/checkpoint_throughput", day=DAYS[0], area="").empty
    # CP01 is in 台郭, 人和路街道: the other street has no checkpoint.
    assert len(snapshot.run("staff/checkpoint_throughput", day=DAYS[2], area=RENHELU)) == 2
    assert snapshot.run("staff/checkpoint_throughput", day=DAYS[2], area=MIFENGZHANG).empty


DOOR_COLUMNS = ["teams", "households_visited", "people_checked", "fever_found"]


@pytest.mark.parametrize("area, expected", [
    ("", (3, 320, 820, 3)),
    (MIFENGZHANG, (1, 150, 380, 1)),
    (RENHELU, (2, 170, 440, 2)),
], ids=["district", "蜜蜂张街道", "人和路街道"])
def test_door_visits_per_area(snapshot, area, expected):
    frame = snapshot.run("staff/door_visits", day=DAYS[2], area=area)
    assert [d.date() for d in frame["day"]] == [DAYS[2]]
    assert records(frame, DOOR_COLUMNS) == [expected]


def test_door_visits_before_the_first_export_are_empty(snapshot):
    assert snapshot.run("staff/door_visits", day=DAYS[1], area="").empty


def bar_values(trace: dict) -> list[float]:
    """A plotly bar's y values, whether written as a list or as a base64 typed array."""
    y = trace["y"]
    if isinstance(y, dict):
        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]).tolist()
    return list(y)


def test_staff_page_charts_show_the_hand_figures(app_env):  # noqa: F811
    at = open_page("staff.py", day=DAYS[2].isoformat(), lang="en")
    assert not at.exception, [e.message for e in at.exception]
    figures = {spec["layout"]["title"]["text"]: spec
               for spec in (json.loads(chart.proto.spec) for chart in at.get("plotly_chart"))}
    checkpoint = {trace["name"]: (trace["x"], bar_values(trace)) for trace in figures["Checkpoint throughput"]["data"]}
    assert checkpoint == {
        "Vehicles checked": (["5 Jan", "6 Jan"], [280, 300]),
        "People checked": (["5 Jan", "6 Jan"], [400, 450]),
        "Turned back": (["5 Jan", "6 Jan"], [10, 15]),
    }
    visits = {trace["name"]: (trace["x"], bar_values(trace)) for trace in figures["Door-to-door visits"]["data"]}
    assert visits == {"Households visited": (["6 Jan"], [320]), "People checked": (["6 Jan"], [820])}


def test_staff_page_says_when_a_field_feed_was_never_exported(app_env):  # noqa: F811
    at = open_page("staff.py", day=DAYS[0].isoformat(), lang="en")
    assert not at.exception
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert "Checkpoint throughput" not in titles and "Door-to-door visits" not in titles
    notes = [i.value for i in at.info]
    for feed in ("checkpoint_log", "door_visits"):
        assert t("staff.optional_absent", "en", feed=t(f"feed.{feed}", "en")) in notes, notes


def test_checkpoint_bars_sum_periods_per_day():
    frame = pd.DataFrame({"day": pd.to_datetime(["2022-01-05", "2022-01-05", "2022-01-06"]),
                          "vehicles_checked": [35, 245, 300], "people_checked": [50, 350, 450],
                          "turned_back": [1, 9, 15]})
    fig = charts.checkpoint_bars(frame, "en")
    assert [list(trace.y) for trace in fig.data] == [[280, 300], [400, 450], [10, 15]]
