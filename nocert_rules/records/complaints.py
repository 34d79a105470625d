"""投诉举报 complaints (附件4 第七条–第十一条): whether to accept and when to terminate are rules.

The rules live in the ruleset's ``complaint_rules.yaml`` (see ``docs/records.md``): each has an
id, an effect (``reject`` 不予受理 第八条, ``accept``, or ``terminate`` 终止 第十一条), a
condition over the complaint's facts (``COMPLAINT_FACTS``, same language as policy rules:
:mod:`nocert_rules.policy.conditions`) and the clause it implements. :class:`ComplaintEngine` decides
on the same rule backend :class:`nocert_rules.engine.core.Engine` would get (``backend="auto"``:
durable_rules within its budget, else the compiled predicates; ``nocert_rules.engine.backend``),
and every decision carries a trace citing the clauses.

Intake (the ruleset's ``intake`` section, ``policy.complaint_rules.IntakeRules``; in Zibo 附件4
第三条–第六条, 第九条): a complaint is registered with its channel (a label and receiving unit from
the ruleset), its form (oral or written), the contents a written complaint must state (personal
items, a name or a phone number, kept only as keyed hashes), whether a proxy made it and on what
entrustment, and its ground (one of the ruleset's grounds, given at registration or at intake).
An oral complaint names the receiving unit that wrote it down. Several units that received the same
complaint: :func:`refer_to_first_receiver` leaves it with the first (the others are ``referred``).

A complaint's life::

    received ──decide_intake──▶ accepted ──extend (once, ≤ 5 working days)──▶ accepted
      │  ▲ │                       │──conclude──▶ concluded ──inform──▶ (informed_at set)
      │  │ └──▶ rejected (第八条)   └──terminate (第十一条)──▶ terminated
      │  └─supplement── supplement_requested (a supplement rule: contents, entrustment)
      └──refer_to_first_receiver──▶ referred (another unit received it first)

Deadlines: :func:`nocert_rules.worktime.deadlines.complaint_due` (受理后 5 个工作日内办结; one extension
of at most 5 working days, 第十条). A second extension is an error.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
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
    IntakeRules,
    load_complaint_rules,
)
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.privacy import keyed_hash, mask_known
from nocert_rules.records import HashedRef, Record, RecordProblem, mask_personal, require_text
from nocert_rules.worktime.deadlines import ExtensionLimitError, complaint_due
from nocert_rules.worktime.wording import say

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
    "intake_rules",
    "load_complaint_rules",
    "refer_to_first_receiver",
    "register_complaint",
    "supplement",
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
    # Set by decide_intake from the complaint record (what a caller passes is replaced):
    contents_missing: bool = False
    by_proxy: bool = False
    proxy_authorised: bool = False
    supplement_requested: bool = False

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
            "complaint.contents_missing": self.contents_missing,
            "complaint.by_proxy": self.by_proxy,
            "complaint.proxy_authorised": self.proxy_authorised,
            "complaint.supplement_requested": self.supplement_requested,
        }


# ---------------------------------------------------------------- decisions


class ComplaintTraceStep(BaseModel):
    """One complaint rule that fired, or the default outcome, with its clause."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    effect: Literal["accept", "reject", "supplement", "terminate", "default"]
    item: str | None = None
    conclusion: str
    citation: Citation | None = None


class ComplaintDecision(BaseModel):
    """Whether to accept (第八条) or terminate (第十一条) a complaint, why, under which clauses."""

    model_config = ConfigDict(frozen=True)

    stage: Literal["acceptance", "termination"]
    outcome: Literal["accept", "reject", "supplement", "continue", "terminate"]
    trace: list[ComplaintTraceStep]
    ruleset: RulesetStamp
    rules_sha256: str


class ComplaintEngine:
    """Decides complaints against a ruleset's ``complaint_rules.yaml`` on a rule backend.

    Thread-safe; reuse one per ruleset; ``close()`` frees it.
    """

    def __init__(self, ruleset: Ruleset, backend: str = "auto") -> None:
        """``backend`` as for ``Engine`` (``nocert_rules.engine.backend``): the same choice, made
        for the complaint rules; ``self.backend`` / ``self.backend_reason`` say which and why."""
        self.ruleset = ruleset
        self.rules = load_complaint_rules(ruleset)
        self._words = ruleset.manifest.wording.complaints  # the steps' words (manifest wording)
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
            conclusion=say(self._words.rule, effect=self._words.effect(rule.effect),
                           clause=f"{rule.clause}{rule.item or ''}", reason=rule.reason),
            citation=self.ruleset.citation(rule.clause),
        )

    def _default(self, which: Literal["acceptance", "handling"], ground: str | None = None) -> ComplaintTraceStep:
        d = self.rules.content.acceptance_default if which == "acceptance" else self.rules.content.handling_default
        return ComplaintTraceStep(
            rule_id=f"complaints.{which}-default",
            effect="default",
            conclusion=say(self._words.default_ground, reason=d.reason, ground=ground) if ground else d.reason,
            citation=self.ruleset.citation(d.clause),
        )

    def _decision(self, stage: Literal["acceptance", "termination"], outcome: Any, trace: list[ComplaintTraceStep]) -> ComplaintDecision:
        return ComplaintDecision(
            stage=stage, outcome=outcome, trace=trace, ruleset=self._stamp, rules_sha256=self.rules.sha256
        )

    def decide_acceptance(self, facts: ComplaintFacts, ground: str | None = None) -> ComplaintDecision:
        """受理 or 不予受理 (附件4 第七条、第八条): any reject rule that fires rejects; else any
        supplement rule asks for a supplement; else accepted (``ground``, the complaint's ground in
        words, goes into the default step)."""
        fired = [self._by_id[r] for r in self.fire(facts)]
        rejects = [r for r in fired if r.effect == "reject"]
        supplements = [r for r in fired if r.effect == "supplement"]
        accepts = [r for r in fired if r.effect == "accept"]
        if rejects:
            return self._decision("acceptance", "reject", [self._step(r) for r in rejects])
        if supplements:
            return self._decision("acceptance", "supplement", [self._step(r) for r in supplements])
        trace = [self._step(r) for r in accepts] or [self._default("acceptance", ground)]
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
    """投诉举报方式 (附件4 第三条、第五条) for a ruleset whose ``complaint_rules.yaml`` lists no
    channels; a ruleset that lists them (``intake.channels``) takes its own ids instead."""

    HOTLINE_12345 = "hotline_12345"  # 12345政务服务热线
    SERVICE_WINDOW = "service_window"  # “无证明城市”监督服务专窗
    MOJ_PLATFORM = "moj_platform"  # 司法部“证明事项投诉举报平台”
    WRITTEN = "written"  # 信函、传真、短信、电子邮件
    ENFORCEMENT_SUPERVISION = "enforcement_supervision"  # 申请执法监督
    OTHER = "other"


class ComplaintState(StrEnum):
    RECEIVED = "received"  # 已登记
    SUPPLEMENT_REQUESTED = "supplement_requested"  # 待补正
    REFERRED = "referred"  # 由最先收到的单位先行处理
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
    channel: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    channel_label: str | None = Field(default=None, description="the ruleset's label of the channel")
    channel_clause: str | None = Field(default=None, description="the clause (and item) listing the channel")
    channel_receiver: str | None = Field(default=None, description="the receiving unit the ruleset names for it")
    receiver: str | None = Field(default=None, max_length=200, description="投诉举报接收单位 / the unit that received it")
    form: Literal["oral", "written"] | None = Field(default=None, description="口头/书面")
    summary: str = Field(min_length=1, max_length=4000, description="投诉举报内容 / what it is about")
    units: tuple[str, ...] = Field(min_length=1, description="涉及的行政机关和公共服务机构")
    complainant_ref: HashedRef | None = None
    contents: dict[str, str] = Field(default_factory=dict, description="stated contents (not personal), by item id")
    contents_refs: dict[str, HashedRef] = Field(
        default_factory=dict, description="stated personal contents (name, phone) as keyed hashes, by item id"
    )
    contents_missing: tuple[str, ...] = Field(default=(), description="required contents not stated, by item id")
    contents_clause: str | None = None
    by_proxy: bool = False
    proxy_ref: HashedRef | None = None
    proxy_authorisation: str | None = Field(default=None, max_length=500, description="委托 / the entrustment shown")
    ground: str | None = Field(default=None, max_length=64, description="投诉举报情形 id (intake.grounds)")
    ground_clause: str | None = None
    ground_label: str | None = None
    ground_detail: str | None = Field(default=None, max_length=2000, description="“其他”情形的说明")
    first_receiver_id: str | None = Field(default=None, description="referred: the complaint record of the first receiver")
    first_receiver_unit: str | None = None
    first_receiver_clause: str | None = None
    co_receivers: tuple[str, ...] = Field(default=(), description="the first receiver: the other units that received it")
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
        """Each state carries the facts that make it (a stored record edited into nonsense fails)."""
        checks = _REFERRED_CHECKS if self.state is C.REFERRED else _STATE_CHECKS
        for broken, message in checks:
            if broken(self):
                raise ValueError(message.format(st=self.state))
        return self


def _accepted(c: Complaint) -> bool:
    return c.acceptance is not None and c.acceptance.outcome == "accept" and c.due_at is not None


_REFERRED_CHECKS: tuple[tuple[Callable[[Complaint], bool], str], ...] = (
    (lambda c: not c.first_receiver_id or not (c.first_receiver_unit or "").strip(),
     "移交须写明最先收到的单位 / referred needs the first receiver"),
)
_STATE_CHECKS: tuple[tuple[Callable[[Complaint], bool], str], ...] = (
    (lambda c: c.state is C.SUPPLEMENT_REQUESTED and (c.acceptance is None or c.acceptance.outcome != "supplement"),
     "待补正须有补正决定 / supplement_requested needs a supplement decision"),
    (lambda c: c.form == "oral" and not (c.receiver or "").strip(),
     "口头投诉举报须由接收单位登记 / an oral complaint names the receiving unit that recorded it"),
    (lambda c: c.state is not C.RECEIVED and (c.acceptance is None or c.decided_at is None),
     "{st} 状态须有受理决定 / state {st} needs the acceptance decision"),
    (lambda c: c.state is C.REJECTED and c.acceptance is not None and c.acceptance.outcome != "reject",
     "不予受理须有不予受理决定 / rejected needs a reject decision"),
    (lambda c: c.state in (C.ACCEPTED, C.TERMINATED, C.CONCLUDED) and not _accepted(c),
     "{st} 状态须已受理并有办结期限 / state {st} needs acceptance and a due time"),
    (lambda c: c.state is C.TERMINATED and (c.termination is None or c.termination.outcome != "terminate"),
     "终止须有终止决定 / terminated needs a terminate decision"),
    (lambda c: c.state is C.CONCLUDED and not (c.result or "").strip(), "办结须写明办理结果 / concluded needs the result"),
    (lambda c: bool(c.extension_days) and (c.extended_at is None or not (c.extension_reason or "").strip()),
     "延期须有时间和理由 / an extension needs its time and reason"),
)
"""What a complaint's state needs (``Complaint._consistent``): a check that holds is a broken record."""


_INTAKE: weakref.WeakKeyDictionary[Ruleset, IntakeRules | None] = weakref.WeakKeyDictionary()
_INTAKE_LOCK = threading.Lock()


def intake_rules(ruleset: Ruleset | None) -> IntakeRules | None:
    """The ``intake`` section of ``ruleset``'s complaint rules (None: no ruleset, no complaint
    rules file, or no such section). Read once per ruleset."""
    if ruleset is None:
        return None
    with _INTAKE_LOCK:
        if ruleset in _INTAKE:
            return _INTAKE[ruleset]
    name = ruleset.manifest.files.complaint_rules or COMPLAINT_RULES_FILE
    present = name in ruleset.files or (ruleset.directory / name).is_file()
    intake = load_complaint_rules(ruleset).content.intake if present else None
    with _INTAKE_LOCK:
        _INTAKE[ruleset] = intake
    return intake


def _problem(record_id: str | None, text: str) -> RecordProblem:
    return RecordProblem(Complaint.record_label, record_id, text)


def _cite(ruleset: Ruleset, clause_id: str, item: str | None = None) -> str:
    """``clause（item）：text`` from the ruleset, for messages that refuse something."""
    return f"{clause_id}{item or ''}：{ruleset.citation(clause_id).text}"


def _stated_contents(
    intake: IntakeRules, rid: str, given: Mapping[str, str | None], key: bytes | None
) -> tuple[dict[str, str], dict[str, str]]:
    """Split stated contents into plain text and keyed hashes (personal items)."""
    catalogue = {c.id: c for c in intake.written_contents.items}
    unknown = sorted(k for k in given if k not in catalogue)
    if unknown:
        raise _problem(rid, f"未知内容项 / unknown contents items; the ruleset's: {', '.join(catalogue)}")
    plain: dict[str, str] = {}
    hashed: dict[str, str] = {}
    for item_id, value in given.items():
        text = (value or "").strip()
        if not text:
            continue
        if catalogue[item_id].personal:
            if not key:
                raise _problem(rid, f"{catalogue[item_id].label}是个人信息，须提供密钥（只存 keyed hash） / "
                                    f"{item_id} is personal data: pass key= (only its keyed hash is kept)")
            hashed[item_id] = keyed_hash(text, key)
        else:
            plain[item_id] = text
    return plain, hashed


def _personal_values(
    intake: IntakeRules | None, contents: Mapping[str, str | None] | None, proxy_id: str | None
) -> list[str | None]:
    """The clear values hashed for the record (the stated name and phone, the proxy): wherever
    the summary or another text repeats them they are masked (``records.mask_personal``)."""
    items = {c.id for c in intake.written_contents.items if c.personal} if intake is not None else set()
    return [proxy_id, *((contents or {}).get(item) for item in items)]


def _missing(intake: IntakeRules, channel_id: str, plain: Mapping[str, str], hashed: Mapping[str, str]) -> tuple[str, ...]:
    channel = next((c for c in intake.channels.items if c.id == channel_id), None)
    if channel is None or not channel.contents_required:
        return ()
    return tuple(c.id for c in intake.written_contents.items if c.id not in plain and c.id not in hashed)


def _ground_fields(ruleset: Ruleset, intake: IntakeRules, rid: str, ground: str, detail: str | None) -> dict[str, Any]:
    items = {g.id: g for g in intake.grounds.items}
    plan = items.get(ground)
    if plan is None:
        raise _problem(rid, f"未知投诉举报情形（{_cite(ruleset, intake.grounds.clause)}） / unknown ground; "
                            f"the ruleset's: {', '.join(items)}")
    text = (detail or "").strip() or None
    if plan.other and text is None:
        raise _problem(rid, f"{intake.grounds.clause}{plan.item or ''}“{plan.label}”须说明情形 / an 'other' "
                            "ground needs ground_detail")
    return {
        "ground": plan.id,
        "ground_clause": f"{intake.grounds.clause}{plan.item or ''}",
        "ground_label": plan.label,
        "ground_detail": text,
    }


def register_complaint(
    *,
    received_at: datetime,
    channel: ComplaintChannel | str,
    summary: str,
    units: list[str] | tuple[str, ...],
    complainant_ref: str | None = None,
    record_id: str | None = None,
    ruleset: Ruleset | None = None,
    receiver: str | None = None,
    form: Literal["oral", "written"] | None = None,
    contents: Mapping[str, str | None] | None = None,
    key: bytes | None = None,
    by_proxy: bool = False,
    proxy_id: str | None = None,
    proxy_authorisation: str | None = None,
    ground: str | None = None,
    ground_detail: str | None = None,
) -> Complaint:
    """登记造册 (附件4 第七条): time, content, the units concerned. The complainant only as keyed hash.

    The event cites the ruleset's ``records.complaint_register_clause`` (pass the ruleset). A
    ruleset with an ``intake`` section (Zibo: 附件4 第三条–第六条) also checks and keeps:

    * ``channel``: one of its channels (the record keeps its label, clause and receiving unit);
    * ``form``: ``oral`` or ``written``, one the channel takes (a channel with one form: that
      one); an oral complaint needs ``receiver``, the unit that wrote it down;
    * ``contents``: the stated contents by item id; personal items (a name, a phone number) are
      kept only as :func:`nocert_rules.privacy.keyed_hash` under ``key``; on a channel that
      requires them, the items not stated are ``contents_missing``;
    * ``by_proxy`` (``proxy_id`` hashed under ``key``, ``proxy_authorisation``: the entrustment);
    * ``ground``: one of its grounds (Zibo: 第四条), or given later to :func:`decide_intake`.

    Without that section the channel is a :class:`ComplaintChannel` and contents are refused
    (nothing says which of them are personal).
    """
    intake = intake_rules(ruleset)
    # The id as the record keeps it, masked also where it repeats the stated name: errors quote it.
    rid = mask_known(record_id, [v for v in _personal_values(intake, contents, proxy_id) if v]) if record_id else uuid4().hex
    fields: dict[str, Any] = {"receiver": (receiver or "").strip() or None,
                              **_proxy_fields(rid, by_proxy, proxy_id, proxy_authorisation, key)}
    if intake is None:
        fields.update(_fields_without_intake(rid, channel, form, contents, ground, ground_detail))
    else:
        assert ruleset is not None  # intake_rules gives None without a ruleset
        fields.update(_intake_fields(ruleset, intake, rid, str(channel), form, fields["receiver"], contents, key))
        if ground is not None:
            fields.update(_ground_fields(ruleset, intake, rid, ground, ground_detail))
    event = {"at": received_at, "action": "register", "state": C.RECEIVED.value,
             "note": _register_note(ruleset, intake, fields.get("form"))}
    return Complaint.model_validate(mask_personal(
        {
            "id": rid,
            "received_at": received_at,
            "summary": summary,
            "units": tuple(units),
            "complainant_ref": complainant_ref,
            **fields,
            "events": (event,),
        },
        _personal_values(intake, contents, proxy_id),
    ))


def _proxy_fields(rid: str, by_proxy: bool, proxy_id: str | None, authorisation: str | None,
                  key: bytes | None) -> dict[str, Any]:
    """代为提出 (附件4 第六条 in Zibo): the proxy only as a keyed hash, and the entrustment shown."""
    fields: dict[str, Any] = {"by_proxy": by_proxy}
    if proxy_id is not None:
        if not key:
            raise _problem(rid, "代为提出者的身份须以 keyed hash 记录，须提供密钥 / pass key= to record the proxy")
        fields["proxy_ref"] = keyed_hash(proxy_id, key)
    if authorisation is not None:
        fields["proxy_authorisation"] = authorisation.strip() or None
    if (proxy_id is not None or fields.get("proxy_authorisation")) and not by_proxy:
        raise _problem(rid, "非委托提出的投诉举报没有代为提出者 / proxy details given but by_proxy is false")
    return fields


def _fields_without_intake(rid: str, channel: ComplaintChannel | str, form: str | None,
                           contents: Mapping[str, str | None] | None, ground: str | None,
                           ground_detail: str | None) -> dict[str, Any]:
    """A ruleset without an ``intake`` section: a :class:`ComplaintChannel`, no contents items."""
    try:
        known = ComplaintChannel(channel)
    except ValueError:
        raise _problem(rid, "未知投诉举报方式 / unknown channel; the channels: "
                            f"{', '.join(c.value for c in ComplaintChannel)}") from None
    if contents:
        raise _problem(rid, "规则集未列出应当载明的内容，不能记录内容项 / the ruleset lists no contents items")
    fields: dict[str, Any] = {"channel": known.value, "form": form}
    if ground is not None:
        fields.update(ground=ground, ground_detail=(ground_detail or "").strip() or None)
    return fields


def _channel_form(ruleset: Ruleset, intake: IntakeRules, rid: str, channel: str, form: str | None,
                  receiver: str | None) -> tuple[Any, str]:
    """The ruleset's channel and the complaint's form (a channel with one form: that one)."""
    by_id = {c.id: c for c in intake.channels.items}
    plan = by_id.get(channel)
    if plan is None:
        raise _problem(rid, f"未知投诉举报方式（{_cite(ruleset, intake.channels.clause)}） / unknown channel; "
                            f"the ruleset's: {', '.join(by_id)}")
    if form is None and len(plan.forms) == 1:
        form = plan.forms[0]
    if form is None or form not in plan.forms:
        raise _problem(rid, f"“{plan.label}”的形式须为 {'/'.join(plan.forms)}（{_cite(ruleset, intake.forms.clause)}） / "
                            f"the form must be one of {plan.forms}")
    if form == "oral" and receiver is None:
        raise _problem(rid, f"{intake.forms.oral}（{_cite(ruleset, intake.forms.clause)}） / an oral complaint "
                            "needs receiver=, the unit that recorded it")
    return plan, form


def _intake_fields(ruleset: Ruleset, intake: IntakeRules, rid: str, channel: str, form: str | None,
                   receiver: str | None, contents: Mapping[str, str | None] | None, key: bytes | None) -> dict[str, Any]:
    """The channel (label, clause, receiving unit), the form and the stated contents, per the intake rules."""
    plan, form = _channel_form(ruleset, intake, rid, channel, form, receiver)
    plain, hashed = _stated_contents(intake, rid, contents or {}, key)
    return {
        "channel": plan.id,
        "channel_label": plan.label,
        "channel_clause": f"{intake.channels.clause}{plan.item or ''}",
        "channel_receiver": plan.receiver,
        "form": form,
        "contents": plain,
        "contents_refs": hashed,
        "contents_missing": _missing(intake, plan.id, plain, hashed),
        "contents_clause": f"{intake.written_contents.clause}{intake.written_contents.item or ''}",
    }


def _register_note(ruleset: Ruleset | None, intake: IntakeRules | None, form: str | None) -> str | None:
    """The register event's note: the register clause, and the forms clause for an oral complaint."""
    note = ruleset.manifest.records.complaint_register_clause if ruleset is not None else None
    if intake is not None and form == "oral":
        return f"{note}；{intake.forms.clause}" if note else intake.forms.clause
    return note


def _due(ruleset: Ruleset, accepted_at: datetime, extension_days: int) -> tuple[datetime, str]:
    deadline = complaint_due(accepted_at, ruleset.calendar, extension_days, policy=ruleset.deadline_policy)
    return deadline.due_at, deadline.rule


def decide_intake(
    complaint: Complaint,
    engine: ComplaintEngine,
    facts: ComplaintFacts,
    at: datetime,
    *,
    ground: str | None = None,
    ground_detail: str | None = None,
) -> Complaint:
    """受理 (due in 5 working days, 第十条), 不予受理 (第八条) or 请补正, as the complaint rules decide.

    With an ``intake`` section the complaint must have its ground (registered, or ``ground`` here:
    one of the ruleset's grounds); the facts ``contents_missing``, ``by_proxy``,
    ``proxy_authorised`` and ``supplement_requested`` are taken from the record.
    """
    if complaint.state is C.REFERRED:
        clause = complaint.first_receiver_clause
        cited = _cite(engine.ruleset, clause) if clause and clause in engine.ruleset.clauses else clause
        raise complaint.problem(
            f"{complaint.first_receiver_unit} 最先收到，由其先行处理（{cited}） / "
            "referred: the unit that received it first handles it"
        )
    if complaint.state not in (C.RECEIVED, C.SUPPLEMENT_REQUESTED):
        raise complaint.refuse("decide_intake", complaint.state, [C.RECEIVED, C.SUPPLEMENT_REQUESTED])
    at = complaint.check_time(at, "decide_intake")
    ruleset = engine.ruleset
    intake = intake_rules(ruleset)
    changes: dict[str, Any] = {}
    ground_text: str | None = None
    if intake is not None:
        if ground is not None:
            changes.update(_ground_fields(ruleset, intake, complaint.id, ground, ground_detail))
        elif complaint.ground is not None and complaint.ground_clause is None:  # registered without the ruleset
            changes.update(_ground_fields(ruleset, intake, complaint.id, complaint.ground, complaint.ground_detail))
        elif complaint.ground is None:
            raise complaint.problem(
                f"须写明投诉举报情形（{_cite(ruleset, intake.grounds.clause)}） / the complaint's ground is "
                f"required: one of {', '.join(g.id for g in intake.grounds.items)}"
            )
        label = changes.get("ground_label", complaint.ground_label)
        clause = changes.get("ground_clause", complaint.ground_clause)
        detail = changes.get("ground_detail", complaint.ground_detail)
        ground_text = f"{clause}“{label}”" + (f"：{detail}" if detail else "")
    facts = facts.model_copy(
        update={
            "contents_missing": bool(complaint.contents_missing),
            "by_proxy": complaint.by_proxy,
            "proxy_authorised": bool(complaint.proxy_authorisation),
            "supplement_requested": any(e.action == "request_supplement" for e in complaint.events),
        }
    )
    decision = engine.decide_acceptance(facts, ground_text)
    if decision.outcome == "reject":
        return complaint.evolve(
            action="reject",
            at=at,
            note=decision.trace[0].conclusion,
            state=C.REJECTED,
            intake_facts=facts,
            acceptance=decision,
            decided_at=at,
            **changes,
        )
    if decision.outcome == "supplement":
        return complaint.evolve(
            action="request_supplement",
            at=at,
            note="；".join(step.conclusion for step in decision.trace),
            state=C.SUPPLEMENT_REQUESTED,
            intake_facts=facts,
            acceptance=decision,
            decided_at=at,
            **changes,
        )
    due_at, rule = _due(ruleset, at, 0)
    return complaint.evolve(
        action="accept",
        at=at,
        state=C.ACCEPTED,
        intake_facts=facts,
        acceptance=decision,
        decided_at=at,
        due_at=due_at,
        due_rule=rule,
        **changes,
    )


def supplement(
    complaint: Complaint,
    ruleset: Ruleset,
    at: datetime,
    *,
    contents: Mapping[str, str | None] | None = None,
    key: bytes | None = None,
    proxy_authorisation: str | None = None,
) -> Complaint:
    """补正 after a supplement rule: the contents and/or the entrustment supplied; back to
    ``received``, to be decided again (:func:`decide_intake`; a supplement is asked for once)."""
    if complaint.state is not C.SUPPLEMENT_REQUESTED:
        raise complaint.refuse("supplement", complaint.state, [C.SUPPLEMENT_REQUESTED])
    at = complaint.check_time(at, "supplement")
    changes: dict[str, Any] = {}
    if contents:
        intake = intake_rules(ruleset)
        if intake is None:
            raise complaint.problem("规则集未列出应当载明的内容 / the ruleset lists no contents items")
        plain, hashed = _stated_contents(intake, complaint.id, contents, key)
        plain, hashed = {**complaint.contents, **plain}, {**complaint.contents_refs, **hashed}
        changes.update(contents=plain, contents_refs=hashed, contents_missing=_missing(intake, complaint.channel, plain, hashed))
    if proxy_authorisation is not None and proxy_authorisation.strip():
        if not complaint.by_proxy:
            raise complaint.problem("非委托提出的投诉举报 / not a proxy complaint")
        changes["proxy_authorisation"] = proxy_authorisation.strip()
    if not changes:
        raise complaint.problem("补正须提供所缺内容或委托 / a supplement gives the missing contents or the entrustment")
    return complaint.evolve(action="supplement", at=at, state=C.RECEIVED, **changes)


def refer_to_first_receiver(complaints: Sequence[Complaint], ruleset: Ruleset, at: datetime) -> list[Complaint]:
    """多个受理单位收到同一投诉举报 (Zibo: 附件4 第九条): the one received first handles it first.

    ``complaints`` are the records of one complaint at several receiving units (the host links
    them; each names its ``receiver``). The earliest by ``received_at`` keeps its state and lists
    the others as ``co_receivers``; each other one becomes ``referred`` (from received,
    supplement_requested or accepted), naming the first. A tie for first is a RecordProblem (the
    units coordinate jointly). The plan gives the first receiver no time limit of its own: its
    handling runs under the complaint deadline from its acceptance. Returned in the given order.
    """
    intake = intake_rules(ruleset)
    rule = intake.first_receiver if intake is not None else None
    if rule is None:
        raise _problem(None, "规则集未规定最先收到单位的处理 / the ruleset has no intake.first_receiver")
    if len(complaints) < 2:
        raise _problem(None, "须至少两个单位收到同一投诉举报 / at least two records of one complaint")
    for c in complaints:
        if not (c.receiver or "").strip():
            raise c.problem(f"须写明接收单位（{rule.clause}） / each record names its receiver")
    first_at = min(c.received_at for c in complaints)
    firsts = [c for c in complaints if c.received_at == first_at]
    if len(firsts) > 1:
        raise _problem(
            firsts[0].id,
            f"{'、'.join(str(c.receiver) for c in firsts)} 同时收到，无法确定最先收到的单位；{rule.others}"
            f"（{_cite(ruleset, rule.clause)}） / received at the same moment: no first receiver",
        )
    lead = firsts[0]
    others = [c for c in complaints if c is not lead]
    out: list[Complaint] = []
    for c in complaints:
        if c is lead:
            out.append(c.evolve(
                action="first_receiver", at=c.check_time(at, "first_receiver"), note=f"{rule.duty}（{rule.clause}）",
                co_receivers=tuple(str(o.receiver) for o in others),
            ))
            continue
        if c.state not in (C.RECEIVED, C.SUPPLEMENT_REQUESTED, C.ACCEPTED):
            raise c.refuse("refer_to_first_receiver", c.state, [C.RECEIVED, C.SUPPLEMENT_REQUESTED, C.ACCEPTED])
        out.append(c.evolve(
            action="refer", at=c.check_time(at, "refer"), note=f"{rule.duty}；{rule.others}（{rule.clause}）",
            state=C.REFERRED, first_receiver_id=lead.id, first_receiver_unit=lead.receiver,
            first_receiver_clause=rule.clause,
        ))
    return out


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
