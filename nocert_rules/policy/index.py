"""Loading stage 6, index: the list indexed for lookup by (service item, certificate id or name).

Input: the dated rows and the manifest. Output: ``RowLookup``: every version of each row by key
and by certificate name (``versions.RowIndex``), the service items listed, and the rows with
dated legal bases (stage 4). ``Ruleset`` holds it and answers ``find_row`` from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from nocert_rules.policy import versions
from nocert_rules.policy.certificate_list import ListRow
from nocert_rules.policy.dating import dated_bases
from nocert_rules.policy.manifest import Manifest


@dataclass(frozen=True)
class RowLookup:
    """The rows by key and name (all versions), the service items, the rows with dated bases."""

    index: versions.RowIndex
    service_items: frozenset[str]
    dated_bases: frozenset[int]


def index_rows(rows: list[ListRow], manifest: Manifest) -> RowLookup:
    """Build the lookup of ``rows`` (see the module doc)."""
    return RowLookup(
        index=versions.RowIndex(rows),
        service_items=frozenset(row.service_item_code for row in rows),
        dated_bases=dated_bases(rows, manifest),
    )


__all__ = ["RowLookup", "index_rows"]
