"""Check a service guide (办事指南) against the list: which materials may not be asked for.

Asking an applicant for a certificate without authority is an accountability case (附件5 第四条
(一)); a certificate not on the list may not be requested at all (三(一)1; 附件4 第四条(一)).
Checking the guides is how an office finds such a case before an applicant does.

A guide is YAML::

    title: 食品经营许可办事指南
    items:
      - service_item: "370300-XK-0001"
        name: 食品经营许可          # optional
        materials:
          - 食品经营许可申请书
          - 营业执照                # a certificate name or id of the list

or CSV with the columns ``service_item`` and ``material`` (one material per row; an optional
``item_name``).

Each material is matched to the list by exact certificate name or id under its service item
(full-width and half-width forms are treated alike). A matched certificate is decided for a
default applicant (a person with normal credit, who pledges if offered, sharing online, proxy
authorised, not providing the document): if the applicant need not submit it, the material is
**forbidden**, with the method that replaces it. A certificate of the list that is not listed
for this item is forbidden (直接取消, 不得索要). A material on no list whose name contains "证明"
is **suspicious** (a warning: probably a certificate the list does not allow). Anything else is
an ordinary material (an application form, an ID card) and passes.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from nocert_rules.enums import Method
from nocert_rules.errors import NocertError, RulesetError
from nocert_rules.models import Decision
from nocert_rules.policy.ruleset import ListRow, Ruleset
from nocert_rules.policy.yaml_source import load_located_yaml

Verdict = Literal["forbidden", "allowed", "suspicious", "ordinary"]

DEFAULT_APPLICANT_ID = "guide-check-applicant"


class GuideError(NocertError):
    """The guide file cannot be read (not found, bad YAML, wrong shape)."""


@dataclass(frozen=True)
class Material:
    service_item: str
    item_name: str | None
    name: str
    file: str
    line: int | None


@dataclass(frozen=True)
class MaterialCheck:
    material: Material
    verdict: Verdict
    method: Method | None
    certificate_id: str | None
    reason: str
    rule_id: str | None = None
    clause: str | None = None

    def to_dict(self) -> dict[str, Any]:
        m = self.material
        return {
            "service_item": m.service_item, "item_name": m.item_name, "material": m.name,
            "file": m.file, "line": m.line, "verdict": self.verdict,
            "method": self.method.value if self.method else None, "certificate_id": self.certificate_id,
            "reason": self.reason, "rule_id": self.rule_id, "clause": self.clause,
        }


def norm(text: str) -> str:
    """NFKC and no surrounding blanks: ``（`` and ``(`` compare equal."""
    return unicodedata.normalize("NFKC", text).strip()


# ------------------------------------------------------------------ reading


def read_guide(path: str) -> tuple[str | None, list[Material]]:
    """The guide's title and its materials, each with file and line."""
    p = Path(path)
    if not p.is_file():
        raise GuideError(f"{path}: 办事指南文件不存在 / guide file not found")
    if p.suffix.lower() == ".csv":
        return None, list(_read_csv(p, path))
    try:
        doc = load_located_yaml(p, path)
    except RulesetError as exc:
        raise GuideError(str(exc)) from None
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise GuideError(f"{path}:{doc.line_of(())}: 应为含 items 列表的映射 / expected a mapping with an 'items' list")
    materials: list[Material] = []
    for i, item in enumerate(data["items"]):
        where = f"{path}:{doc.line_of(('items', i))}"
        if not isinstance(item, dict) or not isinstance(item.get("service_item"), str | int):
            raise GuideError(f"{where}: items[{i}]: 需要 service_item / needs a service_item")
        mats = item.get("materials")
        if not isinstance(mats, list):
            raise GuideError(f"{where}: items[{i}]: 需要 materials 列表 / needs a materials list")
        for j, mat in enumerate(mats):
            name = mat.get("name") if isinstance(mat, dict) else mat
            if not isinstance(name, str) or not name.strip():
                raise GuideError(f"{path}:{doc.line_of(('items', i, 'materials', j))}: "
                                 f"items[{i}].materials[{j}]: 应为材料名称 / expected a material name")
            materials.append(Material(str(item["service_item"]), item.get("name"), name.strip(), path,
                                      doc.line_of(("items", i, "materials", j))))
    return data.get("title"), materials


def _read_csv(p: Path, path: str) -> Iterator[Material]:
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise GuideError(f"{path}: 不是 UTF-8 编码 / not UTF-8") from None
    reader = csv.DictReader(text.splitlines())
    fields = [f.strip() for f in (reader.fieldnames or [])]
    reader.fieldnames = fields
    item_col = next((c for c in ("service_item", "service_item_code") if c in fields), None)
    mat_col = next((c for c in ("material", "material_name") if c in fields), None)
    if item_col is None or mat_col is None:
        raise GuideError(f"{path}:1: 需要 service_item 和 material 两列 / needs the columns service_item and material")
    for row in reader:
        item, mat = (row.get(item_col) or "").strip(), (row.get(mat_col) or "").strip()
        if not item and not mat:
            continue
        if not item or not mat:
            raise GuideError(f"{path}:{reader.line_num}: service_item 或 material 为空 / empty service_item or material")
        yield Material(item, (row.get("item_name") or "").strip() or None, mat, path, reader.line_num)


# ------------------------------------------------------------------ checking


class GuideChecker:
    """Decides each material of a guide with a default applicant (see the module doc)."""

    def __init__(self, ruleset: Ruleset, at: datetime) -> None:
        from nocert_rules.engine.core import Engine

        self.ruleset = ruleset
        self.at = at
        self.engine = Engine(ruleset)
        self._by_item: dict[str, dict[str, ListRow]] = {}
        self._anywhere: set[str] = set()
        for row in ruleset.rows:
            names = self._by_item.setdefault(row.service_item_code, {})
            names[norm(row.certificate_id)] = row
            names[norm(row.certificate_name)] = row
            self._anywhere |= {norm(row.certificate_id), norm(row.certificate_name)}
        self.validity_warnings: list[str] = []
        self._rules = {rule.id: rule for rule in ruleset.rules}

    def close(self) -> None:
        self.engine.close()

    def decide(self, service_item: str, certificate: str) -> Decision:
        decision = self.engine.decide({
            "service_item": service_item,
            "certificate": certificate,
            "applicant": {"kind": "person", "id_number": DEFAULT_APPLICANT_ID, "credit": "normal"},
            "requested_at": self.at,
        })
        for w in decision.warnings:
            if w not in self.validity_warnings:
                self.validity_warnings.append(w)
        return decision

    def check(self, material: Material) -> MaterialCheck:
        key = norm(material.name)
        row = self._by_item.get(material.service_item, {}).get(key)
        if row is not None:
            decision = self.decide(material.service_item, row.certificate_id)
            rule_id, clause, why = self._deciding_step(decision)
            method = f"{self.ruleset.manifest.wording.method(decision.method).zh} {decision.method.value}"
            if decision.applicant_must_submit:
                return MaterialCheck(material, "allowed", decision.method, row.certificate_id,
                                     f"可以要求申请人提交 / may be asked for: {method}：{why}", rule_id, clause)
            return MaterialCheck(material, "forbidden", decision.method, row.certificate_id,
                                 f"改为{method}：{why}", rule_id, clause)
        if key in self._anywhere or "证明" in key:
            decision = self.decide(material.service_item, material.name)
            rule_id, clause, _ = self._deciding_step(decision)
            if key in self._anywhere:
                return MaterialCheck(
                    material, "forbidden", decision.method, None,
                    "不在本事项清单内，直接取消 / not on the list for this item", rule_id, clause)
            return MaterialCheck(
                material, "suspicious", decision.method, None,
                "名称含“证明”但不在任何清单内，如属证明则不得索要 / named like a certificate but on no list",
                rule_id, clause)
        return MaterialCheck(material, "ordinary", None, None, "普通申请材料，非清单证明 / an ordinary material")

    def _deciding_step(self, decision: Decision) -> tuple[str | None, str | None, str]:
        """(rule id, clause id, the rule's Chinese reason) of the step that gave the method."""
        chosen = [s for s in decision.trace if s.method is decision.method and s.effect in ("offer", "fallback")]
        step = chosen[0] if chosen else decision.trace[-1]
        rule = self._rules.get(step.rule_id)
        reason = rule.reason if rule is not None else self.ruleset.manifest.fallback.reason
        return step.rule_id, step.citation.clause_id if step.citation else None, reason.split(" / ")[0]


@dataclass
class GuideResult:
    title: str | None
    checks: list[MaterialCheck]
    validity_warnings: list[str]
    unknown_items: list[str]

    @property
    def forbidden(self) -> list[MaterialCheck]:
        return [c for c in self.checks if c.verdict == "forbidden"]

    @property
    def suspicious(self) -> list[MaterialCheck]:
        return [c for c in self.checks if c.verdict == "suspicious"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "forbidden": len(self.forbidden),
            "suspicious": len(self.suspicious),
            "materials": [c.to_dict() for c in self.checks],
            "unknown_service_items": self.unknown_items,
            "warnings": self.validity_warnings,
        }


def check_guide(ruleset: Ruleset, path: str, at: datetime) -> GuideResult:
    """Check every material of the guide at ``path`` (see the module doc)."""
    title, materials = read_guide(path)
    checker = GuideChecker(ruleset, at)
    known = {row.service_item_code for row in ruleset.rows}
    try:
        checks = [checker.check(m) for m in materials]
    finally:
        checker.close()
    unknown = sorted({m.service_item for m in materials if m.service_item not in known})
    return GuideResult(title, checks, checker.validity_warnings, unknown)


__all__ = ["GuideError", "GuideResult", "Material", "MaterialCheck", "check_guide", "read_guide"]
