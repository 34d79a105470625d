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
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nocert_rules.errors import RulesetError
from nocert_rules.policy import conditions, versions
from nocert_rules.policy.certificate_list import ListRow
from nocert_rules.policy.rules import Clause, PolicyRule
from nocert_rules.policy.yaml_source import LocatedYaml, load_located_yaml, validate_located

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


def load_overlay(
    directory: Path, manifest_path: Path, manifest_doc: LocatedYaml, raw: bytes, chain: tuple[Path, ...] = ()
) -> Ruleset:
    """Load the district at ``directory`` over the ruleset it extends (see the module doc)."""
    from nocert_rules.policy.loaded import Ruleset
    from nocert_rules.policy.loader import _hash
    from nocert_rules.policy.manifest import Manifest

    extends = extends_of(manifest_doc)
    assert extends is not None
    here = directory.resolve()
    parent_dir = (directory / extends).resolve()
    if parent_dir in (*chain, here) or len(chain) >= MAX_DEPTH:
        raise manifest_doc.error(("extends",), f"extends loops or is too deep: {extends} / 上级规则集循环引用或层级过多")
    if not (parent_dir / "manifest.yaml").is_file():
        raise manifest_doc.error(("extends",), f"no ruleset at {extends} / 上级规则集不存在")
    try:
        parent = _load_parent(parent_dir, (*chain, here))
    except RulesetError as exc:
        problem = f"{exc.file}:{exc.line}: {exc.problem}" if exc.line else f"{exc.file}: {exc.problem}"
        raise manifest_doc.error(("extends",), f"the parent ruleset {extends} does not load: {problem}") from None

    # ------------------------------------------------------------ manifest
    own = dict(manifest_doc.data)
    merged: dict[str, Any] = parent.manifest.model_dump(mode="json", exclude_none=True)
    merged.pop("extends", None)
    for key, value in own.items():
        if key == "sources" and isinstance(value, list):
            ids = {s.get("id") for s in value if isinstance(s, dict)}
            merged["sources"] = [s for s in merged.get("sources", []) if s.get("id") not in ids] + value
        else:
            merged[key] = value
    manifest: Manifest = validate_located(Manifest, LocatedYaml(manifest_doc.file, merged, manifest_doc.lines))

    files: dict[str, bytes] = {manifest_path.name: raw}
    for name, data in parent.files.items():
        files[f"{extends}/{name}"] = data

    def read(name: str) -> LocatedYaml | None:
        file = directory / name
        if not file.is_file():
            return None
        doc = load_located_yaml(file, name)
        files[name] = file.read_bytes()
        return doc

    changes: list[OverlayChange] = []
    names = manifest.files

    # ------------------------------------------------------------ clauses (by id)
    clauses: dict[str, Clause] = dict(parent.clauses)
    clause_doc = read(names.clauses)
    if clause_doc is not None:
        sources = {s.id for s in manifest.sources}
        for i, clause in enumerate(validate_located(DistrictClauses, clause_doc).clauses):
            if clause.source not in sources:
                raise clause_doc.error(("clauses", i, "source"), f"unknown source {clause.source!r}")
            clauses[clause.id] = clause
            changes.append(OverlayChange("clause", clause.id, "", names.clauses, clause_doc.line_of(("clauses", i))))

    def cited(doc: LocatedYaml, path: tuple[str | int, ...], clause_id: str) -> None:
        if clause_id not in clauses:
            raise doc.error(path, f"cites unknown clause {clause_id!r} (not in the clauses of this or the parent ruleset)")

    # ------------------------------------------------------------ rules (by id)
    rules: list[PolicyRule] = list(parent.rules)
    rule_doc = read(names.rules)
    if rule_doc is not None:
        position = {rule.id: i for i, rule in enumerate(rules)}
        for i, rule in enumerate(validate_located(DistrictRules, rule_doc).rules):
            cited(rule_doc, ("rules", i, "clause"), rule.clause)
            try:
                conditions.validate(rule.when)
            except conditions.ConditionError as exc:
                raise rule_doc.error(("rules", i, "when", *exc.path), exc.problem) from None
            if rule.id in position:
                rules[position[rule.id]] = rule
            else:
                position[rule.id] = len(rules)
                rules.append(rule)
            changes.append(OverlayChange("rule", rule.id, rule.note or "", names.rules, rule_doc.line_of(("rules", i))))

    # ------------------------------------------------------------ the list
    cert_doc = read(names.certificates)
    district_rows: list[ListRow] = []
    withdrawn: list[Withdrawal] = []
    if cert_doc is not None:
        district = validate_located(DistrictList, cert_doc)
        district_rows, withdrawn = list(district.rows), list(district.withdrawn)
    parent_keys = {row.key for row in parent.rows}
    gone: set[tuple[str, str]] = set()
    for i, w in enumerate(withdrawn):
        key = (w.service_item_code, w.certificate_id)
        assert cert_doc is not None
        if key not in parent_keys:
            raise cert_doc.error(("withdrawn", i), f"withdraws {key[0]} / {key[1]}, which the parent list does not have")
        gone.add(key)
        changes.append(OverlayChange("withdraw", f"{key[0]} / {key[1]}", w.basis, names.certificates,
                                     cert_doc.line_of(("withdrawn", i))))
    replaced = {row.key for row in district_rows}
    known_risks = manifest.pledge_policy.risk_categories
    for i, row in enumerate(district_rows):
        assert cert_doc is not None
        if row.key in gone:
            raise cert_doc.error(("rows", i), "a row both withdrawn and overridden / 同一清单行既撤回又变更")
        for j, risk in enumerate(row.risk_categories):
            if risk not in known_risks:
                raise cert_doc.error(("rows", i, "risk_categories", j), f"unknown risk category {risk!r}")
        for j in range(i):
            other = district_rows[j]
            if other.key == row.key and versions.overlap(other, row):
                raise cert_doc.error(
                    ("rows", i),
                    f"duplicate row for service item {row.service_item_code} and certificate {row.certificate_id} "
                    f"(first at line {cert_doc.line_of(('rows', j))}): versions {other.version} and {row.version} overlap",
                )
        kind: Literal["add", "override"] = "override" if row.key in parent_keys else "add"
        changes.append(OverlayChange(kind, f"{row.service_item_code} / {row.certificate_id}",
                                     row.change_basis, names.certificates, cert_doc.line_of(("rows", i))))

    rows: list[ListRow] = []
    placed: set[tuple[str, str]] = set()
    for row in parent.rows:
        if row.key in gone:
            continue
        if row.key in replaced:
            if row.key not in placed:  # the district's versions take the city's place
                rows.extend(r for r in district_rows if r.key == row.key)
                placed.add(row.key)
            continue
        rows.append(row)
    rows.extend(r for r in district_rows if r.key not in parent_keys)
    # The district's published adjustments, as dated versions (policy/list_adjustments.py).
    from nocert_rules.policy.list_adjustments import (
        ADJUSTMENTS_NAME,
        AdjustmentFile,
        apply_adjustments,
    )

    adjustments = []
    adj_doc = read(names.adjustments or ADJUSTMENTS_NAME)
    if adj_doc is not None:
        adjustments = list(validate_located(AdjustmentFile, adj_doc).adjustments)
        before = {id(r) for r in rows}
        rows = apply_adjustments(rows, adjustments, adj_doc)
        adjusted = {id(r) for r in rows} - before
    else:
        adjusted = set()

    overrides = parent.calendar_overrides
    ruleset = Ruleset(directory, manifest, rows, rules, list(clauses.values()), _hash(files), files, overrides)
    ruleset.manifest_path = manifest_path
    for row in rows:
        own_level = row.key in replaced or id(row) in adjusted
        ruleset.row_sources[id(row)] = manifest.name if own_level else parent.source_of(row)
    ruleset.adjustments = adjustments
    ruleset.parent = parent
    ruleset.overlay_changes = changes
    ruleset.own_rows = district_rows
    ruleset.own_rules = [r for r in rules if r.id in {c.key for c in changes if c.kind == "rule"}]
    # Inherited pledge template and complaint rules: the parent's bytes (own files win).
    for field in ("pledge_template", "complaint_rules"):
        name = getattr(manifest.files, field)
        if name and name not in files:
            own_file = directory / name
            files[name] = own_file.read_bytes() if own_file.is_file() else parent.files.get(name, b"")
            if not files[name]:
                del files[name]
    # Officers: the district's own file (files.officers, else officers.yaml), else the parent's.
    from nocert_rules.policy.officers import OFFICERS_NAME, load_officers

    own_officers = manifest.files.officers or OFFICERS_NAME
    if (directory / own_officers).is_file():
        files[own_officers] = (directory / own_officers).read_bytes()
        ruleset.officers = load_officers(ruleset)
    elif manifest.files.officers:
        raise RulesetError(manifest_path.name, None, "files.officers", "file not found / 文件不存在")
    else:
        ruleset.officers = parent.officers
    ruleset.sha256 = _hash(files)
    return ruleset


_CHAIN: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar("nocert_overlay_chain", default=())


def _load_parent(parent_dir: Path, chain: tuple[Path, ...]) -> Ruleset:
    from nocert_rules.policy.loader import load_ruleset

    token = _CHAIN.set(chain)
    try:
        return load_ruleset(parent_dir)
    finally:
        _CHAIN.reset(token)


def current_chain() -> tuple[Path, ...]:
    """The folders being loaded above this one (for loop detection)."""
    return _CHAIN.get()


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
    "origin_of_row",
    "origin_of_rule","MAX_DEPTH", "OverlayChange", "Withdrawal", "current_chain", "extends_of", "load_overlay"]
