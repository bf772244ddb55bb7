"""Deterministic demo exports: an Omicron-style outbreak in 二七区, told as daily CSV exports.

`generate(out, scale, days, end_date, seed, layout=...)` writes out/reference/{areas,sites}.csv and
boundaries.geojson, and one folder of exports per day, out/exports/YYYY-MM-DD/:

- layout="field" (the default): the files as the field sends them, several per kind, named by
  their senders, in the encodings and formats they use, each with the mtime it arrived at, and
  reference/reporting.csv saying who is expected to send what (see field_layout);
- layout="contract": one canonical file per kind,
  {control_zones,testing_records,isolation,shifts,checkpoint_log,door_visits}.csv, in UTF-8
  with the contract's English headers and value words.

Both hold the same rows for the same seed. Same arguments give the same files: every random draw
comes from a generator seeded with (seed, stream, keys...), never from a shared generator whose
state depends on call order.

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
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
from shapely.geometry import shape

from dashboard.demo.field_layout import FieldLayout
from dashboard.demo.outbreak import (
    Cases,
    HotSpot,
    Isolation,
    PeopleQueue,
    Zone,
    ZonePlanner,
    active,
    draw_cases,
    pick_hot_spots,
    plan_isolation,
)
from dashboard.demo.population import (
    NIGHT_SHORT_DAYS_BEFORE_END,
    NIGHT_SHORT_SITE,
    REFERENCE_DIR,
    SCALES,
    STATUS_HOUR,
    Reference,
    Stream,
    id_numbers,
    load_reference,
    rng_for,
    write_reference,
)
from dashboard.demo.roster import DoorTeam, Shift, plan_roster, site_shifts
from dashboard.demo.sampling import Round, TestingPlanner, plan_rounds
from dashboard.demo.testing_export import write_testing
from dashboard.ingest import contract

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


class IsolationExport:
    """The isolation rows as text, formatted once: a day's export holds the rows started by then,
    with ended_on filled in where the planned end has passed. Formatting each row anew every day
    cost a fifth of a city run."""

    def __init__(self, story: Story, case_ids: list[str]):
        area_codes = story.reference.communities.area_code.tolist()
        day_text = [iso(d) for d in story.dates]
        first = story.dates[0]

        def text(day: int) -> str:
            return day_text[day] if 0 <= day < len(day_text) else iso(first + timedelta(days=day))

        self.started = np.array([row.started for row in story.isolation], dtype=np.int64)
        self.planned_end = np.array([row.planned_end for row in story.isolation], dtype=np.int64)
        self.fields = [(case_id, area_codes[row.community], row.kind, row.hotel, text(row.started),
                        text(row.planned_end), row.reason)
                       for row, case_id in zip(story.isolation, case_ids)]

    def rows(self, day: int) -> list[list[str]]:
        rows = []
        for index in np.flatnonzero(self.started <= day).tolist():
            case_id, area_code, kind, hotel, started_on, planned_end_on, reason = self.fields[index]
            ended_on = planned_end_on if self.planned_end[index] <= day else ""
            rows.append([case_id, area_code, kind, hotel, started_on, planned_end_on, ended_on, reason])
        return rows


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


def records(kind: contract.FileKind, rows: list[dict]) -> list[list]:
    """Rows as lists in the contract's column order."""
    columns = [c.name for c in kind.columns]
    return [[row[c] for c in columns] for row in rows]


def write_rows(path: Path, kind: contract.FileKind, rows: list[dict]) -> int:
    return write_records(path, kind, records(kind, rows))


def write_records(path: Path, kind: contract.FileKind, records: list[list]) -> int:
    """Rows given as lists in the contract's column order."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([c.name for c in kind.columns])
        writer.writerows(records)
    return len(records)


# --- entry point -----------------------------------------------------------------------

LAYOUTS = ("field", "contract")


def generate(out: Path, scale: str = "district", days: int = 14, end_date: date | None = None,
             seed: int = 42, on_day: Callable[[int, int], None] | None = None, layout: str = "field",
             only_days: range | None = None) -> dict:
    """Write the reference data and `days` daily exports ending at end_date (default today)
    under `out`, in the given layout; return the number of rows written per file kind (summed
    over days). `on_day(done, total)` is called as each day's files are complete, for a progress
    display. only_days: write only those days (indices into the `days`); a day's files are the
    same whichever days are written with it, so a first run can write the newest days first."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {sorted(SCALES)}, not {scale!r}")
    if days < 1:
        raise ValueError("days must be at least 1")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
    out = Path(out)
    end_date = end_date or date.today()
    story = build_story(scale, days, end_date, seed)
    write_reference(out / "reference", story.reference, scale)
    field = FieldLayout(story.reference, seed, story.dates) if layout == "field" else None
    if field:
        field.write_reporting(out / "reference")

    first_person = story.reference.communities.first_person.to_numpy(dtype=np.int64)
    persons = np.array([first_person[r.community] + r.person for r in story.isolation], dtype=np.int64)
    case_ids = id_numbers(persons, seed)
    isolation = IsolationExport(story, case_ids)
    area_codes = story.reference.communities.area_code.tolist()
    site_ids = story.reference.sites.site_id.tolist()
    testing = TestingPlanner(story)
    rows = defaultdict(int)
    rows["areas"] = len(story.reference.areas_text)
    rows["sites"] = len(story.reference.sites_text)
    # One thread writes a day's testing records while this one plans the next day: on two cores
    # the two halves overlap. At most one written day and one planned day are held at a time.
    wanted, written = only_days if only_days is not None else range(days), 0
    with ThreadPoolExecutor(max_workers=1) as testing_writer:
        writing = None
        for day_index, day in enumerate(story.dates):
            if day_index not in wanted:
                continue
            folder = out / "exports" / day.isoformat()
            folder.mkdir(parents=True, exist_ok=True)
            if field:
                for kind, count in write_field_day(field, folder, story, day_index, isolation).items():
                    rows[kind] += count
            else:
                for kind, count in write_contract_day(folder, story, day_index, isolation).items():
                    rows[kind] += count
            planned = testing.day(day_index)
            if writing:
                rows["testing_records"] += writing.result()
                written += 1
                if on_day:
                    on_day(written, len(wanted))
            if field:
                writing = testing_writer.submit(field.write_testing, folder, day_index, planned, area_codes, site_ids)
            else:
                writing = testing_writer.submit(write_testing, folder / "testing_records.csv", planned, day,
                                                area_codes, site_ids, seed)
            del planned  # the writer holds the day until it is written
        if writing:
            rows["testing_records"] += writing.result()
        if on_day:
            on_day(len(wanted), len(wanted))
    return {"scale": scale, "first_day": iso(story.dates[0]), "last_day": iso(story.dates[-1]), "rows": dict(rows)}


def write_contract_day(folder: Path, story: Story, day_index: int, isolation: IsolationExport) -> dict[str, int]:
    """The day's files but testing, one canonical file per kind."""
    return {
        "control_zones": write_rows(folder / "control_zones.csv", contract.CONTROL_ZONES, zone_rows(story, day_index)),
        "isolation": write_records(folder / "isolation.csv", contract.ISOLATION, isolation.rows(day_index)),
        "shifts": write_rows(folder / "shifts.csv", contract.SHIFTS, shift_rows(story, day_index)),
        "checkpoint_log": write_rows(folder / "checkpoint_log.csv", contract.CHECKPOINT_LOG,
                                     checkpoint_rows(story, day_index)),
        "door_visits": write_rows(folder / "door_visits.csv", contract.DOOR_VISITS, door_visit_rows(story, day_index)),
    }


def write_field_day(field: FieldLayout, folder: Path, story: Story, day_index: int,
                    isolation: IsolationExport) -> dict[str, int]:
    """The same rows as write_contract_day, as the field sends them."""
    written = {
        "control_zones": field.write_zones(folder, day_index,
                                           records(contract.CONTROL_ZONES, zone_rows(story, day_index))),
        "isolation": field.write_isolation(folder, day_index, isolation.rows(day_index)),
        "shifts": field.write_shifts(folder, day_index, records(contract.SHIFTS, shift_rows(story, day_index))),
        **field.write_reports(folder, day_index, records(contract.CHECKPOINT_LOG, checkpoint_rows(story, day_index)),
                              records(contract.DOOR_VISITS, door_visit_rows(story, day_index))),
    }
    field.write_not_data(folder, day_index)
    return written
