"""What a page run looks up once: the settings, the snapshot's version, the users table.

Every query and every shared build of a run asks for them, tens of times a run, and each asks
the environment or a file's stat: together a fifth of a warm overview's server time when 25
sessions arrive at once (bench.load, py-spy). The router opens a run's scope before its page and
closes it after; inside it each is read once, so one run also draws from one snapshot version.
Outside a scope (a fragment's timed run, the login form) they are read every time, as before.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")

# The script thread's current run: what it has looked up so far (None outside a run's scope).
_looked_up: contextvars.ContextVar[dict | None] = contextvars.ContextVar("looked_up", default=None)


def begin() -> contextvars.Token:
    return _looked_up.set({})


def end(token: contextvars.Token) -> None:
    _looked_up.reset(token)


def once(key: Hashable, look_up: Callable[[], T]) -> T:
    """look_up() the first time this run asks for key, the same value after; every time outside a run."""
    looked_up = _looked_up.get()
    if looked_up is None:
        return look_up()
    if key not in looked_up:
        looked_up[key] = look_up()
    return looked_up[key]
