"""The demo's field layout: the files as the field sends them hold the rows of the canonical layout.

Every expected figure comes from the layout="contract" run of the same seed, read with pandas,
or from the reference data; the field files are read back here with pandas, csv and openpyxl,
the headers and value words mapped through the contract's own words.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from dashboard.demo.field_layout import LATE_STREET, MISSING_STREET, XLSX_STREET
from dashboard.demo.generate import generate
from dashboard.ingest import contract

DAYS = [date(2022, 1, 4), date(2022, 1, 5), date(2022, 1, 6)]
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    field, canonical = tmp_path_factory.mktemp("field"), tmp_path_factory.mktemp("contract")
    summary = generate(field, days=len(DAYS), end_date=DAYS[-1], seed=42)
    generate(canonical, days=len(DAYS), end_date=DAYS[-1], seed=42, layout="contract")
    return field, canonical, summary


@pytest.fixture(scope="module")
def streets():
    areas = pd.read_csv(REPO / "data" / "reference" / "areas.csv", dtype=str, keep_default_na=False)
    return dict(zip(areas[areas.level == "street"].name, areas[areas.level == "street"].area_code))


def site_kinds() -> dict[str, str]:
    sites = pd.read_csv(REPO / "data" / "reference" / "sites.csv", dtype=str, keep_default_na=False)
    return dict(zip(sites.site_id, sites.kind))


def folder(run: Path, day: date) -> Path:
    return run / "exports" / day.isoformat()


def canonical_rows(run: Path, day: date, kind: contract.FileKind) -> pd.DataFrame:
    return pd.read_csv(folder(run, day) / kind.filename, dtype=str, keep_default_na=False)


def as_canonical(kind: contract.FileKind, header: list[str], rows: list[list]) -> pd.DataFrame:
    """Chinese or English headers to column names, Chinese words to canonical ones, Excel dates
    (2022/1/6 text or date cells) to ISO text: the contract's own spellings, nothing of the demo's."""
    names = {alias: name for name, alias in ((c.name, c.zh) for c in kind.columns)} | {
        c.name: c.name for c in kind.columns}
    frame = pd.DataFrame(rows, columns=[names[h] for h in header], dtype=object).fillna("")
    for column in kind.columns:
        values = frame[column.name]
        if column.type == contract.ENUM:
            words = {zh: en for en, zh in column.values.items()}
            values = values.map(lambda v, words=words: words.get(v, v))
        elif column.type == contract.DATE:
            values = values.map(lambda v: v.date().isoformat() if isinstance(v, datetime)
                                else (date(*map(int, v.split("/"))).isoformat() if "/" in v else v))
        elif column.type == contract.TIMESTAMP:   # Excel's 2022/1/6 8:05 (the demo's checkpoint hours have 0 s)
            values = values.map(lambda v: datetime.strptime(v, "%Y/%m/%d %H:%M").isoformat(" ") if "/" in v else v)
        elif column.type == contract.FLOAT:   # the demo writes coordinates with 5 decimals
            values = values.map(lambda v: v if isinstance(v, str) else f"{v:.5f}")
        elif column.type == contract.INT:
            values = values.map(lambda v: v if isinstance(v, str) else str(v))
        frame[column.name] = values.astype(str)
    return frame[[c.name for c in kind.columns]]


def read_csv_file(path: Path, kind: contract.FileKind) -> pd.DataFrame:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    header, *rows = csv.reader(io.StringIO(text))
    return as_canonical(kind, header, [row for row in rows if row and row[0] != "合计"])


def read_xlsx(path: Path, kind: contract.FileKind, header_row: int) -> pd.DataFrame:
    cells = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    rows = [list(row) for row in cells[header_row:] if not str(row[0]).startswith("填报人")]
    return as_canonical(kind, list(cells[header_row - 1]), rows)


def same_rows(got: pd.DataFrame, expected: pd.DataFrame) -> bool:
    return Counter(map(tuple, got.values.tolist())) == Counter(map(tuple, expected.values.tolist()))


def test_each_day_holds_the_files_the_field_sends(runs, streets):
    field, _, _ = runs
    for day in DAYS:
        last = day == DAYS[-1]
        md, ymd = f"{day:%m%d}", f"{day:%Y%m%d}"
        ledgers = {f"{s}隔离台账{md}" + (".xlsx" if s == XLSX_STREET else ".csv") for s in streets
                   if not (last and s == MISSING_STREET)}
        expected = ledgers | {
            f"二七区封控管控区域台账{md}.xlsx", f"核酸采样_固定点_{ymd}.csv", f"核酸采样_采样车_{ymd}.csv",
            f"卡点排班{md}.csv", f"采样点排班{md}.csv", f"隔离酒店排班{md}.csv", f"社区入户排班{md}.csv",
            f"卡点查验日报{md}.csv", f"入户走访汇总{md}.csv",
        } | ({"说明.txt", "现场照片.jpg", "值班电话.xlsx"} if last else set())
        assert {p.name for p in folder(field, day).iterdir()} == expected
        assert len(expected) == (15 + 9 + 3 if last else 16 + 9)


def test_street_ledgers_hold_exactly_their_streets_rows(runs, streets):
    field, canonical, _ = runs
    for day in DAYS:
        full = canonical_rows(canonical, day, contract.ISOLATION)
        parts = []
        for street, code in streets.items():
            if day == DAYS[-1] and street == MISSING_STREET:
                continue
            if street == XLSX_STREET:
                part = read_xlsx(folder(field, day) / f"{street}隔离台账{day:%m%d}.xlsx", contract.ISOLATION, 3)
            else:
                part = read_csv_file(folder(field, day) / f"{street}隔离台账{day:%m%d}.csv", contract.ISOLATION)
            assert same_rows(part, full[full.area_code.str.startswith(code)]), (day, street)
            parts.append(part)
        sent = full if day != DAYS[-1] else full[~full.area_code.str.startswith(streets[MISSING_STREET])]
        assert sum(map(len, parts)) == len(sent) > 0


def test_street_ledgers_come_as_excel_and_systems_save_them(runs):
    field, _, _ = runs
    styles = set()
    for path in folder(field, DAYS[-1]).glob("*隔离台账*.csv"):
        raw = path.read_bytes()
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = raw.decode("gb18030"), "gb18030"
        chinese = text.startswith("身份证号,")
        assert chinese or text.startswith("case_id,")
        assert ("\r\n" in text) == (encoding == "gb18030"), path.name
        styles.add((encoding, chinese, "居家健康监测" in text))
    # GB18030 with Chinese words, UTF-8 with Chinese words, UTF-8 as the contract spells it
    assert styles == {("gb18030", True, True), ("utf-8", True, True), ("utf-8", False, False)}


def test_the_zone_ledger_is_an_xlsx_with_a_title_row(runs):
    field, canonical, _ = runs
    day = DAYS[-1]
    path = folder(field, day) / f"二七区封控管控区域台账{day:%m%d}.xlsx"
    sheet = openpyxl.load_workbook(path).active
    assert sheet["A1"].value == "二七区封控管控区域台账（2022年1月6日）"
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A1:J1"]
    assert [c.value for c in sheet[2]] == [c.zh for c in contract.CONTROL_ZONES.columns]
    assert isinstance(sheet["F3"].value, datetime)   # 开始日期 is a date cell
    assert same_rows(read_xlsx(path, contract.CONTROL_ZONES, 2),
                     canonical_rows(canonical, day, contract.CONTROL_ZONES))


def test_the_xlsx_street_ledger_has_title_blank_row_header_and_signature(runs):
    field, _, _ = runs
    day = DAYS[-1]
    sheet = openpyxl.load_workbook(folder(field, day) / f"{XLSX_STREET}隔离台账{day:%m%d}.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == f"二七区{XLSX_STREET}隔离人员台账（2022年1月6日）" and not any(rows[1])
    assert list(rows[2]) == [c.zh for c in contract.ISOLATION.columns]
    assert isinstance(rows[3][4], datetime) and isinstance(rows[3][0], str) and len(rows[3][0]) == 18
    assert rows[-1][0].startswith("填报人：") and not any(rows[-1][1:])


def test_testing_senders_split_the_canonical_file_by_site_kind(runs):
    field, canonical, _ = runs
    kinds = site_kinds()
    for day in DAYS:
        expected = (folder(canonical, day) / "testing_records.csv").read_text().splitlines()
        fixed, mobile = ((folder(field, day) / f"核酸采样_{who}_{day:%Y%m%d}.csv").read_text().splitlines()
                         for who in ("固定点", "采样车"))
        assert fixed[0] == mobile[0] == expected[0]
        assert sorted(fixed[1:] + mobile[1:]) == sorted(expected[1:])
        assert {kinds[line.split(",")[3]] for line in fixed[1:]} == {"testing_fixed"}
        assert {kinds[line.split(",")[3]] for line in mobile[1:]} == {"testing_mobile"}


def test_rosters_and_reports_add_up_to_the_canonical_rows(runs):
    field, canonical, _ = runs
    kinds = site_kinds()
    rosters = {"卡点排班": {"checkpoint"}, "采样点排班": {"testing_fixed", "testing_mobile"},
               "隔离酒店排班": {"isolation_hotel"}, "社区入户排班": {"community_office"}}
    for day in DAYS:
        expected = canonical_rows(canonical, day, contract.SHIFTS)
        parts = {name: read_csv_file(folder(field, day) / f"{name}{day:%m%d}.csv", contract.SHIFTS)
                 for name in rosters}
        for name, part in parts.items():
            assert set(part.site_id.map(kinds)) <= rosters[name], name
        assert same_rows(pd.concat(parts.values()), expected)
        for kind, name in ((contract.CHECKPOINT_LOG, "卡点查验日报"), (contract.DOOR_VISITS, "入户走访汇总")):
            assert same_rows(read_csv_file(folder(field, day) / f"{name}{day:%m%d}.csv", kind),
                             canonical_rows(canonical, day, kind)), name


def test_rows_reported_are_the_canonical_rows_less_the_missing_ledger(runs, streets):
    field, canonical, summary = runs
    canonical_count = {k.kind: sum(len(canonical_rows(canonical, d, k)) for d in DAYS) for k in contract.EXPORT_KINDS}
    last = canonical_rows(canonical, DAYS[-1], contract.ISOLATION)
    missing = last.area_code.str.startswith(streets[MISSING_STREET]).sum()
    assert missing > 0
    assert summary["rows"] == {"areas": 167, "sites": 89, **canonical_count,
                               "isolation": canonical_count["isolation"] - missing}


def test_files_arrive_in_the_morning_one_street_late(runs):
    field, _, _ = runs
    for day in DAYS:
        for path in folder(field, day).iterdir():
            arrived = datetime.fromtimestamp(path.stat().st_mtime)
            if day == DAYS[-1] and path.name.startswith(LATE_STREET):
                assert arrived == datetime.combine(day, time(10, 40))
            elif path.name.startswith("二七区封控管控区域台账"):
                assert datetime.combine(day, time(6, 30)) <= arrived < datetime.combine(day, time(8)), path.name
            else:
                assert datetime.combine(day, time(6, 30)) <= arrived <= datetime.combine(day, time(9)), path.name
    times = {datetime.fromtimestamp(p.stat().st_mtime) for p in folder(field, DAYS[0]).iterdir()}
    assert len(times) > 20   # not one time for every file


def test_the_last_day_brings_files_that_are_no_data(runs):
    field, _, _ = runs
    day_folder = folder(field, DAYS[-1])
    photo = (day_folder / "现场照片.jpg").read_bytes()
    assert photo[:3] == b"\xff\xd8\xff" and 100 < len(photo) < 1000
    assert "台账" in (day_folder / "说明.txt").read_bytes().decode("gb18030")
    phones = list(openpyxl.load_workbook(day_folder / "值班电话.xlsx").active.iter_rows(values_only=True))
    assert phones[0] == ("姓名", "电话") and len(phones) > 1
    assert all(name.startswith("值班员") and "xxxx" in phone for name, phone in phones[1:])


def test_reporting_lists_each_street_the_zone_ledger_and_the_testing_senders(runs, streets):
    field, canonical, _ = runs
    raw = (field / "reference" / "reporting.csv").read_text(encoding="utf-8")
    header, *rows = csv.reader(io.StringIO(raw))
    assert header == ["数据类型", "报送单位", "区划代码", "截止时间"]
    assert sorted((s, c, d) for k, s, c, d in rows if k == "隔离台账") == sorted(
        (s, c, "09:00") for s, c in streets.items())
    assert [(s, d) for k, s, _, d in rows if k == "封控管控区域"] == [("二七区封控管控区域台账", "08:00")]
    assert sorted((s, d) for k, s, _, d in rows if k == "核酸采样记录") == [("核酸采样_固定点", ""), ("核酸采样_采样车", "")]
    assert len(rows) == 16 + 1 + 2
    assert not (canonical / "reference" / "reporting.csv").exists()


def test_the_field_layout_is_the_same_every_run(runs, tmp_path):
    field, _, _ = runs
    again = tmp_path / "again"
    generate(again, days=len(DAYS), end_date=DAYS[-1], seed=42)

    def files(run):
        return {str(p.relative_to(run)): (p.read_bytes(), p.stat().st_mtime if "exports" in p.parts else 0)
                for p in sorted(run.rglob("*")) if p.is_file()}
    assert files(again) == files(field)


def test_the_reporting_kind_is_documented():
    text = (REPO / "data" / "README.md").read_text(encoding="utf-8")
    assert "reference/reporting.csv`" in text
    for column in contract.REPORTING.columns:
        assert f"| `{column.name}` | {column.zh} |" in text, column.name
        for value, word in column.values.items():
            assert f"`{value}` {word}" in text
