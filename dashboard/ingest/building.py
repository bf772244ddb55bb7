"""The snapshot an ingest builds: a private copy of the serving one (or a new file), its schema
and feeds, and the checks that decide it must start over: another ID key, another format, or a
file that cannot be read whole.

The copy lives in <db>.building/, a folder only this user can enter, and is os.replace'd over
the serving snapshot when the ingest is done (ingest.py).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from pathlib import Path

import duckdb
from duckdb import ColumnExpression, FunctionExpression

from dashboard.ingest.contract import EXPORT_KINDS
from dashboard.ingest.ids import key_fingerprint
from dashboard.ingest.parse import SYMLINK_NOT_READ, install_macros
from dashboard.ingest.status import SNAPSHOT_MODE, path_free

SCHEMA_SQL = Path(__file__).parent / "schema.sql"
# Bump when schema.sql or the parsing rules change: an old snapshot is then rebuilt from scratch.
SCHEMA_VERSION = "6"
LOCK_MODE = 0o600
BUILT_SNAPSHOT = "snapshot.duckdb"
# DuckDB spills its temp tables to <building>/snapshot.duckdb.tmp beyond this, so a city's
# testing day (twelve million rows) fits a small ingest machine.
MEMORY_LIMIT = "SET memory_limit = '1GB'"
TABLES = "select table_name from duckdb_tables() where database_name = current_database() and schema_name = 'main'"


def open_lock(lock_path: Path) -> int:
    try:
        return os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, LOCK_MODE)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise OSError(f"{lock_path}: the lock file is a {SYMLINK_NOT_READ}; remove it and run again") from None
        raise


def fresh_building_folder(db_path: Path) -> Path:
    """<db>.building as a new folder only this user can enter: DuckDB creates the snapshot and
    its .wal inside, where nobody else can plant a link for it to write through."""
    building = db_path.with_name(db_path.name + ".building")
    if building.is_symlink() or building.is_file():
        building.unlink()  # removes a planted link itself, never what it points to
    elif building.is_dir():
        shutil.rmtree(building)  # left by a killed ingest
    # Earlier versions built <db>.building as a file, with its .wal beside it.
    building.with_name(building.name + ".wal").unlink(missing_ok=True)
    building.mkdir(mode=0o700)
    return building


def _copy_snapshot(db_path: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, SNAPSHOT_MODE)
    with open(db_path, "rb") as source, os.fdopen(fd, "wb") as copy:
        shutil.copyfileobj(source, copy, 1 << 20)


def connect_building(db_path: Path, id_key: bytes) -> tuple[duckdb.DuckDBPyConnection, Path, str]:
    """A read-write connection to a copy of the snapshot, to be swapped in when done, and why it
    was started from scratch instead ('' when it was not).

    Pseudonyms made under two keys must never meet in one snapshot, or one person becomes two:
    a snapshot made under another key (or under an unknown one) is rebuilt, every file re-read.
    So is one that cannot be read whole (a bad disk block, a truncated copy), under the current
    key: the exports hold everything it held, and it would fail every later ingest.
    """
    building = fresh_building_folder(db_path) / BUILT_SNAPSHOT
    fingerprint_now = key_fingerprint(id_key)
    start_over = ""
    if db_path.exists():
        _copy_snapshot(db_path, building)
        con = None
        try:
            con = duckdb.connect(str(building))
            con.execute(MEMORY_LIMIT)
            meta = _meta(con)
            _read_every_table(con)
        except duckdb.OutOfMemoryException:
            raise  # no sign of damage: a rebuild would need the memory too
        except duckdb.Error as error:
            start_over = (f"snapshot unreadable ({path_free(str(error).splitlines()[0], (building.parent,))}):"
                          " rebuilt from the exports under the same ID key, every file re-read")
        else:
            if meta.get("schema_version") != SCHEMA_VERSION:
                start_over = "snapshot format changed: rebuilt from scratch, every file re-read"
            elif "id_key_fingerprint" not in meta:
                start_over = "snapshot made before ID key fingerprints: rebuilt under the current key, every file re-read"
            elif meta["id_key_fingerprint"] != fingerprint_now:
                start_over = ("ID key changed: snapshot rebuilt from scratch, every file re-read;"
                              " every person has a new pseudonym")
        if start_over:
            if con is not None:
                with contextlib.suppress(duckdb.Error):  # a connection to a damaged file may refuse even this
                    con.close()
            building.unlink()
            building.with_name(building.name + ".wal").unlink(missing_ok=True)
    if not building.exists():
        con = duckdb.connect(str(building))
    con.execute(MEMORY_LIMIT)
    con.execute(SCHEMA_SQL.read_text())
    install_macros(con)
    con.execute("delete from feeds")
    for position, kind in enumerate(EXPORT_KINDS):
        con.execute("insert into feeds values ($kind, $position, $optional)",
                    {"kind": kind.kind, "position": position, "optional": kind.optional})
    con.execute("insert or replace into meta values ('schema_version', $v)", {"v": SCHEMA_VERSION})
    con.execute("insert or replace into meta values ('id_key_fingerprint', $f)", {"f": fingerprint_now})
    return con, building, start_over


def _meta(con: duckdb.DuckDBPyConnection) -> dict:
    try:
        return dict(con.execute("select key, value from meta").fetchall())
    except duckdb.CatalogException:
        return {}


def _read_every_table(con: duckdb.DuckDBPyConnection) -> None:
    """Read every column of every table once, so that a damaged block fails here, where the snapshot
    can still be rebuilt, not in the middle of the ingest. DuckDB checks each block's checksum as
    it reads it; a copy of the snapshot was just read whole anyway."""
    for (table,) in con.execute(TABLES).fetchall():
        rows = con.table(table)
        if rows.columns:
            rows.aggregate([FunctionExpression("max", FunctionExpression("hash", ColumnExpression(column)))
                            for column in rows.columns]).fetchall()
