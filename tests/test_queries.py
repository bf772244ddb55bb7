"""Every named query and every data invariant, discovered from the repo."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dashboard.figures.queries import PARAM_TYPES, example_params, load, query_names
from dashboard.ingest import partitions
from dashboard.ingest.partitions import open_snapshot
from dashboard.settings import QUERIES_DIR
from tests.fixtures import DAYS

INVARIANTS = sorted((Path(__file__).parent / "invariants").glob("*.sql"))


def test_queries_are_discovered():
    on_disk = {f"{topic.name}/{file.stem}" for topic in QUERIES_DIR.iterdir() for file in topic.iterdir()}
    assert query_names() == sorted(on_disk) and on_disk


def test_every_declared_param_has_a_type():
    declared = {param for name in query_names() for param in load(name)[1]}
    assert declared == set(PARAM_TYPES)


def test_runner_refuses_a_wrongly_typed_value(snapshot):
    with pytest.raises(TypeError, match="day"):
        snapshot.run("testing/day_totals", day="2022-01-06", area="")


@pytest.mark.parametrize("name", query_names())
def test_query_states_grain_and_params_and_runs(name, snapshot):
    sql, declared = load(name)
    first_line = sql.splitlines()[0]
    assert first_line.startswith("-- ") and "Params:" in first_line
    frame = snapshot.run(name, **example_params(name, DAYS[-1]))
    assert len(frame.columns) > 0


@pytest.mark.parametrize("name", query_names())
def test_every_query_keeps_the_house_style(name):
    sql = (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")
    first, *_ = sql.splitlines()
    assert first.startswith("-- One row") and "Params:" in first
    assert sql.rstrip().splitlines()[-1].startswith("select * from ")
    assert "SELECT" not in sql and "GROUP BY" not in sql


def test_runner_refuses_undeclared_params(snapshot):
    with pytest.raises(TypeError):
        snapshot.run("testing/day_totals", day=DAYS[0], area="", round=1)


def test_runner_refuses_names_outside_queries(snapshot):
    with pytest.raises(ValueError):
        snapshot.run("../dashboard/ingest/schema")


def test_runner_binds_values_not_sql(snapshot):
    # A hostile area value is data: it matches nothing and drops nothing.
    frame = snapshot.run("testing/day_totals", day=DAYS[0], area="'; drop table areas; --")
    assert frame["samples"].iloc[0] == 0
    assert snapshot.run("testing/day_totals", day=DAYS[0], area="")["samples"].iloc[0] == 2700


def test_every_sql_file_is_a_query_or_invariant():
    assert all(p.suffix == ".sql" for p in QUERIES_DIR.rglob("*") if p.is_file())


@pytest.mark.parametrize("invariant", INVARIANTS, ids=lambda p: p.stem)
def test_data_invariant_returns_no_rows(invariant, fixture_snapshot):
    con = open_snapshot(fixture_snapshot.db_path)
    try:
        rows = con.execute(invariant.read_text()).fetchall()
    finally:
        con.close()
    assert rows == []


def test_invariants_can_fail(fixture_snapshot, tmp_path):
    """Break the snapshot on purpose: each invariant must notice its own kind of damage."""
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(fixture_snapshot.db_path.read_bytes())
    shutil.copytree(partitions.folder(fixture_snapshot.db_path), partitions.folder(broken))
    con = partitions.show(duckdb.connect(str(broken)), broken)
    con.execute("update round_coverage set persons_sampled = 10 ** 6")
    con.execute("insert into zones_daily select * replace (day + 30 as day, started_on + 60 as started_on)"
                " from zones_daily limit 1")
    con.execute("insert into loaded_files select * from loaded_files where kind = 'shifts' limit 1")
    con.execute("delete from staff_hourly where hour = 5")
    con.execute("delete from feed_status where kind = 'shifts'")
    con.execute("update isolation_daily set active = active + 1")
    failing = {p.stem for p in INVARIANTS if con.execute(p.read_text()).fetchall()}
    con.close()
    assert failing == {p.stem for p in INVARIANTS}


def test_fixture_days_are_the_export_days(snapshot):
    days = [d.date() for d in snapshot.run("health/export_days")["day"]]
    assert days == sorted(DAYS, reverse=True)
    assert isinstance(days[0], date)
