"""The browser servers' ports (tests/browser/ports.py): a block per xdist worker, and a service
whose port was taken by the time it bound it, started again on the next one; what streamlit and
nginx really say about a taken port is what is matched."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys

import pytest

from tests.browser.nginx_site import NGINX, start_nginx_on
from tests.browser.ports import EPHEMERAL_FIRST, PortTaken, free_port, on_a_free_port, worker_block
from tests.browser.support import REPO, Server, server_environment, wait_until_healthy


def test_each_worker_has_a_block_of_its_own_below_the_ephemeral_ports():
    assert worker_block("gw0") == range(20_000, 21_000)
    assert worker_block("gw1") == range(21_000, 22_000)
    assert worker_block("gw11").stop <= EPHEMERAL_FIRST
    assert worker_block("gw12") is None and worker_block("") is None and worker_block("master") is None


def test_a_worker_hands_out_each_port_once_and_skips_a_taken_one(monkeypatch):
    # The last block, which no worker of a run on fewer than 12 cores uses: gw1's servers are in
    # gw1's block, and CI caught one on the port this test meant to take.
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw11")
    first = free_port()
    with socket.socket() as holder:
        with contextlib.suppress(OSError):  # held by something else already: taken all the same
            holder.bind(("127.0.0.1", first + 1))
            holder.listen()
        second = free_port()
    assert 31_000 <= first < second < 32_000 and second != first + 1


def test_a_taken_port_is_retried_on_the_next(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    tried = []

    def start(port: int) -> int:
        tried.append(port)
        if len(tried) < 3:
            raise PortTaken(f"port {port} taken")
        return port

    assert on_a_free_port(start) == tried[-1]
    assert len(set(tried)) == 3 and all(20_000 <= port < 21_000 for port in tried)


@pytest.fixture
def held_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_streamlit_on_a_taken_port_is_port_taken(tmp_path, held_port):
    log = tmp_path / "server.log"
    environment = server_environment(tmp_path, tmp_path / "snapshot.duckdb", tmp_path)
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard/app.py",
                                    "--server.port", str(held_port), "--server.address", "127.0.0.1",
                                    "--server.headless", "true"], cwd=REPO, env=environment,
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    with pytest.raises(PortTaken):
        wait_until_healthy(Server(f"http://127.0.0.1:{held_port}", process, log, tmp_path, tmp_path), "streamlit")


@pytest.mark.nginx
@pytest.mark.skipif(not NGINX.is_file(), reason=f"needs Debian's nginx at {NGINX}")
def test_nginx_on_a_taken_port_is_port_taken(tmp_path, held_port):
    replica = Server("http://127.0.0.1:9", None, tmp_path / "none.log", tmp_path, tmp_path)  # never asked
    with pytest.raises(PortTaken):
        start_nginx_on(held_port, tmp_path / "nginx", [replica])
