"""The demo's people: seeded randomness, the reference data scaled to a district or a city, and
synthetic ID numbers with a region code that does not exist."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REFERENCE_DIR = Path(__file__).parents[2] / "data" / "reference"
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
    ARRIVAL = 11   # when a field file arrives (the field layout only)


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


def digit_table(values: np.ndarray, width: int) -> np.ndarray:
    """(len(values), width) decimal digits, most significant first."""
    powers = 10 ** np.arange(width - 1, -1, -1)
    return (values[:, None] // powers % 10).astype(np.uint8)


def birth_digit_table() -> np.ndarray:
    """YYYYMMDD digits of every birth day, indexed by days after BIRTH_EPOCH."""
    birth = BIRTH_EPOCH + np.arange(BIRTH_DAYS).astype("timedelta64[D]")
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    month = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
    return np.hstack((digit_table(year, 4), digit_table(month, 2), digit_table(day, 2)))


# An ID number is the address, a birth day, a sequence and a check character. Looking them up in
# small tables (30,000, 1,000 and 11 x 11 rows) avoids digit arithmetic on each of ~10 M rows a day;
# the check character depends on the weighted digit sum mod 11, which adds up part by part.
ADDRESS_AND_BIRTH_CHARS = np.hstack((np.broadcast_to(ADDRESS_DIGITS, (BIRTH_DAYS, 6)), birth_digit_table())
                                    ).astype(np.uint8) + ord("0")
SEQUENCE_CHARS = digit_table(np.arange(1000), 3) + ord("0")
ADDRESS_AND_BIRTH_REMAINDERS = ((ADDRESS_AND_BIRTH_CHARS - ord("0")).astype(np.int64) @ ID_WEIGHTS[:14] % 11)
SEQUENCE_REMAINDERS = (SEQUENCE_CHARS - ord("0")).astype(np.int64) @ ID_WEIGHTS[14:] % 11
CHECK_CHARS_BY_REMAINDERS = ID_CHECK_CHARS[(np.arange(11)[:, None] + np.arange(11)) % 11]


def id_number_chars(person: np.ndarray, seed: int, out: np.ndarray | None = None) -> np.ndarray:
    """(n, 18) ASCII bytes of the 18-digit ID numbers of residents `person`, written into `out`
    (a view of a larger byte matrix, say) when given."""
    slot = (person.astype(np.int64) * ID_MULTIPLIER + seed * 1_000_003) % ID_SLOTS
    birth, sequence = np.divmod(slot, 1000)
    chars = np.empty((len(person), 18), dtype=np.uint8) if out is None else out
    chars[:, :14] = ADDRESS_AND_BIRTH_CHARS[birth]
    chars[:, 14:17] = SEQUENCE_CHARS[sequence]
    chars[:, 17] = CHECK_CHARS_BY_REMAINDERS[ADDRESS_AND_BIRTH_REMAINDERS[birth], SEQUENCE_REMAINDERS[sequence]]
    return chars


def id_numbers(person: np.ndarray, seed: int) -> list[str]:
    return [row.tobytes().decode() for row in id_number_chars(person, seed)]
