"""``manifest.yaml``: the ruleset's name, validity, sources, method order, pledge policy, deadlines, wording.

The schema only (pydantic models, one per section of the file); the loader is ``policy/loader.py``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from nocert_rules.enums import CreditLevel, Method, RecordKind
from nocert_rules.policy.channels import VerificationPolicy
from nocert_rules.policy.legal_basis import LegalBasisPolicy
from nocert_rules.policy.strict import STRICT as _STRICT
from nocert_rules.policy.wording import RulesetWording, default_ruleset_wording, default_wording
from nocert_rules.worktime.deadlines import EscalationPolicy, Office
from nocert_rules.worktime.wording import (
    DeadlineWording,
    adjustment_problem,
    missing_kinds,
    template_problem,
)

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
    false_pledge_bar: Literal["permanent", "until_credit_repair"] = Field(
        default="until_credit_repair",
        description="a false pledge (blacklist, or found by the library) bars pledges for good (permanent) or "
        "until a credit repair dated after it (until_credit_repair)",
    )
    false_pledge_bar_clause: str | None = Field(
        default=None, description="the clause behind false_pledge_bar (the plan's, or a national opinion's)"
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
    publication_schedule: Literal["calendar_halves", "months_after_last"] = Field(
        default="calendar_halves",
        description="how the next publication falls due: once in each period ending on a publication_month_days "
        "day (calendar_halves), or publication_months after the last one (months_after_last)",
    )
    publication_months: int = Field(default=6, ge=1, le=24, description="months_after_last: the months")
    publication_schedule_clause: str | None = Field(
        default=None, description="the clause (or ruleset note) behind the schedule chosen"
    )
    minutes_unit: Literal["working_minutes", "elapsed_minutes"] = Field(
        default="working_minutes",
        description="how a verification limit in minutes counts: office minutes (the clock stops outside office "
        "hours) or elapsed minutes from the request",
    )
    minutes_unit_clause: str | None = Field(default=None, description="the clause (or ruleset note) behind minutes_unit")
    office_hours: dict[str, Any] | None = None
    overrides_file: str | None = None
    escalation: EscalationPolicy | None = Field(
        default=None,
        description="where a late verification reply is reported: office, clause, action",
    )
    adjustment_office: Office | None = Field(
        default=None, description="the office list-adjustment applications go to"
    )
    wording: DeadlineWording = Field(
        default_factory=default_wording,
        description="the words of every deadline rule: templates in zh and en with {placeholders}, each "
        "beside its clause (nocert_rules.worktime.wording); unset, the bundled nocert_rules/policy/"
        "default_wording.yaml, citing no clause",
    )

    @field_validator("wording")
    @classmethod
    def _office_named(cls, value: DeadlineWording, info: ValidationInfo) -> DeadlineWording:
        if "adjustment_office" in info.data:  # else its own error is reported
            problem = adjustment_problem(value, info.data["adjustment_office"] is not None)
            if problem:
                raise ValueError(problem)
        return value

    @field_validator("overrides_file")
    @classmethod
    def _inside_the_folder(cls, value: str | None) -> str | None:
        return _relative_path(value)

    @field_validator("verification")
    @classmethod
    def _every_record_kind(cls, value: dict[RecordKind, TimeLimit]) -> dict[RecordKind, TimeLimit]:
        if missing := missing_kinds(value):
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

ACCOUNTABILITY_DETAILS: dict[str, tuple[str, ...]] = {
    "verification_late": ("due",),
    "verification_unanswered": ("due", "state"),
    "pledge_checked_late": ("due",),
    "pledge_unchecked": ("due",),
    "complaint_concluded_late": ("due",),
    "complaint_open": ("due",),
    "adjustment_late": ("due",),
    "adjustment_not_applied": ("due", "cause_on"),
    "publication_overdue": ("due_on", "counted_from"),
    "guide_forbidden": ("material", "service_item", "reason"),
    "certificate_not_listed": ("certificate", "service_item"),
    "method_not_allowed": ("method", "certificate", "service_item", "allowed"),
    "unit_not_recorded": (),
}
"""What ``records.accountability`` finds in a record, by name, and the ``{placeholders}`` its
detail sentence may use (the manifest's ``accountability.details`` words each one)."""


class AccountabilityPolicy(BaseModel):
    """责任追究: the clause listing the cases, its item per case kind, and the exemption clause."""

    model_config = _STRICT
    clause: str
    cases: dict[str, str] = Field(description="case kind -> the clause's item, e.g. late_verification: （三）")
    exemption_clause: str
    exemption_grounds: list[str] = Field(min_length=1, description="the exemption clause's items")
    exemption_application_clause: str | None = Field(
        default=None, description="applying for an exemption and who decides (records/exemptions.py)"
    )
    exemption_filing_clause: str | None = Field(default=None, description="免责备案: filing a granted exemption")
    review_clause: str | None = Field(
        default=None, description="复核(申诉) of an accountability decision, which does not suspend it"
    )
    details: dict[str, str] = Field(
        description="finding -> the case's detail sentence, Chinese first, with {placeholders} from the record "
                    "(ACCOUNTABILITY_DETAILS names both)"
    )

    @field_validator("details")
    @classmethod
    def _every_finding(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(ACCOUNTABILITY_DETAILS))
        missing = [k for k in ACCOUNTABILITY_DETAILS if k not in value]
        if unknown or missing:
            raise ValueError(f"details must word exactly {list(ACCOUNTABILITY_DETAILS)}; unknown {unknown}, "
                             f"missing {missing}")
        for key, text in value.items():
            problem = template_problem(text, ACCOUNTABILITY_DETAILS[key])
            if problem:
                raise ValueError(f"details.{key}: {problem}")
        return value

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
    units: str | None = Field(
        default=None, description="issuing units for import-list (policy/units.py); default units.yaml if present"
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


class PendingAdjustmentPolicy(BaseModel):
    """``manifest.yaml: pending_adjustment``: the methods, in order, a unit uses while an adjustment
    of the row is pending (附件3 第九条 第二款 in Zibo: 自行选择证明材料免提交方式，不得向行政相对人索取).

    The rules that test ``request.adjustment_pending`` must offer exactly these methods, and the
    manifest's ``method_order`` must rank them in this order (checked at load): the manifest
    states the reading, the rules carry it out."""

    model_config = _STRICT
    methods: list[Method] = Field(min_length=1, description="the unit's choice, in order")
    clause: str
    reading_clause: str | None = Field(default=None, description="the clause (or ruleset note) behind the choice")

    @field_validator("methods")
    @classmethod
    def _never_the_applicant(cls, value: list[Method]) -> list[Method]:
        if Method.APPLICANT_PROVIDED in value or Method.ABOLISH in value:
            raise ValueError("the unit may not ask the applicant (APPLICANT_PROVIDED), nor abolish a retained row")
        if len(set(value)) != len(value):
            raise ValueError("a method is listed twice")
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
    pending_adjustment: PendingAdjustmentPolicy | None = Field(
        default=None, description="the methods a unit uses while a list adjustment is pending"
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
    wording: RulesetWording = Field(
        default_factory=default_ruleset_wording,
        description="the words of the trace and of the records: the methods' labels and templates in zh and en "
        "with {placeholders}, each beside its clause (nocert_rules.policy.wording); unset, the bundled "
        "nocert_rules/policy/default_ruleset_wording.yaml, citing no clause",
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

