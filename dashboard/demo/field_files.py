"""How a file from the field is written: a CSV the way Excel on Chinese Windows or a system saves
it, an .xlsx with a title row above the header and a signature line under the table, and the time
the file arrived (its mtime).

Rows come in as lists of canonical text in the contract's column order, as the generator makes
them; these functions only change how the same values are spelled.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from dashboard.ingest import contract


@dataclass(frozen=True)
class CsvStyle:
    encoding: str
    line_end: str
    chinese: bool        # Chinese headers and value words (阴性, 集中隔离), else the canonical English
    excel_dates: bool    # 2022/1/6 and 2022/1/6 8:05, as Excel shows them in a Chinese locale


EXCEL_CSV = CsvStyle("gb18030", "\r\n", chinese=True, excel_dates=True)   # 另存为 CSV on Chinese Windows
UTF8_CSV = CsvStyle("utf-8", "\n", chinese=True, excel_dates=False)       # a form tool's export
EXCEL_UTF8_CSV = CsvStyle("utf-8-sig", "\r\n", chinese=True, excel_dates=False)   # Excel's "CSV UTF-8"
SYSTEM_CSV = CsvStyle("utf-8", "\n", chinese=False, excel_dates=False)    # a system's export, as the contract


def excel_date(text: str) -> str:
    """2022-01-06 -> 2022/1/6, the way Excel shows a date in a Chinese locale."""
    if not text:
        return ""
    year, month, day = text[:10].split("-")
    return f"{int(year)}/{int(month)}/{int(day)}"


def excel_timestamp(text: str) -> str:
    """2022-01-06 08:05:03 -> 2022/1/6 8:05 (Excel drops the seconds and the leading zero)."""
    if not text:
        return ""
    hour, minute = text[11:16].split(":")
    return f"{excel_date(text)} {int(hour)}:{minute}"


def spellings(kind: contract.FileKind, style: CsvStyle) -> list[tuple[int, Callable[[str], str]]]:
    """(column index, how its value is spelled) for the columns the style changes."""
    changed = []
    for index, column in enumerate(kind.columns):
        if column.type == contract.ENUM and style.chinese:
            changed.append((index, lambda value, words=column.values: words.get(value, value)))
        elif column.type == contract.DATE and style.excel_dates:
            changed.append((index, excel_date))
        elif column.type == contract.TIMESTAMP and style.excel_dates:
            changed.append((index, excel_timestamp))
    return changed


def write_csv(path: Path, kind: contract.FileKind, records: list[list], style: CsvStyle,
              trailer: list[list[str]] = ()) -> int:
    """The records under a header row, then the trailer rows (a 合计 row); returns the records written."""
    changed = spellings(kind, style)
    if changed:
        records = [list(record) for record in records]
        for record in records:
            for index, spell in changed:
                record[index] = spell(record[index])
    with path.open("w", encoding=style.encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator=style.line_end)
        writer.writerow([c.zh if style.chinese else c.name for c in kind.columns])
        writer.writerows(records)
        writer.writerows(trailer)
    return len(records)


@dataclass(frozen=True)
class Sheet:
    """An .xlsx table as a person keeps it: a merged title row, the header on header_row (1-based;
    a blank row between title and header when it is 3), a signature line under the table."""
    title: str
    header_row: int = 2
    signature: str = ""
    created: datetime = datetime(2022, 1, 1)


def write_xlsx(path: Path, kind: contract.FileKind, records: list[list], sheet: Sheet) -> int:
    """Chinese headers and value words, dates as real Excel date cells, numbers as numbers and ID
    numbers as text (as a careful clerk formats the column, so Excel keeps all 18 digits)."""
    # constant_memory writes each row as it goes; a fixed creation time keeps the file the same
    # from run to run.
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    book.set_properties({"created": sheet.created})
    table = book.add_worksheet(kind.zh[:31])
    title = book.add_format({"bold": True, "font_size": 14, "align": "center"})
    bold = book.add_format({"bold": True})
    day_format = book.add_format({"num_format": "yyyy/m/d"})
    time_format = book.add_format({"num_format": "yyyy/m/d h:mm"})
    table.merge_range(0, 0, 0, len(kind.columns) - 1, sheet.title, title)
    header = sheet.header_row - 1
    table.write_row(header, 0, [c.zh for c in kind.columns], bold)
    for number, record in enumerate(records, start=header + 1):
        for index, (column, value) in enumerate(zip(kind.columns, record)):
            if value == "" or value is None:
                continue
            if column.type == contract.DATE:
                table.write_datetime(number, index, datetime.fromisoformat(str(value)[:10]), day_format)
            elif column.type == contract.TIMESTAMP:
                table.write_datetime(number, index, datetime.fromisoformat(str(value)), time_format)
            elif column.type == contract.INT:
                table.write_number(number, index, int(value))
            elif column.type == contract.FLOAT:
                table.write_number(number, index, float(value))
            elif column.type == contract.ENUM:
                table.write_string(number, index, column.values.get(value, value))
            else:
                table.write_string(number, index, str(value))
    if sheet.signature:
        table.write_string(header + 1 + len(records), 0, sheet.signature)
    table.set_column(0, len(kind.columns) - 1, 14)
    book.close()
    return len(records)


def write_plain_xlsx(path: Path, header: list[str], rows: list[list[str]], created: datetime) -> None:
    """A small sheet that is no export: a phone list."""
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": created})
    table = book.add_worksheet()
    for number, row in enumerate([header, *rows]):
        table.write_row(number, 0, row)
    book.close()


def arrived(path: Path, moment: datetime) -> None:
    """Set the file's mtime to when it arrived, a wall-clock time on this machine, as a file
    saved at that hour would have."""
    stamp = moment.timestamp()
    os.utime(path, (stamp, stamp))


def chinese_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
