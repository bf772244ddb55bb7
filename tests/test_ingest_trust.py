"""What a security review of the ingest found: a watcher that never rested, ID numbers in
messages, symbolic links followed, any ID key accepted, and real region codes in the demo."""

from __future__ import annotations

import csv
import dataclasses
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from dashboard.demo.generate import id_numbers
from dashboard.ingest import partitions
from dashboard.ingest.build import ingest
from dashboard.ingest.ids import mask_ids
from dashboard.ingest.partitions import open_snapshot
from dashboard.ingest.status import read_status, status_path
from dashboard.ingest.watcher import watch
from dashboard.settings import DEMO_DB, REPO, IdKeyRefused, Settings
from tests.fixtures import TAIGUO, XINGYUAN, build_fixture, id_number, person_id, person_key

KEY_A = "a" * 16 + "0123456789abcdef" * 3
KEY_B = "b" * 16 + "fedcba9876543210" * 3


def table_rows(db_path: Path, sql: str, **params) -> list[tuple]:
    con = open_snapshot(db_path)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def every_text_in(db_path: Path, *tables: str) -> str:
    """Every value of every column of the tables, as one string to search."""
    con = open_snapshot(db_path)
    try:
        return "\n".join(str(value) for table in tables for row in con.table(table).fetchall() for value in row)
    finally:
        con.close()


def files_under(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in folder.rglob("*")}


# --- 1. the watcher rests ---------------------------------------------------------------

def test_watcher_ingests_once_when_the_snapshot_lives_in_the_data_directory(tmp_path):
    # The README's old layout: snapshot, lock and status file inside the data directory.
    root = build_fixture(tmp_path / "data")
    settings = Settings.from_env(root, root / "snapshot.duckdb")
    summaries = []
    watch(settings, interval=0, report=summaries.append, rounds=5)
    assert len(summaries) == 1, summaries
    assert "testing_records  loaded" in summaries[0]


def test_watcher_still_sees_a_changed_export(tmp_path):
    root = build_fixture(tmp_path / "data")
    # 4 of 11 samples would be held unaccepted (tests/test_ingest_guards.py): here the watching is tested.
    settings = dataclasses.replace(Settings.from_env(root, root / "snapshot.duckdb"), reexport_max_drop=1.0)
    export = root / "exports" / "2022-01-05" / "testing_records.csv"
    summaries = []

    def report(text):
        summaries.append(text)
        if len(summaries) == 1:
            # 01-05 re-exported with its first 4 samples only.
            export.write_text("\n".join(export.read_text().splitlines()[:5]) + "\n")

    watch(settings, interval=0, report=report, rounds=4)
    assert len(summaries) == 2
    assert table_rows(settings.db_path, "select count(*) from testing_records where export_day = '2022-01-05'") == [
        (4,)]


def test_default_snapshot_and_key_live_in_the_state_directory(tmp_path, monkeypatch):
    root = build_fixture(tmp_path / "data")
    state = tmp_path / "state"
    monkeypatch.setenv("DASHBOARD_STATE_DIR", str(state))
    monkeypatch.setenv("DASHBOARD_DATA", str(root))
    monkeypatch.delenv("DASHBOARD_DB", raising=False)
    settings = Settings.from_env()
    assert settings.db_path.parent == state / "snapshots"
    assert settings.db_path.suffix == ".duckdb" and settings.db_path.name.startswith("data-")
    before = files_under(root)
    assert ingest(settings).ok
    assert files_under(root) == before  # nothing written into the data directory
    assert settings.db_path.is_file()
    key_file = state / "id_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) == 64

    # The same folder by a relative path gets the same snapshot; another folder another one.
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env("data").db_path == settings.db_path
    assert Settings.from_env(tmp_path / "other").db_path != settings.db_path
    assert Settings.from_env(tmp_path / "other").db_path.parent == state / "snapshots"


def test_state_directory_follows_xdg_and_the_demo_keeps_its_place(tmp_path, monkeypatch):
    monkeypatch.delenv("DASHBOARD_STATE_DIR", raising=False)
    monkeypatch.delenv("DASHBOARD_DATA", raising=False)
    monkeypatch.delenv("DASHBOARD_DB", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert Settings.from_env(tmp_path / "data").db_path.parent == tmp_path / "xdg" / "erqi-dashboard" / "snapshots"
    assert Settings.from_env().db_path == REPO / "data" / "demo.duckdb" == DEMO_DB
    monkeypatch.setenv("XDG_STATE_HOME", "relative/ignored")  # the XDG spec: ignore a relative value
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert Settings.from_env(tmp_path / "data").state_dir == tmp_path / "home" / ".local" / "state" / "erqi-dashboard"


# --- 2. no ID number in any message ------------------------------------------------------

def test_mask_ids_masks_every_id_shape_and_nothing_else():
    eighteen = id_number("99010319800101123")
    assert mask_ids(f"第2行 {eighteen} 有误") == f"第2行 {eighteen[:3]}{'*' * 13}{eighteen[-2:]} 有误"
    assert mask_ids("old 990103800101123 form") == "old 990**********23 form"
    assert mask_ids("lower x: 99010319800101123x.") == "lower x: 990*************3x."
    assert mask_ids("Excel: 9.90103E+17,") == "Excel: 9.9******17,"
    kept = "area 410103002001, sample S20220106000123, 2022-01-06 08:00, 44567.354, 1.5E+3, line 12"
    assert mask_ids(kept) == kept


def test_headerless_export_never_shows_the_id_number(tmp_path):
    root = build_fixture(tmp_path / "data")
    db_path = tmp_path / "snapshot.duckdb"
    exported = root / "exports" / "2022-01-06"
    first, second = person_id(TAIGUO, 4321), person_id(TAIGUO, 4322)
    # Someone exported without the header row: the first line is a person's row.
    (exported / "testing_records.csv").write_text(
        f"S9,{first},{TAIGUO},CP01,1,2022-01-06 08:00:00,negative\n"
        f"S10,{second},{TAIGUO},CP01,1,2022-01-06 08:05:00,negative\n")
    # And a shifted row that puts an ID number under area_code: rejected with its value kept.
    shifted = person_id(XINGYUAN, 4323)
    with (exported / "isolation.csv").open("a", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow(
            [person_id(XINGYUAN, 4324), shifted, "居家隔离", "", "2022-01-06", "2022-01-13", "", "密接"])

    process = subprocess.run(
        [sys.executable, "-m", "dashboard", "ingest", "--data", str(root), "--db", str(db_path)],
        capture_output=True, text=True, cwd=REPO, timeout=300)
    assert process.returncode == 1, process.stderr
    places = {
        "stdout": process.stdout,
        "stderr": process.stderr,
        "status file": status_path(db_path).read_text(encoding="utf-8"),
        "ingest_log": every_text_in(db_path, "ingest_log"),
        "rejects": every_text_in(db_path, "rejects"),
    }
    for raw in (first, second, shifted):
        for place, text in places.items():
            assert raw not in text, f"{raw} in {place}"
            assert raw[:15] not in text, f"first 15 digits of {raw} in {place}"
    # The failure is still explained, and the shifted row still kept out with its reason.
    assert "testing_records.csv: required column missing" in process.stderr
    assert "looks like data" in process.stderr
    assert "required column missing" in places["status file"] and "required column missing" in places["ingest_log"]
    assert table_rows(db_path, 'select "column", reason from rejects where kind = $kind', kind="isolation") == [
        ("area_code", "unknown area code")]


def test_watcher_errors_are_masked(tmp_path, monkeypatch):
    root = build_fixture(tmp_path / "data")
    settings = Settings.from_env(root, tmp_path / "snapshot.duckdb")
    raw = person_id(TAIGUO, 4400)

    def failing_ingest(_settings):
        raise RuntimeError(f"cannot parse {raw}")

    monkeypatch.setattr("dashboard.ingest.watcher.ingest", failing_ingest)
    printed = []
    watch(settings, interval=0, report=printed.append, rounds=1)
    assert len(printed) == 1 and printed[0].startswith("ERROR") and raw not in printed[0]


# --- 3. symbolic links -----------------------------------------------------------------

def test_symlinked_exports_are_reported_and_never_read(tmp_path):
    root = build_fixture(tmp_path / "data")
    settings = Settings.from_env(root, tmp_path / "snapshot.duckdb")
    assert ingest(settings).ok
    # A canary outside the data directory, valid in every way: if it is read, it loads.
    outside = tmp_path / "outside"
    canary_rows = "".join(
        f"CANARY{n},{person_id(TAIGUO, 4500 + n)},{TAIGUO},CP01,2,2022-01-06 09:00:00,negative\n" for n in range(3))
    header = "sample_id,person_id,area_code,site_id,round,sampled_at,result\n"
    (outside / "2022-01-07").mkdir(parents=True)
    (outside / "testing.csv").write_text(header + canary_rows)
    (outside / "2022-01-07" / "testing_records.csv").write_text(header + canary_rows.replace("01-06", "01-07"))
    linked_file = root / "exports" / "2022-01-06" / "testing_records.csv"
    linked_file.unlink()
    linked_file.symlink_to(outside / "testing.csv")
    (root / "exports" / "2022-01-07").symlink_to(outside / "2022-01-07")

    result = ingest(settings)
    refused = sorted((o.file, o.status, o.message) for o in result.outcomes if "symbolic link" in o.message)
    assert refused == [
        # Relative to the data directory: the message reaches the data-health page and the banner.
        ("exports/2022-01-06/testing_records.csv", "failed", "exports/2022-01-06/testing_records.csv: symbolic link, not read"),
        ("exports/2022-01-07", "failed", "exports/2022-01-07: symbolic link, not read")]
    assert table_rows(settings.db_path, "select count(*) from testing_records where sample_id like 'CANARY%'") == [(0,)]
    # Like an unusable re-export, the link leaves the day's previous data in place.
    assert table_rows(settings.db_path, "select count(*) from testing_records where export_day = '2022-01-06'") == [
        (3670,)]
    assert table_rows(settings.db_path, "select count(*) from loaded_files where day = '2022-01-07'") == [(0,)]


def test_symlinked_reference_file_is_not_read(tmp_path):
    root = build_fixture(tmp_path / "data")
    settings = Settings.from_env(root, tmp_path / "snapshot.duckdb")
    assert ingest(settings).ok
    canary = tmp_path / "canary.geojson"
    canary.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
                      '{"area_code": "999", "name": "CANARY", "level": "district"}, "geometry": null}]}')
    boundaries = root / "reference" / "boundaries.geojson"
    boundaries.unlink()
    boundaries.symlink_to(canary)
    result = ingest(settings)
    assert [(o.kind, o.status) for o in result.failed] == [("boundaries", "failed")]
    assert table_rows(settings.db_path, "select count(*) from boundaries where name = 'CANARY'") == [(0,)]
    assert table_rows(settings.db_path, "select count(*) from boundaries")[0][0] > 1


def plant_link(at: Path, tmp_path: Path) -> Path:
    target = tmp_path / f"target-of-{at.name}"
    target.write_text("untouched")
    at.symlink_to(target)
    return target


def test_links_planted_at_the_building_and_status_files_are_not_followed(tmp_path):
    root = build_fixture(tmp_path / "data")
    settings = Settings.from_env(root, tmp_path / "snapshot.duckdb")
    db = settings.db_path
    targets = [plant_link(db.with_name(db.name + suffix), tmp_path)
               for suffix in (".building", ".status.json", ".status.tmp")]
    assert ingest(settings).ok
    assert [t.read_text() for t in targets] == ["untouched"] * 3
    assert read_status(db)["ok"] is True and not status_path(db).is_symlink()
    assert not db.with_name(db.name + ".building").exists()


def test_link_planted_at_the_lock_is_refused(tmp_path):
    root = build_fixture(tmp_path / "data")
    settings = Settings.from_env(root, tmp_path / "snapshot.duckdb")
    target = plant_link(settings.db_path.with_name(settings.db_path.name + ".lock"), tmp_path)
    with pytest.raises(OSError, match="symbolic link"):
        ingest(settings)
    assert target.read_text() == "untouched"
    assert not settings.db_path.exists()


def test_link_planted_at_the_key_file_is_refused(tmp_path, monkeypatch):
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.setenv("DASHBOARD_STATE_DIR", str(state))
    target = tmp_path / "elsewhere"
    target.write_text(KEY_A)
    (state / "id_key").symlink_to(target)
    with pytest.raises(IdKeyRefused, match="symbolic link"):
        Settings.from_env(tmp_path / "data", tmp_path / "s.duckdb").id_key()
    assert target.read_text() == KEY_A


def test_snapshot_and_status_are_private_even_under_a_loose_umask(tmp_path):
    root = build_fixture(tmp_path / "data")
    settings = Settings.from_env(root, tmp_path / "snapshot.duckdb")
    loose = os.umask(0)
    try:
        assert ingest(settings).ok
        assert ingest(settings).ok  # the swapped-in copy of an existing snapshot too
    finally:
        os.umask(loose)
    parts = partitions.folder(settings.db_path)
    for path in (settings.db_path, status_path(settings.db_path), parts, *parts.rglob("*")):
        assert stat.S_IMODE(path.stat().st_mode) & 0o027 == 0, (path, oct(path.stat().st_mode))
    assert stat.S_IMODE(settings.id_key_file.stat().st_mode) == 0o600


# --- 9. the ID key ---------------------------------------------------------------------

def placeholder_key() -> str:
    with (REPO / ".streamlit" / "secrets.example.toml").open("rb") as f:
        return tomllib.load(f)["ids"]["hmac_key"]


@pytest.mark.parametrize(("key", "reason"), [
    ("", "empty"),
    ("   ", "empty"),
    ("0123456789abcdef0123456789abcde", "too short"),  # 31 characters
    (placeholder_key(), "placeholder"),
])
def test_unusable_keys_are_refused(tmp_path, monkeypatch, key, reason):
    root = build_fixture(tmp_path / "data")
    settings = Settings.from_env(root, tmp_path / "snapshot.duckdb")

    monkeypatch.setenv("DASHBOARD_ID_KEY", key)
    with pytest.raises(IdKeyRefused, match=reason):
        settings.id_key()
    with pytest.raises(IdKeyRefused):
        ingest(settings)
    assert not settings.db_path.exists() and reason in read_status(settings.db_path)["message"]

    monkeypatch.delenv("DASHBOARD_ID_KEY")
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(f'[ids]\nhmac_key = "{key}"\n')
    monkeypatch.setenv("DASHBOARD_SECRETS", str(secrets_file))
    with pytest.raises(IdKeyRefused, match=reason):
        settings.id_key()

    monkeypatch.setenv("DASHBOARD_SECRETS", str(tmp_path / "none.toml"))
    state = tmp_path / "state"
    state.mkdir()
    (state / "id_key").write_text(key)
    monkeypatch.setenv("DASHBOARD_STATE_DIR", str(state))
    with pytest.raises(IdKeyRefused, match=reason):
        Settings.from_env(root, tmp_path / "snapshot.duckdb").id_key()


def test_refused_key_is_a_clear_command_line_error(tmp_path):
    root = build_fixture(tmp_path / "data")
    environment = {**os.environ, "DASHBOARD_ID_KEY": "secret123"}
    process = subprocess.run(
        [sys.executable, "-m", "dashboard", "ingest", "--data", str(root), "--db", str(tmp_path / "s.duckdb")],
        capture_output=True, text=True, cwd=REPO, env=environment, timeout=300)
    assert process.returncode == 1
    assert "too short" in process.stderr and "Traceback" not in process.stderr
    assert "secret123" not in process.stderr + process.stdout


def raw_ids_in(root: Path) -> set[str]:
    found = set()
    for export in (root / "exports").rglob("*.csv"):
        with export.open() as f:
            for row in csv.DictReader(f):
                found.update(row[c] for c in ("person_id", "case_id") if c in row)
    return found


def pseudonyms_in(db_path: Path) -> set[str]:
    return {key for (key,) in table_rows(db_path, "select person_key from testing_records union all "
                                                  "select case_key from isolation")}


def test_key_change_rebuilds_every_pseudonym(fresh_data, monkeypatch):
    expected = {
        key: {person_key(key.encode(), raw) for raw in raw_ids_in(fresh_data.data_dir)}
        for key in (KEY_A, KEY_B)
    }
    monkeypatch.setenv("DASHBOARD_ID_KEY", KEY_A)
    assert ingest(fresh_data).ok
    assert pseudonyms_in(fresh_data.db_path) == expected[KEY_A]
    fingerprint_a = table_rows(fresh_data.db_path, "select value from meta where key = 'id_key_fingerprint'")

    monkeypatch.setenv("DASHBOARD_ID_KEY", KEY_B)
    result = ingest(fresh_data)
    assert result.ok
    # All pseudonyms are the new key's: none of the old ones is left beside them.
    assert pseudonyms_in(fresh_data.db_path) == expected[KEY_B]
    assert not expected[KEY_A] & expected[KEY_B]
    [rebuilt] = [o for o in result.outcomes if o.status == "rebuilt"]
    assert "ID key changed" in rebuilt.message
    assert not [o for o in result.outcomes if o.status == "unchanged"]  # every file re-read
    fingerprint_b = table_rows(fresh_data.db_path, "select value from meta where key = 'id_key_fingerprint'")
    assert fingerprint_a != fingerprint_b and KEY_B not in str(fingerprint_b)
    assert KEY_B.encode() not in fresh_data.db_path.read_bytes()

    # And with the key unchanged, nothing is re-read.
    again = ingest(fresh_data)
    assert {o.status for o in again.outcomes} <= {"unchanged", "missing"}


def test_key_from_an_earlier_version_is_adopted_not_replaced(tmp_path, monkeypatch):
    root = build_fixture(tmp_path / "data")
    monkeypatch.setenv("DASHBOARD_STATE_DIR", str(tmp_path / "state"))
    (root / ".id_key").write_text(KEY_A)  # where the old default put it, beside data/snapshot.duckdb
    settings = Settings.from_env(root, root / "snapshot.duckdb")
    result = ingest(settings)
    assert result.ok and settings.id_key() == KEY_A.encode()
    assert (tmp_path / "state" / "id_key").read_text().strip() == KEY_A
    [note] = [o for o in result.outcomes if o.kind == "id_key"]
    assert note.file == str(root / ".id_key") and "delete" in note.message


# --- 10. demo ID numbers -----------------------------------------------------------------

# Province-level codes in use (GB/T 2260), plus 83 for Taiwan residence permits.
REAL_PROVINCES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
                  50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}


def test_demo_and_example_id_numbers_belong_to_no_region():
    generated = id_numbers(np.arange(0, 12_600_000, 4_999), seed=42)
    examples = []
    # The example day's two testing senders (data/examples/README.md).
    for path in sorted((REPO / "data" / "examples" / "2022-01-06").glob("核酸采样_*.csv")):
        with path.open(encoding="gb18030") as f:
            examples += [row["身份证号"] for row in csv.DictReader(f) if row["样本编号"] != "合计"]
    assert len(examples) == 40  # the example day's 40 samples (dashboard/demo/example_day.py EXAMPLE_ROWS)
    for number in generated + examples + [person_id(TAIGUO, 0)]:
        assert int(number[:2]) not in REAL_PROVINCES, number
        assert id_number(number[:17]) == number  # still a valid MOD 11-2 check digit
    assert {n[:6] for n in generated + examples} == {"990103"}
