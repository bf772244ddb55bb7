"""The Excel-style example day in data/examples/: a slice of the demo shaped the way the field
sends it, each file saved the way its sender saves it. Rebuilt with `python -m dashboard.demo`.

- isolation: three streets' ledgers, EXAMPLE_STREETS; the first one's is an .xlsx with a title row;
- control_zones: the command center's ledger, an .xlsx with a title row;
- testing_records: the fixed sites' file and the sampling vehicles' file;
- shifts: the checkpoints' roster and the testing sites' roster.

The CSV files are GB18030 with CRLF, Chinese headers and value words, 2022/1/6 dates and, for
the event files, a trailing 合计 row.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from dashboard.demo.field_files import EXCEL_CSV, Sheet, chinese_day, write_csv, write_xlsx
from dashboard.demo.field_layout import (
    ROSTERS,
    TESTING_SENDERS,
    daily_name,
    isolation_ledger_name,
    signature,
    testing_name,
    zones_ledger_name,
)
from dashboard.demo.reference import EXAMPLES_DIR, SEED
from dashboard.ingest import contract

EXAMPLE_DAY = date(2022, 1, 6)
EXAMPLE_DAY_DIR = EXAMPLES_DIR / EXAMPLE_DAY.isoformat()
EXAMPLE_ROWS = {"control_zones": 5, "testing_records": 40, "isolation": 10, "shifts": 15}
# The streets whose isolation ledgers the example holds, the first one in Excel; each is where
# a hot spot lies, so each has cases, contacts and travellers to show.
EXAMPLE_STREETS = ("大学路街道", "蜜蜂张街道", "人和路街道")
SAVED_AT = datetime(2022, 1, 6, 8, 0)   # the .xlsx files' creation time, so a rebuild is the same


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


def example_isolation(frame: pd.DataFrame, street_codes: dict[str, str]) -> pd.DataFrame:
    """Cases, contacts, travellers and a release, each taken from a named street."""
    from dashboard.demo.population import CASE_REASON

    xlsx_street, second, third = (frame.area_code.str.startswith(street_codes[s]) for s in EXAMPLE_STREETS)
    live = frame.ended_on == ""
    contacts = live & (frame.reason == "密切接触者")
    picks = [
        (frame[live & (frame.reason == CASE_REASON) & (frame.site_id != "") & xlsx_street], 1),
        (frame[contacts & (frame.kind == "centralized") & xlsx_street], 2),
        (frame[live & (frame.reason == "次密切接触者") & xlsx_street], 1),
        (frame[contacts & (frame.kind == "centralized") & second], 1),
        (frame[contacts & (frame.kind == "home") & second], 1),
        (frame[live & (frame.kind == "home_monitoring") & second], 1),
        (frame[live & (frame.reason == "次密切接触者") & third], 1),
        (frame[live & (frame.kind == "home_monitoring") & third], 1),
        (frame[~live & third], 1),
    ]
    return pd.concat([rows.tail(count) for rows, count in picks])


def example_shifts(frame: pd.DataFrame, site_kind: dict[str, str]) -> pd.DataFrame:
    """The night crew of the 郑州西南站 checkpoint, an absentee and a mix of other checkpoint and
    testing posts: the two rosters the example holds."""
    kinds = frame.site_id.map(site_kind)
    posts = frame[(frame.team_id == "") & kinds.isin(["checkpoint", "testing_fixed", "testing_mobile"])]
    night_crew = posts[(posts.site_id == "CP01") & posts.starts_at.str.endswith(" 00:00:00")]
    absent = posts[posts.status == "absent"].head(1)
    others = posts.drop(night_crew.index.union(absent.index))
    others = others.sample(EXAMPLE_ROWS["shifts"] - len(night_crew) - len(absent), random_state=SEED)
    return pd.concat([night_crew, absent, others]).sort_values(["starts_at", "site_id"], kind="stable")


def canonical(day_dir: Path, kind: contract.FileKind) -> pd.DataFrame:
    return pd.read_csv(day_dir / kind.filename, dtype=str, keep_default_na=False)


def records(kind: contract.FileKind, frame: pd.DataFrame) -> list[list]:
    return frame[[c.name for c in kind.columns]].values.tolist()


def write_event_file(path: Path, kind: contract.FileKind, frame: pd.DataFrame) -> int:
    rows = records(kind, frame)
    total = ["合计", str(len(rows))] + [""] * (len(kind.columns) - 2)
    return write_csv(path, kind, rows, EXCEL_CSV, trailer=[total])


def write_examples(target: Path = EXAMPLE_DAY_DIR) -> dict[str, int]:
    """One small export day as the field sends it. The rows are a slice of the demo generator's
    output for 2022-01-06, so each of them is valid against the reference data."""
    from dashboard.demo.generate import generate

    target.mkdir(parents=True, exist_ok=True)
    for old in target.iterdir():
        old.unlink()
    day = EXAMPLE_DAY
    written = {}
    with tempfile.TemporaryDirectory() as scratch:
        generate(Path(scratch), days=14, end_date=day, seed=SEED, layout="contract")
        day_dir = Path(scratch) / "exports" / day.isoformat()
        sites = pd.read_csv(Path(scratch) / "reference" / "sites.csv", dtype=str, keep_default_na=False)
        areas = pd.read_csv(Path(scratch) / "reference" / "areas.csv", dtype=str, keep_default_na=False)
        site_kind = dict(zip(sites.site_id, sites.kind))
        street_codes = dict(zip(areas.name, areas.area_code))

        zones = example_zones(canonical(day_dir, contract.CONTROL_ZONES))
        written[zones_ledger_name(day)] = write_xlsx(
            target / zones_ledger_name(day), contract.CONTROL_ZONES, records(contract.CONTROL_ZONES, zones),
            Sheet(f"二七区封控管控区域台账（{chinese_day(day)}）", created=SAVED_AT))

        isolation = example_isolation(canonical(day_dir, contract.ISOLATION), street_codes)
        for number, street in enumerate(EXAMPLE_STREETS):
            rows = isolation[isolation.area_code.str.startswith(street_codes[street])]
            if number == 0:
                name = isolation_ledger_name(street, day, ".xlsx")
                sheet = Sheet(f"二七区{street}隔离人员台账（{chinese_day(day)}）", signature=signature(street),
                              created=SAVED_AT)
                written[name] = write_xlsx(target / name, contract.ISOLATION, records(contract.ISOLATION, rows), sheet)
            else:
                name = isolation_ledger_name(street, day)
                written[name] = write_csv(target / name, contract.ISOLATION, records(contract.ISOLATION, rows),
                                          EXCEL_CSV)

        tests = example_tests(canonical(day_dir, contract.TESTING_RECORDS))
        for site_kind_name, sender in TESTING_SENDERS.items():
            name = testing_name(sender, day)
            written[name] = write_event_file(target / name, contract.TESTING_RECORDS,
                                             tests[tests.site_id.map(site_kind) == site_kind_name])

        shifts = example_shifts(canonical(day_dir, contract.SHIFTS), site_kind)
        roster_of_shift = shifts.site_id.map(site_kind).map(ROSTERS)
        for roster in dict.fromkeys(ROSTERS[kind] for kind in ("checkpoint", "testing_fixed")):
            name = daily_name(roster, day)
            written[name] = write_event_file(target / name, contract.SHIFTS, shifts[roster_of_shift == roster])
    return written
