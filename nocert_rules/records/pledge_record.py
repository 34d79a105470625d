"""The pledge's records: :class:`PledgeRecord` (a pledge and its post-check, 三(三)2) and
:class:`FalsePledgeEntry` (a false pledge for the blacklist, 三(五)3).

The data alone, so that what is built from a pledge (its credit-record entries,
:mod:`nocert_rules.records.credit`) and the pledge's own steps (:mod:`nocert_rules.records.pledge`,
which re-exports these names) both import it, and not each other.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Self

from pydantic import Field, model_validator

from nocert_rules.enums import ApplicantKind
from nocert_rules.models import PostCheckPlan, RulesetStamp, ShanghaiDatetime
from nocert_rules.records import HashedRef, Record


class PledgeState(StrEnum):
    AWAITING_CHECK = "awaiting_check"  # 待核查
    WAIVED = "waived"  # 免予核查，纳入“双随机、一公开”
    PASSED = "passed"  # 核查通过
    FOUND_FALSE = "found_false"  # 核查发现承诺不实


class PostCheckOutcome(StrEnum):
    PASSED = "passed"
    FOUND_FALSE = "found_false"
    WAIVED = "waived"  # waived; random inspection remains


FINAL_STATES = frozenset({PledgeState.PASSED, PledgeState.FOUND_FALSE})


class PledgeRecord(Record):
    """A pledge made under a PLEDGE decision, and its post-check (三(三)2)."""

    record_label: ClassVar[str] = "告知承诺记录 / pledge record"

    state: PledgeState = PledgeState.AWAITING_CHECK
    request_id: str | None = None
    service_item: str = Field(min_length=1)
    service_item_name: str | None = None
    certificate: str = Field(min_length=1)
    certificate_id: str | None = None
    certificate_name: str | None = None
    applicant_ref: HashedRef
    applicant_kind: ApplicantKind
    signed_at: ShanghaiDatetime
    text_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    post_check: PostCheckPlan
    ruleset: RulesetStamp
    clause: str | None = None  # the ruleset's records.pledge_clause
    blacklist_clause: str | None = None  # the ruleset's records.blacklist_clause, for a false pledge
    credit_record_clause: str | None = None  # the ruleset's records.credit_record_clause, for every outcome
    outcome_at: ShanghaiDatetime | None = None
    outcome_note: str | None = None
    by_random_inspection: bool = False
    checked_late: bool | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.state in FINAL_STATES and self.outcome_at is None:
            raise ValueError(f"{self.state} 状态须有 outcome_at / state {self.state} needs outcome_at")
        if self.state is PledgeState.FOUND_FALSE and not (self.outcome_note or "").strip():
            raise ValueError("承诺不实须写明核查发现 / found_false needs the finding")
        if self.state is PledgeState.WAIVED and not self.post_check.waived:
            raise ValueError("核查安排未免予核查 / the plan does not waive the check")
        return self


class FalsePledgeEntry(Record):
    """A false pledge for the credit system's 虚假承诺黑名单 (三(五)3); applicant by keyed hash."""

    record_label: ClassVar[str] = "虚假承诺黑名单记录 / false-pledge blacklist entry"

    applicant_ref: HashedRef
    applicant_kind: ApplicantKind
    pledge_id: str = Field(min_length=1)
    request_id: str | None = None
    service_item: str = Field(min_length=1)
    certificate: str = Field(min_length=1)
    certificate_name: str | None = None
    found_at: ShanghaiDatetime
    finding: str = Field(min_length=1)
    clause: str | None = None
    effect: str = (
        "列入虚假承诺黑名单，信用修复前不适用告知承诺制 / on the false-pledge blacklist: no pledges "
        "until credit is repaired"
    )
    ruleset: RulesetStamp
