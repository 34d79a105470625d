"""Loading stage 3, merge: a district's files over the ruleset it ``extends`` (三(一)1).

Input: the parent's ``Ruleset`` (loaded first, by the same pipeline), the district's folder
(stage 1) and its manifest's YAML. Output: ``Merged``: the manifest, clauses, rules and rows the
district ends with, the changes it made (``OverlayChange``), its own rows and adjustments; the
loader then dates, indexes and builds the ``Ruleset``, and ``inherit_side_files`` /
``inherit_officers`` finish it. The district's files are described in ``policy/overlay.py``.

The merge rules, each one function:

- ``merge_manifest``: a top-level key the district sets replaces the parent's whole value
  (``deadlines``, ``pledge_policy``, ``files``... are replaced, not merged key by key), except
  ``sources``, merged by id (the district's replace the parent's of the same id; new ones follow).
- ``merge_clauses``: by id; a district clause replaces the parent's of the same id, others are added.
- ``merge_rules``: by id; a district rule takes the place of the parent's of the same id (its
  position kept), others are added at the end.
- ``merge_rows``: the parent's order; withdrawn rows are dropped; the district's versions of a
  row take the place of the parent's first version of it; rows new to the list follow at the end.
- ``inherit_side_files``: the pledge template and complaint rules: the district's own file, else
  the parent's bytes.
- ``inherit_officers``: the district's officers file (``files.officers``, else ``officers.yaml``),
  else the parent's officers.
- calendar overrides are the parent's (a district has none of its own).

Problems are raised at once (a district's first problem), not collected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from nocert_rules.errors import RulesetError
from nocert_rules.policy import conditions, versions
from nocert_rules.policy.certificate_list import ListRow
from nocert_rules.policy.files import RulesetFolder
from nocert_rules.policy.loaded import Ruleset
from nocert_rules.policy.manifest import Manifest
from nocert_rules.policy.overlay import (
    DistrictClauses,
    DistrictList,
    DistrictRow,
    DistrictRules,
    OverlayChange,
    Withdrawal,
)
from nocert_rules.policy.parse import read_yaml
from nocert_rules.policy.rules import Clause, PolicyRule
from nocert_rules.policy.yaml_source import LocatedYaml, validate_located

Key = tuple[str, str]


@dataclass
class Merged:
    """What a district ends with, before dating and indexing."""

    manifest: Manifest
    clauses: dict[str, Clause]
    rules: list[PolicyRule]
    rows: list[ListRow]
    own_rows: list[DistrictRow]
    replaced: set[Key]
    changes: list[OverlayChange] = field(default_factory=list)


def _optional(folder: RulesetFolder, name: str) -> LocatedYaml | None:
    """A district file it may leave out (None when absent)."""
    return read_yaml(folder, name) if folder.exists(name) else None


def merge_manifest(parent: Manifest, manifest_doc: LocatedYaml) -> Manifest:
    """The district's manifest: its keys over the parent's; ``sources`` by id (see the module doc)."""
    merged: dict[str, Any] = parent.model_dump(mode="json", exclude_none=True)
    merged.pop("extends", None)
    for key, value in dict(manifest_doc.data).items():
        if key == "sources" and isinstance(value, list):
            ids = {s.get("id") for s in value if isinstance(s, dict)}
            merged["sources"] = [s for s in merged.get("sources", []) if s.get("id") not in ids] + value
        else:
            merged[key] = value
    manifest: Manifest = validate_located(Manifest, LocatedYaml(manifest_doc.file, merged, manifest_doc.lines))
    return manifest


def merge_clauses(
    parent: dict[str, Clause], doc: LocatedYaml | None, manifest: Manifest, changes: list[OverlayChange]
) -> dict[str, Clause]:
    """The parent's clauses, the district's by id over them; each source must be the manifest's."""
    clauses = dict(parent)
    if doc is None:
        return clauses
    sources = {s.id for s in manifest.sources}
    for i, clause in enumerate(validate_located(DistrictClauses, doc).clauses):
        if clause.source not in sources:
            raise doc.error(("clauses", i, "source"), f"unknown source {clause.source!r}")
        clauses[clause.id] = clause
        changes.append(OverlayChange("clause", clause.id, "", doc.file, doc.line_of(("clauses", i))))
    return clauses


def merge_rules(
    parent: list[PolicyRule], doc: LocatedYaml | None, clauses: dict[str, Clause], changes: list[OverlayChange]
) -> list[PolicyRule]:
    """The parent's rules, a district rule replacing the one with its id in place, new ones after."""
    rules = list(parent)
    if doc is None:
        return rules
    position = {rule.id: i for i, rule in enumerate(rules)}
    for i, rule in enumerate(validate_located(DistrictRules, doc).rules):
        _check_district_rule(doc, i, rule, clauses)
        if rule.id in position:
            rules[position[rule.id]] = rule
        else:
            position[rule.id] = len(rules)
            rules.append(rule)
        changes.append(OverlayChange("rule", rule.id, rule.note or "", doc.file, doc.line_of(("rules", i))))
    return rules


def _check_district_rule(doc: LocatedYaml, i: int, rule: PolicyRule, clauses: dict[str, Clause]) -> None:
    if rule.clause not in clauses:
        raise doc.error(
            ("rules", i, "clause"),
            f"cites unknown clause {rule.clause!r} (not in the clauses of this or the parent ruleset)",
        )
    try:
        conditions.validate(rule.when)
    except conditions.ConditionError as exc:
        raise doc.error(("rules", i, "when", *exc.path), exc.problem) from None


def withdraw_rows(
    parent_keys: set[Key], withdrawn: list[Withdrawal], doc: LocatedYaml | None, changes: list[OverlayChange]
) -> set[Key]:
    """The keys the district withdraws; each must be a row of the parent list."""
    gone: set[Key] = set()
    for i, w in enumerate(withdrawn):
        assert doc is not None
        key = (w.service_item_code, w.certificate_id)
        if key not in parent_keys:
            raise doc.error(("withdrawn", i), f"withdraws {key[0]} / {key[1]}, which the parent list does not have")
        gone.add(key)
        changes.append(OverlayChange("withdraw", f"{key[0]} / {key[1]}", w.basis, doc.file, doc.line_of(("withdrawn", i))))
    return gone


def check_district_rows(
    rows: list[DistrictRow], gone: set[Key], parent_keys: set[Key], manifest: Manifest,
    doc: LocatedYaml | None, changes: list[OverlayChange],
) -> None:
    """A district row is not also withdrawn, names declared risks, and overlaps no version of its key."""
    known_risks = manifest.pledge_policy.risk_categories
    earlier: dict[Key, list[int]] = {}
    for i, row in enumerate(rows):
        assert doc is not None
        if row.key in gone:
            raise doc.error(("rows", i), "a row both withdrawn and overridden / 同一清单行既撤回又变更")
        for j, risk in enumerate(row.risk_categories):
            if risk not in known_risks:
                raise doc.error(("rows", i, "risk_categories", j), f"unknown risk category {risk!r}")
        for j in earlier.get(row.key, ()):
            other = rows[j]
            if versions.overlap(other, row):
                raise doc.error(
                    ("rows", i),
                    f"duplicate row for service item {row.service_item_code} and certificate {row.certificate_id} "
                    f"(first at line {doc.line_of(('rows', j))}): versions {other.version} and {row.version} overlap",
                )
        earlier.setdefault(row.key, []).append(i)
        kind: Literal["add", "override"] = "override" if row.key in parent_keys else "add"
        changes.append(OverlayChange(kind, f"{row.service_item_code} / {row.certificate_id}",
                                     row.change_basis, doc.file, doc.line_of(("rows", i))))


def merge_rows(parent: list[ListRow], own: list[DistrictRow], gone: set[Key]) -> list[ListRow]:
    """The parent's rows in order, withdrawn ones dropped, the district's versions in their place, new ones last."""
    by_key: dict[Key, list[ListRow]] = {}
    for row in own:
        by_key.setdefault(row.key, []).append(row)
    parent_keys = {row.key for row in parent}
    rows: list[ListRow] = []
    placed: set[Key] = set()
    for row in parent:
        if row.key in gone:
            continue
        if row.key in by_key:
            if row.key not in placed:  # the district's versions take the city's place
                rows.extend(by_key[row.key])
                placed.add(row.key)
            continue
        rows.append(row)
    rows.extend(r for r in own if r.key not in parent_keys)
    return rows


def merge_district(folder: RulesetFolder, manifest_doc: LocatedYaml, parent: Ruleset, extends: str) -> Merged:
    """The district's manifest, clauses, rules and list merged over ``parent`` (the module doc's rules)."""
    manifest = merge_manifest(parent.manifest, manifest_doc)
    for name, data in parent.files.items():
        folder.files[f"{extends}/{name}"] = data
    names = manifest.files
    changes: list[OverlayChange] = []
    clauses = merge_clauses(parent.clauses, _optional(folder, names.clauses), manifest, changes)
    rules = merge_rules(parent.rules, _optional(folder, names.rules), clauses, changes)
    cert_doc = _optional(folder, names.certificates)
    district = validate_located(DistrictList, cert_doc) if cert_doc is not None else DistrictList()
    own_rows, withdrawn = list(district.rows), list(district.withdrawn)
    parent_keys = {row.key for row in parent.rows}
    gone = withdraw_rows(parent_keys, withdrawn, cert_doc, changes)
    check_district_rows(own_rows, gone, parent_keys, manifest, cert_doc, changes)
    rows = merge_rows(parent.rows, own_rows, gone)
    return Merged(manifest, clauses, rules, rows, own_rows, {row.key for row in own_rows}, changes)


def district_adjustments(folder: RulesetFolder, manifest: Manifest) -> tuple[list[Any], LocatedYaml] | None:
    """The district's published adjustments (``files.adjustments``, else ``adjustments.yaml``), if any."""
    from nocert_rules.policy.list_adjustments import ADJUSTMENTS_NAME, AdjustmentFile

    doc = _optional(folder, manifest.files.adjustments or ADJUSTMENTS_NAME)
    if doc is None:
        return None
    return list(validate_located(AdjustmentFile, doc).adjustments), doc


def inherit_side_files(folder: RulesetFolder, parent: Ruleset, manifest: Manifest) -> None:
    """The pledge template and complaint rules: the district's own bytes, else the parent's."""
    for name in (manifest.files.pledge_template, manifest.files.complaint_rules):
        if not name or name in folder.files:
            continue
        if folder.exists(name):
            if not folder.read(name):  # an empty file: none (as when neither level has one)
                del folder.files[name]
        elif parent.files.get(name):
            folder.files[name] = parent.files[name]


def inherit_officers(ruleset: Ruleset, folder: RulesetFolder, parent: Ruleset, manifest_name: str) -> None:
    """The district's officers file (``files.officers``, else ``officers.yaml``), else the parent's officers."""
    from nocert_rules.policy.officers import OFFICERS_NAME, load_officers

    named = ruleset.manifest.files.officers
    own = named or OFFICERS_NAME
    if folder.exists(own):
        folder.read(own)
        ruleset.officers = load_officers(ruleset)
    elif named:
        raise RulesetError(manifest_name, None, "files.officers", "file not found / 文件不存在")
    else:
        ruleset.officers = parent.officers


__all__ = [
    "Merged",
    "check_district_rows",
    "district_adjustments",
    "inherit_officers",
    "inherit_side_files",
    "merge_clauses",
    "merge_district",
    "merge_manifest",
    "merge_rows",
    "merge_rules",
    "withdraw_rows",
]
