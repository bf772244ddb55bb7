"""The docs' pictures, retaken: python -m bench.screenshots OUT_DIR [--end-date YYYY-MM-DD].

Generates the 14-day district demo (seed 42, as the first run does) into OUT_DIR/data, ingests it,
starts `streamlit run dashboard/app.py` on a loopback port with an empty state directory, and
takes in Debian's Chromium the four pictures the docs use:

- overview.png  the overview at a desk, 1920×1080
- map.png       the situation map and its legend, a community's tooltip shown
- phone.png     the overview on a 390×844 phone
- wall.png      the overview in kiosk mode, 1920×1080

They land in OUT_DIR, never in docs/: compare them with docs/*.png before copying any over.
`--end-date` pins the demo's last day (default: today), e.g. to the day the pictures in docs/ show.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.ports import free_port
from tests.browser.support import (
    CHROMIUM,
    DECK,
    LAUNCH_ARGS,
    PHONE,
    WALL,
    Server,
    scroll_to_top,
    server_environment,
    wait_for_app,
    wait_for_map_drawn,
    wait_until_healthy,
)

REPO = Path(__file__).resolve().parents[1]
OVERVIEW_TITLE = "总览"
LOAD_MS = 120_000
# The dashboard tells a phone by its user agent, as the phone browser tests do.
PHONE_USER_AGENT = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                    "Chrome/140.0.0.0 Mobile Safari/537.36")


def prepare(out: Path, end_date: str | None) -> tuple[Path, Path]:
    """The demo's exports and its snapshot, under out; each command as a newcomer would type it."""
    data_dir, db_path = out / "data", out / "snapshot.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASHBOARD_")}
    env.update(DASHBOARD_STATE_DIR=str(out / "state"),
               PYTHONPATH=os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]))
    if not (data_dir / "exports").is_dir():
        generate = [sys.executable, "-m", "dashboard", "generate", "--scale", "district", "--days", "14",
                    "--seed", "42", "--out", str(data_dir)]
        subprocess.run(generate + (["--end-date", end_date] if end_date else []), cwd=REPO, env=env, check=True)
    subprocess.run([sys.executable, "-m", "dashboard", "ingest", "--data", str(data_dir), "--db", str(db_path)],
                   cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    return data_dir, db_path


def serve(data_dir: Path, db_path: Path, out: Path) -> Server:
    """The dashboard on a loopback port, with the default refresh (the browser tests' is 3 s)."""
    env = server_environment(data_dir, db_path, out, DASHBOARD_STATE_DIR=str(out / "state"))
    env["DASHBOARD_REFRESH_SECONDS"] = "60"
    port, log = free_port(), out / "server.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"],
            cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return wait_until_healthy(Server(f"http://127.0.0.1:{port}", process, log, data_dir, db_path), "streamlit")


def settle(page, path: str, server_url: str, map_too: bool = True) -> None:
    page.goto(server_url + path)
    wait_for_app(page, OVERVIEW_TITLE, timeout=LOAD_MS)
    if map_too and page.locator(DECK).count():
        wait_for_map_drawn(page, timeout_s=30)
    page.wait_for_timeout(1500)  # the trends and the map's labels finish drawing
    scroll_to_top(page)
    page.wait_for_timeout(300)


def map_shot(page, path: Path) -> None:
    """The deck and the legend under it, with the tooltip of the community under the map's middle."""
    deck = page.locator(DECK).first
    deck.evaluate("d => d.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(500)
    box = deck.bounding_box()
    legend = page.locator(".map-legend").first
    bottom = box["y"] + box["height"]
    if legend.count():
        legend_box = legend.bounding_box()
        bottom = max(bottom, legend_box["y"] + legend_box["height"])
    page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.45)
    page.wait_for_timeout(800)  # deck.gl picks and shows the tooltip
    page.screenshot(path=path, clip={"x": box["x"], "y": box["y"], "width": box["width"],
                                     "height": bottom - box["y"] + 20})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--end-date", help="the demo's last day (default: today)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    data_dir, db_path = prepare(out, args.end_date)
    server = serve(data_dir, db_path, out)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            desk = browser.new_context(viewport=WALL, locale="zh-CN")
            page = desk.new_page()
            settle(page, "/", server.url)
            page.screenshot(path=out / "overview.png")
            map_shot(page, out / "map.png")
            page.close()
            page = desk.new_page()
            settle(page, "/?kiosk=1", server.url)
            page.screenshot(path=out / "wall.png")
            desk.close()
            phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True,
                                        device_scale_factor=1, user_agent=PHONE_USER_AGENT)
            page = phone.new_page()
            settle(page, "/", server.url, map_too=False)
            page.screenshot(path=out / "phone.png")
            phone.close()
            browser.close()
    finally:
        server.stop()
    for name in ("overview", "map", "phone", "wall"):
        print(out / f"{name}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
