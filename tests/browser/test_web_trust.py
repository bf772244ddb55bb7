"""What only a real server shows about trust: which Host names its websocket accepts, what a
session arriving through a proxy sees without users, and that a Markdown link in the URL
renders as text in the browser.

The first two talk to the server directly (a raw handshake, and a websocket client that runs
the script as the browser would); they need no Chromium.
"""

from __future__ import annotations

import base64
import os
import socket
import time
from urllib.parse import quote, urlsplit

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

from tests.browser.support import LOAD_MS, Server, open_app, serve_fixture
from tests.fixtures import XINGYUAN
from tests.test_web_trust import MD_COMMUNITY, MD_HOTEL, MD_ZONE, name_things_in_markdown, visible

RUN_SECONDS = 60


def handshake_status(server: Server, host: str) -> str:
    """The status line the server answers a websocket upgrade with, for this Host header."""
    port = urlsplit(server.url).port
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request.encode())
        answer = b""
        while b"\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0].decode()


@pytest.mark.parametrize(("host", "accepted"), [("127.0.0.1", True), ("localhost", True), ("evil.example", False),
                                                ("127.0.0.1.evil.example", False)])
def test_the_websocket_accepts_only_allowed_host_names(server, host, accepted):
    status = handshake_status(server, host)
    assert status.startswith("HTTP/1.1 101") is accepted, status


def run_script(server: Server, headers: dict[str, str]) -> list[tuple[str, str]]:
    """Open a session with these request headers, run the script once as a browser would, and
    return the (element type, text) of every heading, Markdown block and alert it drew."""
    port = urlsplit(server.url).port
    drawn = []
    with connect(f"ws://127.0.0.1:{port}/_stcore/stream", additional_headers=headers,
                 open_timeout=RUN_SECONDS) as websocket:
        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        websocket.send(rerun.SerializeToString())
        deadline = time.monotonic() + RUN_SECONDS
        while time.monotonic() < deadline:
            message = ForwardMsg()
            message.ParseFromString(websocket.recv(timeout=RUN_SECONDS))
            kind = message.WhichOneof("type")
            if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                element = message.delta.new_element
                which = element.WhichOneof("type")
                if which in ("alert", "heading", "markdown"):
                    drawn.append((which, getattr(element, which).body))
            if kind == "script_finished":
                return drawn
    raise AssertionError(f"the script did not finish in {RUN_SECONDS} s: {drawn}")


def test_a_session_through_a_proxy_without_users_sees_only_the_refusal(server):
    direct = run_script(server, {})
    assert ("heading", "总览") in direct  # the same harness, without the header, shows the overview
    proxied = run_script(server, {"X-Forwarded-For": "203.0.113.7"})
    assert [kind for kind, _ in proxied] == ["alert"], proxied
    assert "forwarded by a proxy" in proxied[0][1]


def test_links_in_the_url_render_as_text(new_page, server):
    page = new_page()
    open_app(page, server, f"/?area={quote('[click](http://x)')}&layers={quote('https://evil.example/')}", "总览")
    warnings = page.locator('[data-testid="stSidebar"] [data-testid="stAlert"]')
    assert warnings.count() == 2
    shown = visible(" ".join(warnings.all_inner_texts()))
    assert "area=[click](http://x)" in shown and "layers=https://evil.example/" in shown
    assert warnings.locator("a").count() == 0


@pytest.fixture(scope="module")
def markdown_server(tmp_path_factory):
    with serve_fixture(tmp_path_factory.mktemp("markdown-names"), name_things_in_markdown) as running:
        yield running


# Every text plotly drew, and every link element in its charts.
_PLOTLY_TEXTS = """() => [...document.querySelectorAll('.js-plotly-plot text')].map(t => t.textContent)"""
_PLOTLY_LINKS = """() => document.querySelectorAll('.js-plotly-plot a').length"""


def wait_for_plotly_text(page, text: str) -> None:
    """Until some chart has drawn `text` (the page's charts draw one after another; on a loaded
    machine the one holding the name can come seconds after the first)."""
    page.wait_for_function(f"name => ({_PLOTLY_TEXTS})().includes(name)", arg=text, timeout=LOAD_MS)


def test_names_from_exports_show_as_typed_in_captions_and_charts(new_page, markdown_server):
    page = new_page()
    open_app(page, markdown_server, f"/zones?area={XINGYUAN}", "封控管控")
    caption = page.locator('[data-testid="stCaptionContainer"]', has_text="二七区疫情防控指挥部").first
    assert MD_COMMUNITY in visible(caption.inner_text())
    assert caption.locator("a, b").count() == 0
    wait_for_plotly_text(page, MD_ZONE)
    assert MD_ZONE in page.evaluate(_PLOTLY_TEXTS)
    assert page.evaluate(_PLOTLY_LINKS) == 0

    open_app(page, markdown_server, "/isolation", "隔离管控")
    wait_for_plotly_text(page, MD_HOTEL)
    assert MD_HOTEL in page.evaluate(_PLOTLY_TEXTS)
    assert page.evaluate(_PLOTLY_LINKS) == 0
