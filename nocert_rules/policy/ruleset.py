"""Rulesets are data: the manifest, the list, the policy rules and the clauses they cite.

A ruleset is a folder::

    manifest.yaml       name, version, validity, sources, method order, pledge policy, deadlines
    certificates.yaml   the list (《证明事项免提交清单》), one row per (service item, certificate)
    rules.yaml          the policy rules: condition -> offer or block a method, with the clause
    clauses.yaml        the clauses cited, with their text
    calendar_overrides.yaml (optional) local days off / working days, see docs/calendar.md

``load_ruleset(path)`` validates everything; every problem is one ``RulesetError`` naming
file, line, field path and what is wrong. Unknown keys are errors.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nocert_rules.enums import CreditLevel, Method, RecordKind, ReplacementMethod, RowStatus
from nocert_rules.errors import RulesetError
from nocert_rules.models import Citation
from nocert_rules.policy import conditions
from nocert_rules.policy.yaml_source import (
    LocatedYaml,
    format_path,
    load_located_yaml,
    validate_located,
)
from nocert_rules.worktime.deadlines import DeadlinePolicy, EscalationPolicy, Office, WorkingLimit

if TYPE_CHECKING:
    from nocert_rules.worktime.calendar import WorkCalendar

MAX_RULES = 400
"""durable_rules 2.0.28 has failed past about 480 rules in one ruleset; stay well below."""

_STRICT = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- manifest.yaml


class SourceDocument(BaseModel):
    """A document the ruleset cites (a plan, an annex, a State Council opinion)."""

    model_config = _STRICT
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    title: str
    issuer: str
    date: date
    note: str | None = None


class Fallback(BaseModel):
    """What to answer when every method was blocked or not offered."""

    model_config = _STRICT
    method: Method
    applicant_must_submit: bool
    reason: str
    clause: str


class PostCheckRule(BaseModel):
    """事中事后核查 for one credit level: waived, or a check within N working days (三(三)2)."""

    model_config = _STRICT
    waived: bool
    within_working_days: int | None = Field(default=None, ge=1, le=365)
    description: str
    clause: str

    @model_validator(mode="after")
    def _waived_xor_days(self) -> PostCheckRule:
        if self.waived == (self.within_working_days is not None):
            raise ValueError("set either waived: true, or waived: false with within_working_days")
        return self


class PledgePolicy(BaseModel):
    model_config = _STRICT
    risk_categories: dict[str, str] = Field(description="key -> label of every risk category rows may use")
    barring_risk_categories: list[str] = Field(description="categories for which no pledge is accepted")
    barring_clause: str
    post_check: dict[CreditLevel, PostCheckRule]

    @model_validator(mode="after")
    def _barring_known(self) -> PledgePolicy:
        unknown = [c for c in self.barring_risk_categories if c not in self.risk_categories]
        if unknown:
            raise ValueError(f"barring categories not declared in risk_categories: {unknown}")
        return self

    @field_validator("post_check")
    @classmethod
    def _every_credit_level(cls, value: dict[CreditLevel, PostCheckRule]) -> dict[CreditLevel, PostCheckRule]:
        missing = [level.value for level in CreditLevel if level not in value]
        if missing:
            raise ValueError(f"no post-check plan for credit levels {missing} / 缺少信用等级的核查安排")
        return value


class TimeLimit(BaseModel):
    """A reply limit in working minutes or working days (one of the two)."""

    model_config = _STRICT
    working_minutes: int | None = Field(default=None, ge=1)
    working_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_unit(self) -> TimeLimit:
        if (self.working_minutes is None) == (self.working_days is None):
            raise ValueError("set exactly one of working_minutes, working_days")
        return self


class DeadlineParameters(BaseModel):
    """The plan's time limits, read by ``nocert_rules.worktime.deadlines``."""

    model_config = _STRICT
    verification: dict[RecordKind, TimeLimit]
    verification_clause: str
    statutory_limit_clause: str | None = Field(
        default=None, description="clause cited when a row sets its own statutory limit"
    )
    complaint_working_days: int = Field(ge=1)
    complaint_max_extension_days: int = Field(ge=0)
    complaint_clause: str
    adjustment_working_days: int = Field(ge=1)
    adjustment_clause: str
    publication_month_days: list[str] = Field(min_length=1)
    publication_clause: str
    office_hours: dict[str, Any] | None = None
    overrides_file: str | None = None
    escalation: EscalationPolicy | None = Field(
        default=None,
        description="where a late verification reply is reported: office, clause, action",
    )
    adjustment_office: Office | None = Field(
        default=None, description="the office list-adjustment applications go to"
    )

    @field_validator("overrides_file")
    @classmethod
    def _inside_the_folder(cls, value: str | None) -> str | None:
        return _relative_path(value)

    @field_validator("verification")
    @classmethod
    def _every_record_kind(cls, value: dict[RecordKind, TimeLimit]) -> dict[RecordKind, TimeLimit]:
        missing = [k.value for k in RecordKind if k not in value]
        if missing:
            raise ValueError(f"missing limits for record kinds: {missing}")
        return value

    @field_validator("publication_month_days")
    @classmethod
    def _month_days(cls, value: list[str]) -> list[str]:
        for md in value:
            if not re.fullmatch(r"\d{2}-\d{2}", md):
                raise ValueError(f"{md!r} is not MM-DD")
            datetime.strptime("2024-" + md, "%Y-%m-%d")
        return sorted(value)


class AdjustmentCausePlan(BaseModel):
    """One 调整事由 a list-adjustment application may give (附件3 第六条–第八条 in Zibo)."""

    model_config = _STRICT
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    type: Literal["add", "change", "cancel"]
    clause: str
    item: str | None = Field(default=None, description="the item of the clause, e.g. （一）")
    label: str = Field(min_length=1)
    other: bool = Field(default=False, description="a catch-all item: the application must describe the cause")


class RecordClauses(BaseModel):
    """The clauses the records cite (``nocert_rules.records``). Each is optional: unset, the record
    cites no clause (``clause: null``) and ``lint`` warns."""

    model_config = _STRICT
    verification_return_clause: str | None = Field(
        default=None, description="returning a request outside the issuer's duties"
    )
    supplement_clause: str | None = Field(
        default=None, description="supplementary material after a mismatch, and its ledger"
    )
    purpose_clause: str | None = Field(
        default=None, description="verified facts used only for their purpose"
    )
    applicant_provided_clause: str | None = Field(
        default=None, description="the office may not refuse a document the applicant provides"
    )
    pledge_clause: str | None = Field(default=None, description="the pledge and its post-check")
    blacklist_clause: str | None = Field(default=None, description="the false-pledge blacklist")
    complaint_register_clause: str | None = Field(
        default=None, description="registering a complaint"
    )
    complaint_termination_clause: str | None = Field(
        default=None, description="terminating a complaint"
    )
    adjustment_causes: list[AdjustmentCausePlan] = Field(
        default_factory=list,
        description="the causes an adjustment application may give; empty: any, described in words",
    )

    @field_validator("adjustment_causes")
    @classmethod
    def _unique_causes(cls, value: list[AdjustmentCausePlan]) -> list[AdjustmentCausePlan]:
        ids = [c.id for c in value]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"duplicate adjustment cause ids: {repeated}")
        return value


class RulesetFiles(BaseModel):
    """The ruleset's files, as paths relative to its folder (never outside it)."""

    model_config = _STRICT
    certificates: str = "certificates.yaml"
    rules: str = "rules.yaml"
    clauses: str = "clauses.yaml"
    pledge_template: str | None = None
    complaint_rules: str | None = None

    @field_validator("*")
    @classmethod
    def _inside_the_folder(cls, value: str | None) -> str | None:
        return _relative_path(value)


def _relative_path(value: str | None) -> str | None:
    if value is None:
        return value
    parts = Path(value).parts
    if not value.strip() or Path(value).is_absolute() or ".." in parts or value.startswith("~"):
        raise ValueError(f"{value!r} must be a path inside the ruleset folder / 路径须位于规则集目录内")
    return value


class Manifest(BaseModel):
    model_config = _STRICT
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    version: str
    jurisdiction: str
    effective_from: date
    effective_until: date | None = None
    validity_clause: str | None = None
    sources: list[SourceDocument] = Field(min_length=1)
    method_order: list[Method]
    method_order_clause: str
    fallback: Fallback
    pledge_policy: PledgePolicy
    deadlines: DeadlineParameters
    service_item_code_pattern: str = r"^\S+$"
    files: RulesetFiles = RulesetFiles()
    records: RecordClauses = RecordClauses()

    @field_validator("method_order")
    @classmethod
    def _every_method_once(cls, value: list[Method]) -> list[Method]:
        if sorted(value) != sorted(Method):
            raise ValueError(f"must list each of {[m.value for m in Method]} exactly once")
        return value

    @field_validator("service_item_code_pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _dates(self) -> Manifest:
        if self.effective_until is not None and self.effective_until < self.effective_from:
            raise ValueError("effective_until is before effective_from")
        return self


# ---------------------------------------------------------------- certificates.yaml


class RowLimit(TimeLimit):
    """A statutory procedure's own time limit for this certificate (三(三)3), with its basis."""

    basis: str = Field(min_length=1)


class ListRow(BaseModel):
    """One row of 《证明事项免提交清单》: a certificate a service item needs (三(一)1-2)."""

    model_config = _STRICT
    service_item_code: str = Field(min_length=1)
    service_item_name: str = Field(min_length=1)
    certificate_id: str = Field(min_length=1)
    certificate_name: str = Field(min_length=1)
    legal_basis: str | None = None
    issuer: str = Field(min_length=1)
    issuer_department: str = Field(min_length=1)
    methods: list[ReplacementMethod] = Field(default_factory=list)
    sharing_source: str | None = None
    records: RecordKind
    risk_categories: list[str] = Field(default_factory=list)
    status: RowStatus
    verification_limit: RowLimit | None = None
    note: str | None = None

    @field_validator("legal_basis", "sharing_source", "note")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if isinstance(value, str) else value

    @field_validator("methods")
    @classmethod
    def _no_repeats(cls, value: list[ReplacementMethod]) -> list[ReplacementMethod]:
        if len(set(value)) != len(value):
            raise ValueError("a method is listed twice")
        return value

    @model_validator(mode="after")
    def _sharing_needs_source(self) -> ListRow:
        if ReplacementMethod.DATA_SHARING in self.methods and not self.sharing_source:
            raise ValueError("data_sharing is allowed but sharing_source is empty")
        return self

    @property
    def key(self) -> tuple[str, str]:
        return (self.service_item_code, self.certificate_id)

    @property
    def has_legal_basis(self) -> bool:
        return bool(self.legal_basis)


class CertificateList(BaseModel):
    model_config = _STRICT
    rows: list[ListRow]


# ---------------------------------------------------------------- rules.yaml


class PolicyRule(BaseModel):
    """One policy rule: when the condition holds, offer or block a method, per a clause."""

    model_config = _STRICT
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    method: Method
    effect: Literal["offer", "block"]
    when: dict[str, Any]
    clause: str
    reason: str = Field(min_length=1, description="中文理由 / English reason")
    note: str | None = None


class RuleFile(BaseModel):
    model_config = _STRICT
    rules: list[PolicyRule] = Field(min_length=1)


# ---------------------------------------------------------------- clauses.yaml


class Clause(BaseModel):
    model_config = _STRICT
    id: str = Field(min_length=1)
    source: str
    title: str | None = None
    text: str = Field(min_length=1)
    quoted: bool = Field(default=True, description="false when the text is a summary, not a quotation")


class ClauseFile(BaseModel):
    model_config = _STRICT
    clauses: list[Clause] = Field(min_length=1)


# ---------------------------------------------------------------- the loaded ruleset


class Ruleset:
    """A validated ruleset: the manifest, the list indexed for lookup, rules and clauses."""

    manifest_path: Path | None = None
    """The manifest file it was loaded from (``load_ruleset`` sets it; see policy/snapshot.py)."""

    def __init__(
        self,
        directory: Path,
        manifest: Manifest,
        rows: list[ListRow],
        rules: list[PolicyRule],
        clauses: list[Clause],
        sha256: str,
        files: dict[str, bytes],
        calendar_overrides: dict[str, Any] | None = None,
    ) -> None:
        self.directory = directory
        self.manifest = manifest
        self.rows = rows
        self.rules = rules
        self.clauses = {c.id: c for c in clauses}
        self.sources = {s.id: s for s in manifest.sources}
        self.sha256 = sha256
        self.files = files
        self.calendar_overrides = calendar_overrides
        self.service_items: frozenset[str] = frozenset(row.service_item_code for row in rows)
        self._by_id = {row.key: row for row in rows}
        self._by_name = {(row.service_item_code, row.certificate_name): row for row in rows}

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version

    def find_row(self, service_item: str, certificate: str) -> ListRow | None:
        """The row for a certificate id or its exact name under a service item, if listed."""
        return self._by_id.get((service_item, certificate)) or self._by_name.get(
            (service_item, certificate)
        )

    def citation(self, clause_id: str) -> Citation:
        clause = self.clauses[clause_id]
        source = self.sources[clause.source]
        return Citation(
            clause_id=clause.id, source_id=source.id, source_title=source.title, text=clause.text
        )

    @cached_property
    def calendar(self) -> WorkCalendar:
        """The working-time calendar this ruleset configures (office hours, local overrides)."""
        from nocert_rules.worktime.calendar import CalendarOverrides, OfficeHours, WorkCalendar

        hours = self.manifest.deadlines.office_hours
        return WorkCalendar(
            office_hours=OfficeHours.model_validate(hours) if hours else None,
            overrides=CalendarOverrides.model_validate(self.calendar_overrides)
            if self.calendar_overrides
            else None,
        )

    @cached_property
    def deadline_policy(self) -> DeadlinePolicy:
        """The manifest's deadline figures and clause ids, for ``nocert_rules.worktime.deadlines``."""
        d = self.manifest.deadlines
        return DeadlinePolicy(
            verification={
                kind: WorkingLimit(working_days=limit.working_days, working_minutes=limit.working_minutes)
                for kind, limit in d.verification.items()
            },
            verification_clause=d.verification_clause,
            statutory_limit_clause=d.statutory_limit_clause,
            escalation=d.escalation,
            complaint_working_days=d.complaint_working_days,
            complaint_max_extension_days=d.complaint_max_extension_days,
            complaint_clause=d.complaint_clause,
            adjustment_working_days=d.adjustment_working_days,
            adjustment_clause=d.adjustment_clause,
            adjustment_office=d.adjustment_office,
            publication_month_days=tuple(d.publication_month_days),
            publication_clause=d.publication_clause,
        )

    def in_force(self, at: date) -> bool:
        m = self.manifest
        return m.effective_from <= at and (m.effective_until is None or at <= m.effective_until)


def _hash(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def load_ruleset(path: str | Path) -> Ruleset:
    """Load and validate a ruleset folder (or its manifest.yaml). Raises ``RulesetError``."""
    path = Path(path)
    directory = path if path.is_dir() else path.parent
    manifest_path = path / "manifest.yaml" if path.is_dir() else path
    if not directory.exists():
        raise RulesetError(str(path), None, None, "ruleset not found / 规则集不存在")
    files: dict[str, bytes] = {}

    def read(name: str) -> LocatedYaml:
        file = directory / name
        doc = load_located_yaml(file, name)
        files[name] = doc.raw if doc.raw is not None else file.read_bytes()  # the bytes parsed
        return doc

    manifest_doc = read(manifest_path.name)
    manifest: Manifest = validate_located(Manifest, manifest_doc)
    cert_doc = read(manifest.files.certificates)
    rows: list[ListRow] = validate_located(CertificateList, cert_doc).rows
    rule_doc = read(manifest.files.rules)
    rules: list[PolicyRule] = validate_located(RuleFile, rule_doc).rules
    clause_doc = read(manifest.files.clauses)
    clauses: list[Clause] = validate_located(ClauseFile, clause_doc).clauses

    overrides: dict[str, Any] | None = None
    if manifest.deadlines.overrides_file:
        overrides_doc = read(manifest.deadlines.overrides_file)
        overrides = overrides_doc.data or None
        if overrides is not None:
            from nocert_rules.worktime.calendar import CalendarOverrides

            validate_located(CalendarOverrides, overrides_doc)
    if manifest.deadlines.office_hours:
        from nocert_rules.worktime.calendar import OfficeHours

        try:
            OfficeHours.model_validate(manifest.deadlines.office_hours)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise manifest_doc.error(
                ("deadlines", "office_hours", *err["loc"]), err["msg"].removeprefix("Value error, ")
            ) from None
    if manifest.files.pledge_template:
        template = directory / manifest.files.pledge_template
        if not template.is_file():
            raise manifest_doc.error(("files", "pledge_template"), "file not found / 文件不存在")
        files[manifest.files.pledge_template] = template.read_bytes()
    if manifest.files.complaint_rules:
        complaint_rules = directory / manifest.files.complaint_rules
        if not complaint_rules.is_file():
            raise manifest_doc.error(("files", "complaint_rules"), "file not found / 文件不存在")
        files[manifest.files.complaint_rules] = complaint_rules.read_bytes()

    _check_cross_references(manifest, manifest_doc, rows, cert_doc, rules, rule_doc, clauses, clause_doc)
    ruleset = Ruleset(directory, manifest, rows, rules, clauses, _hash(files), files, overrides)
    ruleset.manifest_path = manifest_path
    # The records' files are checked now, not at the counter when first used.
    if manifest.files.complaint_rules:
        from nocert_rules.policy.complaint_rules import load_complaint_rules

        load_complaint_rules(ruleset)
    if manifest.files.pledge_template:
        from nocert_rules.policy.pledge_template import load_pledge_template

        load_pledge_template(ruleset)
    return ruleset


def _check_cross_references(
    manifest: Manifest,
    manifest_doc: LocatedYaml,
    rows: list[ListRow],
    cert_doc: LocatedYaml,
    rules: list[PolicyRule],
    rule_doc: LocatedYaml,
    clauses: list[Clause],
    clause_doc: LocatedYaml,
) -> None:
    sources = {s.id for s in manifest.sources}
    clause_ids: set[str] = set()
    for i, clause in enumerate(clauses):
        if clause.id in clause_ids:
            raise clause_doc.error(("clauses", i, "id"), f"duplicate clause id {clause.id!r}")
        clause_ids.add(clause.id)
        if clause.source not in sources:
            raise clause_doc.error(
                ("clauses", i, "source"), f"unknown source {clause.source!r}; manifest sources: {sorted(sources)}"
            )

    def cited(doc: LocatedYaml, path: tuple[str | int, ...], clause_id: str) -> None:
        if clause_id not in clause_ids:
            raise doc.error(path, f"cites unknown clause {clause_id!r} (not in clauses file)")

    m = manifest
    cited(manifest_doc, ("method_order_clause",), m.method_order_clause)
    cited(manifest_doc, ("fallback", "clause"), m.fallback.clause)
    cited(manifest_doc, ("pledge_policy", "barring_clause"), m.pledge_policy.barring_clause)
    for level, plan in m.pledge_policy.post_check.items():
        cited(manifest_doc, ("pledge_policy", "post_check", level.value, "clause"), plan.clause)
    for field in ("verification_clause", "complaint_clause", "adjustment_clause", "publication_clause"):
        cited(manifest_doc, ("deadlines", field), getattr(m.deadlines, field))
    if m.validity_clause:
        cited(manifest_doc, ("validity_clause",), m.validity_clause)
    if m.deadlines.statutory_limit_clause:
        cited(manifest_doc, ("deadlines", "statutory_limit_clause"), m.deadlines.statutory_limit_clause)
    if m.deadlines.escalation is not None:
        cited(manifest_doc, ("deadlines", "escalation", "clause"), m.deadlines.escalation.clause)
    for field in RecordClauses.model_fields:
        value = getattr(m.records, field)
        if isinstance(value, str):
            cited(manifest_doc, ("records", field), value)
    for i, cause in enumerate(m.records.adjustment_causes):
        cited(manifest_doc, ("records", "adjustment_causes", i, "clause"), cause.clause)

    seen: dict[tuple[str, str], int] = {}
    seen_names: dict[tuple[str, str], int] = {}
    known_risks = m.pledge_policy.risk_categories
    for i, row in enumerate(rows):
        if row.key in seen:
            first_line = cert_doc.line_of(("rows", seen[row.key]))
            raise cert_doc.error(
                ("rows", i),
                f"duplicate row for service item {row.service_item_code} and certificate "
                f"{row.certificate_id} (first at line {first_line}) / 清单行重复",
            )
        seen[row.key] = i
        name_key = (row.service_item_code, row.certificate_name)
        if name_key in seen_names:
            first_line = cert_doc.line_of(("rows", seen_names[name_key]))
            raise cert_doc.error(
                ("rows", i, "certificate_name"),
                f"two rows of service item {row.service_item_code} share the certificate name "
                f"{row.certificate_name!r} (first at line {first_line}); a lookup by name would be "
                "ambiguous / 同一事项下证明名称重复",
            )
        seen_names[name_key] = i
        for j, risk in enumerate(row.risk_categories):
            if risk not in known_risks:
                raise cert_doc.error(
                    ("rows", i, "risk_categories", j),
                    f"unknown risk category {risk!r}; declared: {sorted(known_risks)}",
                )

    if len(rules) > MAX_RULES:
        raise rule_doc.error(("rules",), f"{len(rules)} rules; durable_rules is unreliable past {MAX_RULES}")
    rule_ids: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.id in rule_ids:
            raise rule_doc.error(("rules", i, "id"), f"duplicate rule id {rule.id!r}")
        rule_ids.add(rule.id)
        cited(rule_doc, ("rules", i, "clause"), rule.clause)
        try:
            conditions.validate(rule.when)
        except conditions.ConditionError as exc:
            raise rule_doc.error(("rules", i, "when", *exc.path), exc.problem) from None


__all__ = [
    "Ruleset",
    "load_ruleset",
    "Manifest",
    "ListRow",
    "PolicyRule",
    "Clause",
    "format_path",
    "validate_located",
]
