"""Which kind of export a file is, from its header row: the field names its files as it likes.

A header matches a kind when every required column of the kind is among its cells, by the
contract's English or Chinese names. Where several kinds match (a ledger's columns can be a
subset of another's), the one that recognises the most cells wins, then the one with the most
required columns. A header that matches none is described against the kind it comes closest to:
"closest kind: isolation; missing columns: 开始日期 (started_on)". Cells are compared after NFKC
and trimming, as the parser compares them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from dashboard.ingest.contract import EXPORT_KINDS, FileKind


@dataclass(frozen=True)
class Match:
    kind: FileKind
    recognised: int  # header cells that name a column of the kind


def _names(cells: list[str]) -> list[str]:
    return [unicodedata.normalize("NFKC", str(cell)).strip().lstrip("\ufeff") for cell in cells]


def _recognised(kind: FileKind, names: list[str]) -> set[str]:
    aliases = kind.header_aliases()
    return {aliases[name] for name in names if name in aliases}


def _missing(kind: FileKind, found: set[str]) -> list[str]:
    return [column.name for column in kind.columns if column.required and column.name not in found]


def recognise(cells: list[str], kinds: tuple[FileKind, ...] = EXPORT_KINDS) -> Match | None:
    """The kind whose header this is, or None."""
    names = _names(cells)
    matches = []
    for kind in kinds:
        found = _recognised(kind, names)
        if not _missing(kind, found):
            matches.append(Match(kind, len(found)))
    if not matches:
        return None
    return max(matches, key=lambda m: (m.recognised, sum(c.required for c in m.kind.columns)))


def why_not(cells: list[str], kinds: tuple[FileKind, ...] = EXPORT_KINDS) -> str:
    """Why no kind matched, in words that name the closest kind and its missing columns; never
    the cells themselves, which in a file without a header row are a person's data."""
    names = _names(cells)
    if not any(names):
        return "no header row found"
    best = None
    for kind in kinds:
        found = _recognised(kind, names)
        required = sum(c.required for c in kind.columns)
        score = (len(found & {c.name for c in kind.columns if c.required}) / required, len(found))
        if found and (best is None or score > best[0]):
            best = (score, kind, found)
    if best is None:
        return "no cell of its header row is a column name of any export"
    _, kind, found = best
    missing = ", ".join(f"{kind.column(name).zh} ({name})" for name in _missing(kind, found))
    return f"closest kind: {kind.kind} ({kind.zh}); missing columns: {missing}"
