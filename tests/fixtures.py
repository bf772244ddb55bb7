"""The one fixture factory: a small district whose figures can be computed by hand.

Two streets, four communities (4,000 residents), five sites and three export days,
2022-01-04 to 2022-01-06, the optional field-work feeds arriving from 01-05. Every count below is chosen so the expected figures in the tests
follow by arithmetic, written next to the data that makes them.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import hmac
import json
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from random import Random

DAYS = [date(2022, 1, 4), date(2022, 1, 5), date(2022, 1, 6)]

# Page url_path -> the (zh, en) title a person sees, written out by hand.
TITLES = {
    "overview": ("总览", "Overview"),
    "zones": ("封控管控", "Sealed areas"),
    "testing": ("核酸检测", "Testing"),
    "isolation": ("隔离管控", "Isolation"),
    "staff": ("人员排班", "Staff & shifts"),
    "health": ("数据状态", "Data health"),
    "upload": ("上传数据", "Upload"),
    "alerts": ("告警", "Alerts"),
}

STREETS = [
    ("410103001", "蜜蜂张街道"),
    ("410103002", "人和路街道"),
]
# code, name, street, population, households, lat, lon
COMMUNITIES = [
    ("410103001001", "西工房社区", "410103001", 1000, 370, 34.72, 113.60),
    ("410103001002", "兴华社区", "410103001", 800, 300, 34.72, 113.62),
    ("410103002001", "台郭社区", "410103002", 1000, 380, 34.70, 113.60),
    ("410103002002", "杏苑社区", "410103002", 1200, 450, 34.70, 113.62),
]
XIGONGFANG, XINGHUA, TAIGUO, XINGYUAN = (c[0] for c in COMMUNITIES)

SITES = [
    # site_id, name, kind, area_code, lat, lon, capacity, min_staff
    ("CP01", "郑少高速郑州西南站卡点", "checkpoint", TAIGUO, 34.695, 113.595, "", 6),
    ("TS01", "西工房固定采样点", "testing_fixed", XIGONGFANG, 34.721, 113.601, "", 2),
    ("MV01", "流动采样车1号", "testing_mobile", XINGYUAN, 34.701, 113.621, "", 2),
    ("HT01", "隔离酒店甲", "isolation_hotel", TAIGUO, 34.702, 113.602, 10, 0),
    ("HT02", "隔离酒店乙", "isolation_hotel", XINGHUA, 34.722, 113.622, 10, 0),
]

# Persons sampled per community, per day: (round, first person index, count).
# Round 1 on 01-04: 600 + 500 + 700 + 900 = 2,700 persons of 4,000 -> coverage 0.675.
# Round 0 on 01-05: 10 persons in 西工房 and 1 in 台郭 (person 990, sampled nowhere else) -> 11 samples.
# Round 2 on 01-06: 900 + 700 + 950 + 1,100 = 3,650 persons, and 20 of 西工房's are sampled
#   twice -> 3,670 samples, coverage 3,650 / 4,000 = 0.9125.
SAMPLING = {
    DAYS[0]: [(1, XIGONGFANG, 0, 600), (1, XINGHUA, 0, 500), (1, TAIGUO, 0, 700), (1, XINGYUAN, 0, 900)],
    DAYS[1]: [(0, XIGONGFANG, 0, 10), (0, TAIGUO, 990, 1)],
    DAYS[2]: [(2, XIGONGFANG, 0, 900), (2, XINGHUA, 0, 700), (2, TAIGUO, 0, 950), (2, XINGYUAN, 0, 1100),
              (2, XIGONGFANG, 0, 20)],
}
# Positives: 2 in 台郭 on 01-04, the 台郭 sample on 01-05, 1 in 杏苑 on 01-06.
POSITIVES = {DAYS[0]: {TAIGUO: 2}, DAYS[1]: {TAIGUO: 1}, DAYS[2]: {XINGYUAN: 1}}
# Pending: 5 in 兴华 on 01-06.
PENDING = {DAYS[2]: {XINGHUA: 5}}
# Sampling times fixed by hand (the others are random between 07:00 and 18:59), for the positives:
# (day, community, person index) -> hour.
SAMPLED_HOUR = {(DAYS[0], TAIGUO, 0): 10, (DAYS[1], TAIGUO, 990): 1, (DAYS[2], XINGYUAN, 0): 16}
# Positives awaiting transfer: positive in the 14 days up to the day, no centralized case started by
# then in the newest isolation ledger. Hours waiting = the end of the day minus the first positive.
#   台郭 #0, positive 01-04 10:00, never transferred: waits 14 h on 01-04, 38 h on 01-05, 62 h on 01-06.
#   台郭 #1, positive 01-04, is C2: centralized since 01-03, released 01-05 -> never counts.
#   台郭 #990, positive 01-05 01:00, is C7 (lives in 杏苑): transferred 01-06, after 23 h -> counts on 01-05.
#   杏苑 #0, positive 01-06 16:00, not transferred: waits 8 h on 01-06.
# Expected: 01-04: 1 (longest 14 h); 01-05: 2 (38 h); 01-06: 2 (62 h; 台郭 1, 杏苑 1).
AWAITING_TRANSFER = {DAYS[0]: (1, 14), DAYS[1]: (2, 38), DAYS[2]: (2, 62)}

# Zones per ledger day. Expected active (sealed, controlled, precaution) and sealed population:
# 01-04: (1, 1, 1), 300; 01-05: (2, 1, 1), 420; 01-06: (2, 1, 0), 420 — Z3 lifts on 01-06.
ZONES = {
    "Z1": (TAIGUO, "台郭社区3号院", "sealed", "compound", "2022-01-02", 300),
    "Z2": (TAIGUO, "台郭社区", "controlled", "community", "2022-01-02", 1000),
    "Z3": (XIGONGFANG, "西工房社区", "precaution", "community", "2022-01-03", 1000),
    "Z4": (XINGYUAN, "杏苑社区7号楼", "sealed", "building", "2022-01-05", 120),
}
ZONE_LEDGER = {
    DAYS[0]: {"Z1": "", "Z2": "", "Z3": ""},
    DAYS[1]: {"Z1": "", "Z2": "", "Z3": "", "Z4": ""},
    DAYS[2]: {"Z1": "", "Z2": "", "Z3": "2022-01-06", "Z4": ""},
}

# Isolation cases: (community, kind, hotel, started, planned end). Expected active
# (home, home_monitoring, centralized), releases due next day, hotel occupancy of 20 rooms:
# 01-04: (1, 1, 2), 1 (C2 on 01-05), 2/20 = 0.1
# 01-05: (2, 1, 2), 1 (C6 on 01-06), 2/20 = 0.1   — C2 ended on 01-05
# 01-06: (1, 1, 3), 1 (C4 on 01-07), 3/20 = 0.15  — C6 ended on 01-06
CASES = {
    "C1": (TAIGUO, "centralized", "HT01", "2022-01-02", "2022-01-09"),
    "C2": (TAIGUO, "centralized", "HT01", "2022-01-03", "2022-01-05"),
    "C3": (TAIGUO, "home", "", "2021-12-28", "2022-01-04"),
    "C4": (XIGONGFANG, "home_monitoring", "", "2022-01-04", "2022-01-07"),
    "C5": (XINGHUA, "centralized", "HT02", "2022-01-05", "2022-01-12"),
    "C6": (XINGYUAN, "home", "", "2022-01-05", "2022-01-06"),
    "C7": (XINGYUAN, "centralized", "HT02", "2022-01-06", "2022-01-13"),
}
# Whose case it is, where not a person of its own (community, 900 + case number): see AWAITING_TRANSFER.
CASE_PERSONS = {"C2": (TAIGUO, 1), "C7": (TAIGUO, 990)}
# Releases overdue (active, planned end before the day): C3, home since 2021-12-28, was due on 01-04
# and is still active: 0 on 01-04 (due that day), 1 on 01-05, 1 on 01-06.
RELEASES_OVERDUE = {DAYS[0]: 0, DAYS[1]: 1, DAYS[2]: 1}
CASE_LEDGER = {
    DAYS[0]: {"C1": "", "C2": "", "C3": "", "C4": ""},
    DAYS[1]: {"C1": "", "C2": "2022-01-05", "C3": "", "C4": "", "C5": "", "C6": ""},
    DAYS[2]: {"C1": "", "C2": "2022-01-05", "C3": "", "C4": "", "C5": "", "C6": "2022-01-06", "C7": ""},
}

# Shifts. CP01 is staffed by 6 people in three 8-hour shifts every day. At 12:00:
# 01-04: 6 on duty; TS01 and MV01 unstaffed -> 2 posts understaffed.
# 01-05: 6 + TS01 2 = 8; MV01 unstaffed -> 1.
# 01-06: 6 + TS01 1 (the other is absent) + MV01 2 = 9; TS01 short -> 1.
EXPECTED = {
    DAYS[0]: dict(zones=(1, 1, 1), sealed_population=300, samples=2700, positives=2, round=1, coverage=0.675,
                  isolation=(1, 1, 2), releases=1, occupancy=0.1, on_duty=6, understaffed=2),
    DAYS[1]: dict(zones=(2, 1, 1), sealed_population=420, samples=11, positives=1, round=1, coverage=0.675,
                  isolation=(2, 1, 2), releases=1, occupancy=0.1, on_duty=8, understaffed=1),
    DAYS[2]: dict(zones=(2, 1, 0), sealed_population=420, samples=3670, positives=1, round=2, coverage=0.9125,
                  isolation=(1, 1, 3), releases=1, occupancy=0.15, on_duty=9, understaffed=1),
}

# The optional field-work feeds started arriving later: checkpoint counts from 01-05, door
# visits on 01-06 only, so 01-04 shows both as not exported and 01-05 door visits so.
# Checkpoint counts at CP01 (台郭, 人和路街道), three 8-hour periods a day:
# (period start hour, vehicles checked, people checked, turned back, fever found).
# 01-05: vehicles 35 + 150 + 95 = 280, people 50 + 230 + 120 = 400, turned back 1 + 6 + 3 = 10, fever 2.
# 01-06: vehicles 40 + 160 + 100 = 300, people 60 + 250 + 140 = 450, turned back 2 + 9 + 4 = 15, fever 1.
CHECKPOINT_LOG = {
    DAYS[1]: [(0, 35, 50, 1, 0), (8, 150, 230, 6, 0), (16, 95, 120, 3, 2)],
    DAYS[2]: [(0, 40, 60, 2, 0), (8, 160, 250, 9, 1), (16, 100, 140, 4, 0)],
}
# Door-to-door visits: (team, community, households visited, people checked, fever found).
# 01-06, district: teams T01, T02, T03 -> 3; households 120 + 30 + 80 + 90 = 320;
#   people 310 + 70 + 200 + 240 = 820; fever 1 + 0 + 0 + 2 = 3.
# 蜜蜂张街道 (西工房, 兴华): team T01 only; households 150, people 380, fever 1.
# 人和路街道 (台郭, 杏苑): teams T02, T03; households 170, people 440, fever 2.
DOOR_VISITS = {
    DAYS[2]: [("T01", XIGONGFANG, 120, 310, 1), ("T01", XINGHUA, 30, 70, 0), ("T02", TAIGUO, 80, 200, 0),
              ("T03", XINGYUAN, 90, 240, 2)],
}

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_number(seventeen: str) -> str:
    """An 18-character ID with its check digit, computed the plain way (independent of dashboard.ingest.ids)."""
    total = sum(int(digit) * weight for digit, weight in zip(seventeen, ID_WEIGHTS))
    return seventeen + "10X98765432"[total % 11]


def person_id(community_code: str, index: int) -> str:
    """A distinct, valid ID number per (community, index) for index < 20,000.

    The region code 9901xx exists nowhere, so no fixture number can be a real person's."""
    community = int(community_code[-4]) * 10 + int(community_code[-1])
    birth = date(1950, 1, 1) + timedelta(days=(index * 37) % 20000)
    return id_number(f"9901{community:02d}{birth:%Y%m%d}{index % 1000:03d}")


def person_key(key: bytes, raw: str) -> uuid.UUID:
    """The key the snapshot stores for an ID number, by the standard library: the first 128 bits of
    its HMAC-SHA256 under the ID key."""
    return uuid.UUID(hmac.new(key, raw.encode(), hashlib.sha256).hexdigest()[:32])


def write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _square(lon: float, lat: float, half: float = 0.01) -> dict:
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
            [lon - half, lat + half], [lon - half, lat - half]]
    return {"type": "Polygon", "coordinates": [ring]}


def _reference(root: Path) -> None:
    areas = []
    for code, name in STREETS:
        members = [c for c in COMMUNITIES if c[2] == code]
        areas.append([code, name, "street", "410103", sum(c[3] for c in members), sum(c[4] for c in members),
                      sum(c[5] for c in members) / len(members), sum(c[6] for c in members) / len(members)])
    areas += [[code, name, "community", street, pop, hh, lat, lon] for code, name, street, pop, hh, lat, lon in
              COMMUNITIES]
    write_csv(root / "reference" / "areas.csv",
              ["area_code", "name", "level", "parent_code", "population", "households", "lat", "lon"], areas)
    write_csv(root / "reference" / "sites.csv",
              ["site_id", "name", "kind", "area_code", "lat", "lon", "capacity", "min_staff"], [list(s) for s in SITES])
    features = [{"type": "Feature", "properties": {"area_code": "410103", "name": "二七区", "level": "district"},
                 "geometry": _square(113.61, 34.71, 0.03)}]
    for code, name, street, _, _, lat, lon in COMMUNITIES:
        features.append({"type": "Feature",
                         "properties": {"area_code": code, "name": name, "level": "community", "parent_code": street},
                         "geometry": _square(lon, lat)})
    for code, name in STREETS:
        lat = 34.72 if code.endswith("1") else 34.70
        features.append({"type": "Feature",
                         "properties": {"area_code": code, "name": name, "level": "street", "parent_code": "410103"},
                         "geometry": {"type": "Polygon", "coordinates": [[[113.59, lat - 0.01], [113.63, lat - 0.01],
                                                                           [113.63, lat + 0.01], [113.59, lat + 0.01],
                                                                           [113.59, lat - 0.01]]]}})
    (root / "reference" / "boundaries.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8")


def _testing(day: date, rng: Random) -> list[list]:
    rows = []
    positives = dict(POSITIVES.get(day, {}))
    pending = dict(PENDING.get(day, {}))
    site_of = {XIGONGFANG: "TS01", XINGHUA: "TS01", TAIGUO: "MV01", XINGYUAN: "MV01"}
    for round_, community, first, count in SAMPLING[day]:
        for index in range(first, first + count):
            result = "negative"
            if positives.get(community):
                positives[community] -= 1
                result = "positive"
            elif pending.get(community):
                pending[community] -= 1
                result = "pending"
            sampled_at = datetime.combine(day, datetime.min.time()) + timedelta(
                hours=7 + rng.randrange(12), minutes=rng.randrange(60))
            if (day, community, index) in SAMPLED_HOUR:  # drawn anyway, so later rows keep their times
                sampled_at = datetime.combine(day, datetime.min.time()) + timedelta(
                    hours=SAMPLED_HOUR[day, community, index])
            rows.append([f"S{day:%Y%m%d}{len(rows) + 1:06d}", person_id(community, index), community,
                         site_of[community], round_, f"{sampled_at:%Y-%m-%d %H:%M:%S}", result])
    return rows


def _shifts(day: date) -> list[list]:
    rows = []
    start = datetime.combine(day, datetime.min.time())
    for shift in range(3):
        for person in range(6):
            begins = start + timedelta(hours=8 * shift)
            rows.append([f"CP01-{day:%m%d}-{shift}{person}", f"E{shift}{person:02d}", f"卡点人员{shift}{person}",
                         "二七公安分局", "police", "CP01", "", f"{begins:%Y-%m-%d %H:%M:%S}",
                         f"{begins + timedelta(hours=8):%Y-%m-%d %H:%M:%S}", "done"])
    day_shift = (f"{start + timedelta(hours=8):%Y-%m-%d %H:%M:%S}", f"{start + timedelta(hours=16):%Y-%m-%d %H:%M:%S}")
    if day >= DAYS[1]:
        for person in range(2):
            absent = day == DAYS[2] and person == 1
            rows.append([f"TS01-{day:%m%d}-{person}", f"D{person:02d}", f"采样医生{person}", "二七区卫健委", "doctor",
                         "TS01", "", *day_shift, "absent" if absent else "done"])
    if day == DAYS[2]:
        for person in range(2):
            rows.append([f"MV01-{day:%m%d}-{person}", f"M{person:02d}", f"采样车医生{person}", "二七区卫健委", "doctor",
                         "MV01", "", *day_shift, "on_duty"])
    return rows


@functools.cache
def _testing_days() -> dict[date, tuple[tuple, ...]]:
    """Each day's testing records, drawn once per process (the suite builds the fixture hundreds of
    times): the same rows every build."""
    rng = Random(42)
    return {day: tuple(map(tuple, _testing(day, rng))) for day in DAYS}


def build_fixture(root: Path) -> Path:
    """Write the fixture data directory under root and return it."""
    _reference(root)
    for day in DAYS:
        folder = root / "exports" / day.isoformat()
        write_csv(folder / "testing_records.csv",
                  ["sample_id", "person_id", "area_code", "site_id", "round", "sampled_at", "result"],
                  _testing_days()[day])
        write_csv(folder / "control_zones.csv",
                  ["zone_id", "area_code", "name", "level", "scope", "started_on", "lifted_on", "population", "lat",
                   "lon"],
                  [[zone_id, *ZONES[zone_id][:5], lifted, ZONES[zone_id][5], 34.7, 113.6]
                   for zone_id, lifted in ZONE_LEDGER[day].items()])
        write_csv(folder / "isolation.csv",
                  ["case_id", "area_code", "kind", "site_id", "started_on", "planned_end_on", "ended_on", "reason"],
                  [[person_id(*CASE_PERSONS.get(case, (CASES[case][0], 900 + int(case[1:])))), *CASES[case], ended,
                    "密接"]
                   for case, ended in CASE_LEDGER[day].items()])
        write_csv(folder / "shifts.csv",
                  ["shift_id", "staff_id", "staff_name", "unit", "role", "site_id", "team_id", "starts_at", "ends_at",
                   "status"],
                  _shifts(day))
        if day in CHECKPOINT_LOG:
            start = datetime.combine(day, datetime.min.time())
            write_csv(folder / "checkpoint_log.csv",
                      ["site_id", "period_start", "period_end", "vehicles_checked", "people_checked", "turned_back",
                       "fever_found"],
                      [["CP01", f"{start + timedelta(hours=hour):%Y-%m-%d %H:%M:%S}",
                        f"{start + timedelta(hours=hour + 8):%Y-%m-%d %H:%M:%S}", *counts]
                       for hour, *counts in CHECKPOINT_LOG[day]])
        if day in DOOR_VISITS:
            write_csv(folder / "door_visits.csv",
                      ["team_id", "area_code", "visited_on", "households_visited", "people_checked", "fever_found"],
                      [[team, area, day.isoformat(), *counts] for team, area, *counts in DOOR_VISITS[day]])
    return root
