"""The alerts' rules on the hand-computable fixture (tests/fixtures.py), at known instants: one rule
table for the list and the alerts, a post that goes short at a known hour, a positive crossing the
transfer threshold at a known minute, feeds going stale, and data that contradicts itself."""

from __future__ import annotations

import csv
from datetime import date, datetime

import pandas as pd
import pytest

from dashboard.alerts.rules import evaluate
from dashboard.figures import attention, data_checks
from dashboard.figures.attention import attention_inputs, attention_items
from dashboard.figures.headline import headline_figures
from dashboard.figures.queries import Snapshot
from dashboard.figures.rules import KINDS
from dashboard.settings import Thresholds
from tests.conftest import ingest_changed_fixture
from tests.fixtures import DAYS, XINGHUA, person_id

THRESHOLDS = Thresholds()


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


def alerts_at(snapshot, when: str) -> dict[str, tuple[str, str, str]]:
    """key -> (severity, area, text) of every alert open at the instant."""
    evaluation = evaluate(snapshot.run, THRESHOLDS, at(when))
    return {alert.key: (alert.severity, alert.area, alert.text) for alert in evaluation.alerts}


def test_every_alerting_rule_has_a_severity_of_the_three_and_the_list_keeps_its_own():
    assert {kind.severity for kind in KINDS} == {"critical", "high", "low", None}
    assert [kind.key for kind in KINDS if not kind.listed] == ["feed_stale"]


def test_at_noon_on_the_newest_day(snapshot):
    """01-06 12:00: TS01 has 1 of 2 on duty (critical); MV01 falls short at 16:00, within the 12 h
    look-ahead (high); 台郭 #0, positive since 01-04 10:00, has waited 50 h (over 12: critical) while
    杏苑's positive of 01-06 16:00 is not sampled yet; C3 (台郭, home) was to end on 01-04 (high)."""
    assert alerts_at(snapshot, "2022-01-06 12:00") == {
        "understaffed_now:TS01": ("critical", "410103001001", "西工房固定采样点：现在在岗 1 人，少于最少 2 人"),
        "awaiting_transfer:410103002001": ("critical", "410103002001",
                                           "台郭社区：1 名阳性尚未转运集中隔离，最长已等待 50.0 小时"),
        "understaffed_soon:MV01": ("high", "410103002002", "流动采样车1号：2022年1月6日 16:00 起在岗将少于 2 人"),
        "releases_overdue:410103002001": ("high", "410103002001", "台郭社区：1 人隔离期满仍未解除"),
    }


def test_a_post_goes_short_at_the_hour_its_shift_ends_with_no_new_file(snapshot):
    """MV01's two doctors leave at 16:00: short within the look-ahead at 15:59, short now at 16:00."""
    before, after = alerts_at(snapshot, "2022-01-06 15:59"), alerts_at(snapshot, "2022-01-06 16:00")
    assert "understaffed_soon:MV01" in before and "understaffed_now:MV01" not in before
    assert after["understaffed_now:MV01"] == ("critical", "410103002002", "流动采样车1号：现在在岗 0 人，少于最少 2 人")
    assert "understaffed_soon:MV01" not in after


def test_a_positive_crosses_the_transfer_threshold_at_its_minute(tmp_path):
    """A positive sampled in 兴华 at 08:17 on 01-06, with no case in the ledger: 11 whole hours at
    20:16, 12 at 20:17, when it alerts; the attention list shows it all day (to the end of the day)."""
    def add_positive(data_dir):
        path = data_dir / "exports" / DAYS[2].isoformat() / "testing_records.csv"
        with path.open("a", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerow(
                ["S20220106999999", person_id(XINGHUA, 777), XINGHUA, "TS01", 2, "2022-01-06 08:17:00", "positive"])

    settings, _ = ingest_changed_fixture(tmp_path, add_positive)
    snapshot = Snapshot(settings.db_path)
    key = f"awaiting_transfer:{XINGHUA}"
    assert key not in alerts_at(snapshot, "2022-01-06 20:16")
    assert alerts_at(snapshot, "2022-01-06 20:17")[key] == (
        "critical", XINGHUA, "兴华社区：1 名阳性尚未转运集中隔离，最长已等待 12.0 小时")
    snapshot.close()


def test_feeds_go_stale_26_hours_after_their_day_ended_and_nothing_else_is_judged(snapshot):
    """Every core feed's newest export is 01-06, which ended at 01-07 00:00: stale after 01-08 02:00.
    With no export for the day, no other rule is evaluated, so nothing clears for want of data."""
    assert alerts_at(snapshot, "2022-01-08 02:00") == {}
    late = evaluate(snapshot.run, THRESHOLDS, at("2022-01-08 02:01"))
    assert {alert.key: alert.text for alert in late.alerts} == {
        "feed_stale:control_zones": "封控管控台账已中断：最新导出为 1月6日，超过 26.0 小时未更新",
        "feed_stale:testing_records": "核酸采样已中断：最新导出为 1月6日，超过 26.0 小时未更新",
        "feed_stale:isolation": "隔离台账已中断：最新导出为 1月6日，超过 26.0 小时未更新",
        "feed_stale:shifts": "排班已中断：最新导出为 1月6日，超过 26.0 小时未更新",
    }
    assert late.evaluated_rules == {"feed_stale"}


def test_the_list_and_the_alerts_agree(snapshot):
    """Every alert at 01-06 16:00 is an item of the attention list for that instant, by rule and
    subject (a stale feed aside, which the banner shows): one rule table, not two."""
    when = at("2022-01-06 16:00")
    figures = headline_figures(snapshot.run, DAYS[2], when)
    inputs = attention_inputs(snapshot.run, figures, DAYS[2], "", THRESHOLDS, names_allowed=False, now=when,
                              instant=True)
    listed = {f"{item.kind}:{item.subject}" for item in attention_items("zh", THRESHOLDS, **inputs)}
    alerted = set(alerts_at(snapshot, "2022-01-06 16:00"))
    assert alerted == {"understaffed_now:TS01", "understaffed_now:MV01", "awaiting_transfer:410103002001",
                       "releases_overdue:410103002001"}
    assert alerted <= listed


def test_contradicting_data_alerts_low(tmp_path):
    """兴华's population cut to 600 leaves round 2's 700 sampled at 116.7 %; 隔离酒店乙 cut to one room
    holds C5 and C7: two centralized cases in one room."""
    def contradict(data_dir):
        areas = pd.read_csv(data_dir / "reference" / "areas.csv", dtype=str)
        areas.loc[areas["area_code"] == XINGHUA, "population"] = "600"
        areas.to_csv(data_dir / "reference" / "areas.csv", index=False)
        sites = pd.read_csv(data_dir / "reference" / "sites.csv", dtype=str, keep_default_na=False)
        sites.loc[sites["site_id"] == "HT02", "capacity"] = "1"
        sites.to_csv(data_dir / "reference" / "sites.csv", index=False)

    settings, _ = ingest_changed_fixture(tmp_path, contradict)
    snapshot = Snapshot(settings.db_path)
    found = alerts_at(snapshot, "2022-01-06 12:00")
    snapshot.close()
    assert found["coverage_over_full:410103001002:2"] == (
        "low", XINGHUA, "兴华社区：第 2 轮覆盖率 116.7%，超过 100%，请核对人口或采样")
    assert found["hotel_over_rooms:HT02"] == ("low", XINGHUA, "隔离酒店乙：集中隔离 2 人，超过房间数 1，请核对数据")
    assert found["hotel_full:HT02"][0] == "high"


def test_positives_above_samples_is_flagged():
    positives = pd.DataFrame({"area_code": ["C1", "C2"], "name": ["甲", "乙"], "samples": [3, 10],
                              "positives": [5, 10]})
    assert [(item.subject, item.text) for item in data_checks.positives_over_samples("zh", positives)] == [
        ("C1", "甲：阳性 5 例多于采样 3 份，请核对数据")]


def test_an_outlier_names_the_range_of_the_seven_days_before():
    """Samples 100..160 on 01-01..01-07: the range is 100 × 0.5 = 50 to 160 × 1.5 = 240; 300 on 01-08
    is outside it, 240 is not. Positives 0 every day: 0 is inside [0, 0]."""
    days = pd.date_range("2022-01-01", "2022-01-08")
    trend = pd.DataFrame({"day": days, "samples": [100, 110, 120, 130, 140, 150, 160, 300],
                          "positives": [0] * 8})
    items = data_checks.outliers("zh", trend, date(2022, 1, 8), 0.5, "")
    assert [item.text for item in items] == ["1月8日采样 300，超出前 7 天的范围 50–240，请核对数据"]
    assert data_checks.outliers("zh", trend.replace({300: 240}), date(2022, 1, 8), 0.5, "") == []


def test_too_few_days_before_say_nothing_of_outliers():
    trend = pd.DataFrame({"day": pd.date_range("2022-01-06", "2022-01-08"), "samples": [100, None, 900],
                          "positives": [1, None, 1]})
    assert data_checks.outliers("zh", trend, date(2022, 1, 8), 0.5, "") == []


@pytest.mark.parametrize("kind", [kind.key for kind in KINDS])
def test_every_rule_has_a_label(kind):
    from dashboard.i18n import CATALOG

    assert all(CATALOG[f"attention.kind.{kind}"])
    assert attention.RANK[kind] == [k.key for k in KINDS].index(kind)
