"""Deterministic demo exports: an Omicron-style outbreak in 二七区, told as daily CSV exports.

`generate(out, scale, days, end_date, seed)` writes

    out/reference/{areas,sites}.csv, boundaries.geojson
    out/exports/YYYY-MM-DD/{control_zones,testing_records,isolation,shifts,checkpoint_log,door_visits}.csv

in UTF-8 with the contract's canonical English headers and value words. Same arguments give
byte-identical files: every random draw comes from a generator seeded with
(seed, stream, keys...), never from a shared generator whose state depends on call order.

The story (day 0 is the first exported day; the outbreak began HISTORY_DAYS before it):

- Cases cluster in a few hot communities (HOT_SPOTS, incl. 杏苑社区, 西工房社区, 台郭社区).
  The first case seals a building; more cases seal a compound, then the whole community,
  with controlled and precaution zones around. A hot spot's zones lift 14 days after its
  last positive, so early hot spots lift inside a 14-day window.
- District-wide mass testing rounds every 2–3 days from day 0, coverage climbing from ~70 %
  to ~97 %; a few laggard communities stay below 95 %. Other days have routine testing.
- Cases and their close contacts fill the isolation hotels to a target fill; contacts who
  find no room isolate at home, cases who find none go to a designated hospital
  (centralized, no site_id). Secondary contacts isolate at home, travellers are monitored.
- Every staffed site runs three 8-hour shifts a day. The night shift of NIGHT_SHORT_SITE is
  one person short on a few days; nobody else is short for long (an absentee is replaced).

"Now" for shift status is end_date 12:00; samples taken on end_date after 16:00 are pending.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from random import Random

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from shapely.geometry import Point, shape

from dashboard import contract

REFERENCE_DIR = Path(__file__).parents[1] / "data" / "reference"
REFERENCE_FILES = ("areas.csv", "sites.csv", "boundaries.geojson")

# scale -> (factor on every person count, factor on hotel rooms). The city scale treats
# each community as a much larger unit of a 12.6-million city.
SCALES = {"district": (1.0, 1), "city": (12.6, 10)}

HISTORY_DAYS = 10
STATUS_HOUR = 12            # shift status (done / on_duty / planned) is judged at end_date 12:00
PENDING_FROM_HOUR = 16      # results of the last ~6 sampling hours of end_date are not out yet
SAMPLING_HOURS = (6, 22)

# Hot spots: (community, first positive day, days to the peak, expected positives on the
# peak day at district scale, last day with positives or None). A community of None is
# an urban community picked at random, "village" a rural one.
HOT_SPOTS = (
    (None, -10, 3, 9.0, -3),
    (None, -9, 2, 4.0, -5),
    ("杏苑社区", -7, 5, 14.0, None),
    ("西工房社区", -6, 4, 6.0, 8),
    ("台郭社区", -5, 5, 12.0, None),
    (None, -4, 4, 5.0, 9),
    (None, -2, 3, 5.0, 10),
    (None, 0, 3, 5.0, 10),
    (None, 2, 2, 4.0, 11),
    ("village", 5, 2, 3.0, 12),
)
LIFT_AFTER_DAYS = 14
# Cumulative positives (district scale) at which a hot spot escalates its sealed zone.
SEAL_COMPOUND_AT = 8
SEAL_COMMUNITY_AT = 25

CLOSE_CONTACTS_PER_CASE = 5
SECONDARY_CONTACTS_PER_CASE = 2
TRAVELLERS_PER_PERSON_DAY = 4e-5
CASE_REASON = "阳性感染者"
CASE_IN_HOSPITAL_REASON = "阳性感染者(定点医院)"
# Fill each hotel only up to its own target, the way a hotel keeps rooms for staff and
# cleaning; by hotel order in sites.csv.
HOTEL_TARGET_FILL = (0.93, 0.87, 0.91, 0.86, 0.89, 0.95)

ROUTINE_SHARE = 0.012       # people tested per day outside rounds (travel, hospital, work)
MOP_UP_SHARE = 0.2          # share of a two-day round's samples taken on its second day

NIGHT_SHORT_SITE = "CP02"
NIGHT_SHORT_DAYS_BEFORE_END = (1, 3, 4, 7, 10)
ALWAYS_ON_SHARE = 0.25      # pools with one member who never takes a day off
DOUBLE_SHIFT_CHANCE = 0.04
EXTRA_PERSON_CHANCE = 0.06
ABSENT_CHANCE = 0.02
DOOR_TEAMS_PER_HOT_SPOT = 2

RESULT_WORDS = ("negative", "positive", "pending")
NEGATIVE, POSITIVE, PENDING = range(3)


# --- randomness ------------------------------------------------------------------------

class Stream:
    """Keys that separate the random streams, so adding draws to one leaves the others alone."""
    OUTBREAK, PEOPLE, ROUND, ROUTINE, ZONES, ISOLATION, ROSTER, CHECKPOINTS, DOORS, COVERAGE = range(1, 11)


def rng_for(seed: int, stream: int, *keys: int) -> np.random.Generator:
    # Day indexes can be negative (history); SeedSequence needs non-negative entropy.
    return np.random.default_rng([seed, stream, *(k + 1000 for k in keys)])


# --- reference data --------------------------------------------------------------------

@dataclass
class Reference:
    areas_text: pd.DataFrame   # areas.csv exactly as read (strings), populations scaled
    sites_text: pd.DataFrame
    communities: pd.DataFrame  # numeric view of community rows, index 0..n-1
    sites: pd.DataFrame
    people_factor: float

    @property
    def hotels(self) -> pd.DataFrame:
        return self.sites[self.sites.kind == "isolation_hotel"]


def scale_counts(areas: pd.DataFrame, factor: float) -> pd.DataFrame:
    """Scale community counts, then add streets up again so a street is still the sum."""
    areas = areas.copy()
    for column in ("population", "households"):
        counts = areas[column].astype(int)
        community = areas.level == "community"
        counts[community] = (counts[community] * factor).round().astype(int)
        street_sums = counts[community].groupby(areas.parent_code[community]).sum()
        counts[~community] = areas.area_code[~community].map(street_sums).astype(int)
        areas[column] = counts.astype(str)
    return areas


def load_reference(scale: str, reference_dir: Path = REFERENCE_DIR) -> Reference:
    people_factor, room_factor = SCALES[scale]
    read = dict(dtype=str, keep_default_na=False)
    areas_text = pd.read_csv(reference_dir / "areas.csv", **read)
    sites_text = pd.read_csv(reference_dir / "sites.csv", **read)
    if scale != "district":
        areas_text = scale_counts(areas_text, people_factor)
        rooms = sites_text.capacity != ""
        sites_text.loc[rooms, "capacity"] = (sites_text.capacity[rooms].astype(int) * room_factor).astype(str)

    communities = areas_text[areas_text.level == "community"].reset_index(drop=True).copy()
    for column in ("population", "households"):
        communities[column] = communities[column].astype(int)
    for column in ("lat", "lon"):
        communities[column] = communities[column].astype(float)
    # Residents are numbered 0..N-1 across the district; a community's residents are a block.
    communities["first_person"] = communities.population.cumsum() - communities.population

    sites = sites_text.copy()
    sites["min_staff"] = sites.min_staff.replace("", "0").astype(int)
    sites["capacity"] = pd.to_numeric(sites.capacity).fillna(0).astype(int)
    sites["lat"] = sites.lat.astype(float)
    sites["lon"] = sites.lon.astype(float)
    return Reference(areas_text, sites_text, communities, sites, people_factor)


def write_reference(target: Path, reference: Reference, scale: str, reference_dir: Path = REFERENCE_DIR) -> None:
    target.mkdir(parents=True, exist_ok=True)
    if scale == "district":
        for name in REFERENCE_FILES:
            shutil.copyfile(reference_dir / name, target / name)
        return
    shutil.copyfile(reference_dir / "boundaries.geojson", target / "boundaries.geojson")
    reference.areas_text.to_csv(target / "areas.csv", index=False, lineterminator="\n")
    reference.sites_text.to_csv(target / "sites.csv", index=False, lineterminator="\n")


# --- identity numbers ------------------------------------------------------------------

# Resident number g maps to a birth date and a 3-digit sequence through an affine
# permutation of all (birth day, sequence) slots, so 12.6 M residents get distinct,
# valid ID numbers without storing a single string. The address code 990103 belongs to no
# region (province codes stop at 82): with Erqi's real 410103 and plausible birth dates,
# some demo numbers would be real people's.
ADDRESS_DIGITS = (9, 9, 0, 1, 0, 3)
BIRTH_EPOCH = np.datetime64("1937-01-01")
BIRTH_DAYS = 30_000                       # births up to 2019-02
ID_SLOTS = BIRTH_DAYS * 1000
ID_MULTIPLIER = 7_777_777                 # coprime with ID_SLOTS: no factor 2, 3 or 5
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK_CHARS = np.frombuffer(b"10X98765432", dtype=np.uint8)


def id_number_chars(person: np.ndarray, seed: int) -> np.ndarray:
    """(n, 18) ASCII bytes of the 18-digit ID numbers of residents `person`."""
    slot = (person.astype(np.int64) * ID_MULTIPLIER + seed * 1_000_003) % ID_SLOTS
    birth = BIRTH_EPOCH + (slot // 1000).astype("timedelta64[D]")
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    month = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
    digits = np.empty((len(person), 17), dtype=np.int64)
    digits[:, :6] = ADDRESS_DIGITS
    start = 6
    for value, width in ((year, 4), (month, 2), (day, 2), (slot % 1000, 3)):
        for position in range(width):
            digits[:, start + position] = value // 10 ** (width - 1 - position) % 10
        start += width
    chars = np.empty((len(person), 18), dtype=np.uint8)
    chars[:, :17] = digits + ord("0")
    chars[:, 17] = ID_CHECK_CHARS[(digits * ID_WEIGHTS).sum(axis=1) % 11]
    return chars


def id_numbers(person: np.ndarray, seed: int) -> list[str]:
    return [row.tobytes().decode() for row in id_number_chars(person, seed)]


def fixed_width_strings(chars: np.ndarray) -> pa.Array:
    """(n, width) ASCII bytes -> Arrow strings, without making n Python strings."""
    count, width = chars.shape
    offsets = np.arange(0, (count + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars)))


def numbered_strings(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """prefix + zero-padded numbers, e.g. S20220106 + 00000001."""
    chars = np.empty((len(numbers), len(prefix) + width), dtype=np.uint8)
    chars[:, : len(prefix)] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    for position in range(width):
        chars[:, len(prefix) + position] = numbers // 10 ** (width - 1 - position) % 10 + ord("0")
    return fixed_width_strings(chars)


# --- the outbreak ----------------------------------------------------------------------

class PeopleQueue:
    """Hands out distinct residents of each community, so nobody is a case or isolated twice."""

    def __init__(self, seed: int, populations: np.ndarray):
        self.seed, self.populations = seed, populations
        self.orders: dict[int, np.ndarray] = {}
        self.used = defaultdict(int)

    def take(self, community: int, count: int) -> np.ndarray:
        if community not in self.orders:
            rng = rng_for(self.seed, Stream.PEOPLE, community)
            self.orders[community] = rng.permutation(self.populations[community])
        start = self.used[community]
        self.used[community] += count
        return self.orders[community][start : start + count]


@dataclass(frozen=True)
class HotSpot:
    community: int
    first_day: int
    days_to_peak: int
    peak: float
    last_day: int | None

    def expected_positives(self, day: int) -> float:
        """A rise-and-fall curve u·e^(1-u) that peaks at `peak` on first_day + days_to_peak."""
        if day < self.first_day or (self.last_day is not None and day > self.last_day):
            return 0.0
        u = (day - self.first_day + 1) / (self.days_to_peak + 1)
        return self.peak * u * np.exp(1 - u)


def pick_hot_spots(reference: Reference, seed: int) -> list[HotSpot]:
    communities = reference.communities
    rural_parents = set(reference.areas_text.area_code[reference.areas_text.name.str.endswith(("镇", "乡"))])
    is_rural = communities.parent_code.isin(rural_parents)
    named = {name: i for i, name in enumerate(communities.name)}
    taken = {named[name] for name, *_ in HOT_SPOTS if name in named}
    rng = rng_for(seed, Stream.OUTBREAK)
    urban_pool = [i for i in np.flatnonzero(~is_rural) if i not in taken]
    rural_pool = list(np.flatnonzero(is_rural))
    hot_spots = []
    for name, first_day, days_to_peak, peak, last_day in HOT_SPOTS:
        if name in named:
            community = named[name]
        else:
            pool = rural_pool if name == "village" else urban_pool
            community = int(pool.pop(int(rng.integers(len(pool)))))
        hot_spots.append(HotSpot(community, first_day, days_to_peak, peak, last_day))
    return hot_spots


@dataclass
class Cases:
    """Positive residents: community index, day index found, resident number within the community."""
    community: np.ndarray
    day: np.ndarray
    person: np.ndarray

    def on(self, community: int, day: int) -> np.ndarray:
        return self.person[(self.community == community) & (self.day == day)]

    def before(self, community: int, day: int) -> np.ndarray:
        return self.person[(self.community == community) & (self.day < day)]

    def last_day(self, community: int) -> int | None:
        days = self.day[self.community == community]
        return int(days.max()) if len(days) else None


def draw_cases(hot_spots: list[HotSpot], days: int, people: PeopleQueue, factor: float, seed: int) -> Cases:
    rows = []
    for day in range(-HISTORY_DAYS, days):
        for index, spot in enumerate(hot_spots):
            count = rng_for(seed, Stream.OUTBREAK, index, day).poisson(spot.expected_positives(day) * factor)
            for person in people.take(spot.community, count):
                rows.append((spot.community, day, person))
    columns = np.array(rows, dtype=np.int64).reshape(-1, 3).T
    return Cases(*columns)


# --- control zones ---------------------------------------------------------------------

@dataclass
class Zone:
    community: int
    name: str
    level: str
    scope: str
    started: int
    lifted: int | None
    population: int
    lat: float
    lon: float
    zone_id: str = ""


def neighbours(boundaries: dict, code: str) -> list[str]:
    """Communities whose polygon touches this one's (within ~2 m, as snapping left gaps)."""
    shape = boundaries[code]
    grown = shape.buffer(2e-5)
    return sorted(other for other, candidate in boundaries.items() if other != code and grown.intersects(candidate))


def point_inside(polygon, rng: np.random.Generator) -> tuple[float, float]:
    minx, miny, maxx, maxy = polygon.bounds
    while True:
        lon, lat = round(rng.uniform(minx, maxx), 5), round(rng.uniform(miny, maxy), 5)
        if polygon.contains(Point(lon, lat)):
            return lat, lon


COMPOUND_NAMES = ("锦绣", "和园", "阳光", "惠民", "福安", "金色", "职工", "康宁", "华庭", "雅苑")


def first_day_reaching(cumulative: np.ndarray, threshold: float) -> int | None:
    """Day index on which cumulative positives (indexed from -HISTORY_DAYS) reach threshold."""
    if cumulative[-1] < threshold:
        return None
    return int(np.argmax(cumulative >= threshold)) - HISTORY_DAYS


class ZonePlanner:
    """Zones of each hot spot: a sealed building, a controlled compound and a precaution
    community on the first case; a sealed compound and then the whole community sealed
    (with zones in up to three neighbours) as cases add up. All lift together."""

    def __init__(self, reference: Reference, hot_spots: list[HotSpot], cases: Cases, boundaries: dict, seed: int):
        self.communities = reference.communities
        self.factor = reference.people_factor
        self.hot_spots, self.cases, self.boundaries, self.seed = hot_spots, cases, boundaries, seed
        # A neighbour of two hot spots gets one set of zones; hot neighbours have their own.
        self.zoned = {spot.community for spot in hot_spots}
        self.zones: list[Zone] = []

    def plan(self) -> list[Zone]:
        for index, spot in enumerate(self.hot_spots):
            if self.cases.last_day(spot.community) is not None:
                self.plan_hot_spot(index, spot)
        self.zones.sort(key=lambda z: z.started)  # stable: creation order breaks ties
        for number, zone in enumerate(self.zones, start=1):
            zone.zone_id = f"Z{number:04d}"
        return self.zones

    def add(self, community: int, name: str, level: str, scope: str, started: int, population: float,
            lifted: int, rng: np.random.Generator, at_centre: bool = False) -> None:
        row = self.communities.iloc[community]
        if at_centre:
            lat, lon = row.lat, row.lon
        else:
            lat, lon = point_inside(self.boundaries[row.area_code], rng)
        self.zones.append(Zone(community, name, level, scope, started, lifted, int(population), lat, lon))

    def plan_hot_spot(self, index: int, spot: HotSpot) -> None:
        rng = rng_for(self.seed, Stream.ZONES, index)
        lifted = self.cases.last_day(spot.community) + LIFT_AFTER_DAYS
        home = self.communities.iloc[spot.community]
        name, population = home["name"], home.population
        compounds = rng.choice(COMPOUND_NAMES, size=3, replace=False)
        cumulative = np.cumsum(np.bincount(self.cases.day[self.cases.community == spot.community] + HISTORY_DAYS))

        first = first_day_reaching(cumulative, 1)
        self.add(spot.community, f"{name}{rng.integers(1, 31)}号楼", "sealed", "building", first,
                 rng.integers(120, 420) * self.factor, lifted, rng)
        self.add(spot.community, f"{name}{compounds[0]}小区", "controlled", "compound", first,
                 population * rng.uniform(0.15, 0.3), lifted, rng)
        self.add(spot.community, name, "precaution", "community", first, population, lifted, rng, at_centre=True)

        compound_day = first_day_reaching(cumulative, SEAL_COMPOUND_AT * self.factor)
        if compound_day is not None:
            self.add(spot.community, f"{name}{compounds[1]}小区", "sealed", "compound", compound_day,
                     population * rng.uniform(0.15, 0.3), lifted, rng)
        community_day = first_day_reaching(cumulative, SEAL_COMMUNITY_AT * self.factor)
        if community_day is None:
            return
        self.add(spot.community, f"{name}全域", "sealed", "community", community_day, population, lifted, rng,
                 at_centre=True)
        for position, other in enumerate(self.pick_neighbours(home.area_code, rng)):
            row = self.communities.iloc[other]
            if position == 0:
                self.add(other, f"{row['name']}{compounds[2]}小区", "controlled", "compound", community_day,
                         row.population * rng.uniform(0.15, 0.3), lifted, rng)
            self.add(other, row["name"], "precaution", "community", community_day, row.population, lifted, rng,
                     at_centre=True)

    def pick_neighbours(self, area_code: str, rng: np.random.Generator) -> list[int]:
        code_index = {code: i for i, code in enumerate(self.communities.area_code)}
        candidates = [code_index[c] for c in neighbours(self.boundaries, area_code)
                      if c in code_index and code_index[c] not in self.zoned]
        picked = [int(i) for i in rng.permutation(candidates)[:3]]
        self.zoned.update(picked)
        return picked


def active(started: int, ended: int | None, day: int) -> bool:
    return started <= day and (ended is None or day < ended)


def sealed_population(zones: list[Zone], community: int, day: int, population: int) -> int:
    total = sum(z.population for z in zones
                if z.community == community and z.level == "sealed" and active(z.started, z.lifted, day))
    return min(total, population)


# --- isolation -------------------------------------------------------------------------

@dataclass
class Isolation:
    community: int
    person: int
    kind: str
    hotel: str
    started: int
    planned_end: int
    reason: str


def plan_isolation(reference: Reference, cases: Cases, days: int, people: PeopleQueue, seed: int) -> list[Isolation]:
    """Cases and close contacts go to hotels while rooms last; the rest isolate at home."""
    communities = reference.communities
    hotels = reference.hotels
    targets = {h.site_id: int(h.capacity * fill) for h, fill in zip(hotels.itertuples(), HOTEL_TARGET_FILL)}
    rows: list[Isolation] = []
    entrants = defaultdict(list)  # day -> rows that want a hotel room that day, cases first
    for day in range(-HISTORY_DAYS, days):
        rng = rng_for(seed, Stream.ISOLATION, day)
        for community, person in zip(cases.community[cases.day == day], cases.person[cases.day == day]):
            community = int(community)
            entrants[day].append(Isolation(community, int(person), "centralized", "", day, day + 14, CASE_REASON))
            start = day + int(rng.integers(0, 2))  # tracing takes up to a day
            for contact in people.take(community, rng.poisson(CLOSE_CONTACTS_PER_CASE)):
                entrants[start].append(Isolation(community, int(contact), "centralized", "", start,
                                                 start + int(rng.integers(10, 15)), "密切接触者"))
            for contact in people.take(community, rng.poisson(SECONDARY_CONTACTS_PER_CASE)):
                rows.append(Isolation(community, int(contact), "home", "", start + 1, start + 8, "次密切接触者"))
        travellers = rng.poisson(communities.population.to_numpy() * TRAVELLERS_PER_PERSON_DAY)
        for community, count in enumerate(travellers):
            for person in people.take(community, count):
                rows.append(Isolation(community, int(person), "home_monitoring", "", day, day + 7,
                                      "中高风险地区来郑人员"))

    capacities = dict(zip(hotels.site_id, hotels.capacity))
    occupants = {hotel: [] for hotel in targets}  # hotel -> planned end days of its guests
    for day in sorted(entrants):
        for hotel in occupants:
            occupants[hotel] = [end for end in occupants[hotel] if end > day]
        for row in sorted(entrants[day], key=lambda r: r.reason != CASE_REASON):
            # A case always gets a room while any is left; a contact only below the target.
            limits = capacities if row.reason == CASE_REASON else targets
            # Fill hotels evenly relative to their size, so that they also empty evenly.
            free = {h: (limits[h] - len(guests)) / capacities[h] for h, guests in occupants.items()}
            hotel = max(free, key=free.get)
            if free[hotel] > 0:
                row.hotel = hotel
                occupants[hotel].append(row.planned_end)
            elif row.reason == CASE_REASON:
                row.reason = CASE_IN_HOSPITAL_REASON  # still centralized, in a hospital that is no site
            else:
                row.kind = "home"  # no room left: isolate at home
            rows.append(row)
    rows.sort(key=lambda r: r.started)
    return rows


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


# --- the whole story -------------------------------------------------------------------

@dataclass
class Story:
    reference: Reference
    seed: int
    dates: list[date]
    hot_spots: list[HotSpot]
    cases: Cases
    zones: list[Zone]
    isolation: list[Isolation]
    pools: dict
    standby: dict
    teams: list[DoorTeam]
    rounds: list[Round]

    @property
    def now(self) -> datetime:
        return datetime.combine(self.dates[-1], time(STATUS_HOUR))

    def day(self, index: int) -> date:
        return self.dates[0] + timedelta(days=index)

    def community_sealed(self, community: int, day: int) -> bool:
        return any(z.community == community and z.level == "sealed" and active(z.started, z.lifted, day)
                   for z in self.zones)


def load_boundaries(reference_dir: Path = REFERENCE_DIR) -> dict:
    collection = json.loads((reference_dir / "boundaries.geojson").read_text(encoding="utf-8"))
    return {f["properties"]["area_code"]: shape(f["geometry"]) for f in collection["features"]
            if f["properties"]["level"] == "community"}


def build_story(scale: str, days: int, end_date: date, seed: int) -> Story:
    reference = load_reference(scale)
    boundaries = load_boundaries()
    dates = [end_date - timedelta(days=days - 1 - i) for i in range(days)]
    people = PeopleQueue(seed, reference.communities.population.to_numpy())
    hot_spots = pick_hot_spots(reference, seed)
    cases = draw_cases(hot_spots, days, people, reference.people_factor, seed)
    zones = ZonePlanner(reference, hot_spots, cases, boundaries, seed).plan()
    isolation = plan_isolation(reference, cases, days, people, seed)
    pools, standby, teams = plan_roster(reference, hot_spots, seed)
    return Story(reference, seed, dates, hot_spots, cases, zones, isolation, pools, standby, teams,
                 plan_rounds(days))


# --- testing ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Round:
    number: int
    days: tuple[int, ...]   # a second day mops up whoever was missed on the first

    def coverage(self, laggard: bool, sealed: bool, offset: float) -> float:
        """Share of residents sampled: ~70 % in round 1, approaching ~97 % later."""
        base = 0.985 - 0.285 * 0.6 ** (self.number - 1)
        if laggard:
            offset -= 0.06
        if sealed:
            offset += 0.03  # everyone is at home in a sealed community
        return float(np.clip(base + offset, 0.5, 0.995))


def plan_rounds(days: int) -> list[Round]:
    """Round starts alternate 3 and 2 days apart; odd rounds take two days."""
    rounds, start, number = [], 0, 1
    while start < days:
        length = 2 if number % 2 else 1
        rounds.append(Round(number, tuple(range(start, start + length))))
        start += 3 if number % 2 else 2
        number += 1
    return rounds


# Sampling-time mixtures: (weight, mean hour, sd hours); a mean of None is uniform over
# the sampling hours. Rounds open early and queues peak in the morning.
TIME_MIXTURES = {
    "round": ((0.55, 8.5, 1.3), (0.25, 15.0, 2.0), (0.20, None, None)),
    "mop_up": ((0.35, 9.0, 1.5), (0.65, None, None)),
    "routine": ((0.6, 10.0, 2.0), (0.4, None, None)),
}


def sampling_seconds(rng: np.random.Generator, count: int, mixture: str) -> np.ndarray:
    components = TIME_MIXTURES[mixture]
    which = rng.choice(len(components), size=count, p=[c[0] for c in components])
    means = np.array([c[1] if c[1] is not None else np.nan for c in components])[which]
    sds = np.array([c[2] if c[2] is not None else 0.0 for c in components])[which]
    uniform = rng.uniform(*SAMPLING_HOURS, size=count)
    hours = np.where(np.isnan(means), uniform, rng.normal(np.nan_to_num(means), sds))
    # Outside opening hours: spread over the day rather than clip, which would pile
    # thousands of samples onto 06:00:00 exactly.
    first, last = SAMPLING_HOURS
    hours = np.where((hours < first) | (hours >= last), uniform, hours)
    return (hours * 3600).astype(np.int32)


def serving_sites(reference: Reference) -> tuple[list[str], list[np.ndarray], list[np.ndarray]]:
    """Each community samples at its two nearest fixed sites and its nearest sampling vehicle."""
    sites = reference.sites
    site_ids = list(sites.site_id)
    communities = reference.communities
    kilometres = np.array([111.32 * np.cos(np.radians(34.7)), 110.57])
    choices, weights = [], []
    for community in communities.itertuples():
        picked = []
        for kind, count in (("testing_fixed", 2), ("testing_mobile", 1)):
            candidates = sites[sites.kind == kind]
            distance = np.hypot(*((candidates[["lon", "lat"]].to_numpy() - [community.lon, community.lat])
                                  * kilometres).T)
            picked += [site_ids.index(s) for s in candidates.site_id.to_numpy()[np.argsort(distance)[:count]]]
        choices.append(np.array(picked, dtype=np.int16))
        weights.append(np.array([0.45, 0.35, 0.20]))
    return site_ids, choices, weights


@dataclass
class TestingDay:
    community: np.ndarray   # int16 index into communities
    person: np.ndarray      # int64 resident number (district-wide)
    site: np.ndarray        # int16 index into sites
    round: np.ndarray       # int16
    seconds: np.ndarray     # int32 seconds after midnight
    result: np.ndarray      # int8 index into RESULT_WORDS


class TestingPlanner:
    def __init__(self, story: Story):
        self.story = story
        self.communities = story.reference.communities
        self.site_ids, self.site_choices, self.site_weights = serving_sites(story.reference)
        rng = rng_for(story.seed, Stream.COVERAGE)
        count = len(self.communities)
        self.offsets = rng.uniform(-0.01, 0.03, size=count)
        self.laggards = rng.random(count) < 0.15
        self.round_of_day = {d: r for r in story.rounds for d in r.days}

    def round_sample(self, community: int, rnd: Round) -> tuple[np.ndarray, np.ndarray]:
        """Residents sampled in a round and on which of its days (0 or 1): one sample per
        person per round, and each case is sampled on the day it was found."""
        story, population = self.story, int(self.communities.population[community])
        rng = rng_for(story.seed, Stream.ROUND, rnd.number, community)
        order = rng.permutation(population)
        earlier_cases = story.cases.before(community, rnd.days[0])
        if len(earlier_cases):
            order = order[~np.isin(order, earlier_cases)]
        sealed = story.community_sealed(community, rnd.days[0])
        coverage = rnd.coverage(bool(self.laggards[community]), sealed, float(self.offsets[community]))
        chosen = order[: min(round(coverage * population), len(order))].copy()
        which_day = np.zeros(len(chosen), dtype=np.int8)
        if len(rnd.days) == 2:
            which_day[round(len(chosen) * (1 - MOP_UP_SHARE)):] = 1
        for position, day in enumerate(rnd.days):
            self.include_cases(chosen, which_day, story.cases.on(community, day), position)
        return chosen, which_day

    @staticmethod
    def include_cases(chosen: np.ndarray, which_day: np.ndarray, cases: np.ndarray, position: int) -> None:
        """Make sure each case is in `chosen` on day `position`, replacing a non-case if needed."""
        if not len(cases):
            return
        found = np.isin(chosen, cases)
        which_day[found] = position
        missing = cases[~np.isin(cases, chosen)]
        replaceable = np.flatnonzero((which_day == position) & ~found)[::-1]
        for case, slot in zip(missing, replaceable):
            chosen[slot] = case

    def routine_sample(self, community: int, day: int) -> np.ndarray:
        story, population = self.story, int(self.communities.population[community])
        rng = rng_for(story.seed, Stream.ROUTINE, day, community)
        # Residents of sealed zones are tested every day on top of the usual routine.
        count = round(population * ROUTINE_SHARE) + sealed_population(story.zones, community, day, population)
        order = rng.permutation(population)
        earlier_cases = story.cases.before(community, day)
        if len(earlier_cases):
            order = order[~np.isin(order, earlier_cases)]
        chosen = order[: min(count, len(order))].copy()
        self.include_cases(chosen, np.zeros(len(chosen), dtype=np.int8), story.cases.on(community, day), 0)
        return chosen

    def sampled_on(self, community: int, day: int) -> tuple[np.ndarray, str]:
        """Residents sampled in a community on a day, and the time-of-day mixture to use."""
        rnd = self.round_of_day.get(day)
        if rnd is None:
            return self.routine_sample(community, day), "routine"
        chosen, which_day = self.round_sample(community, rnd)
        position = rnd.days.index(day)
        return chosen[which_day == position], ("mop_up" if position else "round")

    def community_day(self, community: int, day: int) -> tuple[np.ndarray, ...]:
        story = self.story
        person, mixture = self.sampled_on(community, day)
        rnd = self.round_of_day.get(day)
        rng = rng_for(story.seed, Stream.ROUND if rnd else Stream.ROUTINE, day, community, 1)
        seconds = sampling_seconds(rng, len(person), mixture)
        is_case = np.isin(person, story.cases.on(community, day))
        # Positives are reported the same day, so they were sampled before the evening's
        # samples that are still pending.
        seconds[is_case] = rng.integers(SAMPLING_HOURS[0] * 3600, PENDING_FROM_HOUR * 3600, is_case.sum())
        result = np.where(is_case, POSITIVE, NEGATIVE).astype(np.int8)
        if day == len(story.dates) - 1:
            result[(seconds >= PENDING_FROM_HOUR * 3600) & ~is_case] = PENDING
        choices = self.site_choices[community]
        site = choices[rng.choice(len(choices), size=len(person), p=self.site_weights[community])]
        return (np.full(len(person), community, dtype=np.int16),
                person + int(self.communities.first_person[community]),
                site,
                np.full(len(person), rnd.number if rnd else 0, dtype=np.int16),
                seconds,
                result)

    def day(self, day: int) -> TestingDay:
        parts = [self.community_day(community, day) for community in range(len(self.communities))]
        columns = [np.concatenate(column) for column in zip(*parts)]
        order = np.argsort(columns[4], kind="stable")  # lab numbering follows sampling time
        return TestingDay(*(column[order] for column in columns))


TESTING_BATCH_ROWS = 1_000_000


def write_testing(path: Path, testing: TestingDay, story: Story, day: date) -> int:
    """Write in batches with Arrow: a city-scale round day has ~10 M rows."""
    area_codes = pa.array(story.reference.communities.area_code.tolist())
    site_ids = pa.array(story.reference.sites.site_id.tolist())
    results = pa.array(list(RESULT_WORDS))
    midnight = np.datetime64(day.isoformat(), "s")
    columns = [c.name for c in contract.TESTING_RECORDS.columns]
    options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
    count = len(testing.person)
    with path.open("wb") as handle:
        handle.write((",".join(columns) + "\n").encode())
        writer = None
        for start in range(0, count, TESTING_BATCH_ROWS):
            stop = min(start + TESTING_BATCH_ROWS, count)
            batch = pa.record_batch([
                numbered_strings(f"S{day:%Y%m%d}", np.arange(start + 1, stop + 1), 8),
                fixed_width_strings(id_number_chars(testing.person[start:stop], story.seed)),
                pa.DictionaryArray.from_arrays(testing.community[start:stop], area_codes),
                pa.DictionaryArray.from_arrays(testing.site[start:stop], site_ids),
                pa.array(testing.round[start:stop]),
                pa.array(midnight + testing.seconds[start:stop].astype("timedelta64[s]")),
                pa.DictionaryArray.from_arrays(testing.result[start:stop], results),
            ], names=columns)
            writer = writer or pa_csv.CSVWriter(handle, batch.schema, write_options=options)
            writer.write_batch(batch)
        if writer:
            writer.close()
    return count


# --- the small files -------------------------------------------------------------------

def iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def zone_rows(story: Story, day: int) -> list[dict]:
    communities = story.reference.communities
    return [{
        "zone_id": z.zone_id, "area_code": communities.area_code[z.community], "name": z.name,
        "level": z.level, "scope": z.scope, "started_on": iso(story.day(z.started)),
        "lifted_on": iso(story.day(z.lifted)) if z.lifted is not None and z.lifted <= day else "",
        "population": z.population, "lat": f"{z.lat:.5f}", "lon": f"{z.lon:.5f}",
    } for z in story.zones if z.started <= day]


def isolation_rows(story: Story, day: int, case_ids: list[str]) -> list[dict]:
    communities = story.reference.communities
    return [{
        "case_id": case_id, "area_code": communities.area_code[row.community], "kind": row.kind,
        "site_id": row.hotel, "started_on": iso(story.day(row.started)),
        "planned_end_on": iso(story.day(row.planned_end)),
        "ended_on": iso(story.day(row.planned_end)) if row.planned_end <= day else "",
        "reason": row.reason,
    } for row, case_id in zip(story.isolation, case_ids) if row.started <= day]


def shift_status(shift: Shift, now: datetime) -> str:
    if shift.absent:
        return "absent"
    if shift.ends <= now:
        return "done"
    return "on_duty" if shift.starts <= now else "planned"


def shifts_on(story: Story, day_index: int) -> list[Shift]:
    day = story.day(day_index)
    days_before_end = len(story.dates) - 1 - day_index
    shifts = []
    for site in story.reference.sites[story.reference.sites.min_staff > 0].itertuples():
        rng = rng_for(story.seed, Stream.ROSTER, day_index, int(site.Index))
        night_short = site.site_id == NIGHT_SHORT_SITE and days_before_end in NIGHT_SHORT_DAYS_BEFORE_END
        shifts += site_shifts(site, story.pools[site.site_id], story.standby[site.site_id], day_index, day,
                              story.now, night_short, rng)
    for team in story.teams:
        if story.community_sealed(team.community, day_index):
            starts = datetime.combine(day, time(8))
            shifts += [Shift(member, team.office, starts, starts + timedelta(hours=12), team.team_id)
                       for member in team.members]
    return shifts


def shift_rows(story: Story, day_index: int) -> list[dict]:
    day = story.day(day_index)
    return [{
        "shift_id": f"SH{day:%Y%m%d}{number:04d}", "staff_id": s.staff.staff_id, "staff_name": s.staff.name,
        "unit": s.staff.unit, "role": s.staff.role, "site_id": s.site_id, "team_id": s.team_id,
        "starts_at": stamp(s.starts), "ends_at": stamp(s.ends), "status": shift_status(s, story.now),
    } for number, s in enumerate(shifts_on(story, day_index), start=1)]


def hourly_traffic_shape(hour: np.ndarray) -> np.ndarray:
    """Low at night, a morning and an evening peak."""
    return 0.3 + 0.9 * np.exp(-((hour - 9) / 3) ** 2) + 0.8 * np.exp(-((hour - 18) / 3) ** 2)


def checkpoint_rows(story: Story, day_index: int) -> list[dict]:
    day = story.day(day_index)
    rows = []
    for site in story.reference.sites[story.reference.sites.kind == "checkpoint"].itertuples():
        rng = rng_for(story.seed, Stream.CHECKPOINTS, day_index, int(site.Index))
        hours = np.arange(24)
        # The expressway toll station sees more traffic; traffic thins as controls tighten.
        base = 25 * site.min_staff * max(0.5, 1 - 0.02 * day_index)
        vehicles = rng.poisson(base * hourly_traffic_shape(hours))
        people = rng.poisson(vehicles * 1.7)
        turned_back = rng.binomial(vehicles, 0.035)
        fever = rng.poisson(people * 4e-5)
        for hour in hours:
            starts = datetime.combine(day, time()) + timedelta(hours=int(hour))
            rows.append({
                "site_id": site.site_id, "period_start": stamp(starts),
                "period_end": stamp(starts + timedelta(hours=1)), "vehicles_checked": vehicles[hour],
                "people_checked": people[hour], "turned_back": turned_back[hour], "fever_found": fever[hour],
            })
    return rows


def door_visit_rows(story: Story, day_index: int) -> list[dict]:
    rows = []
    for number, team in enumerate(story.teams):
        if not story.community_sealed(team.community, day_index):
            continue
        rng = rng_for(story.seed, Stream.DOORS, day_index, number)
        households = int(rng.integers(20, 36))
        rows.append({
            "team_id": team.team_id, "area_code": story.reference.communities.area_code[team.community],
            "visited_on": iso(story.day(day_index)), "households_visited": households,
            "people_checked": round(households * rng.uniform(2.3, 2.7)), "fever_found": int(rng.poisson(0.04)),
        })
    return rows


def write_rows(path: Path, kind: contract.FileKind, rows: list[dict]) -> int:
    columns = [c.name for c in kind.columns]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([row[c] for c in columns] for row in rows)
    return len(rows)


# --- entry point -----------------------------------------------------------------------

def generate(out: Path, scale: str = "district", days: int = 14, end_date: date | None = None,
             seed: int = 42) -> dict:
    """Write the reference data and `days` daily exports ending at end_date (default today)
    under `out`; return the number of rows written per file kind (summed over days)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {sorted(SCALES)}, not {scale!r}")
    if days < 1:
        raise ValueError("days must be at least 1")
    out = Path(out)
    end_date = end_date or date.today()
    story = build_story(scale, days, end_date, seed)
    write_reference(out / "reference", story.reference, scale)

    persons = np.array([story.reference.communities.first_person[r.community] + r.person for r in story.isolation],
                       dtype=np.int64)
    case_ids = id_numbers(persons, seed)
    testing = TestingPlanner(story)
    rows = defaultdict(int)
    rows["areas"] = len(story.reference.areas_text)
    rows["sites"] = len(story.reference.sites_text)
    for day_index, day in enumerate(story.dates):
        folder = out / "exports" / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        rows["control_zones"] += write_rows(folder / "control_zones.csv", contract.CONTROL_ZONES,
                                            zone_rows(story, day_index))
        rows["isolation"] += write_rows(folder / "isolation.csv", contract.ISOLATION,
                                        isolation_rows(story, day_index, case_ids))
        rows["shifts"] += write_rows(folder / "shifts.csv", contract.SHIFTS, shift_rows(story, day_index))
        rows["checkpoint_log"] += write_rows(folder / "checkpoint_log.csv", contract.CHECKPOINT_LOG,
                                             checkpoint_rows(story, day_index))
        rows["door_visits"] += write_rows(folder / "door_visits.csv", contract.DOOR_VISITS,
                                          door_visit_rows(story, day_index))
        rows["testing_records"] += write_testing(folder / "testing_records.csv", testing.day(day_index), story, day)
    return {"scale": scale, "first_day": iso(story.dates[0]), "last_day": iso(story.dates[-1]), "rows": dict(rows)}

