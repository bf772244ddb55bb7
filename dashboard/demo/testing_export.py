"""A day's testing records as CSV text, built as bytes with numpy.

A city round day has ~10 M rows. Each line is assembled in a byte matrix, one row per line, from
small lookup tables (digits, times of day, area codes, the few site/round/result texts), so no
Python string is made per row. Fields of varying width are padded with NUL bytes, which are
dropped before writing; no text in the export contains a NUL or needs quoting.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from dashboard.demo.population import RESULT_WORDS, digit_table, id_number_chars
from dashboard.ingest import contract

# ~9 MB of line bytes per batch. Buffers below glibc's 32 MB mmap threshold are reused from the
# heap; bigger ones are mapped afresh each batch, and the page faults cost as much as the work.
BATCH_ROWS = 100_000
SECONDS_PER_DAY = 86_400


@dataclass
class TestingDay:
    """Columns in the order they were drawn, and `order`, which sorts them by sampling time."""
    community: np.ndarray   # int16 index into communities
    person: np.ndarray      # int64 resident number (district-wide)
    site: np.ndarray        # int16 index into sites
    round: np.ndarray       # int16
    seconds: np.ndarray     # int32 seconds after midnight
    result: np.ndarray      # int8 index into RESULT_WORDS
    order: np.ndarray

    def __len__(self) -> int:
        return len(self.order)


def sampling_time_order(seconds: np.ndarray) -> np.ndarray:
    """The same order as np.argsort(seconds, kind="stable"), several times faster: NumPy sorts
    16-bit keys by radix, and sampling hours (06-22) span fewer than 2**16 seconds."""
    if not len(seconds):
        return np.zeros(0, dtype=np.int64)
    first, last = int(seconds.min()), int(seconds.max())
    if first < 0 or last >= SECONDS_PER_DAY:
        raise ValueError("sampling seconds must fall within the day")
    if last - first < 1 << 16:
        return np.argsort((seconds - first).astype(np.uint16), kind="stable")
    by_low = np.argsort(seconds.astype(np.uint16), kind="stable")
    late = seconds[by_low] >= 1 << 16   # a stable partition is the second radix pass
    return np.concatenate((by_low[~late], by_low[late]))


def text_table(texts: list[str]) -> np.ndarray:
    """(len(texts), longest) ASCII bytes, NUL-padded."""
    encoded = [text.encode("ascii") for text in texts]
    table = np.zeros((len(encoded), max(map(len, encoded), default=0)), dtype=np.uint8)
    for row, text in zip(table, encoded):
        row[: len(text)] = np.frombuffer(text, dtype=np.uint8)
    return table


FOUR_DIGITS = digit_table(np.arange(10**4), 4) + ord("0")
TWO_DIGITS = digit_table(np.arange(10**2), 2) + ord("0")


def time_of_day_table() -> np.ndarray:
    """(86400, 8) "HH:MM:SS" for every second of a day."""
    seconds = np.arange(SECONDS_PER_DAY)
    table = np.full((SECONDS_PER_DAY, 8), ord(":"), dtype=np.uint8)
    table[:, 0:2] = TWO_DIGITS[seconds // 3600]
    table[:, 3:5] = TWO_DIGITS[seconds // 60 % 60]
    table[:, 6:8] = TWO_DIGITS[seconds % 60]
    return table


TIME_OF_DAY = time_of_day_table()


class LineBuilder:
    """Lines `sample_id,person_id,area_code,site_id,round,sampled_at,result` of one day."""

    def __init__(self, day: date, area_codes: list[str], site_ids: list[str], rounds: int, seed: int):
        self.seed = seed
        self.sample_prefix = text_table([f"S{day:%Y%m%d}"])[0]
        # Area, site and round come from one table, so a line costs one lookup for all three. It is
        # composed from three small ones: the NUL padding inside an entry is dropped with the rest.
        parts = (text_table([f",{area}" for area in area_codes]), text_table([f",{site}" for site in site_ids]),
                 text_table([f",{number}," for number in range(rounds)]))
        shape = tuple(len(part) for part in parts)
        self.places = np.concatenate([
            np.broadcast_to(part.reshape([len(part) if axis == index else 1 for axis in range(3)] + [-1]),
                            shape + (part.shape[1],))
            for index, part in enumerate(parts)], axis=-1).reshape(-1, sum(part.shape[1] for part in parts))
        self.sampled_at = np.hstack((np.broadcast_to(text_table([f"{day:%Y-%m-%d} "]), (SECONDS_PER_DAY, 11)),
                                     TIME_OF_DAY))
        self.tails = text_table([f",{word}\n" for word in RESULT_WORDS])
        widths = (len(self.sample_prefix), 8, 1, 18, self.places.shape[1], self.sampled_at.shape[1],
                  self.tails.shape[1])
        self.prefix, self.number, self.comma, self.person_id, self.place, self.time, self.tail = (
            slice(start, stop) for start, stop in zip(np.cumsum((0,) + widths[:-1]), np.cumsum(widths)))
        # One matrix for every batch, its constant columns written once.
        self.matrix = np.empty((BATCH_ROWS, sum(widths)), dtype=np.uint8)
        self.matrix[:, self.prefix] = self.sample_prefix
        self.matrix[:, self.comma] = ord(",")

    def lines(self, numbers: np.ndarray, person: np.ndarray, place: np.ndarray, seconds: np.ndarray,
              result: np.ndarray) -> bytes:
        count = len(person)
        if count and numbers[-1] >= 10**8:
            raise ValueError("sample numbers have 8 digits")
        matrix = self.matrix[:count]
        high, low = np.divmod(numbers, 10_000)
        matrix[:, self.number.start : self.number.start + 4] = FOUR_DIGITS[high]
        matrix[:, self.number.start + 4 : self.number.stop] = FOUR_DIGITS[low]
        id_number_chars(person, self.seed, out=matrix[:, self.person_id])
        matrix[:, self.place] = self.places[place]
        matrix[:, self.time] = self.sampled_at[seconds]
        matrix[:, self.tail] = self.tails[result]
        return matrix.tobytes().replace(b"\0", b"")  # twice as fast as a boolean mask


def write_testing(path: Path, testing: TestingDay, day: date, area_codes: list[str], site_ids: list[str],
                  seed: int) -> int:
    """Write the day in batches of BATCH_ROWS lines, numbered in sampling-time order."""
    return sum(write_testing_by_site([path], np.zeros(len(site_ids), dtype=np.int8), testing, day, area_codes,
                                     site_ids, seed))


def write_testing_by_site(paths: list[Path], file_of_site: np.ndarray, testing: TestingDay, day: date,
                          area_codes: list[str], site_ids: list[str], seed: int) -> list[int]:
    """Write the day into several files, a row going to paths[file_of_site[its site]], and return the
    rows each holds. Rows keep the numbers they have in the one sampling-time order of the day, so
    the files together hold the lines of a single file. Each file is a run of its own rows of that
    order, found once: splitting costs one pass over the order, not a copy of every batch."""
    rounds = int(testing.round.max()) + 1 if len(testing) else 1
    builder = LineBuilder(day, area_codes, site_ids, rounds, seed)
    place = (testing.community.astype(np.int32) * len(site_ids) + testing.site) * rounds + testing.round
    header = (",".join(c.name for c in contract.TESTING_RECORDS.columns) + "\n").encode()
    file_in_order = np.asarray(file_of_site)[testing.site[testing.order]]
    written = []
    # The kernel's copy of ~600 MB a round day takes as long as building the lines: a second
    # thread writes one batch while the next is built (the GIL is released in the write call).
    with ThreadPoolExecutor(max_workers=1) as writer:
        for index, path in enumerate(paths):
            positions = np.flatnonzero(file_in_order == index)
            with path.open("wb") as handle:
                handle.write(header)
                writing = None
                for start in range(0, len(positions), BATCH_ROWS):
                    batch = positions[start : start + BATCH_ROWS]
                    rows = testing.order[batch]
                    lines = builder.lines(batch + 1, testing.person[rows], place[rows], testing.seconds[rows],
                                          testing.result[rows])
                    if writing:
                        writing.result()
                    writing = writer.submit(handle.write, lines)
                if writing:
                    writing.result()
            written.append(len(positions))
    return written
