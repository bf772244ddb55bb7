"""The snapshot as a whole: re-exports, repeatability, incremental work, atomic swaps, privacy."""

from __future__ import annotations

import csv
import hashlib
import hmac
import os
import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import pandas as pd

from dashboard import ids
from dashboard.ingest import ingest
from dashboard.queries import Snapshot
from dashboard.report import build_report, default_at
from tests.fixtures import DAYS, TAIGUO, id_number, person_id


def reports(settings) -> list[dict]:
    snapshot = Snapshot(settings.db_path)
    try:
        return [build_report(snapshot, day, default_at(day)) for day in DAYS]
    finally:
        snapshot.close()


def count(settings, sql: str, **params):
    con = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        return con.execute(sql, params).fetchone()[0]
    finally:
        con.close()


def test_reexport_replaces_the_day(fresh_data):
    assert ingest(fresh_data).ok
    path = fresh_data.data_dir / "exports" / "2022-01-05" / "testing_records.csv"
    lines = path.read_text().splitlines()
    # The re-export of 01-05 has 4 of its 11 samples: it replaces the day, it never adds.
    path.write_text("\n".join(lines[:5]) + "\n")
    assert ingest(fresh_data).ok
    assert count(fresh_data, "select count(*) from testing_records where export_day = '2022-01-05'") == 4
    assert count(fresh_data, "select count(*) from testing_records") == 2700 + 4 + 3670
    assert reports(fresh_data)[1]["samples_on_day"] == 4


def test_ingesting_twice_gives_identical_figures(fresh_data, tmp_path):
    assert ingest(fresh_data).ok
    first = reports(fresh_data)
    second_result = ingest(fresh_data)
    assert {o.status for o in second_result.outcomes} <= {"unchanged", "missing"}
    assert reports(fresh_data) == first
    # And a snapshot built from nothing agrees with the incremental one.
    scratch = type(fresh_data)(fresh_data.data_dir, tmp_path / "scratch.duckdb", is_demo=False)
    assert ingest(scratch).ok
    assert reports(scratch) == first


def test_adding_a_day_parses_only_that_day(fresh_data):
    new_day = fresh_data.data_dir / "exports" / "2022-01-06"
    held_back = fresh_data.data_dir / "held-back"
    new_day.rename(held_back)
    assert ingest(fresh_data).ok
    held_back.rename(new_day)
    result = ingest(fresh_data)
    parsed = sorted((o.kind, str(o.day)) for o in result.outcomes if o.status == "loaded")
    assert parsed == [(k, "2022-01-06") for k in ["checkpoint_log", "control_zones", "door_visits", "isolation",
                                                  "shifts", "testing_records"]]
    assert reports(fresh_data)[2]["samples_on_day"] == 3670


def test_removed_day_leaves_the_snapshot(fresh_data):
    assert ingest(fresh_data).ok
    for path in (fresh_data.data_dir / "exports" / "2022-01-06").iterdir():
        path.unlink()
    (fresh_data.data_dir / "exports" / "2022-01-06").rmdir()
    assert ingest(fresh_data).ok
    assert count(fresh_data, "select max(export_day)::varchar from testing_records") == "2022-01-05"


def test_ingest_log_records_every_file(fresh_data):
    assert ingest(fresh_data).ok
    con = duckdb.connect(str(fresh_data.db_path), read_only=True)
    log = con.execute("select * from ingest_log where file = 'exports/2022-01-04/testing_records.csv'").df()
    con.close()
    expected_sha = hashlib.sha256(
        (fresh_data.data_dir / "exports" / "2022-01-04" / "testing_records.csv").read_bytes()).hexdigest()
    assert log[["sha256", "kind", "rows_read", "rows_loaded", "rows_rejected", "status"]].to_dict("records") == [
        {"sha256": expected_sha, "kind": "testing_records", "rows_read": 2700, "rows_loaded": 2700,
         "rows_rejected": 0, "status": "loaded"}]
    assert log["day"].iloc[0] == pd.Timestamp("2022-01-04") and pd.notna(log["ingested_at"].iloc[0])


def test_no_raw_id_number_anywhere_in_the_snapshot(fresh_data):
    # Put rejects with IDs in too: a bad area code next to a valid ID, and a damaged ID.
    path = fresh_data.data_dir / "exports" / "2022-01-06" / "testing_records.csv"
    bad_ids = [person_id(TAIGUO, 5000), person_id(TAIGUO, 5001)[:15] + "000"]
    with path.open("a", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["SX1", bad_ids[0], "000000000000", "CP01", 2, "2022-01-06 10:00:00", "negative"])
        writer.writerow(["SX2", bad_ids[1], TAIGUO, "CP01", 2, "2022-01-06 10:00:00", "negative"])
    assert ingest(fresh_data).ok
    raw_ids = set(bad_ids)
    for export in (fresh_data.data_dir / "exports").rglob("*.csv"):
        with export.open() as f:
            for row in csv.DictReader(f):
                raw_ids.update(v for k, v in row.items() if k in ("person_id", "case_id"))
    assert len(raw_ids) > 3000
    con = duckdb.connect(str(fresh_data.db_path), read_only=True)
    tables = [r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()]
    for table in tables:
        frame = con.table(table).df()
        for column in frame.columns:
            if frame[column].dtype == object or str(frame[column].dtype).startswith("str"):
                values = set(frame[column].dropna().astype(str))
                assert not values & raw_ids, f"raw ID in {table}.{column}"
    con.close()
    stored = fresh_data.db_path.read_bytes()
    assert not any(raw.encode() in stored for raw in list(raw_ids)[:2000] + bad_ids)


def test_pseudonym_is_hmac_sha256_under_the_key(fresh_data):
    assert ingest(fresh_data).ok
    key = fresh_data.id_key()
    raw = person_id(TAIGUO, 0)
    expected = hmac.new(key, raw.encode(), hashlib.sha256).hexdigest()
    # 台郭 person 0 is sampled in round 1, in routine testing on 01-05 and in round 2.
    assert count(fresh_data, "select count(*) from testing_records where person_key = $key", key=expected) == 3
    assert ids.pseudonymise(pd.Series([raw]), key).iloc[0] == expected


def test_check_digit_agrees_with_plain_computation():
    numbers = [id_number(f"{n:017d}") for n in range(10**16, 10**16 + 500)]
    broken = [n[:17] + ("0" if n[17] != "0" else "1") for n in numbers]
    assert ids.check_digit_ok(pd.Series(numbers)).all()
    assert not ids.check_digit_ok(pd.Series(broken)).any()


def test_mask_hides_the_middle():
    assert ids.mask("41010319900101102X") == "410*************2X"
    assert ids.mask("4.10103E+17") == "4.1******17"


READER = textwrap.dedent("""
    import sys, time, duckdb
    path, seconds = sys.argv[1], float(sys.argv[2])
    reads = errors = torn = 0
    stop = time.time() + seconds
    while time.time() < stop:
        try:
            con = duckdb.connect(path, read_only=True)
            staged = con.execute("select count(*) from testing_records").fetchone()[0]
            marted = con.execute("select coalesce(sum(samples), 0) from testing_daily").fetchone()[0]
            con.close()
        except Exception as error:
            errors += 1
            print("ERROR", error, file=sys.stderr)
            continue
        reads += 1
        if staged != marted or staged not in (2700 + 11 + 3670, 2700 + 4 + 3670):
            torn += 1
    print(reads, errors, torn)
""")


def test_reader_never_sees_a_torn_snapshot(fresh_data, tmp_path):
    assert ingest(fresh_data).ok
    reader = subprocess.Popen([sys.executable, "-c", READER, str(fresh_data.db_path), "8"],
                              stdout=subprocess.PIPE, text=True)
    path = fresh_data.data_dir / "exports" / "2022-01-05" / "testing_records.csv"
    full = path.read_text()
    short = "\n".join(full.splitlines()[:5]) + "\n"
    swaps = 0
    deadline = time.time() + 6
    while time.time() < deadline:
        path.write_text(short if swaps % 2 == 0 else full)
        assert ingest(fresh_data).ok
        swaps += 1
    reads, errors, torn = map(int, reader.communicate(timeout=60)[0].split())
    assert swaps >= 3 and reads > 10
    assert (errors, torn) == (0, 0)


def test_kill_during_ingest_keeps_the_old_snapshot(fresh_data):
    assert ingest(fresh_data).ok
    before = reports(fresh_data)
    # Make the next ingest long: a large re-export of 01-06.
    path = fresh_data.data_dir / "exports" / "2022-01-06" / "testing_records.csv"
    with path.open("a", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        for n in range(400_000):
            writer.writerow([f"B{n}", f"P{n}", TAIGUO, "CP01", 2, "2022-01-06 10:00:00", "negative"])
    building = fresh_data.db_path.with_name(fresh_data.db_path.name + ".building")
    process = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "ingest", "--data", str(fresh_data.data_dir), "--db",
         str(fresh_data.db_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while not building.exists() and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    assert process.poll() is None, "ingest finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert reports(fresh_data) == before
    # The next ingest cleans up and completes.
    assert ingest(fresh_data).ok
    assert reports(fresh_data)[2]["samples_on_day"] == 3670 + 400_000


def test_watch_ingests_only_when_the_data_changes(fresh_data):
    from dashboard.ingest import read_status, watch

    new_day = fresh_data.data_dir / "exports" / "2022-01-06"
    held_back = fresh_data.data_dir / "held-back"
    new_day.rename(held_back)
    summaries = []

    def report(text):
        summaries.append(text)
        if len(summaries) == 1:
            held_back.rename(new_day)

    watch(fresh_data, interval=0, report=report, rounds=3)
    assert len(summaries) == 2  # the first poll, then the new day; the third poll saw no change
    assert "2022-01-06  testing_records  loaded" in summaries[1]
    assert reports(fresh_data)[2]["samples_on_day"] == 3670
    assert read_status(fresh_data.db_path)["ok"] is True


def test_failed_ingest_is_left_in_the_status_file(fresh_data):
    from dashboard.ingest import read_status

    path = fresh_data.data_dir / "exports" / "2022-01-06" / "shifts.csv"
    path.write_text("shift_id,staff_id\nX,Y\n")
    assert not ingest(fresh_data).ok
    status = read_status(fresh_data.db_path)
    assert status["ok"] is False and "shifts.csv" in status["message"] and "starts_at" in status["message"]


def test_pseudonymise_matches_hmac_for_any_key_and_value():
    values = pd.Series(["41010319900101102X", "P-7f3a", "中文姓名", ""], index=[3, 4, 5, 6])
    for key in [b"k", b"0123456789abcdef" * 4, b"a much longer key than one sha256 block of 64 bytes" * 2]:
        expected = [hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values]
        got = ids.pseudonymise(values, key)
        assert list(got) == expected and list(got.index) == [3, 4, 5, 6]
