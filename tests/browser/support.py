"""What the browser tests share: a real `streamlit run` server over a fixture snapshot, and the
few ways of reading a Streamlit page that only a browser can.

Helpers wait for conditions, with generous timeouts: the CI machine has two slow cores. The few
fixed pauses say why they are there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path

from PIL import Image

from dashboard.alerts.rules import evaluate
from dashboard.alerts.store import AlertStore
from dashboard.figures.queries import Snapshot
from dashboard.i18n import t
from dashboard.settings import Settings
from tests.browser.ports import TAKEN, PortTaken, on_a_free_port
from tests.conftest import ingest_changed_fixture
from tests.fixtures import TITLES

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/lib/chromium/chromium")
NO_CHROMIUM = f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run"]
SCREENSHOTS = REPO / "screenshots"
WALL = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}

# The pages of figures a wall or a phone shows; the upload page is a clerk's form (tests/browser/test_upload.py).
PAGES = tuple(name for name in TITLES if name != "upload")
MAP_PAGES = ("overview", "zones", "testing", "isolation", "staff")
# The pages with plotly charts: the alerts page has tables only.
CHART_PAGES = tuple(name for name in PAGES if name != "alerts")
REFRESH_SECONDS = 3
SERVER_START_SECONDS = 90
LOAD_MS = 60_000
EXPECT_MS = 20_000
DECK = '[data-testid="stDeckGlJsonChart"]'


def path_of(page: str) -> str:
    return "/" if page == "overview" else f"/{page}"


# ---------------------------------------------------------------- the server

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
        stop_process(self.process)

    # `with serve_fixture(...) as running:` stops the server however the block ends.
    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def stop_process(process: subprocess.Popen) -> None:
    """Terminate a process that is still running, and kill it if it has not gone in 15 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def server_environment(data_dir: Path, db_path: Path, workdir: Path, **env: str) -> dict[str, str]:
    """The server's environment: this machine's, without any of the operator's own settings."""
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    # The dashboard's (DASHBOARD_*) and streamlit's (STREAMLIT_*, which would override
    # .streamlit/config.toml) are left out, whatever they are.
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("DASHBOARD_", "STREAMLIT_"))}
    environment.update(
        DASHBOARD_DATA=str(data_dir),
        DASHBOARD_DB=str(db_path),
        DASHBOARD_REFRESH_SECONDS=str(REFRESH_SECONDS),
        # A developer's own .streamlit/secrets.toml (users, keys) must not change what the tests see.
        DASHBOARD_SECRETS=str(workdir / "no-secrets.toml"),
        HOME=str(home),
        # This checkout's package, whatever an editable install elsewhere points at.
        PYTHONPATH=os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
    )
    environment.update(env)  # the caller's own, e.g. the shipped refresh interval for a benchmark
    return environment


def start_server(data_dir: Path, db_path: Path, workdir: Path, port: int | None = None,
                 script: str = "dashboard/app.py", **env: str) -> Server:
    """`streamlit run dashboard/app.py` (or another `script`, e.g. the phone bench's floor) from the
    repo root (so .streamlit/config.toml applies); on `port` when given (a restart that browsers
    must find again), else on a free one (tests/browser/ports.py)."""
    environment = server_environment(data_dir, db_path, workdir, **env)
    log = workdir / "server.log"

    def start_on(port: int) -> Server:
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
                 "--server.address", "127.0.0.1", "--server.headless", "true",
                 # Someone editing the app while the suite runs must not put a "File change" prompt on the page.
                 "--server.fileWatcherType", "none"],
                cwd=REPO, env=environment, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return wait_until_healthy(Server(f"http://127.0.0.1:{port}", process, log, data_dir, db_path), "streamlit")

    return start_on(port) if port else on_a_free_port(start_on)


def wait_until_healthy(service, name: str):
    """The started service once its /_stcore/health answers 200; stopped, with its log, if it
    exits (PortTaken when its port was) or does not answer within SERVER_START_SECONDS.
    `service` has url, process, log_tail(), stop()."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            log = service.log_tail()
            exited = PortTaken if TAKEN.search(log) else RuntimeError
            raise exited(f"{name} exited with {service.process.returncode}:\n{log}")
        try:
            with urllib.request.urlopen(f"{service.url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return service
        except OSError:
            time.sleep(0.3)
    service.stop()
    raise RuntimeError(f"{name} did not answer /_stcore/health in {SERVER_START_SECONDS} s:\n{service.log_tail()}")


def ingest_fixture(root: Path, change: Callable[[Path], None] | None = None) -> Settings:
    """Build the fixture under root, let `change` alter its files, and ingest it."""
    settings, _ = ingest_changed_fixture(root, change)
    return settings


def serve_fixture(root: Path, change: Callable[[Path], None] | None = None, *, alerts_at: datetime | None = None,
                  **env: str) -> Server:
    """Serve the fixture; with alerts_at, as a deployment whose watcher evaluated the alerts then
    (recorded for the on-duty group, nothing posted)."""
    settings = ingest_fixture(root, change)
    if alerts_at is not None:
        snapshot = Snapshot(settings.db_path)
        evaluation = evaluate(snapshot.run, settings.thresholds, alerts_at)
        snapshot.close()
        AlertStore(settings.alerts_db).record(alerts_at, evaluation.alerts, evaluation.evaluated_rules,
                                              lambda alert: ["on_duty"], timedelta(hours=2))
    return start_server(settings.data_dir, settings.db_path, root, **env)


# ---------------------------------------------------------------- browsers

PHONE_USER_AGENT = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                    "Chrome/140.0.0.0 Mobile Safari/537.36")


def browser_context(chromium, viewport: dict = WALL, **options):
    """A browser context as a command center's screens have it: Chinese, and LOAD_MS to wait for
    anything. `with browser_context(...) as context:` closes it."""
    context = chromium.new_context(viewport=viewport, locale="zh-CN", **options)
    context.set_default_timeout(LOAD_MS)
    return context


def phone_context(chromium):
    """A leader's phone: a touch screen 390 px wide, a mobile browser."""
    return browser_context(chromium, PHONE, is_mobile=True, has_touch=True, device_scale_factor=1,
                           user_agent=PHONE_USER_AGENT)


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
    """Wait until the page has finished running (twice in a row, 0.2 s apart) and, if given,
    shows `title` as its h1."""
    if title is not None:
        page.locator("h1", has_text=title).first.wait_for(timeout=timeout)
    page.wait_for_function(_SETTLED, timeout=timeout, polling=100)
    # A run can end and another start at once (a rerun, a fragment); settled twice is settled.
    page.wait_for_timeout(200)
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
    """A picture of the on-screen part of the first map canvas."""
    return page.screenshot(clip=canvas_box(page))


def canvas_box(page) -> dict:
    """The on-screen part of the first map canvas, after scrolling it to the middle of the screen."""
    canvas = page.locator(f"{DECK} canvas").first
    canvas.evaluate("c => c.scrollIntoView({block: 'center', inline: 'center'})")
    box = canvas.bounding_box()
    assert box, "the map canvas has no box"
    viewport = page.viewport_size
    left, top = max(box["x"], 0), max(box["y"], 0)
    right = min(box["x"] + box["width"], viewport["width"])
    bottom = min(box["y"] + box["height"], viewport["height"])
    assert right > left and bottom > top, f"the map canvas is off screen: {box}"
    return {"x": left, "y": top, "width": right - left, "height": bottom - top}


# What a phone fetches only for a map or a chart (Streamlit's lazily loaded bundles).
CHART_BUNDLES = ("PlotlyChart", "DeckGlJsonChart")


def show_charts_on_phone(page) -> None:
    """Turn on a phone's "show maps and charts" switch, as a leader taps it, and wait for the rerun."""
    page.get_by_text(t("phone.charts", "zh"), exact=True).click()
    page.locator(f"{DECK} canvas, .js-plotly-plot").first.wait_for()


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


# Streamlit scrolls an inner container, not the document, so Playwright's full_page
# screenshot would only show the first screen.
_SCROLLERS = """() => [...document.querySelectorAll('*')].filter(e => e.scrollHeight > e.clientHeight + 1
    && ['auto', 'scroll'].includes(getComputedStyle(e).overflowY))"""


def scroll_to_top(page) -> None:
    page.evaluate(f"() => {{ ({_SCROLLERS})().forEach(e => e.scrollTop = 0); window.scrollTo(0, 0); }}")


def covered_by_header(page, selector: str) -> str | None:
    """What is wrong when Streamlit's header hides the top of the first element matching selector."""
    scroll_to_top(page)
    page.wait_for_timeout(100)  # one frame for the scroll to land
    header = page.locator('[data-testid="stHeader"]')
    if not header.count() or not header.is_visible():
        return None
    header_box, box = header.bounding_box(), page.locator(selector).first.bounding_box()
    bottom = header_box["y"] + header_box["height"]
    if box["y"] >= bottom - 1:
        return None
    return f"{selector} starts at y={box['y']:.0f}px, under the header, which ends at y={bottom:.0f}px"


def duplicate_tick_labels(page) -> list[str]:
    """Axis labels that a plotly chart shows twice on the same axis, e.g. "1" at 0.5 and 1."""
    return page.evaluate("""() => {
        const found = [];
        document.querySelectorAll('.js-plotly-plot').forEach((plot, index) => {
            const title = (plot.querySelector('.gtitle') || {}).textContent || `chart ${index + 1}`;
            const axes = {};
            plot.querySelectorAll('g.xtick, g.ytick, g[class^="x"][class$="tick"], g[class^="y"][class$="tick"]')
                .forEach(tick => {
                    const text = tick.textContent.trim();
                    if (text) (axes[tick.getAttribute('class')] ||= []).push(text);
                });
            for (const [axis, labels] of Object.entries(axes)) {
                const twice = labels.filter((label, i) => labels.indexOf(label) !== i);
                if (twice.length) found.push(`${title} ${axis}: ${labels.join(' ')}`);
            }
        });
        return found;
    }""")


def screenshot(page, name: str, *, full_height_limit: int = 8000) -> None:
    """screenshots/<name>.png as the screen shows the top of the page; with BROWSER_FULL_SCREENSHOTS=1
    also <name>-full.png, the viewport stretched to the whole page (slow: every chart redraws)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    scroll_to_top(page)
    page.wait_for_timeout(200)  # the scroll lands and sticky elements settle
    page.screenshot(path=SCREENSHOTS / f"{name}.png")
    if os.environ.get("BROWSER_FULL_SCREENSHOTS") != "1":
        return
    viewport = page.viewport_size
    height = page.evaluate(f"() => Math.max(window.innerHeight, ...({_SCROLLERS})().map(e => e.scrollHeight))")
    page.set_viewport_size({"width": viewport["width"], "height": min(height, full_height_limit)})
    page.wait_for_timeout(800)  # charts and the map redraw at the new size
    page.screenshot(path=SCREENSHOTS / f"{name}-full.png")
    page.set_viewport_size(viewport)
    page.wait_for_timeout(300)  # and back


# ---------------------------------------------------------------- login

USER_LABEL = "用户名 / Username"
PASSWORD_LABEL = "密码 / Password"
LOGIN_BUTTON = "登录 / Log in"


def log_in(page, username: str, password: str) -> None:
    page.get_by_label(USER_LABEL).fill(username)
    page.get_by_label(PASSWORD_LABEL).fill(password)
    page.get_by_role("button", name=LOGIN_BUTTON).click()


# ---------------------------------------------------------------- wall screens and phones (issue 10)

# Anything a hand could use. A wall has nobody to use it; the phone test leaves these alone.
CONTROLS = ('button, input, select, textarea, [role="slider"], [role="combobox"], [data-testid="stDownloadButton"], '
            '[data-testid="stExpander"], .modebar-container')


def visible_controls(page) -> list[str]:
    """The controls a person would see on the page (outside the hidden sidebar), as tag#testid."""
    return page.eval_on_selector_all(CONTROLS, """els => els.filter(e => {
        if (e.closest('[data-testid="stSidebar"]')) return false;
        const r = e.getBoundingClientRect(), s = getComputedStyle(e);
        return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
    }).map(e => e.tagName.toLowerCase() + '#' + (e.getAttribute('data-testid') || e.getAttribute('aria-label') || ''))""")


def vertical_overflow(page) -> dict[str, int]:
    """What the page would scroll: the document and Streamlit's main pane, by how many pixels."""
    return page.evaluate("""() => {
        const found = {};
        const root = document.documentElement;
        if (root.scrollHeight > window.innerHeight + 1) found.document = root.scrollHeight - window.innerHeight;
        const main = document.querySelector('[data-testid="stMain"]');
        if (main && main.scrollHeight > main.clientHeight + 1) found.main = main.scrollHeight - main.clientHeight;
        return found;
    }""")


def luminance_share(png: bytes, *, above: int) -> float:
    """The share of pixels brighter than `above` (0-255, Rec. 709 luma)."""
    image = Image.open(BytesIO(png)).convert("L")
    histogram = image.histogram()
    return sum(histogram[above + 1:]) / (image.width * image.height)


def element_shots(page, selector: str) -> list[bytes]:
    """A picture of each visible element matching selector, as the screen shows it."""
    shots = []
    for element in page.locator(selector).all():
        box = element.bounding_box()
        if box and box["width"] > 4 and box["height"] > 4:
            shots.append(page.screenshot(clip=box))
    return shots
