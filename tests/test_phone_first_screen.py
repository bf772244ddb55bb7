"""A phone's first screen needs no chart bundle (issue 21): the cards and the attention list draw
with no plotly figure and no map; one switch under the title loads them, for the whole visit.
The browser test (tests/browser/test_phone.py) checks that no chart bundle is fetched."""

from __future__ import annotations

import pytest

from dashboard.i18n import t
from dashboard.web import device
from tests.test_app_pages import app_env, open_page  # noqa: F401  (app_env is a fixture)

CHART_PAGES = ("overview.py", "zones.py", "testing.py", "isolation.py", "staff.py", "health.py")


def charts_and_maps(at) -> int:
    return len(at.get("plotly_chart")) + len(at.get("deck_gl_json_chart"))


@pytest.fixture
def on_a_phone(app_env, monkeypatch):  # noqa: F811
    monkeypatch.setattr(device, "phone", lambda: True)


def switch(at):
    return next(toggle for toggle in at.toggle if toggle.label == t("phone.charts", "zh"))


@pytest.mark.parametrize("page", CHART_PAGES)
def test_a_phone_page_draws_its_figures_and_no_chart_until_asked(on_a_phone, page):
    at = open_page(page, day="2022-01-06")
    assert not at.exception, [e.message for e in at.exception]
    assert charts_and_maps(at) == 0
    assert switch(at).value is False
    assert any(t("phone.chart_hidden", "zh") in caption.value for caption in at.caption)
    if page != "health.py":  # the data-health page has tables, not cards
        assert at.metric, "the cards must not wait for the switch"
    switch(at).set_value(True).run()
    assert not at.exception, [e.message for e in at.exception]
    assert charts_and_maps(at) > 0


def test_the_switch_holds_for_the_rest_of_the_visit(on_a_phone):
    at = open_page("overview.py", day="2022-01-06")
    assert at.get("deck_gl_json_chart") == [] and at.header, "the attention list comes without the switch"
    switch(at).set_value(True).run()
    assert len(at.get("deck_gl_json_chart")) == 1 and len(at.get("plotly_chart")) == 4
    at.switch_page("app_pages/zones.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert switch(at).value is True and at.get("deck_gl_json_chart")


def test_a_desk_and_a_wall_have_no_switch(app_env):  # noqa: F811
    for extra in ({}, {"kiosk": "1"}):
        at = open_page("overview.py", day="2022-01-06", **extra)
        assert not [toggle for toggle in at.toggle if toggle.label == t("phone.charts", "zh")]
        assert at.get("deck_gl_json_chart") and at.get("plotly_chart")


def test_a_phones_overview_draws_no_replay_slider_but_keeps_the_briefing(on_a_phone, app_env):  # noqa: F811
    """Replaying the days is for the desk: a phone is sent neither the slider nor the play button
    (their bundles cost a phone bytes for controls it hid), and keeps the briefing's download."""
    phone = open_page("overview.py", day="2022-01-06")
    assert not phone.exception, [e.message for e in phone.exception]
    assert phone.select_slider == [] and phone.button == []
    assert phone.get("download_button"), "the briefing stays on a phone"
