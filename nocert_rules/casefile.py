"""Streaming readers of case files (JSONL or CSV) for ``dry-run`` and ``diff --cases``.

A case is one decision request plus, optionally, a ``case_id`` and the ``expected_method``.
Files are read one record at a time, never whole: a case file may hold millions of rows.

Reading is split in two steps so that ``dry-run --jobs`` can parse in worker processes:

* :func:`iter_raw` yields :class:`RawCase` tuples (line number + undecoded record), cheap and
  picklable;
* :func:`parse_raw` turns one into a :class:`Case`: the request dict, or the row's error.

A bad row (bad JSON, a wrong type, an unknown column value) never stops the reading: it comes
back as a ``Case`` with ``error`` set, naming the line. Only a file that cannot be read at all
(not found, not UTF-8 CSV, a CSV header with unknown columns) raises :class:`CaseFileError`.

Messages never echo a value that might be an ID number (see :func:`safe_value`).

JSONL: one JSON object per line, either flat (the request's fields plus ``case_id`` and
``expected_method``) or wrapped (``{"case_id": .., "expected_method": .., "request": {..}}``).
Blank lines are skipped.

CSV (UTF-8, optional BOM, header row): see :data:`CSV_COLUMNS`; an empty cell means "not given"
(the request's default applies).
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple

from .enums import METHOD_LABELS_ZH, Method
from .errors import NocertError
from .models import SHANGHAI
from .privacy import mask_id

Format = Literal["jsonl", "csv"]


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

_ID_LIKE = re.compile(r"^(\d{17}[\dXx]|\d{15}|[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10})$")


def safe_value(value: Any) -> str:
    """A value for an error message: short values as they are, anything else masked."""
    text = str(value)
    if len(text) <= 8 and not _ID_LIKE.match(text):
        return repr(text)
    return repr(mask_id(text))


_LONG_TOKEN = re.compile(r"[0-9A-Za-z]{12,}")


def redact(text: str) -> str:
    """Mask every long token with six or more digits in a message (an ID number never leaks)."""

    def mask(m: re.Match[str]) -> str:
        token = m.group()
        return mask_id(token) if sum(c.isdigit() for c in token) >= 6 else token

    return _LONG_TOKEN.sub(mask, text)


_ID_INSIDE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15}|[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10})"
                        r"(?![0-9A-Za-z])")


def safe_case_id(case_id: str | None) -> str | None:
    """A case id for output: any ID number or credit code inside it is masked (never print one)."""
    if case_id is None:
        return None
    return _ID_INSIDE.sub(lambda m: mask_id(m.group()), case_id)


class RawCase(NamedTuple):
    """One record as read: its line number and its text (JSONL) or cells (CSV)."""

    line: int
    data: str | dict[str | None, Any]


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
    """Iterates the raw records of a case file; ``bytes_read`` feeds a progress bar.

    ``path`` ``"-"`` reads standard input. Use as a context manager or call ``close()``.
    """

    def __init__(self, path: str, fmt: Format | None = None) -> None:
        self.path = path
        self.bytes_read = 0
        self.total_bytes: int | None = None
        if path == "-":
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
        self._first: bytes | None = None
        if fmt is None and Path(path).suffix.lower() not in (".jsonl", ".ndjson", ".json", ".csv"):
            self._first = self._file.readline()  # to sniff the format; replayed by _lines
        self.format: Format = fmt or detect_format(path, self._first or b"")

    def __enter__(self) -> CaseReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns:
            self._file.close()

    def __iter__(self) -> Iterator[RawCase]:
        return self._jsonl() if self.format == "jsonl" else self._csv()

    def _lines(self) -> Iterator[bytes]:
        if self._first is not None:
            first, self._first = self._first, None
            if first:
                self.bytes_read += len(first)
                yield first
        for raw in self._file:
            self.bytes_read += len(raw)
            yield raw

    def _jsonl(self) -> Iterator[RawCase]:
        for number, raw in enumerate(self._lines(), start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield RawCase(number, "\0not-utf8")
                continue
            yield RawCase(number, text)

    def _csv(self) -> Iterator[RawCase]:
        def decoded() -> Iterator[str]:
            for number, raw in enumerate(self._lines(), start=1):
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise CaseFileError(
                        f"{self.path}:{number}: 不是 UTF-8 编码，请另存为 UTF-8 CSV / "
                        "not UTF-8: save the CSV as UTF-8"
                    ) from None

        reader = csv.DictReader(decoded())
        header = reader.fieldnames
        if header is None:
            return
        names = [h.strip() for h in header]
        reader.fieldnames = names
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
        for cells in reader:
            if all((v or "").strip() == "" for k, v in cells.items() if k is not None) and None not in cells:
                continue
            yield RawCase(reader.line_num, dict(cells))


def iter_raw(path: str, fmt: Format | None = None) -> Iterator[RawCase]:
    """The raw records of a case file, streamed (the file closes when iteration ends)."""
    with CaseReader(path, fmt) as reader:
        yield from reader


def iter_cases(path: str, fmt: Format | None = None) -> Iterator[Case]:
    """Parsed cases of a file, streamed; bad rows come back with ``error`` set."""
    with CaseReader(path, fmt) as reader:
        for raw in reader:
            yield parse_raw(raw)


def chunked(items: Iterable[RawCase], size: int) -> Iterator[list[RawCase]]:
    """Lists of up to ``size`` consecutive records."""
    chunk: list[RawCase] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# ------------------------------------------------------------------ parsing


def parse_method(value: Any) -> Method:
    """``PLEDGE``, ``pledge`` or ``告知承诺`` -> ``Method.PLEDGE``; ValueError otherwise."""
    if isinstance(value, str):
        text = value.strip()
        if text.upper() in Method.__members__:
            return Method[text.upper()]
        for method, label in METHOD_LABELS_ZH.items():
            if text == label:
                return method
    raise ValueError(
        f"expected_method: 未知的处理方式 / unknown method {safe_value(value)}; "
        f"expected one of {', '.join(m.value for m in Method)}"
    )


def parse_raw(raw: RawCase) -> Case:
    """A raw record -> a :class:`Case` (``error`` set when the row is malformed)."""
    if isinstance(raw.data, str):
        return _parse_json(raw.line, raw.data)
    return _parse_csv(raw.line, raw.data)


def _case_fields(line: int, case_id: Any, expected: Any) -> tuple[str | None, Method | None, str | None]:
    cid: str | None = None
    if case_id is not None:
        if isinstance(case_id, bool) or not isinstance(case_id, str | int):
            return None, None, "case_id: 应为字符串或整数 / must be a string or an integer"
        cid = str(case_id)
    method: Method | None = None
    if expected is not None and expected != "":
        try:
            method = parse_method(expected)
        except ValueError as exc:
            return cid, None, str(exc)
    return cid, method, None


def _parse_json(line: int, text: str) -> Case:
    if text == "\0not-utf8":
        return Case(line, None, None, None, "不是 UTF-8 文本 / not UTF-8 text")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return Case(line, None, None, None, f"JSON 格式错误 / bad JSON: {exc.msg} (column {exc.colno})")
    if not isinstance(obj, dict):
        return Case(line, None, None, None, f"应为 JSON 对象 / expected a JSON object, got {type(obj).__name__}")
    if isinstance(obj.get("request"), dict):
        extra = sorted(set(obj) - {"request", "case_id", "expected_method"})
        cid, method, err = _case_fields(line, obj.get("case_id"), obj.get("expected_method"))
        if err is None and extra:
            err = f"未知字段 / unknown keys next to 'request': {', '.join(extra)}"
        if err:
            return Case(line, cid, None, None, err)
        return Case(line, cid, method, obj["request"])
    request = dict(obj)
    cid, method, err = _case_fields(line, request.pop("case_id", None), request.pop("expected_method", None))
    if err:
        return Case(line, cid, None, None, err)
    return Case(line, cid, method, request)


def _parse_bool(column: str, text: str) -> bool:
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"{column}: 应为 true/false（是/否） / expects true/false, got {safe_value(text)}")


def _parse_csv(line: int, cells: dict[str | None, Any]) -> Case:
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
    cid, method, err = _case_fields(line, case_id, expected)
    if err:
        return Case(line, cid, None, None, err)
    return Case(line, cid, method, request)


# ------------------------------------------------------------------ --as-of


def parse_as_of(text: str) -> datetime:
    """``--as-of``: a date means that day 10:00 Asia/Shanghai; a datetime is taken as given
    (naive means Asia/Shanghai). Raises ValueError with a readable message."""
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return datetime.combine(date.fromisoformat(value), time(10, 0), tzinfo=SHANGHAI)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"不是日期或时间 / not a date or datetime: {value!r} (use 2021-05-06 or 2021-05-06T14:30)"
        ) from None
    return moment.replace(tzinfo=SHANGHAI) if moment.tzinfo is None else moment.astimezone(SHANGHAI)


def apply_as_of(request: dict[str, Any], as_of: datetime | None) -> dict[str, Any]:
    """The request with ``requested_at`` replaced by ``as_of`` (if given)."""
    if as_of is None:
        return request
    out = dict(request)
    out["requested_at"] = as_of
    return out


def read_request_file(path: str) -> Case:
    """One request for ``decide``: a JSON object in a file or on stdin (``-``)."""
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CaseFileError(f"{path}: 请求文件不存在 / request file not found") from None
    except IsADirectoryError:
        raise CaseFileError(f"{path}: 是目录 / is a directory") from None
    except UnicodeDecodeError:
        raise CaseFileError(f"{path}: 不是 UTF-8 文本 / not UTF-8 text") from None
    if not text.strip():
        raise CaseFileError(f"{path}: 文件为空 / empty request file")
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return Case(exc.lineno, None, None, None, f"JSON 格式错误 / bad JSON: {exc.msg} (column {exc.colno})")
    return _parse_json(1, text)


__all__ = [
    "CSV_COLUMNS",
    "Case",
    "CaseFileError",
    "CaseReader",
    "RawCase",
    "apply_as_of",
    "chunked",
    "detect_format",
    "iter_cases",
    "iter_raw",
    "parse_as_of",
    "parse_method",
    "parse_raw",
    "read_request_file",
    "redact",
    "safe_case_id",
    "safe_value",
]
