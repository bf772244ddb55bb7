"""A repeated unique value is rejected on every line after its first, as before issue 22.

Issue 22, item 1: the duplicate check's window runs only on a column where some value appears
twice; elsewhere no row can be a repeat. These files sit on both sides of that line: a repeat seen
only after trimming, a repeat whose first line is rejected for another reason, a repeat whose
first line is a skipped summary row. Expected lines are written out by hand from the files.
"""

from __future__ import annotations

from collections import Counter

import pytest

from dashboard.ingest import checks, parse
from dashboard.ingest.contract import KINDS
from tests.fixtures import TAIGUO, person_id

TESTING = KINDS["testing_records"]
KNOWN = {"area": {TAIGUO}, "site": {"CP01": TAIGUO}}
KEY = b"k" * 32


def parse_text(con, tmp_path, header: str, rows: list[str]):
    path = tmp_path / "testing_records.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return parse.parse_file(con, path, TESTING, KNOWN, KEY, tmp_path)


def row(sample_id: str, n: int, round_: str = "1") -> str:
    return f"{sample_id},{person_id(TAIGUO, n)},{TAIGUO},CP01,{round_},2022-01-06 08:00,negative"


HEADER = "sample_id,person_id,area_code,site_id,round,sampled_at,result"


def test_no_repeat_loads_every_row(con, tmp_path):
    parsed = parse_text(con, tmp_path, HEADER, [row(f"S{n}", n) for n in range(1, 6)])
    assert (parsed.rows_loaded, parsed.rows_rejected) == (5, 0)


def test_repeat_seen_only_after_trimming(con, tmp_path):
    # Lines 2-4: S1, " S1 " (the same value once trimmed), S2.
    parsed = parse_text(con, tmp_path, HEADER, [row("S1", 1), row(" S1 ", 2), row("S2", 3)])
    assert (parsed.rows_loaded, parsed.rows_rejected) == (2, 1)
    assert [(r.line, r.column, r.reason) for r in parsed.rejects] == [(3, "sample_id", "duplicate sample_id")]


def test_repeat_of_a_rejected_line_is_still_a_repeat(con, tmp_path):
    # Line 2 fails its round; line 3 repeats its sample_id: both are rejected, each with its reason.
    parsed = parse_text(con, tmp_path, HEADER, [row("S1", 1, round_="x"), row("S1", 2), row("S3", 3)])
    assert [(r.line, r.column, r.reason) for r in parsed.rejects] == [
        (2, "round", "not a whole number"), (3, "sample_id", "duplicate sample_id")]
    assert parsed.rows_loaded == 1


def test_repeat_of_a_summary_row_is_no_repeat(con, tmp_path):
    # result comes first: line 2 is Excel's total row, skipped, though it carries S1 as well.
    header = "result,sample_id,person_id,area_code,site_id,round,sampled_at"
    rows = ["合计,S1,,,,,", f"negative,S1,{person_id(TAIGUO, 1)},{TAIGUO},CP01,1,2022-01-06 08:00",
            f"negative,S2,{person_id(TAIGUO, 2)},{TAIGUO},CP01,1,2022-01-06 08:00"]
    parsed = parse_text(con, tmp_path, header, rows)
    assert (parsed.rows_loaded, parsed.rows_rejected, parsed.rows_skipped) == (2, 0, 1)


@pytest.mark.parametrize("values", [["a", "b", "c"], ["a", " a", "b"], ["", "", "x"], ["", "x", "x"], []])
def test_repeated_names_the_columns_with_a_repeat(con, values):
    con.execute("create or replace temp table cells as"
                " select unnest($v::varchar[]) as sample_id, unnest($w::varchar[]) as zone_id",
                {"v": values, "w": ["z"] * len(values)})
    cells = con.table("cells")
    trimmed = cells.select(*[checks.cell_text(name).alias(name) for name in ("sample_id", "zone_id")])
    # Counted in Python: a non-empty value, once stripped, on two rows.
    expected = {name for name, column in (("sample_id", values), ("zone_id", ["z"] * len(values)))
                if any(n > 1 for value, n in Counter(v.strip() for v in column).items() if value)}
    unique = ("sample_id", "zone_id")
    assert checks.repeated_in(con, checks.repeats_query(trimmed, unique), unique) == expected
