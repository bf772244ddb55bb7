"""Staff, posts and shifts: three 8-hour shifts at every staffed site, door-to-door teams."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from random import Random

import numpy as np

from dashboard.demo.outbreak import HotSpot
from dashboard.demo.population import (
    ABSENT_CHANCE,
    ALWAYS_ON_SHARE,
    DOOR_TEAMS_PER_HOT_SPOT,
    DOUBLE_SHIFT_CHANCE,
    EXTRA_PERSON_CHANCE,
    Reference,
    Stream,
    rng_for,
)

# --- shifts ----------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶"
    "阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建国志文浩宇欣晨阳雪琳婷颖佳慧博帅亮鑫"
    "晓立新海斌燕凯荣俊峰丹梅宁蕾倩莉帆振东豪艺嘉卫红庆春林晶冬梦瑞"
)
SITE_ROLES = {
    "checkpoint": ("police", "doctor", "cadre", "police", "volunteer", "grid_worker", "police"),
    "testing_fixed": ("doctor", "volunteer", "grid_worker", "doctor", "party_member"),
    "testing_mobile": ("doctor", "volunteer", "doctor"),
    "isolation_hotel": ("doctor", "police", "cadre", "doctor"),
}
HOSPITALS = ("二七区人民医院", "郑州市第二人民医院", "二七区妇幼保健院", "郑州市第三人民医院")
DOOR_TEAM_ROLES = ("cadre", "doctor", "police")
SLOT_HOURS = 8


@dataclass(frozen=True)
class Staff:
    staff_id: str
    name: str
    unit: str
    role: str


@dataclass
class Shift:
    staff: Staff
    site_id: str
    starts: datetime
    ends: datetime
    team_id: str = ""
    absent: bool = False


class StaffRegister:
    def __init__(self, seed: int):
        self.random = Random(seed)
        self.names: set[str] = set()
        self.staff: list[Staff] = []

    def hire(self, unit: str, role: str) -> Staff:
        while True:
            name = self.random.choice(SURNAMES) + "".join(
                self.random.choice(GIVEN_CHARS) for _ in range(self.random.choice((1, 2, 2))))
            if name not in self.names:
                break
        self.names.add(name)
        person = Staff(f"E{len(self.staff) + 1:05d}", name, unit, role)
        self.staff.append(person)
        return person


def street_office(street: str) -> str:
    return f"{street}办事处" if street.endswith("街道") else f"{street}人民政府"


def unit_for(role: str, post: str, street: str, random: Random) -> str:
    """Which organisation a worker comes from, by role and post (a site kind or "door_team")."""
    short = street.removesuffix("街道").removesuffix("镇").removesuffix("乡")
    if role == "police":
        return "二七公安分局" if post == "checkpoint" else f"二七公安分局{short}派出所"
    if role == "doctor":
        if post == "door_team":
            return f"{short}社区卫生服务中心"
        return random.choice(HOSPITALS) if post.startswith("testing") else "二七区卫健委"
    if role == "cadre":
        return {"checkpoint": "二七区交通运输局", "isolation_hotel": "二七区文化广电和旅游局"}.get(
            post, street_office(street))
    if role == "volunteer":
        return "二七区志愿者协会"
    return street_office(street)


@dataclass
class Pool:
    """The crew of one shift slot at one site: min_staff people plus one who has the day off."""
    members: list[Staff]
    always_on: bool
    offset: int

    def resting(self, day: int) -> Staff:
        # An always-on pool's first member never rests; the others take turns.
        rotating = self.members[1:] if self.always_on else self.members
        return rotating[(day + self.offset) % len(rotating)]

    def working(self, day: int) -> list[Staff]:
        rest = self.resting(day)
        return [m for m in self.members if m is not rest]


def slot_times(day: date, slot: int, slots: int = 1) -> tuple[datetime, datetime]:
    starts = datetime.combine(day, time()) + timedelta(hours=SLOT_HOURS * slot)
    return starts, starts + timedelta(hours=SLOT_HOURS * slots)


def site_shifts(site, pools: list[Pool], standby: list[Staff], day_index: int, day: date, now: datetime,
                night_short: bool, rng: np.random.Generator) -> list[Shift]:
    """One site's shifts starting on `day`: a crew per slot, with the odd double, extra
    person or absentee (always replaced, so only the planned night-short leaves a gap)."""
    wants_double = rng.random() < DOUBLE_SHIFT_CHANCE and not night_short
    double_from = int(rng.integers(0, 2)) if wants_double else None
    crews = [pool.working(day_index) for pool in pools]
    doubler = None
    if double_from is not None:
        doubler = crews[double_from][-1]
        crews[double_from + 1] = crews[double_from + 1][:-1]  # the doubler covers this place
    shifts = []
    for slot, (pool, crew) in enumerate(zip(pools, crews)):
        spare = [pool.resting(day_index)] + list(standby)
        if slot == 0 and night_short:
            crew = crew[:-1]
        elif rng.random() < EXTRA_PERSON_CHANCE:
            crew = crew + [spare.pop(0)]
        for person in crew:
            starts, ends = slot_times(day, slot, 2 if person is doubler else 1)
            shift = Shift(person, site.site_id, starts, ends)
            shifts.append(shift)
            can_be_absent = starts <= now and person is not doubler and not (slot == 0 and night_short)
            if can_be_absent and spare and rng.random() < ABSENT_CHANCE:
                shift.absent = True
                shifts.append(Shift(spare.pop(0), site.site_id, starts, ends))
    return shifts


@dataclass
class DoorTeam:
    team_id: str
    community: int
    office: str
    members: list[Staff]


def hire_pool(register: StaffRegister, site, street: str, rng: np.random.Generator) -> Pool:
    """min_staff + 1 people for one shift slot of a site, roles cycling through the site's mix."""
    roles = SITE_ROLES[site.kind]
    members = [register.hire(unit_for(role, site.kind, street, register.random), role)
               for role in (roles[i % len(roles)] for i in range(site.min_staff + 1))]
    return Pool(members, bool(rng.random() < ALWAYS_ON_SHARE), int(rng.integers(0, 7)))


def plan_roster(reference: Reference, hot_spots: list[HotSpot], seed: int):
    """Pools for every staffed site and door-to-door teams for every hot spot."""
    register = StaffRegister(seed)
    rng = rng_for(seed, Stream.ROSTER)
    streets = reference.areas_text.set_index("area_code").name
    community_street = dict(zip(reference.communities.area_code, reference.communities.parent_code))
    pools, standby = {}, {}
    for site in reference.sites[reference.sites.min_staff > 0].itertuples():
        street = streets[community_street[site.area_code]]
        pools[site.site_id] = [hire_pool(register, site, street, rng) for _ in range(24 // SLOT_HOURS)]
        standby[site.site_id] = [register.hire(street_office(street), "party_member")]

    offices = reference.sites[reference.sites.kind == "community_office"]
    office_of_street = {community_street[o.area_code]: o.site_id for o in offices.itertuples()}
    teams = []
    for spot in hot_spots:
        home = reference.communities.iloc[spot.community]
        street = streets[home.parent_code]
        for _ in range(DOOR_TEAMS_PER_HOT_SPOT):
            members = [register.hire(unit_for(role, "door_team", street, register.random), role)
                       for role in DOOR_TEAM_ROLES]
            teams.append(DoorTeam(f"T{len(teams) + 1:03d}", spot.community, office_of_street[home.parent_code],
                                  members))
    return pools, standby, teams
