"""A demo day's exports as the field sends them, not one canonical file per kind.

Per day folder:

- isolation: one ledger per street, `{street}隔离台账{MMDD}.csv` (XLSX_STREET's an .xlsx with a title
  row), with the rows of that street's communities; a street with no rows sends a header-only file.
  On the last day MISSING_STREET sends nothing and LATE_STREET's ledger arrives at LATE_ARRIVAL.
- control_zones: the command center's district-wide `二七区封控管控区域台账{MMDD}.xlsx`.
- testing_records: one file per sender, `核酸采样_固定点_{YYYYMMDD}.csv` and `核酸采样_采样车_…`.
- shifts: one roster per kind of post, `卡点排班{MMDD}.csv`, `采样点排班…`, `隔离酒店排班…`, `社区入户排班…`.
- checkpoint_log `卡点查验日报{MMDD}.csv`, door_visits `入户走访汇总{MMDD}.csv`.
- on the last day, files that are no data: NOT_DATA.

Every file's mtime is the time it arrived that morning. reference/reporting.csv says who is
expected to send what, and by when.
"""

from __future__ import annotations

import csv
import zlib
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from dashboard.demo.field_files import (
    EXCEL_CSV,
    EXCEL_UTF8_CSV,
    SYSTEM_CSV,
    UTF8_CSV,
    Sheet,
    arrived,
    chinese_day,
    write_csv,
    write_plain_xlsx,
    write_xlsx,
)
from dashboard.demo.population import Reference, Stream, rng_for
from dashboard.demo.testing_export import TestingDay, write_testing_by_site
from dashboard.ingest import contract

# The last day's gaps, named once for the tests and the docs.
MISSING_STREET = "淮河路街道"      # sends no isolation ledger on the last day
LATE_STREET = "嵩山路街道"         # its last day's ledger arrives at LATE_ARRIVAL, after ISOLATION_DUE
LATE_ARRIVAL = time(10, 40)
XLSX_STREET = "德化街街道"         # keeps its isolation ledger in Excel
XLSX_STREET_HEADER_ROW = 3         # title, a blank row, then the header
ZONES_HEADER_ROW = 2               # title, then the header
ISOLATION_DUE, ZONES_DUE = "09:00", "08:00"
# Streets in the order of areas.csv take these CSV styles in turn.
STREET_STYLES = (EXCEL_CSV, UTF8_CSV, SYSTEM_CSV)

ZONES_SENDER = "二七区封控管控区域台账"
TESTING_SENDERS = {"testing_fixed": "核酸采样_固定点", "testing_mobile": "核酸采样_采样车"}
# The roster a shift is on, by the kind of its site.
ROSTERS = {"checkpoint": "卡点排班", "testing_fixed": "采样点排班", "testing_mobile": "采样点排班",
           "isolation_hotel": "隔离酒店排班", "community_office": "社区入户排班"}
CHECKPOINT_REPORT, DOOR_REPORT = "卡点查验日报", "入户走访汇总"
NOT_DATA = ("说明.txt", "现场照片.jpg", "值班电话.xlsx")
FIRST_ARRIVAL = time(6, 30)

NOTE = ("各位同事：\r\n今日台账已按街道分别报送，封控管控区域以指挥部台账为准。\r\n"
        "现场照片仅供参考，不作为数据报送。如有疑问请联系值班室。\r\n")
# A few bytes that open as a JPEG to a file tool; no picture.
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) + b"\xff\xd9"
PHONE_LIST = [["值班员甲", "138xxxx0001"], ["值班员乙", "138xxxx0002"], ["值班员丙", "139xxxx0003"]]


def isolation_ledger_name(street: str, day: date, suffix: str = ".csv") -> str:
    return f"{street}隔离台账{day:%m%d}{suffix}"


def zones_ledger_name(day: date) -> str:
    return f"{ZONES_SENDER}{day:%m%d}.xlsx"


def testing_name(sender: str, day: date) -> str:
    return f"{sender}_{day:%Y%m%d}.csv"


def daily_name(sender: str, day: date) -> str:
    return f"{sender}{day:%m%d}.csv"


def signature(street: str) -> str:
    # Invented: no real person or number.
    return f"填报人：王某某    联系电话：138xxxx{zlib.crc32(street.encode()) % 10_000:04d}"


class FieldLayout:
    def __init__(self, reference: Reference, seed: int, dates: list[date]):
        streets = reference.areas_text[reference.areas_text.level == "street"]
        self.streets = list(zip(streets.area_code, streets.name))
        self.seed, self.dates = seed, dates
        self.site_kind = dict(zip(reference.sites.site_id, reference.sites.kind))
        # 0 for a fixed site, 1 for a vehicle: the index into the testing senders' paths.
        self.testing_file_of_site = (reference.sites.kind == "testing_mobile").to_numpy().astype(np.int8)

    def arrival(self, day_index: int, sender: str, latest: time = time(9)) -> datetime:
        """A time between FIRST_ARRIVAL and `latest` on the day, the same for a sender and day each run."""
        rng = rng_for(self.seed, Stream.ARRIVAL, day_index, zlib.crc32(sender.encode()))
        first = datetime.combine(self.dates[day_index], FIRST_ARRIVAL)
        window = (datetime.combine(first.date(), latest) - first).total_seconds()
        return first + timedelta(seconds=int(rng.integers(0, int(window))))

    def last(self, day_index: int) -> bool:
        return day_index == len(self.dates) - 1

    def write_isolation(self, folder: Path, day_index: int, records: list[list]) -> int:
        day = self.dates[day_index]
        by_street = defaultdict(list)
        for record in records:
            by_street[record[1][:9]].append(record)
        written = 0
        for number, (code, street) in enumerate(self.streets):
            if street == MISSING_STREET and self.last(day_index):
                continue
            rows = by_street.get(code, [])
            moment = self.arrival(day_index, street)
            if street == LATE_STREET and self.last(day_index):
                moment = datetime.combine(day, LATE_ARRIVAL)
            if street == XLSX_STREET:
                path = folder / isolation_ledger_name(street, day, ".xlsx")
                title = f"二七区{street}隔离人员台账（{chinese_day(day)}）"
                written += write_xlsx(path, contract.ISOLATION, rows,
                                      Sheet(title, XLSX_STREET_HEADER_ROW, signature(street), moment))
            else:
                path = folder / isolation_ledger_name(street, day)
                written += write_csv(path, contract.ISOLATION, rows, STREET_STYLES[number % len(STREET_STYLES)])
            arrived(path, moment)
        return written

    def write_zones(self, folder: Path, day_index: int, records: list[list]) -> int:
        day = self.dates[day_index]
        path = folder / zones_ledger_name(day)
        moment = self.arrival(day_index, ZONES_SENDER, latest=time(7, 55))
        written = write_xlsx(path, contract.CONTROL_ZONES, records,
                             Sheet(f"二七区封控管控区域台账（{chinese_day(day)}）", ZONES_HEADER_ROW, created=moment))
        arrived(path, moment)
        return written

    def write_shifts(self, folder: Path, day_index: int, records: list[list]) -> int:
        day = self.dates[day_index]
        site = [c.name for c in contract.SHIFTS.columns].index("site_id")
        by_roster = {roster: [] for roster in ROSTERS.values()}
        for record in records:
            by_roster[ROSTERS[self.site_kind[record[site]]]].append(record)
        written = 0
        for roster, rows in by_roster.items():
            path = folder / daily_name(roster, day)
            written += write_csv(path, contract.SHIFTS, rows, EXCEL_UTF8_CSV)
            arrived(path, self.arrival(day_index, roster))
        return written

    def write_reports(self, folder: Path, day_index: int, checkpoints: list[list], doors: list[list]) -> dict:
        day = self.dates[day_index]
        written = {}
        for kind, sender, records, style in ((contract.CHECKPOINT_LOG, CHECKPOINT_REPORT, checkpoints, EXCEL_CSV),
                                             (contract.DOOR_VISITS, DOOR_REPORT, doors, UTF8_CSV)):
            path = folder / daily_name(sender, day)
            written[kind.kind] = write_csv(path, kind, records, style)
            arrived(path, self.arrival(day_index, sender))
        return written

    def write_testing(self, folder: Path, day_index: int, testing: TestingDay, area_codes: list[str],
                      site_ids: list[str]) -> int:
        """Run by the generator's background writer: both senders' files, then their arrival times."""
        day = self.dates[day_index]
        senders = list(TESTING_SENDERS.values())
        paths = [folder / testing_name(sender, day) for sender in senders]
        written = write_testing_by_site(paths, self.testing_file_of_site, testing, day, area_codes, site_ids,
                                        self.seed)
        for path, sender in zip(paths, senders):
            arrived(path, self.arrival(day_index, sender))
        return sum(written)

    def write_not_data(self, folder: Path, day_index: int) -> None:
        """What else lands in the folder on the last day: a note, a photo, a phone list."""
        if not self.last(day_index):
            return
        note, photo, phones = (folder / name for name in NOT_DATA)
        note.write_bytes(NOTE.encode("gb18030"))
        photo.write_bytes(PHOTO)
        write_plain_xlsx(phones, ["姓名", "电话"], PHONE_LIST, self.arrival(day_index, phones.name))
        for path in (note, photo, phones):
            arrived(path, self.arrival(day_index, path.name))

    def write_reporting(self, reference_dir: Path) -> int:
        """reference/reporting.csv: each street's isolation ledger due ISOLATION_DUE, the zone ledger
        due ZONES_DUE, the two testing senders with no due time."""
        rows = [[contract.ISOLATION.zh, street, code, ISOLATION_DUE] for code, street in self.streets]
        rows.append([contract.CONTROL_ZONES.zh, ZONES_SENDER, "", ZONES_DUE])
        rows += [[contract.TESTING_RECORDS.zh, sender, "", ""] for sender in TESTING_SENDERS.values()]
        with (reference_dir / contract.REPORTING.filename).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow([c.zh for c in contract.REPORTING.columns])
            writer.writerows(rows)
        return len(rows)
