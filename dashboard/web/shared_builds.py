"""What every session would otherwise build again: figures, maps and lists made once per snapshot
version and view, and handed to every session of the process that asks for the same.

Fifty leaders opening the link at 8 a.m. see the same data version; building and serialising the
same map fifty times was most of the server's time (bench.load). A built value is shared, not
copied: whoever takes one must not change it (pages draw it and nothing else).

No Streamlit and no roles here: dashboard.web.cache stores each value with the queries its build
ran and checks the session's role against them before handing it out, and keys every value on
the snapshot's version, so a swap makes new keys and drops the old ones.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class SharedBuilds:
    """Values by key, built at most once at a time per key, the least recently used dropped
    beyond max_entries (a wall's day and area change over days; the memory must not)."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._values: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        # One lock per key being built: fifty sessions asking for the same map at once wait for
        # the first to build it, instead of building it fifty times side by side.
        self._building: dict[Hashable, threading.Lock] = {}

    def _cached(self, key: Hashable) -> tuple[bool, object]:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return True, self._values[key]
            return False, None

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        found, value = self._cached(key)
        if found:
            return value
        with self._lock:
            key_lock = self._building.setdefault(key, threading.Lock())
        with key_lock:
            found, value = self._cached(key)
            if found:
                return value
            try:
                value = build()
            finally:
                with self._lock:
                    self._building.pop(key, None)
            with self._lock:
                self._values[key] = value
                while len(self._values) > self.max_entries:
                    self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        return len(self._values)
