"""Make an export file readable by DuckDB's CSV reader, streaming: Python only does what DuckDB
cannot do offline.

DuckDB 2.0.1 cannot decode GBK without downloading an extension, and Excel on a Chinese Windows
saves CSV as GBK, so such a file is transcoded here to UTF-8, chunk by chunk, into a private
temporary file. The same pass folds full-width characters (NFKC) only in files that contain
them, writes blank lines as rows of empty cells, because DuckDB skips blank lines and every
reject must still name its line in the source file, and ends every line with \n in a file that
mixes \r\n and \n, which DuckDB reads with lines miscounted, or not at all.

DuckDB must also read each line as one row or one error. A quote left open would take every
line after it into one bad row (and a line with text after a closing quote can come back as an
error and a row), so such a line, and a line too long to hold, is taken out: written as a row of
empty cells, with its line and reason in a second file that parse.py reads as rejects. A cell
spanning lines is not part of the contract: its first line is an unclosed quote.
"""

from __future__ import annotations

import codecs
import csv
import errno
import os
import re
import stat
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dashboard.ingest import ids

# Bytes read, hashed and decoded at a time. A chunk is decoded holding the GIL, and the testing
# exports are scanned in a thread while the ingest runs DuckDB statements (hashes.FileHashes.ahead):
# each statement's return waits for the chunk being decoded. At 256 KiB, not 1 MiB, a district's
# full ingest took 0.1-0.3 s less in each of three alternated pairs, and a 67 MB file's scan alone
# no longer (0.069 s against 0.074 s).
CHUNK = 1 << 18
# A line longer than this (in UTF-8, as DuckDB reads it) is no export of ours: it is rejected, not
# the file, and never held whole (at most this many characters of it, plus one chunk).
MAX_LINE_BYTES = 1 << 21
TOO_LONG = f"line longer than {MAX_LINE_BYTES:,} bytes"
UNCLOSED_QUOTE = "unclosed quote"
TEXT_AFTER_QUOTE = "text after a closing quote"
LONE_CR = "carriage return (\\r) inside the line"
# Full-width digits, letters, punctuation and the ideographic space, which NFKC folds.
FULL_WIDTH = re.compile(r"[\uff01-\uff5e\u3000]")
# A blank line inside a block of whole lines (each ending in \n).
BLANK_LINE = re.compile(r"(?m)^[ \t\r]*\n")
# The same, faster to search for (a literal first character) in "\n" + block.
AFTER_NEWLINE_BLANK = re.compile(r"\n[ \t\r]*\n")
SYMLINK_NOT_READ = "symbolic link, not read"

# How DuckDB 2.0.1's reader (strict mode, quote and escape '"') takes the quotes of one line, found
# by comparing it with these patterns on every line of up to seven of ' ",x' (six of ' ",x\r') and
# on random longer ones: a cell opens a quote only at its start, after at most one space; inside,
# "" is a quote, and a closing quote followed by spaces and a quote opens it again; a line ending
# inside a quote goes on into the next. Outside quotes, a lone \r ends a row, or fails the file.
# Possessive quantifiers: each line is read once, left to right, without backtracking.
_QUOTED = r'[ ]?"[^"\n]*+(?:"[ ]*+"[^"\n]*+)*+"'
_UNQUOTED = r'(?![ ]?")[^,\n\r]*+'
# Read as one row or one error: after a closing quote only spaces, then (as the lines below
# require) the comma or the line end.
_CELL = rf'(?>{_QUOTED}[ ]*+|{_UNQUOTED})'
# A run of such lines; a line without a quote takes the first, quick branch.
READABLE_LINES = re.compile(rf'(?:[^"\n\r]*+\r?\n|{_CELL}(?:,{_CELL})*+\r?\n)*+')
READABLE_LAST_LINE = re.compile(rf'{_CELL}(?:,{_CELL})*+\r?\Z')
# Quotes that close, even with text after them: DuckDB's error then ends with the line.
_CLOSED_CELL = rf'(?>{_QUOTED}[^,\n]*+|(?![ ]?")[^,\n]*+)'
QUOTES_CLOSE = re.compile(rf'{_CLOSED_CELL}(?:,{_CLOSED_CELL})*+(?=\n|\Z)')
CR_IN_LINE = re.compile(r"\r(?!\n|\Z)")


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
class Scan:
    encoding: str
    header: list[str]
    full_width: bool = False
    # Whether a line is blank (DuckDB would skip it); None: not looked for (scan's blank_lines).
    blank_lines: bool | None = False
    lines: int = 0  # the file's lines, the header's included
    unreadable: int = 0  # lines to take out before DuckDB reads the file
    mixed_endings: bool = False


def _over_cap(start: list[str], text: str, end: int, chars: int) -> bool:
    """Whether the line start + text[:end] of chars characters has more than MAX_LINE_BYTES bytes
    in UTF-8, which only a line of more than a quarter as many characters can."""
    if chars * 4 <= MAX_LINE_BYTES:
        return False
    return chars > MAX_LINE_BYTES or sum(len(piece.encode()) for piece in start) + len(
        text[:end].encode()) > MAX_LINE_BYTES


class _Digesting:
    """Feeds each chunk read to a hash on a thread of its own, in order: hashlib lets go of the GIL
    while it hashes, so the file's sha256 costs the scan that reads it no time of its own."""

    def __init__(self, digest) -> None:
        self._digest = digest
        self._thread = ThreadPoolExecutor(max_workers=1)
        self._last = None

    def __call__(self, chunk: bytes) -> None:
        if chunk:
            self._last = self._thread.submit(self._digest.update, chunk)

    def finish(self, f) -> None:
        """Hash what is left of f (a scan may stop before the end), then wait for every chunk."""
        for chunk in iter(lambda: f.read(CHUNK), b""):
            self(chunk)
        self._thread.shutdown(wait=True)
        if self._last is not None:
            self._last.result()


def _whole_lines(path: Path, codec: str, digest=None):
    """Decoded blocks of whole lines (the last block may lack its newline), in file order; a line
    longer than MAX_LINE_BYTES comes as None, dropped as it was read. A chunk's bytes are fewer
    than that, so only a line begun in an earlier chunk can be too long. digest, a hashlib object,
    is given every byte of the file, even where decoding fails or the reader stops early.

    The start of a line waiting for its newline is kept as a list of pieces, joined once: adding
    each chunk to it would copy the line again for every chunk.
    """
    decoder = codecs.getincrementaldecoder(codec)()
    start: list[str] = []
    held = 0
    too_long = False  # in a line already over the cap, until its newline
    hashing = _Digesting(digest) if digest is not None else None
    with open_regular(path) as f:
        try:
            while True:
                chunk = f.read(CHUNK)
                if hashing is not None:
                    hashing(chunk)
                text = decoder.decode(chunk, final=not chunk)
                end = text.find("\n") + 1
                if end and (too_long or _over_cap(start, text, end - 1, held + end - 1)):
                    yield None
                    text, start, held, too_long = text[end:], [], 0, False
                cut = text.rfind("\n") + 1
                if cut:
                    yield "".join(start) + text[:cut]
                    text, start, held = text[cut:], [], 0
                if not too_long and text:
                    held += len(text)
                    too_long = held > MAX_LINE_BYTES
                    if too_long:
                        start, held = [], 0
                    else:
                        start.append(text)
                if not chunk:
                    break
        finally:
            if hashing is not None:
                hashing.finish(f)
    if too_long or _over_cap(start, "", 0, held):
        yield None
    elif start:
        yield "".join(start)


def unreadable_lines(block: str):
    """(start, end, reason) of each line of a block of whole lines that DuckDB would not read as
    one row or one error; end is past the line's newline. A block without a quote or a lone \r
    has none."""
    if '"' not in block and ("\r" not in block or block.count("\r") == block.count("\r\n")):
        return
    pos, size = 0, len(block)
    while (pos := READABLE_LINES.match(block, pos).end()) < size:
        end = block.find("\n", pos) + 1 or size
        if end == size and not block.endswith("\n") and READABLE_LAST_LINE.match(block, pos):
            return
        if not QUOTES_CLOSE.match(block, pos, end):
            yield pos, end, UNCLOSED_QUOTE
        else:
            yield pos, end, LONE_CR if CR_IN_LINE.search(block, pos, end - 1) else TEXT_AFTER_QUOTE
        pos = end


def _ends_in_blank_line(block: str) -> bool:
    """A last line without its newline that holds only spaces."""
    tail = block[block.rfind("\n") + 1:]
    return tail != "" and not tail.strip()


def _scan_as(path: Path, codec: str, digest=None, blank_lines: bool = True) -> Scan:
    first_line, full_width, blank, any_text, lines, unreadable = None, False, False, False, 0, 0
    crlf = lf = False
    for block in _whole_lines(path, codec, digest):
        if block is None:
            if first_line is None:
                raise UnusableFile(f"{path}: the first line is longer than {MAX_LINE_BYTES:,} bytes: not a header row")
            lines, unreadable, any_text = lines + 1, unreadable + 1, True
            continue
        # "in" is a fast search and count() a slow one: a block without \r is not counted for it.
        newlines = block.count("\n")
        crlf_here, cr_here = (block.count("\r\n"), block.count("\r")) if "\r" in block else (0, 0)
        lines += newlines + (not block.endswith("\n"))
        crlf, lf = crlf or crlf_here > 0, lf or newlines > crlf_here
        if first_line is None:
            first_line, _, rest = block.partition("\n")
        else:
            rest = block
        any_text = any_text or bool(block.strip())
        # isascii() is a flag Python keeps on every str: most blocks of a big export are ASCII.
        full_width = full_width or (not block.isascii() and bool(FULL_WIDTH.search(block)))
        if blank_lines:
            blank = blank or bool(AFTER_NEWLINE_BLANK.search("\n" + rest)) or _ends_in_blank_line(rest)
        if '"' in block or cr_here > crlf_here:
            unreadable += sum(1 for _ in unreadable_lines(rest))
    if not any_text:
        raise UnusableFile(f"{path}: file is empty")
    header_line = (first_line or "").lstrip("\ufeff").rstrip("\r")
    if full_width:
        header_line = unicodedata.normalize("NFKC", header_line)
    try:
        header = next(csv.reader([header_line]), [])
    except csv.Error:
        header = None
    # DuckDB skips the header as a row: a quote left open there would take the whole file with it.
    problem = next(unreadable_lines(header_line), None)
    if header is None or problem:
        why = f" ({problem[2]})" if problem else ""
        raise UnusableFile(f"{path}: the first line cannot be read as a CSV header row{why}")
    return Scan(codec, header, full_width, blank if blank_lines else None, lines, unreadable, crlf and lf)


def scan(path: Path, digest=None, blank_lines: bool = True) -> Scan:
    """The file's encoding, header cells and whether it needs rewriting; reads it once in chunks.
    digest, a hashlib object, is given every byte of the file, whatever the scan finds.

    blank_lines=False does not look for blank lines, most of a scan's time on a big file: a file
    with one reads a row short in DuckDB, so the clean statement's count finds out, and the parse
    scans the file again, looking (parse.py)."""
    with open_regular(path) as f:
        codec = "utf-8-sig" if f.read(3) == b"\xef\xbb\xbf" else "utf-8"
    try:
        return _scan_as(path, codec, digest, blank_lines)
    except UnicodeDecodeError as utf8_error:
        try:
            found = _scan_as(path, "gb18030", blank_lines=blank_lines)
        except UnicodeDecodeError:
            offset, byte = _first_bad_byte(path, "gb18030")
            raise UnusableFile(
                f"{path}: cannot decode as UTF-8 or GBK/GB18030: byte 0x{byte:02x} "
                f"at offset {offset} (UTF-8 failed at offset {_first_bad_byte(path, codec)[0]})"
            ) from None
        del utf8_error
        return found


def _first_bad_byte(path: Path, codec: str) -> tuple[int, int]:
    decoder = codecs.getincrementaldecoder(codec)()
    offset = 0
    with open_regular(path) as f:
        while True:
            chunk = f.read(CHUNK)
            pending = decoder.getstate()[0]
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                data = pending + chunk
                return offset - len(pending) + error.start, data[error.start]
            if not chunk:
                return offset, 0
            offset += len(chunk)


def needs_rewrite(found: Scan) -> bool:
    return (found.encoding not in ("utf-8", "utf-8-sig") or found.full_width or found.blank_lines
            or found.unreadable > 0 or found.mixed_endings)


@dataclass
class Readable:
    """What DuckDB reads, line for line the source, and a CSV of (line, reason) for each line
    taken out of it (None when there is none)."""

    path: str
    taken_out: str | None = None


def _private_file(path: Path):
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def _take_out(block: str, line: int, empty_row: str, taken_out) -> tuple[str, int]:
    """The block with each unreadable line written as a row of empty cells; how many there were.
    line is the number of the block's first line."""
    pieces, done, count = [], 0, 0
    for start, end, reason in unreadable_lines(block):
        line += block.count("\n", done, start)
        taken_out.writerow([line, reason])
        pieces += [block[done:start], empty_row]
        done, line, count = end, line + 1, count + 1
    if not count:
        return block, 0
    pieces.append(block[done:])
    return "".join(pieces), count


@contextmanager
def readable(path: Path, found: Scan, cells_per_row: int, workdir: Path, copy_name: str = "transcoded"):
    """A Readable with the same lines as the source: the file itself, through a descriptor opened
    without following links, or a transcoded copy in workdir (copy_name: for copies that must
    exist side by side, as a batch's do)."""
    if not needs_rewrite(found):
        with open_regular(path) as f:
            # /proc/self/fd reads the file this descriptor holds, never what the name points at now.
            yield Readable(f"/proc/self/fd/{f.fileno()}")
        return
    copy = workdir / f"{copy_name}-{os.getpid()}.csv"
    lines_out = workdir / f"{copy_name}-taken-out-{os.getpid()}.csv"
    empty_row = "," * (cells_per_row - 1) + "\n"
    # Folding turns a full-width quote into '"': the folded text is checked again.
    check_quotes = found.unreadable > 0 or found.full_width
    line, taken = 1, 0
    try:
        with _private_file(copy) as out, _private_file(lines_out) as taken_out_file:
            taken_out = csv.writer(taken_out_file, lineterminator="\n")
            for block in _whole_lines(path, found.encoding):
                if block is None:
                    taken_out.writerow([line, TOO_LONG])
                    out.write(empty_row)
                    line, taken = line + 1, taken + 1
                    continue
                next_line = line + block.count("\n")
                if found.full_width:
                    block = unicodedata.normalize("NFKC", block)
                if check_quotes:
                    block, count = _take_out(block, line, empty_row, taken_out)
                    taken += count
                if found.mixed_endings:
                    block = block.replace("\r\n", "\n")
                if found.blank_lines:
                    # Line 1 (the header) is never blank here: its cells were recognised.
                    block = BLANK_LINE.sub(empty_row, block)
                    if _ends_in_blank_line(block):
                        block = block[:block.rfind("\n") + 1] + empty_row
                out.write(block)
                line = next_line
        yield Readable(str(copy), str(lines_out) if taken else None)
    finally:
        copy.unlink(missing_ok=True)
        lines_out.unlink(missing_ok=True)
