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

import difflib
import hashlib
import re
from collections.abc import Callable
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nocert_rules.enums import CreditLevel, Method, RecordKind, ReplacementMethod, RowStatus
from nocert_rules.errors import Problem, RulesetError
from nocert_rules.models import Citation
from nocert_rules.policy import conditions, versions
from nocert_rules.policy.channels import VerificationPolicy
from nocert_rules.policy.legal_basis import (
    LegalBasis,
    LegalBasisInput,
    LegalBasisPolicy,
    as_bases,
    bases_text,
    counts_on,
    dated,
)
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
    post_check: dict[CreditLevel, PostCheckRule] = Field(
        description="the post-check plan per credit level; a level may be left out when a PLEDGE "
        "block rule always blocks it (e.g. untrustworthy applicants)"
    )
    credit_repair_counts_from: Literal["next_day", "same_day"] = Field(
        default="next_day",
        description="a credit repair dated D counts for requests from D+1 (next_day) or from D (same_day)",
    )
    credit_repair_clause: str | None = Field(
        default=None, description="clause explaining which bars a repair lifts and from when"
    )
    choice_clause: str | None = Field(
        default=None, description="clause cited when the applicant has not chosen yet whether to pledge"
    )

    @model_validator(mode="after")
    def _barring_known(self) -> PledgePolicy:
        unknown = [c for c in self.barring_risk_categories if c not in self.risk_categories]
        if unknown:
            raise ValueError(f"barring categories not declared in risk_categories: {unknown}")
        return self

    # A credit level without a plan is allowed only when a PLEDGE block rule always blocks it
    # (checked with the rules, at load: ``_post_check_always_blocked``).


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


ACCOUNTABILITY_CASES = (
    "unauthorised_request", "method_changed", "late_verification", "falsified", "pledge_not_checked", "other_serious",
)
"""The kinds of accountability case ``records.accountability`` derives (mechanism names)."""


class AccountabilityPolicy(BaseModel):
    """责任追究: the clause listing the cases, its item per case kind, and the exemption clause."""

    model_config = _STRICT
    clause: str
    cases: dict[str, str] = Field(description="case kind -> the clause's item, e.g. late_verification: （三）")
    exemption_clause: str
    exemption_grounds: list[str] = Field(min_length=1, description="the exemption clause's items")

    @field_validator("cases")
    @classmethod
    def _every_kind(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(ACCOUNTABILITY_CASES))
        missing = [k for k in ACCOUNTABILITY_CASES if k not in value]
        if unknown or missing:
            raise ValueError(f"cases must map exactly {list(ACCOUNTABILITY_CASES)}; unknown {unknown}, missing {missing}")
        return value


class CreditOutcomeLabels(BaseModel):
    """The words a credit-record entry gives each pledge outcome (``records.credit``), Chinese first.

    The defaults name the outcome only; a ruleset sets its own words (Zibo: manifest
    ``records.credit_outcomes``)."""

    model_config = _STRICT
    passed: str = Field(
        default="履行承诺（核查通过） / pledge kept (post-check passed)", min_length=1,
        description="the post-check (or a random inspection) found the pledge true",
    )
    found_false: str = Field(
        default="承诺不实 / pledge found false", min_length=1,
        description="the post-check (or a random inspection) found the pledge false",
    )
    waived: str = Field(
        default="免予核查 / post-check waived", min_length=1,
        description="the plan waived the post-check (random inspection remains)",
    )


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
    credit_record_clause: str | None = Field(
        default=None, description="every pledge outcome in the credit record (records/credit.py)"
    )
    credit_outcomes: CreditOutcomeLabels = Field(
        default_factory=CreditOutcomeLabels, description="the words of each pledge outcome in the credit record"
    )
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


class OnTheSpotPolicy(BaseModel):
    """即办件: an on-the-spot item's approval clock, verification time paused (附件2 第七条 in Zibo).

    ``clause`` is the clause that pauses the clock, ``rule`` says it in words (Chinese first).
    ``working_minutes`` is the ruleset's time limit for an on-the-spot item (the Zibo plan sets
    none), cited by ``limit_clause``; unset, records give the paused intervals and the clock but
    no due time."""

    model_config = _STRICT
    clause: str = Field(min_length=1)
    rule: str = Field(min_length=1, description="the pause rule in words, Chinese first")
    working_minutes: int | None = Field(
        default=None, ge=1, description="the on-the-spot time limit in working minutes; unset: no due time"
    )
    limit_clause: str | None = Field(default=None, description="the clause (or note) that sets working_minutes")


class RulesetFiles(BaseModel):
    """The ruleset's files, as paths relative to its folder (never outside it)."""

    model_config = _STRICT
    certificates: str = "certificates.yaml"
    rules: str = "rules.yaml"
    clauses: str = "clauses.yaml"
    pledge_template: str | None = None
    complaint_rules: str | None = None
    adjustments: str | None = Field(
        default=None, description="published list adjustments (policy/list_adjustments.py); default adjustments.yaml if present"
    )
    officers: str | None = Field(
        default=None, description="units' liaison and proxy officers (policy/officers.py); default officers.yaml if present"
    )

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
    extends: str | None = Field(
        default=None, description="the folder of the ruleset this one overlays, e.g. ../zibo (policy/overlay.py)"
    )
    legal_basis_policy: LegalBasisPolicy | None = Field(
        default=None, description="which ranks of law suffice (policy/legal_basis.py); unset: any basis"
    )
    accountability: AccountabilityPolicy | None = Field(
        default=None, description="责任追究 cases and exemptions (records/accountability.py)"
    )
    on_the_spot: OnTheSpotPolicy | None = Field(
        default=None, description="即办件: the approval clock's pause rule and limit (records/on_the_spot.py)"
    )
    verification: VerificationPolicy | None = Field(
        default=None, description="verification channels, the secrecy exception, the on-site check (policy/channels.py)"
    )
    unknown_service_item: Literal["abolish", "error"] = Field(
        default="abolish",
        description="a service item with no row: abolish (with a warning naming the nearest codes) or error",
    )
    unknown_certificate: Literal["abolish", "error"] = Field(
        default="abolish",
        description="a certificate not listed under a known service item: abolish (with a warning) or error",
    )

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
    """A statutory procedure's own time limit for this certificate (三(三)3), with its basis,
    in force from ``valid_from`` to ``valid_until`` (inclusive; open when unset)."""

    basis: str = Field(min_length=1)
    valid_from: date | None = None
    valid_until: date | None = None

    @model_validator(mode="after")
    def _window(self) -> RowLimit:
        versions.check_window(self.valid_from, self.valid_until)
        return self


class ListRow(BaseModel):
    """One row of 《证明事项免提交清单》: a certificate a service item needs (三(一)1-2)."""

    model_config = _STRICT
    service_item_code: str = Field(min_length=1)
    service_item_name: str = Field(min_length=1)
    certificate_id: str = Field(min_length=1)
    certificate_name: str = Field(min_length=1)
    legal_basis: LegalBasisInput | None = None
    issuer: str = Field(min_length=1)
    issuer_department: str = Field(min_length=1)
    methods: list[ReplacementMethod] = Field(default_factory=list)
    sharing_source: str | None = None
    records: RecordKind
    risk_categories: list[str] = Field(default_factory=list)
    status: RowStatus
    verification_limit: RowLimit | list[RowLimit] | None = None
    valid_from: date | None = Field(default=None, description="this version is in force from (inclusive)")
    valid_until: date | None = Field(default=None, description="this version is in force until (inclusive)")
    note: str | None = None
    on_the_spot: bool = Field(
        default=False, description="即办件: the service item is decided at the counter (manifest on_the_spot)"
    )

    @field_validator("legal_basis", "sharing_source", "note")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, list):
            return value or None
        return value.strip() or None if isinstance(value, str) else value

    @model_validator(mode="after")
    def _windows(self) -> ListRow:
        versions.check_window(self.valid_from, self.valid_until)
        clash = versions.first_overlap(self.limits)
        if clash is not None:
            raise ValueError(
                f"verification_limit[{clash[0]}] and verification_limit[{clash[1]}] are in force on the "
                "same day / 两个法定时限的有效期重叠"
            )
        return self

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
    def bases(self) -> tuple[LegalBasis, ...]:
        """The row's legal bases, typed (a plain string is one unranked basis)."""
        return as_bases(self.legal_basis)

    @property
    def legal_basis_text(self) -> str | None:
        """The bases as one line (``None`` when there is none)."""
        return bases_text(self.bases) or None

    @property
    def has_legal_basis(self) -> bool:
        return bool(self.bases)

    @property
    def limits(self) -> tuple[RowLimit, ...]:
        value = self.verification_limit
        return () if value is None else tuple(value) if isinstance(value, list) else (value,)

    def limit_at(self, day: date | None) -> RowLimit | None:
        """The statutory limit in force on ``day`` (without a day: the latest one)."""
        limits = self.limits
        if not limits:
            return None
        if day is None:
            return versions.latest(limits)
        return versions.at(limits, day)

    @property
    def version(self) -> str:
        """This version's window, ``2021-09-01..`` (``always`` when undated)."""
        return versions.window_text(self)


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
    see_also: list[str] = Field(default_factory=list, description="further clauses the rule rests on")
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
    parent: Ruleset | None = None
    """The ruleset this one extends (a district's city), see policy/overlay.py."""
    overlay_changes: list[Any] = []
    """A district's changes to what it inherits (``policy.overlay.OverlayChange``)."""
    own_rows: list[ListRow] | None = None
    """A district's own rows, as its certificates file lists them (None: ``rows``)."""
    adjustments: list[Any] = []
    """Published list adjustments applied as row versions (``policy.list_adjustments``)."""
    own_rules: list[PolicyRule] | None = None
    """A district's own rules (added or replacing the parent's, by id)."""
    officers: Any = None
    """The officers file (``policy.officers.LoadedOfficers``), or None when the ruleset has none."""
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
        self._index = versions.RowIndex(rows)
        self.row_sources: dict[int, str] = {}
        """``id(row)`` -> the ruleset a row was inherited from (overlays, ``policy.overlay``)."""
        self._rows_on: dict[tuple[int, tuple[bool, ...]], ListRow] = {}
        """(``id(row)``, which bases count) -> the row with those bases (``find_row``); rows are kept
        alive by ``rows``, so their ids are not reused."""
        self._dated_bases = frozenset(
            id(row) for row in rows if dated(row.bases, row.valid_from or manifest.effective_from)
        )
        """The rows some of whose bases count on some days only (repealed, or in force later)."""

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version

    def find_row(self, service_item: str, certificate: str, at: date | None = None) -> ListRow | None:
        """The row for a certificate id or its exact name under a service item, if listed:
        the version in force on ``at`` (without ``at``: the latest version).

        On a day some basis of the row does not count (repealed, or not yet in force:
        ``legal_basis.counts_on``), the row comes with the bases that count on that day only
        (none: ``has_legal_basis`` is false and the rules abolish it); same window, same source."""
        row = self._index.find(service_item, certificate, at)
        if row is None or at is None:
            return row
        return self._row_on(row, at)

    def _row_on(self, row: ListRow, day: date) -> ListRow:
        """``row`` with the legal bases that count on ``day`` (``row`` itself when all do)."""
        if id(row) not in self._dated_bases:
            return row
        bases = row.bases
        start = row.valid_from or self.manifest.effective_from
        mask = tuple(counts_on(b, day, start) for b in bases)
        if all(mask):
            return row
        key = (id(row), mask)
        derived = self._rows_on.get(key)
        if derived is None:
            kept = [b for b, keep in zip(bases, mask, strict=True) if keep]
            candidate = row.model_copy(update={"legal_basis": kept or None})
            derived = self._rows_on.setdefault(key, candidate)
            if id(row) in self.row_sources:
                self.row_sources[id(derived)] = self.row_sources[id(row)]
        return derived

    def row_versions(self, service_item: str, certificate: str) -> list[ListRow]:
        """Every dated version of a row, in file order."""
        return self._index.versions(service_item, certificate)

    def rows_at(self, day: date) -> list[ListRow]:
        """The list as in force on ``day``."""
        return [row for row in self.rows if versions.in_force(row, day)]

    @property
    def versioned(self) -> bool:
        """Whether some row or limit carries dates."""
        return self._index.versioned or any(
            limit.valid_from or limit.valid_until for row in self.rows for limit in row.limits
        )

    def source_of(self, row: ListRow) -> str:
        """The name of the ruleset (the level: city, district) the row comes from."""
        return self.row_sources.get(id(row), self.name)

    def adjustment_pending(self, service_item: str, certificate: str, day: date) -> bool:
        """Whether a published adjustment of this row was pending on ``day`` (附件3 第九条)."""
        return any(a.key == (service_item, certificate) and a.pending_on(day) for a in self.adjustments)

    def basis_sufficient(self, row: ListRow) -> bool:
        """Whether the row rests on a basis of a rank the manifest accepts (二(一) in Zibo)."""
        from nocert_rules.policy.legal_basis import sufficient

        return sufficient(row.bases, self.manifest.legal_basis_policy)

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


CONVENTIONAL_OVERRIDES = "calendar_overrides.yaml"
"""Loaded when present and the manifest names no ``deadlines.overrides_file``."""


class _Problems:
    """Collects every problem of a load; ``attempt`` runs a step and keeps its problems."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, err: RulesetError) -> None:
        self.items.extend(err.problems)

    def attempt(self, step: Callable[[], Any]) -> Any:
        try:
            return step()
        except RulesetError as err:
            self.add(err)
            return None

    def raise_any(self) -> None:
        if self.items:
            raise RulesetError.of(self.items)


def load_ruleset(path: str | Path) -> Ruleset:
    """Load and validate a ruleset folder (or its manifest.yaml).

    Every problem found, in every file, goes into one ``RulesetError`` (``.problems``).
    """
    path = Path(path)
    directory = path if path.is_dir() else path.parent
    manifest_path = path / "manifest.yaml" if path.is_dir() else path
    if not directory.exists():
        raise RulesetError(str(path), None, None, "ruleset not found / 规则集不存在")
    files: dict[str, bytes] = {}
    problems = _Problems()

    def read(name: str) -> LocatedYaml | None:
        def step() -> LocatedYaml:
            file = directory / name
            doc = load_located_yaml(file, name)
            files[name] = doc.raw if doc.raw is not None else file.read_bytes()  # the bytes parsed
            return doc

        return problems.attempt(step)  # type: ignore[no-any-return]

    def validated(model: type[BaseModel], doc: LocatedYaml | None) -> Any:
        return None if doc is None else problems.attempt(lambda: validate_located(model, doc))

    manifest_doc = read(manifest_path.name)
    if manifest_doc is None:
        problems.raise_any()
    assert manifest_doc is not None
    from nocert_rules.policy.overlay import current_chain, extends_of, load_overlay

    if problems.attempt(lambda: extends_of(manifest_doc)):  # a district over its city (三(一)1)
        return load_overlay(directory, manifest_path, manifest_doc, files[manifest_path.name], current_chain())
    manifest: Manifest | None = validated(Manifest, manifest_doc)
    names = manifest.files if manifest is not None else _files_of(manifest_doc)
    cert_doc = read(names.certificates)
    cert_list: CertificateList | None = validated(CertificateList, cert_doc)
    rule_doc = read(names.rules)
    rule_file: RuleFile | None = validated(RuleFile, rule_doc)
    clause_doc = read(names.clauses)
    clause_file: ClauseFile | None = validated(ClauseFile, clause_doc)
    rows = cert_list.rows if cert_list is not None else None
    rules = rule_file.rules if rule_file is not None else None
    clauses = clause_file.clauses if clause_file is not None else None

    overrides: dict[str, Any] | None = None
    if manifest is not None:
        overrides = _load_overrides(manifest, manifest_doc, directory, read, problems)
        _load_named_files(manifest, manifest_doc, directory, files, problems)
    _check_cross_references(
        problems, manifest, manifest_doc, rows, cert_doc, rules, rule_doc, clauses, clause_doc
    )
    problems.raise_any()
    assert manifest is not None and rows is not None and rules is not None and clauses is not None
    adjustments = _load_adjustments(manifest, directory, read, problems)
    if adjustments:
        from nocert_rules.policy.list_adjustments import apply_adjustments

        adjusted = problems.attempt(lambda: apply_adjustments(rows, adjustments[0], adjustments[1]))
        problems.raise_any()
        rows = adjusted
    ruleset = Ruleset(directory, manifest, rows, rules, clauses, _hash(files), files, overrides)
    if adjustments:
        ruleset.adjustments = list(adjustments[0])
    ruleset.manifest_path = manifest_path
    # The records' files are checked now, not at the counter when first used.
    from nocert_rules.policy.complaint_rules import load_complaint_rules
    from nocert_rules.policy.pledge_template import PLACEHOLDERS, load_pledge_template

    if manifest.files.complaint_rules or COMPLAINT_RULES_NAME in files:
        problems.attempt(lambda: load_complaint_rules(ruleset))
    from nocert_rules.policy.officers import OFFICERS_NAME, load_officers

    if manifest.files.officers or OFFICERS_NAME in files:
        ruleset.officers = problems.attempt(lambda: load_officers(ruleset))
    if manifest.files.pledge_template or PLEDGE_TEMPLATE_NAME in files:
        template = problems.attempt(lambda: load_pledge_template(ruleset))
        if template is not None:
            problems.attempt(lambda: template.render({k: "…" for k in PLACEHOLDERS}))
    elif any(ReplacementMethod.PLEDGE in row.methods for row in rows):
        first = next(i for i, row in enumerate(rows) if ReplacementMethod.PLEDGE in row.methods)
        problems.add(
            manifest_doc.error(
                ("files", "pledge_template"),
                f"清单允许告知承诺（如 {names.certificates} 第 {cert_doc.line_of(('rows', first)) if cert_doc else '?'} "
                f"行），但没有告知承诺书模板：请添加 {PLEDGE_TEMPLATE_NAME} / rows allow pledges but the ruleset "
                f"has no pledge template: add {PLEDGE_TEMPLATE_NAME} (or name one in files.pledge_template)",
            )
        )
    problems.raise_any()
    return ruleset


PLEDGE_TEMPLATE_NAME = "templates/pledge.md"
COMPLAINT_RULES_NAME = "complaint_rules.yaml"


def _files_of(manifest_doc: LocatedYaml) -> RulesetFiles:
    """The file names an invalid manifest gives, where they are valid (else the defaults)."""
    data = manifest_doc.data.get("files") if isinstance(manifest_doc.data, dict) else None
    try:
        return RulesetFiles.model_validate(data or {})
    except ValidationError:
        return RulesetFiles()


def _load_adjustments(
    manifest: Manifest, directory: Path, read: Callable[[str], LocatedYaml | None], problems: _Problems
) -> tuple[list[Any], LocatedYaml] | None:
    """The published list adjustments (``files.adjustments``, else ``adjustments.yaml`` if present)."""
    from nocert_rules.policy.list_adjustments import ADJUSTMENTS_NAME, AdjustmentFile

    name = manifest.files.adjustments
    if name is None and (directory / ADJUSTMENTS_NAME).is_file():
        name = ADJUSTMENTS_NAME
    if name is None:
        return None
    doc = read(name)
    if doc is None:
        return None
    content = problems.attempt(lambda: validate_located(AdjustmentFile, doc))
    problems.raise_any()
    return (content.adjustments, doc) if content.adjustments else None


def _load_overrides(
    manifest: Manifest,
    manifest_doc: LocatedYaml,
    directory: Path,
    read: Callable[[str], LocatedYaml | None],
    problems: _Problems,
) -> dict[str, Any] | None:
    """The calendar overrides: the named file, else ``calendar_overrides.yaml`` if present."""
    from nocert_rules.worktime.calendar import CalendarOverrides, OfficeHours

    if manifest.deadlines.office_hours:
        try:
            OfficeHours.model_validate(manifest.deadlines.office_hours)
        except ValidationError as exc:
            for err in exc.errors():
                problems.add(
                    manifest_doc.error(
                        ("deadlines", "office_hours", *err["loc"]), str(err["msg"]).removeprefix("Value error, ")
                    )
                )
    name = manifest.deadlines.overrides_file
    if name is None and (directory / CONVENTIONAL_OVERRIDES).is_file():
        name = CONVENTIONAL_OVERRIDES
    if name is None:
        return None
    doc = read(name)
    if doc is None or not doc.data:
        return None
    if problems.attempt(lambda: validate_located(CalendarOverrides, doc)) is None:
        return None
    return doc.data  # type: ignore[no-any-return]


def _load_named_files(
    manifest: Manifest, manifest_doc: LocatedYaml, directory: Path, files: dict[str, bytes], problems: _Problems
) -> None:
    """The pledge template, complaint rules and officers: named in ``files``, else found by their usual names."""
    from nocert_rules.policy.officers import OFFICERS_NAME

    for field, usual in (
        ("pledge_template", PLEDGE_TEMPLATE_NAME), ("complaint_rules", COMPLAINT_RULES_NAME), ("officers", OFFICERS_NAME)
    ):
        name = getattr(manifest.files, field)
        if name is None:
            if (directory / usual).is_file():
                files[usual] = (directory / usual).read_bytes()
            continue
        file = directory / name
        if not file.is_file():
            problems.add(manifest_doc.error(("files", field), "file not found / 文件不存在"))
            continue
        files[name] = file.read_bytes()


def _post_check_always_blocked(rules: list[PolicyRule], level: CreditLevel) -> bool:
    """Some PLEDGE block rule holds whenever the applicant's credit is ``level``.

    Sound: the condition holds with only ``applicant.credit`` known, and an absent fact matches
    no test, so the rule's tests are on the credit alone (or one ``any`` branch is).
    """
    facts = {"applicant.credit": level.value}
    for rule in rules:
        if rule.method is not Method.PLEDGE or rule.effect != "block":
            continue
        try:
            conditions.validate(rule.when)
        except conditions.ConditionError:
            continue  # reported with the rules
        if conditions.evaluate(rule.when, facts):
            return True
    return False


def _check_cross_references(
    problems: _Problems,
    manifest: Manifest | None,
    manifest_doc: LocatedYaml,
    rows: list[ListRow] | None,
    cert_doc: LocatedYaml | None,
    rules: list[PolicyRule] | None,
    rule_doc: LocatedYaml | None,
    clauses: list[Clause] | None,
    clause_doc: LocatedYaml | None,
) -> None:
    """Every reference between the files; each part runs when the files it needs are valid."""
    report = problems.add
    clause_ids: set[str] = set()
    if clauses is not None and clause_doc is not None:
        sources = {s.id for s in manifest.sources} if manifest is not None else None
        for i, clause in enumerate(clauses):
            if clause.id in clause_ids:
                report(clause_doc.error(("clauses", i, "id"), f"duplicate clause id {clause.id!r}"))
            clause_ids.add(clause.id)
            if sources is not None and clause.source not in sources:
                report(clause_doc.error(
                    ("clauses", i, "source"), f"unknown source {clause.source!r}; manifest sources: {sorted(sources)}"
                ))

    def cited(doc: LocatedYaml, path: tuple[str | int, ...], clause_id: str) -> None:
        if clauses is not None and clause_id not in clause_ids:
            close = difflib.get_close_matches(clause_id, sorted(clause_ids), n=3)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            report(doc.error(path, f"cites unknown clause {clause_id!r} (not in clauses file){hint}"))

    if manifest is not None:
        m = manifest
        cited(manifest_doc, ("method_order_clause",), m.method_order_clause)
        cited(manifest_doc, ("fallback", "clause"), m.fallback.clause)
        cited(manifest_doc, ("pledge_policy", "barring_clause"), m.pledge_policy.barring_clause)
        for field in ("credit_repair_clause", "choice_clause"):
            if getattr(m.pledge_policy, field):
                cited(manifest_doc, ("pledge_policy", field), getattr(m.pledge_policy, field))
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
        if m.legal_basis_policy is not None:
            cited(manifest_doc, ("legal_basis_policy", "clause"), m.legal_basis_policy.clause)
        if m.on_the_spot is not None:
            cited(manifest_doc, ("on_the_spot", "clause"), m.on_the_spot.clause)
            if m.on_the_spot.limit_clause:
                cited(manifest_doc, ("on_the_spot", "limit_clause"), m.on_the_spot.limit_clause)
        if m.verification is not None:
            cited(manifest_doc, ("verification", "channels_clause"), m.verification.channels_clause)
            if m.verification.on_site_check is not None:
                cited(manifest_doc, ("verification", "on_site_check", "clause"), m.verification.on_site_check.clause)
            for i, risk in enumerate(m.verification.secret_risk_categories):
                if risk not in m.pledge_policy.risk_categories:
                    report(manifest_doc.error(
                        ("verification", "secret_risk_categories", i),
                        f"unknown risk category {risk!r}; declared in pledge_policy.risk_categories: "
                        f"{sorted(m.pledge_policy.risk_categories)}",
                    ))
        if m.accountability is not None:
            cited(manifest_doc, ("accountability", "clause"), m.accountability.clause)
            cited(manifest_doc, ("accountability", "exemption_clause"), m.accountability.exemption_clause)
        if rules is not None:
            for level in CreditLevel:
                if level not in m.pledge_policy.post_check and not _post_check_always_blocked(rules, level):
                    report(manifest_doc.error(
                        ("pledge_policy", "post_check", level.value),
                        f"no post-check plan for credit level {level.value!r}, and no PLEDGE block rule "
                        f"always blocks it / 缺少信用等级 {level.value} 的核查安排（且无规则总是阻止其承诺）",
                    ))

    if rows is not None and cert_doc is not None:
        # Rows sharing a key (or a certificate name) are dated versions: their windows must not
        # overlap (policy/versions.py).
        seen: dict[tuple[str, str], list[int]] = {}
        seen_names: dict[tuple[str, str], list[int]] = {}
        known_risks = manifest.pledge_policy.risk_categories if manifest is not None else None
        for i, row in enumerate(rows):
            clash = next((j for j in seen.get(row.key, ()) if versions.overlap(rows[j], row)), None)
            if clash is not None:
                first_line = cert_doc.line_of(("rows", clash))
                dated = rows[clash].version != "always" or row.version != "always"
                report(cert_doc.error(
                    ("rows", i),
                    f"duplicate row for service item {row.service_item_code} and certificate "
                    f"{row.certificate_id} (first at line {first_line})"
                    + (f": versions {rows[clash].version} and {row.version} overlap / 清单行版本有效期重叠"
                       if dated else " / 清单行重复"),
                ))
            seen.setdefault(row.key, []).append(i)
            name_key = (row.service_item_code, row.certificate_name)
            if clash is None:  # a repeated row: its repeated name is the same problem
                other = next((j for j in seen_names.get(name_key, ())
                              if rows[j].key != row.key and versions.overlap(rows[j], row)), None)
                if other is not None:
                    first_line = cert_doc.line_of(("rows", other))
                    report(cert_doc.error(
                        ("rows", i, "certificate_name"),
                        f"two rows of service item {row.service_item_code} share the certificate name "
                        f"{row.certificate_name!r} (first at line {first_line}); a lookup by name would be "
                        "ambiguous / 同一事项下证明名称重复",
                    ))
            seen_names.setdefault(name_key, []).append(i)
            if row.on_the_spot and manifest is not None and manifest.on_the_spot is None:
                report(cert_doc.error(
                    ("rows", i, "on_the_spot"),
                    "the row marks its service item 即办件 but the manifest has no on_the_spot section "
                    "(the pause rule and its clause) / 清单行标为即办件，但 manifest 未设 on_the_spot",
                ))
            for j, risk in enumerate(row.risk_categories):
                if known_risks is not None and risk not in known_risks:
                    report(cert_doc.error(
                        ("rows", i, "risk_categories", j),
                        f"unknown risk category {risk!r}; declared: {sorted(known_risks)}",
                    ))

    if rules is not None and rule_doc is not None:
        if len(rules) > MAX_RULES:
            report(rule_doc.error(("rules",), f"{len(rules)} rules; durable_rules is unreliable past {MAX_RULES}"))
        rule_ids: set[str] = set()
        for i, rule in enumerate(rules):
            if rule.id in rule_ids:
                report(rule_doc.error(("rules", i, "id"), f"duplicate rule id {rule.id!r}"))
            rule_ids.add(rule.id)
            cited(rule_doc, ("rules", i, "clause"), rule.clause)
            for j, also in enumerate(rule.see_also):
                cited(rule_doc, ("rules", i, "see_also", j), also)
            try:
                conditions.validate(rule.when)
            except conditions.ConditionError as exc:
                report(rule_doc.error(("rules", i, "when", *exc.path), exc.problem))


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
