"""Who may run which query: a table written by hand, not read from the queries' header lines, and
a guard that every query returning people's names or keys is restricted."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.figures.queries import example_params, query_names, restricted_queries
from dashboard.ingest.checks import pseudonym_column
from dashboard.ingest.contract import KINDS, PERSON_ID
from dashboard.web import auth
from tests.fixtures import DAYS
from tests.test_screens_and_login import app_env, log_in, with_users  # noqa: F401  (fixtures)

# Every role against every restricted query: True where the role may run it.
# screen: a wall screen in a public room, aggregates only. leader: names of staff, for
# rostering. admin: also the rejected rows and the ingest log, which quote export files.
# isolation/awaiting_transfer lists residents (by a short pseudonymous code) for transfer teams.
# health/unrecognised names files as the field named them (a name may be a person's): not on a wall.
# clerk: a street's data clerk sees the rejected cells of the street's own files, to fix them,
# and nobody's names.
UPLOADS = ("upload/serving", "upload/taken_in")
MAY_RUN = {
    "screen": {"staff/roster": False, "staff/fatigue": False, "health/rejects": False, "health/ingest_log": False,
               "isolation/awaiting_transfer": False, "health/unrecognised": False, **dict.fromkeys(UPLOADS, False)},
    "leader": {"staff/roster": True, "staff/fatigue": True, "health/rejects": False, "health/ingest_log": False,
               "isolation/awaiting_transfer": True, "health/unrecognised": True, **dict.fromkeys(UPLOADS, False)},
    "admin": {"staff/roster": True, "staff/fatigue": True, "health/rejects": True, "health/ingest_log": True,
              "isolation/awaiting_transfer": True, "health/unrecognised": True, **dict.fromkeys(UPLOADS, True)},
    # A street's data clerk: their own files' rejects and what became of their uploads; no names.
    "clerk": {"staff/roster": False, "staff/fatigue": False, "health/rejects": True, "health/ingest_log": False,
              "isolation/awaiting_transfer": False, "health/unrecognised": False, **dict.fromkeys(UPLOADS, True)},
}
CELLS = [(role, query, allowed) for role, row in MAY_RUN.items() for query, allowed in row.items()]

# Result columns that identify a person: a staff member's name or work number, a resident's
# pseudonymous key (one per ID column of the contract) or a short code cut from it, and a rejected
# cell as it was exported.
PERSONAL_COLUMNS = {"staff_name", "staff_id", "value", "person_code"} | {
    pseudonym_column(column.name) for kind in KINDS.values() for column in kind.columns if column.type == PERSON_ID}


def test_the_table_covers_every_role_and_restricted_query():
    assert set(MAY_RUN) == set(auth.ROLES)
    assert all(set(row) == set(restricted_queries()) for row in MAY_RUN.values())


def test_header_lines_name_only_known_roles():
    named = {role for roles in restricted_queries().values() for role in roles}
    assert named and named <= set(auth.ROLES)


def test_a_misspelt_roles_clause_is_refused(tmp_path, monkeypatch):
    from dashboard.figures import queries

    (tmp_path / "staff").mkdir()
    (tmp_path / "staff" / "listing.sql").write_text("-- One row per person. Params: $day, $area. Roles: leader admin\nselect 1\n")
    monkeypatch.setattr(queries, "QUERIES_DIR", tmp_path)
    queries.load.cache_clear()
    queries.allowed_roles.cache_clear()
    try:
        with pytest.raises(ValueError, match="Roles: role, role"):
            queries.allowed_roles("staff/listing")
    finally:
        queries.load.cache_clear()
        queries.allowed_roles.cache_clear()


@pytest.mark.parametrize("role, query, allowed", CELLS, ids=[f"{r}-{q}" for r, q, _ in CELLS])
def test_role_against_restricted_query(role, query, allowed):
    assert auth.may_run(role, query) is allowed
    if allowed:
        auth.check_query(role, query)
    else:
        with pytest.raises(auth.AccessDenied):
            auth.check_query(role, query)


@pytest.mark.parametrize("query", ["staff/roster", "testing/day_totals"])
def test_no_role_and_unknown_roles_run_nothing(query):
    for role in ("", "guest", "Admin", None):
        assert not auth.may_run(role, query)


@pytest.mark.parametrize("role", sorted(MAY_RUN))
def test_aggregates_are_open_to_every_role(role):
    for query in set(query_names()) - set(restricted_queries()):
        assert auth.may_run(role, query), query


def personal_columns_by_query(snapshot) -> dict[str, set[str]]:
    """Each query's result columns that identify a person, run on the fixture snapshot."""
    found = {}
    for name in query_names():
        columns = set(snapshot.run(name, **example_params(name, DAYS[-1])).columns)
        if columns & PERSONAL_COLUMNS:
            found[name] = columns & PERSONAL_COLUMNS
    return found


def unrestricted(found: dict[str, set[str]], restricted) -> dict[str, set[str]]:
    return {name: columns for name, columns in found.items() if name not in restricted}


def test_every_query_returning_people_is_restricted(snapshot):
    found = personal_columns_by_query(snapshot)
    # The guard looks at what exists: the roster and fatigue name staff, rejects quote cells.
    assert {"staff/roster", "staff/fatigue", "health/rejects", "isolation/awaiting_transfer"} <= set(found)
    assert unrestricted(found, restricted_queries()) == {}


def test_the_guard_notices_an_unrestricted_query(snapshot):
    found = personal_columns_by_query(snapshot)
    loosened = {name: roles for name, roles in restricted_queries().items() if name != "staff/fatigue"}
    assert unrestricted(found, loosened) == {"staff/fatigue": {"staff_id", "staff_name"}}


def run_the_roster():
    """A page that asks for the roster through the cached runner the real pages use."""
    from datetime import date

    import streamlit as st

    from dashboard.web import access, auth, cache

    if access.login_gate():
        try:
            roster = cache.query("staff/roster", day=date(2022, 1, 6), area="")
        except auth.AccessDenied:
            st.error("refused")
        else:
            st.metric("roster rows", len(roster))


@pytest.mark.parametrize("username, shown", [
    ("wall", None),
    # Shifts overlapping 01-06: CP01's 3 x 6 that day, TS01's 2 and MV01's 2.
    ("zhang", "22"),
    ("ops", "22"),
])
def test_a_logged_in_screen_is_refused_the_roster(with_users, username, shown):  # noqa: F811
    at = AppTest.from_function(run_the_roster, default_timeout=30).run()
    assert not at.metric  # nothing before the login
    at = log_in(at, username, f"{username}-pw")
    assert not at.exception, [e.message for e in at.exception]
    if shown is None:
        assert [e.value for e in at.error] == ["refused"] and not at.metric
    else:
        assert not at.error and [m.value for m in at.metric] == [shown]
