"""`python -m dashboard briefing --all-areas`: each street's group robot gets its own street's
briefing, the district's robot the district's, and one failing robot stops none of the others.

One local HTTP server on 127.0.0.1 stands in for every group robot, a path and a key per robot;
`[briefing.webhooks]` is a temporary secrets file. A street's expected figures are counted here
from the fixture's own files (DuckDB over the export CSV) or its tables in tests/fixtures.py, never
by the code under test."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import duckdb
import pytest

from dashboard.__main__ import main
from dashboard.briefing import send
from tests.fixtures import COMMUNITIES, DAYS, STREETS, XINGYUAN, ZONE_LEDGER, ZONES

MIFENGZHANG, RENHELU = (code for code, _ in STREETS)
DAY = DAYS[-1]


class Robots:
    """Group robots on one server: /robot/<name>?key=KEY-<name> answers with (status, body) from
    `answers` (default 200 errcode 0), and keeps every message it was sent."""

    def __init__(self, answers: dict[str, tuple[int, dict]]):
        self.answers, self.received = answers, {}
        robots = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                name = urlsplit(self.path).path.removeprefix("/robot/")
                message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                robots.received.setdefault(name, []).append(message)
                status, body = robots.answers.get(name, (200, {"errcode": 0, "errmsg": "ok"}))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(body).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/robot/{name}?key=KEY-{name}"

    def contents(self, name: str) -> list[str]:
        return [message["markdown"]["content"] for message in self.received.get(name, [])]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def robots():
    made = []

    def make(**answers):
        made.append(Robots(answers))
        return made[-1]

    yield make
    for server in made:
        server.close()


@pytest.fixture(autouse=True)
def waits(monkeypatch):
    """The backoff's waits, recorded instead of slept."""
    recorded = []
    monkeypatch.setattr(send.time, "sleep", recorded.append)
    return recorded


@pytest.fixture
def configure(tmp_path, monkeypatch):
    """Write the secrets file's [briefing] section: webhook_url and the [briefing.webhooks] table."""

    def write(webhooks: dict[str, str], webhook_url: str | None = None):
        lines = ["[briefing]"] + ([f'webhook_url = "{webhook_url}"'] if webhook_url else [])
        lines += ["", "[briefing.webhooks]"] + [f'"{code}" = "{url}"' for code, url in webhooks.items()]
        secrets = tmp_path / "secrets.toml"
        secrets.write_text("\n".join(lines) + "\n", encoding="utf-8")
        monkeypatch.setenv("DASHBOARD_SECRETS", str(secrets))

    return write


def run_briefing(fixture_snapshot, out, *extra):
    return main(["briefing", "--data", str(fixture_snapshot.data_dir), "--db", str(fixture_snapshot.db_path),
                 "--out", str(out), *extra])


def samples_and_positives(fixture_snapshot, area_prefix: str) -> tuple[int, int]:
    """Counted straight from the day's testing export: every row a sample, `positive` a positive."""
    export = fixture_snapshot.data_dir / "exports" / DAY.isoformat() / "testing_records.csv"
    with duckdb.connect() as connection:
        return connection.execute("select count(*), count(*) filter (where result = 'positive') from read_csv($path,"
                                  " all_varchar = true) where starts_with(area_code, $prefix)",
                                  {"path": str(export), "prefix": area_prefix}).fetchone()


def sealed_zones_and_residents(street: str) -> tuple[int, int]:
    """Sealed zones active on the day in the street's communities, from the fixture's zone ledger."""
    communities = {code for code, _, parent, *_ in COMMUNITIES if parent == street}
    sealed = [zone for zone, lifted in ZONE_LEDGER[DAY].items()
              if not lifted and ZONES[zone][2] == "sealed" and ZONES[zone][0] in communities]
    return len(sealed), sum(ZONES[zone][5] for zone in sealed)


def street_lines(fixture_snapshot, street: str) -> list[str]:
    samples, positives = samples_and_positives(fixture_snapshot, street)
    zones, residents = sealed_zones_and_residents(street)
    return [f"当日采样：{samples:,} 人次，阳性 {positives} 例", f"封控区：{zones} 个", f"封控区涉及人口：{residents} 人"]


def test_the_fixture_streets_differ_where_the_test_looks(fixture_snapshot):
    # Otherwise a street's message holding the district's figures, or the other street's, would pass.
    assert samples_and_positives(fixture_snapshot, MIFENGZHANG) == (1620, 0)  # 900 + 700 + 20 twice-sampled
    assert samples_and_positives(fixture_snapshot, RENHELU) == (2050, 1)  # 950 + 1,100; the 杏苑 positive
    assert sealed_zones_and_residents(MIFENGZHANG) == (0, 0)  # only Z3, a precaution zone, lifted that day
    assert sealed_zones_and_residents(RENHELU) == (2, 420)  # Z1 300 + Z4 120


def test_each_street_and_the_district_get_their_own_briefing(fixture_snapshot, tmp_path, robots, configure, capsys):
    robot = robots()
    configure({code: robot.url(code) for code, _ in STREETS} | {"district": robot.url("district")})
    assert run_briefing(fixture_snapshot, tmp_path / "out", "--all-areas") == 0
    assert sorted(robot.received) == sorted([MIFENGZHANG, RENHELU, "district"])
    for street, name in STREETS:
        other = RENHELU if street == MIFENGZHANG else MIFENGZHANG
        [content] = robot.contents(street)
        assert content.startswith(f"# 二七区{name}疫情防控日报（截至 {DAY.isoformat()}）")
        assert all(line in content for line in street_lines(fixture_snapshot, street)), content
        assert street_lines(fixture_snapshot, other)[0] not in content
    [district] = robot.contents("district")
    assert district.startswith(f"# 二七区疫情防控日报（截至 {DAY.isoformat()}）")
    # The whole district: 3,670 samples, 1 positive; sealed Z1 and Z4, 420 residents.
    assert "当日采样：3,670 人次，阳性 1 例" in district and "封控区涉及人口：420 人" in district
    output = capsys.readouterr()
    assert output.out.rstrip().splitlines()[-1] == "posted 3 of 3"
    assert output.err == "" and "KEY-" not in output.out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"briefing-{DAY.isoformat()}-{area}-zh.{ext}" for area in (MIFENGZHANG, RENHELU, "district")
        for ext in ("md", "html"))


def test_only_areas_with_a_robot_are_written_and_a_community_gets_its_own(fixture_snapshot, tmp_path, robots,
                                                                          configure, capsys):
    robot = robots()
    configure({XINGYUAN: robot.url("xingyuan"), MIFENGZHANG: robot.url("mifengzhang")})
    assert run_briefing(fixture_snapshot, tmp_path, "--all-areas", "--lang", "en") == 0
    [content] = robot.contents("xingyuan")
    samples, positives = samples_and_positives(fixture_snapshot, XINGYUAN)
    assert (samples, positives) == (1100, 1)
    assert content.startswith("# 杏苑社区, Erqi district") and f"Samples today: {samples:,}, positives: 1" in content
    assert len(robot.contents("mifengzhang")) == 1
    # 人和路街道 has no robot: no files; the district has none either, and is written all the same.
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".md") == [
        f"briefing-{DAY.isoformat()}-{code}-en.md" for code in (MIFENGZHANG, XINGYUAN, "district")]
    output = capsys.readouterr().out
    assert "not posted" in next(line for line in output.splitlines() if line.startswith("district "))
    assert output.rstrip().splitlines()[-1] == "posted 2 of 2"


def test_a_failing_robot_stops_none_of_the_others(fixture_snapshot, tmp_path, robots, configure, capsys, waits):
    # 蜜蜂张街道 comes first and its robot answers 500 to every try; 杏苑's refuses the message.
    robot = robots(**{MIFENGZHANG: (500, {}), "xingyuan": (200, {"errcode": 93000, "errmsg": "invalid"})})
    configure({MIFENGZHANG: robot.url(MIFENGZHANG), RENHELU: robot.url(RENHELU), XINGYUAN: robot.url("xingyuan"),
               "district": robot.url("district")})
    assert run_briefing(fixture_snapshot, tmp_path, "--all-areas") == 1
    assert len(robot.received[MIFENGZHANG]) == 4 and waits == [1.0, 2.0, 4.0]  # retried, then given up
    assert len(robot.received["xingyuan"]) == 1  # a refusal is not retried
    [renhelu] = robot.contents(RENHELU)
    assert street_lines(fixture_snapshot, RENHELU)[0] in renhelu
    assert len(robot.received["district"]) == 1
    output = capsys.readouterr()
    both = output.out + output.err
    assert f"ERROR {MIFENGZHANG} 蜜蜂张街道" in output.err and "HTTP 500" in output.err
    assert f"ERROR {XINGYUAN} 杏苑社区" in output.err and "errcode 93000" in output.err
    summary = output.out.rstrip().splitlines()[-1]
    assert summary.startswith("posted 2 of 4; failed: ")
    assert f"{MIFENGZHANG} 蜜蜂张街道 (" in summary and f"{XINGYUAN} 杏苑社区 (" in summary
    assert f"{RENHELU} 人和路街道" not in summary
    assert "KEY-" not in both and "/robot/" not in both and "127.0.0.1" not in both
    # Every area's files were written, the failed ones' too.
    assert len(list(tmp_path.glob(f"briefing-{DAY.isoformat()}-*-zh.md"))) == 4


def test_a_robot_nobody_answers_is_a_failure_named_by_its_area(fixture_snapshot, tmp_path, robots, configure, capsys):
    robot = robots()
    gone = robots()
    closed_url = gone.url("gone")
    gone.close()  # the port is closed: connection refused
    configure({RENHELU: closed_url, MIFENGZHANG: robot.url(MIFENGZHANG)})
    assert run_briefing(fixture_snapshot, tmp_path, "--all-areas") == 1
    assert len(robot.received[MIFENGZHANG]) == 1
    output = capsys.readouterr()
    assert f"{RENHELU} 人和路街道 (" in output.out.rstrip().splitlines()[-1]
    assert "KEY-gone" not in output.out + output.err


def test_a_code_that_is_no_area_is_named_and_the_others_go_on(fixture_snapshot, tmp_path, robots, configure,
                                                              capsys):
    robot = robots()
    configure({"410103999": robot.url("nowhere"), "410103": robot.url("district-code"),
               RENHELU: robot.url(RENHELU)})
    assert run_briefing(fixture_snapshot, tmp_path, "--all-areas") == 1
    assert sorted(robot.received) == [RENHELU]
    output = capsys.readouterr()
    assert "ERROR 410103999 in [briefing.webhooks]" in output.err and "ERROR 410103 in" in output.err
    summary = output.out.rstrip().splitlines()[-1]
    assert summary.startswith("posted 1 of 3; failed: ") and "410103999 (" in summary
    assert "KEY-" not in output.out + output.err
    assert not list(tmp_path.glob("*410103999*"))


def test_the_district_robot_of_the_table_wins_over_webhook_url(fixture_snapshot, tmp_path, robots, configure):
    robot = robots()
    configure({"district": robot.url("district")}, webhook_url=robot.url("older"))
    assert run_briefing(fixture_snapshot, tmp_path / "all", "--all-areas") == 0
    assert run_briefing(fixture_snapshot, tmp_path / "one") == 0
    assert len(robot.received["district"]) == 2 and "older" not in robot.received


def test_webhook_url_alone_is_the_districts_robot(fixture_snapshot, tmp_path, robots, configure):
    robot = robots()
    configure({}, webhook_url=robot.url("older"))
    assert run_briefing(fixture_snapshot, tmp_path, "--all-areas") == 0
    [content] = robot.contents("older")
    assert content.startswith("# 二七区疫情防控日报")


def test_one_area_posts_to_its_own_robot_else_the_districts(fixture_snapshot, tmp_path, robots, configure):
    robot = robots()
    configure({RENHELU: robot.url(RENHELU), "district": robot.url("district")})
    assert run_briefing(fixture_snapshot, tmp_path, "--area", RENHELU) == 0
    [content] = robot.contents(RENHELU)
    assert street_lines(fixture_snapshot, RENHELU)[0] in content and "district" not in robot.received
    # 蜜蜂张街道 has no robot of its own: its briefing goes to the district's, as before area robots.
    assert run_briefing(fixture_snapshot, tmp_path, "--area", MIFENGZHANG) == 0
    [content] = robot.contents("district")
    assert street_lines(fixture_snapshot, MIFENGZHANG)[0] in content


def test_post_with_all_areas_is_refused(fixture_snapshot, tmp_path, robots, capsys):
    robot = robots()
    assert run_briefing(fixture_snapshot, tmp_path, "--all-areas", "--post", robot.url("one")) == 2
    error = capsys.readouterr().err
    assert "--post" in error and "[briefing.webhooks]" in error and "KEY-" not in error
    assert robot.received == {} and list(tmp_path.iterdir()) == []


def test_area_with_all_areas_is_refused(fixture_snapshot, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        run_briefing(fixture_snapshot, tmp_path, "--all-areas", "--area", RENHELU)
    assert exit_.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
