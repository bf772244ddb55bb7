"""Files as the field sends them (issue 18): the hand-computed fixture, reshaped the way street
offices, sampling systems and posts send it, must give the same figures as its canonical layout.

Reshaped: each street's isolation ledger on its own, one of them a workbook with a title row and
a signature line; the zone ledger a workbook; testing from two senders, who both sent a few of the
same samples; each post's own roster; a note, a photo and a phone list beside them.
"""

from __future__ import annotations

import csv
import os
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
import xlsxwriter

from dashboard.figures.headline import build_report, default_at
from dashboard.figures.queries import Snapshot
from dashboard.ingest import contract
from dashboard.ingest.build import ingest
from tests.fixtures import DAYS, EXPECTED, STREETS, build_fixture

SHARED_SAMPLES = 5  # rows of the fixed sites' file that the mobile vehicles' file repeats


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> None:
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_workbook(path: Path, title: str, header: list[str], rows: list[list[str]], signature: bool = True) -> None:
    """A ledger as a street office keeps it: a merged title row, the header in row 3, dates as date cells."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("台账")
    dates = book.add_format({"num_format": "yyyy/m/d"})
    sheet.merge_range(0, 0, 0, len(header) - 1, title)
    sheet.write_row(2, 0, header)
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row):
            if len(value) == 10 and value[4] == "-" and value[7] == "-":
                sheet.write_datetime(r, c, datetime.fromisoformat(value), dates)
            elif value.isdigit() and len(value) < 12:
                sheet.write_number(r, c, int(value))  # a number Excel keeps as a number
            else:
                sheet.write_string(r, c, value)
    if signature:
        sheet.write_string(len(rows) + 4, 0, "填报人：王某某    联系电话：0371-0000000")
    book.close()


def chinese(kind: contract.FileKind, header: list[str]) -> list[str]:
    return [kind.column(name).zh for name in header]


def reshape(data_dir: Path) -> None:
    """The canonical fixture, sent the way the field sends it; every row still sent once or more."""
    for day in DAYS:
        folder = data_dir / "exports" / day.isoformat()
        mmdd = f"{day:%m%d}"
        header, cases = read_rows(folder / "isolation.csv")
        (folder / "isolation.csv").unlink()
        for number, (code, name) in enumerate(STREETS):
            mine = [row for row in cases if row[header.index("area_code")].startswith(code)]
            if number == 0:
                write_csv(folder / f"{name}隔离台账{mmdd}.csv", chinese(contract.ISOLATION, header), mine, "gb18030")
            else:
                write_workbook(folder / f"{name}隔离台账{mmdd}.xlsx", f"二七区{name}隔离人员台账（{day:%Y年%m月%d日}）",
                               chinese(contract.ISOLATION, header), mine)
        header, zones = read_rows(folder / "control_zones.csv")
        (folder / "control_zones.csv").unlink()
        write_workbook(folder / f"二七区封控管控区域台账{mmdd}.xlsx", "封控管控区域台账", header, zones, signature=False)
        header, samples = read_rows(folder / "testing_records.csv")
        (folder / "testing_records.csv").unlink()
        site = header.index("site_id")
        fixed = [row for row in samples if row[site] == "TS01"]
        mobile = [row for row in samples if row[site] != "TS01"]
        write_csv(folder / f"核酸采样_固定点_{day:%Y%m%d}.csv", header, fixed)
        write_csv(folder / f"核酸采样_采样车_{day:%Y%m%d}.csv", header, mobile + fixed[:SHARED_SAMPLES])
        header, shifts = read_rows(folder / "shifts.csv")
        (folder / "shifts.csv").unlink()
        for post in sorted({row[header.index("site_id")] for row in shifts}):
            write_csv(folder / f"{post}排班表{mmdd}.csv", chinese(contract.SHIFTS, header),
                      [row for row in shifts if row[header.index("site_id")] == post])
        for name, new in (("checkpoint_log.csv", f"卡点查验日报{mmdd}.csv"), ("door_visits.csv", f"入户走访{mmdd}.csv")):
            if (folder / name).exists():
                (folder / name).rename(folder / new)
        (folder / "说明.txt").write_text("今日数据已报送，如有疑问请联系指挥部。\n", encoding="utf-8")
        (folder / "现场照片.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
        book = xlsxwriter.Workbook(str(folder / "值班电话.xlsx"))
        book.add_worksheet().write_row(0, 0, ["姓名", "电话"])
        book.close()


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    from dashboard.settings import Settings

    root = tmp_path_factory.mktemp("field")
    data_dir = build_fixture(root / "data")
    reshape(data_dir)
    settings = Settings.from_env(data_dir, root / "snapshot.duckdb")
    result = ingest(settings)
    return settings, result


def test_nothing_fails_and_every_extra_file_is_named(field):
    _, result = field
    assert result.ok, result.failed
    unrecognised = {o.file.rsplit("/", 1)[-1]: o.message for o in result.outcomes if o.status == "unrecognised"}
    for day in DAYS:
        assert {o.file for o in result.outcomes if o.status == "unrecognised" and o.day == day} == {
            f"exports/{day.isoformat()}/{name}" for name in ("说明.txt", "现场照片.jpg", "值班电话.xlsx")}
    assert unrecognised["现场照片.jpg"].endswith("not a table (a .jpg file)")
    assert "not recognised as an export" in unrecognised["说明.txt"]
    assert "no sheet is an export" in unrecognised["值班电话.xlsx"]
    # No feed of any day reads as missing: every kind arrived, under other names.
    assert [o for o in result.outcomes if o.status == "missing" and not contract.KINDS[o.kind].optional] == []


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_the_figures_are_the_canonical_ones(field, day):
    settings, _ = field
    snapshot = Snapshot(settings.db_path)
    report = build_report(snapshot, day, default_at(day))
    snapshot.close()
    expected = EXPECTED[day]
    assert tuple(report["zones_active"].values()) == expected["zones"]
    assert report["population_sealed"] == expected["sealed_population"]
    # The samples both testing senders sent count once.
    assert report["samples_on_day"] == expected["samples"]
    assert report["positives_on_day"] == expected["positives"]
    assert report["round_coverage"] == expected["coverage"]
    assert tuple(report["isolation_active"].values()) == expected["isolation"]
    assert report["releases_due_next_day"] == expected["releases"]
    assert report["hotel_occupancy"] == expected["occupancy"]
    assert report["staff_on_duty"] == expected["on_duty"]
    assert report["posts_understaffed"] == expected["understaffed"]


def test_a_workbook_names_its_sheet_and_rows(field):
    settings, result = field
    book = next(o for o in result.outcomes if o.file.endswith(f"人和路街道隔离台账{DAYS[0]:%m%d}.xlsx"))
    assert book.status == "loaded" and "sheet 台账 read" in book.message
    # The signature line under the table is no row: read counts the cases only.
    _, cases = read_rows(Path(build_fixture(settings.db_path.parent / "again")) / "exports" / DAYS[0].isoformat()
                         / "isolation.csv")
    assert book.rows_read == book.rows_loaded == sum(1 for row in cases if row[1].startswith(STREETS[1][0]))


def _moved_day(settings, street: int, *, keep_header: bool) -> None:
    """The last day's ledger of one street: removed, or sent with its header only."""
    folder = settings.data_dir / "exports" / DAYS[2].isoformat()
    path = next(folder.glob(f"{STREETS[street][1]}隔离台账*"))
    if keep_header:
        header = path.read_bytes().splitlines(keepends=True)[0]
        path.write_bytes(header)
    else:
        path.unlink()


def _active_on(day: date, street: int, ledger_day: date) -> int:
    """Cases of the street active on day in the fixture's ledger of ledger_day (tests/fixtures.py)."""
    from tests.fixtures import CASE_LEDGER, CASES

    active = 0
    for case, ended in CASE_LEDGER[ledger_day].items():
        community, _, _, started, _ = CASES[case]
        if community.startswith(STREETS[street][0]) and started <= day.isoformat() and (
                not ended or ended > day.isoformat()):
            active += 1
    return active


def test_a_street_that_did_not_send_keeps_its_last_part(tmp_path):
    from dashboard.settings import Settings

    data_dir = build_fixture(tmp_path / "data")
    reshape(data_dir)
    settings = Settings.from_env(data_dir, tmp_path / "snapshot.duckdb")
    _moved_day(settings, 0, keep_header=False)
    assert ingest(settings).ok
    snapshot = Snapshot(settings.db_path)
    report = build_report(snapshot, DAYS[2], default_at(DAYS[2]))
    reporting = snapshot.run("health/reporting", day=DAYS[2], area="")
    snapshot.close()
    # 蜜蜂张街道 sent nothing on 01-06: its cases come from its 01-05 part, judged on 01-06;
    # 人和路街道's from its own 01-06 part. Worked from the fixture's ledgers, street by street.
    expected = _active_on(DAYS[2], 0, DAYS[1]) + _active_on(DAYS[2], 1, DAYS[2])
    assert sum(report["isolation_active"].values()) == expected
    missing = reporting[reporting.status == "missing"]
    assert list(zip(missing.kind, missing.sender_name)) == [("isolation", STREETS[0][1])]
    # Every other sender of the day arrived.
    assert set(reporting.status) == {"missing", "received"}


def test_a_header_only_street_ledger_means_nothing_active_there(tmp_path):
    from dashboard.settings import Settings

    data_dir = build_fixture(tmp_path / "data")
    reshape(data_dir)
    settings = Settings.from_env(data_dir, tmp_path / "snapshot.duckdb")
    _moved_day(settings, 0, keep_header=True)
    result = ingest(settings)
    assert result.ok, result.failed
    snapshot = Snapshot(settings.db_path)
    report = build_report(snapshot, DAYS[2], default_at(DAYS[2]))
    snapshot.close()
    assert sum(report["isolation_active"].values()) == _active_on(DAYS[2], 1, DAYS[2])


def test_a_copy_replaces_its_sender_only_and_is_a_correction(tmp_path):
    from dashboard.settings import Settings

    data_dir = build_fixture(tmp_path / "data")
    reshape(data_dir)
    settings = Settings.from_env(data_dir, tmp_path / "snapshot.duckdb")
    assert ingest(settings).ok
    folder = data_dir / "exports" / DAYS[2].isoformat()
    fixed = folder / f"核酸采样_固定点_{DAYS[2]:%Y%m%d}.csv"
    header, rows = read_rows(fixed)
    copy = folder / f"核酸采样_固定点_{DAYS[2]:%Y%m%d}(1).csv"
    write_csv(copy, header, rows[:-10])  # a corrected re-send: 10 samples fewer
    later = fixed.stat().st_mtime + 60
    os.utime(copy, (later, later))
    result = ingest(settings)
    assert result.ok, result.failed
    assert any(o.status == "skipped" and o.file.endswith(fixed.name) and "older copy" in o.message
               for o in result.outcomes)
    snapshot = Snapshot(settings.db_path)
    report = build_report(snapshot, DAYS[2], default_at(DAYS[2]))
    snapshot.close()
    # 10 fewer from the fixed sites; the mobile sender's rows untouched (its repeats of the
    # first samples still count once).
    assert report["samples_on_day"] == EXPECTED[DAYS[2]]["samples"] - 10
    (correction,) = [c for c in report["corrections"] if c["kind"] == "testing_records"]
    assert correction["day"] == DAYS[2].isoformat()
    assert (correction["before"]["rows"], correction["after"]["rows"]) == (len(rows), len(rows) - 10)
    # Taking the copy away again brings the first file back, whole.
    copy.unlink()
    assert ingest(settings).ok
    snapshot = Snapshot(settings.db_path)
    assert build_report(snapshot, DAYS[2], default_at(DAYS[2]))["samples_on_day"] == EXPECTED[DAYS[2]]["samples"]
    snapshot.close()


def test_a_street_ledger_row_of_another_street_is_rejected(tmp_path):
    from dashboard.settings import Settings

    data_dir = build_fixture(tmp_path / "data")
    reshape(data_dir)
    folder = data_dir / "exports" / DAYS[0].isoformat()
    ledger = folder / f"{STREETS[0][1]}隔离台账{DAYS[0]:%m%d}.csv"
    text = ledger.read_bytes().decode("gb18030").splitlines()
    other = next(row for row in csv.reader(
        (build_fixture(tmp_path / "canonical") / "exports" / DAYS[0].isoformat() / "isolation.csv").open())
        if row[1].startswith(STREETS[1][0]))
    ledger.write_bytes(("\r\n".join(text + [",".join(other)]) + "\r\n").encode("gb18030"))
    settings = Settings.from_env(data_dir, tmp_path / "snapshot.duckdb")
    result = ingest(settings)
    outcome = next(o for o in result.outcomes if o.file.endswith(ledger.name))
    assert outcome.rows_rejected == 1
    snapshot = Snapshot(settings.db_path)
    rejects = snapshot.run("health/rejects", day=DAYS[0], area="")
    snapshot.close()
    assert any("area outside 蜜蜂张街道" in reason for reason in rejects.reason)
    shutil.rmtree(tmp_path / "canonical")
