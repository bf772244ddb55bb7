"""A workbook's table comes out as a CSV the CSV ingest reads, one line per sheet row.

Workbooks are written with xlsxwriter; what each CSV line should hold comes from openpyxl
reading the same file, through expected_text below (written apart from the module), or is
written out by hand. The broken files end as NotATable with a reason that quotes none of
their bytes, and the huge ones in bounded time.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import random
import re
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.ingest import ids
from dashboard.ingest.workbook import HEADER_SEARCH_ROWS, NotATable, header_candidates, read_sheet

HEADER = ["person_id", "area", "tested_at"]
FUZZ = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def recognise(cells: list[str]):
    """Stands in for the ingest's: the contract's header, named by its first column."""
    return "testing_records" if cells == HEADER else None


def write_workbook(path: Path, build) -> Path:
    """build(workbook) adds the sheets."""
    workbook = xlsxwriter.Workbook(path)
    build(workbook)
    workbook.close()
    return path


def csv_lines(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


def expected_text(value) -> str:
    """What a cell read by openpyxl should become, by the rules in the brief."""
    if value is None:
        return ""
    if isinstance(value, str):
        return re.sub(r"\r\n|\r|\n", " ", value.strip())
    if value is True or value is False:
        return str(value).upper()
    if isinstance(value, datetime.datetime):
        # calamine reads a whole day as a date, whatever the cell's format.
        return f"{value:%Y-%m-%d}" if value.time() == datetime.time() else f"{value:%Y-%m-%d %H:%M:%S}"
    if isinstance(value, datetime.time):
        return f"{value:%H:%M:%S}"
    if math.isinf(value):  # xlsxwriter writes the largest float rounded up, past it
        return "-inf" if value < 0 else "inf"
    if abs(value) >= 10**15:
        return re.sub(r"\.?0+E", "E", format(value, ".5E"))
    if value == int(value):
        return str(int(value))
    return repr(float(value))


def sheet_texts(path: Path, sheet: str) -> dict[int, list[str]]:
    """Row number -> cells as text, from column A, as openpyxl reads them."""
    rows = openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True)
    return {number: [expected_text(value) for value in row] for number, row in enumerate(rows, start=1)}


def test_header_below_a_merged_title_and_empty_rows(tmp_path):
    def build(workbook):
        sheet = workbook.add_worksheet("核酸")
        sheet.merge_range("A1:C1", "泰国 testing records, 2022-01-06")
        sheet.write_row(2, 0, HEADER)  # row 3, under an empty row 2
        sheet.write_row(3, 0, ["P1", "泰国", "2022/1/6"])
        sheet.write_row(5, 0, ["P2", "泰国", "2022/1/7"])  # row 5 empty

    path = write_workbook(tmp_path / "t.xlsx", build)
    read = read_sheet(path, tmp_path, recognise)
    assert (read.sheet, read.header_row, read.match, read.notes) == ("核酸", 3, "testing_records", [])
    lines = csv_lines(read.csv_path)
    assert lines == [HEADER, ["P1", "泰国", "2022/1/6"], ["", "", ""], ["P2", "泰国", "2022/1/7"]]
    expected = sheet_texts(path, "核酸")
    for line, cells in enumerate(lines, start=1):
        assert cells == (expected[read.sheet_row(line)] + [""] * 3)[:3]
    assert [read.sheet_row(line) for line in (1, 2, 4)] == [3, 4, 6]


@pytest.mark.parametrize("header_row", [30, HEADER_SEARCH_ROWS])
def test_header_far_down_and_right(tmp_path, header_row):
    def build(workbook):
        sheet = workbook.add_worksheet("S")
        sheet.write_row(header_row - 1, 2, HEADER)  # from column C
        sheet.write_row(header_row, 2, ["P1", "泰国"])

    read = read_sheet(write_workbook(tmp_path / "t.xlsx", build), tmp_path, recognise)
    assert read.header_row == header_row
    assert read.sheet_row(2) == header_row + 1
    assert csv_lines(read.csv_path) == [HEADER, ["P1", "泰国", ""]]


def test_header_below_the_search_is_not_found(tmp_path):
    def build(workbook):
        sheet = workbook.add_worksheet("S")
        sheet.write_row(HEADER_SEARCH_ROWS, 0, HEADER)
        sheet.write_row(HEADER_SEARCH_ROWS + 1, 0, ["P1", "泰国", "2022/1/6"])

    path = write_workbook(tmp_path / "t.xlsx", build)
    assert read_sheet(path, tmp_path, recognise) is None
    assert header_candidates(path) == []


def test_a_value_left_of_the_header_keeps_its_row_too_wide(tmp_path):
    def build(workbook):
        sheet = workbook.add_worksheet("S")
        sheet.write_row(0, 1, HEADER)
        sheet.write_row(1, 0, ["note", "P1", "泰国", "t"])
        sheet.write_row(2, 1, ["P2", "泰国", "t"])

    read = read_sheet(write_workbook(tmp_path / "t.xlsx", build), tmp_path, recognise)
    assert csv_lines(read.csv_path) == [HEADER, ["note", "P1", "泰国", "t"], ["P2", "泰国", "t"]]


def test_rows_are_padded_and_keep_values_past_the_header(tmp_path):
    def build(workbook):
        sheet = workbook.add_worksheet("S")
        blank = workbook.add_format({"bold": True})
        sheet.write_row(0, 0, HEADER)
        sheet.write_row(1, 0, ["P1"])
        sheet.write_row(2, 0, ["P2", "泰国", "t", "", None])
        sheet.write_blank(2, 5, None, blank)
        sheet.write_row(3, 0, ["P3", "泰国", "t", "", "extra"])
        sheet.write_string(6, 0, "   ")  # only spaces: an empty row at the end
        sheet.write_string(9, 2, "", blank)

    read = read_sheet(write_workbook(tmp_path / "t.xlsx", build), tmp_path, recognise)
    assert csv_lines(read.csv_path) == [
        HEADER, ["P1", "", ""], ["P2", "泰国", "t"], ["P3", "泰国", "t", "", "extra"]]
    assert read.csv_path.read_text(encoding="utf-8").endswith("extra\n")


def test_cells_become_the_text_excel_shows(tmp_path):
    values = [3.0, 220106000123, 410103199001011234, 4.1e17, -2e15, 113.65, True, False, "  a\r\nb\nc ", "=1+1"]
    expected = ["3", "220106000123", "4.10103E+17", "4.1E+17", "-2E+15", "113.65", "TRUE", "FALSE", "a b c", "=1+1"]
    when = [datetime.datetime(2022, 1, 6, 8, 30, 5), datetime.datetime(2022, 1, 6), datetime.time(16, 0)]

    def build(workbook):
        sheet = workbook.add_worksheet("S")
        stamp = workbook.add_format({"num_format": "yyyy/m/d hh:mm:ss"})
        clock = workbook.add_format({"num_format": "hh:mm"})
        duration = workbook.add_format({"num_format": "[h]:mm:ss"})
        sheet.write_row(0, 0, [f"c{i}" for i in range(len(values) + 4)])
        for column, value in enumerate(values):
            sheet.write_string(1, column, value) if isinstance(value, str) else sheet.write(1, column, value)
        sheet.write_datetime(1, len(values), when[0], stamp)
        sheet.write_datetime(1, len(values) + 1, when[1], stamp)
        sheet.write_datetime(1, len(values) + 2, when[2], clock)
        sheet.write_number(1, len(values) + 3, 1.5, duration)

    read = read_sheet(write_workbook(tmp_path / "t.xlsx", build), tmp_path, lambda cells: cells[0] == "c0" or None)
    row = csv_lines(read.csv_path)[1]
    assert row == expected + ["2022-01-06 08:30:05", "2022-01-06", "16:00:00", "36:00:00"]
    # The ingest quarantines an ID number Excel has turned into this shape.
    assert re.fullmatch(ids.EXCEL_SCIENTIFIC, row[2]) and re.fullmatch(ids.EXCEL_SCIENTIFIC, row[3])


def test_header_only(tmp_path):
    path = write_workbook(tmp_path / "t.xlsx", lambda workbook: workbook.add_worksheet().write_row(4, 0, HEADER))
    read = read_sheet(path, tmp_path, recognise)
    assert read.csv_path.read_text(encoding="utf-8") == ",".join(HEADER) + "\n"
    assert read.header_row == 5


def test_the_first_matching_sheet_is_read_and_the_others_noted(tmp_path):
    def build(workbook):
        workbook.add_worksheet("封面").write(0, 0, "cover")
        for name in ("泰国", "汇总"):
            sheet = workbook.add_worksheet(name)
            sheet.write_row(0, 0, HEADER)
            sheet.write_row(1, 0, [f"P-{name}", name, "t"])

    read = read_sheet(write_workbook(tmp_path / "t.xlsx", build), tmp_path, recognise)
    assert read.sheet == "泰国"
    assert csv_lines(read.csv_path)[1] == ["P-泰国", "泰国", "t"]
    assert read.notes == ["sheet 汇总 also has a matching header: not read"]


def test_hidden_sheets_are_not_read(tmp_path):
    def build(workbook):
        for name in ("old", "new"):
            sheet = workbook.add_worksheet(name)
            sheet.write_row(0, 0, HEADER)
            sheet.write_row(1, 0, [name, "a", "t"])
        workbook.get_worksheet_by_name("new").activate()
        workbook.get_worksheet_by_name("old").hide()

    read = read_sheet(write_workbook(tmp_path / "t.xlsx", build), tmp_path, recognise)
    assert (read.sheet, csv_lines(read.csv_path)[1][0]) == ("new", "new")
    assert read.notes == ["hidden sheet old has a matching header: not read"]


def test_header_candidates_show_the_fullest_row_of_the_first_sheet(tmp_path):
    def build(workbook):
        sheet = workbook.add_worksheet("S")
        sheet.merge_range("A1:D1", "title")
        sheet.write_row(2, 1, ["身份证号", "区", "", "时间"])
        sheet.write_row(3, 0, ["x", "y"])
        workbook.add_worksheet("T").write_row(0, 0, ["a", "b", "c", "d", "e", "f"])

    path = write_workbook(tmp_path / "t.xlsx", build)
    assert read_sheet(path, tmp_path, recognise) is None
    assert header_candidates(path) == [("S", 3, ["身份证号", "区", "", "时间"])]


def test_empty_sheets(tmp_path):
    def build(workbook):
        workbook.add_worksheet("a")
        workbook.add_worksheet("b").write_blank(3, 3, None, workbook.add_format({"bold": True}))

    path = write_workbook(tmp_path / "t.xlsx", build)
    assert read_sheet(path, tmp_path, recognise) is None
    assert header_candidates(path) == []


def zip_of(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


SECRET = "410103199001011234 secret"


@pytest.mark.parametrize("content", [
    random.Random(42).randbytes(5000) + SECRET.encode(),
    b"",
    SECRET.encode(),
    zip_of({"notes.txt": SECRET}),
    zip_of({"[Content_Types].xml": "<Types/>", "_rels/.rels": f"<{SECRET}", "xl/workbook.xml": f"<{SECRET}"}),
], ids=["random", "empty", "text", "zip", "broken-xlsx"])
def test_not_a_workbook(tmp_path, content):
    path = tmp_path / "testing_records.xlsx"
    path.write_bytes(content)
    for read in (lambda: read_sheet(path, tmp_path, recognise), lambda: header_candidates(path)):
        with pytest.raises(NotATable, match="not a readable workbook") as refused:
            read()
        assert "secret" not in str(refused.value) and "4101" not in str(refused.value)


def test_a_million_empty_rows_below_the_table(tmp_path):
    def build(workbook):
        sheet = workbook.add_worksheet("S")
        sheet.write_row(0, 0, HEADER + [f"c{i}" for i in range(7)])
        sheet.write_row(1, 0, ["P1", "泰国", "t"])
        sheet.write_string(999_999, 9, "", workbook.add_format({"bold": True}))
        sheet.write_string(1_048_575, 9, " ")

    path = write_workbook(tmp_path / "t.xlsx", build)
    start = time.monotonic()
    read = read_sheet(path, tmp_path, lambda cells: cells[:3] == HEADER or None)
    assert time.monotonic() - start < 10
    assert [line[:3] for line in csv_lines(read.csv_path)] == [HEADER, ["P1", "泰国", "t"]]


def test_a_sheet_stretched_to_the_last_cell_is_refused(tmp_path):
    """calamine would allocate 550 GB for it and abort the process."""
    def build(workbook):
        sheet = workbook.add_worksheet("S")
        sheet.write_row(0, 0, HEADER)
        sheet.write_string(1_048_575, 16_383, " ")

    path = write_workbook(tmp_path / "t.xlsx", build)
    with pytest.raises(NotATable, match="memory"):
        read_sheet(path, tmp_path, recognise)


def test_a_symbolic_link_is_not_followed(tmp_path):
    target = write_workbook(tmp_path / "t.xlsx", lambda workbook: workbook.add_worksheet().write_row(0, 0, HEADER))
    (tmp_path / "link.xlsx").symlink_to(target)
    with pytest.raises(Exception, match="symbolic link"):
        read_sheet(tmp_path / "link.xlsx", tmp_path, recognise)


# Text with the characters a CSV must quote, line breaks, CJK and full-width forms. No control
# characters (an .xlsx cannot hold them) but \n and \t, and no \r: xlsxwriter writes it as _x000D_,
# which calamine reads back as \r, as Excel does, and openpyxl leaves as it is (the \r\n case
# is in test_cells_become_the_text_excel_shows). No surrogates.
cell_strings = st.text(st.one_of(st.sampled_from(list(' ,"\n\t　１泰国')),
                                 st.characters(blacklist_categories=["Cc", "Cs"])), max_size=12)
cell_values = st.one_of(
    st.none(), cell_strings, st.booleans(),
    st.integers(-10**17, 10**17),
    st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(datetime.datetime(1900, 3, 1), datetime.datetime(2100, 1, 1)).map(lambda d: d.replace(microsecond=0)),
)


@FUZZ
@given(rows=st.lists(st.lists(cell_values, max_size=5), max_size=8))
def test_fuzz_cells_read_back_as_openpyxl_reads_them(tmp_path, rows):
    path = tmp_path / "fuzz.xlsx"

    def build(workbook):
        sheet = workbook.add_worksheet("S")
        stamp = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        sheet.write_row(0, 0, HEADER)
        for number, row in enumerate(rows, start=1):
            for column, value in enumerate(row):
                if isinstance(value, str):
                    sheet.write_string(number, column, value)
                elif isinstance(value, datetime.datetime):
                    sheet.write_datetime(number, column, value, stamp)
                elif value is not None:
                    sheet.write(number, column, value)

    write_workbook(path, build)
    read = read_sheet(path, tmp_path, recognise)
    texts = sheet_texts(path, "S")
    expected = []
    for number in range(2, max(texts) + 1):
        cells = texts[number]
        while len(cells) > 3 and not cells[-1]:
            cells = cells[:-1]
        expected.append(cells + [""] * (3 - len(cells)))
    while expected and not any(expected[-1]):
        expected.pop()
    assert csv_lines(read.csv_path) == [HEADER] + expected
