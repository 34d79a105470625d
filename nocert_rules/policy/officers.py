"""The ruleset's officers file: each unit's liaison and proxy officers, by pseudonymised id, with
their A/B roles (联络员、代办员, AB角制度; 附件2 第五条、第六条、第十条 in Zibo).

``officers.yaml`` (or the file ``files.officers`` names) is loaded with the ruleset::

    requirements:                 # the plan's minimums per unit, and the clause that sets them
      clause: 附件2 第六条
      minimums: {liaison: 1, proxy: 2}
      ab_required: [proxy]        # roles that must have an A角 and a B角
    roles:                        # every role: its label (Chinese / English) and the clause
      liaison: {label: 联络员, label_en: liaison officer, clause: 附件2 第五条}
      proxy: {label: 代办员, label_en: proxy officer, clause: 三(三)3}
    verification_starters: [liaison, proxy]   # who starts a verification request, in order
    verification_clause: 附件2 第五条
    proxy_role: proxy             # who fetches the certificate of a PROXY decision
    duties_clause: 附件2 第十条
    units:
      - unit: 淄博市公安局          # as the list's ``issuer`` (or a requesting unit) writes it
        officers:
          - {id: ga-l1, role: liaison, ab: A}
          - {id: ga-p1, role: proxy, ab: A, absent: [{from: 2021-10-01, until: 2021-10-07}]}
          - {id: ga-p2, role: proxy, ab: B}

Officers are named by pseudonymised ids only: an id is ASCII (a name in Chinese cannot pass),
never an ID number (``privacy.contains_id_number``), and keys such as ``name`` or ``姓名`` are
refused with file:line. The officer on duty for a role at a time is the first A角, else the first
B角, that is neither absent on that day (``absent``) nor marked unavailable by the host.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nocert_rules.enums import Method
from nocert_rules.errors import NocertError, RulesetError
from nocert_rules.models import Citation, OfficerOnDuty, as_shanghai
from nocert_rules.policy.labels import BilingualLabel
from nocert_rules.policy.yaml_source import load_ruleset_file, validate_located
from nocert_rules.privacy import contains_id_number

if TYPE_CHECKING:
    from nocert_rules.models import Decision
    from nocert_rules.policy.loaded import Ruleset

__all__ = [
    "OFFICERS_NAME",
    "Absence",
    "Officer",
    "OfficerError",
    "OfficerFile",
    "Requirements",
    "RoleLabel",
    "Shortfall",
    "Unit",
    "load_officers",
    "name_proxy_role",
    "officer_on_duty",
    "shortfalls",
]

OFFICERS_NAME = "officers.yaml"
"""Loaded when present and the manifest names no ``files.officers``."""

_STRICT = ConfigDict(extra="forbid", frozen=True)

PERSONAL_KEYS = frozenset({
    "name", "full_name", "real_name", "姓名", "名字", "id_number", "id_card", "身份证", "身份证号",
    "phone", "mobile", "telephone", "电话", "手机", "手机号",
})
"""Keys that would put a person's name, ID number or phone in the file: refused, with the fix."""


class OfficerError(NocertError, ValueError):
    """No officer can be named: the unit has none of the role, or none is on duty."""


def _refuse_personal_keys(data: Any) -> Any:
    if isinstance(data, dict):
        bad = sorted(str(k) for k in data if str(k).strip().lower() in PERSONAL_KEYS)
        if bad:
            raise ValueError(
                f"不得填写个人信息字段 {bad}：工作人员只以化名编号 id 表示 / personal data fields {bad} are "
                "not allowed: officers are named by pseudonymised id only"
            )
    return data


def _no_id_number(value: str) -> str:
    if contains_id_number(value):
        raise ValueError("不得包含身份证号 / must not contain an ID number")
    return value


class Absence(BaseModel):
    """A period the officer is away (inclusive): the B角 stands in (AB角制度)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    start: date = Field(alias="from")
    until: date
    note: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _order(self) -> Absence:
        if self.until < self.start:
            raise ValueError("until is before from / 结束日期早于开始日期")
        if self.note is not None:
            _no_id_number(self.note)
        return self

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.until


class Officer(BaseModel):
    """One officer of a unit: pseudonymised id, role, A角 or B角, optional absences."""

    model_config = _STRICT
    id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="化名编号（ASCII，非姓名、非身份证号） / a pseudonymised id (ASCII; never a name or ID number)",
    )
    role: str = Field(min_length=1)
    ab: Literal["A", "B"]
    absent: list[Absence] = Field(default_factory=list, description="periods away (duty schedule)")

    @model_validator(mode="before")
    @classmethod
    def _personal(cls, data: Any) -> Any:
        return _refuse_personal_keys(data)

    @field_validator("id")
    @classmethod
    def _pseudonym(cls, value: str) -> str:
        return _no_id_number(value)

    def available(self, day: date) -> bool:
        return not any(a.covers(day) for a in self.absent)


class Unit(BaseModel):
    """A requesting or issuing unit (需求单位 / 出具单位) and its officers."""

    model_config = _STRICT
    unit: str = Field(min_length=1, max_length=200)
    officers: list[Officer] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _personal(cls, data: Any) -> Any:
        return _refuse_personal_keys(data)

    def of_role(self, role: str) -> list[Officer]:
        return [o for o in self.officers if o.role == role]


class RoleLabel(BilingualLabel):
    """A role's name as outputs show it, and the clause that gives the role its task."""

    model_config = _STRICT
    clause: str | None = None


class Requirements(BaseModel):
    """The minimums per unit and the clause that sets them (第六条 in Zibo)."""

    model_config = _STRICT
    clause: str
    minimums: dict[str, int] = Field(description="role -> at least this many officers per unit")
    ab_required: list[str] = Field(default_factory=list, description="roles that must have an A角 and a B角")

    @field_validator("minimums")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        if any(n < 0 for n in value.values()):
            raise ValueError("a minimum is negative")
        return value


class OfficerFile(BaseModel):
    """The whole officers file."""

    model_config = _STRICT
    requirements: Requirements
    roles: dict[str, RoleLabel] = Field(min_length=1)
    verification_starters: list[str] = Field(
        min_length=1, description="roles that start a verification request for their unit, in order of preference"
    )
    verification_clause: str | None = None
    proxy_role: str | None = Field(default=None, description="the role that fetches a PROXY decision's certificate")
    duties_clause: str | None = None
    units: list[Unit] = Field(default_factory=list)

    @model_validator(mode="after")
    def _roles_known(self) -> OfficerFile:
        roles = set(self.roles)
        named = [*self.requirements.minimums, *self.requirements.ab_required, *self.verification_starters]
        if self.proxy_role:
            named.append(self.proxy_role)
        unknown = sorted(set(named) - roles)
        if unknown:
            raise ValueError(f"roles not declared in roles: {unknown} / 未在 roles 中声明的角色")
        return self


@dataclass(frozen=True)
class Shortfall:
    """A unit below the requirements: what is missing, where (file:line)."""

    unit: str
    role: str
    have: int
    need: int
    what: Literal["count", "ab", "missing"]
    file: str
    line: int | None
    message: str


class LoadedOfficers:
    """The validated officers file of a ruleset, its units indexed by name."""

    def __init__(self, name: str, sha256: str, content: OfficerFile, lines: dict[tuple[Any, ...], int | None]) -> None:
        self.file = name
        self.sha256 = sha256
        self.content = content
        self.units = {u.unit: u for u in content.units}
        self._lines = lines

    def line_of(self, *path: Any) -> int | None:
        return self._lines.get(tuple(path))

    def role_label(self, role: str) -> str:
        """``联络员``: the role's Chinese label."""
        return self.content.roles[role].label


def load_officers(ruleset: Ruleset) -> LoadedOfficers:
    """Read and validate the officers file of ``ruleset``: ``RulesetError`` with file:line.

    Checks ids unique in the file, units unique, every officer's role declared, and every
    clause cited present in the clauses file.
    """
    name = ruleset.manifest.files.officers or OFFICERS_NAME
    doc = load_ruleset_file(ruleset.files, ruleset.directory, name)
    content: OfficerFile = validate_located(OfficerFile, doc)

    problems: list[RulesetError] = []

    def cited(path: tuple[str | int, ...], clause_id: str | None) -> None:
        if clause_id is not None and clause_id not in ruleset.clauses:
            problems.append(doc.error(path, f"cites unknown clause {clause_id!r} (not in clauses file)"))

    cited(("requirements", "clause"), content.requirements.clause)
    cited(("verification_clause",), content.verification_clause)
    cited(("duties_clause",), content.duties_clause)
    for role, label in content.roles.items():
        cited(("roles", role, "clause"), label.clause)
    seen_units: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    lines: dict[tuple[Any, ...], int | None] = {("units",): doc.line_of(("units",))}
    for i, unit in enumerate(content.units):
        lines[("units", unit.unit)] = doc.line_of(("units", i))
        if unit.unit in seen_units:
            problems.append(doc.error(("units", i, "unit"), f"duplicate unit {unit.unit!r} (first at line "
                                      f"{doc.line_of(('units', seen_units[unit.unit]))}) / 单位重复"))
        seen_units.setdefault(unit.unit, i)
        for j, officer in enumerate(unit.officers):
            if officer.role not in content.roles:
                problems.append(doc.error(("units", i, "officers", j, "role"),
                                          f"unknown role {officer.role!r}; roles: {sorted(content.roles)}"))
            key = officer.id
            if key in seen_ids:
                problems.append(doc.error(("units", i, "officers", j, "id"), f"duplicate officer id {key!r} / 编号重复"))
            seen_ids.setdefault(key, i)
    if problems:
        raise RulesetError.of([p for err in problems for p in err.problems])
    return LoadedOfficers(name, hashlib.sha256(doc.raw).hexdigest(), content, lines)


# ---------------------------------------------------------------- checks and choices


def shortfalls(ruleset: Ruleset, officers: LoadedOfficers, units: Iterable[str] = ()) -> list[Shortfall]:
    """Every unit below the requirements (the file's units, and ``units`` the file may lack).

    A unit missing from the file is one shortfall (``what="missing"``, at the file's ``units:``).
    """
    req = officers.content.requirements
    out: list[Shortfall] = []
    names = list(officers.units) + [u for u in dict.fromkeys(units) if u not in officers.units]
    for name in names:
        unit = officers.units.get(name)
        if unit is None:
            need_text = "、".join(f"{officers.role_label(r)} {n} 名" for r, n in req.minimums.items())
            out.append(Shortfall(
                name, "", 0, sum(req.minimums.values()), "missing", officers.file, officers.line_of("units"),
                f"{name}：未列入{officers.file}，应至少配备{need_text}（{req.clause}） / {name} is not in "
                f"{officers.file}; it needs at least "
                + ", ".join(f"{n} {officers.content.roles[r].label_en}(s)" for r, n in req.minimums.items())
                + f" ({req.clause})",
            ))
            continue
        line = officers.line_of("units", name)
        for role, need in req.minimums.items():
            have = len(unit.of_role(role))
            label = officers.role_label(role)
            if have < need:
                out.append(Shortfall(
                    name, role, have, need, "count", officers.file, line,
                    f"{name}：{label} {have} 名，少于 {need} 名（{req.clause}） / {name}: {have} "
                    f"{officers.content.roles[role].label_en}(s), fewer than {need} ({req.clause})",
                ))
        for role in req.ab_required:
            have_ab = {o.ab for o in unit.of_role(role)}
            missing = sorted({"A", "B"} - have_ab)
            if missing:
                out.append(Shortfall(
                    name, role, len(have_ab), 2, "ab", officers.file, line,
                    f"{name}：{officers.role_label(role)} 缺少 {'、'.join(m + '角' for m in missing)}"
                    f"（{req.clause}） / {name}: no {' or '.join(missing)} role among its "
                    f"{officers.content.roles[role].label_en}s ({req.clause})",
                ))
    return out


def _citation(ruleset: Ruleset, clause: str | None) -> Citation | None:
    return ruleset.citation(clause) if clause else None


def officer_on_duty(
    ruleset: Ruleset,
    unit: str,
    roles: Iterable[str],
    at: datetime,
    *,
    unavailable: Iterable[str] = (),
    clause: str | None = None,
) -> OfficerOnDuty:
    """The officer on duty at ``at`` in ``unit`` for the first of ``roles`` that has one: the
    A角, else the B角 (AB角制度), skipping officers absent that day or in ``unavailable``.

    Raises :class:`OfficerError` when the ruleset has no officers file, the unit is not in it,
    or no officer of those roles is on duty.
    """
    officers: LoadedOfficers | None = getattr(ruleset, "officers", None)
    if officers is None:
        raise OfficerError(f"规则集 {ruleset.name} 没有工作人员名册 / ruleset {ruleset.name} has no officers file")
    at = as_shanghai(at)
    day = at.date()
    away = set(unavailable)
    record = officers.units.get(unit)
    roles = list(roles)
    labels = "、".join(officers.role_label(r) for r in roles)
    if record is None:
        raise OfficerError(
            f"{officers.file} 中没有单位 {unit!r} 的{labels} / {officers.file} lists no officers for unit {unit!r}"
        )
    content = officers.content
    for role in roles:
        ordered = [o for o in record.of_role(role) if o.ab == "A"] + [o for o in record.of_role(role) if o.ab == "B"]
        skipped = [o for o in ordered if not o.available(day) or o.id in away]
        chosen = next((o for o in ordered if o not in skipped), None)
        if chosen is None:
            continue
        note = None
        if chosen.ab == "B" and any(o.ab == "A" for o in skipped):
            note = "A角不在岗，由B角办理 / the A role is away; the B role acts"
        label = content.roles[role]
        return OfficerOnDuty(
            unit=unit, role=role, role_label=label.text, officer_id=chosen.id, ab=chosen.ab, on_duty_at=at,
            note=note, citation=_citation(ruleset, clause or label.clause),
            duties=_citation(ruleset, content.duties_clause),
        )
    raise OfficerError(
        f"单位 {unit!r} 在 {day} 没有在岗的{labels}（{officers.file} 第 {officers.line_of('units', unit)} 行） / "
        f"unit {unit!r} has no {', '.join(roles)} officer on duty on {day} "
        f"({officers.file}:{officers.line_of('units', unit)})"
    )


def name_proxy_role(ruleset: Ruleset, decision: Decision, unit: str | None) -> Decision:
    """A PROXY decision names the role that fetches the certificate (the officers file's
    ``proxy_role``, with its clause), and the requesting unit when the request gave one.
    Other decisions, or a ruleset without officers file or proxy role, are returned as they are."""
    officers: LoadedOfficers | None = getattr(ruleset, "officers", None)
    if officers is None or officers.content.proxy_role is None or decision.method is not Method.PROXY:
        return decision
    role = officers.content.proxy_role
    label = officers.content.roles[role]
    named = OfficerOnDuty(
        unit=unit, role=role, role_label=label.text, citation=_citation(ruleset, label.clause),
        duties=_citation(ruleset, officers.content.duties_clause),
    )
    return decision.model_copy(update={"proxy_officer": named})


def proxy_on_duty(
    ruleset: Ruleset,
    decision: Decision,
    at: datetime | None = None,
    *,
    unit: str | None = None,
    unavailable: Iterable[str] = (),
) -> Decision:
    """The PROXY decision with the officer on duty at ``at`` (default: the request's time) in
    the requesting unit (``unit``, else the one the decision names). ``OfficerError`` when the
    decision is not PROXY, names no unit, or the unit has no proxy officer on duty."""
    named = decision.proxy_officer
    if decision.method is not Method.PROXY or named is None:
        raise OfficerError(
            f"决定不是干部代办，或规则集未规定代办角色 / the decision is {decision.method.value}, or the ruleset "
            "names no proxy role"
        )
    where = unit or named.unit
    if not where:
        raise OfficerError("未给出需求单位 / no requesting unit: pass unit= or set the request's requesting_unit")
    chosen = officer_on_duty(
        ruleset, where, [named.role], at or decision.requested_at, unavailable=unavailable
    )
    return decision.model_copy(update={"proxy_officer": chosen})
