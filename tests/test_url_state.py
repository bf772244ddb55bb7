"""URL state: query params set the widgets, widgets write the params, and a map click drills down."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.web import state
from tests.fixtures import DAYS, TAIGUO, XINGYUAN

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"


@pytest.fixture(autouse=True)
def app_env(fixture_snapshot, monkeypatch):
    monkeypatch.setenv("DASHBOARD_DATA", str(fixture_snapshot.data_dir))
    monkeypatch.setenv("DASHBOARD_DB", str(fixture_snapshot.db_path))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def app(**params) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    for name, value in params.items():
        at.query_params[name] = value
    return at


def widget(at: AppTest, kind: str, key: str):
    return next(w for w in getattr(at, kind) if w.key == key)


def test_defaults_are_written_to_the_url():
    at = app().run()
    assert not at.exception
    assert at.query_params == {"day": DAYS[-1].isoformat(), "lang": "zh",
                               "layers": "coverage,zones,isolation,posts,labels"}
    assert at.title[0].value == "总览"


def test_params_set_the_widgets_and_round_trip():
    params = {"day": DAYS[0].isoformat(), "area": XINGYUAN, "lang": "en", "layers": "zones,posts"}
    at = app(**params)
    at.switch_page("app_pages/testing.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert widget(at, "selectbox", "day").value == "2022-01-04"
    assert widget(at, "selectbox", "street").value == "410103002"
    assert widget(at, "selectbox", "community").value == XINGYUAN
    assert widget(at, "radio", "lang").value == "en"
    assert widget(at, "button_group", "layers").value == ["zones", "posts"]
    assert at.title[0].value == "Testing"
    # Round 1 in 杏苑 on 01-04: 900 of 1,200 residents.
    assert {m.label: m.value for m in at.metric}["Round 1 coverage"] == "75.0%"
    assert at.query_params == params


def test_changing_widgets_updates_the_url():
    at = app().run()
    widget(at, "selectbox", "street").set_value("410103002").run()
    assert at.query_params["area"] == "410103002"
    widget(at, "selectbox", "community").set_value(TAIGUO).run()
    assert at.query_params["area"] == TAIGUO
    widget(at, "radio", "lang").set_value("en").run()
    widget(at, "selectbox", "day").set_value(DAYS[1].isoformat()).run()
    widget(at, "button_group", "layers").set_value(["coverage"]).run()
    assert at.query_params == {"day": "2022-01-05", "lang": "en", "layers": "coverage", "area": TAIGUO}
    assert at.title[0].value == "Overview"
    # Back to the whole district: the area leaves the URL.
    widget(at, "selectbox", "street").set_value("").run()
    assert "area" not in at.query_params
    assert widget(at, "selectbox", "community").value == ""


def test_the_link_box_holds_the_view_as_the_url_has_it():
    """The sidebar's link to copy carries the same view as the address bar, in a plain text box
    (a code box would make a phone load a syntax highlighter for one line)."""
    at = app(area=TAIGUO, lang="en").run()
    link = next(box for box in at.sidebar.text_input if box.label == "Link to this view").value
    assert dict(parse_qsl(urlsplit(link).query)) == at.query_params
    assert not at.sidebar.code


def test_navigation_without_params_keeps_the_view():
    """Streamlit drops the query string when a navigation link is followed; the view stays."""
    at = app(day=DAYS[0].isoformat(), area="410103001", lang="en").run()
    at.query_params.clear()
    at.switch_page("app_pages/zones.py").run()
    assert at.title[0].value == "Sealed areas"
    assert at.query_params["day"] == "2022-01-04"
    assert at.query_params["area"] == "410103001"
    assert at.query_params["lang"] == "en"


def test_invalid_params_are_ignored_with_a_note():
    at = app(day="1999-01-01", area="999", lang="fr", layers="coverage,satellite").run()
    assert not at.exception
    assert widget(at, "selectbox", "day").value == DAYS[-1].isoformat()
    assert widget(at, "selectbox", "street").value == ""
    assert widget(at, "radio", "lang").value == "zh"
    notes = [w.value for w in at.sidebar.warning]
    # The notes are Markdown with the URL's values escaped; a backslash shows nothing.
    assert len(notes) == 4 and any("day=1999-01-01" in n.replace("\\", "") for n in notes)
    assert at.query_params["day"] == DAYS[-1].isoformat()


def test_map_selection_callback_sets_the_pending_area():
    """The on_select callback, fed an event shaped like st.pydeck_chart's."""
    def script():
        import streamlit as st

        from dashboard.web import map_view, state

        event = {"selection": {"indices": {"communities": [2]}, "objects": {"communities": [
            {"type": "Feature", "properties": {"area_code": "410103002001", "name": "台郭社区"}}]}}}
        st.session_state["map-test"] = event
        map_view._select_from_map("map-test", frozenset({"410103002001"}))
        st.write(st.session_state.get(state.PENDING_AREA, "none"))

    at = AppTest.from_function(script, default_timeout=30).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.markdown[0].value == TAIGUO


def test_a_map_click_drills_down_and_updates_the_url():
    at = app(lang="zh").run()
    at.session_state[state.PENDING_AREA] = TAIGUO  # what the callback leaves for the next run
    at.run()
    assert widget(at, "selectbox", "street").value == "410103002"
    assert widget(at, "selectbox", "community").value == TAIGUO
    assert at.query_params["area"] == TAIGUO
    # The page now shows 台郭's figures: zones Z1 (sealed, 300 residents) and Z2 (controlled).
    shown = {m.label: m.value for m in at.metric}
    assert shown["封控区"] == "1" and shown["管控区"] == "1" and shown["封控区人口"] == "300"


def test_an_unpinned_view_follows_the_newest_day_and_a_pinned_one_stays(fresh_data, monkeypatch):
    import shutil

    from dashboard.ingest.build import ingest
    from tests.fixtures import build_fixture

    newest = fresh_data.data_dir / "exports" / "2022-01-06"
    shutil.rmtree(newest)
    assert ingest(fresh_data).ok
    monkeypatch.setenv("DASHBOARD_DATA", str(fresh_data.data_dir))
    monkeypatch.setenv("DASHBOARD_DB", str(fresh_data.db_path))
    st.cache_data.clear()
    following = app().run()
    pinned = app(day="2022-01-05").run()
    assert following.query_params["day"] == pinned.query_params["day"] == "2022-01-05"

    build_fixture(fresh_data.data_dir)  # 01-06 arrives
    assert ingest(fresh_data).ok
    following.run()
    pinned.run()
    assert following.query_params["day"] == "2022-01-06"
    assert widget(following, "selectbox", "day").value == "2022-01-06"
    assert pinned.query_params["day"] == "2022-01-05"
