"""Files written whole or not at all (nothing half-written is ever left under the real name), and
JSON-lines files read with the line of each value."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["FORMULA_START", "JsonLineError", "csv_cell", "from_csv_cell", "json_lines", "replace_atomically"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet (Excel, WPS) reads as the start of a formula in a CSV cell (=HYPERLINK(…))."""


def csv_cell(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet reads as a formula: ``'`` before a formula character
    at its start (CSV injection)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def from_csv_cell(text: str) -> str:
    """A cell as :func:`csv_cell` wrote it -> the text (only a ``'`` before a formula character goes)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


class JsonLineError(ValueError):
    """A line of a JSON-lines file that is not JSON; ``str()`` is ``file:line: problem``."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: 不是 JSON / not JSON ({message})")
        self.path = path
        self.line = line


def json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` of each non-blank line of ``path`` (UTF-8 JSON lines); a line that
    is not JSON raises :class:`JsonLineError` naming it."""
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield n, json.loads(line)
            except json.JSONDecodeError as exc:
                raise JsonLineError(path, n, exc.msg) from None


def replace_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``: a temporary ``.NAME.*.tmp`` beside it, fsynced, then ``os.replace``.

    On any failure the temporary file is removed and ``path`` keeps its old content.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
