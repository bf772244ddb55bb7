"""The district's headline figures for a day, from the same named queries the pages use.

A figure whose feed has no export for the day is None (JSON null), never 0: the feeds block
says which export the other figures come from.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time

from dashboard.queries import Snapshot

WHOLE_DISTRICT = ""  # the area prefix that every area code starts with


def default_day(snapshot: Snapshot) -> date:
    days = snapshot.run("health/export_days")
    if days.empty:
        raise LookupError("the snapshot holds no export days")
    return days["day"].iloc[0].date()


def default_at(day: date) -> datetime:
    return datetime.combine(day, time(12, 0))


def build_report(snapshot: Snapshot, day: date, at: datetime) -> dict:
    area = WHOLE_DISTRICT
    feeds = snapshot.run("health/feed_status", day=day)
    stale = dict(zip(feeds["kind"], feeds["stale"]))

    def fresh(kind: str) -> bool:
        return not stale.get(kind, True)

    zones = snapshot.run("zones/active_by_level", day=day, area=area).set_index("level")
    testing = snapshot.run("testing/day_totals", day=day, area=area).iloc[0]
    current = snapshot.run("testing/current_round", day=day, area=area).iloc[0]
    isolation = snapshot.run("isolation/active_by_kind", day=day, area=area).set_index("kind")
    hotels = snapshot.run("isolation/hotel_occupancy", day=day, area=area)
    posts = snapshot.run("staff/on_duty_at", at=at, area=area)

    has_zones = feeds.loc[feeds["kind"] == "control_zones", "latest_export"].notna().any()
    has_isolation = feeds.loc[feeds["kind"] == "isolation", "latest_export"].notna().any()
    capacity = hotels["capacity"].sum()
    return {
        "as_of": day.isoformat(),
        "at": at.isoformat(timespec="minutes"),
        "feeds": {
            row.kind: {
                "latest_export": row.latest_export.date().isoformat() if row.latest_export is not None
                and not _missing(row.latest_export) else None,
                "stale": bool(row.stale),
            }
            for row in feeds.itertuples()
        },
        "zones_active": {level: int(zones.at[level, "zones"]) for level in zones.index} if has_zones else None,
        "population_sealed": int(zones.at["sealed", "population"]) if has_zones else None,
        "samples_on_day": int(testing["samples"]) if fresh("testing_records") else None,
        "positives_on_day": int(testing["positives"]) if fresh("testing_records") else None,
        "current_round": None if _missing(current["round"]) else int(current["round"]),
        "round_coverage": None if _missing(current["round"]) else float(current["coverage"]),
        "isolation_active": {kind: int(isolation.at[kind, "active"]) for kind in isolation.index}
        if has_isolation else None,
        "releases_due_next_day": int(isolation["releases_due_next_day"].sum()) if has_isolation else None,
        # As the contract defines it: every active centralized case, including those placed
        # outside the hotels (designated hospitals), against the hotels' rooms.
        "hotel_occupancy": round(float(isolation.at["centralized", "active"] / capacity), 4)
        if has_isolation and capacity else None,
        "staff_on_duty": int(posts["on_duty"].sum()) if fresh("shifts") else None,
        "posts_understaffed": int(posts["understaffed"].sum()) if fresh("shifts") else None,
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
