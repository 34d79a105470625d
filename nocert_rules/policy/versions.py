"""Dated versions of list rows and of their statutory limits (the list in force on a day).

The list is adjusted continuously (附件3 第五条: 实时调整); a counter must decide with the list
in force on the day of the request. A row, and each of its ``verification_limit`` entries, may
carry ``valid_from`` / ``valid_until`` (both inclusive, either open). Several rows may share a
(service item, certificate) key as long as their windows do not overlap; ``RowIndex.find``
returns the version in force on a given day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Protocol, TypeVar


class Dated(Protocol):
    @property
    def valid_from(self) -> date | None: ...

    @property
    def valid_until(self) -> date | None: ...


class Keyed(Dated, Protocol):
    @property
    def key(self) -> tuple[str, str]: ...

    @property
    def service_item_code(self) -> str: ...

    @property
    def certificate_name(self) -> str: ...


D = TypeVar("D", bound=Dated)
R = TypeVar("R", bound=Keyed)


def in_force(item: Dated, day: date) -> bool:
    """Whether ``item``'s window holds ``day`` (open ends hold every day)."""
    return (item.valid_from is None or item.valid_from <= day) and (
        item.valid_until is None or day <= item.valid_until
    )


def overlap(a: Dated, b: Dated) -> bool:
    """Whether two windows share a day."""
    a_from, b_from = a.valid_from or date.min, b.valid_from or date.min
    a_until, b_until = a.valid_until or date.max, b.valid_until or date.max
    return a_from <= b_until and b_from <= a_until


def window_text(item: Dated) -> str:
    """``2021-09-01..`` / ``..2021-08-31`` / ``2021-09-01..2022-01-31`` / ``always``."""
    if item.valid_from is None and item.valid_until is None:
        return "always"
    return f"{item.valid_from or ''}..{item.valid_until or ''}"


def first_overlap(items: Sequence[D]) -> tuple[int, int] | None:
    """The indexes (earlier, later) of the first two items whose windows overlap."""
    for j, later in enumerate(items):
        for i in range(j):
            if overlap(items[i], later):
                return i, j
    return None


def at(items: Iterable[D], day: date) -> D | None:
    """The item in force on ``day`` (windows do not overlap, so at most one)."""
    for item in items:
        if in_force(item, day):
            return item
    return None


def latest(items: Sequence[D]) -> D:
    """The version that starts last (an open start counts as earliest)."""
    return max(items, key=lambda item: item.valid_from or date.min)


class RowIndex:
    """Rows by (service item, certificate id) and by (service item, certificate name), all versions."""

    def __init__(self, rows: Iterable[R]) -> None:
        self.by_id: dict[tuple[str, str], list[R]] = {}
        self.by_name: dict[tuple[str, str], list[R]] = {}
        for row in rows:
            self.by_id.setdefault(row.key, []).append(row)
            self.by_name.setdefault((row.service_item_code, row.certificate_name), []).append(row)
        self.versioned = any(len(v) > 1 or _dated(v[0]) for v in self.by_id.values())

    def find(self, service_item: str, certificate: str, day: date | None = None) -> R | None:
        """The version in force on ``day``; without a day, the latest version."""
        versions = self.by_id.get((service_item, certificate)) or self.by_name.get((service_item, certificate))
        if not versions:
            return None
        if day is None:
            return versions[0] if len(versions) == 1 else latest(versions)
        if len(versions) == 1 and not self.versioned:
            return versions[0]
        return at(versions, day)

    def versions(self, service_item: str, certificate: str) -> list[R]:
        return list(self.by_id.get((service_item, certificate)) or self.by_name.get((service_item, certificate)) or [])


def _dated(item: Dated) -> bool:
    return item.valid_from is not None or item.valid_until is not None


def check_window(valid_from: date | None, valid_until: date | None) -> None:
    """Raise ValueError when the window ends before it starts."""
    if valid_from is not None and valid_until is not None and valid_until < valid_from:
        raise ValueError(f"valid_until {valid_until} is before valid_from {valid_from} / 失效日期早于生效日期")


__all__ = [
    "RowIndex",
    "at",
    "check_window",
    "first_overlap",
    "in_force",
    "latest",
    "overlap",
    "window_text",
]
