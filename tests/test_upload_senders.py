"""The senders rule for uploads (data/README.md, Senders, rule 6): 上传-<area code>-<name> is that area's file."""

from pathlib import Path

import pytest

from dashboard.ingest.senders import NotASender, Sender, sender_of

AREAS = [
    ("410103", "二七区", "district"),
    ("410103001", "蜜蜂张街道", "street"),
    ("410103002", "人和路街道", "street"),
    ("410103001001", "西工房社区", "community"),
    ("410103001002", "兴华社区", "community"),
    ("410103002001", "台郭社区", "community"),
]


def test_an_uploaded_ledger_is_the_areas_part_so_it_replaces_a_hand_copied_one():
    uploaded = sender_of(Path("上传-410103001-隔离台账.csv"), "ledger", AREAS)
    hand_copied = sender_of(Path("蜜蜂张街道隔离台账0106.xlsx"), "ledger", AREAS)
    assert uploaded.key == hand_copied.key == "area:410103001"
    assert (uploaded.name, uploaded.scope) == ("蜜蜂张街道", "410103001")


def test_an_uploaded_ledger_naming_a_community_of_the_street_is_that_communitys_part():
    assert sender_of(Path("上传-410103001-兴华社区台账.csv"), "ledger", AREAS) == Sender(
        "area:410103001002", "兴华社区", "410103001002")


def test_a_community_of_another_street_in_the_name_does_not_widen_the_upload():
    # 台郭 is 人和路's: the clerk of 蜜蜂张 uploads for 蜜蜂张, whatever the file is called.
    assert sender_of(Path("上传-410103001-台郭社区台账.csv"), "ledger", AREAS).key == "area:410103001"


def test_an_uploaded_event_file_is_a_sender_of_the_area_checked_within_it():
    sender = sender_of(Path("上传-410103001-核酸采样_20220106.csv"), "event", AREAS)
    assert sender.key == "area:410103001:核酸采样"
    assert sender.name == "蜜蜂张街道 核酸采样"
    assert sender.within == ("410103001", "蜜蜂张街道")
    # The next day's upload of the same file is the same sender, and a copy mark changes nothing.
    assert sender_of(Path("上传-410103001-核酸采样_20220107(1).xlsx"), "event", AREAS).key == sender.key


def test_an_event_file_not_uploaded_is_still_held_to_no_area():
    assert sender_of(Path("核酸采样_固定点_20220106.csv"), "event", AREAS).within is None


@pytest.mark.parametrize("name", ["上传-410103009-隔离台账.csv", "上传-410103-隔离台账.csv", "上传-41010300-隔离台账.csv"])
def test_an_upload_naming_no_street_or_community_is_not_a_sender(name):
    with pytest.raises(NotASender, match="no street or community"):
        sender_of(Path(name), "ledger", AREAS)


def test_a_file_merely_starting_with_the_word_is_an_ordinary_sender():
    assert sender_of(Path("上传说明-核酸.csv"), "event", AREAS).key == "上传说明-核酸"
