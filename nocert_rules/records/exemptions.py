"""容错免责 procedure and 复核 (附件5 第六条、第七条、第八条、第十一条 in Zibo), as records.

Exemption (``ExemptionApplication``)::

    applied ──decide(granted)──▶ granted ──file──▶ filed        (第七条 application and decision;
       └──────decide(refused)──▶ refused                         第十一条 免责备案)

* :func:`apply_for_exemption`: the unit (or its officer) that a case names applies, on one of the
  exemption clause's grounds (``manifest.accountability.exemption_grounds``, 第八条 in Zibo), with
  its reasons, to the body that decides (``submitted_to``: 党委(党组)或其主管部门、问责决定机关,
  in words); the record cites ``accountability.exemption_application_clause``.
* :func:`decide_exemption`: granted or refused, by whom, with a note.
* :func:`file_exemption`: a granted exemption is filed (``accountability.exemption_filing_clause``):
  the unit's annual assessment, promotion and awards are unaffected.

A granted (or filed) application marks its case exempt: :func:`nocert_rules.records.accountability.cases_from_records`
reads ``ExemptionApplication`` records among the others and applies
:func:`~nocert_rules.records.accountability.exempt` to the case they name (``case_source`` and
``case_kind``), so ``nocert-rules accountability`` shows it.

Review (``AccountabilityReview``, 第六条): a unit or officer that disputes an accountability
decision asks for a review; ``requested ──conclude(upheld|changed)──▶ concluded``. The record
says, always, that the decision is enforced meanwhile (``decision_suspended: false``, citing
``accountability.review_clause``): a stored record that claims otherwise is refused.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Literal, Self
from uuid import uuid4

from pydantic import Field, model_validator

from nocert_rules.models import ShanghaiDatetime, as_shanghai
from nocert_rules.policy.manifest import AccountabilityPolicy
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.records import Record, RecordEvent, RecordProblem, require_text
from nocert_rules.worktime.calendar import as_moment
from nocert_rules.worktime.wording import say

__all__ = [
    "AccountabilityReview",
    "ExemptionApplication",
    "ExemptionState",
    "ReviewState",
    "apply_for_exemption",
    "conclude_review",
    "decide_exemption",
    "file_exemption",
    "request_review",
]


class ExemptionState(StrEnum):
    APPLIED = "applied"  # 已提出免责申请
    GRANTED = "granted"  # 决定免责
    REFUSED = "refused"  # 决定不予免责
    FILED = "filed"  # 已免责备案


E = ExemptionState


class ExemptionApplication(Record):
    """An application to be exempted from accountability for one case (第七条), its decision and filing."""

    record_label: ClassVar[str] = "容错免责申请 / exemption application"

    state: ExemptionState = ExemptionState.APPLIED
    case_source: str = Field(min_length=1, max_length=300, description="the case's source, e.g. VerificationRequest v-1")
    case_kind: str = Field(min_length=1, max_length=64)
    case_item: str | None = None
    unit: str = Field(min_length=1, max_length=200, description="the applying unit")
    officer_id: str | None = Field(default=None, max_length=128, description="the applying officer (pseudonymised)")
    ground: str = Field(min_length=1, max_length=16, description="the exemption clause's item, e.g. （四）")
    ground_clause: str | None = None
    reason: str = Field(min_length=1, max_length=4000)
    submitted_to: str = Field(min_length=1, max_length=200, description="the deciding body (第七条)")
    application_clause: str | None = None
    applied_at: ShanghaiDatetime
    decided_at: ShanghaiDatetime | None = None
    decided_by: str | None = Field(default=None, max_length=200)
    decision_note: str | None = Field(default=None, max_length=4000)
    filed_at: ShanghaiDatetime | None = None
    filed_by: str | None = Field(default=None, max_length=200)
    filing_clause: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        decided = self.state in (E.GRANTED, E.REFUSED, E.FILED)
        if decided and (self.decided_at is None or not (self.decided_by or "").strip()):
            raise ValueError(f"{self.state} 状态须有决定时间和决定机关 / state {self.state} needs decided_at and decided_by")
        if self.state is E.FILED and (self.filed_at is None or not (self.filed_by or "").strip()):
            raise ValueError("filed 状态须有备案时间和单位 / state filed needs filed_at and filed_by")
        return self

    @property
    def exempts(self) -> bool:
        """The decision granted the exemption (filed or not yet)."""
        return self.state in (E.GRANTED, E.FILED)


def _policy(ruleset: Ruleset, label: str, rid: str | None) -> AccountabilityPolicy:
    policy = ruleset.manifest.accountability
    if policy is None:
        raise RecordProblem(label, rid, "规则集未配置 accountability / the ruleset has no manifest.accountability")
    return policy


def _moment(value: datetime | str) -> datetime:
    moment = as_moment(value, "at")
    if not isinstance(moment, datetime):
        raise RecordProblem(ExemptionApplication.record_label, None, "须为日期时间 / a date and time, not a date")
    return as_shanghai(moment)


def apply_for_exemption(
    ruleset: Ruleset,
    *,
    case_source: str,
    case_kind: str,
    unit: str,
    ground: str,
    reason: str,
    submitted_to: str,
    at: datetime | str,
    case_item: str | None = None,
    officer_id: str | None = None,
    record_id: str | None = None,
) -> ExemptionApplication:
    """认为被追究责任的行为符合免责情形的，可以提出申请 (第七条 in Zibo), on a ground of 第八条."""
    rid = record_id or uuid4().hex
    label = ExemptionApplication.record_label
    policy = _policy(ruleset, label, rid)
    if ground not in policy.exemption_grounds:
        raise RecordProblem(label, rid, f"未知免责情形 {ground!r} / unknown exemption ground; known: "
                                        f"{', '.join(policy.exemption_grounds)}")
    when = _moment(at)
    clause = policy.exemption_application_clause
    return ExemptionApplication(
        id=rid, case_source=case_source.strip(), case_kind=case_kind.strip(), case_item=case_item, unit=unit.strip(),
        officer_id=officer_id, ground=ground, ground_clause=f"{policy.exemption_clause}{ground}",
        reason=require_text(label, rid, "reason / 理由", reason),
        submitted_to=require_text(label, rid, "submitted_to / 决定机关", submitted_to),
        application_clause=clause, applied_at=when,
        events=(RecordEvent(at=when, action="apply", state=E.APPLIED.value, note=clause),),
    )


def decide_exemption(
    application: ExemptionApplication, at: datetime | str, *, granted: bool, decided_by: str, note: str | None = None
) -> ExemptionApplication:
    """研究决定: the body grants or refuses the exemption (第七条 in Zibo)."""
    if application.state is not E.APPLIED:
        raise application.refuse("decide", application.state, [E.APPLIED])
    body = require_text(application.record_label, application.id, "decided_by / 决定机关", decided_by)
    when = application.check_time(at, "decide")
    state = E.GRANTED if granted else E.REFUSED
    return application.evolve(action="decide", at=when, note=note, state=state, decided_at=when, decided_by=body,
                              decision_note=(note or "").strip() or None)


def file_exemption(
    application: ExemptionApplication, ruleset: Ruleset, at: datetime | str, *, filed_by: str
) -> ExemptionApplication:
    """免责备案 of a granted exemption (第十一条 in Zibo)."""
    if application.state is not E.GRANTED:
        raise application.refuse("file", application.state, [E.GRANTED])
    by = require_text(application.record_label, application.id, "filed_by / 备案单位", filed_by)
    clause = _policy(ruleset, application.record_label, application.id).exemption_filing_clause
    when = application.check_time(at, "file")
    return application.evolve(action="file", at=when, note=clause, state=E.FILED, filed_at=when, filed_by=by,
                              filing_clause=clause)


# ---------------------------------------------------------------- review (第六条)


class ReviewState(StrEnum):
    REQUESTED = "requested"  # 已申请复核(申诉)
    CONCLUDED = "concluded"  # 复核已办结


class AccountabilityReview(Record):
    """复核(申诉) of an accountability decision; the decision is enforced meanwhile (第六条 in Zibo)."""

    record_label: ClassVar[str] = "责任追究复核 / accountability review"

    state: ReviewState = ReviewState.REQUESTED
    case_source: str = Field(min_length=1, max_length=300)
    decision: str = Field(min_length=1, max_length=2000, description="the accountability decision disputed")
    unit: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=4000)
    requested_at: ShanghaiDatetime
    decision_suspended: Literal[False] = Field(
        default=False, description="复核(申诉)期间不停止责任追究决定的执行: always false"
    )
    clause: str | None = None
    concluded_at: ShanghaiDatetime | None = None
    outcome: Literal["upheld", "changed"] | None = None
    outcome_note: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _concluded(self) -> Self:
        if self.state is ReviewState.CONCLUDED and (self.concluded_at is None or self.outcome is None):
            raise ValueError("复核办结须有时间和结果 / a concluded review needs its time and outcome")
        return self


def request_review(
    ruleset: Ruleset, *, case_source: str, decision: str, unit: str, reason: str, at: datetime | str,
    record_id: str | None = None,
) -> AccountabilityReview:
    """申请复核(申诉): the record states the decision keeps being enforced (``review_clause``), in the
    ruleset's words (``wording.records.review_enforced``)."""
    rid = record_id or uuid4().hex
    label = AccountabilityReview.record_label
    clause = _policy(ruleset, label, rid).review_clause
    when = _moment(at)
    words = ruleset.manifest.wording.records
    note = say(words.review_enforced, clause=clause) if clause else say(words.review_enforced_no_clause)
    return AccountabilityReview(
        id=rid, case_source=case_source.strip(), decision=require_text(label, rid, "decision / 决定", decision),
        unit=unit.strip(), reason=require_text(label, rid, "reason / 理由", reason), requested_at=when, clause=clause,
        events=(RecordEvent(at=when, action="request", state=ReviewState.REQUESTED.value, note=note),),
    )


def conclude_review(
    review: AccountabilityReview, at: datetime | str, *, outcome: Literal["upheld", "changed"], note: str | None = None
) -> AccountabilityReview:
    """复核办结: the decision upheld or changed."""
    if review.state is not ReviewState.REQUESTED:
        raise review.refuse("conclude", review.state, [ReviewState.REQUESTED])
    when = review.check_time(at, "conclude")
    return review.evolve(action="conclude", at=when, note=note, state=ReviewState.CONCLUDED, concluded_at=when,
                         outcome=outcome, outcome_note=(note or "").strip() or None)
