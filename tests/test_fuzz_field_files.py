"""The new paths of issue 18 never crash or hang the ingest, whatever the field drops in a day folder.

Each file ends as loaded, partly rejected (with file, sheet, row and reason), or unrecognised with
a reason; none fails the ingest or changes a figure it does not hold.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.figures.headline import build_report, default_at
from dashboard.figures.queries import Snapshot
from dashboard.ingest.build import ingest
from dashboard.ingest.contract import ISOLATION
from dashboard.settings import Settings
from tests.fixtures import DAYS, EXPECTED, STREETS, TAIGUO, XINGYUAN, build_fixture, person_id

FUZZ = settings(max_examples=5, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
NEWEST = DAYS[-1].isoformat()
HEADER = [c.zh for c in ISOLATION.columns]
# Two cases of 人和路街道 (台郭, 杏苑), one of them centralized in HT01: each a valid row.
CASE_ROWS = [
    [person_id(TAIGUO, 801), TAIGUO, "居家隔离", "", datetime(2022, 1, 5), datetime(2022, 1, 12), "", "密接"],
    [person_id(XINGYUAN, 802), XINGYUAN, "集中隔离", "HT01", datetime(2022, 1, 6), datetime(2022, 1, 13), "", "密接"],
]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """The canonical fixture's figures of the newest day, for 'nothing else changed'."""
    root = tmp_path_factory.mktemp("baseline")
    settings_ = Settings.from_env(build_fixture(root / "data"), root / "snapshot.duckdb")
    assert ingest(settings_).ok
    snapshot = Snapshot(settings_.db_path)
    report = build_report(snapshot, DAYS[-1], default_at(DAYS[-1]))
    snapshot.close()
    return report


def _ingest_with(tmp_path: Path, name: str, write) -> tuple[Settings, object]:
    data_dir = build_fixture(tmp_path / "data")
    write(data_dir / "exports" / NEWEST / name)
    settings_ = Settings.from_env(data_dir, tmp_path / "snapshot.duckdb")
    return settings_, ingest(settings_)


def _outcome(result, name: str):
    return next(o for o in result.outcomes if o.file.endswith(name))


def _figures(settings_: Settings) -> dict:
    snapshot = Snapshot(settings_.db_path)
    report = build_report(snapshot, DAYS[-1], default_at(DAYS[-1]))
    snapshot.close()
    return report


def _workbook(path: Path, sheets: list[tuple[str, int, list[list]]], last_row: int | None = None) -> None:
    """sheets: (name, header row index from 0, rows with the header first)."""
    book = xlsxwriter.Workbook(str(path))
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, at, rows in sheets:
        sheet = book.add_worksheet(name)
        sheet.write_string(0, 0, "二七区隔离人员台账")
        for r, row in enumerate(rows, start=at):
            for c, value in enumerate(row):
                if isinstance(value, datetime):
                    sheet.write_datetime(r, c, value, dates)
                elif isinstance(value, (int, float)):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, value)
        if last_row:
            sheet.write_string(last_row - 1, 0, "")  # an empty string cell: a sheet a million rows deep
    book.close()


@FUZZ
@given(content=st.binary(min_size=0, max_size=3000))
def test_random_bytes_named_xlsx_are_unrecognised(tmp_path_factory, baseline, content):
    tmp_path = tmp_path_factory.mktemp("bytes")
    settings_, result = _ingest_with(tmp_path, "隔离台账.xlsx", lambda p: p.write_bytes(content))
    assert result.ok, result.failed
    outcome = _outcome(result, "隔离台账.xlsx")
    assert outcome.status == "unrecognised" and outcome.message.startswith(f"exports/{NEWEST}/隔离台账.xlsx: ")
    assert _figures(settings_)["isolation_active"] == baseline["isolation_active"]


def test_a_zip_that_is_no_workbook_is_unrecognised_with_a_reason(tmp_path, baseline):
    def write(path: Path) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("photo.jpg", b"\xff\xd8\xff" + b"x" * 100)
        path.write_bytes(buffer.getvalue())

    settings_, result = _ingest_with(tmp_path, "照片.xlsx", write)
    assert result.ok
    outcome = _outcome(result, "照片.xlsx")
    assert outcome.status == "unrecognised" and "not a table: not a readable workbook" in outcome.message
    assert "photo.jpg" not in outcome.message  # nothing of the file is echoed
    assert _figures(settings_)["samples_on_day"] == baseline["samples_on_day"]


@pytest.mark.parametrize("header_at", [2, 29], ids=["row 3", "row 30"])
def test_a_street_workbook_adds_its_rows_wherever_its_header_is(tmp_path, baseline, header_at):
    name = f"{STREETS[1][1]}补报隔离台账.xlsx"
    settings_, result = _ingest_with(tmp_path, name, lambda p: _workbook(p, [("Sheet1", header_at,
                                                                           [HEADER, *CASE_ROWS])]))
    assert result.ok, result.failed
    outcome = _outcome(result, name)
    assert (outcome.status, outcome.rows_loaded, outcome.rows_rejected) == ("loaded", 2, 0)
    # A street's ledger of the same day is narrower than the district's: it governs 人和路街道,
    # whose cases are now these two (both active on 01-06: one home, one centralized).
    home, monitoring, centralized = EXPECTED[DAYS[-1]]["isolation"]
    active = _figures(settings_)["isolation_active"]
    # 蜜蜂张街道's cases stay as the district ledger has them: C4 (home_monitoring) and C5
    # (centralized in HT02) are active on 01-06 (tests/fixtures.py).
    assert active == {"home": 1, "home_monitoring": 1, "centralized": 2}
    assert (home, monitoring, centralized) != tuple(active.values())  # the street's part did change something


def test_a_million_empty_rows_under_the_table(tmp_path):
    name = f"{STREETS[1][1]}隔离台账.xlsx"
    settings_, result = _ingest_with(tmp_path, name, lambda p: _workbook(p, [("Sheet1", 1, [HEADER, *CASE_ROWS])],
                                                                       last_row=1_000_000))
    assert result.ok, result.failed
    outcome = _outcome(result, name)
    assert (outcome.status, outcome.rows_read, outcome.rows_loaded) == ("loaded", 2, 2)


def test_two_matching_sheets_the_first_is_read_and_the_other_named(tmp_path):
    name = f"{STREETS[1][1]}隔离台账.xlsx"
    settings_, result = _ingest_with(tmp_path, name, lambda p: _workbook(p, [
        ("今日", 1, [HEADER, CASE_ROWS[0]]), ("昨日", 1, [HEADER, *CASE_ROWS])]))
    outcome = _outcome(result, name)
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 1)
    assert "sheet 今日 read" in outcome.message and "昨日" in outcome.message


def test_an_id_number_excel_made_a_number_is_quarantined_with_sheet_and_row(tmp_path):
    name = f"{STREETS[1][1]}隔离台账.xlsx"
    damaged = [float(person_id(TAIGUO, 803)), *CASE_ROWS[0][1:]]
    settings_, result = _ingest_with(tmp_path, name, lambda p: _workbook(p, [("台账", 2, [HEADER, damaged,
                                                                                    CASE_ROWS[1]])]))
    outcome = _outcome(result, name)
    assert (outcome.status, outcome.rows_loaded, outcome.rows_rejected) == ("loaded", 1, 1)
    snapshot = Snapshot(settings_.db_path)
    rejects = snapshot.run("health/rejects", day=DAYS[-1], area="")
    snapshot.close()
    (reject,) = rejects[rejects.file.str.endswith(name)].itertuples()
    # The header is in sheet row 3, the damaged row in row 4.
    assert (reject.line, reject.sheet) == (4, "台账")
    assert "scientific notation" in reject.reason
