"""The upload path (issue 19), with files written here by hand and counts stated by hand."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from datetime import date

import bcrypt
import openpyxl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.figures.queries import Snapshot
from dashboard.ingest import upload
from dashboard.ingest.build import ingest
from dashboard.settings import REPO
from dashboard.web.pages import PAGES
from tests.conftest import serving
from tests.fixtures import DAYS, TAIGUO, TITLES, XIGONGFANG, XINGHUA, person_id
from tests.test_app_pages import APP

STREET_A, STREET_B = "410103001", "410103002"  # 蜜蜂张街道, 人和路街道
DAY = DAYS[-1]
HEADER = "sample_id,person_id,area_code,site_id,round,sampled_at,result"


def sample_rows(prefix: str, community: str, count: int, first_person: int) -> list[str]:
    return [f"{prefix}{i},{person_id(community, first_person + i)},{community},TS01,2,{DAY} 10:00:00,阴性"
            for i in range(count)]


# 3 rows of street A (西工房 twice, 兴华 once), then 2 of street B (台郭): lines 5 and 6.
MIXED = "\n".join([HEADER, *sample_rows("UPA", XIGONGFANG, 2, 3000), *sample_rows("UPB", XINGHUA, 1, 3000),
                   *sample_rows("UPC", TAIGUO, 2, 3000)]) + "\n"
MIXED_GBK = MIXED.encode("gbk")


@pytest.fixture
def ingested(fresh_data, tmp_path):
    """The fixture ingested, with a state directory (so an upload log) of this test's own."""
    settings = dataclasses.replace(fresh_data, state_dir=tmp_path / "state")
    assert ingest(settings).ok
    return settings


def samples(settings, area: str) -> int:
    snap = Snapshot(settings.db_path)
    try:
        return int(snap.run("testing/day_totals", day=DAY, area=area)["samples"].iloc[0])
    finally:
        snap.close()


def outcome_of(result, name: str):
    return next(o for o in result.outcomes if o.file.endswith(name))


def test_a_clerk_uploading_rows_of_another_street_gets_them_rejected(ingested):
    before_a, before_b = samples(ingested, STREET_A), samples(ingested, STREET_B)
    checked = upload.check(MIXED_GBK, "核酸采样 0106.csv", STREET_A, ingested)
    assert (checked.kind, checked.rows_read, checked.rows_loaded, checked.rows_rejected) == ("testing_records", 5, 3, 2)
    assert [(r.line, r.column) for r in checked.rejects] == [(5, "area_code"), (6, "area_code")]
    assert all(r.reason.startswith("area outside 蜜蜂张街道 (410103001)") for r in checked.rejects)
    saved = upload.save(checked, DAY, "clerk_a", ingested)
    assert saved == ingested.data_dir / "exports" / DAY.isoformat() / "上传-410103001-核酸采样 0106.csv"
    assert saved.read_bytes() == MIXED_GBK  # the bytes as sent: the ingest decodes GBK itself

    result = ingest(ingested)
    taken = outcome_of(result, saved.name)
    assert (taken.status, taken.rows_loaded, taken.rows_rejected) == ("loaded", 3, 2)
    assert samples(ingested, STREET_A) == before_a + 3
    assert samples(ingested, STREET_B) == before_b


def test_an_xlsx_upload_is_read_from_its_sheet(ingested):
    before = samples(ingested, STREET_A)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "采样"
    sheet.append(["二七区核酸采样登记"])  # a title row above the header, as the field's workbooks have
    sheet.append(HEADER.split(","))
    for row in sample_rows("XLA", XINGHUA, 2, 4000):
        sheet.append(row.split(","))
    path = ingested.data_dir.parent / "book.xlsx"
    book.save(path)
    checked = upload.check(path.read_bytes(), "采样登记.xlsx", STREET_A, ingested)
    assert (checked.kind, checked.sheet, checked.rows_read, checked.rows_loaded) == ("testing_records", "采样", 2, 2)
    upload.save(checked, DAY, "clerk_a", ingested)
    assert outcome_of(ingest(ingested), "上传-410103001-采样登记.xlsx").status == "loaded"
    assert samples(ingested, STREET_A) == before + 2


def test_the_upload_log_has_the_entry_with_its_sha256_and_no_cell(ingested):
    checked = upload.check(MIXED_GBK, "核酸.csv", STREET_A, ingested)
    upload.save(checked, DAY, "clerk_a", ingested)
    lines = ingested.upload_log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    logged = json.loads(lines[0])
    assert logged["sha256"] == hashlib.sha256(MIXED_GBK).hexdigest()
    assert {k: logged[k] for k in ("user", "area", "day", "file", "saved", "kind", "rows_read", "rows_loaded",
                                   "rows_rejected", "outcome")} == {
        "user": "clerk_a", "area": STREET_A, "day": DAY.isoformat(), "file": "核酸.csv",
        "saved": "上传-410103001-核酸.csv", "kind": "testing_records", "rows_read": 5, "rows_loaded": 3,
        "rows_rejected": 2, "outcome": "saved"}
    assert person_id(XIGONGFANG, 3000) not in lines[0] and "UPA0" not in lines[0]
    # A clerk of the other street sees none of it; the district (admin) sees it.
    assert upload.read_log(ingested, STREET_B) == [] and len(upload.read_log(ingested, "")) == 1


def test_a_failed_file_is_not_kept(ingested):
    folder = ingested.data_dir / "exports" / DAY.isoformat()
    before = sorted(os.listdir(folder))
    checked = upload.check("电话,姓名\n123,张三\n".encode(), "通讯录.csv", STREET_A, ingested)
    assert not checked.usable and checked.kind == ""
    with pytest.raises(upload.Refused):
        upload.save(checked, DAY, "clerk_a", ingested)
    assert sorted(os.listdir(folder)) == before
    assert json.loads(ingested.upload_log.read_text(encoding="utf-8"))["outcome"] == "refused"


def test_a_linked_day_folder_is_never_written_through(ingested, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (ingested.data_dir / "exports" / "2022-01-07").symlink_to(elsewhere)
    checked = upload.check(MIXED_GBK, "核酸.csv", STREET_A, ingested)
    with pytest.raises(upload.Refused, match="link"):
        upload.save(checked, date(2022, 1, 7), "clerk_a", ingested)
    assert list(elsewhere.iterdir()) == []


def test_a_path_in_the_name_or_a_planted_link_never_writes_outside_the_day_folder(ingested, tmp_path):
    folder = ingested.data_dir / "exports" / DAY.isoformat()
    checked = upload.check(MIXED_GBK, "../../../etc/..\\evil\x07.csv", STREET_A, ingested)
    assert checked.saved_name == "上传-410103001-evil.csv"
    target = tmp_path / "target.csv"
    target.write_text("untouched")
    (folder / checked.saved_name).symlink_to(target)
    saved = upload.save(checked, DAY, "clerk_a", ingested)
    assert saved.parent == folder and not saved.is_symlink() and saved.read_bytes() == MIXED_GBK
    assert target.read_text() == "untouched"
    assert not any(p.name.startswith(".") for p in folder.iterdir())  # no temporary left behind


def test_a_reupload_replaces_the_earlier_file_as_a_correction(ingested):
    first = upload.check(MIXED_GBK, "核酸.csv", STREET_A, ingested)
    upload.save(first, DAY, "clerk_a", ingested)
    assert ingest(ingested).ok
    # The same sender's file again, without street B's rows and with one row of A more: 4 loaded,
    # and the day's figure follows (a re-send replaces, never adds).
    again = "\n".join([HEADER, *sample_rows("UPA", XIGONGFANG, 2, 3000), *sample_rows("UPB", XINGHUA, 2, 3000)]) + "\n"
    second = upload.check(again.encode("gbk"), "核酸(1).csv", STREET_A, ingested)
    assert second.sender == first.sender == "area:410103001:核酸"
    before = samples(ingested, STREET_A)
    upload.save(second, DAY, "clerk_a", ingested, replaces=first.saved_name)
    assert ingest(ingested).ok
    assert samples(ingested, STREET_A) == before + 1
    with Snapshot(ingested.db_path).cursor() as con:
        assert con.execute("select count(*) from corrections where sender = 'area:410103001:核酸'").fetchone()[0] == 1
    assert json.loads(ingested.upload_log.read_text(encoding="utf-8").splitlines()[-1])["correction"] is True


def test_an_upload_naming_no_area_is_an_unrecognised_sender(ingested):
    folder = ingested.data_dir / "exports" / DAY.isoformat()
    (folder / "上传-410103009-核酸.csv").write_bytes(MIXED_GBK)
    result = ingest(ingested)
    found = outcome_of(result, "上传-410103009-核酸.csv")
    assert found.status == "unrecognised" and "no street or community" in found.message


def test_a_header_only_event_upload_counts_as_not_exported(ingested):
    checked = upload.check((HEADER + "\n").encode(), "核酸.csv", STREET_A, ingested)
    upload.save(checked, DAY, "clerk_a", ingested)
    assert outcome_of(ingest(ingested), "上传-410103001-核酸.csv").status == "empty"


KILLED_AFTER_CONFIRM = textwrap.dedent("""
    import os, signal, sys
    from datetime import date
    from dashboard.ingest import upload
    from dashboard.settings import Settings
    settings = Settings.from_env(sys.argv[1], sys.argv[2])
    checked = upload.check(open(sys.argv[3], "rb").read(), "核酸.csv", "410103001", settings)
    upload.save(checked, date.fromisoformat(sys.argv[4]), "clerk_a", settings)
    os.kill(os.getpid(), signal.SIGKILL)  # the server dies before it starts any ingest
""")


def test_an_upload_survives_the_server_being_killed_before_the_ingest(ingested, tmp_path):
    before = samples(ingested, STREET_A)
    sent = tmp_path / "sent.csv"
    sent.write_bytes(MIXED_GBK)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed = subprocess.run([sys.executable, "-c", KILLED_AFTER_CONFIRM, str(ingested.data_dir),
                             str(ingested.db_path), str(sent), DAY.isoformat()], env=env, cwd=REPO, timeout=120)
    assert killed.returncode == -9
    assert (ingested.data_dir / "exports" / DAY.isoformat() / "上传-410103001-核酸.csv").read_bytes() == MIXED_GBK
    later = subprocess.run([sys.executable, "-m", "dashboard", "ingest", "--data", str(ingested.data_dir),
                            "--db", str(ingested.db_path)], env=env, cwd=REPO, timeout=300, capture_output=True)
    assert later.returncode == 0, later.stderr
    assert samples(ingested, STREET_A) == before + 3


USERS = {"clerk_a": ("clerk", STREET_A), "ops": ("admin", "")}


@pytest.fixture
def clerk_app(fixture_snapshot, tmp_path, monkeypatch):
    path = tmp_path / "users.toml"
    path.write_text("".join(
        f'[auth.users.{name}]\nrole = "{role}"\narea = "{area}"\npassword_hash = '
        f'"{bcrypt.hashpw(f"{name}-pw".encode(), bcrypt.gensalt(4)).decode()}"\n'
        for name, (role, area) in USERS.items()))
    with serving(fixture_snapshot, monkeypatch):
        monkeypatch.setenv("DASHBOARD_USERS_FILE", str(path))
        st.cache_resource.clear()
        yield fixture_snapshot


def logged_in(username: str, page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    if page:
        at.switch_page(f"app_pages/{page}")
    at.run()
    at.text_input[0].input(username)
    at.text_input[1].input(f"{username}-pw")
    return at.button[0].click().run()


def test_a_clerk_lands_on_the_upload_page_and_opens_only_it_and_health(clerk_app):
    at = logged_in("clerk_a")
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "上传数据"
    opened = {}
    for spec in PAGES:
        # A page the role may not open is not in its navigation: the link lands on its home page.
        at = logged_in("clerk_a", spec.file)
        assert not at.exception, [e.message for e in at.exception]
        opened[spec.url_path] = at.title[0].value == TITLES[spec.url_path][0]
    assert opened == {"overview": False, "zones": False, "testing": False, "isolation": False, "staff": False,
                      "alerts": False, "health": True, "upload": True}


@pytest.fixture
def logged_uploads(ingested, tmp_path, monkeypatch):
    """Two uploads logged, one of each street, and the app serving that data with both users."""
    for area, name in ((STREET_A, "甲.csv"), (STREET_B, "乙.csv")):
        upload.save(upload.check(MIXED_GBK, name, area, ingested), DAY, f"clerk_{area}", ingested)
    path = tmp_path / "users.toml"
    path.write_text("".join(
        f'[auth.users.{name}]\nrole = "{role}"\narea = "{area}"\npassword_hash = '
        f'"{bcrypt.hashpw(f"{name}-pw".encode(), bcrypt.gensalt(4)).decode()}"\n'
        for name, (role, area) in USERS.items()))
    with serving(ingested, monkeypatch):
        monkeypatch.setenv("DASHBOARD_USERS_FILE", str(path))
        st.cache_resource.clear()
        yield ingested


@pytest.mark.parametrize("username, files", [("ops", ["乙.csv", "甲.csv"]), ("clerk_a", ["甲.csv"])])
def test_the_health_page_shows_the_upload_log_to_the_admin_and_a_clerk_their_own(logged_uploads, username, files):
    at = logged_in(username, "health.py")
    assert not at.exception, [e.message for e in at.exception]
    assert "上传日志" in [h.value for h in at.header]
    log = next(frame.value for frame in at.dataframe if "SHA-256" in frame.value.columns)
    assert list(log["文件名"]) == files  # newest first
    assert set(log["SHA-256"]) == {hashlib.sha256(MIXED_GBK).hexdigest()}


def test_a_roster_upload_with_a_post_of_another_street_gets_that_row_rejected(ingested):
    # A roster names posts, not areas: TS01 is 西工房's (蜜蜂张街道), CP01 台郭's (人和路街道), line 3.
    roster = "\n".join([
        "shift_id,staff_id,staff_name,unit,role,site_id,team_id,starts_at,ends_at,status",
        f"UP-TS01-1,U01,采样医生甲,二七区卫健委,doctor,TS01,,{DAY} 08:00:00,{DAY} 16:00:00,done",
        f"UP-CP01-1,U02,卡点人员乙,二七公安分局,police,CP01,,{DAY} 08:00:00,{DAY} 16:00:00,done",
    ]) + "\n"
    checked = upload.check(roster.encode("gbk"), "排班表.csv", STREET_A, ingested)
    assert (checked.kind, checked.rows_read, checked.rows_loaded, checked.rows_rejected) == ("shifts", 2, 1, 1)
    assert [(r.line, r.column) for r in checked.rejects] == [(3, "site_id")]
    assert checked.rejects[0].reason.startswith("site outside 蜜蜂张街道 (410103001)")


def test_the_page_says_live_only_for_a_file_the_ingest_loaded():
    import pandas as pd

    from dashboard.web.builders.uploads import taken_in_notice

    def row(status: str, message: str = "") -> pd.DataFrame:
        return pd.DataFrame({"ingested_at": [pd.Timestamp("2022-01-06 10:05")], "status": [status],
                             "message": [message], "live_since": [pd.Timestamp("2022-01-06 10:06")]})

    none = pd.DataFrame(columns=["ingested_at", "status", "message", "live_since"])
    saved_at = "2022-01-06T10:00:00"
    level, text = taken_in_notice(row("loaded"), None, saved_at, "核酸.csv", "en")
    assert level == "success" and "taken in at 10:05" in text and "live since 10:06" in text
    # Taken in but held back (far fewer rows than the file serving the day): not live, and why.
    level, text = taken_in_notice(row("held", "held: 3 rows against 900"), None, saved_at, "核酸.csv", "en")
    assert level == "warning" and "not live" in text and "3 rows against 900" in text
    assert taken_in_notice(row("empty"), None, saved_at, "核酸.csv", "en")[0] == "warning"
    # Not taken in yet: an ingest that failed after the save says so; one from before it does not count.
    failed = {"ok": False, "message": "disk full", "attempted_at": "2022-01-06T10:01:00"}
    level, text = taken_in_notice(none, failed, saved_at, "核酸.csv", "en")
    assert level == "error" and "disk full" in text
    earlier = {**failed, "attempted_at": "2022-01-06T09:59:00"}
    assert taken_in_notice(none, earlier, saved_at, "核酸.csv", "en")[0] == "info"
    assert taken_in_notice(none, {"ok": True, "attempted_at": "2022-01-06T10:01:00"}, saved_at, "核酸.csv", "en")[0] \
        == "info"
