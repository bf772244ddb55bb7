"""The alerts' command and the ingest watcher's tick: evaluated after every new snapshot and on the
clock, by one process only, and an exit status that says when something is left undelivered."""

from __future__ import annotations

import subprocess
import sys

from dashboard.alerts.command import Alerting, exclusive
from dashboard.ingest.watcher import watch
from tests.conftest import ingest_changed_fixture
from tests.test_alerts_delivery import Robot


def cli(settings, *args, env=None):
    return subprocess.run([sys.executable, "-m", "dashboard", "alerts", "--data", str(settings.data_dir), "--db",
                           str(settings.db_path), *args], capture_output=True, text=True, env=env)


def test_the_watcher_evaluates_after_the_ingest_that_swapped_a_snapshot_and_then_on_the_clock(tmp_path):
    """The fixture's newest export is 01-06: on today's clock every core feed is stale, so the first
    tick after the ingest sends four starts; a tick with no new snapshot inside the interval sends
    nothing and records no evaluation."""
    settings, _ = ingest_changed_fixture(tmp_path)
    robot = Robot()
    try:
        alerting = Alerting(settings, robot.url("duty"))
        lines: list[str] = []
        watch(settings, 0, report=lines.append, rounds=1, after=alerting.tick)
        assert sorted(text.split("\n> ")[1].split("已中断")[0] for text in robot.texts()) == sorted(
            ["封控管控台账", "核酸采样", "隔离台账", "排班"])
        assert any("4 found, 4 open" in line for line in lines), lines
        first = alerting.last_evaluated
        assert alerting.tick(first) == "sent 0, failed 0, queued 0, muted 0"
        assert alerting.last_evaluated == first
    finally:
        robot.server.shutdown()


def test_a_second_evaluator_is_refused_by_the_command(tmp_path):
    settings, _ = ingest_changed_fixture(tmp_path)
    with exclusive(settings):
        refused = cli(settings, "--watch")
    assert refused.returncode == 1 and "another process evaluates the alerts" in refused.stderr


def test_once_exits_1_while_a_message_is_queued_and_0_once_it_is_delivered(tmp_path):
    settings, _ = ingest_changed_fixture(tmp_path)
    down = cli(settings, "--once", "--at", "2022-01-06 12:00", "--post", "http://127.0.0.1:9/robot?key=secret99")
    assert down.returncode == 1 and "queued 4" in down.stdout and "secret99" not in down.stdout + down.stderr
    robot = Robot()
    try:
        # 12:05: past the first retry's 30 s; the same alerts are open, so only the queue goes out.
        up = cli(settings, "--once", "--at", "2022-01-06 12:05", "--post", robot.url("duty"))
    finally:
        robot.server.shutdown()
    assert up.returncode == 0, up.stdout + up.stderr
    assert len(robot.texts()) == 4 and all("01-06 12:00" in text for text in robot.texts())


def test_watch_takes_neither_at_nor_post(tmp_path):
    settings, _ = ingest_changed_fixture(tmp_path)
    assert cli(settings, "--watch", "--at", "2022-01-06 12:00").returncode == 2
