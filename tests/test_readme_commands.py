"""The README's first steps as a user types them: generate a demo, ingest it, ask for the report.
All as subprocesses, in a temporary directory, so a broken command line fails here and in CI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from dashboard.demo.field_layout import MISSING_STREET

REPO = Path(__file__).resolve().parents[1]
DAYS = 3
KINDS = ["checkpoint_log", "control_zones", "door_visits", "isolation", "shifts", "testing_records"]
# Every key of the report's JSON, written out here, not taken from dashboard/figures/headline.py.
REPORT_KEYS = [
    "as_of", "at", "feeds", "zones_active", "population_sealed", "samples_on_day", "positives_on_day",
    "current_round", "round_coverage", "isolation_active", "releases_due_next_day", "hotel_occupancy",
    "staff_on_duty", "posts_understaffed", "positives_awaiting_transfer", "releases_overdue", "corrections",
    "reporting", "alerts_open", "alerts_evaluated_at",
]


def dashboard(*args: str, home: Path) -> subprocess.CompletedProcess:
    # HOME is the test's own: nothing the commands keep for the user lands in the real one.
    env = {**os.environ, "HOME": str(home)}
    run = subprocess.run([sys.executable, "-m", "dashboard", *args], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, f"python -m dashboard {' '.join(args)}:\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    return run


@pytest.mark.slow
def test_generate_ingest_report(tmp_path):
    data, db, home = tmp_path / "demo", tmp_path / "demo" / "x.duckdb", tmp_path / "home"
    home.mkdir()
    today = date.today()
    days = [today - timedelta(days=n) for n in reversed(range(DAYS))]

    dashboard("generate", "--days", str(DAYS), "--out", str(data), home=home)
    assert sorted(p.name for p in (data / "exports").iterdir()) == [d.isoformat() for d in days]

    ingested = dashboard("ingest", "--data", str(data), "--db", str(db), home=home)
    loaded = {tuple(line.split()[:3]) for line in ingested.stdout.splitlines()[1:] if line.strip()}
    assert {(d.isoformat(), kind, "loaded") for d in days for kind in KINDS} <= loaded

    report = json.loads(dashboard("report", "--data", str(data), "--db", str(db), "--format", "json",
                                  home=home).stdout)
    assert list(report) == REPORT_KEYS
    # No alerts have run on a fresh data directory: null, never 0.
    assert report["alerts_open"] is None and report["alerts_evaluated_at"] is None
    assert report["as_of"] == today.isoformat() and report["at"] == f"{today.isoformat()}T12:00"
    # The demo's last day lacks one street's isolation ledger, by design (dashboard/demo/field_layout.py).
    assert report["feeds"] == {kind: {"latest_export": today.isoformat(), "stale": False,
                                      "missing_senders": [MISSING_STREET] if kind == "isolation" else []}
                               for kind in KINDS}
    assert [key for key, value in report.items() if value is None] == ["alerts_open", "alerts_evaluated_at"]
    assert list(report["zones_active"]) == ["sealed", "controlled", "precaution"]
    assert list(report["isolation_active"]) == ["home", "home_monitoring", "centralized"]
    assert report["samples_on_day"] > 0 and report["staff_on_duty"] > 0 and report["population_sealed"] > 0
    assert 0 < report["round_coverage"] <= 1
