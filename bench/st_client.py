"""A browser tab, as Streamlit's server sees it: enough of the websocket protocol to make the
server run page scripts, for the load and soak commands. No browser, no rendering.

What a tab does (read from streamlit 1.67's starlette_websocket.py, app_session.py and the
frontend's sendRerunBackMsg / handleAutoRerun):

- GET the page, then GET /_stcore/health, which sets the `_streamlit_xsrf` cookie (through
  nginx, a first response also carries the affinity cookie). Cookies go along on the websocket,
  so a proxy that hashes on them sends the tab where a browser would go.
- Open ws://HOST/_stcore/stream with the subprotocol "streamlit".
- Ask for a run with BackMsg.rerun_script, a ClientState: on the first run the page comes from
  the URL path (page_name, with an empty page_script_hash); later runs name the page by the
  hash the server sent in new_session / navigation. The query string rides along on every run,
  as the browser's address bar does.
- The server answers with ForwardMsgs: new_session when a run starts (its metadata lists
  fragment ids for a fragment run), deltas, page_info_changed when the script writes
  st.query_params, auto_rerun for a fragment with run_every (the browser then asks for that
  fragment on a timer, until a full run starts or stop_auto_rerun), and script_finished. A run
  that ends FINISHED_EARLY_FOR_RERUN (st.rerun, st.switch_page) goes on by itself on the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
FULL_RUN_ENDS = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR}


class ProtocolError(RuntimeError):
    """The server closed the session or answered something a browser would not accept."""


def require_loopback(url: str) -> None:
    """Benchmarks load the machine they run on, never someone else's."""
    host = urlsplit(url).hostname
    if host not in LOOPBACK:
        raise SystemExit(f"refusing to load {host!r}: benchmarks target 127.0.0.1 only")


@dataclass
class Run:
    """One full script run, from the request (or the connect, for the first) to script_finished."""
    started: float
    finished: float = 0.0
    status: int = -1
    deltas: int = 0
    bytes: int = 0
    exceptions: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.finished - self.started


# What Chromium on a desk sends (bench.load --like-browser): the server sees a browser, not a script.
BROWSER_HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Accept-Language": "zh-CN,zh;q=0.9",
}


def _get(url: str, cookies: dict[str, str], timeout: float, headers: dict[str, str] | None = None) -> dict[str, str]:
    """GET url with cookies; the cookies the response sets."""
    request = urllib.request.Request(url, headers={**(headers or {}),
                                                   **({"Cookie": cookie_header(cookies)} if cookies else {})})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()
        received = {}
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].partition("=")
            received[name.strip()] = value.strip()
        return received


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


class Tab:
    """One browser tab's session on a Streamlit server.

    follow_fragments: ask for fragment reruns on their timers as the browser does (the kiosk
    clock, the rotation, the new-snapshot check); speedup divides those timers, so a soak can
    play hours of a screen in minutes.
    """

    def __init__(self, base_url: str, *, follow_fragments: bool = False, speedup: float = 1.0,
                 cookies: dict[str, str] | None = None, like_browser: bool = False):
        require_loopback(base_url)
        self.base_url = base_url.rstrip("/")
        self.like_browser = like_browser
        self.headers = dict(BROWSER_HEADERS) if like_browser else {}
        self.follow_fragments = follow_fragments
        self.speedup = speedup
        self.cookies = dict(cookies or {})
        self.query_string = ""
        self.page_script_hash = ""
        self.pages: dict[str, str] = {}  # url path ("" for the default page) -> page_script_hash
        self.full_runs = 0
        self.fragment_runs = 0
        self.exceptions: list[str] = []
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._timers: dict[str, asyncio.Task] = {}
        self._current: Run | None = None
        self._finished = asyncio.Condition()
        self._closed_reason: str | None = None

    # ---------------------------------------------------------------- connecting

    async def open(self, path: str = "/", query_string: str = "", timeout: float = 120) -> Run:
        """Load the page as a browser does and wait for its first full run."""
        run = Run(started=time.monotonic())
        page_url = f"{self.base_url}{path}" + (f"?{query_string}" if query_string else "")
        # A browser's frontend asks for the host config and the health check before it connects.
        urls = (page_url, f"{self.base_url}/_stcore/host-config", f"{self.base_url}/_stcore/health") \
            if self.like_browser else (page_url, f"{self.base_url}/_stcore/health")
        for url in urls:
            self.cookies.update(await asyncio.to_thread(_get, url, self.cookies, timeout, self.headers))
        ws_url = "ws" + self.base_url[len("http"):] + "/_stcore/stream"
        headers = {**self.headers, **({"Cookie": cookie_header(self.cookies)} if self.cookies else {})}
        if self.like_browser:
            headers["Origin"] = self.base_url
        self._ws = await connect(ws_url, subprotocols=[Subprotocol("streamlit")], additional_headers=headers,
                                 max_size=None, open_timeout=timeout, ping_interval=None)
        self._reader = asyncio.create_task(self._read())
        self.query_string = query_string
        await self._request(run, page_name=path.strip("/"), page_script_hash="", timeout=timeout)
        return run

    async def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    # ---------------------------------------------------------------- asking for runs

    async def go_to(self, url_path: str, timeout: float = 120) -> Run:
        """Follow a navigation link to the page at url_path ("" for the default page), as the sidebar does."""
        if url_path not in self.pages:
            raise ProtocolError(f"no page {url_path!r}; the server offers {sorted(self.pages)}")
        run = Run(started=time.monotonic())
        await self._request(run, page_script_hash=self.pages[url_path], timeout=timeout)
        return run

    async def set_query(self, query_string: str, timeout: float = 120) -> Run:
        """Rerun the current page with a new query string (a pasted link's parameters)."""
        run = Run(started=time.monotonic())
        self.query_string = query_string
        await self._request(run, page_script_hash=self.page_script_hash, timeout=timeout)
        return run

    async def wait_for_full_run(self, timeout: float) -> Run:
        """Wait for the next full run that the server starts by itself (rotation, new data)."""
        run = Run(started=time.monotonic())
        async with self._finished:
            self._current = run
            before = self.full_runs
            await asyncio.wait_for(self._finished.wait_for(lambda: self.full_runs > before or self._closed_reason),
                                   timeout)
        return self._result(run)

    async def _request(self, run: Run, *, page_script_hash: str, page_name: str = "", timeout: float) -> None:
        async with self._finished:
            self._current = run
            before = self.full_runs
            await self._send_rerun(page_script_hash=page_script_hash, page_name=page_name)
            await asyncio.wait_for(self._finished.wait_for(lambda: self.full_runs > before or self._closed_reason),
                                   timeout)
        self._result(run)

    def _result(self, run: Run) -> Run:
        if self._closed_reason:
            raise ProtocolError(self._closed_reason)
        return run

    async def _send_rerun(self, *, page_script_hash: str, page_name: str = "", fragment_id: str = "",
                          auto: bool = False) -> None:
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = page_script_hash
        state.page_name = page_name
        state.fragment_id = fragment_id
        state.is_auto_rerun = auto
        # An empty WidgetStates keeps every widget's last value, as an idle browser would report it.
        state.widget_states.SetInParent()
        state.context_info.timezone = "Asia/Shanghai"
        state.context_info.timezone_offset = -480
        state.context_info.locale = "zh-CN"
        state.context_info.url = f"{self.base_url}/"
        await self._ws.send(message.SerializeToString())

    # ---------------------------------------------------------------- what the server sends

    async def _read(self) -> None:
        try:
            async for frame in self._ws:
                message = ForwardMsg()
                message.ParseFromString(frame)
                await self._handle(message, len(frame))
            reason = "the server closed the websocket"
        except Exception as error:  # noqa: BLE001 - any failure ends this tab; the caller reports it
            reason = f"websocket failed: {error!r}"
        async with self._finished:
            self._closed_reason = reason
            self._finished.notify_all()

    async def _handle(self, message: ForwardMsg, size: int) -> None:
        kind = message.WhichOneof("type")
        run = self._current
        if run is not None:
            run.bytes += size
        if kind == "delta":
            if run is not None:
                run.deltas += 1
            if message.delta.WhichOneof("type") == "new_element" and \
                    message.delta.new_element.WhichOneof("type") == "exception":
                text = message.delta.new_element.exception.message
                self.exceptions.append(text)
                if run is not None:
                    run.exceptions.append(text)
        elif kind == "new_session":
            # Its app_pages name pages by title; the navigation message that follows has their url paths.
            self.page_script_hash = message.new_session.page_script_hash or self.page_script_hash
            if not message.metadata.run.fragment_ids:
                self._stop_timers()  # a full run drops the old fragments, as the browser does
        elif kind == "navigation":
            self._remember_pages(message.navigation.app_pages)
            self.page_script_hash = message.navigation.page_script_hash or self.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = message.page_info_changed.query_string
        elif kind == "page_not_found":
            self.exceptions.append(f"page not found: {message.page_not_found.page_name!r}")
        elif kind == "auto_rerun" and self.follow_fragments:
            self._start_timer(message.auto_rerun.fragment_id, message.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment_id in message.stop_auto_rerun.fragment_ids:
                self._stop_timers(fragment_id)
        elif kind == "script_finished":
            status = message.script_finished
            if status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                self.fragment_runs += 1
            elif status in FULL_RUN_ENDS:
                async with self._finished:
                    if run is not None and not run.finished:
                        run.finished, run.status = time.monotonic(), status
                        self._current = None
                    self.full_runs += 1
                    self._finished.notify_all()

    def _remember_pages(self, app_pages) -> None:
        # The default page has the url path "": it is served at /.
        self.pages = {page.url_pathname: page.page_script_hash for page in app_pages}

    def _start_timer(self, fragment_id: str, interval: float) -> None:
        self._stop_timers(fragment_id)

        async def tick() -> None:
            with contextlib.suppress(Exception):  # a closed websocket ends the timer; the reader reports it
                while True:
                    await asyncio.sleep(interval / self.speedup)
                    await self._send_rerun(page_script_hash=self.page_script_hash, fragment_id=fragment_id,
                                           auto=True)

        self._timers[fragment_id] = asyncio.create_task(tick())

    def _stop_timers(self, fragment_id: str | None = None) -> None:
        for key in [fragment_id] if fragment_id else list(self._timers):
            timer = self._timers.pop(key, None)
            if timer is not None:
                timer.cancel()


async def clear_server_caches(base_url: str, timeout: float = 60) -> None:
    """Ask a server to drop its st.cache_data and st.cache_resource, as "Clear cache" in
    Streamlit's menu does (for every session on that server): the next runs start cold."""
    tab = Tab(base_url)
    try:
        await tab.open("/", timeout=timeout)
        message = BackMsg()
        message.clear_cache = True
        await tab._ws.send(message.SerializeToString())
        await asyncio.sleep(0.5)  # the server handles BackMsgs in order; give it a moment before closing
    finally:
        await tab.close()
