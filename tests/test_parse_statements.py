"""One checking statement per layout (issue 22): the files of one kind and header share the
statement the first of them built, so what differs between them must reach it as data.

Two streets' ledgers of one layout, one after the other on one connection: each file's rows of
the other street are rejected, and the reason names the file's own street. A file with a repeat
after one without (and back) still has its repeat found. And no statement holds anything of a
file: no cell, and not the name of the area the file is of. Expected rejects are written out by
hand from the rows.
"""

from __future__ import annotations

from dashboard.ingest import checks, parse
from dashboard.ingest.contract import KINDS
from tests.fixtures import STREETS, TAIGUO, XIGONGFANG, person_id

TESTING = KINDS["testing_records"]
KNOWN = {"area": {TAIGUO, XIGONGFANG}, "site": {"CP01": TAIGUO}}
KEY = b"k" * 32
HEADER = "sample_id,person_id,area_code,site_id,round,sampled_at,result"
(MIFENGZHANG, MIFENGZHANG_NAME), (RENHELU, RENHELU_NAME) = STREETS  # XIGONGFANG is in 蜜蜂张, TAIGUO in 人和路


def row(sample_id: str, area: str, n: int) -> str:
    return f"{sample_id},{person_id(area, n)},{area},CP01,1,2022-01-06 08:00,negative"


def parse_rows(con, tmp_path, rows: list[str], within=None):
    path = tmp_path / "核酸采样.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return parse.parse_file(con, path, TESTING, KNOWN, KEY, tmp_path, within=within)


def test_two_streets_files_of_one_layout_each_keep_to_their_own_street(con, tmp_path):
    # Lines 2-4: 蜜蜂张 (XIGONGFANG), 人和路 (TAIGUO), 蜜蜂张.
    rows = [row("S1", XIGONGFANG, 1), row("S2", TAIGUO, 2), row("S3", XIGONGFANG, 3)]
    first = parse_rows(con, tmp_path, rows, within=(MIFENGZHANG, MIFENGZHANG_NAME))
    second = parse_rows(con, tmp_path, rows, within=(RENHELU, RENHELU_NAME))
    assert [(r.line, r.column) for r in first.rejects] == [(3, "area_code")]
    assert first.rejects[0].reason.startswith(f"area outside {MIFENGZHANG_NAME} ({MIFENGZHANG})")
    assert [(r.line, r.column) for r in second.rejects] == [(2, "area_code"), (4, "area_code")]
    assert all(r.reason.startswith(f"area outside {RENHELU_NAME} ({RENHELU})") for r in second.rejects)
    # The same rows with no area to keep to: all of them load.
    assert parse_rows(con, tmp_path, rows).rows_loaded == 3


def test_a_repeat_is_found_after_a_file_of_the_same_layout_without_one(con, tmp_path):
    plain = [row("S1", TAIGUO, 1), row("S2", TAIGUO, 2)]
    repeated = [row("S1", TAIGUO, 1), row("S1", TAIGUO, 2), row("S3", TAIGUO, 3)]
    assert parse_rows(con, tmp_path, plain).rows_loaded == 2
    again = parse_rows(con, tmp_path, repeated)
    assert [(r.line, r.reason) for r in again.rejects] == [(3, "duplicate sample_id")]
    assert (parse_rows(con, tmp_path, plain).rows_loaded, parse_rows(con, tmp_path, plain).rows_rejected) == (2, 0)


def test_no_statement_holds_a_cell_or_the_files_area(con, tmp_path):
    name = "测试街道名称"
    parse_rows(con, tmp_path, [row("SAMPLE-XYZ", XIGONGFANG, 7)], within=(MIFENGZHANG, name))
    statements = list(checks._statements.values())
    assert statements
    for text in statements:
        assert name not in text and "SAMPLE-XYZ" not in text and person_id(XIGONGFANG, 7) not in text
        assert MIFENGZHANG not in text and XIGONGFANG not in text
