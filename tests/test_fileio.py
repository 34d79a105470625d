"""replace_atomically: the old content stays until the new one is complete; no temporary file is left."""

from __future__ import annotations

from pathlib import Path

import pytest

from nocert_rules import fileio


def test_replaces_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_bytes(b"old")
    fileio.replace_atomically(target, b"new content")
    assert target.read_bytes() == b"new content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_a_failed_write_keeps_the_old_content_and_removes_the_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.json"
    target.write_bytes(b"old")

    def fail(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(fileio.os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        fileio.replace_atomically(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_json_lines_give_each_value_with_its_line_and_name_a_bad_line(tmp_path: Path) -> None:
    from nocert_rules.fileio import JsonLineError, json_lines

    path = tmp_path / "r.jsonl"
    path.write_text('{"a": 1}\n\n  \n[2]\n{"b":\n', encoding="utf-8")
    values = []
    with pytest.raises(JsonLineError) as info:
        for n, value in json_lines(path):
            values.append((n, value))
    assert values == [(1, {"a": 1}), (4, [2])]
    assert info.value.line == 5 and str(info.value).startswith(f"{path}:5: ")
