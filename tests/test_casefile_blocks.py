"""JSONL read in blocks (``CaseReader.chunks``, ``iter(CaseReader)``) gives exactly what the
line-by-line reader it replaced gave: the same records with the same line numbers, the same
``lines``/``blank_lines``/``bytes_read``, the same chunks as :func:`chunked` cuts them, for whole
files, byte ranges (a Dask worker's block), sniffed formats and standard input.

The reference below is the former reader (``CaseReader._lines_lf`` + ``_jsonl`` + the
``readline`` of ``_LineWindow``), kept here only as the oracle. Hypothesis writes files of every
awkward kind of line (BOM, blank and white-space lines, ``\\r\\n``, a lone ``\\r``, other line
separators inside strings, not UTF-8, lines around and far past the limit, a last line without
its end) and reads them with small random blocks, so that lines straddle block boundaries."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nocert_rules.tools import casefile
from nocert_rules.tools.casefile import CaseReader, RawCase, chunked, count_line_starts

TOO_LONG = casefile._TOO_LONG
NOT_UTF8 = "不是 UTF-8 文本 / not UTF-8 text"


# ---------------------------------------------------------------- the former reader (oracle)


class OldWindow:
    """The former ``_LineWindow``: lines that start in ``[start, end)``, by ``readline``."""

    def __init__(self, file: IO[bytes], start: int, end: int) -> None:
        self._file = file
        self._end = end
        file.seek(max(start - 1, 0))
        if start > 0:
            while True:
                piece = file.readline(1 << 16)
                if not piece or piece.endswith(b"\n"):
                    break
        self._at_line_start = True

    def readline(self, size: int = -1) -> bytes:
        if self._at_line_start and self._file.tell() >= self._end:
            return b""
        data = self._file.readline(size)
        self._at_line_start = data.endswith(b"\n")
        return data


def old_read(data: bytes, limit: int, *, sniff: bool = False, byte_range: tuple[int, int] | None = None,
             first_line: int = 1) -> tuple[list[RawCase], int, int, int]:
    """Records, ``lines``, ``blank_lines``, ``bytes_read`` as the former reader gave them."""
    file: Any = io.BytesIO(data)
    if byte_range is not None:
        file = OldWindow(file, *byte_range)
    bytes_read = 0
    pending = b""
    if sniff:
        pending = file.readline(limit)
        bytes_read += len(pending)

    def lines_lf() -> Iterator[bytes | None]:
        nonlocal bytes_read
        buf = pending
        while True:
            if not buf.endswith(b"\n") and len(buf) <= limit:
                more = file.readline(limit + 1 - len(buf))
                bytes_read += len(more)
                buf += more
            if not buf:
                return
            if len(buf) > limit and not buf.endswith(b"\n"):
                while True:
                    piece = file.readline(1 << 16)
                    bytes_read += len(piece)
                    if not piece or piece.endswith(b"\n"):
                        break
                yield None
            else:
                yield buf
            buf = b""

    records: list[RawCase] = []
    lines = blank = 0
    for number, raw in enumerate(lines_lf(), start=first_line):
        lines = number
        if raw is None:
            records.append(RawCase(number, "", TOO_LONG))
            continue
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            blank += 1
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            records.append(RawCase(number, "", NOT_UTF8))
            continue
        records.append(RawCase(number, text))
    return records, lines, blank, bytes_read


# ---------------------------------------------------------------- generated files


def json_line(filler: int, wide: bool) -> bytes:
    name = "张三丰" if wide else "abc"
    return json.dumps({"case_id": "C1", "name": name, "x": "a" * filler}, ensure_ascii=False).encode()


LINE = st.one_of(
    st.builds(json_line, st.integers(0, 300), st.booleans()),  # plain records, around the limit
    st.sampled_from([
        b"", b" ", b"   ", b"\t", b" \r", b"\x0b", b"\x0c \t",  # blank: skipped and counted
        b'  {"a": 1}', b'\t{"a": 1}',  # white space first, then a record
        b'{"a": "x\ry"}', b"\r", b'{"a": 1}\r\r',  # a lone \r stays inside the line
        '{"a": "\u2028\u2029\x85"}'.encode(), b'{"a": "\x1c\x1d\x1e"}',  # other separators
        b"\xff\xfe bad bytes", b'{"a": "\xe5\xbc"}', b"\xc3",  # not UTF-8
        b'\xef\xbb\xbf{"a": 1}', b"\xef\xbb\xbf", b"\xef\xbb\xbf ",  # a BOM (stripped on line 1 only)
        b"{not json", b"\x00\x01",
    ]),
    st.builds(lambda n: b'{"x": "' + b"z" * n + b'"}', st.integers(0, 2000)),  # far past the limit
)


@st.composite
def jsonl_files(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.tuples(LINE, st.sampled_from([b"\n", b"\r\n"])), max_size=40))
    data = b"".join(text + end for text, end in lines)
    if lines and draw(st.booleans()):  # the last line without its end of line
        data = data[: -len(lines[-1][1])]
    return data


def tiling(data: bytes, cuts: list[int]) -> list[tuple[int, int]]:
    ends = sorted({c % (len(data) + 1) for c in cuts} | {len(data)})
    return list(zip([0, *ends[:-1]], ends, strict=True))


def new_read(reader: CaseReader, size: int | None, max_chars: int) -> tuple[list[Any], int, int, int]:
    got: list[Any] = list(reader) if size is None else list(reader.chunks(size, max_chars))
    return got, reader.lines, reader.blank_lines, reader.bytes_read


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(data=jsonl_files(), limit=st.integers(8, 400), block=st.integers(1, 700),
       size=st.none() | st.integers(1, 40), max_chars=st.integers(0, 3000),
       cuts=st.lists(st.integers(0, 1 << 30), max_size=6), sniff=st.booleans())
def test_blocks_read_as_the_line_by_line_reader(tmp_path: Path, data: bytes, limit: int, block: int,
                                                size: int | None, max_chars: int, cuts: list[int],
                                                sniff: bool) -> None:
    path = tmp_path / ("cases.txt" if sniff else "cases.jsonl")
    path.write_bytes(data)
    with mock.patch.object(casefile, "MAX_RECORD_BYTES", limit), \
            mock.patch.object(casefile, "_BLOCK_BYTES", block):
        want, lines, blank, read = old_read(data, limit, sniff=sniff)
        with CaseReader(str(path)) as reader:
            if sniff and reader.format != "jsonl":  # line 1 does not look like JSON: read as CSV
                return
            expected = want if size is None else list(chunked(want, size, max_chars))
            assert new_read(reader, size, max_chars) == (expected, lines, blank, read)
        assert read == len(data)
        if sniff:
            return
        line = 1  # ranges that tile the file, numbered as count_line_starts numbers them
        for start, end in tiling(data, cuts):
            want, lines, blank, read = old_read(data, limit, byte_range=(start, end), first_line=line)
            with CaseReader(str(path), "jsonl", byte_range=(start, end), first_line=line) as reader:
                expected = want if size is None else list(chunked(want, size, max_chars))
                assert new_read(reader, size, max_chars) == (expected, lines, blank, read), (start, end)
            line += count_line_starts(str(path), start, end)


@SETTINGS
@given(data=jsonl_files(), limit=st.integers(8, 400), block=st.integers(1, 700), size=st.integers(1, 12))
def test_standard_input_reads_as_the_line_by_line_reader(data: bytes, limit: int, block: int, size: int) -> None:
    stdin = mock.Mock(buffer=io.BytesIO(data))
    with mock.patch.object(casefile, "MAX_RECORD_BYTES", limit), \
            mock.patch.object(casefile, "_BLOCK_BYTES", block), mock.patch.object(sys, "stdin", stdin):
        want, lines, blank, read = old_read(data, limit, sniff=True)
        with CaseReader("-") as reader:
            if reader.format != "jsonl":
                return
            got = new_read(reader, size, 1 << 20)
        assert got == (list(chunked(want, size)), lines, blank, read)


def test_a_plain_file_read_in_blocks_keeps_every_line_and_number(tmp_path: Path) -> None:
    """Thousands of lines across many blocks, with a few awkward ones among them."""
    rows = [json_line(i % 50, i % 3 == 0) + (b"\r\n" if i % 5 == 0 else b"\n") for i in range(5000)]
    rows[0] = b"\xef\xbb\xbf" + rows[0]
    rows[1234] = b"   \n"
    rows[2345] = b"\xff oops\n"
    data = b"".join(rows)
    path = tmp_path / "cases.jsonl"
    path.write_bytes(data)
    with mock.patch.object(casefile, "_BLOCK_BYTES", 4096):
        with CaseReader(str(path)) as reader:
            chunks = list(reader.chunks(1000))
            counts = reader.line_counts(sum(map(len, chunks)))
        with CaseReader(str(path)) as reader:  # closed for their characters, over many blocks
            short = list(reader.chunks(1000, max_chars=10_000))
    records = [r for c in chunks for r in c]
    assert [len(c) for c in chunks] == [1000, 1000, 1000, 1000, 999]
    assert [r.line for r in records] == [n for n in range(1, 5001) if n != 1235]
    assert records[0].data == rows[0][3:].decode() and records[1].data == rows[1].decode()
    assert records[2344] == RawCase(2346, "", NOT_UTF8)
    assert all(r.data == rows[r.line - 1].decode() for r in records[1:] if r.error is None)
    assert counts == {"total": 5000, "header": 0, "cases": 4999, "blank": 1, "continued": 0, "swallowed": 0}
    assert list(chunked(records, 1000)) == chunks
    assert list(chunked(records, 1000, max_chars=10_000)) == short and 20 < len(short) < 100
