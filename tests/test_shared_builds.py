"""Figures, maps and lists are built once per snapshot version and view, for every session of the
process (issue 11): counted by wrapping the pure builders, never by timing."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.figures.queries import Snapshot
from dashboard.i18n import t
from dashboard.settings import Settings
from dashboard.web import access, auth, cache, per_run
from dashboard.web.builders import charts, maps
from dashboard.web.shared_builds import SharedBuilds
from tests.conftest import serving
from tests.fixtures import DAYS

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


# ---------------------------------------------------------------- the store itself

def test_a_key_is_built_once_and_the_least_recently_used_goes_first():
    builds = SharedBuilds(max_entries=2)
    made = Counter()

    def build(key):
        made[key] += 1
        return f"value of {key}"

    assert builds.get("a", lambda: build("a")) == "value of a"
    assert builds.get("a", lambda: build("a")) == "value of a"
    builds.get("b", lambda: build("b"))
    builds.get("a", lambda: build("a"))  # a is now the most recently used
    builds.get("c", lambda: build("c"))  # so b goes
    builds.get("a", lambda: build("a"))
    builds.get("b", lambda: build("b"))
    assert made == {"a": 1, "b": 2, "c": 1}
    assert len(builds) == 2


def test_sessions_asking_at_once_wait_for_one_build():
    builds = SharedBuilds(max_entries=10)
    started, release = threading.Event(), threading.Event()
    made = []

    def slow_build():
        made.append(1)
        started.set()
        release.wait(10)
        return "map"

    results = []
    first = threading.Thread(target=lambda: results.append(builds.get("k", slow_build)))
    first.start()
    assert started.wait(10)
    others = [threading.Thread(target=lambda: results.append(builds.get("k", slow_build))) for _ in range(7)]
    for thread in others:
        thread.start()
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert results == ["map"] * 8
    assert made == [1]


def test_a_failed_build_is_not_stored():
    builds = SharedBuilds(max_entries=10)

    def broken():
        raise ValueError("no data")

    with pytest.raises(ValueError):
        builds.get("k", broken)
    assert builds.get("k", lambda: "built") == "built"


# ---------------------------------------------------------------- through the cache, with roles

@pytest.fixture
def app_env(fixture_snapshot, monkeypatch):
    with serving(fixture_snapshot, monkeypatch) as settings:
        yield settings


def as_role(monkeypatch, role: str) -> None:
    monkeypatch.setattr(access, "role", lambda: role)


def test_a_role_that_may_not_run_a_query_never_gets_what_was_built_from_it(app_env, monkeypatch):
    built = []

    def names():
        built.append(1)
        return len(cache.query("staff/fatigue", at=datetime(2022, 1, 6, 12), area="")) > 0

    as_role(monkeypatch, "leader")
    assert cache.shared("names", (), names) is True
    as_role(monkeypatch, "screen")
    with pytest.raises(auth.AccessDenied):
        cache.shared("names", (), names)
    assert built == [1]  # refused on the stored build, which ran the query, not by running it again


def test_a_build_inside_a_build_adds_its_queries_to_the_outer_one(app_env, monkeypatch):
    as_role(monkeypatch, "leader")
    inner = lambda: len(cache.query("staff/fatigue", at=datetime(2022, 1, 6, 12), area="")) > 0  # noqa: E731
    assert cache.shared("inner", (), inner) is True
    # The outer build finds the inner one made: it runs no query itself, yet carries the inner's.
    assert cache.shared("outer", (), lambda: cache.shared("inner", (), inner) + 1) == 2
    as_role(monkeypatch, "screen")
    with pytest.raises(auth.AccessDenied):
        cache.shared("outer", (), lambda: 2)
    assert cache.shared("aggregate", (), lambda: len(cache.query("map/areas"))) > 0


# ---------------------------------------------------------------- sessions of the overview

@pytest.fixture
def counted_builders(monkeypatch):
    """How often the pure builders behind the overview's map and trends ran."""
    made = Counter()

    def counting(module, name):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            made[name] += 1
            return original(*args, **kwargs)
        monkeypatch.setattr(module, name, wrapper)

    counting(maps, "district_map")
    counting(charts, "daily_bars")
    counting(charts, "isolation_trend")
    return made


def overview(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page("app_pages/overview.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def trend_titles(at: AppTest) -> list[str]:
    return [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")]


def test_two_sessions_on_one_version_build_the_map_and_trends_once(app_env, counted_builders):
    first, second = overview(), overview()
    # daily_bars draws two trends (positives, samples), district_map the one map.
    assert counted_builders == {"district_map": 1, "daily_bars": 2, "isolation_trend": 1}
    assert trend_titles(first) == trend_titles(second)
    assert [d.proto.json for d in first.get("deck_gl_json_chart")] == \
        [d.proto.json for d in second.get("deck_gl_json_chart")]


def test_a_swapped_in_snapshot_is_built_again(app_env, counted_builders, monkeypatch):
    overview()
    monkeypatch.setattr(Snapshot, "version", lambda self: "the next ingest")
    overview()
    assert counted_builders == {"district_map": 2, "daily_bars": 4, "isolation_trend": 2}


def test_another_language_day_or_screen_is_its_own_build(app_env, counted_builders):
    chinese = overview(lang="zh")
    english = overview(lang="en")
    assert t("trend.positives", "zh") in trend_titles(chinese)
    assert t("trend.positives", "en") in trend_titles(english)
    assert counted_builders["district_map"] == 2
    overview(lang="en", day=DAYS[0].isoformat())
    assert counted_builders["district_map"] == 3
    overview(lang="en", kiosk="1")  # a wall: dark, its own size
    assert counted_builders == {"district_map": 4, "daily_bars": 8, "isolation_trend": 4}


def test_every_query_reaches_duckdb_once_per_parameter_set(app_env, monkeypatch):
    """The briefing's figures come from the same cached results as the page's, not a second run."""
    executed = Counter()
    original = Snapshot.run

    def counting(self, name, **params):
        executed[(name, tuple(sorted(params.items())))] += 1
        return original(self, name, **params)
    monkeypatch.setattr(Snapshot, "run", counting)
    overview()
    overview()
    assert executed, "the overview ran no query"
    assert {key: n for key, n in executed.items() if n > 1} == {}
    assert ("health/corrections", (("area", ""), ("day", DAYS[-1]))) in executed


def test_what_a_caller_does_to_a_query_result_never_reaches_the_next_caller(app_env, monkeypatch):
    """Every session is handed the same stored result: a page that sorts, adds a column or writes
    a cell changes its own copy only."""
    as_role(monkeypatch, "leader")
    first = cache.query("map/areas")
    names = first["name"].tolist()
    first["scratch"] = 1
    first.loc[first.index[0], "name"] = "changed"
    again = cache.query("map/areas")
    assert "scratch" not in again.columns
    assert again["name"].tolist() == names


def test_a_run_reads_the_snapshots_version_and_the_settings_once(app_env, monkeypatch):
    """Every query and build of a run asks for them; the run looks each up once, so all its
    figures come from one version, and a fragment's run, outside the scope, reads them afresh."""
    looked_up = Counter()
    version, from_env = Snapshot.version, Settings.from_env.__func__

    def counting_version(self):
        looked_up["version"] += 1
        return version(self)

    def counting_from_env(cls, *args, **kwargs):
        looked_up["settings"] += 1
        return from_env(cls, *args, **kwargs)
    monkeypatch.setattr(Snapshot, "version", counting_version)
    monkeypatch.setattr(Settings, "from_env", classmethod(counting_from_env))
    overview()  # the queries run (each opens a cursor, which checks the version): a warm run counts
    looked_up.clear()
    at = overview()
    assert len(at.get("metric")) >= 4  # the page drew its cards, so its queries ran
    # In the run's scope: one of each. Before it (the login gate, the refresh check's first,
    # inline run) a few more; without the scope it was one per query, over a hundred.
    assert looked_up["version"] <= 3, looked_up
    assert looked_up["settings"] <= 12, looked_up


def test_outside_a_run_each_look_up_is_made_again():
    made = []
    assert per_run.once("k", lambda: made.append(1) or len(made)) == 1
    assert per_run.once("k", lambda: made.append(1) or len(made)) == 2
    token = per_run.begin()
    try:
        assert per_run.once("k", lambda: made.append(1) or len(made)) == 3
        assert per_run.once("k", lambda: made.append(1) or len(made)) == 3
    finally:
        per_run.end(token)
    assert per_run.once("k", lambda: made.append(1) or len(made)) == 4
