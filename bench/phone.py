"""What a leader on a phone waits for: python -m bench.phone [--runs 3] [--json PATH].

Lighthouse 12.2.3 (installed by this command into bench/node/ with npm, if missing), in its default
mobile form factor with its default simulated throttling (slow 4G, 4x CPU), on the overview of the
small fixture (tests/fixtures.py), through the project's own nginx site (deploy/nginx/, read as
shipped at run time, tests/browser/nginx_site.py) in front of two `streamlit run` replicas.

The link is a screen token's (`python -m dashboard screen-token`), opened as /?token=... without
kiosk=1, so the phone gets the overview a leader gets, sidebar and copy-link box included, with no
login form in the way. Behind a proxy the dashboard needs users, so the replicas get a users file
whose only user nobody logs in as.

Each run is a fresh Chromium profile and two Lighthouse navigations in that one browser:

  first visit   storage and HTTP cache cleared (Lighthouse's default)
  repeat visit  --disable-storage-reset: the same link again, with what the first visit cached

Reported per visit, the median of --runs: performance score, FCP, LCP, TBT, bytes transferred and
requests, both by resource type, and every request to a host other than 127.0.0.1 / localhost
(there must be none: the dashboard runs offline). Each Lighthouse report is kept in --out.
A run that fails, or that Lighthouse marks as incomplete, ends the command with no figures.

With --floor the replicas run bench/floor_app.py instead (a title and two metric cards, none of the
dashboard's code) behind the same nginx site, with the same Lighthouse settings and the same table:
the floor, what Streamlit's own frontend costs a phone before any of ours.

Before Lighthouse, each replica and then nginx is opened once with Playwright as a phone, which
checks that the link shows the overview's cards and no login form, and warms the replicas' caches:
the figures are a phone's wait on a running server, not on one that has just started.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import bcrypt
from playwright.sync_api import sync_playwright

from bench.phone_report import LighthouseError, Visit, median_visit, table, visit_from_report
from tests.browser.nginx_site import NGINX, start_nginx
from tests.browser.ports import free_port
from tests.browser.support import (
    CHROMIUM,
    LAUNCH_ARGS,
    REPO,
    TITLES,
    USER_LABEL,
    phone_context,
    server_environment,
    start_server,
    stop_process,
    wait_for_app,
)
from tests.fixtures import build_fixture

LIGHTHOUSE_VERSION = "12.2.3"
NODE_DIR = REPO / "bench" / "node"
LIGHTHOUSE = NODE_DIR / "node_modules" / "lighthouse"
NODE = Path("/usr/bin/node")
OUT = REPO / "bench" / "out" / "phone"
# Root needs --no-sandbox; the rest keep Chromium from fetching anything of its own.
CHROME_FLAGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--no-default-browser-check"]
# The shipped interval at which a page looks for a new snapshot (docs/settings.md); the browser
# tests' 3 s would keep the page busy while Lighthouse waits for it to go quiet.
REFRESH_SECONDS = "60"
METRIC = '[data-testid="stMetric"]'


# ---------------------------------------------------------------- Lighthouse and Chromium

def ensure_lighthouse() -> Path:
    """bench/node/'s Lighthouse CLI, installed with npm when it is missing or another version."""
    package = LIGHTHOUSE / "package.json"
    installed = json.loads(package.read_text(encoding="utf-8")).get("version") if package.exists() else None
    if installed != LIGHTHOUSE_VERSION:
        print(f"installing lighthouse@{LIGHTHOUSE_VERSION} into {NODE_DIR} (npm) …", flush=True)
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["npm", "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "-E",
                               f"lighthouse@{LIGHTHOUSE_VERSION}"], capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise SystemExit(f"npm could not install lighthouse@{LIGHTHOUSE_VERSION}:\n{done.stderr[-3000:]}")
    return LIGHTHOUSE / "cli" / "index.js"


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator[int]:
    """Debian's Chromium on a fresh profile, with its DevTools port (what Lighthouse's --port takes):
    one browser for a first and a repeat visit, so the second finds the first one's cache."""
    port = free_port()
    log = profile.with_suffix(".log")
    with log.open("wb") as out:
        process = subprocess.Popen([str(CHROMIUM), *CHROME_FLAGS, f"--remote-debugging-port={port}",
                                    f"--user-data-dir={profile}", "about:blank"],
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"Chromium exited with {process.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"Chromium's DevTools did not answer on port {port} within 60 s") from None
                time.sleep(0.3)
        yield port
    finally:
        stop_process(process)


def lighthouse(cli: Path, url: str, port: int, report: Path, *, repeat: bool, max_wait_s: int) -> dict:
    """One Lighthouse navigation in the browser on `port`; its report, also written to `report`."""
    command = [str(NODE), str(cli), url, f"--port={port}", "--hostname=127.0.0.1", "--only-categories=performance",
               "--output=json", f"--output-path={report}", "--quiet", f"--max-wait-for-load={max_wait_s * 1000}",
               # Used if Lighthouse had to launch a browser itself; with --port it connects to ours.
               f"--chrome-flags={' '.join(CHROME_FLAGS)}"]
    if repeat:
        command.append("--disable-storage-reset")
    home = report.parent / "home"
    home.mkdir(exist_ok=True)
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(home), "CHROME_PATH": str(CHROMIUM)}
    report.unlink(missing_ok=True)
    try:
        done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=max_wait_s + 300)
    except subprocess.TimeoutExpired as timeout:
        raise LighthouseError(f"Lighthouse did not finish within {timeout.timeout:.0f} s") from None
    if done.returncode != 0 or not report.exists():
        raise LighthouseError(f"Lighthouse exited with {done.returncode}:\n{(done.stderr or done.stdout)[-3000:]}")
    return json.loads(report.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- the site

def dashboard(command: list[str], environment: dict[str, str]) -> str:
    """`python -m dashboard ...` as a replica would run it (its environment); its output."""
    done = subprocess.run([sys.executable, "-m", "dashboard", *command], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"python -m dashboard {command[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout


@contextlib.contextmanager
def site(root: Path, replicas: int, *, floor: bool = False,
         extra_env: dict[str, str] | None = None) -> Iterator[tuple[str, list[str], str]]:
    """The fixture behind nginx: (nginx's URL, the replicas' URLs, the phone's path with a screen token).

    The ingest and the token come from the real commands, in the replicas' own environment, so the
    token is signed with the secret the replicas check it with (not an operator's secrets file).
    With floor, the replicas run bench/floor_app.py instead, which reads no data, users or token:
    its path is /. extra_env goes to the replicas (e.g. STREAMLIT_THEME_FONT)."""
    if floor:
        with replicas_behind_nginx(root, replicas, "bench/floor_app.py", root / "data", root / "snapshot.duckdb",
                                   **(extra_env or {})) as (url, servers):
            yield url, servers, "/"
        return
    data_dir, db_path, state = build_fixture(root / "data"), root / "snapshot.duckdb", root / "state"
    users = root / "users.toml"
    nobody = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(4)).decode()
    users.write_text(f'[auth.users.ops]\nrole = "admin"\npassword_hash = "{nobody}"\n', encoding="utf-8")
    env = {"DASHBOARD_USERS_FILE": str(users), "DASHBOARD_STATE_DIR": str(state),
           "DASHBOARD_REFRESH_SECONDS": REFRESH_SECONDS, **(extra_env or {})}
    environment = server_environment(data_dir, db_path, root, **env)
    dashboard(["ingest", "--data", str(data_dir), "--db", str(db_path)], environment)
    screen_path = dashboard(["screen-token", "--name", "phone-bench"], environment).splitlines()[-1]
    token = parse_qs(urlsplit(screen_path).query)["token"][0]
    with replicas_behind_nginx(root, replicas, "dashboard/app.py", data_dir, db_path, **env) as (url, servers):
        yield url, servers, f"/?token={token}"


@contextlib.contextmanager
def replicas_behind_nginx(root: Path, replicas: int, script: str, data_dir: Path, db_path: Path,
                          **env: str) -> Iterator[tuple[str, list[str]]]:
    """`streamlit run script` replicas behind the shipped nginx site: (nginx's URL, the replicas' URLs)."""
    servers, proxy = [], None
    try:
        for n in range(1, replicas + 1):
            servers.append(start_server(data_dir, db_path, root / f"replica-{n}", script=script, **env))
        proxy = start_nginx(root / "nginx", servers, name_upstream=False)
        yield proxy.url, [server.url for server in servers]
    finally:
        if proxy:
            proxy.stop()
        for server in servers:
            server.stop()


def check_and_warm(bases: list[str], path: str) -> None:
    """Open the link on each base URL as a phone: the overview's cards, no login form."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            for base in bases:
                with phone_context(browser) as context:
                    page = context.new_page()
                    page.goto(base + path)
                    wait_for_app(page, TITLES["overview"][0], timeout=180_000)
                    page.locator(METRIC).first.wait_for(timeout=60_000)
                    if page.get_by_label(USER_LABEL).count():
                        raise SystemExit(f"{base}: the screen token's link shows the login form")
        finally:
            browser.close()


# ---------------------------------------------------------------- the command

def measure(cli: Path, url: str, runs: int, out: Path, max_wait_s: int) -> dict[str, list[Visit]]:
    visits: dict[str, list[Visit]] = {"first": [], "repeat": []}
    for run in range(1, runs + 1):
        profile = out / f"profile-{run}"
        shutil.rmtree(profile, ignore_errors=True)
        with chromium(profile) as port:
            for kind in ("first", "repeat"):
                report = out / f"run-{run}-{kind}.json"
                start = time.monotonic()
                try:
                    visits[kind].append(visit_from_report(
                        lighthouse(cli, url, port, report, repeat=kind == "repeat", max_wait_s=max_wait_s)))
                except LighthouseError as error:
                    raise SystemExit(f"run {run}, {kind} visit failed; no figures are reported.\n{error}") from None
                print(f"run {run}/{runs}, {kind} visit: done in {time.monotonic() - start:.0f} s ({report})",
                      flush=True)
        shutil.rmtree(profile, ignore_errors=True)
    return visits


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.phone", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs, each a first and a repeat visit (median)")
    parser.add_argument("--json", type=Path, help="also write the medians and every run's figures here")
    parser.add_argument("--replicas", type=int, default=2, help="streamlit replicas behind nginx")
    parser.add_argument("--out", type=Path, help=f"where Lighthouse's reports are kept ({OUT}, with --floor "
                        f"{OUT / 'floor'})")
    parser.add_argument("--floor", action="store_true",
                        help="serve bench/floor_app.py (a title and two metric cards, none of the dashboard) "
                             "instead of the overview: what Streamlit's own frontend costs a phone")
    parser.add_argument("--replica-env", action="append", default=[], metavar="NAME=VALUE",
                        help="also give the replicas this environment variable, e.g. STREAMLIT_THEME_FONT=serif "
                             "(repeatable); the shipped .streamlit/config.toml applies otherwise")
    parser.add_argument("--max-wait", type=int, default=180,
                        help="seconds Lighthouse waits for the page to load (on this machine, not simulated)")
    args = parser.parse_args()
    if not 1 <= args.runs <= 20 or not 1 <= args.replicas <= 4:
        parser.error("--runs is 1 to 20, --replicas 1 to 4")
    extra_env = dict(item.split("=", 1) for item in args.replica_env if "=" in item)
    if len(extra_env) != len(args.replica_env):
        parser.error("--replica-env takes NAME=VALUE")
    for needed in (NODE, CHROMIUM, NGINX):
        if not needed.is_file():
            raise SystemExit(f"bench.phone needs {needed} (Debian: nodejs, chromium, nginx)")
    args.out = args.out or (OUT / "floor" if args.floor else OUT)
    cli = ensure_lighthouse()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-phone-") as workdir, \
            site(Path(workdir), args.replicas, floor=args.floor, extra_env=extra_env) as (url, replicas, path):
        print(f"nginx {url} in front of {', '.join(replicas)}; checking the link and warming the replicas …",
              flush=True)
        check_and_warm([*replicas, url], path)
        visits = measure(cli, url + path, args.runs, args.out, args.max_wait)
    medians = {kind: median_visit(runs) for kind, runs in visits.items()}
    page = "the floor (bench/floor_app.py)" if args.floor else "the overview of the small fixture"
    settings = f" with {', '.join(args.replica_env)}" if args.replica_env else ""
    print(f"\nLighthouse {LIGHTHOUSE_VERSION}, mobile, simulated slow 4G; {page}{settings} "
          f"through nginx; median of {args.runs} run(s)\n")
    print(table(medians))
    if args.json:
        args.json.write_text(json.dumps({
            "lighthouse": LIGHTHOUSE_VERSION, "runs": args.runs, "floor": args.floor, "replica_env": extra_env,
            "median": {kind: visit.as_dict() for kind, visit in medians.items()},
            "each": {kind: [visit.as_dict() for visit in runs] for kind, runs in visits.items()},
        }, indent=1, ensure_ascii=False), encoding="utf-8")
    external = sorted({request for runs in visits.values() for visit in runs for request in visit.external})
    if external:
        raise SystemExit(f"{len(external)} request(s) left this machine; the dashboard must run offline:\n"
                         + "\n".join(external))
    repeat, first = medians["repeat"].bytes, medians["first"].bytes
    if repeat >= first:
        print(f"\nnote: the repeat visit transferred {repeat:,} bytes, no fewer than the first visit's {first:,}: "
              "nothing came from the browser's cache")


if __name__ == "__main__":
    main()
