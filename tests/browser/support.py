"""What the browser tests share: a real `streamlit run` server over a fixture snapshot, and the
few ways of reading a Streamlit page that only a browser can.

Every helper waits for a condition rather than sleeping; the timeouts are generous because the
CI machine has two slow cores.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/lib/chromium/chromium")
NO_CHROMIUM = f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run"]
SCREENSHOTS = REPO / "screenshots"
WALL = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}

# url_path -> (zh title, en title); "" is the default page's path.
TITLES = {
    "overview": ("总览", "Overview"),
    "zones": ("封控管控", "Sealed areas"),
    "testing": ("核酸检测", "Testing"),
    "isolation": ("隔离管控", "Isolation"),
    "staff": ("人员排班", "Staff & shifts"),
    "health": ("数据状态", "Data health"),
}
PAGES = tuple(TITLES)
MAP_PAGES = ("overview", "zones", "testing", "isolation", "staff")
REFRESH_SECONDS = 3
SERVER_START_SECONDS = 90
LOAD_MS = 60_000
DECK = '[data-testid="stDeckGlJsonChart"]'


def path_of(page: str) -> str:
    return "/" if page == "overview" else f"/{page}"


# ---------------------------------------------------------------- the server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path
    data_dir: Path
    db_path: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start_server(data_dir: Path, db_path: Path, workdir: Path, **env: str) -> Server:
    """`streamlit run dashboard/app.py` from the repo root (so .streamlit/config.toml applies)."""
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DASHBOARD_USERS_FILE", "DASHBOARD_ID_KEY", "DASHBOARD_KIOSK_PAGES")}
    environment.update(
        DASHBOARD_DATA=str(data_dir),
        DASHBOARD_DB=str(db_path),
        DASHBOARD_REFRESH_SECONDS=str(REFRESH_SECONDS),
        # A developer's own .streamlit/secrets.toml (users, keys) must not change what the tests see.
        DASHBOARD_SECRETS=str(workdir / "no-secrets.toml"),
        HOME=str(home),
        **env,
    )
    port = free_port()
    log = workdir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             # Someone editing the app while the suite runs must not put a "File change" prompt on the page.
             "--server.fileWatcherType", "none"],
            cwd=REPO, env=environment, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = Server(f"http://127.0.0.1:{port}", process, log, data_dir, db_path)
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"streamlit did not answer /_stcore/health in {SERVER_START_SECONDS} s:\n{server.log_tail()}")


# ---------------------------------------------------------------- reading a Streamlit page

# True when a script run has finished and a title is on screen. Streamlit marks the app root
# with the script's state; the status widget says "Running" on the slow runs.
_SETTLED = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    const title = document.querySelector('h1');
    const status = document.querySelector('[data-testid="stStatusWidget"]');
    return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
        && !!title && title.getClientRects().length > 0
        && !(status && /running/i.test(status.innerText));
}"""


def wait_for_app(page, title: str | None = None, timeout: int = LOAD_MS) -> None:
    """Wait until the page has finished running (twice in a row, 0.3 s apart) and, if given,
    shows `title` as its h1."""
    if title is not None:
        page.locator("h1", has_text=title).first.wait_for(timeout=timeout)
    page.wait_for_function(_SETTLED, timeout=timeout, polling=100)
    page.wait_for_timeout(300)
    page.wait_for_function(_SETTLED, timeout=timeout, polling=100)


def open_app(page, server: Server, path: str, title: str | None = None) -> None:
    page.goto(server.url + path)
    wait_for_app(page, title)


def h1_texts(page) -> list[str]:
    return [text.strip() for text in page.locator("h1").all_inner_texts()]


def exceptions(page) -> list[str]:
    return page.locator('[data-testid="stException"]').all_inner_texts()


def metrics(page) -> dict[str, str]:
    """Metric label -> value, as shown."""
    pairs = page.eval_on_selector_all('[data-testid="stMetric"]', """els => els.map(e => [
        e.querySelector('[data-testid="stMetricLabel"]').innerText.trim(),
        e.querySelector('[data-testid="stMetricValue"]').innerText.trim()])""")
    return dict(pairs)


def overflow(page) -> tuple[int, int]:
    return tuple(page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]"))


def not_blank_share(png: bytes) -> float:
    """The share of pixels that differ from the most common colour."""
    image = Image.open(BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=image.width * image.height)
    return 1 - max(count for count, _ in colours) / (image.width * image.height)


def canvas_shot(page) -> bytes:
    return page.locator(f"{DECK} canvas").first.screenshot(timeout=LOAD_MS)


def wait_for_map_drawn(page, timeout_s: float = 20, min_share: float = 0.01) -> float:
    """Poll the deck canvas until deck.gl has drawn something on it; the share drawn, or 0."""
    deadline = time.monotonic() + timeout_s
    share = 0.0
    while time.monotonic() < deadline:
        share = not_blank_share(canvas_shot(page))
        if share >= min_share:
            break
        page.wait_for_timeout(500)
    return share


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png")
    page.screenshot(path=SCREENSHOTS / f"{name}-full.png", full_page=True)


# ---------------------------------------------------------------- login

USER_LABEL = "用户名 / Username"
PASSWORD_LABEL = "密码 / Password"
LOGIN_BUTTON = "登录 / Log in"


def log_in(page, username: str, password: str) -> None:
    page.get_by_label(USER_LABEL).fill(username)
    page.get_by_label(PASSWORD_LABEL).fill(password)
    page.get_by_role("button", name=LOGIN_BUTTON).click()
