"""What ``import-list`` derives for the fields a published list does not have, and says so.

A published list gives 证明名称 and 开具单位 in words; a ruleset row needs a certificate id, the
unit's department key, its records form and (for 数据共享) a sharing source. ``Derivation``
gives each, from (in this order) the ruleset's current list, its ``units.yaml`` (with the
units of the rulesets it extends, ``policy.units``), and last a proposal marked for review; and
records every value it gave as a :class:`Derived` (where, field, value, why), for the report.

Certificate ids are stable: the id the current list gives the same certificate (same name,
same unit) is kept; a new certificate gets ``prefix`` + the first 10 hex digits of sha256 of its
name and its unit's name, so re-importing a changed list (rows added, moved, renumbered) gives
every certificate the id it had.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nocert_rules.enums import RecordKind
from nocert_rules.policy.legal_basis import LegalBasis, LegalRank
from nocert_rules.policy.units import Unit, Units, chain_of, load_units, unit_key
from nocert_rules.tools.basis_text import known_ranks

FALLBACK_RECORDS = RecordKind.PAPER
"""A unit whose records form neither units.yaml nor the list gives: paper, the form 附件2 第七条
gives the longer verification time (1 个工作日, not 30 分钟), until the unit says otherwise."""


@dataclass(frozen=True)
class Derived:
    """One value ``import-list`` gave that no cell held."""

    where: str  # sheet!cell (or sheet!row)
    field: str
    value: str
    source: str  # why this value (zh / en)
    review: bool = False  # a proposal nobody has confirmed


@dataclass
class Derivation:
    """The derivation context of one import (see the module doc)."""

    units: Units = field(default_factory=Units)
    known_ids: dict[tuple[str, str], str] = field(default_factory=dict)  # (certificate, unit) -> id
    ranks: dict[str, LegalRank] = field(default_factory=dict)  # instrument -> rank, from the current list
    new_units: list[Unit] = field(default_factory=list)
    derived: list[Derived] = field(default_factory=list)
    _proposed: dict[str, tuple[Unit, str]] = field(default_factory=dict)
    _units: dict[str, tuple[Unit, str]] = field(default_factory=dict)  # issuer as written -> unit(issuer)
    _owners: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> its (certificate, unit)

    @classmethod
    def for_ruleset(cls, directory: Path | None) -> Derivation:
        """The context of the ruleset folder ``directory`` (None: no units, no current list)."""
        if directory is None or not directory.is_dir():
            return cls()
        units = load_units(directory)
        known_ids: dict[tuple[str, str], str] = {}
        bases: list[LegalBasis] = []
        for folder in chain_of(directory):
            for row in _current_rows(folder):
                name, issuer, cid = row.get("certificate_name"), row.get("issuer"), row.get("certificate_id")
                if isinstance(name, str) and isinstance(issuer, str) and isinstance(cid, str):
                    unit = units.find(issuer)
                    known_ids.setdefault((unit_key(name), unit_key(unit.name if unit else issuer)), cid)
                bases.extend(_bases_of(row.get("legal_basis")))
        return cls(units, known_ids, known_ranks(bases))

    def note(self, where: str, name: str, value: Any, source: str, review: bool = False) -> None:
        self.derived.append(Derived(where, name, str(value), source, review))

    def unit(self, issuer: str) -> tuple[Unit, str]:
        """The unit named ``issuer``, and where it came from (units.yaml or a new proposal)."""
        hit = self._units.get(issuer)
        if hit is None:
            hit = self._units[issuer] = self._unit(issuer)
        return hit

    def _unit(self, issuer: str) -> tuple[Unit, str]:
        found = self.units.find(issuer)
        if found is not None:
            origin = self.units.origin.get(found.name, "units.yaml")
            review = "（待确认 / marked for review）" if found.review else ""
            return found, f"{origin}: {found.name}{review}"
        key = unit_key(issuer)
        if key not in self._proposed:
            unit, rule = self.units.propose(issuer)
            self._proposed[key] = (unit, rule)
            self.new_units.append(unit)
        unit, rule = self._proposed[key]
        return unit, f"新单位，待确认 / a new unit, marked for review: {rule}"

    def certificate_id(self, name: str, unit: Unit) -> tuple[str, str]:
        """A stable id for the certificate ``name`` of ``unit``, and why (module doc)."""
        pair = (unit_key(name), unit_key(unit.name))
        if pair in self.known_ids:
            return self.known_ids[pair], "沿用现有清单的编号 / the id the current list gives it"
        if not self._owners:
            self._owners = {cid: p for p, cid in self.known_ids.items()}
        digest = hashlib.sha256(f"{pair[0]}|{pair[1]}".encode()).hexdigest().upper()
        cid = f"{self.units.prefix}{digest[:10]}"
        if self._owners.setdefault(cid, pair) != pair:  # another certificate has it: the longer hash
            cid = f"{self.units.prefix}{digest[:20]}"
            self._owners.setdefault(cid, pair)
        return cid, (f"由证明名称与开具单位散列得出（前缀 {self.units.prefix}） / from a hash of the name and the "
                     f"unit (prefix {self.units.prefix})")

    def records(self, unit: Unit) -> tuple[RecordKind, str, bool]:
        """The unit's records form, why, and whether it is a default (highlighted in the report)."""
        if unit.records is not None:
            return unit.records, f"开具单位的档案形态 / the unit's records form ({unit.name})", unit.review
        if self.units.doc.defaults.records is not None:
            return self.units.doc.defaults.records, "units.yaml defaults.records（默认值 / a default）", True
        return FALLBACK_RECORDS, "无档案形态，按纸质 / no records form anywhere: paper (默认值 / a default)", True

    def sharing_source(self, unit: Unit) -> tuple[str, str, bool]:
        if unit.sharing_source:
            return unit.sharing_source, f"开具单位的共享来源 / the unit's sharing source ({unit.name})", unit.review
        return unit.name, "无共享来源，暂以开具单位为来源，待确认 / no sharing source: the unit itself, for review", True


def _current_rows(folder: Path) -> list[dict[str, Any]]:
    """The rows of ``folder``'s certificates.yaml as plain data ([] if it has none or does not parse)."""
    path = folder / "certificates.yaml"
    if not path.is_file():
        return []
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError):
        return []
    rows = doc.get("rows") if isinstance(doc, dict) else None
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _bases_of(value: Any) -> list[LegalBasis]:
    out = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict) and item.get("rank") and item.get("instrument"):
            try:
                out.append(LegalBasis(instrument=item["instrument"], rank=item["rank"]))
            except ValueError:
                continue
    return out


__all__ = ["FALLBACK_RECORDS", "Derivation", "Derived"]
