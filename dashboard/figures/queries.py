"""Named queries: `queries/<topic>/<result>.sql`, run with bound `$name` parameters.

The first line of each file states its grain and its parameters ("Params: $day, $area."), and
the runner holds callers to it, so a file's header cannot drift from what it binds. A query that
returns names or row-level detail ends the line with the roles that may run it ("Roles: leader,
admin."); one without is an aggregate that every role may run. The web's runner checks the
session's role against it before every query and every shared build (web/access.py).

Every query binds `$area`, the subtree it answers for, unless its line says it is the same for
every area ("Area: all.": the map's outlines, the export days): a street's session is held to
its own subtree through that parameter (web/access.py), so a query that neither binds the area
nor says so is refused when it is loaded.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import date, datetime, time
from functools import cache
from numbers import Integral
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.settings import QUERIES_DIR, Settings, bench_query_log

NAME = re.compile(r"^[a-z_]+/[a-z0-9_]+$")
DECLARED = re.compile(r"\$([a-z_]+)")
ROLES = re.compile(r"Roles: ([a-z_]+(?:, [a-z_]+)*)\.$")
ALL_AREAS = "Area: all."
# Every parameter a query may declare, with its type. A new name must be added here, so a
# typo in a header or a wrongly typed value fails before DuckDB sees it.
PARAM_TYPES: dict[str, type] = {
    "day": date,
    "at": datetime,
    "area": str,  # an area-code prefix; "" is the whole district
    "round": Integral,
    "review_days": Integral,
    "hours": Integral,
    "file": str,  # a file as the ingest log names it: exports/DAY/NAME
    "digest": str,  # a file's sha256, hex
}


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
    declared = frozenset(DECLARED.findall(header.split("Params:", 1)[1].split("Roles:", 1)[0]))
    if ("area" in declared) == (ALL_AREAS in header):
        raise ValueError(f"{path}: a query binds $area, or its first line says {ALL_AREAS!r} (the same for every"
                         " area), not both and not neither: a street's session is held to its area by $area")
    return sql, declared


def same_for_every_area(name: str) -> bool:
    """Whether the query answers the same for every area (its line says "Area: all.")."""
    return ALL_AREAS in load(name)[0].split("\n", 1)[0]


@cache
def allowed_roles(name: str) -> frozenset[str] | None:
    """The roles a query's header line allows, or None when it allows every role (no "Roles:")."""
    header = load(name)[0].split("\n", 1)[0]
    if "Roles:" not in header:
        return None
    found = ROLES.search(header)
    if found is None:
        raise ValueError(f"queries/{name}.sql: the first line must end 'Roles: role, role.'")
    return frozenset(found.group(1).split(", "))


def restricted_queries() -> dict[str, frozenset[str]]:
    """Every query whose header names the roles that may run it."""
    return {name: roles for name in query_names() if (roles := allowed_roles(name)) is not None}


def example_params(name: str, day: date) -> dict:
    """Plausible values for the parameters a query's header declares, for a given day: what the
    generic query tests and the benchmark run every query with."""
    examples = {"day": day, "at": datetime.combine(day, time(12)), "area": "", "round": 1, "review_days": 14,
                "hours": 12, "file": "exports/2022-01-06/testing_records.csv", "digest": ""}
    return {key: examples[key] for key in load(name)[1]}


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
        for key, value in params.items():
            # None is a value too: "no round yet", "no export day".
            if value is not None and not isinstance(value, PARAM_TYPES[key]):
                raise TypeError(f"query {name}: ${key} must be {PARAM_TYPES[key]}, got {type(value).__name__}")
        if bench_query_log():
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
    with open(bench_query_log(), "a", encoding="utf-8") as log:
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
