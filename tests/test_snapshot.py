"""The snapshot as a whole: re-exports, repeatability, incremental work, atomic swaps, privacy."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading

import pandas as pd
import pytest

from dashboard.figures.headline import build_report, default_at
from dashboard.figures.queries import Snapshot
from dashboard.ingest import ids
from dashboard.ingest.build import ingest
from dashboard.ingest.partitions import open_snapshot
from tests.fixtures import DAYS, TAIGUO, id_number, person_id, person_key


def reports(settings) -> list[dict]:
    snapshot = Snapshot(settings.db_path)
    try:
        return [build_report(snapshot, day, default_at(day)) for day in DAYS]
    finally:
        snapshot.close()


def count(settings, sql: str, **params):
    con = open_snapshot(settings.db_path)
    try:
        return con.execute(sql, params).fetchone()[0]
    finally:
        con.close()


def test_reexport_replaces_the_day(fresh_data):
    # 4 of 11 samples would be held unaccepted (tests/test_ingest_guards.py): here the replacing is tested.
    fresh_data = dataclasses.replace(fresh_data, reexport_max_drop=1.0)
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
    con = open_snapshot(fresh_data.db_path)
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
    con = open_snapshot(fresh_data.db_path)
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
    expected = person_key(key, raw)
    # 台郭 person 0 is sampled in round 1 and in round 2 (01-05's routine sample is person 990).
    assert count(fresh_data, "select count(*) from testing_records where person_key = $key", key=expected) == 2
    assert ids.pseudonymise(pd.Series([raw]), key).iloc[0] == expected


def test_check_digit_agrees_with_plain_computation():
    numbers = [id_number(f"{n:017d}") for n in range(10**16, 10**16 + 500)]
    broken = [n[:17] + ("0" if n[17] != "0" else "1") for n in numbers]
    assert ids.check_digit_ok(pd.Series(numbers)).all()
    assert not ids.check_digit_ok(pd.Series(broken)).any()


def test_mask_hides_the_middle():
    assert ids.mask("41010319900101102X") == "410*************2X"
    assert ids.mask("4.10103E+17") == "4.1******17"


FULL, SHORT = 2700 + 11 + 3670, 2700 + 4 + 3670  # samples with 01-05 as exported, and re-exported with 4
READER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from dashboard.ingest.partitions import open_snapshot
    path, stop, valid = sys.argv[1], sys.argv[2], {int(n) for n in sys.argv[3:]}
    reads = errors = torn = 0
    last = None
    while not os.path.exists(stop):
        try:
            con = open_snapshot(Path(path))
            staged = con.execute("select count(*) from testing_records").fetchone()[0]
            marted = con.execute("select coalesce(sum(samples), 0) from testing_daily").fetchone()[0]
            con.close()
        except Exception as error:
            errors += 1
            print("ERROR", type(error).__name__, error, flush=True)
            continue
        reads += 1
        if staged != marted or staged not in valid:
            torn += 1
            print("TORN", staged, marted, flush=True)
        elif staged != last:
            print("SAW", staged, flush=True)  # only changes, so the pipe never fills
            last = staged
    print("DONE", reads, errors, torn, flush=True)
""")
# A safety net only: no assertion depends on how long anything takes.
LINE_TIMEOUT_SECONDS = 120


def lines_of(process: subprocess.Popen) -> queue.Queue:
    """The process's stdout lines as they come, read on a thread; None at the end."""
    lines: queue.Queue = queue.Queue()

    def pump():
        for line in process.stdout:
            lines.put(line.strip())
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def test_reader_never_sees_a_torn_snapshot(fresh_data, tmp_path):
    """Swap the snapshot back and forth under a reader that polls it; each swap waits until the
    reader has seen the previous one, so every version is read while the next is being built."""
    # 4 of 11 samples would be held unaccepted (tests/test_ingest_guards.py): here the swaps are tested.
    fresh_data = dataclasses.replace(fresh_data, reexport_max_drop=1.0)
    assert ingest(fresh_data).ok
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(fresh_data.db_path), str(stop), str(FULL),
                               str(SHORT)], stdout=subprocess.PIPE, text=True)
    lines = lines_of(reader)
    seen = []

    def wait_until_reader_sees(samples: int) -> None:
        while True:
            line = lines.get(timeout=LINE_TIMEOUT_SECONDS)
            assert line is not None and not line.startswith(("ERROR", "TORN")), (line, seen)
            seen.append(line)
            if line == f"SAW {samples}":
                return

    path = fresh_data.data_dir / "exports" / "2022-01-05" / "testing_records.csv"
    full = path.read_text()
    short = "\n".join(full.splitlines()[:5]) + "\n"
    try:
        wait_until_reader_sees(FULL)
        for swap in range(6):
            path.write_text(short if swap % 2 == 0 else full)
            assert ingest(fresh_data).ok
            wait_until_reader_sees(SHORT if swap % 2 == 0 else FULL)
    finally:
        stop.touch()
        reader.wait(timeout=LINE_TIMEOUT_SECONDS)
    rest = []
    while (line := lines.get(timeout=LINE_TIMEOUT_SECONDS)) is not None:
        rest.append(line)
    _, reads, errors, torn = rest[-1].split()
    assert (int(errors), int(torn)) == (0, 0), rest
    assert seen == [f"SAW {n}" for n in [FULL, SHORT] * 3 + [FULL]]
    assert int(reads) >= 7


# Runs `python -m dashboard ingest` with one pause point: it says "paused" there and waits to
# be killed. "parsing": while the changed file is parsed into the half-built copy; "swap": the
# copy is complete and about to replace the snapshot.
KILLABLE_INGEST = textwrap.dedent("""
    import os, sys
    from dashboard.ingest import ids
    from dashboard.__main__ import main

    pause_at, data, db = sys.argv[1:4]

    def pause():
        print("paused", flush=True)
        sys.stdin.read()

    if pause_at == "parsing":
        ids.hmac_pads = lambda *args, **kwargs: pause()
    else:
        replace = os.replace

        def pausing_replace(source, target, *args, **kwargs):
            if ".building" in str(source):  # the finished copy inside <db>.building/
                pause()
            return replace(source, target, *args, **kwargs)

        os.replace = pausing_replace
    sys.exit(main(["ingest", "--data", data, "--db", db]))
""")


@pytest.mark.parametrize("pause_at", ["parsing", "swap"])
def test_kill_during_ingest_keeps_the_old_snapshot(fresh_data, pause_at):
    assert ingest(fresh_data).ok
    before = reports(fresh_data)
    snapshot_bytes = hashlib.sha256(fresh_data.db_path.read_bytes()).hexdigest()
    # A re-export of 01-06 with 5 more samples.
    path = fresh_data.data_dir / "exports" / "2022-01-06" / "testing_records.csv"
    with path.open("a", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        for n in range(5):
            writer.writerow([f"B{n}", f"P{n}", TAIGUO, "CP01", 2, "2022-01-06 10:00:00", "negative"])
    process = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_INGEST, pause_at, str(fresh_data.data_dir), str(fresh_data.db_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert lines_of(process).get(timeout=LINE_TIMEOUT_SECONDS) == "paused", "ingest finished without pausing"
        assert process.poll() is None
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert hashlib.sha256(fresh_data.db_path.read_bytes()).hexdigest() == snapshot_bytes
    assert reports(fresh_data) == before
    # The next ingest cleans up and completes.
    assert ingest(fresh_data).ok
    assert reports(fresh_data)[2]["samples_on_day"] == 3670 + 5


def test_watch_ingests_only_when_the_data_changes(fresh_data):
    from dashboard.ingest.status import read_status
    from dashboard.ingest.watcher import watch

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
    from dashboard.ingest.status import read_status

    path = fresh_data.data_dir / "exports" / "2022-01-06" / "shifts.csv"
    path.write_text("shift_id,staff_id\nX,Y\n")
    assert not ingest(fresh_data).ok
    status = read_status(fresh_data.db_path)
    assert status["ok"] is False and "shifts.csv" in status["message"] and "starts_at" in status["message"]


def test_pseudonymise_matches_hmac_for_any_key_and_value():
    values = pd.Series(["41010319900101102X", "P-7f3a", "中文姓名", ""], index=[3, 4, 5, 6])
    for key in [b"k", b"0123456789abcdef" * 4, b"a much longer key than one sha256 block of 64 bytes" * 2]:
        expected = [person_key(key, v) for v in values]
        got = ids.pseudonymise(values, key)
        assert list(got) == expected and list(got.index) == [3, 4, 5, 6]
