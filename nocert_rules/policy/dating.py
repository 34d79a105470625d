"""Loading stage 4, date: published list adjustments become dated row versions; dated legal bases are found.

Input: the rows (merged, for a district), the published adjustments and their YAML, the manifest.
Output: the rows with every adjustment applied as a dated version (``apply_adjustments``, 附件3
第九条 in Zibo), and the rows some of whose legal bases count on some days only (repealed, or in
force later: ``legal_basis.dated``), which ``Ruleset.find_row`` narrows day by day.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nocert_rules.policy.certificate_list import ListRow
from nocert_rules.policy.legal_basis import dated
from nocert_rules.policy.manifest import Manifest
from nocert_rules.policy.yaml_source import LocatedYaml


def date_rows(rows: list[ListRow], adjustments: tuple[list[Any], LocatedYaml] | None) -> list[ListRow]:
    """``rows`` with the adjustments applied as dated versions (raises ``RulesetError`` at an adjustment's line)."""
    if not adjustments:
        return rows
    from nocert_rules.policy.list_adjustments import apply_adjustments

    return apply_adjustments(rows, adjustments[0], adjustments[1])


def dated_bases(rows: Iterable[ListRow], manifest: Manifest) -> frozenset[int]:
    """``id(row)`` of the rows some of whose bases count on some days only."""
    return frozenset(id(row) for row in rows if dated(row.bases, row.valid_from or manifest.effective_from))


__all__ = ["date_rows", "dated_bases"]
