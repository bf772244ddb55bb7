"""What no single export shows (issue 12): positives awaiting transfer and isolation reconciliation,
against the figures worked out by hand in tests/fixtures.py."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.figures.headline import build_report, default_at
from dashboard.figures.queries import Snapshot
from dashboard.ingest.build import ingest
from dashboard.ingest.partitions import open_snapshot
from tests.fixtures import AWAITING_TRANSFER, DAYS, RELEASES_OVERDUE, TAIGUO, XINGYUAN, person_id


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_positives_awaiting_transfer_in_the_report(snapshot, day):
    count, longest = AWAITING_TRANSFER[day]
    report = build_report(snapshot, day, default_at(day))
    assert report["positives_awaiting_transfer"] == count
    assert snapshot.run("isolation/awaiting_by_community", day=day, area="")["longest_wait_hours"].max() == longest


def test_the_list_names_who_waits_by_code_community_and_hours(snapshot):
    waiting = snapshot.run("isolation/awaiting_transfer", day=DAYS[1], area="")
    # 01-05: 台郭 #0 since 01-04 10:00 (38 h) and 台郭 #990 since 01-05 01:00 (23 h, transferred next day).
    assert list(waiting["community"]) == ["台郭社区", "台郭社区"]
    assert list(waiting["hours_waiting"]) == [38, 23]
    assert list(waiting["sampled_at"]) == [pd.Timestamp("2022-01-04 10:00"), pd.Timestamp("2022-01-05 01:00")]
    assert all(len(code) == 8 and int(code, 16) >= 0 for code in waiting["person_code"])


def test_transferred_and_released_persons_do_not_count(snapshot):
    # 01-06: 台郭 #990 was transferred (C7 from 01-06) and 台郭 #1 released (C2); 台郭 #0 and 杏苑 #0 wait.
    waiting = snapshot.run("isolation/awaiting_transfer", day=DAYS[2], area="")
    assert list(waiting["community"]) == ["台郭社区", "杏苑社区"]
    assert list(waiting["hours_waiting"]) == [62, 8]
    by_area = snapshot.run("isolation/awaiting_by_community", day=DAYS[2], area=XINGYUAN)
    assert list(by_area["awaiting"]) == [1] and list(by_area["longest_wait_hours"]) == [8]


def test_the_code_is_cut_from_the_key_and_is_not_the_key(fixture_snapshot, snapshot):
    con = open_snapshot(fixture_snapshot.db_path)
    try:
        keys = {row[0] for row in con.execute("select person_key from testing_records where result = 'positive'")
                .fetchall()}
    finally:
        con.close()
    codes = set(snapshot.run("isolation/awaiting_transfer", day=DAYS[2], area="")["person_code"])
    assert codes and codes <= {key.hex[:8] for key in keys} and not codes & {key.hex for key in keys}


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_releases_overdue(snapshot, day):
    assert build_report(snapshot, day, default_at(day))["releases_overdue"] == RELEASES_OVERDUE[day]


def test_figures_are_null_before_any_isolation_ledger(fresh_data):
    for folder in (fresh_data.data_dir / "exports").iterdir():
        (folder / "isolation.csv").unlink()
    assert ingest(fresh_data).ok is True
    snapshot = Snapshot(fresh_data.db_path)
    report = build_report(snapshot, DAYS[2], default_at(DAYS[2]))
    snapshot.close()
    assert report["positives_awaiting_transfer"] is None and report["releases_overdue"] is None


def test_the_ledger_slips_are_flagged(fresh_data):
    path = fresh_data.data_dir / "exports" / "2022-01-06" / "isolation.csv"
    with path.open("a", encoding="utf-8") as f:
        # Placed at a checkpoint, not a hotel: one centralized case at CP01 (台郭).
        f.write(f"{person_id(TAIGUO, 980)},{TAIGUO},centralized,CP01,2022-01-06,2022-01-20,,阳性\n")
        # 台郭 #0 (never transferred) also in home isolation and in home monitoring: two kinds, two cases.
        f.write(f"{person_id(TAIGUO, 0)},{TAIGUO},home,,2022-01-05,2022-01-12,,密接\n")
        f.write(f"{person_id(TAIGUO, 0)},{TAIGUO},home_monitoring,,2022-01-06,2022-01-12,,密接\n")
        # 杏苑 #0 twice at home: two cases, one kind. A hospital case (no site) is no slip.
        f.write(f"{person_id(XINGYUAN, 0)},{XINGYUAN},home,,2022-01-06,2022-01-13,,密接\n")
        f.write(f"{person_id(XINGYUAN, 0)},{XINGYUAN},home,,2022-01-06,2022-01-14,,密接\n")
        f.write(f"{person_id(XINGYUAN, 981)},{XINGYUAN},centralized,,2022-01-06,2022-01-20,,阳性\n")
    assert ingest(fresh_data).ok
    snapshot = Snapshot(fresh_data.db_path)
    flagged = snapshot.run("health/isolation_conflicts", day=DAYS[2], area="")
    before = snapshot.run("health/isolation_conflicts", day=DAYS[1], area="")
    snapshot.close()
    rows = flagged[["problem", "community", "site", "found"]].astype(object).where(flagged.notna(), None)
    assert [tuple(row) for row in rows.itertuples(index=False)] == [
        ("centralized_not_hotel", "台郭社区", "郑少高速郑州西南站卡点", 1),
        ("two_kinds", "台郭社区", None, 1),
        ("two_active_cases", "台郭社区", None, 1),
        ("two_active_cases", "杏苑社区", None, 1),
    ]
    assert before.empty


def test_kpi_card_and_map_layer_show_the_waiting(snapshot):
    from dashboard.figures.headline import headline_figures
    from dashboard.web.builders import kpis, maps, shapes

    figures = headline_figures(snapshot.run, DAYS[2], default_at(DAYS[2]))
    cards = {card.key: card for card in kpis.kpi_cards(figures, None, "en", day=DAYS[2])}
    assert cards["positives_awaiting_transfer"].label == "Positives awaiting transfer"
    assert cards["positives_awaiting_transfer"].value == "2"
    geo = shapes.geo_from_frames(snapshot.run("map/boundaries"), snapshot.run("map/areas"))
    deck = maps.district_map(geo, lang="zh", layers=("awaiting",),
                             awaiting=snapshot.run("isolation/awaiting_by_community", day=DAYS[2], area=""))
    [layer] = [layer for layer in deck.layers if layer.id == "awaiting"]
    assert [(row["area_code"], row["awaiting"]) for row in layer.data] == [(TAIGUO, 1), (XINGYUAN, 1)]
    assert "最长等待 62 小时" in layer.data[0]["tip"]


def test_a_corrected_card_says_so_with_the_previous_value(snapshot):
    from dashboard.figures.headline import headline_figures
    from dashboard.web.builders import kpis, reconciliation

    figures = headline_figures(snapshot.run, DAYS[2], default_at(DAYS[2]))
    correction = {"kind": "testing_records", "day": "2022-01-06", "ingested_at": "2022-01-07T08:15:00",
                  "before": {"rows": 3670, "samples_on_day": 3670, "positives_on_day": 3},
                  "after": {"rows": 3670, "samples_on_day": 3670, "positives_on_day": 1}}
    older = {**correction, "day": "2022-01-05"}  # another day's correction marks nothing here
    cards = {c.key: c for c in kpis.mark_corrected(kpis.kpi_cards(figures, None, "zh", day=DAYS[2]), figures,
                                                   [correction, older], "zh")}
    assert cards["positives"].label == "当日阳性 · 已更正"
    assert "全区此前为 3，现为 1" in cards["positives"].help
    assert cards["samples"].label.endswith("已更正") and "此前为 3,670" in cards["samples"].help
    assert not cards["zones_sealed"].label.endswith("已更正")
    assert reconciliation.corrections_table([correction], "zh").frame["说明"].tolist() == ["阳性 3→1"]


def test_hotels_against_their_rooms(snapshot):
    from dashboard.web.builders import reconciliation

    table = reconciliation.hotel_table(snapshot.run("isolation/hotel_occupancy", day=DAYS[2], area=""), "en").frame
    # 01-06: C1 in 隔离酒店甲 (10 rooms); C5 and C7 in 隔离酒店乙 (10 rooms).
    assert table.to_dict("list") == {"Site": ["隔离酒店乙", "隔离酒店甲"], "Occupied": [2, 1], "Rooms": [10, 10],
                                     "Free": [8, 9], "Over capacity": [0, 0], "Occupancy": [0.2, 0.1]}
