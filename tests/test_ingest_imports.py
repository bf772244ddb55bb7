"""`python -m dashboard ingest` does without pandas and numpy (issue 22): importing them was about
0.4 s of every ingest's start, a third of an ingest that finds nothing changed. The fixture has a
boundaries file, and one of its files is given a bad line, so the ingest stores both on the way.
"""

from __future__ import annotations

import subprocess
import sys

import duckdb

from tests.fixtures import build_fixture

# The ingest's own command line, run as `python -m dashboard` runs it, then what it imported.
RUN = """
import runpy, sys
sys.argv = ["dashboard", "ingest", "--data", sys.argv[1], "--db", sys.argv[2]]
try:
    runpy.run_module("dashboard", run_name="__main__")
except SystemExit as done:
    code = done.code
print("exit", code, "pandas" in sys.modules, "numpy" in sys.modules, file=sys.stderr)
"""


def test_an_ingest_imports_neither_pandas_nor_numpy(tmp_path):
    root = build_fixture(tmp_path / "data")
    ledger = sorted((root / "exports").glob("*/*.csv"))[-1]
    with ledger.open("a", encoding="utf-8") as f:
        f.write("a row,of the wrong width\n")
    done = subprocess.run([sys.executable, "-c", RUN, str(root), str(tmp_path / "snapshot.duckdb")],
                          capture_output=True, text=True, timeout=300)
    assert done.stderr.strip().splitlines()[-1] == "exit 0 False False", done.stderr
    with duckdb.connect(str(tmp_path / "snapshot.duckdb"), read_only=True) as con:
        rejects, boundaries = con.execute("select (select count(*) from rejects), (select count(*) from boundaries)"
                                          ).fetchall()[0]
    assert rejects > 0 and boundaries > 0
