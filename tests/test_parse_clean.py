"""A file whose every row is good streams from the reader to its destination in one statement
(parse.py's clean statement, issue 22); any other file takes the full checks, row by row.

The clean statement is only a faster way to the same rows. Every test here parses one file both
ways, the full checks forced by taking the clean statement away, and compares what each gives:
the rows, the counts, the rejects. Files with a flaw it must not pass over (a bad row, a repeat,
a summary row, a space at a cell's edge) must come back from the full checks.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from dashboard.ingest import parse, partitions
from dashboard.ingest.contract import KINDS
from tests.fixtures import DAYS, TAIGUO, build_fixture, id_number, person_id

KEY = b"k" * 32
TESTING = KINDS["testing_records"]
# The fixture's last day has a file of every export kind.
FILES = ["testing_records", "control_zones", "isolation", "shifts", "checkpoint_log", "door_visits"]


@pytest.fixture(scope="module")
def fixture_root(tmp_path_factory) -> Path:
    return build_fixture(tmp_path_factory.mktemp("clean") / "data")


def known_codes(root: Path) -> dict:
    """The reference codes, read from the fixture's own CSV files."""
    with (root / "reference" / "areas.csv").open(encoding="utf-8") as f:
        areas = {row["area_code"] for row in csv.DictReader(f)}
    with (root / "reference" / "sites.csv").open(encoding="utf-8") as f:
        sites = {row["site_id"]: row["area_code"] for row in csv.DictReader(f)}
    return {"area": areas, "site": sites}


def lines_after_header(path: Path) -> int:
    data = path.read_bytes()
    return data.count(b"\n") + (not data.endswith(b"\n")) - 1


def parse_once(con, path: Path, kind, known: dict, workdir: Path, **options):
    """(the parse, its rows): the rows are read at once, as the next parse replaces them."""
    parsed = parse.parse_file(con, path, kind, known, KEY, workdir, **options)
    return parsed, sorted(parsed.rows.fetchall(), key=repr)


def parse_both(con, monkeypatch, path: Path, kind, known: dict, workdir: Path, **options):
    """The file parsed as the ingest does, then with the full checks alone."""
    as_ingested = parse_once(con, path, kind, known, workdir, **options)
    with monkeypatch.context() as patched:
        patched.setattr(parse, "_clean", lambda *args, **kwargs: None)
        checked = parse_once(con, path, kind, known, workdir, **options)
    return as_ingested, checked


def counts(parsed) -> tuple:
    return (parsed.rows_read, parsed.rows_loaded, parsed.rows_rejected, parsed.rows_skipped,
            [(r.line, r.column, r.reason, r.value) for r in parsed.rejects])


@pytest.mark.parametrize("kind", FILES)
def test_a_good_file_goes_the_clean_way_to_the_rows_of_the_full_checks(con, monkeypatch, tmp_path, fixture_root, kind):
    path = fixture_root / "exports" / DAYS[-1].isoformat() / f"{kind}.csv"
    (clean, clean_rows), (checked, checked_rows) = parse_both(con, monkeypatch, path, KINDS[kind],
                                                              known_codes(fixture_root), tmp_path)
    assert clean.clean and not checked.clean
    assert clean_rows == checked_rows and len(clean_rows) == lines_after_header(path) > 0
    assert counts(clean) == counts(checked) == (len(clean_rows), len(clean_rows), 0, 0, [])


def test_a_street_ledger_keeps_to_its_street_either_way(con, monkeypatch, tmp_path, fixture_root):
    path = fixture_root / "exports" / DAYS[-1].isoformat() / "isolation.csv"
    own = [row for row in path.read_text(encoding="utf-8").splitlines()[1:] if f",{TAIGUO}" in row]
    ledger = tmp_path / "isolation.csv"
    ledger.write_text("\n".join([path.read_text(encoding="utf-8").splitlines()[0], *own]) + "\n", encoding="utf-8")
    (clean, clean_rows), (checked, checked_rows) = parse_both(
        con, monkeypatch, ledger, KINDS["isolation"], known_codes(fixture_root), tmp_path, within=(TAIGUO, "台郭"))
    assert clean.clean and clean_rows == checked_rows and len(clean_rows) == len(own) > 0
    # The whole district's ledger is not one street's: some rows are outside, and the clean way fails.
    (clean, clean_rows), (checked, checked_rows) = parse_both(
        con, monkeypatch, path, KINDS["isolation"], known_codes(fixture_root), tmp_path, within=(TAIGUO, "台郭"))
    assert not clean.clean and counts(clean) == counts(checked) and clean_rows == checked_rows
    assert clean.rows_rejected == lines_after_header(path) - len(own) > 0


def test_staged_parquet_is_the_same_either_way(con, monkeypatch, tmp_path, fixture_root):
    path = fixture_root / "exports" / DAYS[-1].isoformat() / "testing_records.csv"
    written = {}
    for way in ("clean", "checked"):
        staged = partitions.Staged(tmp_path / f"{way}.parquet", DAYS[-1])
        with monkeypatch.context() as patched:
            if way == "checked":
                patched.setattr(parse, "_clean", lambda *args, **kwargs: None)
            parsed = parse.parse_file(con, path, TESTING, known_codes(fixture_root), KEY, tmp_path, staged=staged)
        assert parsed.clean == (way == "clean")
        written[way] = duckdb.sql("select * from read_parquet($path) order by sample_id",
                                  params={"path": str(staged.path)}).fetchall()
    assert written["clean"] == written["checked"]
    assert len(written["clean"]) == lines_after_header(path)
    assert {row[0] for row in written["clean"]} == {DAYS[-1]}


def write_testing(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "testing_records.csv"
    path.write_text("\n".join(["sample_id,person_id,area_code,site_id,round,sampled_at,result", *rows]) + "\n",
                    encoding="utf-8")
    return path


def sample(n: int, sample_id: str | None = None, round_: str = "1", area: str = TAIGUO, result: str = "negative",
           person: str | None = None) -> str:
    return (f"{sample_id or f'S{n}'},{person or person_id(TAIGUO, n)},{area},CP01,{round_},"
            f"2022-01-06 08:00:00,{result}")


GOOD = [sample(n) for n in range(1, 200)]
KNOWN = {"area": {TAIGUO}, "site": {"CP01": TAIGUO}}
WRONG_CHECK_DIGIT = id_number("41010319900101123")[:17] + ("0" if id_number("41010319900101123")[17] != "0" else "1")


@pytest.mark.parametrize(("flaw", "expected", "stays_clean"), [
    # The last line, so that the clean statement has written most of the file when it fails.
    (sample(999, person=WRONG_CHECK_DIGIT), (200, 199, 1, 0, [(201, "person_id", "ID number fails its check digit",
                                                                 WRONG_CHECK_DIGIT[:3] + "*" * 13 + WRONG_CHECK_DIGIT[-2:])]),
     False),
    (sample(999, sample_id="S7"), (200, 199, 1, 0, [(201, "sample_id", "duplicate sample_id", "S7")]), False),
    # Rows the full checks skip are left out the clean way too, and counted as skipped.
    ("合计,199,,,,,", (199, 199, 0, 1, []), True),
    ("填报人：王某某  联系电话：138xxxx2032,,,,,,", (199, 199, 0, 1, []), True),
    ("", (199, 199, 0, 1, []), True),
    ("S1000,too,few", (200, 199, 1, 0, [(201, "", "row has the wrong number of cells (expected 7)", "")]), False),
], ids=["bad ID", "repeat", "summary row", "signature row", "blank line", "unreadable row"])
def test_a_file_with_a_flaw_gives_the_rows_and_counts_of_the_full_checks(con, monkeypatch, tmp_path, flaw, expected,
                                                                         stays_clean):
    path = write_testing(tmp_path, [*GOOD, flaw])
    (clean, clean_rows), (checked, checked_rows) = parse_both(con, monkeypatch, path, TESTING, KNOWN, tmp_path)
    assert clean.clean == stays_clean
    assert counts(clean) == counts(checked) == expected
    assert clean_rows == checked_rows and len(clean_rows) == 199


def test_a_summary_row_and_a_row_with_a_problem_take_the_full_checks(con, monkeypatch, tmp_path):
    path = write_testing(tmp_path, [*GOOD[:50], "合计,199,,,,,", *GOOD[50:], sample(999, sample_id="S7")])
    (clean, clean_rows), (checked, checked_rows) = parse_both(con, monkeypatch, path, TESTING, KNOWN, tmp_path)
    assert not clean.clean
    assert counts(clean) == counts(checked) == (200, 199, 1, 1, [(202, "sample_id", "duplicate sample_id", "S7")])
    assert clean_rows == checked_rows and len(clean_rows) == 199


@pytest.mark.parametrize(("spaced", "stays_clean"), [
    (sample(150, round_=" 1"), True), (sample(150, result="negative "), False), (sample(150, area=f" {TAIGUO}"), False),
    (sample(150).replace("2022-01-06 08:00:00", "2022-01-06 08:00:00 "), False),
], ids=["number", "value word", "reference code", "date and time"])
def test_a_space_at_a_typed_cell_edge_gives_the_row_as_if_it_had_none(con, monkeypatch, tmp_path, spaced, stays_clean):
    # The clean statement does not trim numbers, dates, value words or codes. A number is read
    # the same with a space (as_int trims); any other such cell fails a check, and the full
    # checks trim it and load the row as if it had none.
    spaced_rows = [spaced if row.startswith("S150,") else row for row in GOOD]
    (clean, clean_rows), (checked, checked_rows) = parse_both(con, monkeypatch, write_testing(tmp_path, spaced_rows),
                                                              TESTING, KNOWN, tmp_path)
    _, plain_rows = parse_once(con, write_testing(tmp_path, GOOD), TESTING, KNOWN, tmp_path)
    assert clean.clean == stays_clean and counts(clean) == counts(checked) == (199, 199, 0, 0, [])
    assert clean_rows == checked_rows == plain_rows


def test_a_space_at_a_text_cell_edge_is_trimmed_the_clean_way(con, monkeypatch, tmp_path):
    # Text is trimmed by the clean statement too: " S150 " is stored as S150, the way the full checks store it.
    spaced_rows = [sample(150, sample_id=" S150 ") if row.startswith("S150,") else row for row in GOOD]
    (clean, clean_rows), (checked, checked_rows) = parse_both(con, monkeypatch, write_testing(tmp_path, spaced_rows),
                                                              TESTING, KNOWN, tmp_path)
    _, plain_rows = parse_once(con, write_testing(tmp_path, GOOD), TESTING, KNOWN, tmp_path)
    assert clean.clean and clean_rows == checked_rows == plain_rows


def test_a_header_alone_is_a_clean_file_of_no_rows(con, monkeypatch, tmp_path):
    (clean, clean_rows), (checked, checked_rows) = parse_both(con, monkeypatch, write_testing(tmp_path, []),
                                                              TESTING, KNOWN, tmp_path)
    assert clean.clean and counts(clean) == counts(checked) == (0, 0, 0, 0, []) and clean_rows == checked_rows == []


@pytest.mark.parametrize("where", ["middle", "end"])
def test_a_blank_line_a_scan_did_not_look_for_is_found_by_the_count(con, monkeypatch, tmp_path, where):
    # The ingest's scan (made as it hashes the file) does not look for blank lines: DuckDB skips
    # them, the clean statement's count comes out a row short, and the parse looks then.
    rows = [*GOOD[:100], "", *GOOD[100:]] if where == "middle" else [*GOOD, ""]
    path = write_testing(tmp_path, rows)
    from dashboard.ingest import text

    found = text.scan(path, blank_lines=False)
    assert found.blank_lines is None
    parsed, parsed_rows = parse_once(con, path, TESTING, KNOWN, tmp_path, found=found)
    _, (checked, checked_rows) = parse_both(con, monkeypatch, path, TESTING, KNOWN, tmp_path)
    assert not parsed.clean and counts(parsed) == counts(checked) == (199, 199, 0, 1, [])
    assert parsed_rows == checked_rows and len(parsed_rows) == 199


def test_a_file_read_buffer_by_buffer_gives_every_row_of_one_reader(con, monkeypatch, tmp_path):
    # The clean statement's reader splits a file into buffers (parse.READ_BUFFER_BYTES) that its
    # threads read side by side. A quoted cell holding commas and quotes lies across every buffer's
    # end here, the end falling on a different byte of it each time: the rows must be those of the
    # full checks, which read the file in one piece, and of Python's csv module.
    buffer = 16_384
    monkeypatch.setattr(parse, "MAX_LINE_BYTES", 4_096)
    monkeypatch.setattr(parse, "READ_BUFFER_BYTES", buffer)
    header = "sample_id,person_id,area_code,site_id,round,sampled_at,result\n"
    lines, size = [], len(header)
    for n in range(1, 3_000):
        line = sample(n) + "\n"
        boundary = (size // buffer + 1) * buffer
        if size + len(line) > boundary:
            # The boundary's byte, give or take two, is a comma or a quote inside the quotes.
            inside = boundary - size - 4 + len(lines) % 5
            line = f'"S{n}' + ',""' * max(1, inside // 3) + '"' + sample(n)[len(f"S{n}"):] + "\n"
        lines.append(line)
        size += len(line)
    path = tmp_path / "testing_records.csv"
    path.write_text(header + "".join(lines), encoding="ascii")
    with path.open(encoding="ascii", newline="") as f:
        expected = sorted(row["sample_id"] for row in csv.DictReader(f))
    assert size > 8 * buffer and sum('"' in sample_id for sample_id in expected) == size // buffer
    (clean, clean_rows), (checked, checked_rows) = parse_both(con, monkeypatch, path, TESTING, KNOWN, tmp_path)
    assert clean.clean and counts(clean) == counts(checked) == (len(expected), len(expected), 0, 0, [])
    assert clean_rows == checked_rows
    assert sorted(row[0] for row in clean_rows) == expected


def test_the_clean_statements_are_planned_as_written_and_the_plan_is_reset_after(con):
    """The reader's row count is a guess, so the clean statements run with the join order as written
    (parse.PLAN_AS_WRITTEN); every statement after them is planned as usual again, after an error
    too."""
    setting = "select current_setting('disabled_optimizers')"
    with parse.planned_as_written(con):
        assert set(con.execute(setting).fetchone()[0].split(",")) == {"join_order", "build_side_probe_side"}
    assert con.execute(setting).fetchone()[0] == ""
    with pytest.raises(duckdb.Error), parse.planned_as_written(con):
        con.execute("select cast('x' as integer)")
    assert con.execute(setting).fetchone()[0] == ""
