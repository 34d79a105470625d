"""部门核验 verification requests between units (附件2 第七条–第十二条).

Life of a request::

    requested ──accept──▶ accepted ──answer──▶ matched | mismatched
        │                    │
        ├──return_not_our_duty (reason required, 第七条)──▶ returned
        └──mark_overdue (past due, 第七条) ──▶ overdue ──escalate (第十一条)──▶ escalated
                                                  └──── answer / return (late) ─────┘

* ``open_verification`` starts from a VERIFICATION decision: requesting unit, issuing unit,
  certificate, record kind and the due time the decision computed (``decision.deadline``).
* The issuer registers the request at once (即时登记受理) and answers; a request outside its
  duties is returned with a reason (第七条).
* ``mark_overdue`` asks :func:`nocert_rules.worktime.deadlines.verification_status` with the ruleset's
  figures; an overdue request is reported to the office the manifest's ``deadlines.escalation``
  names (``escalate``, 第十一条 in Zibo).
* A mismatch lets the requesting unit ask the applicant for supplementary material limited to
  the purpose, with a ledger entry (台账, 第八条): ``request_supplement``.
* The verified facts are bound to the service item they were asked for (第十二条):
  ``check_use`` refuses any other use.
* The request is started by an officer of the requesting unit (第五条 in Zibo): with a ruleset
  that has an officers file (``policy/officers.py``), ``open_verification`` records the officer on
  duty of the file's ``verification_starters`` roles (the liaison officer, A角 else B角, else a
  proxy officer) in ``started_by``, and refuses (:class:`OfficerMissing`) a unit with none on duty.
  Without an officers file (or without a ruleset) the request opens with ``started_by`` unset and
  a warning in ``warnings``.
* It travels through a channel (第三条 in Zibo; manifest ``verification.channels``): the default
  one unless ``channel=`` says otherwise; an interim channel is refused (:class:`ChannelError`)
  for an item involving secrets (a row with a ``secret_risk_categories`` risk, or
  ``involves_secret=True``) and after ``interim_until``. ``channel``, ``channel_clause`` and
  ``channel_note`` record it.
* When verification cannot obtain the certificate (returned, ``cannot_verify``, overdue or
  escalated) the requesting unit may check for itself (上门调查、实地核查, 第八条 third paragraph in
  Zibo): ``start_on_site_check`` then ``conclude_on_site_check``, citing the manifest's
  ``verification.on_site_check.clause``. A mismatch is not such a case: the clause's remedy for
  it is supplementary material (``request_supplement``). The plan sets no time limit for the
  on-site check, so the record carries none.

Clause ids come from the ruleset (manifest ``records.verification_return_clause``,
``supplement_clause``, ``purpose_clause``), copied into the request when it is opened; a request
opened without a ruleset cites none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal, Self
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nocert_rules.enums import Method, RecordKind
from nocert_rules.models import Decision, OfficerOnDuty, RulesetStamp, ShanghaiDatetime, as_shanghai
from nocert_rules.policy.channels import ChannelRefused, choose_channel
from nocert_rules.policy.officers import OfficerError, officer_on_duty
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.privacy import contains_id_number
from nocert_rules.records import Record, RecordEvent, RecordProblem, require_method, require_text
from nocert_rules.worktime.deadlines import (
    Escalation,
    StatutoryLimit,
    VerificationOutcome,
    verification_status,
)
from nocert_rules.worktime.wording import say

__all__ = [
    "ChannelError",
    "InterviewProposal",
    "InterviewState",
    "LedgerEntry",
    "OfficerMissing",
    "OnSiteCheck",
    "PurposeError",
    "SupplementaryRequest",
    "VerificationClauses",
    "VerificationPurpose",
    "VerificationRequest",
    "VerificationState",
    "accept",
    "answer",
    "cannot_verify",
    "check_use",
    "conclude_on_site_check",
    "escalate",
    "hold_interview",
    "mark_overdue",
    "open_verification",
    "propose_interview",
    "record_adverse_effect",
    "request_supplement",
    "return_not_our_duty",
    "start_on_site_check",
]


class VerificationState(StrEnum):
    REQUESTED = "requested"  # 已发起协查
    ACCEPTED = "accepted"  # 已登记受理
    MATCHED = "matched"  # 核验相符
    MISMATCHED = "mismatched"  # 核验不符
    RETURNED = "returned"  # 不属于本单位职责，已退回
    OVERDUE = "overdue"  # 逾期未反馈
    ESCALATED = "escalated"  # 已报告规则集指定的机构 / reported to the ruleset's office
    UNVERIFIABLE = "unverifiable"  # 出具单位无法核验 / the issuer cannot verify (reason given)
    ON_SITE_CHECK = "on_site_check"  # 需求单位自行实地核查中 / the requesting unit checks on site
    ON_SITE_CHECKED = "on_site_checked"  # 实地核查已完成 / the on-site check is concluded


S = VerificationState
_ANSWERED = frozenset({S.MATCHED, S.MISMATCHED})
_ALLOWED: dict[str, frozenset[VerificationState]] = {
    "accept": frozenset({S.REQUESTED}),
    "answer": frozenset({S.ACCEPTED, S.OVERDUE, S.ESCALATED}),
    "cannot_verify": frozenset({S.ACCEPTED, S.OVERDUE, S.ESCALATED}),
    "return": frozenset({S.REQUESTED, S.ACCEPTED, S.OVERDUE, S.ESCALATED}),
    "mark_overdue": frozenset({S.REQUESTED, S.ACCEPTED}),
    "escalate": frozenset({S.OVERDUE}),
    "request_supplement": frozenset({S.MISMATCHED}),
    "start_on_site_check": frozenset({S.RETURNED, S.UNVERIFIABLE, S.OVERDUE, S.ESCALATED}),
    "conclude_on_site_check": frozenset({S.ON_SITE_CHECK}),
    "use": _ANSWERED | {S.ON_SITE_CHECKED},
}


class OfficerMissing(RecordProblem):
    """The requesting unit has no officer of the roles that start a verification request on
    duty (the ruleset's officers file; 附件2 第五条、第六条 in Zibo)."""


class ChannelError(RecordProblem):
    """The channel may not carry this request (附件2 第三条 in Zibo): unknown, an interim channel
    for an item involving secrets, or after the system runs fully."""


class OnSiteCheck(BaseModel):
    """The requesting unit's own check when verification could not obtain the certificate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: str = Field(min_length=1)
    method_label: str = Field(min_length=1)
    clause: str
    started_at: ShanghaiDatetime
    officer_id: str | None = None
    concluded_at: ShanghaiDatetime | None = None
    outcome: Literal["confirmed", "not_confirmed"] | None = None
    note: str | None = None


class PurposeError(RecordProblem):
    """Verified facts proposed for a use other than the one they were asked for (附件2 第十二条)."""


class VerificationPurpose(BaseModel):
    """What the verified facts may be used for: this service item (and this case, if known)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service_item: str = Field(min_length=1)
    service_item_name: str | None = None
    request_id: str | None = None


class VerificationClauses(BaseModel):
    """The ruleset's clause ids this request cites (manifest ``records``; None: not set) and the
    words of its ledger entry's note (``wording.records.ledger_note``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    return_clause: str | None = None
    supplement_clause: str | None = None
    purpose_clause: str | None = None
    ledger_note: str | None = None

    @classmethod
    def of(cls, ruleset: Ruleset | None) -> VerificationClauses:
        if ruleset is None:
            return cls()
        r = ruleset.manifest.records
        return cls(
            return_clause=r.verification_return_clause,
            supplement_clause=r.supplement_clause,
            purpose_clause=r.purpose_clause,
            ledger_note=say(ruleset.manifest.wording.records.ledger_note),
        )


def _cite(clause: str | None) -> str:
    return f"（{clause}）" if clause else ""


class VerificationRequest(Record):
    """One 协查核验 request from a requesting unit to an issuing unit (附件2 第五条、第七条)."""

    record_label: ClassVar[str] = "部门核验申请 / verification request"

    state: VerificationState = VerificationState.REQUESTED
    requesting_unit: str = Field(min_length=1, max_length=200)
    issuing_unit: str = Field(min_length=1, max_length=200)
    certificate_id: str = Field(min_length=1)
    certificate_name: str | None = None
    records: RecordKind
    requested_at: ShanghaiDatetime
    due_at: ShanghaiDatetime
    deadline_rule: str
    deadline_clause: str
    purpose: VerificationPurpose
    ruleset: RulesetStamp
    clauses: VerificationClauses = VerificationClauses()
    accepted_at: ShanghaiDatetime | None = None
    answered_at: ShanghaiDatetime | None = None
    answered_late: bool | None = None
    answer_note: str | None = None
    returned_at: ShanghaiDatetime | None = None
    return_reason: str | None = None
    escalation: Escalation | None = None
    escalated_at: ShanghaiDatetime | None = None
    escalation_note: str | None = None
    started_by: OfficerOnDuty | None = Field(
        default=None, description="the requesting unit's officer who started the request (officers file)"
    )
    channel: str | None = Field(default=None, description="the channel id (manifest verification.channels)")
    channel_label: str | None = None
    channel_clause: str | None = None
    channel_note: str | None = None
    involves_secret: bool = False
    accepted_by: str | None = Field(default=None, description="the issuing unit's officer who registered it")
    warnings: tuple[str, ...] = ()
    unverifiable_at: ShanghaiDatetime | None = None
    unverifiable_reason: str | None = None
    on_site: OnSiteCheck | None = None
    adverse_effect: str | None = Field(
        default=None, max_length=2000, description="造成的不良影响 / the adverse effect the escalation found"
    )
    adverse_effect_at: ShanghaiDatetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """Each state carries the facts that make it (a stored record edited into nonsense fails)."""
        if self.due_at < self.requested_at:
            raise ValueError("due_at 早于 requested_at / due_at is before requested_at")
        for broken, message in _STATE_CHECKS:
            if broken(self):
                raise ValueError(message.format(st=self.state))
        return self

    @property
    def answered(self) -> bool:
        return self.state in _ANSWERED

    def _require(self, action: str) -> None:
        allowed = _ALLOWED[action]
        if self.state not in allowed:
            raise self.refuse(action, self.state, sorted(allowed))


_STATE_CHECKS: tuple[tuple[Callable[[VerificationRequest], bool], str], ...] = (
    (lambda r: r.state is S.ACCEPTED and r.accepted_at is None, "accepted 状态须有 accepted_at / state accepted needs accepted_at"),
    (lambda r: r.state in _ANSWERED and r.answered_at is None, "{st} 状态须有 answered_at / state {st} needs answered_at"),
    (lambda r: r.state is S.RETURNED and not (r.return_reason or "").strip(), "退回须说明理由 / a return needs a reason"),
    (lambda r: r.state in (S.OVERDUE, S.ESCALATED) and r.escalation is None, "{st} 状态须有 escalation / state {st} needs escalation"),
    (lambda r: r.state is S.ESCALATED and r.escalated_at is None,
     "escalated 状态须有 escalated_at / state escalated needs escalated_at"),
    (lambda r: r.state is S.UNVERIFIABLE and not (r.unverifiable_reason or "").strip(),
     "无法核验须说明理由 / cannot-verify needs a reason"),
    (lambda r: r.state in (S.ON_SITE_CHECK, S.ON_SITE_CHECKED) and r.on_site is None,
     "{st} 状态须有 on_site / state {st} needs on_site"),
    (lambda r: r.state is S.ON_SITE_CHECKED and r.on_site is not None and r.on_site.outcome is None,
     "实地核查完成须有结果 / a concluded on-site check needs its outcome"),
    (lambda r: r.adverse_effect is not None and r.escalated_at is None,
     "不良影响须记在已报告的逾期核验上 / an adverse effect is recorded on an escalated request"),
)
"""What each state needs (``VerificationRequest._consistent``): a check that holds is a broken record."""


class SupplementaryRequest(Record):
    """要求申请人补充材料 after a mismatch, only what the purpose needs (附件2 第八条)."""

    record_label: ClassVar[str] = "补充材料要求 / supplementary-material request"

    verification_id: str = Field(min_length=1)
    requesting_unit: str = Field(min_length=1)
    service_item: str = Field(min_length=1)
    certificate_id: str = Field(min_length=1)
    materials: tuple[str, ...] = Field(min_length=1)
    purpose: str = Field(min_length=1)
    requested_at: ShanghaiDatetime
    clause: str | None = None

    @field_validator("materials")
    @classmethod
    def _materials(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(m.strip() for m in value)
        if any(not m for m in cleaned):
            raise ValueError("材料名称不能为空 / a material name is blank")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("材料重复 / a material is listed twice")
        return cleaned

    @field_validator("purpose")
    @classmethod
    def _purpose(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("须写明证明目的 / the purpose is required")
        return value.strip()


class LedgerEntry(Record):
    """The requesting unit's ledger line for a supplementary request (附件2 第八条); its ``note``
    is the ruleset's words (manifest ``wording.records.ledger_note``), none without a ruleset."""

    record_label: ClassVar[str] = "台账记录 / ledger entry"

    kind: Literal["supplementary_request"] = "supplementary_request"
    unit: str = Field(min_length=1)
    verification_id: str = Field(min_length=1)
    supplementary_request_id: str = Field(min_length=1)
    service_item: str = Field(min_length=1)
    certificate_id: str = Field(min_length=1)
    materials: tuple[str, ...] = Field(min_length=1)
    purpose: str = Field(min_length=1)
    recorded_at: ShanghaiDatetime
    clause: str | None = None
    note: str | None = None


# ---------------------------------------------------------------- creation


def _starter(
    ruleset: Ruleset | None,
    unit: str,
    at: datetime,
    started_by: str | None,
    unavailable: Iterable[str],
    rid: str,
) -> tuple[OfficerOnDuty | None, tuple[str, ...]]:
    """The officer who starts the request, from the officers file (or a warning without one)."""
    label = VerificationRequest.record_label
    officers = ruleset.officers if ruleset is not None else None
    if ruleset is None or officers is None:
        return None, ("规则集没有工作人员名册（officers.yaml），未记录发起协查的工作人员 / the ruleset has no "
                      "officers file: no starting officer recorded",)
    content = officers.content
    away = set(unavailable)
    if started_by is not None:
        unit_record = officers.units.get(unit)
        officer = next((o for o in unit_record.officers if o.id == started_by), None) if unit_record else None
        if officer is None or officer.role not in content.verification_starters:
            raise OfficerMissing(label, rid, f"{started_by!r} 不是 {unit} 可发起协查的工作人员（{officers.file}） / "
                                 f"{started_by!r} is not an officer of {unit} who may start a request")
        if not officer.available(at.date()) or officer.id in away:
            raise OfficerMissing(label, rid, f"{started_by!r} 在 {at.date()} 不在岗 / {started_by!r} is away on {at.date()}")
        away = {o.id for o in unit_record.officers if o.id != started_by}  # pick exactly this one
    try:
        return officer_on_duty(
            ruleset, unit, content.verification_starters, at, unavailable=away, clause=content.verification_clause
        ), ()
    except OfficerError as exc:
        raise OfficerMissing(label, rid, str(exc)) from None


def _channel(
    ruleset: Ruleset | None, decision: Decision, channel: str | None, involves_secret: bool, at: datetime, rid: str
) -> dict[str, Any]:
    """The channel fields of a new request (manifest ``verification``), or ChannelError."""
    label = VerificationRequest.record_label
    policy = ruleset.manifest.verification if ruleset is not None else None
    if policy is None:
        if channel is not None:
            raise ChannelError(label, rid, "规则集未规定核验渠道 / the ruleset defines no verification channels")
        return {"involves_secret": involves_secret}
    row = ruleset.find_row(  # type: ignore[union-attr]
        decision.service_item, decision.certificate_id or decision.certificate, decision.ruleset.effective_date
    )
    secret = involves_secret or bool(row and set(row.risk_categories) & set(policy.secret_risk_categories))
    try:
        choice = choose_channel(policy, channel, day=at.date(), involves_secret=secret)
    except ChannelRefused as exc:
        raise ChannelError(label, rid, str(exc)) from None
    return {
        "channel": choice.channel.id,
        "channel_label": choice.channel.text,
        "channel_clause": policy.channels_clause,
        "channel_note": choice.note,
        "involves_secret": secret,
    }


def open_verification(
    decision: Decision,
    *,
    requesting_unit: str,
    record_id: str | None = None,
    ruleset: Ruleset | None = None,
    channel: str | None = None,
    involves_secret: bool = False,
    started_by: str | None = None,
    unavailable: Iterable[str] = (),
) -> VerificationRequest:
    """A verification request from a VERIFICATION decision; due time from ``decision.deadline``.

    Pass the decision's ``ruleset``: the request then cites its clauses (manifest ``records``),
    names the officer who starts it (``started_by``: an officer id to choose one, else the one on
    duty; ``unavailable``: ids the host marks away) and its channel (``channel``: an id of the
    manifest's ``verification.channels``, else the default; ``involves_secret``: the case
    involves state or work secrets although the row does not say so).
    """
    rid = record_id or uuid4().hex
    label = VerificationRequest.record_label
    require_method(decision, Method.VERIFICATION, label, rid, ruleset)
    deadline = decision.deadline
    if deadline is None or deadline.kind != "verification_reply":
        raise RecordProblem(label, rid, "决定没有核验反馈期限 / the decision has no verification deadline")
    if decision.issuer is None or decision.certificate_id is None or decision.records is None:
        raise RecordProblem(
            label, rid, "决定缺少出具单位或清单信息 / the decision names no issuer or list row"
        )
    at = as_shanghai(decision.requested_at)
    unit = require_text(label, rid, "requesting_unit", requesting_unit)
    starter, warnings = _starter(ruleset, unit, at, started_by, unavailable, rid)
    channel_fields = _channel(ruleset, decision, channel, involves_secret, at, rid)
    return VerificationRequest(
        id=rid,
        requesting_unit=unit,
        started_by=starter,
        warnings=warnings,
        **channel_fields,
        issuing_unit=decision.issuer,
        certificate_id=decision.certificate_id,
        certificate_name=decision.certificate_name,
        records=decision.records,
        requested_at=at,
        due_at=deadline.due_at,
        deadline_rule=deadline.rule,
        deadline_clause=deadline.clause,
        purpose=VerificationPurpose(
            service_item=decision.service_item,
            service_item_name=decision.service_item_name,
            request_id=decision.request_id,
        ),
        ruleset=decision.ruleset,
        clauses=VerificationClauses.of(ruleset),
        events=(RecordEvent(at=at, action="open", state=S.REQUESTED.value, note=deadline.clause),),
    )


# ---------------------------------------------------------------- transitions


def accept(
    request: VerificationRequest,
    at: datetime | str,
    *,
    officer_id: str | None = None,
    ruleset: Ruleset | None = None,
) -> VerificationRequest:
    """即时登记受理 by the issuing unit (附件2 第七条): ``officer_id``, the issuing unit's officer who
    registers it (checked against the officers file when ``ruleset`` has one), is kept in
    ``accepted_by`` and named in accountability cases on the request (附件2 第十条 in Zibo)."""
    request._require("accept")
    if officer_id is not None:
        _check_officer(request, ruleset, request.issuing_unit, officer_id)
    at = request.check_time(at, "accept")
    return request.evolve(
        action="accept", at=at, note=officer_id, state=S.ACCEPTED, accepted_at=at, accepted_by=officer_id
    )


def _check_officer(request: VerificationRequest, ruleset: Ruleset | None, unit: str, officer_id: str) -> None:
    """``officer_id`` is a pseudonymised id of ``unit`` in the ruleset's officers file (if any)."""
    if contains_id_number(officer_id):
        raise OfficerMissing(request.record_label, request.id, "工作人员编号不得为身份证号 / an officer id may not "
                             "be an ID number")
    officers = ruleset.officers if ruleset is not None else None
    if officers is None:
        return
    record = officers.units.get(unit)
    if record is None or all(o.id != officer_id for o in record.officers):
        raise OfficerMissing(request.record_label, request.id, f"{officer_id!r} 不是 {unit} 的工作人员"
                             f"（{officers.file}） / {officer_id!r} is not an officer of {unit}")


def answer(
    request: VerificationRequest, at: datetime | str, *, matches: bool, note: str | None = None
) -> VerificationRequest:
    """反馈协查结果: the facts match the applicant's form, or do not. Late answers are flagged."""
    request._require("answer")
    at = request.check_time(at, "answer")
    state = S.MATCHED if matches else S.MISMATCHED
    return request.evolve(
        action="answer",
        at=at,
        note=note,
        state=state,
        answered_at=at,
        answered_late=at > request.due_at,
        answer_note=note,
    )


def return_not_our_duty(request: VerificationRequest, at: datetime, reason: str) -> VerificationRequest:
    """不属于本单位职责无法开具的，及时退回并说明理由 (附件2 第七条): a reason is required."""
    request._require("return")
    text = require_text(request.record_label, request.id, "reason / 退回理由", reason)
    at = request.check_time(at, "return")
    return request.evolve(
        action="return", at=at, note=text, state=S.RETURNED, returned_at=at, return_reason=text
    )


def _limit_for(request: VerificationRequest, ruleset: Ruleset) -> StatutoryLimit | None:
    """The row's own statutory limit (三(三)3) in force on the decision's list date, if it has
    one; else None (the plan's figure applies)."""
    day = request.ruleset.effective_date or request.requested_at.date()
    row = ruleset.find_row(request.purpose.service_item, request.certificate_id, day)
    own = row.limit_at(day) if row is not None else None
    if own is not None:
        return StatutoryLimit(
            working_days=own.working_days, working_minutes=own.working_minutes, basis=own.basis
        )
    return None


def mark_overdue(request: VerificationRequest, now: datetime, ruleset: Ruleset) -> VerificationRequest:
    """逾期未反馈 at ``now`` per :func:`~nocert_rules.worktime.deadlines.verification_status` (附件2 第七条).

    The due time is recomputed in ``ruleset``'s calendar and must equal the one the decision
    gave (``request.due_at``); a difference (another ruleset, changed calendar) is an error.
    Not yet overdue is an error too.
    """
    request._require("mark_overdue")
    now = request.check_time(now, "mark_overdue")
    status = verification_status(
        request.requested_at,
        request.records,
        now,
        ruleset.calendar,
        _limit_for(request, ruleset),
        policy=ruleset.deadline_policy,
    )
    if status.due_at != request.due_at:
        raise request.problem(
            f"日历算出的期限 {status.due_at.isoformat()} 与决定的期限 {request.due_at.isoformat()} "
            f"不一致 / the calendar's due time differs from the decision's (ruleset "
            f"{ruleset.name} {ruleset.version} vs the decision's {request.ruleset.version})"
        )
    if status.status is not VerificationOutcome.OVERDUE or status.escalation is None:
        raise request.problem(
            f"尚未逾期：期限为 {request.due_at.isoformat()} / not overdue: due at "
            f"{request.due_at.isoformat()}"
        )
    return request.evolve(
        action="mark_overdue",
        at=now,
        note=status.deadline.rule,
        state=S.OVERDUE,
        escalation=status.escalation,
    )


def escalate(
    request: VerificationRequest, at: datetime, *, note: str | None = None, adverse_effect: str | None = None
) -> VerificationRequest:
    """Report to the office the ruleset names (报市联席会议办公室, 附件2 第十一条 in Zibo).

    Only an overdue request is escalated; the event cites the escalation's clause and office,
    as ``mark_overdue`` took them from the manifest's ``deadlines.escalation``. ``adverse_effect``
    records an adverse effect the report already shows (else :func:`record_adverse_effect` later).
    """
    request._require("escalate")
    at = request.check_time(at, "escalate")
    esc = request.escalation
    default = " ".join(p for p in (esc.to, esc.clause) if p) if esc is not None else ""
    effect = (adverse_effect or "").strip() or None
    return request.evolve(
        action="escalate",
        at=at,
        note=note or default or None,
        state=S.ESCALATED,
        escalated_at=at,
        escalation_note=note,
        adverse_effect=effect,
        adverse_effect_at=at if effect else None,
    )


def record_adverse_effect(request: VerificationRequest, at: datetime | str, effect: str) -> VerificationRequest:
    """造成不良影响 found by the escalation office's investigation (附件2 第十一条 第二句 in Zibo): on a
    request that was escalated (whatever its state since); the state does not change."""
    if request.escalated_at is None:
        raise request.problem("只有已报告的逾期核验才记录不良影响 / only an escalated request records an adverse effect")
    text = require_text(request.record_label, request.id, "effect / 不良影响", effect)
    at = request.check_time(at, "record_adverse_effect")
    return request.evolve(action="record_adverse_effect", at=at, note=text, adverse_effect=text, adverse_effect_at=at)


class InterviewState(StrEnum):
    PROPOSED = "proposed"  # 已提请约谈
    HELD = "held"  # 已约谈


class InterviewProposal(Record):
    """提请约谈 (附件2 第十一条 第二句 in Zibo): the escalation office asks the authority the ruleset
    names (``deadlines.escalation.interview``) to interview the persons concerned, because the
    late reply had an adverse effect the request records."""

    record_label: ClassVar[str] = "约谈提请 / interview proposal"

    state: InterviewState = InterviewState.PROPOSED
    verification_id: str = Field(min_length=1)
    issuing_unit: str = Field(min_length=1)
    proposed_by: str = Field(min_length=1, description="the escalation office")
    authority: str = Field(min_length=1, description="who holds the interview (e.g. the city government)")
    persons: tuple[str, ...] = Field(default=(), description="officers concerned (pseudonymised ids)")
    adverse_effect: str = Field(min_length=1)
    clause: str = Field(min_length=1)
    action: str | None = None
    proposed_at: ShanghaiDatetime
    held_at: ShanghaiDatetime | None = None
    outcome: str | None = None

    @model_validator(mode="after")
    def _held(self) -> Self:
        if self.state is InterviewState.HELD and (self.held_at is None or not (self.outcome or "").strip()):
            raise ValueError("已约谈须有时间和结果 / a held interview needs its time and outcome")
        return self


def propose_interview(
    request: VerificationRequest,
    at: datetime | str,
    ruleset: Ruleset,
    *,
    persons: Iterable[str] | None = None,
    record_id: str | None = None,
) -> InterviewProposal:
    """The escalation office proposes an interview where the escalated request shows an adverse
    effect. ``persons`` default to the issuing unit's officer who registered it (``accepted_by``)."""
    esc = ruleset.deadline_policy.escalation
    if esc is None or esc.interview is None:
        raise request.problem("规则集未规定约谈 / the ruleset names no interview (deadlines.escalation.interview)")
    if request.escalated_at is None or request.adverse_effect is None:
        raise request.problem(
            f"约谈须以已报告且造成不良影响的逾期核验为前提（{esc.clause}） / an interview needs an escalated request "
            "that records an adverse effect"
        )
    at = request.check_time(at, "propose_interview")
    named = tuple(persons) if persons is not None else tuple(p for p in (request.accepted_by,) if p)
    for officer in named:
        _check_officer(request, ruleset, request.issuing_unit, officer)
    return InterviewProposal(
        id=record_id or uuid4().hex, verification_id=request.id, issuing_unit=request.issuing_unit,
        proposed_by=esc.office.name, authority=esc.interview.authority.name, persons=named,
        adverse_effect=request.adverse_effect, clause=esc.clause, action=esc.interview.action, proposed_at=at,
        events=(RecordEvent(at=at, action="propose", state=InterviewState.PROPOSED.value, note=esc.clause),),
    )


def hold_interview(proposal: InterviewProposal, at: datetime | str, outcome: str) -> InterviewProposal:
    """约谈 held, with its outcome."""
    if proposal.state is not InterviewState.PROPOSED:
        raise proposal.refuse("hold", proposal.state, [InterviewState.PROPOSED])
    text = require_text(proposal.record_label, proposal.id, "outcome / 约谈结果", outcome)
    at = proposal.check_time(at, "hold")
    return proposal.evolve(action="hold", at=at, note=text, state=InterviewState.HELD, held_at=at, outcome=text)


def request_supplement(
    request: VerificationRequest,
    at: datetime,
    *,
    materials: list[str] | tuple[str, ...],
    purpose: str,
    record_id: str | None = None,
    ledger_id: str | None = None,
) -> tuple[SupplementaryRequest, LedgerEntry]:
    """After a mismatch: ask for ``materials`` limited to ``purpose``, with a ledger entry (第八条).

    The verification request itself is unchanged (the host keeps the two new records beside it).
    """
    request._require("request_supplement")
    at = request.check_time(at, "request_supplement")
    supplement = SupplementaryRequest(
        id=record_id or uuid4().hex,
        verification_id=request.id,
        requesting_unit=request.requesting_unit,
        service_item=request.purpose.service_item,
        certificate_id=request.certificate_id,
        materials=tuple(materials),
        purpose=purpose,
        requested_at=at,
        clause=request.clauses.supplement_clause,
        events=(RecordEvent(at=at, action="request", state="requested", note=None),),
    )
    ledger = LedgerEntry(
        id=ledger_id or uuid4().hex,
        unit=request.requesting_unit,
        verification_id=request.id,
        supplementary_request_id=supplement.id,
        service_item=supplement.service_item,
        certificate_id=supplement.certificate_id,
        materials=supplement.materials,
        purpose=supplement.purpose,
        recorded_at=at,
        clause=request.clauses.supplement_clause,
        note=request.clauses.ledger_note,
        events=(RecordEvent(at=at, action="record", state="recorded", note=None),),
    )
    return supplement, ledger


def cannot_verify(request: VerificationRequest, at: datetime | str, reason: str) -> VerificationRequest:
    """The issuing unit answers that it cannot verify (e.g. the archive cannot be found); a
    reason is required. The requesting unit may then check for itself (``start_on_site_check``)."""
    request._require("cannot_verify")
    text = require_text(request.record_label, request.id, "reason / 理由", reason)
    at = request.check_time(at, "cannot_verify")
    return request.evolve(
        action="cannot_verify", at=at, note=text, state=S.UNVERIFIABLE, unverifiable_at=at,
        unverifiable_reason=text, answered_late=at > request.due_at,
    )


def start_on_site_check(
    request: VerificationRequest,
    at: datetime | str,
    *,
    method: str,
    ruleset: Ruleset,
    officer_id: str | None = None,
) -> VerificationRequest:
    """无法通过部门核验方式获取相关证明的，需求单位自行核验 (附件2 第八条 in Zibo): the requesting
    unit checks on site by ``method`` (an id of the manifest's ``verification.on_site_check.methods``).

    Allowed once verification could not obtain the certificate: returned, cannot verify,
    overdue or escalated. ``officer_id``, if given, must be an officer of the requesting unit in
    the officers file (when the ruleset has one).
    """
    if request.state is S.MISMATCHED:
        policy = ruleset.manifest.verification
        where = f"（{request.clauses.supplement_clause}）" if request.clauses.supplement_clause else ""
        raise request.problem(
            f"核验不符时应要求申请人补充材料{where}，自行实地核查适用于无法通过部门核验获取证明的情形"
            f"{'（' + policy.on_site_check.clause + '）' if policy and policy.on_site_check else ''} / a mismatch is "
            "met with supplementary material (request_supplement); the on-site check is for a certificate "
            "verification could not obtain"
        )
    request._require("start_on_site_check")
    policy = ruleset.manifest.verification
    if policy is None or policy.on_site_check is None:
        raise request.problem("规则集未规定实地核查 / the ruleset defines no on-site check (manifest verification.on_site_check)")
    methods = policy.on_site_check.methods
    if method not in methods:
        raise request.problem(f"未知的核查方式 {method!r}；可用 {sorted(methods)} / unknown method {method!r}")
    if officer_id is not None:
        _check_officer(request, ruleset, request.requesting_unit, officer_id)
    at = request.check_time(at, "start_on_site_check")
    check = OnSiteCheck(
        method=method, method_label=methods[method], clause=policy.on_site_check.clause, started_at=at,
        officer_id=officer_id,
    )
    return request.evolve(
        action="start_on_site_check", at=at, note=f"{methods[method]}（{check.clause}）",
        state=S.ON_SITE_CHECK, on_site=check.model_dump(),
    )


def conclude_on_site_check(
    request: VerificationRequest, at: datetime | str, *, confirmed: bool, note: str | None = None
) -> VerificationRequest:
    """The on-site check's outcome: the facts confirm the applicant's form, or do not."""
    request._require("conclude_on_site_check")
    at = request.check_time(at, "conclude_on_site_check")
    assert request.on_site is not None  # the state says so (_consistent)
    outcome = "confirmed" if confirmed else "not_confirmed"
    done = request.on_site.model_copy(update={"concluded_at": at, "outcome": outcome, "note": note})
    return request.evolve(
        action="conclude_on_site_check", at=at, note=note or f"{outcome}（{done.clause}）",
        state=S.ON_SITE_CHECKED, on_site=done.model_dump(),
    )


def check_use(
    request: VerificationRequest, service_item: str, *, request_id: str | None = None
) -> None:
    """Refuse any use of the verified facts except for their own service item (附件2 第十二条).

    ``request_id``, when both it and the record's are known, must be the same case too.
    Raises :class:`PurposeError`; returns None when the use is allowed.
    """
    if request.state not in _ALLOWED["use"]:
        raise PurposeError(
            request.record_label,
            request.id,
            f"尚无核验结果（状态 {request.state}） / no verified facts yet (state {request.state})",
        )
    bound = request.purpose
    if service_item != bound.service_item:
        raise PurposeError(
            request.record_label,
            request.id,
            f"核验信息仅用于事项 {bound.service_item}，不得用于 {service_item}"
            f"{_cite(request.clauses.purpose_clause)} / "
            f"verified facts may be used only for service item {bound.service_item}, not "
            f"{service_item}",
        )
    if request_id is not None and bound.request_id is not None and request_id != bound.request_id:
        raise PurposeError(
            request.record_label,
            request.id,
            f"核验信息仅用于办件 {bound.request_id}{_cite(request.clauses.purpose_clause)} / verified facts may be "
            f"used only for case {bound.request_id}, not {request_id}",
        )
