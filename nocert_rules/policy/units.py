"""The issuing units of a ruleset's list (``units.yaml``): what a published list does not say.

A published 《证明事项免提交清单》 names each certificate's 开具单位 in words ("淄博市公安局") and
nothing more. ``import-list`` needs, per row, the department key (``issuer_department``), the
form the unit keeps its records in (``records``: 附件2 第七条's 30 分钟 / 1 / 2 个工作日 depend on
it) and, for 数据共享, the sharing source. ``units.yaml`` holds them, per unit::

    certificate_id_prefix: ZM-          # derived certificate ids start with it
    defaults: {records: paper}          # a unit that gives no records form
    departments:                        # words in a unit's name -> the key proposed for a new unit
      public_security: [公安]
    units:
      - name: 淄博市公安局
        aliases: [市公安局]
        department: public_security
        records: electronic
        sharing_source: 人口基础信息库
        contact: 市公安局户政支队
        review: false                   # true: proposed by import-list, not yet confirmed

A district that ``extends`` the city inherits its units: the chain is read city first, and the
district's own units (by name) and settings replace the city's. Problems are ``RulesetError``\\ s
with ``units.yaml:line``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from nocert_rules.enums import RecordKind
from nocert_rules.errors import RulesetError
from nocert_rules.policy.overlay import MAX_DEPTH, extends_of
from nocert_rules.policy.yaml_source import (
    LocatedYaml,
    load_located_bytes,
    load_located_yaml,
    validate_located,
)

UNITS_NAME = "units.yaml"
DEFAULT_PREFIX = "ZM-"
_STRICT = ConfigDict(extra="forbid")


class Unit(BaseModel):
    """One issuing unit (开具单位)."""

    model_config = _STRICT
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    department: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    records: RecordKind | None = None
    sharing_source: str | None = None
    contact: str | None = None
    review: bool = Field(default=False, description="proposed by import-list; a person has not confirmed it")


class UnitDefaults(BaseModel):
    model_config = _STRICT
    records: RecordKind | None = None


class UnitsFile(BaseModel):
    """The document ``units.yaml`` holds."""

    model_config = _STRICT
    certificate_id_prefix: str | None = None
    defaults: UnitDefaults = Field(default_factory=UnitDefaults)
    departments: dict[str, list[str]] = Field(default_factory=dict)
    units: list[Unit] = Field(default_factory=list)


def unit_key(name: str) -> str:
    """A unit name as compared: NFKC (full-width brackets and digits as ASCII), no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


@dataclass
class Units:
    """The units a ruleset's chain knows, and where each was defined (``origin``: file name)."""

    doc: UnitsFile = field(default_factory=UnitsFile)
    origin: dict[str, str] = field(default_factory=dict)  # unit name -> the units.yaml it is in
    _index: dict[str, Unit] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index = {}
        for unit in self.doc.units:
            for name in (unit.name, *unit.aliases):
                self._index.setdefault(unit_key(name), unit)

    @property
    def prefix(self) -> str:
        return self.doc.certificate_id_prefix if self.doc.certificate_id_prefix is not None else DEFAULT_PREFIX

    def find(self, name: str) -> Unit | None:
        """The unit named ``name`` (its name or an alias, spaces and full-width forms aside)."""
        return self._index.get(unit_key(name))

    def propose(self, name: str) -> tuple[Unit, str]:
        """A unit for a name no unit has, marked for review, and the rule that gave its key."""
        key = unit_key(name)
        for department, words in self.doc.departments.items():
            for word in words:
                if word and word in key:
                    return Unit(name=name, department=department, review=True), \
                        f"名称含“{word}” / the name contains {word!r} (units.yaml departments.{department})"
        known = {u.department for u in self.doc.units}
        for unit in self.doc.units:
            if unit.name and _core(unit.name) and _core(unit.name) in key and unit.department in known:
                return Unit(name=name, department=unit.department, review=True), \
                    f"名称含已知单位“{_core(unit.name)}” / the name contains the known unit {_core(unit.name)!r}"
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
        return Unit(name=name, department=f"unit_{digest}", review=True), \
            "无可用词，由名称散列得出 / no known word: from a hash of the name"

    def add(self, unit: Unit, origin: str) -> None:
        self.doc.units.append(unit)
        self.origin[unit.name] = origin
        for name in (unit.name, *unit.aliases):
            self._index.setdefault(unit_key(name), unit)


_CORE = re.compile(r"^(?:.{1,6}?(?:省|自治区|市|区|县))?(.+?)(?:局|委员会|中心|办公室|厅|委)?$")


def _core(name: str) -> str:
    """淄博市公安局 -> 公安: the words that say what a unit does."""
    m = _CORE.match(unit_key(name))
    core = m.group(1) if m else ""
    return core if len(core) >= 2 else ""


def _check(doc: LocatedYaml, units: UnitsFile) -> None:
    seen: dict[str, int] = {}
    problems = []
    for i, unit in enumerate(units.units):
        for j, name in enumerate((unit.name, *unit.aliases)):
            key = unit_key(name)
            if key in seen and seen[key] != i:
                path: tuple[str | int, ...] = ("units", i, "name") if j == 0 else ("units", i, "aliases", j - 1)
                problems.append(doc.error(path, f"单位名称重复 / {name!r} also names units[{seen[key]}]").problems[0])
            seen.setdefault(key, i)
    if problems:
        raise RulesetError.of(problems)


def parse_units(doc: LocatedYaml) -> UnitsFile:
    """A loaded ``units.yaml``, validated; problems at ``file:line``."""
    units: UnitsFile = validate_located(UnitsFile, doc)
    _check(doc, units)
    return units


def load_units_file(path: Path, display: str | None = None) -> UnitsFile:
    """One ``units.yaml`` file (the importer reads a folder whose ruleset may not load yet)."""
    return parse_units(load_located_yaml(path, display or path.name))


def check_units(ruleset: Any, parsed: Any, problems: Any) -> None:
    """The ruleset's own ``units.yaml`` (``files.units``, else the usual name), checked at load
    (a side-file check of ``policy.side_files``); its bytes are hashed with the ruleset's."""
    name = getattr(ruleset.manifest.files, "units", None) or UNITS_NAME
    raw = ruleset.files.get(name)
    if raw is not None:
        problems.attempt(lambda: parse_units(load_located_bytes(raw, name)))


def chain_of(directory: Path) -> list[Path]:
    """The ruleset folder and those it ``extends``, the farthest ancestor first."""
    out: list[Path] = []
    here: Path | None = directory.resolve()
    while here is not None:
        if here in out or len(out) > MAX_DEPTH:
            raise RulesetError("manifest.yaml", None, "extends", f"extends loops or is too deep at {here}")
        out.append(here)
        manifest = here / "manifest.yaml"
        if not manifest.is_file():
            break
        parent = extends_of(load_located_yaml(manifest, f"{here.name}/manifest.yaml"))
        here = (here / parent).resolve() if parent else None
    return out[::-1]


def load_units(directory: Path) -> Units:
    """The units of the ruleset at ``directory`` with those of every ruleset it extends."""
    merged = UnitsFile()
    origin: dict[str, str] = {}
    by_name: dict[str, Unit] = {}
    for folder in chain_of(directory):
        path = folder / UNITS_NAME
        if not path.is_file():
            continue
        display = str(path) if folder != directory.resolve() else UNITS_NAME
        own = load_units_file(path, display)
        if own.certificate_id_prefix is not None:
            merged.certificate_id_prefix = own.certificate_id_prefix
        if own.defaults.records is not None:
            merged.defaults = own.defaults
        merged.departments.update(own.departments)
        for unit in own.units:
            by_name[unit_key(unit.name)] = unit
            origin[unit.name] = display
    merged.units = list(by_name.values())
    return Units(merged, origin)


def dump_units(doc: UnitsFile) -> dict[str, object]:
    """``units.yaml``'s document, the unset fields left out."""
    return doc.model_dump(mode="json", exclude_none=True, exclude_defaults=False)


__all__ = ["DEFAULT_PREFIX", "UNITS_NAME", "Unit", "Units", "UnitsFile", "chain_of", "check_units", "dump_units",
           "load_units", "load_units_file", "parse_units", "unit_key"]
