"""The outbreak: hot spots, cases, the control zones they cause, and who goes into isolation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from shapely.geometry import Point

from dashboard.demo.population import (
    CASE_IN_HOSPITAL_REASON,
    CASE_REASON,
    CLOSE_CONTACTS_PER_CASE,
    HISTORY_DAYS,
    HOT_SPOTS,
    HOTEL_TARGET_FILL,
    LIFT_AFTER_DAYS,
    SEAL_COMMUNITY_AT,
    SEAL_COMPOUND_AT,
    SECONDARY_CONTACTS_PER_CASE,
    TRAVELLERS_PER_PERSON_DAY,
    Reference,
    Stream,
    rng_for,
)

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


TRANSFER_STREAM = (1, 0)  # keys under Stream.ISOLATION that no day's draws use


def transfer_delays(cases: Cases, days: int, seed: int) -> np.ndarray:
    """Days from each case's positive sample to its centralized isolation. Samples are taken from
    morning to evening; nine in ten cases move 6-24 h later, the rest within 24-48 h, so a case
    sampled in the afternoon often waits past midnight. Two cases found 3-6 days before the last
    day are missed: they are not transferred within the window at all."""
    rng = rng_for(seed, Stream.ISOLATION, *TRANSFER_STREAM)
    count = len(cases.day)
    hours = np.where(rng.random(count) < 0.9, rng.uniform(6, 24, count), rng.uniform(24, 48, count))
    delays = ((rng.uniform(8, 18, count) + hours) // 24).astype(np.int64)
    recent = np.flatnonzero((cases.day >= days - 6) & (cases.day <= days - 3))
    missed = rng.choice(recent, size=min(2, len(recent)), replace=False)
    delays[missed] = days - cases.day[missed]
    return delays


def plan_isolation(reference: Reference, cases: Cases, days: int, people: PeopleQueue, seed: int) -> list[Isolation]:
    """Cases and close contacts go to hotels while rooms last; the rest isolate at home."""
    communities = reference.communities
    hotels = reference.hotels
    targets = {h.site_id: int(h.capacity * fill) for h, fill in zip(hotels.itertuples(), HOTEL_TARGET_FILL)}
    rows: list[Isolation] = []
    entrants = defaultdict(list)  # day -> rows that want a hotel room that day, cases first
    delays = transfer_delays(cases, days, seed)
    for day in range(-HISTORY_DAYS, days):
        rng = rng_for(seed, Stream.ISOLATION, day)
        found = cases.day == day
        for community, person, delay in zip(cases.community[found], cases.person[found], delays[found]):
            community, moved = int(community), day + int(delay)
            entrants[moved].append(Isolation(community, int(person), "centralized", "", moved, moved + 14, CASE_REASON))
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
