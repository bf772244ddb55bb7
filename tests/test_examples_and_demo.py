"""The bundled example day and the demo generator, through the real ingest."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date

from dashboard.demo.generate import generate
from dashboard.figures.headline import build_report, default_at
from dashboard.figures.queries import Snapshot
from dashboard.ingest.build import ingest
from dashboard.ingest.partitions import open_snapshot
from dashboard.settings import REFERENCE_DIR, REPO, Settings

EXAMPLES = REPO / "data" / "examples" / "2022-01-06"


def test_example_day_is_written_the_way_excel_writes(tmp_path):
    raw = (EXAMPLES / "testing_records.csv").read_bytes()
    text = raw.decode("gb18030")
    assert not raw.isascii() and b"\r\n" in raw
    try:
        raw.decode("utf-8")
        raise AssertionError("the example should not be UTF-8")
    except UnicodeDecodeError:
        pass
    assert text.startswith("样本编号,身份证号") and "\n合计" in text


def test_example_day_loads_every_data_row(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(REFERENCE_DIR, data / "reference")
    shutil.copytree(EXAMPLES, data / "exports" / "2022-01-06")
    result = ingest(Settings.from_env(data, tmp_path / "s.duckdb"))
    assert result.ok
    loaded = {o.kind: (o.rows_read, o.rows_loaded, o.rows_rejected) for o in result.outcomes if o.status == "loaded"}
    # Counted in the files by hand: data rows, without header and 合计 rows.
    for kind in ("control_zones", "testing_records", "isolation", "shifts"):
        lines = (EXAMPLES / f"{kind}.csv").read_bytes().decode("gb18030").strip().splitlines()
        rows = len([line for line in lines[1:] if not line.startswith("合计")])
        assert loaded[kind] == (rows, rows, 0), kind


def digest(folder) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.csv"))}


def test_generator_is_deterministic_and_loads_cleanly(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    generate(first, days=3, end_date=date(2022, 1, 6), seed=42)
    generate(second, days=3, end_date=date(2022, 1, 6), seed=42)
    assert digest(first) == digest(second) and len(digest(first)) == 2 + 3 * 6
    settings = Settings.from_env(first, tmp_path / "demo.duckdb")
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
