"""The district's headline figures for a day, from the same named queries the pages use.

A figure whose feed has no export for the day is None (JSON null), never 0: the feeds block
says which export the other figures come from.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time

from dashboard.data.queries import Snapshot

WHOLE_DISTRICT = ""  # the area prefix that every area code starts with


def default_day(snapshot: Snapshot) -> date:
    days = snapshot.run("health/export_days")
    if days.empty:
        raise LookupError("the snapshot holds no export days")
    return days["day"].iloc[0].date()


def default_at(day: date) -> datetime:
    return datetime.combine(day, time(12, 0))


REPORT_KEYS = (
    "zones_active", "population_sealed", "samples_on_day", "positives_on_day", "current_round", "round_coverage",
    "isolation_active", "releases_due_next_day", "hotel_occupancy", "staff_on_duty", "posts_understaffed",
)


def headline_figures(run, day: date, at: datetime, area: str = WHOLE_DISTRICT, follow_stale: bool = False) -> dict:
    """The headline figures of a day, for the report and the overview's KPI cards alike.

    `run(name, **params)` runs a named query (the pages pass their cached runner). An event
    feed with no export for the day gives None, or with follow_stale its last export's figure;
    `testing_day` and `shifts_day` then say which day the figure is from.
    """
    feeds = run("health/feed_status", day=day)
    latest = {row.kind: None if _missing(row.latest_export) else row.latest_export.date()
              for row in feeds.itertuples()}
    stale = dict(zip(feeds["kind"], feeds["stale"]))

    def source_day(kind: str) -> date | None:
        if not stale.get(kind, True):
            return day
        return latest.get(kind) if follow_stale else None

    has_zones = latest.get("control_zones") is not None
    has_isolation = latest.get("isolation") is not None
    testing_day, shifts_day = source_day("testing_records"), source_day("shifts")
    zones = run("zones/active_by_level", day=day, area=area).set_index("level")
    current = run("testing/current_round", day=day, area=area).iloc[0]
    isolation = run("isolation/active_by_kind", day=day, area=area).set_index("kind")
    capacity = run("isolation/hotel_occupancy", day=day, area=area)["capacity"].sum()
    testing = run("testing/day_totals", day=testing_day, area=area).iloc[0] if testing_day else None
    staff_at = datetime.combine(shifts_day, at.time()) if shifts_day else None
    posts = run("staff/on_duty_at", at=staff_at, area=area) if staff_at else None
    no_round = _missing(current["round"])
    return {
        "feeds": {kind: {"latest_export": latest[kind].isoformat() if latest[kind] else None,
                         "stale": bool(stale[kind])} for kind in latest},
        "zones_active": {level: int(zones.at[level, "zones"]) for level in zones.index} if has_zones else None,
        "population_sealed": int(zones.at["sealed", "population"]) if has_zones else None,
        "samples_on_day": int(testing["samples"]) if testing is not None else None,
        "positives_on_day": int(testing["positives"]) if testing is not None else None,
        "testing_day": testing_day,
        "current_round": None if no_round else int(current["round"]),
        "round_coverage": None if no_round else float(current["coverage"]),
        "isolation_active": {kind: int(isolation.at[kind, "active"]) for kind in isolation.index}
        if has_isolation else None,
        "releases_due_next_day": int(isolation["releases_due_next_day"].sum()) if has_isolation else None,
        # As the contract defines it: every active centralized case, including those placed
        # outside the hotels (designated hospitals), against the hotels' rooms.
        "hotel_occupancy": round(float(isolation.at["centralized", "active"] / capacity), 4)
        if has_isolation and capacity else None,
        "staff_on_duty": int(posts["on_duty"].sum()) if posts is not None else None,
        "staff_required": int(posts["min_staff"].sum()) if posts is not None else None,
        "posts_understaffed": int(posts["understaffed"].sum()) if posts is not None else None,
        "shifts_day": shifts_day,
        "staff_at": staff_at,
    }


def build_report(snapshot: Snapshot, day: date, at: datetime) -> dict:
    """The `report` command's JSON: district-wide, and a stale feed's figures are null."""
    figures = headline_figures(snapshot.run, day, at)
    return {
        "as_of": day.isoformat(),
        "at": at.isoformat(timespec="minutes"),
        "feeds": figures["feeds"],
        **{key: figures[key] for key in REPORT_KEYS},
    }


def _missing(value) -> bool:
    return value is None or value != value  # NaN / NaT / NA compare unequal to themselves


LEVEL_ZH = {"sealed": "封控区", "controlled": "管控区", "precaution": "防范区"}
KIND_ZH = {"home": "居家隔离", "home_monitoring": "居家健康监测", "centralized": "集中隔离"}
FEED_ZH = {
    "control_zones": "封控管控台账", "testing_records": "核酸采样", "isolation": "隔离台账",
    "shifts": "排班", "checkpoint_log": "卡点查验", "door_visits": "入户走访",
}


def _n(value) -> str:
    return "无数据" if value is None else f"{value:,}"


def _pct(value) -> str:
    return "无数据" if value is None else f"{value:.2%}"


def to_markdown(report: dict) -> str:
    """A short Chinese briefing with the same figures as the JSON."""
    zones = report["zones_active"] or {}
    isolation = report["isolation_active"] or {}
    lines = [
        f"# 二七区疫情防控日报（截至 {report['as_of']}）",
        "",
        f"人员在岗统计时点：{report['at'].replace('T', ' ')}",
        "",
        "## 封控管控",
        *(f"- {LEVEL_ZH[k]}：{_n(zones.get(k))} 个" for k in LEVEL_ZH),
        f"- 封控区涉及人口：{_n(report['population_sealed'])} 人",
        "",
        "## 核酸检测",
        f"- 当日采样：{_n(report['samples_on_day'])} 人次，阳性 {_n(report['positives_on_day'])} 例",
        f"- 当前轮次：第 {_n(report['current_round'])} 轮，覆盖率 {_pct(report['round_coverage'])}",
        "",
        "## 隔离管控",
        *(f"- {KIND_ZH[k]}：{_n(isolation.get(k))} 人" for k in KIND_ZH),
        f"- 明日到期解除：{_n(report['releases_due_next_day'])} 人",
        f"- 隔离酒店入住率：{_pct(report['hotel_occupancy'])}",
        "",
        "## 人员排班",
        f"- 在岗人数：{_n(report['staff_on_duty'])} 人",
        f"- 在岗不足的点位：{_n(report['posts_understaffed'])} 个",
        "",
        "## 数据状态",
    ]
    for kind, feed in report["feeds"].items():
        if feed["latest_export"] is None:
            state = "无数据"
        elif feed["stale"]:
            state = f"未更新，最新为 {feed['latest_export']}"
        else:
            state = "已更新"
        lines.append(f"- {FEED_ZH.get(kind, kind)}：{state}")
    return "\n".join(lines) + "\n"


def to_json(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2)


def parse_at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M")
