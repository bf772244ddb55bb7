"""The parser never crashes or hangs, whatever a file holds.

Every file ends one of three ways: loaded, partly rejected with a line and a reason per reject,
or rejected whole with a message that names the file. Property tests (hypothesis) feed every
export kind random bytes, cut files, other delimiters and broken quoting; the named cases below
them are the shapes a command center actually receives. The ingest-level cases check that the
previous snapshot keeps its rows when a broken re-export arrives.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.ingest.build import ingest
from dashboard.ingest.contract import EXPORT_KINDS, KINDS, FileKind
from dashboard.ingest.parse import ParsedFile, UnusableFile, install_macros, parse_file
from dashboard.ingest.partitions import open_snapshot
from dashboard.settings import Settings
from tests.fixtures import DAYS, TAIGUO, build_fixture, person_id

KNOWN = {"area": {TAIGUO}, "site": {"CP01": TAIGUO}}
KEY = b"k" * 32
GOOD_ROWS = {
    "control_zones": f"Z1,{TAIGUO},a,sealed,compound,2022-01-02,,10,,",
    "testing_records": f"S1,{person_id(TAIGUO, 1)},{TAIGUO},CP01,1,2022-01-06 08:00,negative",
    "isolation": f"{person_id(TAIGUO, 1)},{TAIGUO},home,,2022-01-05,2022-01-12,,close contact",
    "shifts": "SH1,W1,name,unit,police,CP01,T1,2022-01-06 08:00,2022-01-06 16:00,done",
    "checkpoint_log": "CP01,2022-01-06 08:00,2022-01-06 09:00,1,2,0,0",
    "door_visits": f"T1,{TAIGUO},2022-01-06,10,20,0",
}
FUZZ = settings(max_examples=8, deadline=5000, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    install_macros(connection)
    yield connection
    connection.close()


def header(kind: FileKind) -> str:
    return ",".join(c.name for c in kind.columns)


def check_outcome(con, tmp_path: Path, kind: FileKind, content: bytes) -> ParsedFile | None:
    """Parse; the file must load (with or without rejects) or be refused naming itself."""
    path = tmp_path / kind.filename
    path.write_bytes(content)
    try:
        parsed = parse_file(con, path, kind, KNOWN, KEY, tmp_path)
    except UnusableFile as error:
        assert str(path) in str(error)
        # That guard is behind the reader: tripping it means the text pass let DuckDB lose lines.
        assert "not accounted for" not in str(error)
        return None
    loaded = parsed.rows.aggregate("count(*)").fetchall()[0][0]
    assert loaded == parsed.rows_loaded
    assert parsed.rows_read == parsed.rows_loaded + parsed.rows_rejected
    # Every line after the header, counted on the bytes, is loaded, rejected or skipped.
    lines = content.count(b"\n") + (not content.endswith(b"\n")) - 1
    assert parsed.rows_loaded + parsed.rows_rejected + parsed.rows_skipped == lines
    for reject in parsed.rejects:
        assert reject.line is not None and reject.line >= 2 and reject.reason
    return parsed


kinds = pytest.mark.parametrize("kind", EXPORT_KINDS, ids=lambda k: k.kind)


@kinds
@FUZZ
@given(content=st.binary(max_size=3000))
def test_random_bytes(con, tmp_path, kind, content):
    check_outcome(con, tmp_path, kind, content)


@kinds
@FUZZ
@given(rows=st.lists(st.text(alphabet=st.sampled_from('ab1,;"\t\n\r 合计０X-:/.年'), max_size=60), max_size=20))
def test_header_then_random_text(con, tmp_path, kind, rows):
    check_outcome(con, tmp_path, kind, (header(kind) + "\n" + "\n".join(rows)).encode())


@kinds
@FUZZ
@given(cut=st.integers(min_value=0, max_value=400), encoding=st.sampled_from(["utf-8", "gb18030"]))
def test_truncated_file(con, tmp_path, kind, cut, encoding):
    whole = (header(kind) + "\n" + (GOOD_ROWS[kind.kind] + "\n") * 3).encode(encoding)
    check_outcome(con, tmp_path, kind, whole[:cut])


@kinds
def test_wrong_delimiter_rejects_the_file_naming_it(con, tmp_path, kind):
    text = (header(kind) + "\n" + GOOD_ROWS[kind.kind] + "\n").replace(",", ";")
    assert check_outcome(con, tmp_path, kind, text.encode()) is None


@kinds
def test_good_row_loads(con, tmp_path, kind):
    parsed = check_outcome(con, tmp_path, kind, (header(kind) + "\n" + GOOD_ROWS[kind.kind] + "\n").encode())
    assert (parsed.rows_loaded, parsed.rejects) == (1, [])


@kinds
def test_unclosed_quote_rejects_its_rows_not_the_good_ones(con, tmp_path, kind):
    good = GOOD_ROWS[kind.kind]
    text = f"{header(kind)}\n{good}\n\"{good}\n"
    parsed = check_outcome(con, tmp_path, kind, text.encode())
    assert parsed.rows_loaded == 1 and [r.line for r in parsed.rejects] == [3]


def test_ten_megabyte_line_is_one_reject(con, tmp_path):
    kind = KINDS["testing_records"]
    good = GOOD_ROWS[kind.kind]
    text = f"{header(kind)}\n{good}\nS2,{'9' * 10_000_000},{TAIGUO},CP01,1,2022-01-06 08:00,negative\n"
    parsed = check_outcome(con, tmp_path, kind, text.encode())
    assert parsed.rows_loaded == 1 and [r.line for r in parsed.rejects] == [3]


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf"], ids=["zero-bytes", "blank", "bom-only"])
def test_empty_file_is_refused_naming_it(con, tmp_path, content):
    assert check_outcome(con, tmp_path, KINDS["testing_records"], content) is None


@kinds
def test_headers_only_loads_nothing(con, tmp_path, kind):
    parsed = check_outcome(con, tmp_path, kind, (header(kind) + "\n").encode())
    assert (parsed.rows_read, parsed.rows_loaded) == (0, 0)


def test_gbk_and_utf8_mixed_in_one_file(con, tmp_path):
    kind = KINDS["testing_records"]
    zh = "样本编号,身份证号,区划代码,点位编号,轮次,采样时间,检测结果\n".encode("gbk")
    row = f"S1,{person_id(TAIGUO, 1)},{TAIGUO},CP01,1,2022-01-06 08:00,阴性\n"
    # Decoded as GB18030 the UTF-8 row becomes other characters: a reject, or a refusal naming
    # the file; never a crash or a row that silently loads.
    parsed = check_outcome(con, tmp_path, kind, zh + row.encode("gbk") + row.replace("S1", "S2").encode())
    assert parsed is None or parsed.rows_loaded <= 1


def _zip_bytes(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


@pytest.mark.parametrize("names", [["testing_records.csv"], ["[Content_Types].xml", "xl/workbook.xml"]],
                         ids=["zip", "xlsx"])
def test_zip_or_xlsx_is_refused_naming_the_file(con, tmp_path, names):
    assert check_outcome(con, tmp_path, KINDS["testing_records"], _zip_bytes(names)) is None


def _rows(settings: Settings, sql: str, **params) -> list[tuple]:
    with open_snapshot(settings.db_path) as con:
        return con.execute(sql, params).fetchall()


@pytest.mark.parametrize("content", [b"", _zip_bytes(["x"]), b"\xff\xfe\x00garbage", b"sample_id;person_id\n"],
                         ids=["zero-bytes", "zip", "binary", "wrong-delimiter"])
def test_a_broken_reexport_keeps_the_previous_rows(tmp_path, content):
    settings = Settings.from_env(build_fixture(tmp_path / "data"), tmp_path / "snapshot.duckdb")
    assert ingest(settings).ok
    count = "select count(*) from testing_records where export_day = $day"
    before = _rows(settings, count, day=DAYS[-1])
    (settings.data_dir / "exports" / DAYS[-1].isoformat() / "testing_records.csv").write_bytes(content)
    [failed] = ingest(settings).failed
    assert "testing_records.csv" in failed.message
    assert _rows(settings, count, day=DAYS[-1]) == before != [(0,)]


def test_trimmed_is_trim_for_every_character_at_either_end(con):
    """parse.sql's trimmed passes a cell by when both its ends are printable ASCII: checked against
    DuckDB's own trim for every character of the Basic Multilingual Plane, at the start, at the
    end, at both, alone, and beside ASCII letters."""
    characters = [chr(c) for c in range(1, 0x10000) if not 0xD800 <= c <= 0xDFFF]
    cells = [cell for c in characters for cell in (c, c + "a", "a" + c, c + "ab" + c, "a" + c + "b")] + ["", None]
    differ = con.execute("select count(*), any_value(cell) from (select unnest($cells) as cell)"
                         " where trimmed(cell) is distinct from trim(cell)", {"cells": cells}).fetchone()
    assert differ[0] == 0, repr(differ[1])
