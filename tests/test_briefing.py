"""The briefing follows the view: its language and area, stated at the top."""

from __future__ import annotations

from dashboard.__main__ import main
from tests.fixtures import TAIGUO
from tests.test_app_pages import app_env, open_page  # noqa: F401  (app_env is a fixture)


def test_english_briefing_for_one_community(fixture_snapshot, capsys):
    args = ["--data", str(fixture_snapshot.data_dir), "--db", str(fixture_snapshot.db_path)]
    assert main(["report", *args, "--format", "md", "--lang", "en", "--area", TAIGUO]) == 0
    briefing = capsys.readouterr().out
    assert briefing.startswith("# 台郭社区, Erqi district: epidemic-control briefing, as of 2022-01-06")
    assert "Area: 台郭社区." in briefing
    # 台郭 on 01-06, by hand: Z1 sealed (300 residents) and Z2 controlled; 950 persons sampled,
    # none positive (the day's positive is in 杏苑).
    assert "- sealed zones: 1\n- controlled zones: 1\n- precaution zones: 0" in briefing
    assert "- Residents of sealed zones: 300" in briefing
    assert "- Samples today: 950, positives: 0" in briefing
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in briefing.replace("台郭社区", ""))


def test_district_briefing_names_the_whole_district(fixture_snapshot, capsys):
    args = ["--data", str(fixture_snapshot.data_dir), "--db", str(fixture_snapshot.db_path)]
    assert main(["report", *args, "--format", "md"]) == 0
    briefing = capsys.readouterr().out
    assert briefing.startswith("# 二七区疫情防控日报（截至 2022-01-06）")
    assert "范围：全区" in briefing


def test_unknown_area_is_refused(fixture_snapshot, capsys):
    args = ["--data", str(fixture_snapshot.data_dir), "--db", str(fixture_snapshot.db_path)]
    assert main(["report", *args, "--format", "md", "--area", "999"]) == 2
    assert "unknown area code" in capsys.readouterr().err


def test_overview_download_is_for_the_chosen_area_and_language(app_env, monkeypatch):  # noqa: F811
    # AppTest has no media server, so the download's bytes are caught on their way in.
    from streamlit.delta_generator import DeltaGenerator

    offered = []
    original = DeltaGenerator.download_button

    def recording(self, label, data, file_name=None, *args, **kwargs):
        offered.append((data, file_name))
        return original(self, label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recording)
    at = open_page("overview.py", lang="en", area=TAIGUO)
    assert not at.exception, [e.message for e in at.exception]
    [(briefing, file_name)] = offered
    assert file_name == f"briefing-2022-01-06-{TAIGUO}-en.md"
    assert briefing.startswith("# 台郭社区, Erqi district: epidemic-control briefing, as of 2022-01-06")
    assert "- Samples today: 950, positives: 0" in briefing
