"""Who has reported (issue 18 item 4), everywhere a user looks: the report's JSON, the data-health
page's sender × kind table, the attention list (overview, wall, briefing) and the KPI cards.

On the field-shaped fixture (tests/test_field_files.py reshape()) where 蜜蜂张街道 sent no isolation
ledger on the last day. Its senders, from reshape(): the zone workbook 二七区封控管控区域台账; the
two samplers 核酸采样_固定点 and 核酸采样_采样车; one isolation ledger per street (蜜蜂张街道,
人和路街道); one roster per post (CP01, MV01 and TS01 on 01-06); the checkpoint log 卡点查验日报 and
the door visits 入户走访. A note, a photo and a phone list sit in every day folder.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from dashboard.__main__ import main
from dashboard.figures.headline import build_report, default_at, headline_figures
from dashboard.figures.queries import Snapshot
from dashboard.ingest.build import ingest
from dashboard.web.builders import kpis
from dashboard.web.builders.reporting import reporting_matrix
from tests.conftest import serving
from tests.fixtures import DAYS, STREETS, build_fixture
from tests.test_app_pages import open_page
from tests.test_attention import overview_list
from tests.test_field_files import _moved_day, reshape

LAST = DAYS[2]
MISSING_STREET, OTHER_STREET = STREETS[0], STREETS[1]  # (code, name): 蜜蜂张街道, 人和路街道
ISO_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


@pytest.fixture(scope="module")
def missing_street(tmp_path_factory):
    from dashboard.settings import Settings

    root = tmp_path_factory.mktemp("reporting")
    started = datetime.now().replace(microsecond=0)
    data_dir = build_fixture(root / "data")
    reshape(data_dir)
    settings = Settings.from_env(data_dir, root / "snapshot.duckdb")
    _moved_day(settings, 0, keep_header=False)
    assert ingest(settings).ok
    return settings, started


@pytest.fixture
def app_on_field(missing_street, monkeypatch):
    settings, _ = missing_street
    with serving(settings, monkeypatch):
        yield settings


def test_the_report_lists_every_expected_sender_of_the_day(missing_street):
    settings, started = missing_street
    snapshot = Snapshot(settings.db_path)
    report = build_report(snapshot, LAST, default_at(LAST))
    street_report = build_report(snapshot, LAST, default_at(LAST), OTHER_STREET[0])
    snapshot.close()
    # Feed order; within a feed who is missing first, then by name.
    assert [(r["kind"], r["sender"], r["area_code"], r["status"]) for r in report["reporting"]] == [
        ("control_zones", "二七区封控管控区域台账", None, "received"),
        ("testing_records", "核酸采样_固定点", None, "received"),
        ("testing_records", "核酸采样_采样车", None, "received"),
        ("isolation", "蜜蜂张街道", "410103001", "missing"),
        ("isolation", "人和路街道", "410103002", "received"),
        ("shifts", "CP01排班表", None, "received"),
        ("shifts", "MV01排班表", None, "received"),
        ("shifts", "TS01排班表", None, "received"),
        ("checkpoint_log", "卡点查验日报", None, "received"),
        ("door_visits", "入户走访", None, "received"),
    ]
    for row in report["reporting"]:
        if row["status"] == "missing":
            assert row["received_at"] is None
        else:  # when the file arrived (this test wrote it), to the second
            assert ISO_SECONDS.fullmatch(row["received_at"]), row
            assert started <= datetime.fromisoformat(row["received_at"]) <= datetime.now()
    assert report["feeds"]["isolation"]["missing_senders"] == ["蜜蜂张街道"]
    assert {kind: feed["missing_senders"] for kind, feed in report["feeds"].items() if kind != "isolation"} == {
        "control_zones": [], "testing_records": [], "shifts": [], "checkpoint_log": [], "door_visits": []}
    # Seen from the street that sent, nobody of its own is missing; the other street's ledger is
    # not its concern, the district-wide senders are.
    assert [r["sender"] for r in street_report["reporting"] if r["kind"] == "isolation"] == ["人和路街道"]
    assert len(street_report["reporting"]) == 9
    assert street_report["feeds"]["isolation"]["missing_senders"] == []


def cell_table(at, first: str, column: str):
    """The st.dataframe whose first column is `first` and that has `column`, indexed by the first."""
    (frame,) = [d.value for d in at.dataframe if list(d.value.columns[:1]) == [first] and column in d.value.columns]
    return frame.set_index(first)


def test_the_health_page_shows_who_has_reported_and_the_files_it_did_not_recognise(app_on_field):
    at = open_page("health.py", day=LAST.isoformat(), lang="zh")
    assert not at.exception, [e.message for e in at.exception]
    matrix = cell_table(at, "报送单位", "隔离台账")
    assert list(matrix.columns) == ["封控管控台账", "核酸采样", "隔离台账", "排班", "卡点查验", "入户走访"]
    # Its figures still come from its 01-05 ledger (tests/test_field_files.py), and the cell says so.
    assert matrix.at["蜜蜂张街道", "隔离台账"] == "未报送（沿用 1月5日）"
    assert re.fullmatch(r"已报送 \d\d:\d\d", matrix.at["人和路街道", "隔离台账"])
    assert re.fullmatch(r"已报送 \d\d:\d\d", matrix.at["核酸采样_采样车", "核酸采样"])
    # A street sends no testing records: no cell, not "not sent".
    assert matrix.isna().at["蜜蜂张街道", "核酸采样"]
    assert matrix.map(lambda cell: isinstance(cell, str) and cell.startswith("未报送")).sum().sum() == 1
    unrecognised = cell_table(at, "日期", "原因")
    # Three per day folder, newest day first, each once although every ingest logs them.
    assert list(unrecognised.columns) == ["文件名", "原因"]
    assert list(unrecognised.index[:3]) == ["1月6日"] * 3
    assert list(unrecognised["文件名"][:3]) == [f"exports/{LAST.isoformat()}/{name}"
                                               for name in ("值班电话.xlsx", "现场照片.jpg", "说明.txt")]
    assert len(unrecognised) == 9
    assert list(unrecognised["原因"][:3]) == [
        "no sheet is an export: closest kind: shifts (排班); missing columns: 班次编号 (shift_id), 工号 (staff_id),"
        " 角色 (role), 点位编号 (site_id), 上岗时间 (starts_at), 下岗时间 (ends_at), 状态 (status)",
        "not a table (a .jpg file)",
        "not recognised as an export: no cell of its header row is a column name of any export"]


def test_english_cells(app_on_field):
    matrix = cell_table(open_page("health.py", day=LAST.isoformat(), lang="en"), "Sender", "Isolation ledger")
    assert matrix.at["蜜蜂张街道", "Isolation ledger"] == "not sent (kept from 5 Jan)"
    assert re.fullmatch(r"sent \d\d:\d\d", matrix.at["人和路街道", "Isolation ledger"])


def test_the_overview_names_the_missing_street_in_its_list_cards_and_as_of_line(app_on_field):
    at = open_page("overview.py", day=LAST.isoformat(), lang="zh")
    assert not at.exception, [e.message for e in at.exception]
    listed = [(kind, line) for kind, line, _ in overview_list(at).items]
    assert ("sender_missing", "蜜蜂张街道：隔离台账今日未报送") in listed
    assert [line for kind, line in listed if kind.startswith("sender_")] == ["蜜蜂张街道：隔离台账今日未报送"]
    cards = {m.label: m for m in at.metric}
    # Every card made from the isolation ledger is partial; the others are whole.
    partial = sorted(label for label in cards if label.endswith(" · 部分报送"))
    assert partial == sorted(f"{name} · 部分报送" for name in (
        "阳性待转运", "居家隔离", "居家健康监测", "集中隔离", "明日到期解除", "隔离酒店入住率"))
    assert cards["居家隔离 · 部分报送"].help.endswith("\n\n截至 1月6日 · 部分报送：缺 蜜蜂张街道")
    (as_of,) = [c.value for c in at.caption if c.value.startswith("数据截至")]
    assert re.search(r" · 隔离台账 1月6日 导出（\S+ \d\d:\d\d 入库），部分报送：缺 蜜蜂张街道( · |$)", as_of), as_of
    assert "部分报送：缺 蜜蜂张街道" in as_of and as_of.count("部分报送") == 1


def test_the_wall_and_english_overview_list_it(app_on_field):
    wall = overview_list(open_page("overview.py", day=LAST.isoformat(), lang="en", kiosk="1"))
    assert ("sender_missing", "蜜蜂张街道: no isolation ledger sent today") in [(k, line) for k, line, _ in wall.items]


def test_the_briefing_names_the_missing_street(missing_street, tmp_path, capsys):
    settings, _ = missing_street
    args = ["--data", str(settings.data_dir), "--db", str(settings.db_path), "--day", LAST.isoformat()]
    assert main(["briefing", *args, "--out", str(tmp_path)]) == 0
    markdown = (tmp_path / f"briefing-{LAST.isoformat()}-district-zh.md").read_text(encoding="utf-8")
    assert "- 未报送：蜜蜂张街道：隔离台账今日未报送\n" in markdown
    # The other street sent: no line for it.
    assert "人和路街道：隔离台账今日未报送" not in markdown


def test_a_stale_feed_is_not_partial_and_names_are_literal(missing_street):
    """Partial needs some senders' files: a feed nobody sent is stale, which its cards already say.
    A sender's name is a file name, shown in Markdown: its punctuation is escaped."""
    settings, _ = missing_street
    snapshot = Snapshot(settings.db_path)
    figures = headline_figures(snapshot.run, LAST, default_at(LAST))
    snapshot.close()
    cards = kpis.kpi_cards(figures, None, "en", day=LAST)
    feeds = dict(figures.feeds, isolation=dict(figures.feeds["isolation"], missing_senders=["*x*"]),
                 shifts=dict(figures.feeds["shifts"], stale=True, missing_senders=["TS01排班表"]))
    marked = {c.key: c for c in kpis.mark_partial(cards, type(figures)(**{**figures.__dict__, "feeds": feeds}), "en")}
    assert marked["isolation_home"].label == "Home isolation · partial"
    assert marked["isolation_home"].help.endswith("\n\nAs of 6 Jan · partial: \\*x\\* missing")
    assert marked["staff_on_duty"].label == cards[[c.key for c in cards].index("staff_on_duty")].label
    assert marked["samples"].label == "Samples today"


def test_a_sender_of_two_kinds_is_one_row():
    import pandas as pd

    reporting = pd.DataFrame({
        "kind": ["control_zones", "isolation", "isolation"],
        "sender_name": ["甲街道", "甲街道", "乙街道"],
        "status": ["late", "received", "missing"],
        "received_at": pd.to_datetime(["2022-01-06 11:05", "2022-01-06 08:30", None]),
    })
    # No cell where a sender does not send a kind (the page shows it as "—").
    frame = reporting_matrix(reporting, "zh").frame.fillna("—")
    assert frame.to_dict("list") == {"报送单位": ["甲街道", "乙街道"], "封控管控台账": ["迟报 11:05", "—"],
                                     "隔离台账": ["已报送 08:30", "未报送"]}


@pytest.mark.parametrize("one_second", [False, True], ids=["apart", "within one second"])
def test_only_the_newest_ingests_unrecognised_files_are_listed(tmp_path, monkeypatch, one_second):
    from dashboard.ingest import build, staging
    from dashboard.settings import Settings

    if one_second:
        # Both ingests start, and log every line, in the same second (a small fixture on a fast machine).
        class Frozen(datetime):
            @classmethod
            def now(cls, tz=None):
                return datetime(2022, 1, 6, 12, 0, 0)

        monkeypatch.setattr(build, "datetime", Frozen)
        monkeypatch.setattr(staging, "datetime", Frozen)

    data_dir = build_fixture(tmp_path / "data")
    reshape(data_dir)
    settings = Settings.from_env(data_dir, tmp_path / "snapshot.duckdb")
    assert ingest(settings).ok
    snapshot = Snapshot(settings.db_path)
    assert len(snapshot.run("health/unrecognised", area="")) == 3 * len(DAYS)  # a note, a photo, a phone list a day
    snapshot.close()
    for day in DAYS:
        for name in ("说明.txt", "现场照片.jpg", "值班电话.xlsx"):
            (data_dir / "exports" / day.isoformat() / name).unlink()
    assert ingest(settings).ok
    snapshot = Snapshot(settings.db_path)
    assert snapshot.run("health/unrecognised", area="").empty  # the earlier ingest's list is not shown again
    snapshot.close()


def test_a_sender_after_its_due_time_is_late(tmp_path):
    import os

    from dashboard.settings import Settings

    data_dir = build_fixture(tmp_path / "data")
    reshape(data_dir)
    (data_dir / "reference" / "reporting.csv").write_text(
        f"数据类型,报送单位,区划代码,截止时间\n隔离台账,,{OTHER_STREET[0]},09:00\n隔离台账,{MISSING_STREET[1]},,09:00\n",
        encoding="utf-8")
    for day in DAYS:
        (ledger,) = (data_dir / "exports" / day.isoformat()).glob(f"{OTHER_STREET[1]}隔离台账*")
        arrived = datetime(day.year, day.month, day.day, 10, 40).timestamp()
        os.utime(ledger, (arrived, arrived))
        (mine,) = (data_dir / "exports" / day.isoformat()).glob(f"{MISSING_STREET[1]}隔离台账*")
        on_time = datetime(day.year, day.month, day.day, 8, 5).timestamp()
        os.utime(mine, (on_time, on_time))
    settings = Settings.from_env(data_dir, tmp_path / "snapshot.duckdb")
    assert ingest(settings).ok
    snapshot = Snapshot(settings.db_path)
    rows = snapshot.run("health/reporting", day=LAST, area="")
    snapshot.close()
    ledgers = rows[rows.kind == "isolation"].set_index("sender_name")
    assert ledgers.loc[OTHER_STREET[1], "status"] == "late"
    assert str(ledgers.loc[OTHER_STREET[1], "received_at"]) == f"{LAST.isoformat()} 10:40:00"
    assert str(ledgers.loc[OTHER_STREET[1], "due_at"]) == f"{LAST.isoformat()} 09:00:00"
    # Named by its street's name alone in reporting.csv, matched to the ledger named after it.
    assert ledgers.loc[MISSING_STREET[1], "status"] == "received"
