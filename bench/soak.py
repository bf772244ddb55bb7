"""Days of a wall screen, in minutes: python -m bench.soak --data DIR [--runs 2000] [--minutes 60]

Starts its own server over a copy of DIR (the exports; the copy is hard links, so it costs no
space) and plays kiosk screens (`/?kiosk=1&rotate=5`) against it with the websocket client of
bench/st_client.py, while a real ingest swaps in a new snapshot every --swap-seconds: each time
the newest day's --feed file is rewritten (a few rows fewer, a different number each time) and
`python -m dashboard ingest` runs, as the watcher would.

Time is compressed by --speedup: the screens ask for their fragment reruns (the clock every
second, the new-snapshot check every DASHBOARD_REFRESH_SECONDS) that much more often, and move
to the next page after rotate/speedup seconds instead of waiting for the server's rotation
(which follows the server's wall clock and so cannot be hurried). With --speedup 1 a screen
is a browser left alone: it follows the server's st.switch_page rotation.

Every --sample-seconds it samples the server process: RSS, threads, open file descriptors,
descriptors on *.duckdb files (the open snapshots), and those on replaced snapshot files (a
deleted inode: a connection nobody closed). At the end it reports:

  - RSS growth over the second half, against RSS at the half-way point (goal: at most 5 %);
  - threads and descriptors, first half against second half (goal: flat);
  - descriptors on replaced snapshots once the screens have had time to see the last swap
    (goal: none).

A smoke run: python -m bench.soak --data DIR --db SNAPSHOT --runs 150 --minutes 2 --swap-seconds 15
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from bench.st_client import ProtocolError, Tab

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out" / "soak"
START_SECONDS = 120
RSS_GROWTH_GOAL = 0.05
FLAT_SLACK = 2
# The router's default page; Streamlit serves it at / and gives it no url path of its own.
DEFAULT_PAGE = "overview"


# ---------------------------------------------------------------- the server and its data

def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def link_copy(source: Path, target: Path) -> None:
    """A copy of the exports made of hard links: rewriting a file replaces the link, never the original."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, copy_function=os.link)


def start_server(data: Path, db: Path, workdir: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k not in ("DASHBOARD_USERS_FILE", "DASHBOARD_ID_KEY")}
    # A kiosk behind a login form would only ever run the form: no users, whatever this machine has.
    environment.update(DASHBOARD_DATA=str(data), DASHBOARD_DB=str(db),
                       DASHBOARD_SECRETS=str(workdir / "no-secrets.toml"), **env)
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"],
        cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"streamlit exited with {process.returncode}; see {workdir / 'server.log'}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, url
        time.sleep(0.3)
    process.kill()
    raise SystemExit(f"streamlit did not start in {START_SECONDS} s; see {workdir / 'server.log'}")


class Swapper:
    """Rewrites the newest day's feed file and runs a real ingest, every `every` seconds."""

    def __init__(self, data: Path, db: Path, feed: str, every: float, log: Path):
        days = sorted(p for p in (data / "exports").iterdir() if p.is_dir())
        self.file = days[-1] / f"{feed}.csv"
        self.original = self.file.read_bytes().splitlines(keepends=True)
        self.data, self.db, self.every, self.log = data, db, every, log
        self.swaps = self.failures = 0
        self.seconds: list[float] = []

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every)
            if stop.is_set():
                return
            await self.swap()

    async def swap(self) -> None:
        # Drop 1..7 data rows, a different number from the last time, so every ingest sees a new file.
        dropped = 1 + self.swaps % 7
        temporary = self.file.with_suffix(".rewrite")
        temporary.write_bytes(b"".join(self.original[:-dropped]))
        os.replace(temporary, self.file)
        start = time.monotonic()
        with self.log.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "dashboard", "ingest", "--data", str(self.data), "--db", str(self.db),
                cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
            code = await process.wait()
        self.seconds.append(time.monotonic() - start)
        self.swaps += 1
        self.failures += code != 0


# ---------------------------------------------------------------- sampling the server

@dataclass
class Sample:
    seconds: float
    rss_mb: float
    threads: int
    fds: int
    snapshot_fds: int  # descriptors on *.duckdb files
    replaced_snapshot_fds: int  # ... whose file was replaced (deleted inode)
    cpu_percent: float
    full_runs: int
    fragment_runs: int
    swaps: int


def snapshot_descriptors(pid: int) -> tuple[int, int]:
    """(descriptors on .duckdb files, those whose file has been replaced or deleted)."""
    open_, replaced = 0, 0
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in os.listdir(fd_dir):
        with contextlib.suppress(OSError):
            target = os.readlink(fd_dir / fd)
            if ".duckdb" in target:
                open_ += 1
                replaced += target.endswith(" (deleted)")
    return open_, replaced


class Sampler:
    def __init__(self, process: psutil.Process, every: float, counters):
        self.process, self.every, self.counters = process, every, counters
        self.samples: list[Sample] = []
        self.start = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        process.cpu_percent()

    def take(self) -> Sample:
        p = self.process
        snapshot_fds, replaced = snapshot_descriptors(p.pid)
        sample = Sample(round(time.monotonic() - self.start, 1), p.memory_info().rss / 2**20, p.num_threads(),
                        p.num_fds(), snapshot_fds, replaced, p.cpu_percent(), *self.counters())
        self.samples.append(sample)
        return sample

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            with contextlib.suppress(psutil.Error):
                self.take()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------- the screens

async def screen(tab: Tab, pages: list[str], args, stop: asyncio.Event, errors: list[str]) -> None:
    """One wall screen until stop: rotate through pages, following whatever the server runs."""
    try:
        await tab.open("/", query_string=f"kiosk=1&rotate={args.rotate}", timeout=args.timeout)
        while not stop.is_set():
            if args.speedup > 1:
                await asyncio.sleep(args.rotate / args.speedup)
                paths = ["" if page == DEFAULT_PAGE else page for page in pages]
                here = next((path for path, h in tab.pages.items() if h == tab.page_script_hash and path in paths),
                            paths[0])
                await tab.go_to(paths[(paths.index(here) + 1) % len(paths)], timeout=args.timeout)
            else:
                await tab.wait_for_full_run(timeout=args.rotate * 3 + args.timeout)
    except (ProtocolError, OSError, TimeoutError) as error:
        errors.append(f"{type(error).__name__}: {error}")


async def soak(args) -> int:
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    data, db = workdir / "data", workdir / "snapshot.duckdb"
    print(f"copying {args.data} into {data} (hard links) and ingesting it …", flush=True)
    link_copy(Path(args.data), data)
    for stale in workdir.glob("snapshot.duckdb*"):
        stale.unlink()
    if args.db:
        # A snapshot of these exports already exists: start from a copy, the ingest finds nothing new.
        shutil.copyfile(args.db, db)
    subprocess.run([sys.executable, "-m", "dashboard", "ingest", "--data", str(data), "--db", str(db)],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    query_log = workdir / "queries.log"
    query_log.unlink(missing_ok=True)
    pages = args.pages.split(",")
    process, url = start_server(data, db, workdir, {
        "DASHBOARD_KIOSK_PAGES": args.pages, "DASHBOARD_REFRESH_SECONDS": str(args.refresh),
        "DASHBOARD_BENCH_QUERY_LOG": str(query_log)})
    server = psutil.Process(process.pid)
    tabs = [Tab(url, follow_fragments=True, speedup=args.speedup) for _ in range(args.screens)]
    swapper = Swapper(data, db, args.feed, args.swap_seconds, workdir / "ingest.log")
    errors: list[str] = []
    stop = asyncio.Event()
    deadline = time.monotonic() + args.minutes * 60
    try:
        with Sampler(server, args.sample_seconds,
                     lambda: (sum(t.full_runs for t in tabs), sum(t.fragment_runs for t in tabs),
                              swapper.swaps)) as sampler:
            sampler.take()
            tasks = [asyncio.create_task(screen(tab, pages, args, stop, errors)) for tab in tabs]
            swap_stop = asyncio.Event()
            swapping = asyncio.create_task(swapper.run(swap_stop))
            next_report = time.monotonic() + 30
            while time.monotonic() < deadline and sum(t.full_runs for t in tabs) < args.runs and \
                    not all(task.done() for task in tasks):
                await asyncio.sleep(1)
                if time.monotonic() >= next_report:
                    s = sampler.samples[-1]
                    print(f"{s.seconds:6.0f} s: {s.full_runs} runs, {s.fragment_runs} fragment runs, "
                          f"{s.swaps} swaps, RSS {s.rss_mb:.0f} MB, {s.threads} threads, {s.fds} fds", flush=True)
                    next_report += 30
            # No more swaps (an ingest under way finishes); the screens go on for a while, so each
            # has seen the last snapshot before the final sample.
            swap_stop.set()
            await swapping
            await asyncio.sleep(args.settle)
            final = sampler.take()
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        stop.set()
        for tab in tabs:
            await tab.close()
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        if process.poll() is None:
            process.kill()

    samples = sampler.samples
    with (workdir / "samples.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(asdict(samples[0])))
        writer.writeheader()
        writer.writerows(asdict(s) for s in samples)
    executed = len(query_log.read_text().splitlines()) if query_log.exists() else 0
    print(report(samples, final, swapper, errors, args, executed, workdir))
    return 0


def report(samples: list[Sample], final: Sample, swapper: Swapper, errors: list[str], args, executed: int,
           workdir: Path) -> str:
    half_time = samples[-1].seconds / 2
    first = [s for s in samples if s.seconds <= half_time]
    second = [s for s in samples if s.seconds > half_time] or [samples[-1]]
    at_half = first[-1]
    growth = (max(s.rss_mb for s in second) - at_half.rss_mb) / at_half.rss_mb
    screen_hours = args.screens * final.seconds * args.speedup / 3600

    def spread(values) -> str:
        values = list(values)
        return f"{min(values)}–{max(values)}"

    def flat(first_half):
        # Threads come and go with script runs and DuckDB's pool: a couple more at a peak is noise.
        ceiling = max(first_half) + FLAT_SLACK
        return lambda second_half: "ok" if max(second_half) <= ceiling else "GROWS"

    lines = [
        "",
        f"{final.seconds / 60:.1f} min, {args.screens} screen(s) at speedup {args.speedup:g} "
        f"(≈ {screen_hours:.2f} h of screen time): {final.full_runs + final.fragment_runs} script runs "
        f"({final.full_runs} page runs, {final.fragment_runs} fragment runs), "
        f"{swapper.swaps} snapshots swapped in ({swapper.failures} failed ingests, "
        f"{(sum(swapper.seconds) / len(swapper.seconds)) if swapper.seconds else 0:.1f} s each), "
        f"{executed} queries executed",
        "",
        "| measure | start | half-way | end | goal | verdict |",
        "|---|---|---|---|---|---|",
        f"| RSS MB | {samples[0].rss_mb:.0f} | {at_half.rss_mb:.0f} | {final.rss_mb:.0f} "
        f"(second-half max {max(s.rss_mb for s in second):.0f}) | ≤ +5 % over the second half | "
        f"{growth:+.1%} {'ok' if growth <= RSS_GROWTH_GOAL else 'GROWS'} |",
        f"| threads | {samples[0].threads} | {at_half.threads} | {final.threads} | flat | first half "
        f"{spread(s.threads for s in first)}, second {spread(s.threads for s in second)} "
        f"{flat(s.threads for s in first)(s.threads for s in second)} |",
        f"| open fds | {samples[0].fds} | {at_half.fds} | {final.fds} | flat | first half "
        f"{spread(s.fds for s in first)}, second {spread(s.fds for s in second)} "
        f"{flat(s.fds for s in first)(s.fds for s in second)} |",
        f"| fds on snapshot files | {samples[0].snapshot_fds} | {at_half.snapshot_fds} | {final.snapshot_fds} | "
        f"one open snapshot | max {max(s.snapshot_fds for s in samples)} |",
        f"| fds on replaced snapshots | {samples[0].replaced_snapshot_fds} | {at_half.replaced_snapshot_fds} | "
        f"{final.replaced_snapshot_fds} | none after the screens saw the last swap | "
        f"max {max(s.replaced_snapshot_fds for s in samples)} during the run; "
        f"{'ok' if final.replaced_snapshot_fds == 0 else 'LEAKS'} at the end |",
        "",
        f"samples: {workdir / 'samples.csv'}; server log: {workdir / 'server.log'}",
    ]
    if errors:
        lines.append(f"screens that failed: {len(errors)}: {sorted(set(errors))[:3]}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="an export directory (reference/, exports/YYYY-MM-DD/); "
                                                      "copied, never changed")
    parser.add_argument("--db", help="a snapshot already ingested from --data: copied to start from, "
                                     "which saves the first full ingest")
    parser.add_argument("--workdir", default=str(OUT), help="where the copy, the snapshot and the logs go")
    parser.add_argument("--screens", type=int, default=2, help="kiosk screens at once (1-10)")
    parser.add_argument("--runs", type=int, default=2000, help="stop after this many page runs in all")
    parser.add_argument("--minutes", type=float, default=90, help="stop after this long in any case")
    parser.add_argument("--swap-seconds", type=float, default=30, help="a new snapshot this often")
    parser.add_argument("--feed", default="shifts", help="the newest day's file that is rewritten for each swap")
    parser.add_argument("--rotate", type=int, default=5, help="the kiosk's rotate= seconds")
    parser.add_argument("--pages", default="overview,zones,testing,isolation,staff",
                        help="the rotation (also given to the server as DASHBOARD_KIOSK_PAGES)")
    parser.add_argument("--refresh", type=int, default=60, help="the server's DASHBOARD_REFRESH_SECONDS")
    parser.add_argument("--speedup", type=float, default=5, help="screen time per real second")
    parser.add_argument("--sample-seconds", type=float, default=2)
    parser.add_argument("--settle", type=float, default=None,
                        help="seconds without swaps before the last sample (default: two refresh checks)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds one page run may take")
    args = parser.parse_args()
    if not 1 <= args.screens <= 10:
        parser.error("--screens: 1 to 10")
    if args.settle is None:
        args.settle = 2 * args.refresh / args.speedup + 5
    sys.exit(asyncio.run(soak(args)))


if __name__ == "__main__":
    main()
