"""The bundled example day and the demo generator: the files themselves, and through the real ingest."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from collections import defaultdict
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest

from dashboard.demo.generate import generate
from dashboard.figures.headline import build_report, default_at
from dashboard.figures.queries import Snapshot
from dashboard.ingest import contract
from dashboard.ingest.build import ingest
from dashboard.ingest.partitions import open_snapshot
from dashboard.settings import REFERENCE_DIR, REPO, Settings
from tests.test_demo_field_layout import as_canonical

EXAMPLES = REPO / "data" / "examples" / "2022-01-06"
# What data/examples/README.md says the folder holds: file -> (kind, street whose ledger it is).
EXAMPLE_FILES = {
    "二七区封控管控区域台账0106.xlsx": ("control_zones", None),
    "大学路街道隔离台账0106.xlsx": ("isolation", "大学路街道"),
    "蜜蜂张街道隔离台账0106.csv": ("isolation", "蜜蜂张街道"),
    "人和路街道隔离台账0106.csv": ("isolation", "人和路街道"),
    "核酸采样_固定点_20220106.csv": ("testing_records", None),
    "核酸采样_采样车_20220106.csv": ("testing_records", None),
    "卡点排班0106.csv": ("shifts", None),
    "采样点排班0106.csv": ("shifts", None),
}
# Rows per kind, counted in the files by hand (without headers, titles, signatures and 合计 rows).
EXAMPLE_ROWS = {"control_zones": 5, "isolation": 10, "testing_records": 40, "shifts": 15}
# The ingest reads files by their header row once the contract's reporting file is wired in.
FIELD_INGEST = contract.REPORTING in contract.REFERENCE_KINDS
needs_field_ingest = pytest.mark.skipif(not FIELD_INGEST, reason="the ingest does not yet read field files")


def reference(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / name, dtype=str, keep_default_na=False)


def example_rows(name: str) -> tuple[list[str], list[list]]:
    """Header and data rows of an example file, read with csv or openpyxl."""
    path = EXAMPLES / name
    if path.suffix == ".xlsx":
        cells = [list(row) for row in openpyxl.load_workbook(path).active.iter_rows(values_only=True)]
        return cells[1], [row for row in cells[2:] if not str(row[0]).startswith("填报人")]
    header, *rows = csv.reader(io.StringIO(path.read_bytes().decode("gb18030")))
    return header, [row for row in rows if row[0] != "合计"]


def test_example_day_holds_the_files_its_readme_names():
    assert {p.name for p in EXAMPLES.iterdir()} == set(EXAMPLE_FILES)
    readme = (REPO / "data" / "examples" / "README.md").read_text(encoding="utf-8")
    assert all(readme.count(f"`{name}`") == 2 for name in EXAMPLE_FILES)   # English and Chinese


def test_example_csv_files_are_written_the_way_excel_writes():
    for name in (n for n in EXAMPLE_FILES if n.endswith(".csv")):
        raw = (EXAMPLES / name).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        text = raw.decode("gb18030")
        assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b""), name
        kind = contract.KINDS[EXAMPLE_FILES[name][0]]
        assert text.splitlines()[0] == ",".join(c.zh for c in kind.columns), name
    testing = (EXAMPLES / "核酸采样_固定点_20220106.csv").read_bytes().decode("gb18030")
    assert testing.startswith("样本编号,身份证号") and "\r\n合计," in testing and "/1/6 " in testing


def test_example_xlsx_files_have_a_title_row_above_the_header():
    for name, title in (("二七区封控管控区域台账0106.xlsx", "二七区封控管控区域台账（2022年1月6日）"),
                        ("大学路街道隔离台账0106.xlsx", "二七区大学路街道隔离人员台账（2022年1月6日）")):
        sheet = openpyxl.load_workbook(EXAMPLES / name).active
        kind = contract.KINDS[EXAMPLE_FILES[name][0]]
        assert sheet["A1"].value == title and len(sheet.merged_cells.ranges) == 1
        assert [c.value for c in sheet[2]] == [c.zh for c in kind.columns]
        assert isinstance(sheet.cell(3, [c.name for c in kind.columns].index("started_on") + 1).value, datetime)
    last = list(openpyxl.load_workbook(EXAMPLES / "大学路街道隔离台账0106.xlsx").active.iter_rows(values_only=True))[-1]
    assert last[0].startswith("填报人：")


def test_example_files_split_by_sender():
    streets = reference("areas.csv").set_index("name").area_code
    kinds = reference("sites.csv").set_index("site_id").kind
    counted = defaultdict(int)
    for name, (kind, street) in EXAMPLE_FILES.items():
        header, rows = example_rows(name)
        counted[kind] += len(rows)
        column = dict(zip(header, zip(*rows))) if rows else {}
        if street:
            assert rows and all(code.startswith(streets[street]) for code in column["区划代码"]), name
        if kind in ("testing_records", "shifts"):
            site_kinds = {kinds[site] for site in column["点位编号"]}
            expected = {"固定点": {"testing_fixed"}, "采样车": {"testing_mobile"}, "卡点排班": {"checkpoint"},
                        "采样点排班": {"testing_fixed", "testing_mobile"}}
            assert site_kinds and site_kinds <= next(v for k, v in expected.items() if k in name), name
            total = (EXAMPLES / name).read_bytes().decode("gb18030").splitlines()[-1].split(",")
            assert total[:2] == ["合计", str(len(rows))], name
    assert dict(counted) == EXAMPLE_ROWS


def test_example_rows_are_rows_of_the_demo_day(tmp_path):
    """Until the ingest reads field files, this stands in for loading them: every example row,
    spelled as the contract spells it, is a row of the demo's 2022-01-06 (valid against the reference)."""
    # The demo of 14 days, its last day alone written (the same files whichever days are written).
    generate(tmp_path, days=14, end_date=date(2022, 1, 6), seed=42, layout="contract", only_days=range(13, 14))
    for name, (kind_name, _) in EXAMPLE_FILES.items():
        kind = contract.KINDS[kind_name]
        header, rows = example_rows(name)
        example = as_canonical(kind, header, rows)
        demo = pd.read_csv(tmp_path / "exports" / "2022-01-06" / kind.filename, dtype=str, keep_default_na=False)
        # Only the demo's rows that could be an example's: the same first cell.
        demo = demo[demo.iloc[:, 0].isin(example.iloc[:, 0])].copy()
        if kind_name in ("testing_records", "shifts"):   # Excel dropped the seconds
            for column in (c.name for c in kind.columns if c.type == contract.TIMESTAMP):
                demo[column] = demo[column].str[:16] + ":00"
        demo_rows = set(map(tuple, demo.values.tolist()))
        assert len(example) and set(map(tuple, example.values.tolist())) <= demo_rows, name


@needs_field_ingest
def test_example_day_loads_every_data_row(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(REFERENCE_DIR, data / "reference")
    shutil.copytree(EXAMPLES, data / "exports" / "2022-01-06")
    result = ingest(Settings.from_env(data, tmp_path / "s.duckdb"))
    assert result.ok
    loaded = defaultdict(lambda: [0, 0, 0])
    for outcome in result.outcomes:
        if outcome.status == "loaded":
            for index, count in enumerate((outcome.rows_read, outcome.rows_loaded, outcome.rows_rejected)):
                loaded[outcome.kind][index] += count
    for kind, rows in EXAMPLE_ROWS.items():
        assert loaded[kind] == [rows, rows, 0], kind


def digest(folder) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.csv"))}


def loads_cleanly(data, tmp_path) -> None:
    settings = Settings.from_env(data, tmp_path / "demo.duckdb")
    result = ingest(settings)
    assert result.ok and sum(o.rows_rejected for o in result.outcomes) == 0
    snapshot = Snapshot(settings.db_path)
    report = build_report(snapshot, date(2022, 1, 6), default_at(date(2022, 1, 6)))
    snapshot.close()
    con = open_snapshot(settings.db_path)
    population = con.execute("select sum(population) from areas where level = 'community'").fetchone()[0]
    samples = con.execute("select count(*) from testing_records where sampled_at::date = '2022-01-06'").fetchone()[0]
    con.close()
    assert 900_000 < population < 1_100_000
    assert report["samples_on_day"] == samples > 0
    assert report["zones_active"]["sealed"] > 0 and report["isolation_active"]["centralized"] > 0
    assert 0 < report["round_coverage"] <= 1


def test_generator_is_deterministic_and_loads_cleanly(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    generate(first, days=3, end_date=date(2022, 1, 6), seed=42, layout="contract")
    generate(second, days=3, end_date=date(2022, 1, 6), seed=42, layout="contract")
    assert digest(first) == digest(second) and len(digest(first)) == 2 + 3 * 6
    loads_cleanly(first, tmp_path)


@needs_field_ingest
def test_field_demo_loads_cleanly(tmp_path):
    generate(tmp_path / "field", days=3, end_date=date(2022, 1, 6), seed=42)
    loads_cleanly(tmp_path / "field", tmp_path)
