"""Which port a server the browser tests start listens on.

Under pytest-xdist each worker takes its ports from a block of its own (gw0: 20000-20999, gw1:
21000-21999, ...), below Linux's ephemeral range (32768-60999, where outgoing connections and
port 0 binds land): asking the kernel for a free port would let two workers get the same one
before either server has bound it. Outside xdist (`-n 0`, the benchmarks) the kernel picks.

Something outside the suite can still take a port between the pick and the bind, so a service
that exits because its port is taken is started again on the next one (on_a_free_port).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import socket
from collections.abc import Callable
from typing import TypeVar

FIRST_PORT = 20_000
BLOCK = 1_000
EPHEMERAL_FIRST = 32_768
ATTEMPTS = 5
# What `streamlit run --server.port N` and nginx say when N is taken, before they exit.
TAKEN = re.compile(r"Port \d+ is not available|Address already in use")

Service = TypeVar("Service")


class PortTaken(RuntimeError):
    """A service exited at start because something else had its port."""


def worker_block(worker: str | None = None) -> range | None:
    """The ports of an xdist worker (PYTEST_XDIST_WORKER, gw0, gw1, ...); None outside xdist, or
    for a worker whose block would reach the ephemeral range."""
    if worker is None:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    found = re.fullmatch(r"gw(\d+)", worker)
    if not found:
        return None
    first = FIRST_PORT + BLOCK * int(found.group(1))
    return range(first, first + BLOCK) if first + BLOCK <= EPHEMERAL_FIRST else None


# This process's place in its block: a port handed out is not handed out again until the block
# wraps round, so a restarted server's old port is not given to the next one while it closes.
_handed_out = itertools.count()


def free_port() -> int:
    """A port nothing on this machine listens on now, and that no other xdist worker hands out."""
    block = worker_block()
    if block is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]
    for _ in block:
        port = block[next(_handed_out) % len(block)]
        if bindable(port):
            return port
    raise RuntimeError(f"no free port left in {block.start}-{block.stop - 1}")


def bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def on_a_free_port(start: Callable[[int], Service]) -> Service:
    """start(port) on a free port, and again on the next while the port was taken by the time the
    service bound it."""
    for _ in range(ATTEMPTS - 1):
        with contextlib.suppress(PortTaken):
            return start(free_port())
    return start(free_port())
