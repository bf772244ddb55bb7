"""Read the table in an Excel or OpenDocument workbook into a CSV file that the CSV ingest reads.

Field offices send .xlsx (now and then .xls or .ods) where the contract says CSV. The CSV ingest
keeps all its rules (dates, 合计 rows, full-width digits, enums, rejects by line): this module only
finds the sheet and its header row, turns each cell into the text Excel would show, and writes the
rows from the header row down, one CSV line per sheet row, so that a reject's line number says
which sheet row to fix (SheetRead.sheet_row).

python-calamine reads the workbook. It builds each sheet as a dense grid in memory, about 32 bytes
a cell from the first row or column holding something to the last: one blank-looking cell (an
empty string) in row 1,048,576 below a 10-column table costs 343 MB and 0.7 s, and a single space
in the last cell of a sheet, XFD1048576, asks for 550 GB and aborts the process, which no
try/except can catch. So the workbook is read in a forked child process capped at MEMORY_BUDGET
and READ_SECONDS: a sheet that needs more is refused with a reason, and the ingest carries on.

Measured (python-calamine 0.9.1, `/usr/bin/time -f "%M KB %e s"` around one read_sheet): a 10-column
table with an empty string in row 1,048,576 reads in 1.1 s at 392 MB peak; a formatted blank cell
there costs nothing (calamine ignores it); a space in XFD1048576 is refused in 0.1 s at 123 MB.
"""

from __future__ import annotations

import csv
import datetime
import functools
import math
import multiprocessing
import os
import resource
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine as calamine

from dashboard.ingest.text import Scan, open_regular, scan

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
HEADER_SEARCH_ROWS = 50  # the header row is looked for in the first rows of a sheet
# Above what the ingest process has mapped when the reader starts: a million rows of ten columns
# fit three times over, a sheet stretched to Excel's last cell does not.
MEMORY_BUDGET = 1 << 30
READ_SECONDS = 120
# Excel holds 15 significant digits: from here on a whole number is shown in scientific notation,
# and an ID number stored as a number is already damaged (the ingest quarantines that shape).
EXCEL_EXACT_LIMIT = 1e15


class NotATable(Exception):
    """The file cannot be read as a workbook. The message says why in words and never quotes the
    file's bytes or cells (calamine's own messages can)."""


@dataclass
class SheetRead:
    csv_path: Path  # UTF-8; line 1 is the header row, line n is sheet row header_row + n - 1
    sheet: str  # the name of the sheet that was read
    header_row: int  # as Excel numbers rows, from 1
    match: object  # what recognise returned for the header row
    notes: list[str] = field(default_factory=list)  # e.g. other sheets that match, not read

    @functools.cached_property
    def found(self) -> Scan:
        """The scan of csv_path (text.scan), made once; raises UnusableFile as scan does."""
        return scan(self.csv_path)

    def sheet_row(self, csv_line: int) -> int:
        """The sheet row that a line of csv_path came from."""
        return self.header_row + csv_line - 1


def cell_text(value) -> str:
    """A cell as the CSV ingest expects it: as Excel shows it, on one line."""
    if isinstance(value, str):
        return value.strip().replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, datetime.timedelta):
        seconds = round(value.total_seconds())
        sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
        return f"{sign}{seconds // 3600}:{seconds // 60 % 60:02}:{seconds % 60:02}"
    return "" if value is None else str(value)


def _number_text(value: int | float) -> str:
    """Whole numbers without '.0'; past Excel's 15 digits, Excel's General format (4.10103E+17).

    A number too big for a float reads as inf: it stays 'inf', which the ingest rejects.
    """
    if EXCEL_EXACT_LIMIT <= abs(value) < math.inf:
        mantissa, exponent = f"{value:.5E}".split("E")
        return f"{mantissa.rstrip('0').rstrip('.')}E{exponent}"
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    return repr(value)


def read_sheet(path: Path, workdir: Path, recognise: Callable[[list[str]], object | None]) -> SheetRead | None:
    """The table of the first sheet whose header row (within its first HEADER_SEARCH_ROWS rows)
    recognise accepts, written as CSV in workdir; None when no sheet has one.

    The first sheet is read unless it has no such row; hidden sheets are never read. recognise runs
    in the child process, so it must depend on the cells alone; it is asked again here for the
    header row, to hand back what it returned.
    """
    found = _guarded(_read_in_child, path, workdir, recognise)
    if found is None:
        return None
    csv_path, sheet, header_row, header, notes = found
    return SheetRead(Path(csv_path), sheet, header_row, recognise(header), notes)


def header_candidates(path: Path) -> list[tuple[str, int, list[str]]]:
    """For saying why nothing matched: (sheet, row, cells) of the fullest row among the first
    HEADER_SEARCH_ROWS of the first visible sheet; [] when that sheet is empty or there is none."""
    return _guarded(_candidates_in_child, path)


def _read_in_child(path: Path, workdir: Path, recognise) -> tuple | None:
    found, notes = None, []
    with _open(path) as workbook:
        for name, visible in _worksheets(workbook):
            sheet = _sheet(workbook, name)
            header_at = _header_row(_rows(sheet), recognise)
            if header_at is None:
                continue
            if not visible:
                notes.append(f"hidden sheet {name} has a matching header: not read")
            elif found is None:
                handle, csv_path = tempfile.mkstemp(prefix=f"{Path(path).stem}.", suffix=".csv", dir=workdir)
                os.close(handle)
                header = _write_csv(_rows(sheet), header_at, Path(csv_path))
                found = (csv_path, name, header_at, header)
            else:
                notes.append(f"sheet {name} also has a matching header: not read")
    return None if found is None else (*found, notes)


def _header_row(rows, recognise) -> int | None:
    for number, cells in _head(rows):
        header = _fit_header(cells)
        if header and recognise(header) is not None:
            return number
    return None


def _candidates_in_child(path: Path) -> list[tuple[str, int, list[str]]]:
    with _open(path) as workbook:
        first_visible = next((name for name, visible in _worksheets(workbook) if visible), None)
        if first_visible is None:
            return []
        fullest = max(_head(_rows(_sheet(workbook, first_visible))), key=lambda row: sum(map(bool, row[1])), default=None)
        if fullest is None or not any(fullest[1]):
            return []
        return [(first_visible, fullest[0], _fit_header(fullest[1]))]


def _open(path: Path) -> calamine.CalamineWorkbook:
    """The workbook, its format told from its bytes (a .xls that is an .xlsx still reads)."""
    with open_regular(Path(path)) as file:
        try:
            return calamine.CalamineWorkbook.from_filelike(file)
        except calamine.CalamineError as error:
            raise NotATable(f"not a readable workbook ({_why(error)})") from None


def _why(error: calamine.CalamineError) -> str:
    if isinstance(error, calamine.PasswordError):
        return "encrypted with a password"
    if isinstance(error, calamine.XmlError):
        return "its XML is broken"
    return "not an Excel or OpenDocument spreadsheet, or a broken one"


def _worksheets(workbook: calamine.CalamineWorkbook):
    """(name, visible) of each worksheet, in workbook order; chart sheets hold no table."""
    for sheet in workbook.sheets_metadata:
        if sheet.typ == calamine.SheetTypeEnum.WorkSheet:
            yield sheet.name, sheet.visible == calamine.SheetVisibleEnum.Visible


def _sheet(workbook: calamine.CalamineWorkbook, name: str) -> calamine.CalamineSheet:
    """The sheet, all its cells read: calamine has no other way."""
    try:
        return workbook.get_sheet_by_name(name)
    except calamine.CalamineError as error:
        raise NotATable(f"sheet {name} is not readable ({_why(error)})") from None


def _rows(sheet: calamine.CalamineSheet):
    """(Excel row number, cells as text) of each row of a sheet, the empty ones included.

    calamine's iter_rows yields the empty rows above the first used one, so the count from 1 is
    Excel's; it drops the empty columns left of the first used one, which the CSV does not need.
    """
    if sheet.start is None:
        return
    for number, values in enumerate(sheet.iter_rows(), start=1):
        # Most rows below a table are empty: list.count looks at them without a Python loop.
        yield number, [] if values.count("") == len(values) else [cell_text(value) for value in values]


def _head(rows):
    for number, cells in rows:
        if number > HEADER_SEARCH_ROWS:
            return
        yield number, cells


def _fit_header(cells: list[str]) -> list[str]:
    """The header row's cells from its first non-empty one to its last."""
    while cells and not cells[-1]:
        cells = cells[:-1]
    return cells[_first_filled(cells):]


def _first_filled(cells: list[str]) -> int:
    return next((i for i, cell in enumerate(cells) if cell), len(cells))


def _fit_row(cells: list[str], first: int, width: int) -> list[str]:
    """A row cut to the header's columns, with empty cells padding it to the header's width.

    A value outside them stays, so the row has too many cells and the ingest rejects it, rather
    than the value vanishing without a word.
    """
    start = 0 if any(cells[:first]) else first
    row, wanted = cells[start:], width + first - start
    while len(row) > wanted and not row[-1]:
        row.pop()
    return row + [""] * (wanted - len(row))


def _write_csv(rows, header_at: int, csv_path: Path) -> list[str]:
    """Write the rows from header_at down; runs of empty rows are counted, and written as lines of
    empty cells (blank lines to the ingest) only when a row with cells follows them."""
    with open(csv_path, "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        empty_run, header = 0, None
        for number, cells in rows:
            if number < header_at:
                continue
            if header is None:
                header = _fit_header(cells)
                first = _first_filled(cells)
                writer.writerow(header)
            elif not any(cells):
                empty_run += 1
            else:
                writer.writerows([[""] * len(header)] * empty_run)
                writer.writerow(_fit_row(cells, first, len(header)))
                empty_run = 0
    return header


def _guarded(job, *args):
    """job(*args) in a forked child held to MEMORY_BUDGET and READ_SECONDS, whose result comes back
    through a pipe; a child killed or aborted for want of memory means the workbook is too big."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_run_capped, args=(sender, job, args), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(READ_SECONDS):
            raise NotATable(f"not read: a workbook that takes more than {READ_SECONDS} s to read")
        try:
            outcome, value = receiver.recv()
        except EOFError:
            raise NotATable(f"not read: the reader stopped, on a sheet needing more than {MEMORY_BUDGET >> 20} MB "
                            "of memory or a file it cannot handle") from None
    finally:
        receiver.close()
        child.kill()
        child.join()
    if outcome == "failed":
        raise value
    return value


def _run_capped(sender, job, args) -> None:
    # calamine prints its allocation failure and a backtrace on stderr: the parent says it in words.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = mapped + MEMORY_BUDGET
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    try:
        sender.send(("done", job(*args)))
    except Exception as error:  # NotATable, or a defect: the parent raises it
        sender.send(("failed", error))
