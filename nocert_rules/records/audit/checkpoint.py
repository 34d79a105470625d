"""The head checkpoint: ``{"hash", "seq"}`` of the last entry, replaced atomically after each
append (``AuditLog(..., head_file=...)``), so that removing entries at the end is detected."""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path

from nocert_rules.fileio import replace_atomically
from nocert_rules.records.audit.entry import GENESIS, AuditLogError, canonical_json, is_hash


def read_head_file(path: str | Path) -> tuple[int, str]:
    """``(seq, hash)`` from a head checkpoint written by ``AuditLog(..., head_file=...)``.

    Raises ``OSError`` when it is missing or unreadable, :class:`AuditLogError` when it is not a
    checkpoint (one JSON object ``{"hash": <64 hex>, "seq": <int >= 0>}``).
    """
    raw = Path(path).read_bytes()
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        obj = None
    if (
        not isinstance(obj, dict)
        or set(obj) != {"hash", "seq"}
        or type(obj["seq"]) is not int
        or obj["seq"] < 0
        or not is_hash(obj["hash"])
        or (obj["seq"] == 0) != (obj["hash"] == GENESIS)
    ):
        raise AuditLogError(
            f'{path}: 不是链头检查点 / not a head checkpoint (needs {{"hash": <64 hex>, "seq": <int>}})'
        )
    return obj["seq"], obj["hash"]


def write_head_file(path: Path, seq: int, digest: str) -> None:
    """Replace the checkpoint atomically: a temporary file, fsynced, then ``os.replace``."""
    data = canonical_json({"hash": digest, "seq": seq}) + b"\n"
    replace_atomically(path, data)
    fsync_dir(path.parent)


def remove_stale_temps(head_file: Path) -> list[Path]:
    """Remove ``.<name>.*.tmp`` files a killed writer left beside the checkpoint."""
    removed = []
    if head_file.parent.is_dir():
        for p in head_file.parent.glob(f".{glob_escape(head_file.name)}.*.tmp"):
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    return removed


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
