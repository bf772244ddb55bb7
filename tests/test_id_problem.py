"""Why an ID number cannot be used (parse.sql's id_problem), against the rules of data/README.md
written out in Python: the macro's quick first case must take no value the rules would reject."""

from __future__ import annotations

import re

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.ingest import parse
from tests.fixtures import id_number

CHECK_CHARS = "10X98765432"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def rule(value: str) -> str | None:
    if re.fullmatch(r"[0-9]{17}[0-9X]", value):
        if CHECK_CHARS[sum(int(d) * w for d, w in zip(value[:17], WEIGHTS)) % 11] == value[17]:
            return None
        return ("ID number damaged by Excel (last digits turned to 0)" if value.endswith("000")
                else "ID number fails its check digit")
    if re.fullmatch(r"[0-9](\.[0-9]+)?E\+?[0-9]+", value):
        return "ID number damaged by Excel (scientific notation)"
    if re.fullmatch(r"[0-9]+", value):
        return "ID number is not 18 characters"
    return None


def problems(values: list[str]) -> list[str | None]:
    con = duckdb.connect()
    parse.install_macros(con)
    rows = con.execute("select id_problem(v, try_cast(left(v, 17) as bigint)) from unnest($values::varchar[]) t(v)",
                       {"values": values}).fetchall()
    con.close()
    return [problem for (problem,) in rows]


TRICKY = [
    id_number("41010319900101123"), id_number("11010519491231002"), id_number("01010519491231002"),
    id_number("41010319900101123")[:17] + "0", "41010319900101000", "+" + id_number("4101031990010112")[:17],
    " " + id_number("4101031990010112")[:17], "4101031990010112.5", "1_010319900101123X", "4.10103E+17",
    "41010319900101123", "410103199001011234", "41010319900101123x", "４10103199001011234", "", "P-7f3a",
    id_number("41010319900101123") + "5", id_number("41010319900101123") + "X",
]


def test_the_named_cases_follow_the_rules():
    assert problems(TRICKY) == [rule(v) for v in TRICKY]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.one_of(
    st.text(alphabet="0123456789X+-. _E", min_size=15, max_size=20),
    st.builds(lambda seventeen, last: seventeen + last, st.text(alphabet="0123456789", min_size=17, max_size=17),
              st.sampled_from("0123456789X")),
), min_size=1, max_size=40))
def test_any_value_follows_the_rules(values):
    assert problems(values) == [rule(v) for v in values]
