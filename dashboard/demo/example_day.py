"""The Excel-style example day in data/examples/: a slice of the demo written as a Chinese Excel
would save it. Rebuilt with `python -m dashboard.demo`."""

from __future__ import annotations

import csv
import tempfile
from datetime import date
from pathlib import Path

import pandas as pd

from dashboard.demo.reference import EXAMPLES_DIR, SEED
from dashboard.ingest import contract

EXAMPLE_DAY = date(2022, 1, 6)
EXAMPLE_DAY_DIR = EXAMPLES_DIR / EXAMPLE_DAY.isoformat()
EXAMPLE_ROWS = {"control_zones": 5, "testing_records": 40, "isolation": 10, "shifts": 15}
SUMMARY_ROW_KINDS = {"testing_records", "shifts"}


def excel_date(text: str) -> str:
    """2022-01-06 -> 2022/1/6, the way Excel shows a date in a Chinese locale."""
    if not text:
        return ""
    year, month, day = text[:10].split("-")
    return f"{int(year)}/{int(month)}/{int(day)}"


def excel_timestamp(text: str) -> str:
    """2022-01-06 08:05:03 -> 2022/1/6 8:05 (Excel drops the seconds and the leading zero)."""
    if not text:
        return ""
    hour, minute = text[11:16].split(":")
    return f"{excel_date(text)} {int(hour)}:{minute}"


def example_zones(frame: pd.DataFrame) -> pd.DataFrame:
    live = frame[frame.lifted_on == ""]
    return pd.concat([
        frame[frame.lifted_on != ""].head(1),
        live[(live.level == "sealed") & (live.scope == "building")].tail(1),
        live[(live.level == "sealed") & (live.scope == "community")].tail(1),
        live[live.level == "controlled"].tail(1),
        live[live.level == "precaution"].tail(1),
    ])


def example_tests(frame: pd.DataFrame) -> pd.DataFrame:
    """A few positives and pending results among negatives spread over the day."""
    positives = frame[frame.result == "positive"].head(3)
    pending = frame[frame.result == "pending"].sample(3, random_state=SEED)
    negatives = frame[frame.result == "negative"].sample(34, random_state=SEED)
    return pd.concat([positives, pending, negatives]).sort_values("sampled_at")


def example_isolation(frame: pd.DataFrame) -> pd.DataFrame:
    from dashboard.demo.population import CASE_REASON

    live = frame[frame.ended_on == ""]
    contacts = live[live.reason == "密切接触者"]
    return pd.concat([
        live[(live.reason == CASE_REASON) & (live.site_id != "")].tail(1),
        contacts[contacts.kind == "centralized"].tail(3),
        contacts[contacts.kind == "home"].tail(1),
        live[live.reason == "次密切接触者"].tail(2),
        live[live.kind == "home_monitoring"].tail(2),
        frame[frame.ended_on != ""].tail(1),
    ])


def example_shifts(frame: pd.DataFrame) -> pd.DataFrame:
    """The night crew of the 郑州西南站 checkpoint, an absentee and a mix of other posts.
    Door-to-door team rows are left out: their offices have no minimum staffing."""
    posts = frame[frame.team_id == ""]
    night_crew = posts[(posts.site_id == "CP01") & posts.starts_at.str.endswith(" 00:00:00")]
    absent = posts[posts.status == "absent"].head(1)
    others = posts.drop(night_crew.index.union(absent.index))
    others = others.sample(EXAMPLE_ROWS["shifts"] - len(night_crew) - len(absent), random_state=SEED)
    return pd.concat([night_crew, absent, others]).sort_values(["starts_at", "site_id"], kind="stable")


EXAMPLE_PICKERS = {
    "control_zones": example_zones,
    "testing_records": example_tests,
    "isolation": example_isolation,
    "shifts": example_shifts,
}


def to_excel_style(kind: contract.FileKind, frame: pd.DataFrame) -> list[list[str]]:
    rows = []
    for record in frame.to_dict("records"):
        row = []
        for column in kind.columns:
            value = record[column.name]
            if column.type == contract.ENUM and value:
                value = column.values[value]
            elif column.type == contract.DATE:
                value = excel_date(value)
            elif column.type == contract.TIMESTAMP:
                value = excel_timestamp(value)
            row.append(value)
        rows.append(row)
    return rows


def write_examples(target: Path = EXAMPLE_DAY_DIR) -> dict[str, int]:
    """One small export day as a Chinese Excel would save it: GB18030, 中文表头, 2022/1/6 dates,
    CRLF line ends and a trailing 合计 row. The rows are a slice of the demo generator's
    output for 2022-01-06, so each of them is valid against the reference data."""
    from dashboard.demo.generate import generate

    target.mkdir(parents=True, exist_ok=True)
    written = {}
    with tempfile.TemporaryDirectory() as scratch:
        generate(Path(scratch), days=14, end_date=EXAMPLE_DAY, seed=SEED)
        day_dir = Path(scratch) / "exports" / EXAMPLE_DAY.isoformat()
        for name in EXAMPLE_ROWS:
            kind = contract.KINDS[name]
            frame = pd.read_csv(day_dir / kind.filename, dtype=str, keep_default_na=False)
            rows = to_excel_style(kind, EXAMPLE_PICKERS[name](frame))
            if name in SUMMARY_ROW_KINDS:
                rows.append(["合计", str(len(rows))] + [""] * (len(kind.columns) - 2))
            with (target / kind.filename).open("w", encoding="gb18030", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\r\n")
                writer.writerow([c.zh for c in kind.columns])
                writer.writerows(rows)
            written[name] = len(rows)
    return written
