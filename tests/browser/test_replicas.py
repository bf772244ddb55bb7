"""More viewers than one server: Debian's nginx, with the shipped site config
(deploy/nginx/erqi-dashboard.conf), in front of two `streamlit run` replicas over one snapshot.

The site config is used as shipped, with the edits the test needs and checks it made
(tests/browser/nginx_site.py): the replicas' ports, nginx's port, and an X-Upstream header
naming the replica that answered, so a test can tell where a browser landed. A browser is pinned to a replica by presetting the
affinity cookie to a value that nginx hashes onto it.

The tests run in file order on one set of servers: the last one kills a replica.
"""

from __future__ import annotations

import dataclasses
import gzip
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import bcrypt
import pytest
from playwright.sync_api import expect

from dashboard.i18n import t
from dashboard.ingest.build import ingest
from dashboard.settings import Settings
from dashboard.web import screen_tokens
from tests.browser.nginx_site import NGINX, Proxy, start_nginx
from tests.browser.support import (
    LOAD_MS,
    REFRESH_SECONDS,
    TITLES,
    Server,
    browser_context,
    exceptions,
    ingest_fixture,
    log_in,
    phone_context,
    start_server,
    wait_for_app,
)
from tests.fixtures import DAYS, EXPECTED, person_id

ROUTE_COOKIE = "erqi_route"

pytestmark = pytest.mark.nginx
if not NGINX.is_file():
    pytest.skip(f"the replica tests need Debian's nginx at {NGINX} (apt-get install nginx)", allow_module_level=True)

NEWEST = EXPECTED[DAYS[-1]]  # 2022-01-06, what the overview shows without a day in the URL
# 2022-01-06 sampled 3,670 times; its last 20 rows are 西工房's repeat samples (tests/fixtures.py),
# so a re-export without them has 3,650.
SAMPLES_BEFORE, SAMPLES_AFTER, REPEATS = "3,670", "3,650", 20
RECONNECT_SECONDS = 30


# ---------------------------------------------------------------- nginx in front of two replicas

def upstream_for(proxy: Proxy, route: str | None) -> str:
    """The replica (host:port) nginx sends a browser with this affinity cookie to."""
    headers = {"Cookie": f"{ROUTE_COOKIE}={route}"} if route else {}
    request = urllib.request.Request(f"{proxy.url}/_stcore/health", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["X-Upstream"]


def routes_to_each(proxy: Proxy, replicas: list[Server]) -> dict[str, str]:
    """For each replica (host:port), an affinity cookie value that nginx hashes onto it."""
    wanted = {urlsplit(r.url).netloc for r in replicas}
    found = {}
    for n in range(200):
        route = f"screen-{n}"
        found.setdefault(upstream_for(proxy, route), route)
        if wanted <= set(found):
            return {replica: found[replica] for replica in wanted}
    raise AssertionError(f"200 cookie values all hashed onto {sorted(found)}, never onto all of {sorted(wanted)}")


@dataclass
class Site:
    proxy: Proxy
    replicas: list[Server]
    routes: dict[str, str]  # replica host:port -> affinity cookie value that lands there
    settings: Settings
    # A wall-screen token, issued once and checked by whichever replica a browser reaches.
    token: str
    samples: str = SAMPLES_BEFORE  # the samples card on 2022-01-06, as the snapshot now has it


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("replicas")
    settings = ingest_fixture(root)
    # Behind a proxy the dashboard refuses to run without users (a proxied session cannot be
    # "the operator at the machine"), so the replicas get a users file; the browsers open the
    # screen's link, whose token both replicas verify against the same state directory.
    users = root / "users.toml"
    password_hash = bcrypt.hashpw(b"ops-pw", bcrypt.gensalt(4)).decode()
    users.write_text(f'[auth.users.ops]\nrole = "admin"\npassword_hash = "{password_hash}"\n')
    state = root / "state"
    token = screen_tokens.issue(dataclasses.replace(settings, state_dir=state), "lobby")
    replicas, proxy = [], None
    try:
        for name in ("replica-1", "replica-2"):
            replicas.append(start_server(settings.data_dir, settings.db_path, root / name,
                                         DASHBOARD_USERS_FILE=str(users), DASHBOARD_STATE_DIR=str(state)))
        proxy = start_nginx(root / "nginx", replicas)
        yield Site(proxy, replicas, routes_to_each(proxy, replicas), settings, token)
    finally:
        if proxy:
            proxy.stop()
        for replica in replicas:
            replica.stop()


def pinned_page(chromium, site: Site, replica: Server):
    """A browser whose affinity cookie sends it to `replica`."""
    context = browser_context(chromium)
    context.add_cookies([{"name": ROUTE_COOKIE, "value": site.routes[urlsplit(replica.url).netloc],
                          "url": site.proxy.url}])
    return context.new_page()


def landed_on(page, site: Site) -> str:
    """The replica this page's browser reaches through nginx, asked with its own cookies."""
    return page.context.request.get(f"{site.proxy.url}/_stcore/health").headers["x-upstream"]


def card(page, key: str):
    """The value of the KPI card whose label is exactly t(key) (封控区 is also the start of 封控区人口)."""
    # A re-exported figure is marked "· 已更正", and one the last ingest changed wears a "新" chip.
    corrected, updated = re.escape(f" · {t('kpi.corrected', 'zh')}"), t("kpi.updated", "zh")
    label = page.locator('[data-testid="stMetricLabel"]',
                         has_text=re.compile(rf"^\s*{re.escape(t(key, 'zh'))}({corrected})?(\s*{updated})?\s*$"))
    return page.locator('[data-testid="stMetric"]', has=label).locator('[data-testid="stMetricValue"]')


# ---------------------------------------------------------------- the tests, in order

def test_a_browser_through_nginx_sees_the_overview_and_keeps_its_replica(new_page, site):
    page = new_page()
    page.goto(site.proxy.url + f"/?token={site.token}")
    wait_for_app(page, TITLES["overview"][0])
    sealed, controlled, _ = NEWEST["zones"]
    # expect() retries: on a busy machine a settled page can still be between two runs.
    expect(card(page, "kpi.samples")).to_have_text(SAMPLES_BEFORE)
    expect(card(page, "kpi.zones_sealed")).to_have_text(str(sealed))
    expect(card(page, "kpi.zones_controlled")).to_have_text(str(controlled))
    expect(card(page, "kpi.population_sealed")).to_have_text(f"{NEWEST['sealed_population']:,}")
    assert exceptions(page) == []

    route = [c["value"] for c in page.context.cookies() if c["name"] == ROUTE_COOKIE]
    assert len(route) == 1, "nginx did not give the browser its affinity cookie"
    # Streamlit re-masks _streamlit_xsrf on every health check; the route must not change with it.
    first = landed_on(page, site)
    assert {landed_on(page, site) for _ in range(5)} == {first}
    assert first == upstream_for(site.proxy, route[0])


def test_the_screen_token_reaches_no_log_line_and_no_referer(new_page, site):
    page = new_page()
    requests = []
    page.on("request", lambda request: requests.append(request))
    response = page.goto(site.proxy.url + f"/?kiosk=1&token={site.token}")
    wait_for_app(page, TITLES["overview"][0])
    expect(card(page, "kpi.samples")).to_have_text(site.samples)
    assert response.headers.get("referrer-policy") == "no-referrer"
    # Every request the page made after the first carries no Referer, so no token either.
    later = [request for request in requests[1:] if request.url.startswith(site.proxy.url)]
    assert len(later) > 5 and not [request.url for request in later if request.headers.get("referer")]
    log = (site.proxy.root / "access.log").read_text(encoding="utf-8")
    # The page and its static files were logged, by path: the log is the shipped format, working.
    assert re.search(r'"GET / HTTP/1\.1" 200 ', log) and log.count("/static/") >= 3
    assert site.token not in log and "token=" not in log
    page.context.close()


# Issue 21's budget for a phone's first visit, and what gzip must at least save on a script.
PHONE_FIRST_VISIT_BYTES = 1_500_000
GZIP_AT_MOST = 0.4


def test_nginx_compresses_the_scripts_and_keeps_streamlits_cache_headers(site):
    """Checked with a plain HTTP client against the replica itself: through nginx a bundle comes
    gzipped and marked immutable, and the page shell is revalidated by its ETag (a 304)."""
    index = urllib.request.urlopen(f"{site.proxy.url}/", timeout=10)
    shell = index.read().decode()
    script = re.search(r'src="\.?/?(static/js/index\.[^"]+\.js)"', shell).group(1)
    direct = urllib.request.urlopen(f"{site.replicas[0].url}/{script}", timeout=10).read()
    through = urllib.request.urlopen(urllib.request.Request(
        f"{site.proxy.url}/{script}", headers={"Accept-Encoding": "gzip"}), timeout=10)
    assert through.headers["Content-Encoding"] == "gzip"
    body = through.read()
    assert gzip.decompress(body) == direct and len(body) <= GZIP_AT_MOST * len(direct)
    assert "immutable" in through.headers["Cache-Control"]
    assert index.headers["Cache-Control"] == "no-cache" and index.headers["ETag"]
    with pytest.raises(urllib.error.HTTPError) as again:
        urllib.request.urlopen(urllib.request.Request(
            f"{site.proxy.url}/", headers={"If-None-Match": index.headers["ETag"]}), timeout=10)
    assert again.value.code == 304


def test_a_phones_first_visit_through_nginx_fits_the_budget_and_a_repeat_comes_from_cache(chromium, site):
    """What a leader's phone transfers to see the cards and the list: the bytes on the wire as
    Chromium counts them, then the same link again with a warm cache."""
    with phone_context(chromium) as context:
        page = context.new_page()
        responses = []
        page.on("requestfinished", lambda request: responses.append(request))
        page.goto(site.proxy.url + f"/?token={site.token}")
        wait_for_app(page, TITLES["overview"][0])
        page.locator("ol.attention").first.wait_for()
        first = sum(request.sizes()["responseBodySize"] for request in responses)
        assert 100_000 < first <= PHONE_FIRST_VISIT_BYTES, f"{first:,} bytes on a first visit"
        responses.clear()
        page.reload()
        wait_for_app(page, TITLES["overview"][0])
        page.locator("ol.attention").first.wait_for()
        statics = [request for request in responses if "/static/" in request.url]
        fetched_again = [request.url for request in statics if request.sizes()["responseBodySize"] > 0]
        assert statics and fetched_again == []


def test_both_replicas_show_a_new_snapshot(chromium, site):
    pages = [pinned_page(chromium, site, replica) for replica in site.replicas]
    for page, replica in zip(pages, site.replicas):
        page.goto(site.proxy.url + f"/?token={site.token}")
        expect(card(page, "kpi.samples")).to_have_text(SAMPLES_BEFORE, timeout=LOAD_MS)
        assert landed_on(page, site) == urlsplit(replica.url).netloc

    testing = site.settings.data_dir / "exports" / DAYS[-1].isoformat() / "testing_records.csv"
    lines = testing.read_text(encoding="utf-8").splitlines(keepends=True)
    assert all(",410103001001,TS01,2," in line for line in lines[-REPEATS:])  # 西工房, round 2
    testing.write_text("".join(lines[:-REPEATS]), encoding="utf-8")
    result = ingest(site.settings)
    assert result.ok, result.failed
    site.samples = SAMPLES_AFTER

    # One refresh interval, and time for a rerun on a slow machine.
    for page in pages:
        expect(card(page, "kpi.samples")).to_have_text(SAMPLES_AFTER, timeout=(REFRESH_SECONDS + 12) * 1000)
    for page in pages:
        page.context.close()


UPLOADED = 3  # rows of 西工房 in the file uploaded below: 2022-01-06's samples go up by exactly that


def test_an_upload_through_one_replica_is_seen_by_the_other(chromium, site, tmp_path):
    first, second = (pinned_page(chromium, site, replica) for replica in site.replicas)
    first.goto(site.proxy.url + "/upload?area=410103001&day=2022-01-06")
    log_in(first, "ops", "ops-pw")
    wait_for_app(first, TITLES["upload"][0])
    assert landed_on(first, site) == urlsplit(site.replicas[0].url).netloc
    sent = tmp_path / "核酸采样.csv"
    sent.write_bytes(("sample_id,person_id,area_code,site_id,round,sampled_at,result\n" + "".join(
        f"RP{i},{person_id('410103001001', 7000 + i)},410103001001,TS01,2,2022-01-06 10:00:00,阴性\n"
        for i in range(UPLOADED))).encode("gbk"))
    first.get_by_label(t("upload.day", "zh")).click()
    first.get_by_role("option", name="2022年1月6日").click()
    wait_for_app(first)
    first.locator('input[type="file"]').set_input_files(str(sent))
    first.get_by_role("button", name=t("upload.confirm", "zh")).click()
    # These replicas lack the ingest's ID key, so they leave the file to the watcher: this test is it.
    expect(first.get_by_text(t("upload.by_watcher", "zh"))).to_be_visible(timeout=LOAD_MS)
    assert ingest(site.settings).ok
    site.samples = f"{int(site.samples.replace(',', '')) + UPLOADED:,}"
    expect(first.get_by_text(re.compile(r"核酸采样\.csv：\d\d:\d\d 入库"))).to_be_visible(timeout=LOAD_MS)

    second.goto(site.proxy.url + f"/?token={site.token}")
    assert landed_on(second, site) == urlsplit(site.replicas[1].url).netloc
    expect(card(second, "kpi.samples")).to_have_text(site.samples, timeout=LOAD_MS)
    for page in (first, second):
        page.context.close()


def test_losing_a_replica_moves_its_browsers_to_the_other(chromium, site):
    doomed, survivor = site.replicas
    kiosk = pinned_page(chromium, site, doomed)
    kiosk.goto(site.proxy.url + f"/?kiosk=1&token={site.token}")
    expect(kiosk.locator("h1").first).to_have_text(TITLES["overview"][0])
    # The clock's first line is the time; under it, when the screen last refreshed.
    expect(kiosk.locator(".kiosk-clock")).to_have_text(re.compile(r"^\d{2}:\d{2}:\d{2}"))
    # The cards are drawn before the kill, as on a screen that has been up a while: on a loaded
    # machine the clock shows while the first run still draws them, and a first run cut short by
    # the kill is not the case this test is about.
    expect(card(kiosk, "kpi.samples")).to_have_text(site.samples)
    assert landed_on(kiosk, site) == urlsplit(doomed.url).netloc

    doomed.process.kill()
    doomed.process.wait(timeout=15)
    killed_at = datetime.now()

    # A new browser whose cookie hashes onto the dead replica still gets a page, from the other.
    newcomer = pinned_page(chromium, site, doomed)
    newcomer.goto(site.proxy.url + f"/?token={site.token}")
    expect(card(newcomer, "kpi.samples")).to_have_text(site.samples, timeout=LOAD_MS)
    assert exceptions(newcomer) == []
    assert landed_on(newcomer, site).endswith(urlsplit(survivor.url).netloc)

    # The open screen reconnects by itself: its clock, drawn by the server every second, shows
    # a time after the kill, which only a live replica can have sent.
    def clock_after_kill() -> bool:
        time_shown = re.match(r"\d{2}:\d{2}:\d{2}", kiosk.locator(".kiosk-clock").inner_text().strip())
        if not time_shown:
            return False
        shown = datetime.combine(killed_at.date(), datetime.strptime(time_shown.group(), "%H:%M:%S").time())
        return timedelta(seconds=1) <= (shown - killed_at) % timedelta(days=1) <= timedelta(minutes=5)

    deadline = time.monotonic() + RECONNECT_SECONDS
    while not clock_after_kill() and time.monotonic() < deadline:
        kiosk.wait_for_timeout(500)
    assert clock_after_kill(), (f"the kiosk page did not reconnect within {RECONNECT_SECONDS} s; its clock shows "
                                f"{kiosk.locator('.kiosk-clock').inner_text()!r}, killed at {killed_at:%H:%M:%S}")
    expect(kiosk.locator("h1").first).to_have_text(TITLES["overview"][0])
    expect(card(kiosk, "kpi.samples")).to_have_text(site.samples)
    assert exceptions(kiosk) == []
    kiosk.context.close()
    newcomer.context.close()
