"""Read one export file into typed rows and rejected rows.

Decoding, header mapping and casting happen here, with no database: the ingest decides where
the rows go. A file that cannot be used at all raises UnusableFile; a bad row becomes a
reject with its line, column and reason, and the good rows of the same file still load.
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from dashboard.data import ids
from dashboard.data.contract import (
    DATE,
    ENUM,
    FLOAT,
    INT,
    PERSON_ID,
    SUMMARY_WORDS,
    TIMESTAMP,
    Column,
    FileKind,
)

# Full-width digits, letters, punctuation and the ideographic space, which NFKC folds.
FULL_WIDTH = re.compile(r"[\uff01-\uff5e\u3000]")
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
DATE_PATTERN = (
    r"^(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?$"
)


SYMLINK_NOT_READ = "symbolic link, not read"


class UnusableFile(Exception):
    """The whole file is rejected; the message names the file and the column or byte.

    It never quotes a cell, and anything shaped like an ID number is masked, because the
    message travels to the status file, the ingest log, cron's mail and every screen's banner.
    """

    def __init__(self, message: str):
        super().__init__(ids.mask_ids(message))


def open_regular(path: Path):
    """The file for binary reading, refusing a symbolic link (which could point anywhere on the
    machine) and anything but a regular file (a FIFO would block the ingest forever)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UnusableFile(f"{path}: {SYMLINK_NOT_READ}") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnusableFile(f"{path}: not a regular file, not read")
    return os.fdopen(fd, "rb")


@dataclass
class Reject:
    line: int | None
    column: str
    reason: str
    value: str


@dataclass
class ParsedFile:
    rows: pd.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    rows_read: int = 0
    rows_skipped: int = 0
    encoding: str = "utf-8"


def decode(path: Path) -> tuple[str, str]:
    """Text of the file and the encoding it was in.

    DuckDB 2.0.1 cannot decode GBK without downloading an extension, and Excel on a Chinese
    Windows saves CSV as GBK, so the transcoding happens here. GB18030 is a superset of GBK.
    """
    with open_regular(path) as f:
        raw = f.read()
    if raw.startswith(b"\xef\xbb\xbf"):
        encoding, raw = "utf-8-sig", raw[3:]
    else:
        encoding = "utf-8"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        try:
            text = raw.decode("gb18030")
            encoding = "gb18030"
        except UnicodeDecodeError as gbk_error:
            raise UnusableFile(
                f"{path}: cannot decode as UTF-8 or GBK/GB18030: byte 0x{raw[gbk_error.start]:02x} "
                f"at offset {gbk_error.start} (UTF-8 failed at offset {utf8_error.start})"
            ) from None
    if FULL_WIDTH.search(text):
        text = unicodedata.normalize("NFKC", text)
    return text, encoding


def map_headers(header_line: str, kind: FileKind, path: Path) -> list[str]:
    """Canonical names for the header cells; unknown headers keep a placeholder name."""
    aliases = kind.header_aliases()
    cells = next(iter(pd.read_csv(io.StringIO(header_line), header=None, dtype=str).itertuples(index=False)))
    names = []
    for position, cell in enumerate(cells):
        cell = "" if pd.isna(cell) else str(cell).strip()
        names.append(aliases.get(cell, f"_extra_{position}"))
    missing = [c for c in kind.columns if c.required and c.name not in names]
    if missing:
        # The first line is described, never quoted: in a file without a header row it is a
        # person's row, ID number included.
        wanted = ", ".join(f"{c.name} ({c.zh})" for c in missing)
        recognised = [name for name in names if not name.startswith("_extra_")]
        if recognised:
            found = (f"the header row has {len(names)} cells; recognised: {', '.join(recognised)};"
                     f" not recognised: {len(names) - len(recognised)}")
        else:
            found = (f"none of the first line's {len(names)} cells is a column name:"
                     " the first line looks like data (no header row?)")
        raise UnusableFile(f"{path}: required column missing: {wanted}; {found}")
    return names


def read_cells(text: str, names: list[str]) -> tuple[pd.DataFrame, np.ndarray, list[Reject]]:
    """All cells as text, the source line of each row, and rows with the wrong number of cells."""
    header_end = text.find("\n") + 1
    body = text[header_end:]
    # Keep blank lines as rows of empty cells, so that row i is still line i + 2.
    if "\n\n" in body or "\n\r\n" in body or body.startswith(("\n", "\r\n")):
        body = re.sub(r"(?m)^[ \t\r]*$", "," * (len(names) - 1), body)
    data = body.encode("utf-8")
    bad_rows: list[tuple[int | None, str]] = []

    def on_bad_row(row):
        bad_rows.append((row.number, row.text))
        return "skip"

    def read(use_threads: bool) -> pa.Table:
        return pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=use_threads),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_bad_row, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    table = read(use_threads=True)
    if bad_rows:
        # Only a single-threaded read knows the line number of a bad row.
        bad_rows.clear()
        table = read(use_threads=False)
    frame = table.to_pandas()
    bad_lines = sorted(number + 1 for number, _ in bad_rows)
    lines = np.setdiff1d(np.arange(2, 2 + len(frame) + len(bad_rows)), bad_lines)
    rejects = [
        Reject(number + 1, "", f"row has the wrong number of cells (expected {len(names)})", "")
        for number, _ in bad_rows
    ]
    return frame, lines, rejects


def parse_datetimes(values: pd.Series, with_time: bool) -> pd.Series:
    """Accepts 2022-01-06, 2022/1/6, 2022年1月6日, 2022.1.6, optional HH:MM[:SS], and Excel serials.

    Returns NaT where the value is none of those.
    """
    values = values.str.strip()
    # Most rows of a big file are ISO already; the pattern match only runs on the rest.
    parsed = pd.to_datetime(values, format="ISO8601", errors="coerce")
    rest = parsed.isna() & (values != "")
    if rest.any():
        parts = values[rest].str.extract(DATE_PATTERN)
        stamp = pd.to_datetime(
            {
                "year": pd.to_numeric(parts["y"]),
                "month": pd.to_numeric(parts["m"]),
                "day": pd.to_numeric(parts["d"]),
                "hour": pd.to_numeric(parts["H"]).fillna(0),
                "minute": pd.to_numeric(parts["M"]).fillna(0),
                "second": pd.to_numeric(parts["S"]).fillna(0),
            },
            errors="coerce",
        )
        serial = pd.to_numeric(values[rest], errors="coerce")
        # Serial day numbers between 1955 and 2100: anything else is not a date someone typed.
        serial = serial.where((serial > 20000) & (serial < 73000))
        from_serial = (EXCEL_EPOCH + pd.to_timedelta(serial, unit="D")).dt.round("s")
        parsed[rest] = stamp.astype(parsed.dtype).fillna(from_serial.astype(parsed.dtype))
    if not with_time:
        parsed = parsed.dt.normalize()
    return parsed


def parse_numbers(values: pd.Series, integral: bool) -> pd.Series:
    numbers = pd.to_numeric(values.str.replace(",", "", regex=False).str.strip(), errors="coerce")
    if integral:
        numbers = numbers.where(numbers == np.floor(numbers))
    return numbers


def pseudonym_column(name: str) -> str:
    """person_id -> person_key: the snapshot never has a column holding an ID number."""
    return name.removesuffix("_id") + "_key"


def parse_file(path: Path, kind: FileKind, known_codes: dict[str, set[str]], id_key: bytes) -> ParsedFile:
    text, encoding = decode(path)
    if not text.strip():
        raise UnusableFile(f"{path}: file is empty")
    header_line = text.split("\n", 1)[0].lstrip("\ufeff")
    names = map_headers(header_line, kind, path)
    frame, lines, rejects = read_cells(text, names)
    frame = frame.apply(lambda column: column.str.strip())

    contract_columns = [c.name for c in kind.columns]
    for name in contract_columns:
        if name not in frame:
            frame[name] = ""
    blank = (frame[contract_columns] == "").all(axis=1)
    first_cells = pd.Series("", index=frame.index)
    for name in names:
        first_cells = first_cells.where(first_cells != "", frame[name])
    summary = first_cells.str.startswith(SUMMARY_WORDS)
    skipped = blank | summary
    frame, lines = frame[~skipped], lines[~skipped.to_numpy()]
    rows_read = len(frame) + len(rejects)

    reasons = pd.Series("", index=frame.index, dtype=object)
    reason_column = pd.Series("", index=frame.index, dtype=object)
    typed = pd.DataFrame(index=frame.index)

    def flag(mask: pd.Series, column: Column, reason: str) -> None:
        fresh = mask & (reasons == "")
        reasons[fresh] = reason
        reason_column[fresh] = column.name

    for column in kind.columns:
        values = frame[column.name]
        empty = values == ""
        if column.required:
            flag(empty, column, f"missing required value: {column.name} ({column.zh})")
        if column.type in (INT, FLOAT):
            cast = parse_numbers(values, integral=column.type == INT)
            flag(cast.isna() & ~empty, column, f"not a {'whole ' if column.type == INT else ''}number")
            typed[column.name] = cast.astype("Int64" if column.type == INT else "Float64")
        elif column.type in (DATE, TIMESTAMP):
            cast = parse_datetimes(values, with_time=column.type == TIMESTAMP)
            flag(cast.isna() & ~empty, column, "not a date" if column.type == DATE else "not a date and time")
            typed[column.name] = cast
        elif column.type == ENUM:
            words = {**{v: v for v in column.values}, **{zh: v for v, zh in column.values.items()}}
            cast = values.map(words)
            allowed = "/".join(f"{v} {zh}" for v, zh in column.values.items())
            flag(cast.isna() & ~empty, column, f"unknown value (expected {allowed})")
            typed[column.name] = cast
        elif column.type == PERSON_ID:
            normalised = ids.normalise(values)
            problems = ids.classify(normalised)
            for problem in problems[problems != ""].unique():
                flag(problems == problem, column, problem)
            typed[column.name] = normalised
        else:
            typed[column.name] = values.where(~empty, None)
        if column.references:
            flag(~values.isin(known_codes[column.references]) & ~empty, column,
                 f"unknown {column.references} code")

    for start, end in kind.ordered:
        flag(typed[end] < typed[start], kind.column(end), f"{end} is before {start}")
    for name in kind.unique:
        # Only rows that are otherwise good can be the kept copy of a duplicate.
        duplicate = frame[name].duplicated() & (frame[name] != "")
        flag(duplicate & (reasons == ""), kind.column(name), f"duplicate {name}")

    bad = (reasons != "").to_numpy()
    bad_values = []
    for position in np.flatnonzero(bad):
        column = reason_column.iat[position]
        value = frame[column].iat[position] if column else ""
        if column and kind.column(column).type == PERSON_ID:
            value = ids.mask(value)
        bad_values.append(value)
    # A shifted column can put an ID number under any header: mask ID shapes in every value.
    bad_values = ids.mask_ids_in(pd.Series(bad_values, dtype=object))
    for position, value in zip(np.flatnonzero(bad), bad_values):
        rejects.append(Reject(int(lines[position]), reason_column.iat[position], reasons.iat[position], value))

    good = typed[~bad].copy()
    for column in kind.columns:
        if column.type == PERSON_ID:
            # The raw ID stops here: only its keyed hash goes on, under a name that says so.
            good[column.name] = ids.pseudonymise(good[column.name], id_key)
            good = good.rename(columns={column.name: pseudonym_column(column.name)})
    return ParsedFile(
        rows=good.reset_index(drop=True),
        rejects=rejects,
        rows_read=rows_read,
        rows_skipped=int(skipped.sum()),
        encoding=encoding,
    )
