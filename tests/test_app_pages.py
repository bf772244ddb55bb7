"""AppTest runs every page of the router, in both languages, on the newest and the oldest day,
for the whole district and for a street; the metrics must show figures computed by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.i18n import t
from dashboard.ingest.build import ingest
from dashboard.web.pages import PAGES
from tests.fixtures import DAYS, EXPECTED, TITLES

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
STREET = "410103001"  # 蜜蜂张街道: 西工房社区 (1,000 residents) and 兴华社区 (800)

# The street's figures, worked out from tests/fixtures.py by hand:
# 01-04: zone Z3 (precaution, 西工房) only; round 1 sampled 600 + 500 = 1,100 of 1,800; case C4
#        (home monitoring, 西工房); hotel HT02 (兴华) empty; post TS01 unstaffed (0 of 2).
# 01-06: Z3 lifted that day; 900 + 700 + 20 repeat = 1,620 samples, 5 pending, round 2 reached
#        1,600 of 1,800; C4 and C5 (centralized); occupancy counts the street's centralized
#        residents (C5; C7 lives in 杏苑) against the street's hotel rooms (HT02) -> 1 of 10;
#        C4 is due out on 01-07; TS01 has 1 of 2 on duty (the other absent).
STREET_EXPECTED = {
    DAYS[0]: dict(zones=(0, 0, 1), sealed_population=0, samples=1100, positives=0, pending=0, round=1,
                  coverage="61.1%", persons=1100, population=1800, isolation=(0, 1, 0), releases=0,
                  occupancy="0.0%", on_duty=0, required=2, understaffed=1),
    DAYS[2]: dict(zones=(0, 0, 0), sealed_population=0, samples=1620, positives=0, pending=5, round=2,
                  coverage="88.9%", persons=1600, population=1800, isolation=(0, 1, 1), releases=1,
                  occupancy="10.0%", on_duty=1, required=2, understaffed=1),
}
# The district's, from EXPECTED plus what it does not list: pending results, persons
# sampled in the current round, and the posts' minimum staffing (CP01 6 + TS01 2 + MV01 2).
DISTRICT_COVERAGE = {DAYS[0]: "67.5%", DAYS[2]: "91.3%"}  # 2,700 / 4,000 and 3,650 / 4,000
DISTRICT_EXTRA = {DAYS[0]: dict(pending=0, persons=2700), DAYS[2]: dict(pending=5, persons=3650)}


def expected_figures(day, area) -> dict:
    if area:
        return STREET_EXPECTED[day]
    e = EXPECTED[day]
    return dict(zones=e["zones"], sealed_population=e["sealed_population"], samples=e["samples"],
                positives=e["positives"], pending=DISTRICT_EXTRA[day]["pending"], round=e["round"],
                coverage=DISTRICT_COVERAGE[day], persons=DISTRICT_EXTRA[day]["persons"], population=4000,
                isolation=e["isolation"], releases=e["releases"], occupancy=f"{e['occupancy']:.1%}",
                on_duty=e["on_duty"], required=10, understaffed=e["understaffed"])


def expected_metrics(page: str, lang: str, x: dict) -> dict[str, str]:
    """Metric label -> value as the page must show it (labels from the catalog, values by hand)."""
    def n(value: int) -> str:
        return f"{value:,}"

    zones = {t(f"kpi.zones_{level}", lang): n(v) for level, v in zip(("sealed", "controlled", "precaution"),
                                                                       x["zones"])}
    isolation = {t(f"kpi.isolation_{kind}", lang): n(v)
                 for kind, v in zip(("home", "home_monitoring", "centralized"), x["isolation"])}
    if page == "overview":
        return {**zones, t("kpi.population_sealed", lang): n(x["sealed_population"]),
                t("kpi.samples", lang): n(x["samples"]), t("kpi.positives", lang): n(x["positives"]),
                t("kpi.round_coverage", lang, round=x["round"]): x["coverage"], **isolation,
                t("kpi.releases_due", lang): n(x["releases"]), t("kpi.hotel_occupancy", lang): x["occupancy"],
                t("kpi.staff_on_duty", lang): f"{x['on_duty']} / {x['required']}",
                t("kpi.posts_understaffed", lang): n(x["understaffed"])}
    if page == "zones":
        return {**zones, t("kpi.population_sealed", lang): n(x["sealed_population"])}
    if page == "testing":
        return {t("kpi.round_coverage", lang, round=x["round"]): x["coverage"],
                t("col.persons_sampled", lang): n(x["persons"]), t("col.population", lang): n(x["population"]),
                t("kpi.samples", lang): n(x["samples"]), t("kpi.positives", lang): n(x["positives"]),
                t("kpi.pending", lang): n(x["pending"])}
    if page == "isolation":
        return {**isolation, t("kpi.releases_due", lang): n(x["releases"])}
    if page == "staff":
        return {t("kpi.on_duty", lang): n(x["on_duty"]), t("kpi.min_staff", lang): n(x["required"]),
                t("kpi.posts_understaffed", lang): n(x["understaffed"])}
    return {}


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def app_env(fixture_snapshot, monkeypatch):
    monkeypatch.setenv("DASHBOARD_DATA", str(fixture_snapshot.data_dir))
    monkeypatch.setenv("DASHBOARD_DB", str(fixture_snapshot.db_path))
    clear_caches()
    yield fixture_snapshot
    clear_caches()


def open_page(file: str, **params) -> AppTest:
    """One run of the router straight onto a page: its url_path equals its file name, so the
    page can be chosen before the first run."""
    at = AppTest.from_file(str(APP), default_timeout=30)
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page(f"app_pages/{file}")
    return at.run()


def failed_runs(caplog) -> list[str]:
    """The router's log of runs that failed, with their exceptions."""
    return [f"{record.getMessage()}: {record.exc_text or record.exc_info}" for record in caplog.records
            if record.name == "dashboard.app" and record.levelname == "ERROR"]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_router_lists_every_page_file():
    files = {p.name for p in (APP.parent / "app_pages").glob("*.py") if p.name != "__init__.py"}
    assert files == {spec.file for spec in PAGES}
    assert [spec.url_path for spec in PAGES] == [Path(spec.file).stem for spec in PAGES]


@pytest.mark.parametrize("area", ["", STREET], ids=["district", "street"])
@pytest.mark.parametrize("day", [DAYS[-1], DAYS[0]], ids=["newest", "oldest"])
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_page_runs_and_shows_hand_figures(app_env, spec, lang, day, area, caplog):
    at = open_page(spec.file, day=day.isoformat(), lang=lang, area=area)
    assert not at.exception, [e.message for e in at.exception]
    # The router turns a failure into a "retrying" notice (after the title may be drawn) and logs it.
    assert not failed_runs(caplog), failed_runs(caplog)
    assert at.title[0].value == TITLES[spec.url_path][lang == "en"]
    shown = metrics(at)
    for label, value in expected_metrics(spec.url_path, lang, expected_figures(day, area)).items():
        assert shown.get(label) == value, (label, shown)
    assert not at.warning, [w.value for w in at.warning]  # every feed is fresh in the fixture


def test_overview_deltas_against_previous_export_day(app_env):
    """01-06 against 01-05: a precaution zone lifted, 3,670 - 11 samples, one home case ended,
    one more centralized case, TS01 and MV01 staffed (9 - 8 on duty)."""
    at = open_page("overview.py", day=DAYS[2].isoformat(), lang="zh")
    deltas = {m.label: m.delta for m in at.metric}
    assert deltas[t("kpi.zones_precaution", "zh")] == "-1"
    assert deltas[t("kpi.zones_sealed", "zh")] == "+0"
    assert deltas[t("kpi.samples", "zh")] == "+3,659"
    assert deltas[t("kpi.isolation_home", "zh")] == "-1"
    assert deltas[t("kpi.isolation_centralized", "zh")] == "+1"
    assert deltas[t("kpi.hotel_occupancy", "zh")] == "+5.0 pp"
    assert deltas[t("kpi.staff_on_duty", "zh")] == "+1"
    # Round 2 began on 01-06: comparing its coverage with round 1's would mean nothing.
    assert not deltas[t("kpi.round_coverage", "zh", round=2)]


def test_overview_offers_the_report_briefing(app_env):
    at = open_page("overview.py", day=DAYS[1].isoformat(), lang="zh")
    assert not at.exception
    assert len(at.get("download_button")) == 1


def test_stale_feed_shows_last_export_not_zero(fresh_data, monkeypatch):
    """Without 01-06's testing file, 01-06 shows 01-05's 11 samples, labelled with 01-05."""
    (fresh_data.data_dir / "exports" / "2022-01-06" / "testing_records.csv").unlink()
    assert ingest(fresh_data).ok
    monkeypatch.setenv("DASHBOARD_DATA", str(fresh_data.data_dir))
    monkeypatch.setenv("DASHBOARD_DB", str(fresh_data.db_path))
    clear_caches()
    try:
        overview = open_page("overview.py", day=DAYS[2].isoformat(), lang="zh")
        assert not overview.exception, [e.message for e in overview.exception]
        warnings = [w.value for w in overview.warning]
        assert any("核酸采样" in w and "2022年1月5日" in w for w in warnings), warnings
        shown = metrics(overview)
        assert t("kpi.samples", "zh") not in shown  # not "samples today"...
        assert shown["1月5日采样"] == "11"  # ...but 01-05's, said to be so
        assert shown["1月5日阳性"] == "1"
        # The other feeds did arrive: their figures are 01-06's.
        assert shown[t("kpi.zones_sealed", "zh")] == "2"

        testing = open_page("testing.py", day=DAYS[2].isoformat(), lang="en")
        assert any("Testing records" in w.value and "5 Jan 2022" in w.value for w in testing.warning)
        shown = metrics(testing)
        assert shown["Samples on 5 Jan"] == "11"
        assert shown["Pending on 5 Jan"] == "0"
    finally:
        clear_caches()
