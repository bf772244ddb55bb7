"""Delivering alerts to group robots, against a real webhook on 127.0.0.1 and a fake clock: sent
once when an alert starts, again only after the re-notify interval, once more when it clears;
muted at night and summarised after; retried in order when the robot is down; never twice after a
process is killed; each street's alerts to its own group. Expected messages are written by hand."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dashboard.alerts.alert import Alert
from dashboard.alerts.command import AlertsBusy, exclusive
from dashboard.alerts.deliver import deliver_due, routes_for
from dashboard.alerts.store import AlertStore
from dashboard.settings import Mute, Settings
from tests.fixtures import person_id

KEY = "robotkey0123456789"  # the fake robot key in every URL: it must never be stored or shown
RENOTIFY = timedelta(hours=2)
NIGHT = (Mute(frozenset({"low"}), time(23), time(7)),)
SHORT_NOW = Alert("understaffed_now:TS01", "understaffed_now", "critical", "410103001001",
                  "西工房固定采样点：现在在岗 1 人，少于最少 2 人")
HOTEL = Alert("hotel_full:HT02", "hotel_full", "high", "410103001002", "隔离酒店乙：入住 9/10 间（90%），达到满员线 90%")
OUTLIER = Alert("outlier:samples:2022-01-06", "outlier", "low", "",
                "1月6日采样 300，超出前 7 天的范围 50–240，请核对数据")
NAMES = {"410103001001": "西工房社区", "410103001002": "兴华社区", "410103002001": "台郭社区"}


class Robot:
    """A group robot's webhook: records each message it takes, by path; can answer 503 first."""

    def __init__(self):
        self.received: list[tuple[str, str]] = []
        self.refuse_next = 0
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if robot.refuse_next:
                    robot.refuse_next -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                robot.received.append((self.path.split("?")[0], body["markdown"]["content"]))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/{name}?key={KEY}"

    def texts(self, name: str = "duty") -> list[str]:
        return [content for path, content in self.received if path == f"/{name}"]


@pytest.fixture
def robot():
    r = Robot()
    yield r
    r.server.shutdown()


def clock(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


def step(store, robot, when: str, alerts, rules=None, mutes=NIGHT, urls=None):
    """One evaluation and delivery at the fake clock's `when`, with everything going to the duty robot."""
    now = clock(when)
    rules = {alert.rule for alert in alerts} if rules is None else rules
    store.record(now, alerts, rules, lambda alert: ["on_duty"], RENOTIFY)
    return deliver_due(store, now, urls or {"on_duty": robot.url("duty")}, mutes, area_names=NAMES)


def test_an_alert_is_sent_when_it_starts_again_after_two_hours_and_when_it_clears(tmp_path, robot):
    store = AlertStore(tmp_path / "alerts.sqlite")
    step(store, robot, "2022-01-06 12:00", [SHORT_NOW])
    assert robot.texts() == ["**【紧急告警】西工房社区** 01-06 12:00\n> 西工房固定采样点：现在在岗 1 人，少于最少 2 人"]
    step(store, robot, "2022-01-06 13:00", [SHORT_NOW])
    step(store, robot, "2022-01-06 13:59", [SHORT_NOW])
    assert len(robot.texts()) == 1
    step(store, robot, "2022-01-06 14:00", [SHORT_NOW])
    assert robot.texts()[1:] == ["**【紧急·再次提醒】西工房社区** 仍未解除，已持续 2 小时（自 01-06 12:00）\n"
                                 "> 西工房固定采样点：现在在岗 1 人，少于最少 2 人"]
    step(store, robot, "2022-01-06 14:30", [], rules={"understaffed_now"})
    assert robot.texts()[2:] == ["**【已解除】西工房社区** 01-06 14:30\n> 西工房固定采样点：现在在岗 1 人，少于最少 2 人"]
    step(store, robot, "2022-01-06 17:00", [], rules={"understaffed_now"})
    assert len(robot.texts()) == 3
    assert store.open_count() == 0 and len(store.history()) == 1


def test_a_rule_not_evaluated_does_not_clear_its_alert(tmp_path, robot):
    """No roster for the day: understaffed_now was not judged, so its alert stays open, unsent."""
    store = AlertStore(tmp_path / "alerts.sqlite")
    step(store, robot, "2022-01-06 12:00", [SHORT_NOW])
    step(store, robot, "2022-01-07 00:30", [], rules={"feed_stale"})
    assert len(robot.texts()) == 1 and store.open_count() == 1


def test_a_muted_low_alert_waits_for_the_morning_summary_a_critical_one_does_not(tmp_path, robot):
    store = AlertStore(tmp_path / "alerts.sqlite")
    step(store, robot, "2022-01-06 23:30", [OUTLIER])
    assert robot.texts() == []
    step(store, robot, "2022-01-07 03:00", [OUTLIER, SHORT_NOW])
    assert robot.texts() == ["**【紧急告警】西工房社区** 01-07 03:00\n> 西工房固定采样点：现在在岗 1 人，少于最少 2 人"]
    step(store, robot, "2022-01-07 06:59", [OUTLIER, SHORT_NOW])
    assert len(robot.texts()) == 2  # and the critical one's reminder, 03:00 + 2 h having passed
    step(store, robot, "2022-01-07 07:00", [OUTLIER, SHORT_NOW])
    summary = [text for text in robot.texts() if "静默期汇总" in text]
    # Held overnight: the outlier's start (23:30), and its reminders at 03:00 and 06:59 (2 h apart).
    assert summary == ["**【静默期汇总】** 01-06 23:30 至 01-07 06:59 静默期间的一般告警：开始 1 条，解除 0 条，"
                       "仍未解除 1 条\n> 1月6日采样 300，超出前 7 天的范围 50–240，请核对数据"]
    assert not any("一般告警】" in text for text in robot.texts())


def test_a_robot_down_gets_retries_with_backoff_and_every_message_once_in_order(tmp_path, robot):
    store = AlertStore(tmp_path / "alerts.sqlite")
    robot.refuse_next = 3
    first = step(store, robot, "2022-01-06 12:00", [SHORT_NOW, HOTEL])
    assert robot.received == [] and (first.sent, first.failed, first.pending) == (0, 1, 2)
    # Retries after 30 s, then 60 s more, then 120 s more; nothing goes out before its time.
    for when, received in [("2022-01-06 12:00", 0), ("2022-01-06 12:00", 0)]:
        assert deliver_due(store, clock(when), {"on_duty": robot.url("duty")}, NIGHT).sent == received
    deliver_due(store, clock("2022-01-06 12:00") + timedelta(seconds=30), {"on_duty": robot.url("duty")}, NIGHT)
    assert robot.received == [] and robot.refuse_next == 1
    deliver_due(store, clock("2022-01-06 12:01") + timedelta(seconds=29), {"on_duty": robot.url("duty")}, NIGHT)
    assert robot.refuse_next == 1  # 30 + 60 s had not passed
    deliver_due(store, clock("2022-01-06 12:01") + timedelta(seconds=30), {"on_duty": robot.url("duty")}, NIGHT)
    assert robot.refuse_next == 0 and robot.received == []
    done = deliver_due(store, clock("2022-01-06 12:05"), {"on_duty": robot.url("duty")}, NIGHT)
    assert done.sent == 2 and done.all_sent
    assert [text.split("\n> ")[1] for text in robot.texts()] == [SHORT_NOW.text, HOTEL.text]
    assert [row["ok"] for row in reversed(store.delivery_log())] == [0, 0, 0, 1, 1]


def test_killed_between_evaluation_and_delivery_it_sends_once_after_the_restart(tmp_path, robot, fixture_snapshot):
    """A real process evaluates the fixture at 01-06 12:00 and records, then is SIGKILLed before it
    delivers; the restarted `alerts --once` sends each of the four starts once, and a third run nothing."""
    db = tmp_path / "snapshot.duckdb"
    db.write_bytes(fixture_snapshot.db_path.read_bytes())
    parts = fixture_snapshot.db_path.with_name(fixture_snapshot.db_path.name + ".parts")
    if parts.exists():
        os.symlink(parts, db.with_name(db.name + ".parts"))
    env = {**os.environ, "DASHBOARD_DATA": str(fixture_snapshot.data_dir), "DASHBOARD_DB": str(db)}
    killed = subprocess.run([sys.executable, "-c", (
        "import os, signal, sys\n"
        "from datetime import datetime\n"
        "from dashboard.alerts.command import Alerting\n"
        "from dashboard.settings import Settings\n"
        "alerting = Alerting(Settings.from_env(), sys.argv[1])\n"
        "alerting.evaluate_and_record(datetime(2022, 1, 6, 12))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"), robot.url("duty")], env=env)
    assert killed.returncode == -signal.SIGKILL and robot.received == []
    command = [sys.executable, "-m", "dashboard", "alerts", "--once", "--at", "2022-01-06 12:00", "--post",
               robot.url("duty")]
    restarted = subprocess.run(command, env=env, capture_output=True, text=True)
    assert restarted.returncode == 0, restarted.stderr
    assert sorted(text.split("\n> ")[1] for text in robot.texts()) == sorted([
        "西工房固定采样点：现在在岗 1 人，少于最少 2 人", "台郭社区：1 名阳性尚未转运集中隔离，最长已等待 50.0 小时",
        "流动采样车1号：2022年1月6日 16:00 起在岗将少于 2 人", "台郭社区：1 人隔离期满仍未解除"])
    again = subprocess.run(command, env=env, capture_output=True, text=True)
    assert again.returncode == 0 and len(robot.texts()) == 4
    assert KEY not in restarted.stdout + restarted.stderr + again.stdout


def test_each_streets_alerts_go_to_its_own_group_and_the_critical_ones_to_the_duty_group(tmp_path, robot):
    mifengzhang = Alert("hotel_full:HT02", "hotel_full", "high", "410103001002", "隔离酒店乙：入住 9/10 间")
    renhelu = Alert("releases_overdue:410103002001", "releases_overdue", "high", "410103002001", "台郭社区：1 人隔离期满仍未解除")
    urls = {"410103001": robot.url("mfz"), "410103002": robot.url("rhl")}
    store = AlertStore(tmp_path / "alerts.sqlite")
    now = clock("2022-01-06 12:00")
    store.record(now, [mifengzhang, renhelu], {"hotel_full", "releases_overdue"}, routes_for(urls, "critical"), RENOTIFY)
    deliver_due(store, now, urls, NIGHT, area_names=NAMES)
    assert [text.split("\n> ")[1] for text in robot.texts("mfz")] == ["隔离酒店乙：入住 9/10 间"]
    assert [text.split("\n> ")[1] for text in robot.texts("rhl")] == ["台郭社区：1 人隔离期满仍未解除"]
    with_duty = {**urls, "on_duty": robot.url("duty")}
    store.record(now, [mifengzhang, renhelu, SHORT_NOW], {"understaffed_now"}, routes_for(with_duty, "critical"),
                 RENOTIFY)
    deliver_due(store, now, with_duty, NIGHT, area_names=NAMES)
    assert [text.split("\n> ")[1] for text in robot.texts("mfz")][1:] == [SHORT_NOW.text]
    assert [text.split("\n> ")[1] for text in robot.texts("duty")] == [SHORT_NOW.text]
    assert robot.texts("rhl")[1:] == []


def test_an_alert_with_no_area_robot_goes_to_the_duty_group():
    routes = routes_for({"410103001": "http://robot/1", "district": "http://robot/d"}, "critical")
    assert routes(HOTEL) == ["410103001"]
    assert routes(OUTLIER) == ["district"]  # no area of its own, and no on_duty robot: the district's


def test_no_url_is_stored_or_shown_and_no_id_number_is_sent(tmp_path, robot):
    id_number = person_id("410103001001", 5)
    leaky = Alert("outlier:positives:2022-01-06", "outlier", "critical", "", f"核对 {id_number} 的记录")
    store = AlertStore(tmp_path / "alerts.sqlite")
    robot.refuse_next = 1
    failed = step(store, robot, "2022-01-06 12:00", [leaky])
    unknown = deliver_due(store, clock("2022-01-06 13:00"), {}, NIGHT)
    step(store, robot, "2022-01-06 13:05", [leaky])  # after the backoff of the attempt with no robot
    assert robot.texts() and id_number not in robot.texts()[0] and f"{id_number[:3]}****" in robot.texts()[0]
    assert KEY not in failed.summary() and "no robot configured for on_duty" in unknown.summary()
    stored = (tmp_path / "alerts.sqlite").read_bytes()
    assert KEY.encode() not in stored and id_number.encode() not in stored


def test_a_second_evaluator_is_refused(tmp_path):
    settings = Settings.from_env(tmp_path / "data", tmp_path / "snapshot.duckdb")
    with exclusive(settings):
        with pytest.raises(AlertsBusy, match="another process evaluates the alerts"):
            with exclusive(settings):
                pass
    with exclusive(settings):  # released
        pass
