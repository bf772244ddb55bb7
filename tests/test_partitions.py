"""Per-person testing rows in Parquet files per day: a changed day costs its own file, and the
distinct persons of a round stay exact when its first samples move between days."""

from __future__ import annotations

import csv
import dataclasses
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from random import Random

import duckdb

from dashboard.ingest import partitions
from dashboard.ingest.build import ingest
from dashboard.ingest.partitions import open_snapshot
from tests.fixtures import DAYS, XIGONGFANG, XINGHUA, person_id


def export_of(data_dir: Path, day: date) -> Path:
    return data_dir / "exports" / day.isoformat() / "testing_records.csv"


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    return header, rows


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])


def coverage_from_files(data_dir: Path) -> dict[tuple[date, int, str], int]:
    """Persons sampled per (day, round, community) up to each day, counted from the CSV files
    with plain Python: each ID once per round, on its earliest sample, where it was taken."""
    first: dict[tuple[int, str], tuple[datetime, str]] = {}
    for path in sorted((data_dir / "exports").glob("*/testing_records.csv")):
        _, rows = read_rows(path)
        for _, person, area, _, round_, sampled_at, _ in rows:
            if int(round_) == 0:
                continue
            at = datetime.fromisoformat(sampled_at)
            key = (int(round_), person)
            # Two samples at one moment: the smaller area code.
            if key not in first or (at, area) < first[key]:
                first[key] = (at, area)
    new = defaultdict(int)
    for (round_, _), (at, area) in first.items():
        new[round_, area, at.date()] += 1
    running = {}
    for (round_, area, _day) in new:
        total = 0
        for day in DAYS:
            total += new.get((round_, area, day), 0)
            if total:
                running[day, round_, area] = total
    return running


def coverage_in_snapshot(db_path: Path) -> dict[tuple[date, int, str], int]:
    with open_snapshot(db_path) as con:
        rows = con.execute("select day, round, area_code, persons_sampled from round_coverage"
                           " where persons_sampled > 0").fetchall()
    return {(day, round_, area): int(persons) for day, round_, area, persons in rows}


def files_of(db_path: Path) -> dict[str, tuple[int, int]]:
    """Each Parquet file's name -> (inode, mtime): a rewritten file shows as a change."""
    folder = partitions.folder(db_path) / partitions.KIND
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}


def test_a_round_spanning_days_stays_exact_when_a_day_is_reexported(fresh_data):
    """Round 1 gets late samples on 01-05: 30 people first sampled then, and 40 already sampled on
    01-04. A re-export of 01-04 then drops 25 of those 40, whose first sample moves to 01-05."""
    data = fresh_data.data_dir
    header, rows = read_rows(export_of(data, DAYS[1]))
    late = [[f"L{n:04d}", person_id(XINGHUA, 500 + n), XINGHUA, "TS01", "1", "2022-01-05 09:00:00", "negative"]
            for n in range(30)]
    again = [[f"A{n:04d}", person_id(XIGONGFANG, n), XIGONGFANG, "TS01", "1", "2022-01-05 10:00:00", "negative"]
             for n in range(40)]
    write_rows(export_of(data, DAYS[1]), header, rows + late + again)
    assert ingest(fresh_data).ok
    assert coverage_in_snapshot(fresh_data.db_path) == coverage_from_files(data)
    # By hand: 西工房 600 on 01-04; 兴华 500 on 01-04 and 530 from 01-05.
    assert coverage_in_snapshot(fresh_data.db_path)[DAYS[1], 1, XINGHUA] == 530

    header, rows = read_rows(export_of(data, DAYS[0]))
    dropped = {person_id(XIGONGFANG, n) for n in range(25)}
    write_rows(export_of(data, DAYS[0]), header, [r for r in rows if r[1] not in dropped])
    assert ingest(fresh_data).ok
    coverage = coverage_in_snapshot(fresh_data.db_path)
    assert coverage == coverage_from_files(data)
    # 西工房: 575 left on 01-04, and the 25 dropped come back through their 01-05 samples.
    assert (coverage[DAYS[0], 1, XIGONGFANG], coverage[DAYS[1], 1, XIGONGFANG]) == (575, 600)


def test_a_new_day_writes_its_own_file_and_rewrites_no_other(fresh_data):
    newest = fresh_data.data_dir / "exports" / DAYS[2].isoformat()
    held_back = fresh_data.data_dir.parent / "held_back"
    newest.rename(held_back)
    assert ingest(fresh_data).ok
    before = files_of(fresh_data.db_path)
    assert sorted(name[:10] for name in before) == [DAYS[0].isoformat(), DAYS[1].isoformat()]

    held_back.rename(newest)
    assert ingest(fresh_data).ok
    after = files_of(fresh_data.db_path)
    assert {name: after[name] for name in before} == before
    assert sorted(name[:10] for name in set(after) - set(before)) == [DAYS[2].isoformat()]
    with open_snapshot(fresh_data.db_path) as con:
        # 3,670 samples on 01-06 (fixtures.SAMPLING), read back from the new file.
        assert con.execute("select count(*) from testing_records where export_day = $day",
                           {"day": DAYS[2]}).fetchone()[0] == 3670


def test_the_snapshot_file_holds_no_per_person_testing_rows(fixture_snapshot):
    with open_snapshot(fixture_snapshot.db_path) as con:
        tables = {name for (name,) in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database()").fetchall()}
        # Only positives keep a person key in the file: 2 + 1 + 1 in fixtures.EXPECTED.
        positives = con.execute("select count(*) from testing_positives").fetchone()[0]
    assert "testing_records" not in tables
    assert positives == 4


def test_replaced_files_go_one_generation_later_and_orphans_at_the_next_ingest(fresh_data):
    # Re-exports of 4 and 3 of 11 rows would be held unaccepted (tests/test_ingest_guards.py).
    fresh_data = dataclasses.replace(fresh_data, reexport_max_drop=1.0)
    assert ingest(fresh_data).ok
    first = set(files_of(fresh_data.db_path))
    orphan = partitions.folder(fresh_data.db_path) / partitions.KIND / "2022-01-06-999-deadbeef.parquet.writing"
    orphan.write_bytes(b"left by a killed ingest")

    path = export_of(fresh_data.data_dir, DAYS[1])
    header, rows = read_rows(path)
    write_rows(path, header, rows[:4])
    assert ingest(fresh_data).ok
    second = set(files_of(fresh_data.db_path))
    # The replaced 01-05 file stays for a reader that opened the old snapshot; the orphan goes.
    assert first < second and len(second - first) == 1 and orphan.name not in second

    write_rows(path, header, rows[:3])
    assert ingest(fresh_data).ok
    third = set(files_of(fresh_data.db_path))
    replaced_twice = {name for name in first if name.startswith(DAYS[1].isoformat())}
    assert not replaced_twice & third and len(third) == 4


def test_a_sample_in_two_of_a_days_files_is_found_among_two_files_and_among_three(tmp_path):
    # No stored file repeats a sample within itself; whether two files of a day share one is all
    # that is asked, of each day: a sample in two days is not shared.
    con = duckdb.connect()
    path = {}
    for name, day, samples in [("a", 5, ["S1", "S2", "S3"]), ("b", 5, ["S4", "S5"]), ("c", 5, ["S6", "S2"]),
                               ("d", 6, ["S1", "S7"]), ("e", 6, ["S3", "S4"]), ("f", 7, ["S9", "S1"]),
                               ("g", 7, ["S9"]), ("h", 6, ["S7"]), ("i", 6, ["S10", "S5"])]:
        path[name] = str(tmp_path / f"{name}.parquet")
        con.execute("copy (select $day::date as export_day, unnest($samples::varchar[]) as sample_id) to $path"
                    " (format parquet)", {"day": date(2022, 1, day), "samples": samples, "path": path[name]})
    for days, shared in [
        ({5: "ab", 6: "de"}, set()),  # S1, S3 and S4 are in two days, never twice in one
        ({5: "ac", 6: "de"}, {5}),
        ({5: "abc", 6: "de", 7: "fg"}, {5, 7}),
        ({5: "bc", 6: "d", 7: "fg"}, {7}),
        ({5: "ab", 6: "dei"}, set()),
        ({5: "ab", 6: "deh"}, {6}),
    ]:
        files = {date(2022, 1, day): [path[name] for name in names] for day, names in days.items()}
        assert partitions._shared_days(con, files) == {date(2022, 1, day) for day in shared}, days


ROUND_ROWS = "copy (select * from (values {}) t(sample_id, person_key, area_code, round, sampled_at)) to $path"


def firsts_by_hand(samples: list[tuple]) -> dict[tuple[str | None, date], int]:
    """Persons per (area, first day) from (person, area, at) in plain Python: the earliest sample,
    and at one moment the smaller area code."""
    first = {}
    for person, area, at in samples:
        if person not in first or (at, area) < first[person]:
            first[person] = (at, area)
    counted = defaultdict(int)
    for at, area in first.values():
        counted[area, at.date()] += 1
    return dict(counted)


def test_a_round_counts_each_person_at_the_first_sample_by_number_and_by_text_alike(tmp_path, monkeypatch):
    """Persons with samples in several areas, the earlier one later in the file, some at one
    moment in two areas; counted from two files, once with every area numbered (the fast
    statement; the one by text would fail) and once with one area missing (the one by text)."""
    rng = Random(22)
    areas = ["410103001001", "410103001002", "410103002001"]
    start = datetime(2022, 1, 13, 6)
    samples = []
    for n in range(400):
        person = f"{n:032x}"
        moments = [start + timedelta(minutes=rng.randrange(0, 36 * 60)) for _ in range(rng.randint(1, 3))]
        if n % 7 == 0:
            moments.append(moments[0])  # the same moment, most likely in another area
        samples += [(person, rng.choice(areas), at) for at in moments]
    rng.shuffle(samples)
    con = duckdb.connect()
    con.execute("create table testing_daily_parts (export_day date, day date, area_code varchar, site_id varchar,"
                " round integer, samples bigint, positives bigint, pending bigint)")
    con.execute("create table round_firsts (round integer, area_code varchar, first_day date, persons bigint)")
    files = []
    for half, rows in enumerate((samples[: len(samples) // 2], samples[len(samples) // 2:])):
        path = tmp_path / f"{half}.parquet"
        con.execute("create or replace table rows (sample_id varchar, person_key uuid, area_code varchar,"
                    " round integer, sampled_at timestamp)")
        con.executemany("insert into rows values (?, ?, ?, 3, ?)",
                        [(f"S{half}-{i}", person, area, at) for i, (person, area, at) in enumerate(rows)])
        con.execute("copy rows to $path (format parquet)", {"path": str(path)})
        files.append(str(path))
    expected = firsts_by_hand(samples)

    def counted() -> dict:
        con.execute("delete from round_firsts")
        partitions._count_round(con, files, 3)
        return {(area, day): persons for _, area, day, persons in con.execute("select * from round_firsts").fetchall()}

    con.execute("insert into testing_daily_parts select null, null, unnest($areas::varchar[]), null, 3, 1, 0, 0",
                {"areas": areas})
    with monkeypatch.context() as patched:
        patched.setattr(partitions, "COUNT_ROUND_BY_TEXT", "select error('the statement by text ran')")
        assert counted() == expected
    # An area missing from the day counts: counted by text, where a tie goes to either area.
    con.execute("delete from testing_daily_parts where area_code = $area", {"area": areas[1]})
    by_text = counted()
    assert sum(by_text.values()) == sum(expected.values()) == 400
    assert any(area == areas[1] for area, _ in by_text)
    untied = [s for s in samples if int(s[0], 16) % 7]
    by_hand_untied = firsts_by_hand(untied)
    assert all(by_text.get(key, 0) >= persons for key, persons in by_hand_untied.items())
