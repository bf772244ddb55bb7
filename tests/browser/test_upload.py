"""The upload page in Chromium (issue 19): a clerk of 蜜蜂张街道 drops a GBK CSV and an XLSX, sees each
file's result table, confirms; the page's own ingest takes them in, and a leader of the street then
sees the new figure. Counts by hand from the files written here."""

from __future__ import annotations

import re

import bcrypt
import openpyxl
import pytest
from playwright.sync_api import expect

from dashboard.i18n import t
from tests.browser.support import PHONE, USER_LABEL, log_in, metrics, open_app, screenshot, serve_fixture, wait_for_app
from tests.fixtures import TAIGUO, XIGONGFANG, XINGHUA, person_id

STREET = "410103001"  # 蜜蜂张街道: on 2022-01-06, 西工房 920 samples and 兴华 700 (tests/fixtures.py)
SAMPLES_BEFORE = 920 + 700
USERS = {"clerk_a": ("clerk", STREET), "lead_a": ("leader", STREET)}
HEADER = ["sample_id", "person_id", "area_code", "site_id", "round", "sampled_at", "result"]


def rows(prefix: str, community: str, count: int, first: int) -> list[list[str]]:
    return [[f"{prefix}{i}", person_id(community, first + i), community, "TS01", "2", "2022-01-06 10:00:00", "阴性"]
            for i in range(count)]


@pytest.fixture(scope="module")
def upload_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("upload")
    users = root / "users.toml"
    users.write_text("".join(
        f'[auth.users.{name}]\nrole = "{role}"\narea = "{area}"\n'
        f'password_hash = "{bcrypt.hashpw(f"{name}-pw".encode(), bcrypt.gensalt(4)).decode()}"\n\n'
        for name, (role, area) in USERS.items()), encoding="utf-8")
    with serve_fixture(root, DASHBOARD_USERS_FILE=str(users)) as running:
        yield running


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sent")
    # 3 rows of the street, 2 of 人和路街道's 台郭: rejected, lines 5 and 6.
    csv_rows = [HEADER, *rows("BRA", XIGONGFANG, 3, 5000), *rows("BRB", TAIGUO, 2, 5000)]
    csv_path = folder / "核酸采样.csv"
    csv_path.write_bytes(("\n".join(",".join(r) for r in csv_rows) + "\n").encode("gbk"))
    book = openpyxl.Workbook()
    for row in [HEADER, *rows("BRX", XINGHUA, 2, 6000)]:
        book.active.append(row)
    xlsx_path = folder / "兴华采样.xlsx"
    book.save(xlsx_path)
    return [csv_path, xlsx_path]


def log_in_as(page, server, username: str, path: str = "/") -> None:
    open_app(page, server, path)
    log_in(page, username, f"{username}-pw")
    expect(page.get_by_label(USER_LABEL)).to_have_count(0, timeout=30_000)
    wait_for_app(page)


def test_a_clerk_uploads_a_gbk_csv_and_an_xlsx_and_a_leader_sees_the_new_figure(new_page, upload_server, files):
    page = new_page()
    log_in_as(page, upload_server, "clerk_a")
    expect(page.locator("h1", has_text="上传数据")).to_be_visible()
    page.get_by_label(t("upload.day", "zh")).click()
    page.get_by_role("option", name="2022年1月6日").click()
    wait_for_app(page)
    page.locator('input[type="file"]').set_input_files([str(p) for p in files])
    # Each file: its name, its result table; the CSV also its 2 rejects.
    expect(page.locator("h2", has_text="核酸采样.csv")).to_be_visible(timeout=60_000)
    expect(page.locator("h2", has_text="兴华采样.xlsx")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("前 2 条拒收记录（共 2 条）")).to_be_visible()
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(3)  # two results, one rejects table
    wait_for_app(page)
    screenshot(page, "upload-desk")
    page.get_by_role("button", name=t("upload.confirm", "zh")).click()
    expect(page.get_by_text(re.compile(r"兴华采样\.xlsx：\d\d:\d\d 入库（已入库），数据自 \d\d:\d\d 起生效"))).to_be_visible(
        timeout=120_000)
    expect(page.get_by_text(re.compile(r"核酸采样\.csv：\d\d:\d\d 入库"))).to_be_visible()
    assert not page.locator('[data-testid="stException"]').count()

    phone = new_page(PHONE)
    log_in_as(phone, upload_server, "clerk_a")
    screenshot(phone, "upload-phone")

    leader = new_page()
    log_in_as(leader, upload_server, "lead_a", "/?day=2022-01-06")
    expect(leader.locator("h1", has_text="总览")).to_be_visible()
    wait_for_app(leader)
    # The cards may come a run after the title (a run that met the snapshot swap retries): wait for them.
    expect(leader.locator('[data-testid="stMetricLabel"]', has_text=t("kpi.samples", "zh"))).to_be_visible(
        timeout=60_000)
    assert metrics(leader)[t("kpi.samples", "zh")] == f"{SAMPLES_BEFORE + 3 + 2:,}"
