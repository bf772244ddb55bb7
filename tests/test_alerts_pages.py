"""Where people see the alerts: the alerts page (open, history, who was notified when), the count
on the overview and the wall, the delivery log on data health, and the report's alerts_open."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from dashboard.alerts.deliver import deliver_due
from dashboard.alerts.rules import evaluate
from dashboard.alerts.store import AlertStore
from dashboard.briefing.send import NotSent
from dashboard.figures.queries import Snapshot
from tests.conftest import ingest_changed_fixture, serving
from tests.test_app_pages import open_page

NOON = datetime(2022, 1, 6, 12)
# The four alerts of 01-06 12:00 (tests/test_alerts_rules.py): one in 蜜蜂张街道 (TS01, 西工房), three
# in 人和路街道 (台郭's wait and its overdue release, MV01 in 杏苑).
MIFENGZHANG = "410103001"
OPEN_TEXTS = {"西工房固定采样点：现在在岗 1 人，少于最少 2 人", "台郭社区：1 名阳性尚未转运集中隔离，最长已等待 50.0 小时",
              "流动采样车1号：2022年1月6日 16:00 起在岗将少于 2 人", "台郭社区：1 人隔离期满仍未解除"}


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A private snapshot (the alerts' file lives beside it), served to the app."""
    settings, _ = ingest_changed_fixture(tmp_path)
    with serving(settings, monkeypatch):
        yield settings


def record_noon(settings, post=None) -> AlertStore:
    snapshot = Snapshot(settings.db_path)
    evaluation = evaluate(snapshot.run, settings.thresholds, NOON)
    snapshot.close()
    store = AlertStore(settings.alerts_db)
    store.record(NOON, evaluation.alerts, evaluation.evaluated_rules, lambda alert: ["on_duty"], timedelta(hours=2))
    if post is not None:
        deliver_due(store, NOON, {"on_duty": "http://127.0.0.1:9/robot"}, post=post)
    return store


def headings(at) -> list[str]:
    return [h.value for h in at.header]


def test_before_alerts_ever_ran_the_pages_say_so_and_count_nothing(fresh):
    overview = open_page("overview.py", day="2022-01-06")
    assert "需要关注" in headings(overview) and not any("告警" in h for h in headings(overview))
    page = open_page("alerts.py", day="2022-01-06")
    assert not page.exception and any("告警尚未运行" in info.value for info in page.info)


@pytest.mark.parametrize(("area", "count"), [("", 4), (MIFENGZHANG, 1)])
def test_the_overview_and_the_wall_count_the_open_alerts_of_the_area(fresh, area, count):
    record_noon(fresh)
    for extra in ({}, {"kiosk": "1"}):
        at = open_page("overview.py", day="2022-01-06", area=area, **extra)
        assert not at.exception
        assert f"需要关注 · 未解除告警 {count} 条" in headings(at)


def test_the_alerts_page_lists_the_open_alerts_and_who_was_told(fresh):
    record_noon(fresh, post=lambda url, message: None)
    at = open_page("alerts.py", day="2022-01-06")
    assert not at.exception, [e.message for e in at.exception]
    open_table, notified, history = (frame.value for frame in at.dataframe)
    assert set(open_table["内容"]) == OPEN_TEXTS
    assert list(open_table["级别"]) == ["紧急", "紧急", "重要", "重要"]
    assert set(notified["通知对象"]) == {"值班群"} and set(notified["状态"]) == {"已送达"} and len(notified) == 4
    assert set(history["解除"]) == {"未解除"}
    # The cards count the same four by hand: two critical (西工房 now, 台郭's wait), two high.
    cards = {metric.label: metric.value for metric in at.metric}
    assert cards == {"未解除告警": "4", "其中紧急": "2", "其中重要": "2", "其中一般": "0"}
    street = open_page("alerts.py", day="2022-01-06", area=MIFENGZHANG)
    assert list(street.dataframe[0].value["内容"]) == ["西工房固定采样点：现在在岗 1 人，少于最少 2 人"]
    assert list(street.dataframe[0].value["区域"]) == ["西工房社区"]
    assert street.metric[0].value == "1"


def test_the_health_page_shows_failed_deliveries(fresh):
    def down(url, message):
        raise NotSent("the webhook did not take the briefing after 1 attempt(s): HTTP 503 Service Unavailable")

    record_noon(fresh, post=down)
    at = open_page("health.py", day="2022-01-06")
    assert not at.exception
    assert "告警发送记录" in headings(at)
    log = at.dataframe[-1].value
    assert list(log["状态"]) == ["失败"] and "HTTP 503" in log["错误"].iloc[0]


def test_the_report_says_how_many_alerts_are_open_and_as_of_when(fresh):
    def report(area=None):
        command = [sys.executable, "-m", "dashboard", "report", "--data", str(fresh.data_dir), "--db",
                   str(fresh.db_path), "--day", "2022-01-06", *(["--area", area] if area else [])]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        return json.loads(done.stdout)

    before = report()
    assert before["alerts_open"] is None and before["alerts_evaluated_at"] is None
    record_noon(fresh)
    assert (report()["alerts_open"], report()["alerts_evaluated_at"]) == (4, "2022-01-06T12:00")
    assert report(MIFENGZHANG)["alerts_open"] == 1
