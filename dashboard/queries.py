"""Named queries: `queries/<topic>/<result>.sql`, run with bound `$name` parameters.

The first line of each file states its grain and its parameters ("Params: $day, $area."), and
the runner holds callers to it, so a file's header cannot drift from what it binds.
"""

from __future__ import annotations

import json
import os
import re
import threading
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.settings import QUERIES_DIR, Settings

NAME = re.compile(r"^[a-z_]+/[a-z0-9_]+$")
DECLARED = re.compile(r"\$([a-z_]+)")
# Benchmarks only (bench/load.py, bench/soak.py): when set, every query that actually reaches
# DuckDB appends a line "name<TAB>params" to this file, so a load run can count executions
# against cache hits. Read once at import; unset in production, where it costs nothing.
BENCH_QUERY_LOG = os.environ.get("DASHBOARD_BENCH_QUERY_LOG") or None


def query_names() -> list[str]:
    return sorted(str(p.relative_to(QUERIES_DIR).with_suffix("")) for p in QUERIES_DIR.rglob("*.sql"))


@cache
def load(name: str) -> tuple[str, frozenset[str]]:
    """SQL text of a named query and the parameters its first line declares."""
    if not NAME.match(name):
        raise ValueError(f"not a query name: {name!r}")
    path = QUERIES_DIR / f"{name}.sql"
    sql = path.read_text(encoding="utf-8")
    header = sql.split("\n", 1)[0]
    if not header.startswith("--") or "Params:" not in header:
        raise ValueError(f"{path}: first line must state the grain and 'Params: ...'")
    return sql, frozenset(DECLARED.findall(header.split("Params:", 1)[1]))


class Snapshot:
    """Read-only access to the snapshot file, reopened when an ingest swaps in a new one.

    DuckDB keeps a read-only connection on the file it opened (the old inode) after
    os.replace, so the file's identity is checked before every query.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._opened_version: str | None = None

    def version(self) -> str:
        """Changes whenever a new snapshot is swapped in; part of every cache key."""
        stat = self.path.stat()
        return f"{stat.st_ino}-{stat.st_mtime_ns}-{stat.st_size}"

    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            version = self.version()
            if self._con is None or version != self._opened_version:
                if self._con is not None:
                    self._con.close()
                self._con = duckdb.connect(str(self.path), read_only=True)
                self._opened_version = version
            # One cursor per call: DuckDB connections are not shared between threads.
            return self._con.cursor()

    def run(self, name: str, **params) -> pd.DataFrame:
        sql, declared = load(name)
        if set(params) != declared:
            raise TypeError(f"query {name} takes {sorted(declared)}, got {sorted(params)}")
        if BENCH_QUERY_LOG:
            _log_execution(name, params)
        cursor = self.cursor()
        try:
            return cursor.execute(sql, params).df()
        finally:
            cursor.close()

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None


def _log_execution(name: str, params: dict) -> None:
    # One short write in append mode per line: replicas sharing the file do not interleave lines.
    line = f"{name}\t{json.dumps(params, sort_keys=True, default=str)}\n"
    with open(BENCH_QUERY_LOG, "a", encoding="utf-8") as log:
        log.write(line)


_default: Snapshot | None = None


def default_snapshot() -> Snapshot:
    global _default
    path = Settings.from_env().db_path
    if _default is None or _default.path != path:
        _default = Snapshot(path)
    return _default


def run_query(name: str, **params) -> pd.DataFrame:
    """Run a named query on the configured snapshot."""
    return default_snapshot().run(name, **params)
