"""Byte ranges of a JSONL case file (what a Dask worker reads under ``dry-run --dask``): ranges
that tile the file give every line to exactly one reader, with the file's line numbers, and
``count_line_starts`` numbers them as the reader does."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from nocert_rules.tools.casefile import MAX_RECORD_BYTES, CaseReader, count_line_starts

CASE = '{"case_id": "C%d", "service_item": "370300-XK-0001", "certificate": "ZM-SJ-0001"}'


def awkward_file(path: Path, trailing_newline: bool, long_line: bool) -> None:
    """BOM, blank and whitespace lines, CRLF, not UTF-8, bad JSON, a line longer than the limit."""
    parts = [b"\xef\xbb\xbf" + (CASE % 1).encode() + b"\n"]
    for i in range(2, 400):
        if i % 37 == 0:
            parts.append(b"\n")
        elif i % 41 == 0:
            parts.append(b"   \r\n")
        elif i % 53 == 0:
            parts.append(b"{not json\n")
        elif i == 100 and long_line:
            parts.append(b'{"x": "' + b"a" * (MAX_RECORD_BYTES + 5000) + b'"}\n')  # spans many ranges
        elif i == 200:
            parts.append(b"\xff\xfe bad bytes\n")
        elif i == 300:
            parts.append(b"\xef\xbb\xbf" + (CASE % i).encode() + b"\n")  # a BOM not at the start stays
        else:
            parts.append((CASE % i).encode() + (b"\r\n" if i % 7 == 0 else b"\n"))
    data = b"".join(parts)
    path.write_bytes(data if trailing_newline else data.rstrip(b"\n"))


def read_in_ranges(path: Path, ends: list[int]) -> tuple[list[object], int, int]:
    records: list[object] = []
    starts = [0, *ends[:-1]]
    line = 1
    blank = 0
    for start, end in zip(starts, ends, strict=True):
        count = count_line_starts(str(path), start, end)
        with CaseReader(str(path), "jsonl", byte_range=(start, end), first_line=line) as reader:
            got = list(reader)
            blank += reader.blank_lines
            assert reader.lines in (0, line + count - 1)  # the last line it numbered
        records.extend(got)
        line += count
    return records, line - 1, blank


@pytest.mark.parametrize(("trailing_newline", "long_line"), [(True, False), (False, False), (True, True)])
def test_ranges_that_tile_the_file_read_it_as_one_reader_does(tmp_path: Path, trailing_newline: bool,
                                                              long_line: bool) -> None:
    path = tmp_path / "cases.jsonl"
    awkward_file(path, trailing_newline, long_line)
    size = path.stat().st_size
    with CaseReader(str(path), "jsonl") as whole:
        expected = list(whole)
        total, blank = whole.lines, whole.blank_lines
    assert 390 < total and any(r.error for r in expected) and blank > 5
    assert long_line == any(r.error and "longer" in r.error for r in expected)
    rng = random.Random(14)
    for block in ((size // 50, size // 3, size) if long_line else (1, 97, 4096, size // 3, size)):
        ends = [*range(block, size, block), size]
        assert read_in_ranges(path, ends) == (expected, total, blank), block
    cuts = sorted(rng.sample(range(1, size), 60))  # ranges of every length, cut anywhere
    assert read_in_ranges(path, [*cuts, size]) == (expected, total, blank)
    assert [r.line for r in expected] == sorted({r.line for r in expected})


def test_a_range_is_for_jsonl_files_only(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("case_id\nC1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="JSONL only"):
        CaseReader(str(path), "csv", byte_range=(0, 5))
    assert count_line_starts(str(path), 0, 100) == 2 and count_line_starts(str(path), 8, 100) == 1
    assert count_line_starts(str(path), 100, 200) == 0
