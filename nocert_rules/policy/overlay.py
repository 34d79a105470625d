"""District overlays: a ruleset that ``extends`` another (市、区县两级《证明事项实施清单》, 三(一)1).

A district's ``manifest.yaml`` says ``extends: ../zibo``; the district inherits the city's
manifest, list, rules and clauses and changes them::

    manifest.yaml       extends, name, title, version, jurisdiction (and any top-level key it
                        replaces); ``sources`` are added to the city's (by id)
    certificates.yaml   (optional) rows:      rows added or overriding a city row with the same
                                              (service item, certificate); each has change_basis
                        withdrawn: [{service_item_code, certificate_id, basis}]
    rules.yaml          (optional) rules: a rule whose id is the city's replaces it; others are added
    clauses.yaml        (optional) clauses: likewise by id

Every change cites its basis (``change_basis`` / ``basis``). ``Ruleset.source_of(row)`` names the
level whose row it is (the decision's ``row_source``); ``Ruleset.parent`` is the city's ruleset
and ``Ruleset.overlay_changes`` lists the changes (lint, diff). The district's sha256 covers the
city's files too (they are hashed under ``<extends>/<name>``).

This module holds the district files' schemas and the lookups of a row's or rule's level; the
merge itself is loading stage 3 (``policy/merge.py``), run by ``policy/loader.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from nocert_rules.policy.certificate_list import ListRow
from nocert_rules.policy.rules import Clause, PolicyRule
from nocert_rules.policy.yaml_source import LocatedYaml

if TYPE_CHECKING:
    from nocert_rules.policy.loaded import Ruleset

MAX_DEPTH = 4
"""City -> district -> ...: more levels than this is a loop or a mistake."""

_STRICT = ConfigDict(extra="forbid", frozen=True)


class Withdrawal(BaseModel):
    """A city row the district does not use, with the basis of the change."""

    model_config = _STRICT
    service_item_code: str = Field(min_length=1)
    certificate_id: str = Field(min_length=1)
    basis: str = Field(min_length=1, description="调整依据 / the basis of the withdrawal")


@dataclass(frozen=True)
class OverlayChange:
    """One change a district makes to the list it inherits (for lint and diff)."""

    kind: Literal["add", "override", "withdraw", "rule", "clause"]
    key: str
    basis: str
    file: str
    line: int | None


class DistrictRow(ListRow):
    """A row the district adds or overrides, with the basis of the change."""

    change_basis: str = Field(min_length=1, description="调整依据 / the basis of the district's change")


class DistrictList(BaseModel):
    model_config = _STRICT
    rows: list[DistrictRow] = Field(default_factory=list)
    withdrawn: list[Withdrawal] = Field(default_factory=list)


class DistrictRules(BaseModel):
    model_config = _STRICT
    rules: list[PolicyRule] = Field(default_factory=list)


class DistrictClauses(BaseModel):
    model_config = _STRICT
    clauses: list[Clause] = Field(default_factory=list)


def extends_of(manifest_doc: LocatedYaml) -> str | None:
    """The manifest's ``extends`` (None when it extends nothing)."""
    data = manifest_doc.data
    value = data.get("extends") if isinstance(data, dict) else None
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise manifest_doc.error(("extends",), "extends must name the parent ruleset's folder / extends 须为上级规则集目录")
    return value.strip()


def origin_of_row(rs: Ruleset, row: ListRow) -> tuple[Ruleset, int]:
    """The level whose certificates file holds ``row``, and the row's index in that file's ``rows``."""
    level = rs
    while level.parent is not None and level.source_of(row) != level.name:
        level = level.parent
    own = level.own_rows if level.own_rows is not None else level.rows
    # A version made from a published adjustment is in no rows file: the index past the end
    # (lines then fall back to the file's ``rows:``).
    return level, next((i for i, r in enumerate(own) if r is row), len(own))


def origin_of_rule(rs: Ruleset, rule: PolicyRule) -> tuple[Ruleset, int]:
    """The level whose rules file holds ``rule``, and its index there."""
    level = rs
    while level.parent is not None and not any(r is rule for r in level.own_rules or ()):
        level = level.parent
    own = level.own_rules if level.parent is not None and level.own_rules is not None else level.rules
    return level, next((i for i, r in enumerate(own) if r is rule), len(own))


__all__ = [
    "MAX_DEPTH",
    "DistrictClauses",
    "DistrictList",
    "DistrictRow",
    "DistrictRules",
    "OverlayChange",
    "Withdrawal",
    "extends_of",
    "origin_of_row",
    "origin_of_rule",
]
