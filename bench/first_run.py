"""A newcomer's first run, timed in a real browser: python -m bench.first_run [--repeat N] [--busy N].

Clones this repository (its committed HEAD) into a temporary folder, as a newcomer would, starts
`streamlit run dashboard/app.py` there with an empty state directory, opens the page in Debian's
Chromium and reports the seconds from the start of the server to the overview's KPIs on screen,
and to the moment the older days are in (the first-run notice gone). Only 127.0.0.1 is used.

--busy N runs N processes spinning at normal priority beside each run (one per core keeps the
machine full, as other work on a shared machine does); the older days' ingest runs at nice 10 and
may then not finish: after --wait-older seconds the run says so and reports the KPIs alone.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from playwright.sync_api import sync_playwright

from dashboard.i18n import t

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/lib/chromium/chromium"
KPI = '[data-testid="stMetricValue"]'
GIVE_UP_SECONDS = 600


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# A process that keeps one core busy at normal priority until it is killed.
SPIN = "while True: pass"


def one_run(browser, wait_older: float, repo: Path = REPO) -> tuple[float, float | None, int]:
    with tempfile.TemporaryDirectory(prefix="first-run-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DASHBOARD_")}
        env.update(XDG_STATE_HOME=str(Path(tmp) / "state"), HOME=str(Path(tmp) / "home"))
        port = free_port()
        start = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port", str(port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=clone, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            url = f"http://127.0.0.1:{port}/"
            while True:
                try:
                    page.goto(url, timeout=5_000)
                    break
                except Exception:  # the server is not listening yet
                    if time.perf_counter() - start > GIVE_UP_SECONDS:
                        raise
                    time.sleep(0.2)
            page.wait_for_selector(KPI, timeout=GIVE_UP_SECONDS * 1000)
            to_kpis = time.perf_counter() - start
            print(f"  KPIs on screen after {to_kpis:.1f} s", flush=True)
            notice = t("app.loading_older", "zh", days=3)[:12]
            while page.get_by_text(notice).count() and time.perf_counter() - start < to_kpis + wait_older:
                time.sleep(2)
                page.reload()
                page.wait_for_selector(KPI, timeout=GIVE_UP_SECONDS * 1000)
            if page.get_by_text(notice).count():
                return to_kpis, None, 0  # the older days still coming
            every_day = time.perf_counter() - start
            # The notice also goes when the older days' ingest fails: say which it was.
            status = json.loads((clone / "data" / "demo.duckdb.status.json").read_text(encoding="utf-8"))
            if not status.get("ok"):
                raise SystemExit(f"the older days' ingest failed: {status.get('message')}")
            days = duckdb.connect(str(clone / "data" / "demo.duckdb"), read_only=True).execute(
                "select count(distinct day) from loaded_files where day is not null").fetchall()[0][0]
            return to_kpis, every_day, days
        finally:
            server.terminate()
            server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--busy", type=int, default=0,
                        help="processes spinning at normal priority beside each run (one per core: a full machine)")
    parser.add_argument("--repo", type=Path, default=REPO,
                        help="the checkout whose committed HEAD is cloned (another tree, to compare side by side)")
    parser.add_argument("--wait-older", type=float, default=GIVE_UP_SECONDS,
                        help="seconds after the KPIs to wait for the older days before reporting without them")
    args = parser.parse_args()
    runs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for n in range(args.repeat):
            spinning = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(args.busy)]
            try:
                runs.append(one_run(browser, args.wait_older, args.repo))
            finally:
                for process in spinning:
                    process.kill()
                    process.wait()
            to_kpis, every_day, days = runs[-1]
            older = (f"every day in after {every_day:.1f} s ({days} days in the snapshot)" if every_day is not None
                     else f"the older days not yet in {args.wait_older:.0f} s later")
            print(f"run {n + 1}{f' beside {args.busy} busy processes' if args.busy else ''}:"
                  f" KPIs after {to_kpis:.1f} s, {older}", flush=True)
        browser.close()
    in_time = [r[1] for r in runs if r[1] is not None]
    print(f"median of {len(runs)}: KPIs {statistics.median(r[0] for r in runs):.1f} s, every day "
          + (f"{statistics.median(in_time):.1f} s ({len(in_time)} of {len(runs)} runs)" if in_time else "not measured"))


if __name__ == "__main__":
    main()
