"""Every line of an export is accounted for: loaded, rejected with its line and reason, or skipped.

Issue 16, items 1, 10 and 13: one stray quote took the rest of a file into one bad row while the
ingest reported success; a very long line took quadratic time and memory; every reject was held
in Python. Expected counts come from the fixture's own arithmetic (tests/fixtures.py) or from
counting the lines of the written file, never from the parser.
"""

from __future__ import annotations

import duckdb
import pytest

from dashboard.data import parse
from dashboard.data.contract import KINDS
from tests.fixtures import TAIGUO, person_id

TESTING = KINDS["testing_records"]
HEADER = "sample_id,person_id,area_code,site_id,round,sampled_at,result"
KNOWN = {"area": {TAIGUO}, "site": {"CP01"}}
KEY = b"k" * 32


def sample(n: int, cells: str | None = None) -> str:
    return cells or f"S{n},{person_id(TAIGUO, n)},{TAIGUO},CP01,1,2022-01-06 08:00,negative"


@pytest.fixture
def con():
    connection = duckdb.connect()
    parse.install_macros(connection)
    yield connection
    connection.close()


def parse_bytes(con, tmp_path, data: bytes):
    path = tmp_path / "testing_records.csv"
    path.write_bytes(data)
    return parse.parse_file(con, path, TESTING, KNOWN, KEY, tmp_path)


# Item 1: one stray quote ------------------------------------------------------------------------


def test_rows_after_consecutive_unreadable_lines_keep_their_line_numbers(con, tmp_path):
    unknown_area = f"S3,{person_id(TAIGUO, 3)},999,CP01,1,2022-01-06 08:00,negative"
    data = "\n".join([HEADER, "1", "1", unknown_area, sample(4), "1", unknown_area.replace("S3", "S6")]) + "\n"
    parsed = parse_bytes(con, tmp_path, data.encode())
    assert sorted((r.line, r.column) for r in parsed.rejects) == [
        (2, ""), (3, ""), (4, "area_code"), (6, ""), (7, "area_code")]
