"""投诉举报 complaints (附件4 第七条–第十一条): whether to accept and when to terminate are rules.

The rules live in the ruleset's ``complaint_rules.yaml`` (see ``docs/records.md``): each has an
id, an effect (``reject`` 不予受理 第八条, ``accept``, or ``terminate`` 终止 第十一条), a
condition over the complaint's facts (``COMPLAINT_FACTS``, same language as policy rules:
:mod:`nocert_rules.policy.conditions`) and the clause it implements. :class:`ComplaintEngine` decides
on the same rule backend :class:`nocert_rules.engine.core.Engine` would get (``backend="auto"``:
durable_rules within its budget, else the compiled predicates; ``nocert_rules.engine.backend``),
and every decision carries a trace citing the clauses.

A complaint's life::

    received ──decide_intake──▶ accepted ──extend (once, ≤ 5 working days)──▶ accepted
        │                          │──conclude──▶ concluded ──inform──▶ (informed_at set)
        └──▶ rejected (第八条)      └──terminate (第十一条)──▶ terminated

Deadlines: :func:`nocert_rules.worktime.deadlines.complaint_due` (受理后 5 个工作日内办结; one extension
of at most 5 working days, 第十条). A second extension is an error.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal, Self
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nocert_rules.engine import backend as backends
from nocert_rules.models import Citation, RulesetStamp, ShanghaiDatetime
from nocert_rules.policy.complaint_rules import (
    COMPLAINT_FACTS,
    COMPLAINT_RULES_FILE,
    ComplaintRule,
    ComplaintRuleFile,
    load_complaint_rules,
)
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.records import HashedRef, Record, require_text
from nocert_rules.worktime.deadlines import ExtensionLimitError, complaint_due

__all__ = [
    "COMPLAINT_FACTS",
    "COMPLAINT_RULES_FILE",
    "Complaint",
    "ComplaintChannel",
    "ComplaintDecision",
    "ComplaintEngine",
    "ComplaintFacts",
    "ComplaintRule",
    "ComplaintRuleFile",
    "ComplaintState",
    "ComplaintTraceStep",
    "conclude",
    "decide_intake",
    "extend",
    "inform",
    "load_complaint_rules",
    "register_complaint",
    "terminate",
]

class ComplaintFacts(BaseModel):
    """What is known about a complaint when a rule decides (``specific``/``verifiable`` must be said)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specific: bool
    verifiable: bool
    duplicate: bool = False
    malicious: bool = False
    belongs_to_litigation: bool = False
    other_reject_ground: str | None = Field(default=None, description="理由 / the reason, if any")
    withdrawn: bool = False
    filed_arbitration_or_litigation_meanwhile: bool = False
    other_terminate_ground: str | None = Field(default=None, description="理由 / the reason, if any")

    @field_validator("other_reject_ground", "other_terminate_ground")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if isinstance(value, str) else value

    def as_facts(self) -> dict[str, Any]:
        """By dotted name, as conditions read them (``COMPLAINT_FACTS``)."""
        return {
            "complaint.specific": self.specific,
            "complaint.verifiable": self.verifiable,
            "complaint.duplicate": self.duplicate,
            "complaint.malicious": self.malicious,
            "complaint.belongs_to_litigation": self.belongs_to_litigation,
            "complaint.other_reject_ground": self.other_reject_ground is not None,
            "complaint.withdrawn": self.withdrawn,
            "complaint.filed_arbitration_or_litigation_meanwhile": self.filed_arbitration_or_litigation_meanwhile,
            "complaint.other_terminate_ground": self.other_terminate_ground is not None,
        }


# ---------------------------------------------------------------- decisions


class ComplaintTraceStep(BaseModel):
    """One complaint rule that fired, or the default outcome, with its clause."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    effect: Literal["accept", "reject", "terminate", "default"]
    item: str | None = None
    conclusion: str
    citation: Citation | None = None


class ComplaintDecision(BaseModel):
    """Whether to accept (第八条) or terminate (第十一条) a complaint, why, under which clauses."""

    model_config = ConfigDict(frozen=True)

    stage: Literal["acceptance", "termination"]
    outcome: Literal["accept", "reject", "continue", "terminate"]
    trace: list[ComplaintTraceStep]
    ruleset: RulesetStamp
    rules_sha256: str


_EFFECT_TEXT = {
    "accept": "受理 / accepted",
    "reject": "不予受理 / not accepted",
    "terminate": "终止办理 / terminated",
}


class ComplaintEngine:
    """Decides complaints against a ruleset's ``complaint_rules.yaml`` on a rule backend.

    Thread-safe; reuse one per ruleset; ``close()`` frees it.
    """

    def __init__(self, ruleset: Ruleset, backend: str = "auto") -> None:
        """``backend`` as for ``Engine`` (``nocert_rules.engine.backend``): the same choice, made
        for the complaint rules; ``self.backend`` / ``self.backend_reason`` say which and why."""
        self.ruleset = ruleset
        self.rules = load_complaint_rules(ruleset)
        self._by_id = {rule.id: rule for rule in self.rules.content.rules}
        rules = [(rule.id, rule.when) for rule in self.rules.content.rules]
        name = self.rules.file
        data = ruleset.files.get(name)
        if data is None and (ruleset.directory / name).is_file():
            data = (ruleset.directory / name).read_bytes()
        choice = backends.choose(rules, backend, backends.rule_locator(name, data))
        self.backend: str = choice.backend
        self.backend_reason: str = choice.reason
        self._stamp = RulesetStamp(
            name=ruleset.name, version=ruleset.version, sha256=ruleset.sha256, backend=choice.backend
        )
        self._compiled: backends.RuleBackend = backends.build(f"{ruleset.name}_complaints", rules, choice)

    def fire(self, facts: ComplaintFacts) -> list[str]:
        """The ids of the complaint rules whose conditions hold, in file order."""
        return self._compiled.fire(facts.as_facts())

    def close(self) -> None:
        """Free the C ruleset now (else when collected); ``fire`` raises afterwards."""
        self._compiled.close()

    def __enter__(self) -> ComplaintEngine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _step(self, rule: ComplaintRule) -> ComplaintTraceStep:
        return ComplaintTraceStep(
            rule_id=rule.id,
            effect=rule.effect,
            item=rule.item,
            conclusion=f"{_EFFECT_TEXT[rule.effect]}（{rule.clause}{rule.item or ''}）：{rule.reason}",
            citation=self.ruleset.citation(rule.clause),
        )

    def _default(self, which: Literal["acceptance", "handling"]) -> ComplaintTraceStep:
        d = self.rules.content.acceptance_default if which == "acceptance" else self.rules.content.handling_default
        return ComplaintTraceStep(
            rule_id=f"complaints.{which}-default",
            effect="default",
            conclusion=d.reason,
            citation=self.ruleset.citation(d.clause),
        )

    def _decision(self, stage: Literal["acceptance", "termination"], outcome: Any, trace: list[ComplaintTraceStep]) -> ComplaintDecision:
        return ComplaintDecision(
            stage=stage, outcome=outcome, trace=trace, ruleset=self._stamp, rules_sha256=self.rules.sha256
        )

    def decide_acceptance(self, facts: ComplaintFacts) -> ComplaintDecision:
        """受理 or 不予受理 (附件4 第七条、第八条): any reject rule that fires rejects."""
        fired = [self._by_id[r] for r in self.fire(facts)]
        rejects = [r for r in fired if r.effect == "reject"]
        accepts = [r for r in fired if r.effect == "accept"]
        if rejects:
            return self._decision("acceptance", "reject", [self._step(r) for r in rejects])
        trace = [self._step(r) for r in accepts] or [self._default("acceptance")]
        return self._decision("acceptance", "accept", trace)

    def decide_termination(self, facts: ComplaintFacts) -> ComplaintDecision:
        """终止办理 (附件4 第十一条) when a terminate rule fires; else handling continues."""
        fired = [self._by_id[r] for r in self.fire(facts)]
        terminates = [r for r in fired if r.effect == "terminate"]
        if terminates:
            return self._decision("termination", "terminate", [self._step(r) for r in terminates])
        return self._decision("termination", "continue", [self._default("handling")])


# ---------------------------------------------------------------- the complaint record


class ComplaintChannel(StrEnum):
    """投诉举报方式 (附件4 第三条、第五条)."""

    HOTLINE_12345 = "hotline_12345"  # 12345政务服务热线
    SERVICE_WINDOW = "service_window"  # “无证明城市”监督服务专窗
    MOJ_PLATFORM = "moj_platform"  # 司法部“证明事项投诉举报平台”
    WRITTEN = "written"  # 信函、传真、短信、电子邮件
    ENFORCEMENT_SUPERVISION = "enforcement_supervision"  # 申请执法监督
    OTHER = "other"


class ComplaintState(StrEnum):
    RECEIVED = "received"  # 已登记
    ACCEPTED = "accepted"  # 已受理
    REJECTED = "rejected"  # 不予受理
    TERMINATED = "terminated"  # 终止办理
    CONCLUDED = "concluded"  # 已办结


C = ComplaintState


class Complaint(Record):
    """A complaint as registered (登记造册, 附件4 第七条) and handled (第八条–第十一条)."""

    record_label: ClassVar[str] = "投诉举报 / complaint"

    state: ComplaintState = ComplaintState.RECEIVED
    received_at: ShanghaiDatetime
    channel: ComplaintChannel
    summary: str = Field(min_length=1, max_length=4000, description="投诉举报内容 / what it is about")
    units: tuple[str, ...] = Field(min_length=1, description="涉及的行政机关和公共服务机构")
    complainant_ref: HashedRef | None = None
    intake_facts: ComplaintFacts | None = None
    acceptance: ComplaintDecision | None = None
    decided_at: ShanghaiDatetime | None = None
    due_at: ShanghaiDatetime | None = None
    due_rule: str | None = None
    extension_days: int = Field(default=0, ge=0)
    extended_at: ShanghaiDatetime | None = None
    extension_reason: str | None = None
    termination_facts: ComplaintFacts | None = None
    termination: ComplaintDecision | None = None
    terminated_at: ShanghaiDatetime | None = None
    concluded_at: ShanghaiDatetime | None = None
    concluded_late: bool | None = None
    result: str | None = None
    informed_at: ShanghaiDatetime | None = None

    @field_validator("units")
    @classmethod
    def _units(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(u.strip() for u in value)
        if any(not u for u in cleaned):
            raise ValueError("涉及单位不能为空 / a unit is blank")
        return cleaned

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        st = self.state
        if st is not C.RECEIVED and (self.acceptance is None or self.decided_at is None):
            raise ValueError(f"{st} 状态须有受理决定 / state {st} needs the acceptance decision")
        if st is C.REJECTED and self.acceptance is not None and self.acceptance.outcome != "reject":
            raise ValueError("不予受理须有不予受理决定 / rejected needs a reject decision")
        if st in (C.ACCEPTED, C.TERMINATED, C.CONCLUDED):
            if self.acceptance is None or self.acceptance.outcome != "accept" or self.due_at is None:
                raise ValueError(f"{st} 状态须已受理并有办结期限 / state {st} needs acceptance and a due time")
        if st is C.TERMINATED and (self.termination is None or self.termination.outcome != "terminate"):
            raise ValueError("终止须有终止决定 / terminated needs a terminate decision")
        if st is C.CONCLUDED and not (self.result or "").strip():
            raise ValueError("办结须写明办理结果 / concluded needs the result")
        if self.extension_days and (self.extended_at is None or not (self.extension_reason or "").strip()):
            raise ValueError("延期须有时间和理由 / an extension needs its time and reason")
        return self


def register_complaint(
    *,
    received_at: datetime,
    channel: ComplaintChannel | str,
    summary: str,
    units: list[str] | tuple[str, ...],
    complainant_ref: str | None = None,
    record_id: str | None = None,
    ruleset: Ruleset | None = None,
) -> Complaint:
    """登记造册 (附件4 第七条): time, content, the units concerned. The complainant only as keyed hash.

    The event cites the ruleset's ``records.complaint_register_clause`` (pass the ruleset).
    """
    note = ruleset.manifest.records.complaint_register_clause if ruleset is not None else None
    event = {"at": received_at, "action": "register", "state": C.RECEIVED.value, "note": note}
    return Complaint.model_validate(
        {
            "id": record_id or uuid4().hex,
            "received_at": received_at,
            "channel": channel,
            "summary": summary,
            "units": tuple(units),
            "complainant_ref": complainant_ref,
            "events": (event,),
        }
    )


def _due(ruleset: Ruleset, accepted_at: datetime, extension_days: int) -> tuple[datetime, str]:
    deadline = complaint_due(accepted_at, ruleset.calendar, extension_days, policy=ruleset.deadline_policy)
    return deadline.due_at, deadline.rule


def decide_intake(complaint: Complaint, engine: ComplaintEngine, facts: ComplaintFacts, at: datetime) -> Complaint:
    """受理 (due in 5 working days, 第十条) or 不予受理 (第八条), as the complaint rules decide."""
    if complaint.state is not C.RECEIVED:
        raise complaint.refuse("decide_intake", complaint.state, [C.RECEIVED])
    at = complaint.check_time(at, "decide_intake")
    decision = engine.decide_acceptance(facts)
    if decision.outcome == "reject":
        return complaint.evolve(
            action="reject",
            at=at,
            note=decision.trace[0].conclusion,
            state=C.REJECTED,
            intake_facts=facts,
            acceptance=decision,
            decided_at=at,
        )
    due_at, rule = _due(engine.ruleset, at, 0)
    return complaint.evolve(
        action="accept",
        at=at,
        state=C.ACCEPTED,
        intake_facts=facts,
        acceptance=decision,
        decided_at=at,
        due_at=due_at,
        due_rule=rule,
    )


def extend(complaint: Complaint, at: datetime, days: int, reason: str, ruleset: Ruleset) -> Complaint:
    """延期 (附件4 第十条): once, by 1 to 5 working days, asked before the period ends, with a reason."""
    if complaint.state is not C.ACCEPTED:
        raise complaint.refuse("extend", complaint.state, [C.ACCEPTED])
    if complaint.extension_days:
        raise complaint.problem(
            f"已延期 {complaint.extension_days} 个工作日，只能延期一次（{ruleset.deadline_policy.complaint_clause}）"
            " / already extended once; a complaint may be extended only once"
        )
    text = require_text(complaint.record_label, complaint.id, "reason / 延期理由", reason)
    at = complaint.check_time(at, "extend")
    assert complaint.due_at is not None and complaint.decided_at is not None
    if at > complaint.due_at:
        raise complaint.problem(
            f"办理期限已于 {complaint.due_at.isoformat()} 届满，不能再延期 / the period ended; it can "
            "no longer be extended"
        )
    if days < 1:
        raise complaint.problem(f"延期天数须至少 1 个工作日，不是 {days} / an extension is at least 1 working day")
    try:
        due_at, rule = _due(ruleset, complaint.decided_at, days)
    except ExtensionLimitError as exc:
        raise complaint.problem(f"延期超过上限 / extension beyond the limit: {exc}") from None
    return complaint.evolve(
        action="extend",
        at=at,
        note=text,
        extension_days=days,
        extended_at=at,
        extension_reason=text,
        due_at=due_at,
        due_rule=rule,
    )


def terminate(complaint: Complaint, engine: ComplaintEngine, facts: ComplaintFacts, at: datetime) -> Complaint:
    """终止办理 when a complaint rule says so (附件4 第十一条); no ground is an error."""
    if complaint.state is not C.ACCEPTED:
        raise complaint.refuse("terminate", complaint.state, [C.ACCEPTED])
    at = complaint.check_time(at, "terminate")
    decision = engine.decide_termination(facts)
    if decision.outcome != "terminate":
        clause = engine.ruleset.manifest.records.complaint_termination_clause
        cite = f"（{clause}）" if clause else ""
        raise complaint.problem(
            f"没有终止情形{cite}，应继续办理 / no ground to terminate{f' ({clause})' if clause else ''}; "
            "handling continues"
        )
    return complaint.evolve(
        action="terminate",
        at=at,
        note=decision.trace[0].conclusion,
        state=C.TERMINATED,
        termination_facts=facts,
        termination=decision,
        terminated_at=at,
    )


def conclude(complaint: Complaint, at: datetime, result: str, *, informed_at: datetime | None = None) -> Complaint:
    """办结 with the result; ``concluded_late`` when after the due time (附件4 第十条)."""
    if complaint.state is not C.ACCEPTED:
        raise complaint.refuse("conclude", complaint.state, [C.ACCEPTED])
    text = require_text(complaint.record_label, complaint.id, "result / 办理结果", result)
    at = complaint.check_time(at, "conclude")
    assert complaint.due_at is not None
    updated = complaint.evolve(
        action="conclude", at=at, note=text, state=C.CONCLUDED, concluded_at=at, result=text,
        concluded_late=at > complaint.due_at,
    )
    return inform(updated, informed_at) if informed_at is not None else updated


def inform(complaint: Complaint, at: datetime) -> Complaint:
    """将办理结果告知投诉举报人 (附件4 第十条); once, after the complaint is concluded."""
    if complaint.state is not C.CONCLUDED:
        raise complaint.refuse("inform", complaint.state, [C.CONCLUDED])
    if complaint.informed_at is not None:
        raise complaint.problem("已告知投诉举报人 / the complainant was already informed")
    at = complaint.check_time(at, "inform")
    return complaint.evolve(action="inform", at=at, informed_at=at)
