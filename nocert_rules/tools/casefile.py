"""Streaming readers of case files (JSONL or CSV) for ``dry-run`` and ``diff --cases``.

A case is one decision request plus, optionally, a ``case_id`` and the ``expected_method``.
Files are streamed, never read whole: a case file may hold millions of rows. JSONL is read in
blocks (:data:`_BLOCK_BYTES`) whose lines are split, decoded and made records by C loops;
:meth:`CaseReader.chunks` hands them out in the lists ``dry-run`` decides.

Reading is split in two steps so that ``dry-run --jobs`` can parse in worker processes:

* :func:`iter_raw` yields :class:`RawCase` tuples (line number + undecoded record), cheap and
  picklable;
* :func:`parse_raw` turns one into a :class:`Case`: the request dict, or the row's error.

A bad row (bad JSON, a wrong type, an unknown column value, a line longer than
:data:`MAX_RECORD_BYTES`, a CSV syntax error) never stops the reading: it comes back as a ``Case``
with ``error`` set, naming the line. Only a file that cannot be read at all (not found, not UTF-8
CSV, a CSV header with unknown columns) raises :class:`CaseFileError`. Memory stays bounded: a line
too long is skipped in pieces, never held whole.

Messages never echo a value that might be an ID number (see :func:`safe_value`).

JSONL: one JSON object per line (``\n`` or ``\r\n``), either flat (the request's fields plus
``case_id`` and ``expected_method``) or wrapped (``{"case_id": .., "expected_method": .., "request":
{..}}``). Blank lines are skipped.

CSV (UTF-8, optional BOM, header row; lines end in ``\n``, ``\r\n`` or ``\r``): see
:data:`CSV_COLUMNS`; an empty cell means "not given" (the request's default applies).
"""

from __future__ import annotations

import csv
import json
import re
import sys
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from itertools import accumulate, chain, repeat
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple

from nocert_rules.enums import Method
from nocert_rules.errors import NocertError
from nocert_rules.models import EARLIEST_REQUEST, LATEST_REQUEST, SHANGHAI
from nocert_rules.policy.wording import RulesetWording, default_ruleset_wording
from nocert_rules.privacy import mask_id, mask_text

Format = Literal["jsonl", "csv"]

MAX_RECORD_BYTES = 1 << 20
"""A JSONL line, a CSV line or a CSV record (quoted cells may span lines) longer than this many
bytes is a malformed row; it is skipped in pieces, never held in memory whole. A request file for
``decide`` may not be larger either."""

CHUNK_BYTES = 8 << 20
""":func:`chunked` closes a chunk at this many bytes of records, whatever its length."""

_BLOCK_BYTES = 1 << 18
"""A JSONL file is read in blocks of this many bytes (:meth:`CaseReader.chunks`)."""

_BOM = b"\xef\xbb\xbf"
_LONE_CR = re.compile(rb"\r(?!\n)")  # splits a line for bytes.splitlines, not for JSONL

MAX_CASE_ID = 200
"""A longer ``case_id`` is a malformed row (it is repeated in every listing and output line)."""

_TOO_LONG = f"行过长 / line longer than {MAX_RECORD_BYTES // (1 << 20)} MiB"
_RECORD_TOO_LONG = f"记录过长 / record longer than {MAX_RECORD_BYTES // (1 << 20)} MiB"


class CaseFileError(NocertError):
    """The case file as a whole cannot be read (not found, not UTF-8, bad CSV header)."""


# column -> (path in the request, kind); kind: str, bool, or "case" for case-level fields
CSV_COLUMNS: dict[str, tuple[tuple[str, ...], str]] = {
    "case_id": (("case_id",), "case"),
    "expected_method": (("expected_method",), "case"),
    "service_item": (("service_item",), "str"),
    "certificate": (("certificate",), "str"),
    "applicant_kind": (("applicant", "kind"), "str"),
    "applicant_id_number": (("applicant", "id_number"), "str"),
    "applicant_name": (("applicant", "name"), "str"),
    "applicant_credit": (("applicant", "credit"), "str"),
    "applicant_blacklisted_since": (("applicant", "blacklisted_since"), "str"),
    "applicant_credit_repaired_on": (("applicant", "credit_repaired_on"), "str"),
    "applicant_serious_bad_record": (("applicant", "serious_bad_record"), "bool"),
    "applicant_bad_record": (("applicant", "bad_record"), "bool"),
    "requested_at": (("requested_at",), "str"),
    "wants_pledge": (("wants_pledge",), "bool"),
    "provides_certificate": (("provides_certificate",), "bool"),
    "sharing_online": (("sharing_online",), "bool"),
    "proxy_authorized": (("proxy_authorized",), "bool"),
    "adjustment_pending": (("adjustment_pending",), "bool"),
    "request_id": (("request_id",), "str"),
    "requesting_unit": (("requesting_unit",), "str"),
}
"""The CSV columns (documented in docs/cli.md). Any other column is an error."""

CSV_REQUIRED_COLUMNS = ("service_item", "certificate", "applicant_kind", "applicant_id_number")

_TRUE = {"true", "1", "yes", "y", "t", "是", "真"}
_FALSE = {"false", "0", "no", "n", "f", "否", "假"}

def safe_value(value: Any) -> str:
    """A value for an error message: short values as they are, anything else masked (and cut)."""
    if not isinstance(value, str | int | float):
        return f"<{type(value).__name__}>"
    text = str(value) if not isinstance(value, int) or abs(value) < 10**40 else "<int>"
    if len(text) <= 8:  # too short to hold an ID number
        return repr(text)
    masked = mask_id(text)
    return repr(masked if len(masked) <= 40 else masked[:39] + "…")


_LONG_TOKEN = re.compile(r"[0-9A-Za-z]{12,}")


def redact(text: str) -> str:
    """For error messages: every ID-shaped run masked (``privacy.mask_text``, also spaced,
    full-width or zero-width-split), then every long token with six or more digits."""

    def mask(m: re.Match[str]) -> str:
        token = m.group()
        return mask_id(token) if sum(c.isdigit() for c in token) >= 6 else token

    return _LONG_TOKEN.sub(mask, mask_text(text))


def safe_case_id(case_id: str | None) -> str | None:
    """A case id for output: any ID-shaped run inside it is masked (``privacy.mask_text``),
    whatever surrounds it (``C370399199001011234`` -> ``C370*************34``)."""
    if case_id is None:
        return None
    return mask_text(case_id)


class RawCase(NamedTuple):
    """One record as read: its line number and its text (JSONL) or cells (CSV); ``error`` when
    the record could not even be read (too long, not UTF-8, a CSV syntax error)."""

    line: int
    data: str | dict[str | None, Any]
    error: str | None = None


_DATA = itemgetter(1)  # RawCase.data
_RECORDS = itemgetter(0)
_new_raw = tuple.__new__  # RawCase from a (line, data, error) tuple without a Python call


@dataclass(frozen=True, slots=True)
class Case:
    """One parsed case: the request dict (not yet validated), or the row's error."""

    line: int
    case_id: str | None
    expected_method: Method | None
    request: dict[str, Any] | None
    error: str | None = None


# ------------------------------------------------------------------ reading


def detect_format(path: str, first_bytes: bytes = b"") -> Format:
    """By extension (``.jsonl``/``.ndjson``/``.json``/``.csv``), else by the first character."""
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    head = first_bytes.lstrip(b"\xef\xbb\xbf \t\r\n")
    return "jsonl" if head.startswith(b"{") else "csv"


class CaseReader:
    """Iterates the raw records of a case file, or hands them out in lists (:meth:`chunks`, what
    ``dry-run`` decides); ``bytes_read`` feeds a progress bar.

    ``path`` ``"-"`` reads standard input. Use as a context manager or call ``close()``.
    The file is read in binary: JSONL lines end at ``\n``; CSV lines at ``\n``, ``\r\n`` or ``\r``
    (universal newlines, kept as the csv module wants them). A line or record longer than
    :data:`MAX_RECORD_BYTES` comes back as a malformed record and is skipped in pieces.
    """

    def __init__(self, path: str, fmt: Format | None = None, *, byte_range: tuple[int, int] | None = None,
                 first_line: int = 1) -> None:
        """``byte_range=(start, end)`` (JSONL only): just the lines that *start* at a byte offset in
        ``[start, end)``, numbered from ``first_line`` (the file's number of the first of them).
        Ranges that tile the file give each line to exactly one reader (a Dask worker's block)."""
        self.path = path
        self._first_line = first_line
        self.bytes_read = 0
        self.total_bytes: int | None = None
        if path == "-":
            if byte_range is not None:
                raise ValueError("byte_range: a file, not standard input")
            self._file: IO[bytes] = sys.stdin.buffer
            self._owns = False
        else:
            p = Path(path)
            if p.is_dir():
                raise CaseFileError(f"{path}: 是目录而非案例文件 / is a directory, not a case file")
            try:
                self._file = p.open("rb")
            except FileNotFoundError:
                raise CaseFileError(f"{path}: 案例文件不存在 / case file not found") from None
            except OSError as exc:
                raise CaseFileError(f"{path}: 无法读取 / cannot read: {exc.strerror}") from None
            self._owns = True
            self.total_bytes = p.stat().st_size
            if byte_range is not None:
                if fmt != "jsonl":
                    self._file.close()
                    raise ValueError("byte_range: JSONL only (a CSV record may span lines)")
                self._file = _LineWindow(self._file, *byte_range)  # type: ignore[assignment]
        self._pending = b""  # read ahead to sniff the format; consumed first
        self.lines = 0  # physical lines read
        self.header_lines = 0
        self.blank_lines = 0  # skipped: empty, or a CSV row of empty cells
        self.swallowed_lines = 0  # lines inside a malformed record after its first (a stray quote)
        self.continued_lines = 0  # lines inside a quoted cell's line breaks, after a record's first
        if fmt is None and Path(path).suffix.lower() not in (".jsonl", ".ndjson", ".json", ".csv"):
            self._pending = self._file.readline(MAX_RECORD_BYTES)
            self.bytes_read += len(self._pending)
        self.format: Format = fmt or detect_format(path, self._pending)

    def __enter__(self) -> CaseReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns:
            self._file.close()

    def __iter__(self) -> Iterator[RawCase]:
        if self.format == "jsonl":
            return chain.from_iterable(map(_RECORDS, self._jsonl_blocks()))
        return self._csv()

    def line_counts(self, cases: int) -> dict[str, int]:
        """Where every line of the file went, once read: ``total`` = ``header`` + ``cases`` +
        ``blank`` + ``continued`` (line breaks inside quoted cells) + ``swallowed`` (lines a
        stray quote swallowed into a malformed record)."""
        return {"total": self.lines, "header": self.header_lines, "cases": cases, "blank": self.blank_lines,
                "continued": self.continued_lines, "swallowed": self.swallowed_lines}

    def _read(self, size: int) -> bytes:
        data = self._file.read(size)
        self.bytes_read += len(data)
        return data

    def _lines_universal(self) -> Iterator[bytes | None]:
        """Lines ending in ``\n``, ``\r\n`` or ``\r`` (kept); ``None`` for a line longer than the
        limit (skipped)."""
        limit = MAX_RECORD_BYTES
        buf, self._pending = self._pending, b""
        skipping = False  # inside a line too long, until its end
        eof = False
        while True:
            lines = buf.splitlines(keepends=True)
            buf = b""
            if lines and not eof:
                last = lines[-1]
                if last.endswith(b"\r") or not last.endswith(b"\n"):
                    buf = lines.pop()  # incomplete, or a \r whose \n may come with the next read
            for line in lines:
                if skipping:
                    skipping = False
                    yield None
                elif len(line.rstrip(b"\r\n")) > limit:
                    yield None
                else:
                    yield line
            if eof:
                if skipping:
                    yield None
                return
            if len(buf) > limit + 2:  # no end of line in sight: skip this line
                skipping = True
                buf = b"\r" if buf.endswith(b"\r") else b""
            block = self._read(1 << 16)
            if not block:
                eof = True
            buf += block

    def chunks(self, size: int, max_chars: int = CHUNK_BYTES) -> Iterator[list[RawCase]]:
        """The records in lists, exactly as ``chunked(iter(self), size, max_chars)`` cuts them; a
        JSONL file is read in blocks and its records handed out a block at a time (no generator
        step per line)."""
        if self.format != "jsonl":
            return chunked(self._csv(), size, max_chars)
        return self._jsonl_chunks(size, max_chars)

    def _jsonl_chunks(self, size: int, max_chars: int) -> Iterator[list[RawCase]]:
        """:func:`chunked` over :meth:`_jsonl_blocks`, a block at a time: the records that fill
        a chunk's count are sliced off; its characters are counted (and the cut found with
        ``bisect`` on their running sum) only in a block that could reach ``max_chars``."""
        chunk: list[RawCase] = []
        chars = 0  # the characters of the records in chunk, or more (the bytes of their lines)
        for records, most in self._jsonl_blocks():
            sums: list[int] | None = None
            if chars + most >= max_chars:  # a chunk may close for its characters: count them
                chars = sum(map(len, map(_DATA, chunk)))
                sums = list(accumulate(map(len, map(_DATA, records))))
            start = base = 0  # the first record not yet in a chunk; the characters before it
            while start < len(records):
                stop = start + max(size - len(chunk), 1)  # after the record that fills the count
                if sums is not None:  # ... or the one that reaches max_chars
                    stop = min(stop, bisect_left(sums, max_chars - chars + base, start) + 1)
                if stop > len(records):
                    chunk.extend(records[start:])
                    chars += most if sums is None else sums[-1] - base
                    break
                chunk.extend(records[start:stop])
                yield chunk
                chunk, chars = [], 0
                start, base = stop, 0 if sums is None else sums[stop - 1]
        if chunk:
            yield chunk

    def _jsonl_blocks(self) -> Iterator[tuple[list[RawCase], int]]:
        """The records of a JSONL file, a block of lines at a time, each with the bytes of its
        lines (at least the records' characters): blocks of
        :data:`_BLOCK_BYTES` are read and cut after their last ``\n`` (the rest of the line
        waits for the next block); a line longer than :data:`MAX_RECORD_BYTES` is reported as
        soon as that many bytes are seen without its end, and the rest of it read and dropped."""
        limit = MAX_RECORD_BYTES
        read = self._file.read1
        number = self._first_line - 1  # of the last line read
        tail, self._pending = self._pending, b""  # the start of a line whose end is not read yet
        skipping = False  # inside a line longer than the limit, until its end
        while True:
            block = read(_BLOCK_BYTES)
            self.bytes_read += len(block)
            if not block:  # the end of the file: its last line has no end of line
                if tail:
                    number += 1
                    self.lines = number
                    record = self._jsonl_record(number, tail, limit)
                    if record is not None:
                        yield [record], len(tail)
                return
            if skipping:
                end = block.find(b"\n") + 1
                if not end:
                    continue
                skipping, block = False, block[end:]
            data = tail + block
            cut = data.rfind(b"\n") + 1
            tail = data[cut:]
            if cut:
                records, count = self._jsonl_lines(number + 1, data[:cut], limit)
                number += count
                self.lines = number
                if records:
                    yield records, cut
            if len(tail) > limit:
                number += 1
                self.lines = number
                yield [RawCase(number, "", _TOO_LONG)], 0
                tail, skipping = b"", True

    def _jsonl_lines(self, first: int, data: bytes, limit: int) -> tuple[list[RawCase], int]:
        """The records of whole lines (``data`` ends with ``\n``), numbered from ``first``, and
        how many lines they were. Lines that are all plain records (no BOM on line 1, no blank,
        too long, not UTF-8 line, no ``\r`` but in ``\r\n``) are split, decoded and made
        records by C loops; any other block goes line by line (:meth:`_jsonl_record`)."""
        lines = data.splitlines(keepends=True)  # at \n, \r\n and \r: right unless a \r is alone
        if (
            (b"\r" not in data or not _LONE_CR.search(data))
            and (first != 1 or not data.startswith(_BOM))
            and (len(data) <= limit + 1 or max(map(len, lines)) <= limit + 1)
            and min(lines)[0] > 0x20  # no line starts with white space, as a blank line does
        ):
            try:
                texts = list(map(bytes.decode, lines))
            except UnicodeDecodeError:
                pass
            else:
                count = len(texts)
                numbered = zip(range(first, first + count), texts, repeat(None))
                return list(map(_new_raw, repeat(RawCase), numbered)), count
        records: list[RawCase] = []
        start = 0
        number = first - 1
        while start < len(data):
            end = data.index(b"\n", start) + 1
            number += 1
            record = self._jsonl_record(number, data[start:end], limit)
            if record is not None:
                records.append(record)
            start = end
        return records, number - first + 1

    def _jsonl_record(self, number: int, raw: bytes, limit: int) -> RawCase | None:
        """One JSONL line (with its ``\n``, but for a last line without one) as a record;
        ``None`` for a blank line (counted in ``blank_lines``)."""
        if len(raw) - raw.endswith(b"\n") > limit:
            return RawCase(number, "", _TOO_LONG)
        if number == 1 and raw.startswith(_BOM):
            raw = raw[3:]
        if not raw.strip():
            self.blank_lines += 1
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return RawCase(number, "", "不是 UTF-8 文本 / not UTF-8 text")
        return RawCase(number, text)

    def _csv(self) -> Iterator[RawCase]:
        number = 0  # lines read
        record = 0  # bytes of the record being read by the csv module
        problem: str | None = None  # why the record being read is malformed

        def decoded() -> Iterator[str]:
            nonlocal number, record, problem
            for raw in self._lines_universal():
                number += 1
                if raw is None:
                    problem = problem or _TOO_LONG
                    yield "\n"  # an empty line; or a line break inside a quoted cell
                    continue
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise CaseFileError(
                        f"{self.path}:{number}: 不是 UTF-8 编码，请另存为 UTF-8 CSV / "
                        "not UTF-8: save the CSV as UTF-8"
                    ) from None
                if record and record + len(raw) > MAX_RECORD_BYTES:
                    # inside a quoted cell spanning lines (the only way a record goes on): close
                    # it and end the record here, rather than hold it all
                    problem = problem or _RECORD_TOO_LONG
                    record = 1
                    yield '"\n'
                    continue
                record += len(raw)
                yield text

        rows = csv.reader(decoded())
        try:
            header = next(rows, None)
        except csv.Error as exc:
            raise CaseFileError(f"{self.path}:{rows.line_num}: 表头 CSV 格式错误 / bad CSV header: {exc}") from None
        if header is None:
            return
        self.header_lines = rows.line_num
        if problem is not None:
            raise CaseFileError(f"{self.path}:1: 表头{zh_part(problem)} / header {en_part(problem)}")
        names = self._csv_names(header)
        width = len(names)
        end = rows.line_num  # the last line of the previous record
        while True:
            record, problem = 0, None
            start = end + 1
            try:
                row = next(rows)
            except StopIteration:
                self.lines = number
                return
            except csv.Error as exc:  # e.g. a cell larger than csv.field_size_limit()
                end = rows.line_num
                self.swallowed_lines += max(0, end - start)
                if end > start and problem is None:  # a quote left open ran into the cell size limit
                    problem = f"{_STRAY_QUOTE} ({exc})"
                yield RawCase(start, {}, (problem or f"CSV 格式错误 / bad CSV: {exc}") + _span(start, end))
                continue
            end = rows.line_num
            self.lines = number
            if end > start and (problem is not None or _swallowed_rows(row, width)):
                # A quoted cell may hold a line break (a name, an address), but one that holds
                # whole rows is a quote left open: it swallowed the lines up to the next quote.
                self.swallowed_lines += end - start
                yield RawCase(start, {}, (problem or _STRAY_QUOTE) + _span(start, end))
                continue
            self.continued_lines += end - start
            if problem is not None:
                yield RawCase(start, {}, problem)
                continue
            if len(row) <= width and all(not cell.strip() for cell in row):
                self.blank_lines += 1
                continue  # a blank line, or a row of empty cells
            yield RawCase(start, _csv_cells(names, row))

    def _csv_names(self, header: list[str]) -> list[str]:
        """The CSV header's column names; a ``CaseFileError`` at line 1 for an unknown or a
        missing column."""
        names = [h.strip() for h in header]
        unknown = [n for n in names if n not in CSV_COLUMNS]
        if unknown:
            shown = ", ".join(repr(redact(n if len(n) <= 30 else n[:29] + "…")) for n in unknown[:5])
            more = f" (+{len(unknown) - 5})" if len(unknown) > 5 else ""
            raise CaseFileError(
                f"{self.path}:1: 未知的列 / unknown CSV columns: {shown}{more}; known: {', '.join(CSV_COLUMNS)}"
                + ("; 第一行应为表头 / the first line must be the header" if len(unknown) == len(names) else "")
            )
        missing = [n for n in CSV_REQUIRED_COLUMNS if n not in names]
        if missing:
            raise CaseFileError(
                f"{self.path}:1: 缺少必需的列 / missing CSV columns: {', '.join(missing)}"
            )
        return names


def _csv_cells(names: list[str], row: list[str]) -> dict[str | None, Any]:
    """A CSV row by column name; cells past the header under ``None`` (an error later), columns
    the row lacks as ``None``."""
    width = len(names)
    cells: dict[str | None, Any] = dict(zip(names, row, strict=False))
    if len(row) > width:
        cells[None] = row[width:]
    else:
        cells.update((name, None) for name in names[len(row):])
    return cells


class _LineWindow:
    """A binary file seen as just its lines that start in ``[start, end)`` (for ``read1``):
    positioned at the first line start at or after ``start`` (the rest of a line begun before it
    is skipped in pieces), and empty after the end of the last line that starts before ``end``."""

    def __init__(self, file: IO[bytes], start: int, end: int) -> None:
        self._file = file
        self._end = end
        file.seek(max(start - 1, 0))
        if start > 0:  # the byte before start ends a line, or we are inside one: skip to its end
            while True:
                piece = file.readline(1 << 16)
                if not piece or piece.endswith(b"\n"):
                    break
        self._pos = file.tell()  # of the next byte to read
        self._done = self._pos >= end

    def read1(self, size: int = -1) -> bytes:
        if self._done:
            return b""
        data = self._file.read1(size)  # type: ignore[attr-defined]
        last = self._end - 1 - self._pos  # where the byte before end is in data
        self._pos += len(data)
        if len(data) > last:  # the line holding that byte is the last one: up to its \n
            cut = data.find(b"\n", max(last, 0)) + 1
            if cut:
                self._done = True
                return data[:cut]
        return data

    def close(self) -> None:
        self._file.close()


def count_line_starts(path: str, start: int, end: int) -> int:
    """How many lines of the file start at a byte offset in ``[start, end)``: what a
    :class:`CaseReader` with that ``byte_range`` numbers (blank and too-long lines included)."""
    with open(path, "rb") as file:
        size = file.seek(0, 2)
        end = min(end, size)
        if start >= end:
            return 0
        count = 1 if start == 0 else 0  # a line starts at 0, and after every \n but the last byte
        file.seek(max(start - 1, 0))
        left = end - 1 - max(start - 1, 0)
        while left > 0:
            block = file.read(min(left, 1 << 20))
            if not block:
                break
            count += block.count(b"\n")
            left -= len(block)
        return count


_STRAY_QUOTE = "引号未闭合 / a stray quote: a quoted cell is not closed on its line"


def _swallowed_rows(row: list[str], width: int) -> bool:
    """Does a cell of this multi-line record hold what looks like other rows of the file (a line
    break and at least as many commas as a row has separators)?"""
    return any(("\n" in cell or "\r" in cell) and cell.count(",") >= max(width - 1, 1) for cell in row)


def _span(start: int, end: int) -> str:
    if end <= start:
        return ""
    return (f"（第 {start + 1}–{end} 行被并入此行，未作为案例读取 / lines {start + 1}-{end} were swallowed "
            f"into this record and not read as cases）")


def zh_part(text: str) -> str:
    """The Chinese half of a ``中文 / English`` message."""
    return text.split(" / ", 1)[0]


def en_part(text: str) -> str:
    """The English half of a ``中文 / English`` message."""
    return text.split(" / ", 1)[-1]


def iter_raw(path: str, fmt: Format | None = None) -> Iterator[RawCase]:
    """The raw records of a case file, streamed (the file closes when iteration ends)."""
    with CaseReader(path, fmt) as reader:
        yield from reader


def iter_cases(path: str, fmt: Format | None = None, names: MethodNames | None = None) -> Iterator[Case]:
    """Parsed cases of a file, streamed; bad rows come back with ``error`` set (``names``:
    :func:`method_names` of the ruleset at hand)."""
    with CaseReader(path, fmt) as reader:
        for raw in reader:
            yield parse_raw(raw, names)


def chunked(items: Iterable[RawCase], size: int, max_chars: int = CHUNK_BYTES) -> Iterator[list[RawCase]]:
    """Lists of up to ``size`` consecutive records, and of about ``max_chars`` characters at most
    (a chunk of long rows is cut short: memory stays bounded)."""
    chunk: list[RawCase] = []
    chars = 0
    for item in items:
        chunk.append(item)
        chars += _raw_chars(item)
        if len(chunk) >= size or chars >= max_chars:
            yield chunk
            chunk = []
            chars = 0
    if chunk:
        yield chunk


def _raw_chars(raw: RawCase) -> int:
    if isinstance(raw.data, str):
        return len(raw.data)
    return sum(len(v) if isinstance(v, str) else sum(map(len, v)) for v in raw.data.values() if v)


# ------------------------------------------------------------------ parsing


MethodNames = Mapping[str, Method]
"""Text -> the method it names (:func:`method_names`)."""


def method_names(wording: RulesetWording | None = None) -> dict[str, Method]:
    """The texts an ``expected_method`` may give for each method: its name (``PLEDGE``, ``pledge``)
    and its labels in ``wording`` (the ruleset's manifest ``wording``; unset, the bundled default),
    Chinese (``告知承诺``) and English; a label two methods share names the first."""
    words = wording if wording is not None else default_ruleset_wording()
    names: dict[str, Method] = {}
    for method in Method:
        label = words.method(method)
        for text in (method.value, method.value.lower(), label.zh.strip(), label.en.strip(), label.en.strip().casefold()):
            names.setdefault(text, method)
    return names


def parse_method(value: Any, names: MethodNames | None = None) -> Method:
    """``PLEDGE``, ``pledge`` or a label of the ruleset's (``names``, :func:`method_names`;
    unset, the bundled default labels: ``告知承诺``) -> ``Method.PLEDGE``; ValueError otherwise."""
    table = names if names is not None else _default_names()
    if type(value) is str and (known := table.get(value)) is not None:
        return known
    if isinstance(value, str):
        text = value.strip()
        if text.upper() in Method.__members__:
            return Method[text.upper()]
        if (known := table.get(text, table.get(text.casefold()))) is not None:
            return known
    raise ValueError(
        f"expected_method: 未知的处理方式 / unknown method {safe_value(value)}; "
        f"expected one of {', '.join(m.value for m in Method)}"
    )


@lru_cache(maxsize=1)
def _default_names() -> dict[str, Method]:
    return method_names()


def parse_raw(raw: RawCase, names: MethodNames | None = None) -> Case:
    """A raw record -> a :class:`Case` (``error`` set when the row is malformed); ``names``: the
    ruleset's :func:`method_names` (unset, the bundled default labels)."""
    if raw.error is not None:
        return Case(raw.line, None, None, None, raw.error)
    if isinstance(raw.data, str):
        return _parse_json(raw.line, raw.data, names)
    return _parse_csv(raw.line, raw.data, names)


def _case_fields(line: int, case_id: Any, expected: Any,
                 names: MethodNames | None) -> tuple[str | None, Method | None, str | None]:
    cid: str | None = None
    if case_id is not None:
        if isinstance(case_id, bool) or not isinstance(case_id, str | int):
            return None, None, "case_id: 应为字符串或整数 / must be a string or an integer"
        cid = str(case_id)
        if len(cid) > MAX_CASE_ID:
            return None, None, f"case_id: 过长 / longer than {MAX_CASE_ID} characters"
    method: Method | None = None
    if expected is not None and expected != "":
        try:
            method = parse_method(expected, names)
        except ValueError as exc:
            return cid, None, str(exc)
    return cid, method, None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


try:  # the optional extra ``fast``: a faster decoder, used where it gives what json gives
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - without the extra
    _fast_loads = None




def floats_in(obj: dict[Any, Any] | list[Any]) -> bool:
    """Whether a decoded object or array holds a float anywhere: orjson reads integers past 64
    bits as floats, so such a text is read again by json (which keeps them integers)."""
    values = obj.values() if type(obj) is dict else obj
    types = set(map(type, values))
    if float in types:
        return True
    if dict in types or list in types:
        for v in values:
            if (type(v) is dict or type(v) is list) and floats_in(v):
                return True
    return False


def _load_json(text: str) -> tuple[Any, str | None, int]:
    """``json.loads`` that never raises: (object, None, 1) or (None, reason, line of the problem).

    Beyond bad syntax: nesting too deep (RecursionError), a number with too many digits
    (ValueError), a lone surrogate escape (``"\\ud800"``, which no UTF-8 output can hold)."""
    if _fast_loads is not None:
        # Where orjson reads a text it reads it as json does, floats aside (see floats_in);
        # what it refuses (NaN, lone surrogates, deep nesting, bad syntax) json reads below,
        # and says what is wrong.
        try:
            fast = _fast_loads(text)
        except Exception:  # noqa: BLE001 - json below
            fast = None
        if type(fast) is dict and not floats_in(fast):
            return fast, None, 1
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"JSON 格式错误 / bad JSON: {exc.msg} (column {exc.colno})", exc.lineno
    except RecursionError:
        return None, "JSON 格式错误 / bad JSON: 嵌套过深 / nested too deeply", 1
    except ValueError as exc:  # e.g. "Exceeds the limit (4300 digits) for integer string conversion"
        if "digits" in str(exc):
            return None, "JSON 格式错误 / bad JSON: 数字位数过多 / a number with too many digits", 1
        return None, f"JSON 格式错误 / bad JSON: {type(exc).__name__}", 1
    except Exception as exc:  # noqa: BLE001 - any other failure of the decoder is this row's problem
        return None, f"JSON 格式错误 / bad JSON: {type(exc).__name__}", 1
    if _SURROGATE_ESCAPE.search(text) and _has_surrogate(obj):
        return None, "JSON 格式错误 / bad JSON: 孤立的代理字符 / a lone surrogate escape (\\ud800-\\udfff)", 1
    return obj, None, 1


def _has_surrogate(obj: Any) -> bool:
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _parse_json(line: int, text: str, names: MethodNames | None) -> Case:
    obj, error, _ = _load_json(text)
    if error is not None:
        return Case(line, None, None, None, error)
    return _case_from_object(line, obj, names)


def _case_from_object(line: int, obj: Any, names: MethodNames | None) -> Case:
    if not isinstance(obj, dict):
        return Case(line, None, None, None, f"应为 JSON 对象 / expected a JSON object, got {type(obj).__name__}")
    if isinstance(obj.get("request"), dict):
        extra = sorted(set(obj) - {"request", "case_id", "expected_method"})
        cid, method, err = _case_fields(line, obj.get("case_id"), obj.get("expected_method"), names)
        if err is None and extra:
            shown = ", ".join(safe_key(k) for k in extra[:5]) + (f" (+{len(extra) - 5})" if len(extra) > 5 else "")
            err = f"未知字段 / unknown keys next to 'request': {shown}"
        if err:
            return Case(line, cid, None, None, err)
        return Case(line, cid, method, obj["request"])
    request = dict(obj)
    cid, method, err = _case_fields(line, request.pop("case_id", None), request.pop("expected_method", None),
                                    names)
    if err:
        return Case(line, cid, None, None, err)
    return Case(line, cid, method, request)


def safe_key(key: str) -> str:
    """A JSON key for an error message: ID numbers masked, long keys cut."""
    text = redact(key)
    return text if len(text) <= 30 else text[:29] + "…"


def _parse_bool(column: str, text: str) -> bool:
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"{column}: 应为 true/false（是/否） / expects true/false, got {safe_value(text)}")


def _parse_csv(line: int, cells: dict[str | None, Any], names: MethodNames | None) -> Case:
    extra = cells.get(None)
    cid_cell = (cells.get("case_id") or "").strip() or None
    if extra:
        return Case(line, cid_cell, None, None, f"多出 {len(extra)} 个单元格 / {len(extra)} cells more than the header has")
    request: dict[str, Any] = {}
    case_id: str | None = None
    expected: str | None = None
    try:
        for column, value in cells.items():
            if column is None or value is None:
                continue
            text = value.strip()
            if text == "":
                continue
            path, kind = CSV_COLUMNS[column]
            if kind == "case":
                if column == "case_id":
                    case_id = text
                else:
                    expected = text
                continue
            target = request
            for key in path[:-1]:
                target = target.setdefault(key, {})
            target[path[-1]] = _parse_bool(column, text) if kind == "bool" else text
    except ValueError as exc:
        return Case(line, case_id or cid_cell, None, None, str(exc))
    cid, method, err = _case_fields(line, case_id, expected, names)
    if err:
        return Case(line, cid, None, None, err)
    return Case(line, cid, method, request)


# ------------------------------------------------------------------ --as-of


def parse_as_of(text: str) -> datetime:
    """``--as-of``: a date means that day 10:00 Asia/Shanghai; a datetime is taken as given
    (naive means Asia/Shanghai). Raises ValueError with a readable message, also for a moment
    outside the range a request may have (``models.EARLIEST_REQUEST`` .. ``LATEST_REQUEST``)."""
    value = text.strip()
    shown = redact(value)
    shown = repr(shown if len(shown) <= 40 else shown[:39] + "…")
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            moment: datetime | None = datetime.combine(date.fromisoformat(value), time(10, 0), tzinfo=SHANGHAI)
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"不是日期或时间 / not a date or datetime: {shown} (use 2021-05-06 or 2021-05-06T14:30)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    else:
        try:
            moment = moment.astimezone(SHANGHAI)
        except OverflowError:  # 9999-12-31T23:00-10:00 is past the year 9999 in Shanghai
            moment = None
    if moment is None or not EARLIEST_REQUEST <= moment <= LATEST_REQUEST:
        raise ValueError(
            f"超出合理范围 / out of range: {shown}; 申请时间应在 / must be between "
            f"{EARLIEST_REQUEST:%Y-%m-%d} and {LATEST_REQUEST:%Y-%m-%d}"
        )
    return moment


def apply_as_of(request: dict[str, Any], as_of: datetime | None) -> dict[str, Any]:
    """The request with ``requested_at`` replaced by ``as_of`` (if given)."""
    if as_of is None:
        return request
    out = dict(request)
    out["requested_at"] = as_of
    return out


def read_request_file(path: str, names: MethodNames | None = None) -> Case:
    """One request for ``decide``: a JSON object (UTF-8, a BOM is fine) in a file or on stdin
    (``-``), of at most :data:`MAX_RECORD_BYTES`. A bad object comes back with ``error`` set
    (``names``: the ruleset's :func:`method_names`, for ``expected_method``)."""
    limit = MAX_RECORD_BYTES
    try:
        if path == "-":
            stream = getattr(sys.stdin, "buffer", None)
            data = stream.read(limit + 1) if stream is not None else sys.stdin.read(limit + 1).encode("utf-8")
        else:
            with open(path, "rb") as file:
                data = file.read(limit + 1)
    except FileNotFoundError:
        raise CaseFileError(f"{path}: 请求文件不存在 / request file not found") from None
    except IsADirectoryError:
        raise CaseFileError(f"{path}: 是目录 / is a directory") from None
    except OSError as exc:
        raise CaseFileError(f"{path}: 无法读取 / cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise CaseFileError(f"{path}: 请求文件过大 / request file larger than {limit // (1 << 20)} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CaseFileError(f"{path}: 不是 UTF-8 文本 / not UTF-8 text") from None
    if not text.strip():
        raise CaseFileError(f"{path}: 文件为空 / empty request file")
    obj, error, line = _load_json(text)
    if error is not None:
        return Case(line, None, None, None, error)
    return _case_from_object(1, obj, names)


__all__ = [
    "CSV_COLUMNS",
    "MAX_RECORD_BYTES",
    "Case",
    "CaseFileError",
    "CaseReader",
    "MethodNames",
    "RawCase",
    "apply_as_of",
    "chunked",
    "count_line_starts",
    "detect_format",
    "iter_cases",
    "iter_raw",
    "method_names",
    "parse_as_of",
    "parse_method",
    "parse_raw",
    "read_request_file",
    "redact",
    "safe_case_id",
    "safe_value",
]
