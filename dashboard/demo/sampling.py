"""Mass-testing rounds and who is sampled on a day, in which community, where and when."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from dashboard.demo.outbreak import sealed_population
from dashboard.demo.population import (
    MOP_UP_SHARE,
    NEGATIVE,
    PENDING,
    PENDING_FROM_HOUR,
    POSITIVE,
    ROUTINE_SHARE,
    SAMPLING_HOURS,
    Reference,
    Stream,
    rng_for,
)
from dashboard.demo.testing_export import TestingDay, sampling_time_order

if TYPE_CHECKING:  # generate imports this module; the story is only a type here
    from dashboard.demo.generate import Story

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
        # (round, community) -> who is left for a two-day round's second day, drawn on its first
        self.mop_ups: dict[tuple[int, int], np.ndarray] = {}

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
        position = rnd.days.index(day)
        if position and (rnd.number, community) in self.mop_ups:
            return self.mop_ups.pop((rnd.number, community)), "mop_up"
        chosen, which_day = self.round_sample(community, rnd)
        if len(rnd.days) == 2 and not position:
            self.mop_ups[rnd.number, community] = chosen[which_day == 1]
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
        parts = [list(self.community_day(community, day)) for community in range(len(self.communities))]
        columns = []
        for index in range(len(parts[0])):
            columns.append(np.concatenate([part[index] for part in parts]))
            for part in parts:
                part[index] = None  # a city round day has ~10 M rows: don't hold them twice
        return TestingDay(*columns, order=sampling_time_order(columns[4]))  # lab numbering follows sampling time
