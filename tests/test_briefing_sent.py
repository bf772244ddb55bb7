"""`python -m dashboard briefing`: the files, and the post to a group robot, with a local HTTP
server on 127.0.0.1 standing in for the webhook. Figures are the fixture's, worked out by hand."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from dashboard.__main__ import main
from dashboard.briefing import document, send
from dashboard.figures.headline import REPORT_KEYS
from dashboard.figures.trends import Trend
from tests.fixtures import XINGYUAN


class Robot:
    """A webhook that answers each POST with the next (status, body) of its script, then the last."""

    def __init__(self, script):
        self.script, self.received, self.gets = list(script), [], 0
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                robot.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                status, body = robot.script[min(len(robot.received), len(robot.script)) - 1]
                self.send_response(status)
                if 300 <= status < 400:
                    # Where urllib would go on with a GET, which this robot answers 200 {"errcode": 0}.
                    self.send_header("Location", f"http://127.0.0.1:{robot.server.server_address[1]}/landing")
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body if isinstance(body, bytes) else json.dumps(body).encode())

            def do_GET(self):  # noqa: N802
                robot.gets += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errcode": 0}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=test"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def robot_factory():
    robots = []

    def make(*script):
        robots.append(Robot(script))
        return robots[-1]

    yield make
    for robot in robots:
        robot.close()


@pytest.fixture
def waits(monkeypatch):
    """The backoff's waits, recorded instead of slept."""
    recorded = []
    monkeypatch.setattr(send.time, "sleep", recorded.append)
    return recorded


def run_briefing(fixture_snapshot, out, *extra):
    return main(["briefing", "--data", str(fixture_snapshot.data_dir), "--db", str(fixture_snapshot.db_path),
                 "--out", str(out), *extra])


def test_files_hold_the_figures_and_open_offline(fixture_snapshot, tmp_path):
    assert run_briefing(fixture_snapshot, tmp_path) == 0
    markdown = (tmp_path / "briefing-2022-01-06-district-zh.md").read_text(encoding="utf-8")
    page = (tmp_path / "briefing-2022-01-06-district-zh.html").read_text(encoding="utf-8")
    for text in (markdown, page):
        assert "阳性待转运：2 人" in text and "逾期未解除：1 人" in text
        assert "台郭社区：1 人，最长等待 62 小时" in text and "杏苑社区：1 人，最长等待 8 小时" in text
        assert "当日采样：3,670 人次，阳性 1 例" in text
        assert "各类数据均已更新" in text and "筛选：日期 2022-01-06，范围 全区，语言 zh" in text
    # The attention list, ranked as the builder ranks it: TS01 short now comes first.
    assert "- 在岗不足：西工房固定采样点：现在在岗 1 人，少于最少 2 人" in markdown
    assert "## 数据更正\n- 无\n" in markdown
    # Four trends drawn inline; nothing the page would fetch.
    assert page.count("<svg") == 4 and markdown.count("data:image/svg+xml;base64,") == 4
    for fetch in ("<script", "<link", "src=", "href=", "url(", "@import", "https://"):
        assert fetch not in page


def test_english_briefing_for_an_area(fixture_snapshot, tmp_path):
    assert run_briefing(fixture_snapshot, tmp_path, "--lang", "en", "--area", XINGYUAN) == 0
    markdown = (tmp_path / f"briefing-2022-01-06-{XINGYUAN}-en.md").read_text(encoding="utf-8")
    assert markdown.startswith("# 杏苑社区, Erqi district")
    assert "- Positives awaiting transfer: 1\n" in markdown and "杏苑社区: 1, longest wait 8 h" in markdown


def test_values_from_exports_are_shown_as_typed(tmp_path):
    report = {key: None for key in REPORT_KEYS} | {"as_of": "2022-01-06", "at": "2022-01-06T12:00", "feeds": {"shifts": {"latest_export": "2022-01-05",
                                                                                     "stale": True}},
              "corrections": [{"kind": "testing_records", "day": "2022-01-06", "ingested_at": "2022-01-07T08:15:00",
                               "before": {"rows": 10, "samples_on_day": 10, "positives_on_day": 3},
                               "after": {"rows": 10, "samples_on_day": 10, "positives_on_day": 8}}]}
    inputs = document.BriefingInputs(
        report=report, lang="zh", area_name="[点击](http://x)",
        attention=[("酒店将满", "<img src=x onerror=alert(1)>*满*")],
        awaiting=pd.DataFrame({"name": ["<b>台郭</b>"], "awaiting": [1], "longest_wait_hours": [30]}),
        data_as_of=pd.Timestamp("2022-01-06 20:00"),
        trends=[Trend("<阳性>", [pd.Timestamp("2022-01-05"), pd.Timestamp("2022-01-06")], [None, 3])])
    page = document.to_html(inputs)
    markdown = document.briefing_markdown(inputs)
    assert "<img" not in page and "<b>" not in page and "<阳性>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;*满*" in page
    assert "\\[点击\\]" in markdown and "\\*满\\*" in markdown
    assert "1月6日 核酸采样（2022年1月7日 08:15 重新导出）：阳性 3→8" in markdown
    assert "未更新的数据：排班" in markdown


def test_posts_the_robot_message(fixture_snapshot, tmp_path, robot_factory, waits, capsys):
    robot = robot_factory((200, {"errcode": 0, "errmsg": "ok"}))
    assert run_briefing(fixture_snapshot, tmp_path, "--post", robot.url) == 0
    [message] = robot.received
    assert set(message) == {"msgtype", "markdown"} and message["msgtype"] == "markdown"
    content = message["markdown"]["content"]
    assert content.startswith("# 二七区疫情防控日报（截至 2022-01-06）")
    assert "阳性待转运：2 人" in content and "data:image" not in content
    assert len(content.encode()) <= 4096
    assert waits == [] and "posted to the webhook" in capsys.readouterr().out


def test_retries_with_backoff_then_succeeds(fixture_snapshot, tmp_path, robot_factory, waits):
    robot = robot_factory((503, {}), (502, {}), (200, {"errcode": 0}))
    assert run_briefing(fixture_snapshot, tmp_path, "--post", robot.url) == 0
    assert len(robot.received) == 3 and waits == [1.0, 2.0]


def test_webhook_down_exits_non_zero_and_keeps_the_files(fixture_snapshot, tmp_path, robot_factory, waits, capsys):
    robot = robot_factory((500, {}))
    assert run_briefing(fixture_snapshot, tmp_path / "out", "--post", robot.url) == 1
    assert len(robot.received) == 4 and waits == [1.0, 2.0, 4.0]
    error = capsys.readouterr().err
    assert "ERROR briefing not sent" in error and "HTTP 500" in error and "key=test" not in error
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["briefing-2022-01-06-district-zh.html",
                                                                    "briefing-2022-01-06-district-zh.md"]


def test_nobody_listening_is_a_clear_failure(fixture_snapshot, tmp_path, robot_factory, waits, capsys):
    robot = robot_factory((200, {}))
    url = robot.url
    robot.close()  # the port is closed: connection refused
    assert run_briefing(fixture_snapshot, tmp_path, "--post", url) == 1
    assert "ERROR briefing not sent" in capsys.readouterr().err and len(waits) == 3


def test_a_refusing_robot_is_not_retried(fixture_snapshot, tmp_path, robot_factory, waits, capsys):
    robot = robot_factory((200, {"errcode": 93000, "errmsg": "invalid webhook url"}))
    assert run_briefing(fixture_snapshot, tmp_path, "--post", robot.url) == 1
    assert len(robot.received) == 1 and "errcode 93000" in capsys.readouterr().err


def test_the_configured_webhook_is_a_secret(fixture_snapshot, tmp_path, robot_factory, waits, monkeypatch):
    robot = robot_factory((200, {"errcode": 0}))
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[briefing]\nwebhook_url = "{robot.url}"\n', encoding="utf-8")
    monkeypatch.setenv("DASHBOARD_SECRETS", str(secrets))
    assert run_briefing(fixture_snapshot, tmp_path / "out") == 0
    assert len(robot.received) == 1


@pytest.mark.parametrize("status", [302, 307])
def test_a_redirect_is_not_followed_nor_counted_as_posted(fixture_snapshot, tmp_path, robot_factory, waits, capsys,
                                                          status):
    robot = robot_factory((status, {}))
    assert run_briefing(fixture_snapshot, tmp_path, "--post", robot.url) == 1
    output = capsys.readouterr()
    assert robot.gets == 0 and len(robot.received) == 1 and waits == []
    assert f"HTTP {status}" in output.err and "posted" not in output.out and "key=test" not in output.err


@pytest.mark.parametrize("reply", [b"<html>ok</html>", b"", b'{"ok": true}', b'{"errcode": "0"}', b"[0]"])
def test_only_a_json_errcode_zero_counts_as_delivered(fixture_snapshot, tmp_path, robot_factory, waits, capsys,
                                                      reply):
    robot = robot_factory((200, reply))
    assert run_briefing(fixture_snapshot, tmp_path, "--post", robot.url) == 1
    output = capsys.readouterr()
    assert "ERROR briefing not sent" in output.err and "posted" not in output.out
    assert len(robot.received) == 1


@pytest.mark.parametrize("url", ["https://qyapi.example/cgi-bin/webhook/send?key=SECRET KEY",
                                 "https://qyapi.example/send?key=SECRET\nX-Evil: 1", "ftp://host/key=SECRET",
                                 "key=SECRET"])
def test_a_malformed_webhook_url_is_a_clear_failure_that_never_shows_the_key(fixture_snapshot, tmp_path, waits,
                                                                            capsys, url):
    assert run_briefing(fixture_snapshot, tmp_path, "--post", url) == 1
    output = capsys.readouterr()
    assert "ERROR briefing not sent" in output.err and "SECRET" not in output.err + output.out and waits == []
