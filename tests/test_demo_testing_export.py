"""The generator's fast testing-records writer against a plain csv-module rendering of the same rows."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from dashboard.demo import testing_export
from dashboard.demo.population import RESULT_WORDS, id_number_chars
from dashboard.demo.testing_export import sampling_time_order, write_testing, write_testing_by_site
from tests.fixtures import id_number

DAY = date(2022, 1, 6)
AREAS = ["410103001001", "410103002003", "410103016011"]
SITES = ["CP01", "TS001", "MV07", "TS112", "HT03"]   # widths 4 and 5: lines of different lengths
SEED = 42


def plain_id(person: int, seed: int) -> str:
    """The demo's ID scheme in plain Python: an affine map of the resident number to a birth day
    and a 3-digit sequence after the made-up region 990103, then the check character."""
    slot = (person * 7_777_777 + seed * 1_000_003) % 30_000_000
    birth = date(1937, 1, 1) + timedelta(days=slot // 1000)
    return id_number(f"990103{birth:%Y%m%d}{slot % 1000:03d}")


def plain_lines(testing: testing_export.TestingDay, seed: int) -> str:
    """The file as the csv module writes it: rows by sampling time (ties by draw order), numbered."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["sample_id", "person_id", "area_code", "site_id", "round", "sampled_at", "result"])
    drawn = sorted(range(len(testing.person)), key=lambda row: (int(testing.seconds[row]), row))
    midnight = datetime.combine(DAY, datetime.min.time())
    for number, row in enumerate(drawn, start=1):
        writer.writerow([
            f"S{DAY:%Y%m%d}{number:08d}", plain_id(int(testing.person[row]), seed),
            AREAS[testing.community[row]], SITES[testing.site[row]], int(testing.round[row]),
            f"{midnight + timedelta(seconds=int(testing.seconds[row])):%Y-%m-%d %H:%M:%S}",
            RESULT_WORDS[testing.result[row]],
        ])
    return out.getvalue()


def random_day(count: int, rng: np.random.Generator, earliest: int = 0, latest: int = 86_400) -> testing_export.TestingDay:
    seconds = rng.integers(earliest, latest, count).astype(np.int32)
    seconds[: count // 10] = earliest + 17   # ties, which keep their draw order
    return testing_export.TestingDay(
        community=rng.integers(0, len(AREAS), count).astype(np.int16),
        person=rng.integers(0, 12_600_000, count),
        site=rng.integers(0, len(SITES), count).astype(np.int16),
        round=rng.choice([0, 3, 12], count).astype(np.int16),   # 12: a two-digit round
        seconds=seconds,
        result=rng.integers(0, len(RESULT_WORDS), count).astype(np.int8),
        order=sampling_time_order(seconds),
    )


@pytest.mark.parametrize("batch_rows", [7, 100_000])
def test_testing_file_matches_the_csv_module(tmp_path, monkeypatch, batch_rows):
    # 7 rows a batch: many batches, written by the second thread while the next is built.
    monkeypatch.setattr(testing_export, "BATCH_ROWS", batch_rows)
    testing = random_day(500, np.random.default_rng(1))
    path = tmp_path / "testing_records.csv"
    assert write_testing(path, testing, DAY, AREAS, SITES, SEED) == 500
    assert path.read_text(encoding="ascii") == plain_lines(testing, SEED)


@pytest.mark.parametrize("batch_rows", [7, 100_000])
def test_split_files_hold_the_single_files_lines_by_site(tmp_path, monkeypatch, batch_rows):
    monkeypatch.setattr(testing_export, "BATCH_ROWS", batch_rows)
    testing = random_day(500, np.random.default_rng(4))
    # CP01 and HT03 take no samples in the demo; here they go to the second file with MV07.
    file_of_site = np.array([1, 0, 1, 0, 1], dtype=np.int8)
    paths = [tmp_path / "fixed.csv", tmp_path / "mobile.csv"]
    written = write_testing_by_site(paths, file_of_site, testing, DAY, AREAS, SITES, SEED)
    header, *expected = plain_lines(testing, SEED).splitlines()
    first, second = (path.read_text(encoding="ascii").splitlines() for path in paths)
    assert first[0] == second[0] == header
    # Each file is the single file's lines of its sites, in the same order and with the same numbers.
    assert first[1:] == [line for line in expected if line.split(",")[3] in {"TS001", "TS112"}]
    assert second[1:] == [line for line in expected if line.split(",")[3] in {"CP01", "MV07", "HT03"}]
    assert written == [len(first) - 1, len(second) - 1] and sum(written) == 500


def test_an_empty_day_has_the_header_only(tmp_path):
    testing = random_day(0, np.random.default_rng(2))
    path = tmp_path / "testing_records.csv"
    assert write_testing(path, testing, DAY, AREAS, SITES, SEED) == 0
    assert path.read_text() == "sample_id,person_id,area_code,site_id,round,sampled_at,result\n"


def test_id_numbers_match_the_plain_computation():
    persons = np.array([0, 1, 999, 1000, 4_321_987, 12_599_999])
    for seed in (0, 42):
        got = [row.tobytes().decode() for row in id_number_chars(persons, seed)]
        assert got == [plain_id(int(person), seed) for person in persons]
    # a check character of X (weighted sum = 2 mod 11) occurs among these
    assert any(plain_id(person, 42).endswith("X") for person in range(40))


@pytest.mark.parametrize(("earliest", "latest"), [(6 * 3600, 22 * 3600), (0, 86_400), (100, 101)])
def test_sampling_time_order_is_a_stable_sort(earliest, latest):
    seconds = np.random.default_rng(3).integers(earliest, latest, 20_000).astype(np.int32)
    expected = sorted(range(len(seconds)), key=lambda row: (int(seconds[row]), row))
    assert sampling_time_order(seconds).tolist() == expected


def test_seconds_outside_the_day_are_refused():
    with pytest.raises(ValueError, match="within the day"):
        sampling_time_order(np.array([10, 86_400], dtype=np.int32))


@pytest.mark.parametrize(("layout", "files_a_day"), [("contract", [6, 6]), ("field", [16 + 9, 15 + 9 + 3])])
def test_generate_reports_each_finished_day(tmp_path, layout, files_a_day):
    from dashboard.demo.generate import generate

    seen = []

    def on_day(done, days):
        folder = sorted((tmp_path / "exports").iterdir())[done - 1]
        seen.append((done, days, {p.name: (p.stat().st_size, p.stat().st_mtime) for p in folder.iterdir()}))

    generate(tmp_path, days=2, end_date=date(2022, 1, 6), on_day=on_day, layout=layout)
    assert [(done, days) for done, days, _ in seen] == [(1, 2), (2, 2)]
    # a day is reported once all of its files are written in full, their arrival times set
    for (done, _, files), count in zip(seen, files_a_day):
        folder = sorted((tmp_path / "exports").iterdir())[done - 1]
        assert len(files) == count
        assert files == {p.name: (p.stat().st_size, p.stat().st_mtime) for p in folder.iterdir()}
