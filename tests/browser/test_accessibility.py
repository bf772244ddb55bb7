"""Accessible to everyone in the room (issue 21): axe-core, injected into Chromium, finds no serious
or critical fault and no heading out of order on any page, at a desk and on a phone (the wall's
pages: tests/browser/test_screens_fit.py, on the pages its checks open); and a screen reader reads
every KPI card's label, value and "as of". How a page is scanned: tests/browser/axe.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import bcrypt
import pytest

from dashboard.i18n import t
from tests.browser.axe import AXE, AXE_VERSION, at_rest, faults
from tests.browser.support import (
    PAGES,
    TITLES,
    USER_LABEL,
    browser_context,
    log_in,
    open_app,
    path_of,
    phone_context,
    serve_fixture,
    show_charts_on_phone,
    wait_for_app,
    wait_for_map_drawn,
)

DESK = {"width": 1280, "height": 800}
# The pages whose cards are of an export day (the alerts' are of the evaluation's minute).
CARD_PAGES = ("overview", "testing", "staff")
DAY = "1月6日"  # the fixture's newest export day, which every card's feed has


def spoken_cards(page) -> list[str]:
    """Each KPI card as Chromium's accessibility tree has it: its text nodes, joined in order,
    CSS generated content included (which is how a card's hidden "as of" is read out)."""
    page.locator('[data-testid="stMetric"]').first.wait_for()
    at_rest(page)
    cdp = page.context.new_cdp_session(page)
    root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    cards = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": '[data-testid="stMetric"]'})["nodeIds"]
    spoken = []
    for card in cards:
        nodes = cdp.send("Accessibility.queryAXTree", {"nodeId": card, "role": "StaticText"})["nodes"]
        spoken.append("".join(node["name"]["value"] for node in nodes if not node.get("ignored")))
    cdp.detach()
    return spoken


def shown_cards(page) -> list[tuple[str, str]]:
    return page.eval_on_selector_all('[data-testid="stMetric"]', """els => els.map(e => [
        e.querySelector('[data-testid="stMetricLabel"]').innerText.trim(),
        e.querySelector('[data-testid="stMetricValue"]').innerText.trim()])""")


def assert_cards_are_read_whole(page) -> None:
    spoken = spoken_cards(page)
    cards = shown_cards(page)
    for (label, value), reading in zip(cards, spoken, strict=True):
        reading = re.sub(r"\s+", "", reading)
        # The label, then "as of", then the value: the order a listener needs them in.
        as_of = t("kpi.as_of", "zh", day=DAY)
        assert re.sub(r"\s+", "", label) + as_of in reading and reading.index(as_of) < reading.rindex(
            re.sub(r"\s+", "", value)), f"{label!r} {value!r} is read as {reading!r}"


@pytest.mark.parametrize("name", PAGES)
def test_a_desk_page_has_no_serious_fault(chromium, server, axe_source, name):
    with browser_context(chromium, DESK) as context:
        page = context.new_page()
        open_app(page, server, path_of(name), TITLES[name][0])
        assert faults(page, axe_source) == []
        if name in CARD_PAGES:
            assert_cards_are_read_whole(page)


@pytest.mark.parametrize("name", PAGES)
def test_a_phone_page_has_no_serious_fault(chromium, server, axe_source, name):
    with phone_context(chromium) as context:
        page = context.new_page()
        open_app(page, server, path_of(name), TITLES[name][0])
        assert faults(page, axe_source) == []


def test_the_phone_overview_with_its_charts_has_no_serious_fault(chromium, server, axe_source):
    with phone_context(chromium) as context:
        page = context.new_page()
        open_app(page, server, "/", TITLES["overview"][0])
        show_charts_on_phone(page)
        wait_for_map_drawn(page, timeout_s=40)
        assert faults(page, axe_source) == []
        assert_cards_are_read_whole(page)


def test_the_alerts_cards_say_when_they_were_evaluated(chromium, server, axe_source):
    """The session server's alerts were evaluated at 2022-01-06 12:00 (tests/browser/conftest.py)."""
    with browser_context(chromium, DESK) as context:
        page = context.new_page()
        open_app(page, server, path_of("alerts"), TITLES["alerts"][0])
        spoken = spoken_cards(page)
        assert len(spoken) == 4 and all("截至" in card and "12:00" in card for card in spoken), spoken


@pytest.fixture(scope="module")
def login_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("a11y-login")
    users = root / "users.toml"
    password = bcrypt.hashpw(b"clerk-pw", bcrypt.gensalt(4)).decode()
    users.write_text(f'[auth.users.clerk]\nrole = "clerk"\narea = "410103001"\npassword_hash = "{password}"\n',
                     encoding="utf-8")
    with serve_fixture(root, DASHBOARD_USERS_FILE=str(users)) as running:
        yield running


@pytest.mark.parametrize("viewport", ["desk", "phone"])
def test_the_login_form_and_the_clerks_upload_page_have_no_serious_fault(chromium, login_server, axe_source,
                                                                        viewport):
    context = phone_context(chromium) if viewport == "phone" else browser_context(chromium, DESK)
    with context:
        page = context.new_page()
        page.goto(login_server.url + "/")
        page.get_by_label(USER_LABEL).wait_for()
        assert faults(page, axe_source) == [], "the login form"
        log_in(page, "clerk", "clerk-pw")
        wait_for_app(page, TITLES["upload"][0])
        assert faults(page, axe_source) == [], "the upload page"


def test_the_axe_file_is_the_version_ci_installs():
    if not AXE.is_file():
        pytest.skip(f"no {AXE}")
    assert f"axe v{AXE_VERSION}" in Path(AXE).read_text(encoding="utf-8")[:400]
