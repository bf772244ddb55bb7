"""Who sent a file, from its name: the rule data/README.md states ("Senders").

- An **event file** (testing, shifts, checkpoint log, door visits) is its sender's rows for the
  day: the sender is the file name without its suffix, its dates and its copy marks, so that
  `核酸采样_固定点_20220106.csv` and `核酸采样_固定点_20220106(1).csv` are one sender, the same one
  as `核酸采样_固定点_20220107.csv` the next day. Senders' files of a day add up.
- A **ledger** (zones, isolation) whose file name holds the name of a street or community of
  areas.csv is that area's part: it replaces that area's rows and nothing else, and a row of
  another area in it is rejected. A ledger naming no area covers the whole district.
- An **upload** (`上传-<area code>-<name>.csv`, written by the upload page, ingest/upload.py) is
  that area's: a ledger is the area's part (or the narrower area its name holds inside the code),
  so it replaces a hand-copied part of the same area as a re-send; an event file is the sender
  `area:<code>:<name>`, its rows checked to lie in the area. A code that is no area of areas.csv
  makes the file an unrecognised sender (NotASender), never the district's.

Two files of one kind, day and sender are copies: the newest (by modification time) is read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

# Copy marks that file managers and chat clients add: x(1).csv, x（2）.csv, x - 副本.csv, x - Copy.csv.
COPY_MARK = re.compile(r"(?:\s*[(（]\d{1,3}[)）]|\s*-?\s*(?:副本|复制|拷贝|copy|Copy|COPY))+$")
# Dates in a file name: 20220106, 2022-01-06, 2022.1.6, 2022年1月6日, 1月6日, 0106 (a valid month
# and day), with the separators around them.
DATES = re.compile(
    r"[-_. ]*(?:(?<!\d)\d{4}[-./年]\d{1,2}[-./月]\d{1,2}日?|(?<!\d)\d{8}(?!\d)|(?<!\d)\d{1,2}月\d{1,2}[日号]"
    r"|(?<!\d)(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d))[-_. ]*",
    re.ASCII)
# Area names are matched whole or without these endings: 蜜蜂张街道 is also 蜜蜂张.
AREA_SUFFIXES = ("街道办事处", "办事处", "街道", "社区", "镇", "乡")
DISTRICT = ""  # the scope of a ledger that covers every area
# The upload page's names: 上传-410103001-核酸采样.csv. Any code is checked: one that is no street or
# community (the district's, a typo) makes the file no sender's, never the district's.
UPLOAD_PREFIX = "上传"
UPLOAD_NAME = re.compile(r"^上传-(\d+)-(.+)$", re.ASCII)


class NotASender(ValueError):
    """A file name that claims a sender it cannot be: an upload naming no area of the data."""


@dataclass(frozen=True)
class Sender:
    key: str    # stable from day to day: what the reporting matrix and re-sends go by
    name: str   # as people say it: the area's name, or the file name's sender part
    scope: str  # a ledger's area code ("" = the whole district); "" for event files, but an upload's area
    area_name: str = ""  # the scope's name where the name says more (an uploaded event file's)

    @property
    def within(self) -> tuple[str, str] | None:
        """(code, name) of the area every row must lie in, or None: the parser's `within`."""
        return (self.scope, self.area_name or self.name) if self.scope else None


def stem(path: Path) -> str:
    """The sender part of a file name: no suffix, no copy marks, no dates."""
    name = unicodedata.normalize("NFKC", path.stem).strip()
    name = COPY_MARK.sub("", name).strip()
    cleaned = DATES.sub("_", name).strip("-_. ")
    cleaned = COPY_MARK.sub("", cleaned).strip("-_. ")
    return cleaned or name


def area_named(name: str, areas: list[tuple[str, str, str]]) -> tuple[str, str] | None:
    """(code, name) of the street or community the file name holds, the longest name first."""
    name = unicodedata.normalize("NFKC", name)
    found = []
    for code, area_name, level in areas:
        if level not in ("street", "community") or not area_name:
            continue
        forms = {area_name} | {area_name.removesuffix(s) for s in AREA_SUFFIXES if area_name.endswith(s)}
        forms = {form for form in forms if len(form) >= 2}
        if any(form in name for form in forms):
            # The longest name found wins; between equals, the wider area (a street before its community).
            found.append((max(len(f) for f in forms if f in name), -len(code), code, area_name))
    if not found:
        return None
    _, _, code, area_name = max(found)
    return code, area_name


def sender_of(path: Path, role: str, areas: list[tuple[str, str, str]]) -> Sender:
    uploaded = UPLOAD_NAME.match(unicodedata.normalize("NFKC", path.stem))
    if uploaded:
        return _uploaded_by(uploaded.group(1), uploaded.group(2), path.suffix, role, areas)
    if role == "ledger" and (named := area_named(path.stem, areas)):
        code, name = named
        return Sender(f"area:{code}", name, code)
    cleaned = stem(path)
    return Sender(cleaned, cleaned, DISTRICT)


def _uploaded_by(code: str, rest: str, suffix: str, role: str, areas: list[tuple[str, str, str]]) -> Sender:
    names = {area_code: name for area_code, name, level in areas if level in ("street", "community")}
    if code not in names:
        raise NotASender(f"uploaded for area {code}, which is no street or community of areas.csv:"
                         " an unrecognised sender, not read")
    if role == "ledger":
        # A street's upload whose name holds one of its communities is that community's part.
        narrower = area_named(rest, [a for a in areas if a[0].startswith(code)])
        inner, name = narrower if narrower else (code, names[code])
        return Sender(f"area:{inner}", name, inner)
    cleaned = stem(Path(rest + suffix))
    return Sender(f"area:{code}:{cleaned}", f"{names[code]} {cleaned}", code, names[code])


def newest_copies(files: list) -> tuple[list, list]:
    """(files to read, [(file, the copy read instead)]): of the files (each with .kind, .day, .path
    and .sender) of one kind, day and sender, the newest by modification time, then by name."""
    chosen: dict = {}
    for item in files:
        group = (item.kind.kind, item.day, item.sender.key)
        if group not in chosen or _newer(item.path, chosen[group].path):
            chosen[group] = item
    keep, superseded = [], []
    for item in files:
        winner = chosen[(item.kind.kind, item.day, item.sender.key)]
        (keep.append(item) if winner is item else superseded.append((item, winner)))
    return keep, superseded


def _newer(path: Path, other: Path) -> bool:
    try:
        mine, theirs = path.lstat().st_mtime_ns, other.lstat().st_mtime_ns
    except OSError:
        return False
    return (mine, path.name) > (theirs, other.name)
