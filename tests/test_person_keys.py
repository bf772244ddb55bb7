"""One person, one key: the same resident in testing_records and isolation gets the same
person_key, whichever way each file writes the ID number (full-width digits, a lower-case x)."""

from __future__ import annotations

import csv

from dashboard.ingest.build import ingest
from dashboard.ingest.partitions import open_snapshot
from tests.fixtures import TAIGUO, id_number, person_key

FULL_WIDTH = str.maketrans({**{str(d): chr(0xFF10 + d) for d in range(10)}, "X": "Ｘ", "x": "ｘ"})


def full_width(text: str) -> str:
    return text.translate(FULL_WIDTH)


def ids_ending_in_x(count: int) -> list[str]:
    """Valid ID numbers whose check character is X, from a region code that does not exist."""
    found = []
    sequence = 0
    while len(found) < count:
        number = id_number(f"99000019800101{sequence:03d}")
        if number.endswith("X"):
            found.append(number)
        sequence += 1
    return found


X1, X2, X3 = ids_ending_in_x(3)
DIGIT = next(n for n in (id_number(f"99000019900202{s:03d}") for s in range(100)) if not n.endswith("X"))
# (canonical ID, as the testing export writes it, as the isolation ledger writes it)
PERSONS = [
    (X1, X1, full_width(X1[:-1]) + "x"),
    (X2, full_width(X2.lower()), X2.lower()),
    (X3, X3.lower(), full_width(X3)),
    (DIGIT, full_width(DIGIT), DIGIT),
]


def append_rows(path, rows) -> None:
    with path.open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def test_one_person_one_key_across_feeds(fresh_data):
    day = fresh_data.data_dir / "exports" / "2022-01-06"
    append_rows(day / "testing_records.csv",
                [[f"SK{n}", written, TAIGUO, "MV01", 2, "2022-01-06 09:00:00", "negative"]
                 for n, (_, written, _) in enumerate(PERSONS)])
    append_rows(day / "isolation.csv",
                [[written, TAIGUO, "home", "", "2022-01-06", "2022-01-13", "", "密接"] for _, _, written in PERSONS])
    result = ingest(fresh_data)
    assert result.ok, result.failed

    key = fresh_data.id_key()
    expected = {canonical: person_key(key, canonical.upper()) for canonical, _, _ in PERSONS}
    con = open_snapshot(fresh_data.db_path)
    try:
        joined = con.execute(
            "select t.sample_id, t.person_key, i.case_key from testing_records as t"
            " join isolation as i on i.case_key = t.person_key and i.export_day = t.export_day"
            " where t.sample_id like 'SK%' order by t.sample_id").fetchall()
        rejected = con.execute("select count(*) from rejects where day = '2022-01-06'").fetchone()[0]
    finally:
        con.close()
    assert rejected == 0
    assert joined == [(f"SK{n}", expected[canonical], expected[canonical]) for n, (canonical, _, _) in
                      enumerate(PERSONS)]


def test_the_written_forms_really_differ():
    """The test above means something only if the files write the IDs in every awkward way."""
    def has_full_width(text: str) -> bool:
        return any("\uff10" <= c <= "\uff5a" for c in text)

    assert all(in_testing != in_isolation for _, in_testing, in_isolation in PERSONS)
    for column in (1, 2):  # in testing_records, then in isolation
        written = [person[column] for person in PERSONS]
        assert any(w.endswith(("x", "ｘ")) for w in written) and any(has_full_width(w) for w in written)
