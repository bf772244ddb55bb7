"""Every kind of messy export, one by one, each with its exact outcome."""

from __future__ import annotations

import uuid

import pytest

from dashboard.__main__ import main
from dashboard.ingest.build import ingest
from dashboard.ingest.partitions import open_snapshot
from dashboard.settings import Settings
from tests.fixtures import TAIGUO, XIGONGFANG, XINGYUAN, _reference, id_number, person_id

DAY = "2022-01-06"
EN = "sample_id,person_id,area_code,site_id,round,sampled_at,result"
ZH = "样本编号,身份证号,区划代码,点位编号,轮次,采样时间,检测结果"
GOOD_ID = person_id(TAIGUO, 1)
OTHER_ID = person_id(TAIGUO, 2)


def make_data(tmp_path, files: dict[str, bytes]) -> Settings:
    root = tmp_path / "data"
    _reference(root)
    for name, content in files.items():
        path = root / "exports" / DAY / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return Settings.from_env(root, tmp_path / "snapshot.duckdb")


def rows(settings: Settings, sql: str) -> list[tuple]:
    con = open_snapshot(settings.db_path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def outcome(result, kind="testing_records"):
    return next(o for o in result.outcomes if o.kind == kind and o.status != "missing")


def rejects(settings) -> list[tuple]:
    return rows(settings, 'select line, "column", reason, value from rejects order by line')


def test_gbk_chinese_headers_and_values(tmp_path):
    text = f"{ZH}\r\nS1,{GOOD_ID},{TAIGUO},CP01,1,2022/1/6 8:05,阴性\r\nS2,{OTHER_ID},{TAIGUO},CP01,1,2022/1/6 9:15,阳性\r\n"
    settings = make_data(tmp_path, {"testing_records.csv": text.encode("gbk")})
    result = ingest(settings)
    assert (outcome(result).status, outcome(result).rows_loaded, outcome(result).rows_rejected) == ("loaded", 2, 0)
    assert rows(settings, "select sample_id, round, sampled_at::varchar, result from testing_records order by 1") == [
        ("S1", 1, "2022-01-06 08:05:00", "negative"), ("S2", 1, "2022-01-06 09:15:00", "positive")]
    assert rows(settings, "select encoding from ingest_log where kind = 'testing_records'") == [("gb18030",)]


def test_utf8_bom(tmp_path):
    text = f"{EN}\nS1,{GOOD_ID},{TAIGUO},CP01,1,2022-01-06 08:00:00,negative\n"
    settings = make_data(tmp_path, {"testing_records.csv": b"\xef\xbb\xbf" + text.encode()})
    assert outcome(ingest(settings)).rows_loaded == 1
    assert rows(settings, "select encoding from ingest_log where kind = 'testing_records'") == [("utf-8-sig",)]


def test_every_date_form(tmp_path):
    forms = ["2022-01-06 08:30", "2022/1/6 8:30", "2022年1月6日 08:30:00", "2022.1.6 8:30", "44567.3541666667",
             "2022-01-06T08:30:00"]
    body = "".join(f"S{i},{person_id(TAIGUO, i)},{TAIGUO},CP01,1,{form},negative\n" for i, form in enumerate(forms))
    settings = make_data(tmp_path, {"testing_records.csv": f"{EN}\n{body}".encode()})
    assert outcome(ingest(settings)).rows_loaded == len(forms)
    # 44567 days after 1899-12-30 is 2022-01-06; .3541666667 of a day is 08:30.
    assert rows(settings, "select distinct sampled_at::varchar from testing_records") == [("2022-01-06 08:30:00",)]


def test_date_only_forms_in_a_ledger(tmp_path):
    header = "zone_id,area_code,name,level,scope,started_on,lifted_on,population"
    body = (f"Z1,{TAIGUO},a,封控区,小区,2022年1月2日,,10\n"
            f"Z2,{TAIGUO},b,管控区,社区,2022.1.3,2022/1/5,20\n"
            f"Z3,{TAIGUO},c,防范区,楼栋,44564,,30\n")
    settings = make_data(tmp_path, {"control_zones.csv": f"{header}\n{body}".encode()})
    assert outcome(ingest(settings), "control_zones").rows_loaded == 3
    assert rows(settings, "select zone_id, level, scope, started_on::varchar, lifted_on::varchar from control_zones"
                          " order by 1") == [
        ("Z1", "sealed", "compound", "2022-01-02", None),
        ("Z2", "controlled", "community", "2022-01-03", "2022-01-05"),
        ("Z3", "precaution", "building", "2022-01-03", None)]


def test_full_width_characters_are_normalised(tmp_path):
    wide_code = TAIGUO.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    text = f"{EN}\nS1,{GOOD_ID},{wide_code},CP01,２,2022-01-06\u300008:00,negative\n"
    settings = make_data(tmp_path, {"testing_records.csv": text.encode()})
    assert outcome(ingest(settings)).rows_loaded == 1
    assert rows(settings, "select area_code, round, sampled_at::varchar from testing_records") == [
        (TAIGUO, 2, "2022-01-06 08:00:00")]


def test_blank_lines_skipped_and_lines_still_counted(tmp_path):
    text = (f"{EN}\n"
            f"S1,{GOOD_ID},{TAIGUO},CP01,1,2022-01-06 08:00,negative\n"
            "\n"
            ",,,,,,\n"
            f"S2,{OTHER_ID},999999999999,CP01,1,2022-01-06 08:00,negative\n")
    settings = make_data(tmp_path, {"testing_records.csv": text.encode()})
    result = outcome(ingest(settings))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    # The bad row is on line 5 of the file, counting the header and both blank lines.
    assert rejects(settings) == [(5, "area_code", "unknown area code", "999999999999")]


def test_summary_rows_are_excluded(tmp_path):
    text = (f"{ZH}\n"
            f"S1,{GOOD_ID},{TAIGUO},CP01,1,2022/1/6 8:00,阴性\n"
            "合计,,,,,,1\n"
            "总计：1人,,,,,,\n")
    settings = make_data(tmp_path, {"testing_records.csv": text.encode("gbk")})
    result = outcome(ingest(settings))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (1, 1, 0)
    assert rows(settings, "select rows_skipped from ingest_log where kind = 'testing_records'") == [(2,)]


def test_id_numbers(tmp_path):
    lower_x = id_number("41010319900101102")  # chosen because its check character is X
    assert lower_x.endswith("X")
    seventeen = GOOD_ID[:17]
    wrong_check = seventeen + str((int(GOOD_ID[17]) + 1) % 10) if GOOD_ID[17] != "X" else seventeen + "0"
    damaged_zeros = GOOD_ID[:15] + "000"
    assert id_number(damaged_zeros[:17]) != damaged_zeros  # it really fails the check
    lines = [
        f"S1,{lower_x.lower()},{TAIGUO},CP01,1,2022-01-06 08:00,negative",
        f"S2,{lower_x},{TAIGUO},CP01,2,2022-01-06 08:00,negative",
        f"S3,{wrong_check},{TAIGUO},CP01,1,2022-01-06 08:00,negative",
        f"S4,4.10103E+17,{TAIGUO},CP01,1,2022-01-06 08:00,negative",
        f"S5,{damaged_zeros},{TAIGUO},CP01,1,2022-01-06 08:00,negative",
        f"S6,P-7f3a9c,{TAIGUO},CP01,1,2022-01-06 08:00,negative",
        f"S7,41010319900101,{TAIGUO},CP01,1,2022-01-06 08:00,negative",
    ]
    settings = make_data(tmp_path, {"testing_records.csv": (EN + "\n" + "\n".join(lines) + "\n").encode()})
    result = outcome(ingest(settings))
    assert (result.rows_loaded, result.rows_rejected) == (3, 4)
    assert [r[:3] for r in rejects(settings)] == [
        (4, "person_id", "ID number fails its check digit"),
        (5, "person_id", "ID number damaged by Excel (scientific notation)"),
        (6, "person_id", "ID number damaged by Excel (last digits turned to 0)"),
        (8, "person_id", "ID number is not 18 characters"),
    ]
    # Lower-case x and upper-case X are the same person: one key for S1 and S2.
    keys = rows(settings, "select sample_id, person_key from testing_records order by 1")
    assert keys[0][1] == keys[1][1] and isinstance(keys[0][1], uuid.UUID)
    # Rejects keep a masked value only.
    stored = "".join(r[3] for r in rejects(settings))
    assert wrong_check not in stored and damaged_zeros not in stored and "4.10103E+17" not in stored


@pytest.mark.parametrize(
    ("line", "column", "reason"),
    [
        (f"S1,{GOOD_ID},{TAIGUO},CP01,abc,2022-01-06 08:00,negative", "round", "not a whole number"),
        (f"S1,{GOOD_ID},{TAIGUO},CP01,1.5,2022-01-06 08:00,negative", "round", "not a whole number"),
        (f"S1,{GOOD_ID},{TAIGUO},XX99,1,2022-01-06 08:00,negative", "site_id", "unknown site code"),
        (f"S1,{GOOD_ID},{TAIGUO},CP01,1,yesterday,negative", "sampled_at", "not a date and time"),
        (f"S1,{GOOD_ID},{TAIGUO},CP01,1,2022-01-06 08:00,阴", "result", "unknown value"),
        (f",{GOOD_ID},{TAIGUO},CP01,1,2022-01-06 08:00,negative", "sample_id", "missing required value"),
        (f"S1,,{TAIGUO},CP01,1,2022-01-06 08:00,negative", "person_id", "missing required value"),
    ],
)
def test_bad_row_is_rejected_and_good_rows_load(tmp_path, line, column, reason):
    good = f"S9,{OTHER_ID},{XIGONGFANG},TS01,1,2022-01-06 09:00,negative"
    settings = make_data(tmp_path, {"testing_records.csv": f"{EN}\n{good}\n{line}\n".encode()})
    result = outcome(ingest(settings))
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    [(reject_line, reject_column, reject_reason, _)] = rejects(settings)
    assert (reject_line, reject_column) == (3, column)
    assert reject_reason.startswith(reason)


def test_duplicate_sample_id_keeps_first(tmp_path):
    text = (f"{EN}\nS1,{GOOD_ID},{TAIGUO},CP01,1,2022-01-06 08:00,negative\n"
            f"S1,{OTHER_ID},{TAIGUO},CP01,1,2022-01-06 08:01,negative\n")
    settings = make_data(tmp_path, {"testing_records.csv": text.encode()})
    result = outcome(ingest(settings))
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert [r[:3] for r in rejects(settings)] == [(3, "sample_id", "duplicate sample_id")]
    assert rows(settings, "select count(*) from testing_records") == [(1,)]


def test_ended_before_started_is_rejected(tmp_path):
    header = "case_id,area_code,kind,site_id,started_on,planned_end_on,ended_on,reason"
    text = (f"{header}\n{GOOD_ID},{XINGYUAN},集中隔离,HT01,2022-01-05,2022-01-12,2022-01-04,密接\n"
            f"{OTHER_ID},{XINGYUAN},居家隔离,,2022-01-05,2022-01-12,,密接\n")
    settings = make_data(tmp_path, {"isolation.csv": text.encode()})
    result = outcome(ingest(settings), "isolation")
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert [r[:3] for r in rejects(settings)] == [(2, "ended_on", "ended_on is before started_on")]
    assert rows(settings, "select kind from isolation") == [("home",)]


def test_missing_required_column_rejects_file_and_keeps_previous_data(tmp_path, capsys):
    good = f"{EN}\nS1,{GOOD_ID},{TAIGUO},CP01,1,2022-01-06 08:00,negative\n"
    settings = make_data(tmp_path, {"testing_records.csv": good.encode()})
    assert ingest(settings).ok
    # The re-export lost its result column.
    path = settings.data_dir / "exports" / DAY / "testing_records.csv"
    path.write_text("sample_id,person_id,area_code,site_id,round,sampled_at\nS2,x,y,z,1,2022-01-06\n")
    exit_code = main(["ingest", "--data", str(settings.data_dir), "--db", str(settings.db_path)])
    assert exit_code == 1
    error = capsys.readouterr().err
    # Named relative to the data directory: the message also reaches the data-health page.
    assert f"exports/{DAY}/testing_records.csv: " in error and str(path) not in error and "result (检测结果)" in error
    assert rows(settings, "select sample_id from testing_records") == [("S1",)]
    assert rows(settings, "select status from ingest_log where kind = 'testing_records' order by file_id") == [
        ("loaded",), ("failed",)]


def test_undecodable_file_names_the_byte(tmp_path):
    text = f"{EN}\nS1,{GOOD_ID},{TAIGUO},CP01,1,2022-01-06 08:00,negative\n".encode() + b"\xff\xff\xff\n"
    settings = make_data(tmp_path, {"testing_records.csv": text})
    result = ingest(settings)
    assert not result.ok
    message = result.failed[0].message
    assert "testing_records.csv" in message and "byte 0xff" in message


def test_row_with_wrong_number_of_cells(tmp_path):
    text = (f"{EN}\nS1,{GOOD_ID},{TAIGUO},CP01,1,2022-01-06 08:00,negative\n"
            f"S2,{OTHER_ID},{TAIGUO}\n"
            f"S3,{person_id(TAIGUO, 3)},{TAIGUO},CP01,1,2022-01-06 08:00,negative\n")
    settings = make_data(tmp_path, {"testing_records.csv": text.encode()})
    result = outcome(ingest(settings))
    assert (result.rows_loaded, result.rows_rejected) == (2, 1)
    assert [r[:2] for r in rejects(settings)] == [(3, "")]
