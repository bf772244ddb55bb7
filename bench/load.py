"""Many viewers at once: python -m bench.load --url http://127.0.0.1:8501 --sessions 1,10,25,50

For each N, N sessions connect at the same moment (8 a.m., every leader opens the link) and each
makes the server run three scripts in turn, waiting for each to finish:

  overview   load the link: page, health check, websocket, the overview's first run
  testing    follow the sidebar link to another page (--page)
  day        change the as-of day in the URL to the day before

They are real clients of Streamlit's websocket protocol (bench/st_client.py), so the server
does exactly the work a browser's session costs it, minus nothing but drawing.

--like-browser: each session opens the link as Chromium does and then only reads the overview:
Chromium's User-Agent and Origin, the page, /_stcore/host-config and /_stcore/health (whose
cookies go along), the websocket, one run of the default page; after two warm-up sessions
(--warmup), one after another, as the leaders who opened the link before 8 a.m. An outside
protocol-level client that worked this way measured 11.4 s for 50 sessions where the default
mode, --cold, said 4.19 s; this mode reproduces its figure on the code it measured.

Reported per N: p50/p95 seconds per step and for the whole session, the server's CPU seconds
and RSS (psutil, every process given by --server/--pid), and, with a query log, how often each
named query actually reached DuckDB (start the servers with DASHBOARD_BENCH_QUERY_LOG=<file>
and pass --query-log <file>). The load generator shares the machine with the server: its own
CPU time is printed too. Timings on a shared machine are noisy; compare runs side by side.

Through nginx: --url is the proxy, --server names each replica (for CPU, RSS and --cold).

Streets' viewers: --areas 410103001,410103002,... spreads the sessions over those areas, round
robin, each opening its link with ?area=CODE; with --tokens FILE (JSON {code: screen token}, from
`python -m dashboard screen-token --area CODE`) each opens ?token=... instead, a session bound to
its street, as a street's wall screen is. Shared builds are per area: N sessions over k areas
should cost k builds, not N.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import psutil

from bench.markdown import markdown_table
from bench.st_client import ProtocolError, Tab, clear_server_caches, require_loopback

STEPS = ("overview", "testing", "day")
MAX_SESSIONS = 200


@dataclass
class SessionResult:
    steps: dict[str, float] = field(default_factory=dict)  # step -> seconds
    total: float | None = None
    overview_deltas: int = 0
    error: str | None = None
    exceptions: list[str] = field(default_factory=list)


def previous_day(query_string: str) -> str:
    """The session's query string with the day moved one back (the day it shows, from the URL
    the server wrote; if the day cannot be read, the query string unchanged)."""
    params = dict(parse_qsl(query_string))
    try:
        params["day"] = (date.fromisoformat(params["day"]) - timedelta(days=1)).isoformat()
    except (KeyError, ValueError):
        pass
    return urlencode(params)


async def one_session(url: str, page: str, timeout: float, link: str = "", *,
                      like_browser: bool = False) -> SessionResult:
    """link: the query string the session's link carries ("" = the district's plain link).
    like_browser: a leader opening the link in Chromium, who then reads the overview (one step)."""
    result = SessionResult()
    tab = Tab(url, like_browser=like_browser)
    start = time.monotonic()
    try:
        overview = await tab.open("/", link, timeout=timeout)
        result.steps["overview"] = overview.seconds
        result.overview_deltas = overview.deltas
        if not like_browser:
            result.steps["testing"] = (await tab.go_to(page, timeout=timeout)).seconds
            result.steps["day"] = (await tab.set_query(previous_day(tab.query_string), timeout=timeout)).seconds
        result.total = time.monotonic() - start
    except (ProtocolError, OSError, TimeoutError) as error:
        result.error = f"{type(error).__name__}: {error}"
    finally:
        result.exceptions = list(tab.exceptions)
        await tab.close()
    return result


class ServerSampler:
    """CPU time and RSS of the server processes while a level runs (a thread: the event loop
    is busy with the sessions)."""

    def __init__(self, processes: list[psutil.Process], every: float = 0.5):
        self.processes = processes
        self.every = every
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _rss(self) -> int:
        return sum(p.memory_info().rss for p in self.processes)

    def _cpu(self) -> float:
        return sum(sum(p.cpu_times()[:2]) for p in self.processes)

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            self.peak_rss = max(self.peak_rss, self._rss())

    def __enter__(self):
        self.cpu_start, self.wall_start = self._cpu(), time.monotonic()
        self.peak_rss = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.cpu_seconds = self._cpu() - self.cpu_start
        self.wall_seconds = time.monotonic() - self.wall_start
        self.end_rss = self._rss()


def server_processes(servers: list[str], pids: list[int]) -> list[psutil.Process]:
    """The processes listening on the servers' ports, unless --pid names them."""
    if pids:
        return [psutil.Process(pid) for pid in pids]
    ports = {urlsplit(server).port for server in servers}
    found = {c.pid for c in psutil.net_connections(kind="tcp")
             if c.status == psutil.CONN_LISTEN and c.laddr.port in ports and c.pid}
    if len(found) < len(ports):
        raise SystemExit(f"no process found listening on {sorted(ports)}; pass --pid")
    return [psutil.Process(pid) for pid in sorted(found)]


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value that `share` of the values do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def read_new_lines(path: Path | None, offset: int) -> tuple[list[str], int]:
    if path is None or not path.exists():
        return [], offset
    with path.open("rb") as log:
        log.seek(offset)
        chunk = log.read()
    complete = chunk[: chunk.rfind(b"\n") + 1]
    return complete.decode("utf-8").splitlines(), offset + len(complete)


@dataclass
class Level:
    sessions: int
    results: list[SessionResult]
    wall: float
    server_cpu: float
    server_rss_peak: int
    server_rss_end: int
    client_cpu: float
    executions: Counter
    parameter_sets: dict[str, set]

    def seconds(self, step: str | None) -> list[float]:
        if step is None:
            return [r.total for r in self.results if r.total is not None]
        return [r.steps[step] for r in self.results if step in r.steps]

    @property
    def errors(self) -> list[str]:
        return [r.error for r in self.results if r.error]


async def run_level(n: int, args, processes: list[psutil.Process], query_log: Path | None) -> Level:
    if args.cold:
        for server in args.server:
            await clear_server_caches(server, timeout=args.timeout)
    for _ in range(args.warmup):  # one after another, through the front: they warm what they reach
        warm = await one_session(args.url, args.page, args.timeout, like_browser=args.like_browser)
        if warm.error:
            raise SystemExit(f"a warm-up session failed: {warm.error}")
    offset = query_log.stat().st_size if query_log and query_log.exists() else 0
    me = psutil.Process()
    client_cpu = sum(me.cpu_times()[:2])
    with ServerSampler(processes) as sampler:
        results = await asyncio.wait_for(
            asyncio.gather(*(one_session(args.url, args.page, args.timeout, session_link(i, args),
                                         like_browser=args.like_browser)
                             for i in range(n))),
            timeout=args.timeout * len(STEPS) + 60)
    await asyncio.sleep(0.5)  # the last appends to the query log land
    lines, _ = read_new_lines(query_log, offset)
    executions, parameter_sets = Counter(), defaultdict(set)
    for line in lines:
        name, _, params = line.partition("\t")
        executions[name] += 1
        parameter_sets[name].add(params)
    return Level(n, results, sampler.wall_seconds, sampler.cpu_seconds, sampler.peak_rss, sampler.end_rss,
                 sum(me.cpu_times()[:2]) - client_cpu, executions, parameter_sets)


def session_link(index: int, args) -> str:
    """The query string of session `index`'s link: its area's, round robin over --areas."""
    if not args.areas:
        return ""
    area = args.areas[index % len(args.areas)]
    if args.tokens:
        return urlencode({"token": args.tokens[area]})
    return urlencode({"area": area})


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def report(levels: list[Level], query_log: Path | None) -> str:
    header = ["sessions", "ok", *[f"{step} p50 / p95 s" for step in STEPS], "session p50 / p95 s",
              "wall s", "server CPU s", "server RSS peak MB", "load client CPU s", "deltas per overview"]
    rows = []
    for level in levels:
        cells = [str(level.sessions), f"{level.sessions - len(level.errors)}/{level.sessions}"]
        for step in (*STEPS, None):
            values = level.seconds(step)
            cells.append(f"{fmt(percentile(values, 0.5))} / {fmt(percentile(values, 0.95))}")
        deltas = sorted(r.overview_deltas for r in level.results if "overview" in r.steps)
        cells += [f"{level.wall:.1f}", f"{level.server_cpu:.1f}", f"{level.server_rss_peak / 2**20:.0f}",
                  f"{level.client_cpu:.1f}", str(deltas[len(deltas) // 2]) if deltas else "—"]
        rows.append(cells)
    out = [markdown_table(header, rows)]
    if query_log:
        names = sorted({name for level in levels for name in level.executions})
        header = ["query", *[f"N={level.sessions}: runs (param sets)" for level in levels]]
        rows = [[name, *[f"{level.executions[name]} ({len(level.parameter_sets[name])})" for level in levels]]
                for name in names]
        rows.append(["**all**", *[f"{sum(level.executions.values())} "
                                  f"({sum(len(s) for s in level.parameter_sets.values())})" for level in levels]])
        out += ["", "Queries that reached DuckDB (executions, and distinct parameter sets among them):", "",
                markdown_table(header, rows)]
    for level in levels:
        for error in sorted(set(level.errors))[:5]:
            out.append(f"\nN={level.sessions}: {level.errors.count(error)} session(s) failed: {error}")
        shown = Counter(text for r in level.results for text in r.exceptions)
        for text, count in shown.most_common(3):
            out.append(f"\nN={level.sessions}: exception on the page in {count} session(s): {text[:200]}")
    return "\n".join(out)


async def main_async(args) -> None:
    require_loopback(args.url)
    for server in args.server:
        require_loopback(server)
    processes = server_processes(args.server, args.pid)
    query_log = Path(args.query_log) if args.query_log else None
    print(f"load on {args.url}; server processes {[p.pid for p in processes]}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the run", flush=True)
    # One thread per session for the page and health requests: with asyncio's default pool (six
    # threads on two cores) the sessions' first requests went six at a time, a ramp, not at once.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=max(args.sessions) + 1))
    levels = []
    for n in args.sessions:
        level = await run_level(n, args, processes, query_log)
        levels.append(level)
        total = level.seconds(None)
        print(f"N={n}: {len(total)}/{n} sessions finished, p95 {fmt(percentile(total, 0.95))} s, "
              f"wall {level.wall:.1f} s", flush=True)
        await asyncio.sleep(args.pause)
    table = report(levels, query_log)
    print("\n" + table)
    if args.json:
        Path(args.json).write_text(json.dumps([{
            "sessions": level.sessions, "errors": level.errors, "wall": level.wall,
            "server_cpu": level.server_cpu, "server_rss_peak": level.server_rss_peak,
            "server_rss_end": level.server_rss_end, "client_cpu": level.client_cpu,
            "steps": {step: level.seconds(step) for step in STEPS}, "total": level.seconds(None),
            "executions": dict(level.executions),
            "parameter_sets": {k: len(v) for k, v in level.parameter_sets.items()},
        } for level in levels], indent=1))


def session_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1 or max(counts) > MAX_SESSIONS:
        raise argparse.ArgumentTypeError(f"between 1 and {MAX_SESSIONS} sessions per level")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="where viewers connect: a server, or nginx in front of replicas")
    parser.add_argument("--sessions", type=session_counts, default=[1, 10, 25, 50],
                        help="concurrent sessions per level, e.g. 1,10,25,50")
    parser.add_argument("--server", action="append", default=[],
                        help="a Streamlit server behind --url (repeat per replica; default: --url itself)")
    parser.add_argument("--pid", type=int, action="append", default=[],
                        help="server process id(s), if they cannot be found from the ports")
    parser.add_argument("--query-log", help="the file the servers append executed queries to "
                                            "(their DASHBOARD_BENCH_QUERY_LOG)")
    parser.add_argument("--page", default="testing", help="the second page each session opens (url path)")
    parser.add_argument("--timeout", type=float, default=180, help="seconds one step may take")
    parser.add_argument("--pause", type=float, default=3, help="seconds between levels")
    parser.add_argument("--cold", action="store_true",
                        help="clear the servers' caches before each level (as after a new snapshot)")
    parser.add_argument("--like-browser", action="store_true",
                        help="each session opens the link as Chromium does (its User-Agent and Origin, the host "
                             "config and health check before the websocket) and reads the overview only")
    parser.add_argument("--warmup", type=int, default=None,
                        help="sessions run one after another before each level (default 2 with --like-browser, else 0)")
    parser.add_argument("--json", help="also write the raw numbers here")
    parser.add_argument("--areas", type=lambda text: [c for c in text.split(",") if c], default=[],
                        help="spread the sessions over these area codes, round robin (?area=CODE)")
    parser.add_argument("--tokens", help="JSON file {area code: screen token}: sessions open ?token=... of their area")
    args = parser.parse_args()
    args.tokens = json.loads(Path(args.tokens).read_text(encoding="utf-8")) if args.tokens else None
    if args.tokens and set(args.areas) - set(args.tokens):
        parser.error(f"--tokens has no token for {sorted(set(args.areas) - set(args.tokens))}")
    args.server = args.server or [args.url]
    if args.warmup is None:
        args.warmup = 2 if args.like_browser else 0
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
