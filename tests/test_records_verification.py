"""部门核验 records (附件2 第七条–第十二条): valid paths and every refused transition."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from conftest import PERSON_ID

from nocert_rules import Decision, Engine, Method, RecordError, Ruleset
from nocert_rules.models import SHANGHAI
from nocert_rules.records import RecordProblem, TransitionError
from nocert_rules.records.verification import (
    LedgerEntry,
    PurposeError,
    SupplementaryRequest,
    VerificationRequest,
    VerificationState,
    accept,
    answer,
    check_use,
    escalate,
    mark_overdue,
    open_verification,
    request_supplement,
    return_not_our_duty,
)

ITEM, CERT = "370300-QR-0002", "ZM-ZJ-0003"  # verification, incomplete archive: 2 working days
WHEN = "2021-05-06T10:00:00"  # Thursday; 2021-05-08 (Saturday) was a 调休 working day
UNIT = "淄博市行政审批服务局"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def decide(engine: Engine, item: str = ITEM, cert: str = CERT, **kw: Any) -> Decision:
    request: dict[str, Any] = {
        "service_item": item,
        "certificate": cert,
        "applicant": {"kind": "person", "id_number": PERSON_ID, "name": "张三丰"},
        "requested_at": WHEN,
        "request_id": "case-1",
    }
    request.update(kw)
    return engine.decide(request)


@pytest.fixture(scope="module")
def opened(zibo_engine: Engine) -> VerificationRequest:
    return open_verification(decide(zibo_engine), requesting_unit=UNIT, record_id="v-1", ruleset=zibo_engine.ruleset)


@pytest.fixture(scope="module")
def accepted(opened: VerificationRequest) -> VerificationRequest:
    return accept(opened, at("2021-05-06T10:05"))


# ---------------------------------------------------------------- creation


def test_open_from_verification_decision(zibo_engine: Engine) -> None:
    decision = decide(zibo_engine)
    assert decision.method is Method.VERIFICATION and decision.deadline is not None
    record = open_verification(decision, requesting_unit=UNIT, record_id="v-1")
    assert record.state is VerificationState.REQUESTED
    assert record.requesting_unit == UNIT
    assert record.issuing_unit == decision.issuer
    assert record.certificate_id == CERT
    assert record.records is decision.records
    assert record.due_at == decision.deadline.due_at == at("2021-05-08T17:00")
    assert record.deadline_clause == "附件2 第七条"
    assert record.purpose.service_item == ITEM and record.purpose.request_id == "case-1"
    assert record.ruleset.sha256 == decision.ruleset.sha256
    assert [e.action for e in record.events] == ["open"]


def test_open_refuses_other_methods(zibo_engine: Engine) -> None:
    pledge = decide(zibo_engine, "370300-XK-0013", "ZM-CW-0008")
    assert pledge.method is Method.PLEDGE
    with pytest.raises(RecordProblem, match="not VERIFICATION"):
        open_verification(pledge, requesting_unit=UNIT)


def test_open_needs_requesting_unit(zibo_engine: Engine) -> None:
    with pytest.raises(RecordProblem, match="requesting_unit"):
        open_verification(decide(zibo_engine), requesting_unit="  ")


# ---------------------------------------------------------------- accept / answer / return


@pytest.mark.parametrize("matches", [True, False])
def test_accept_then_answer(accepted: VerificationRequest, matches: bool) -> None:
    assert accepted.state is VerificationState.ACCEPTED and accepted.accepted_at is not None
    done = answer(accepted, at("2021-05-07T09:30"), matches=matches, note="档案相符" if matches else "面积不符")
    assert done.state is (VerificationState.MATCHED if matches else VerificationState.MISMATCHED)
    assert done.answered_late is False
    assert [e.action for e in done.events] == ["open", "accept", "answer"]
    assert accepted.state is VerificationState.ACCEPTED  # the old record is unchanged


def test_answer_before_registration_is_refused(opened: VerificationRequest) -> None:
    with pytest.raises(TransitionError, match="requested"):
        answer(opened, at("2021-05-06T11:00"), matches=True)


def test_accept_twice_is_refused(accepted: VerificationRequest) -> None:
    with pytest.raises(TransitionError):
        accept(accepted, at("2021-05-06T11:00"))


def test_answer_twice_is_refused(accepted: VerificationRequest) -> None:
    done = answer(accepted, at("2021-05-06T11:00"), matches=True)
    with pytest.raises(TransitionError):
        answer(done, at("2021-05-06T12:00"), matches=False)


def test_time_before_last_event_is_refused(accepted: VerificationRequest) -> None:
    with pytest.raises(RecordProblem, match="before the record's last event"):
        answer(accepted, at("2021-05-06T10:01"), matches=True)


@pytest.mark.parametrize("start", ["opened", "accepted"])
def test_return_not_our_duty_needs_reason(start: str, request: pytest.FixtureRequest) -> None:
    record: VerificationRequest = request.getfixturevalue(start)
    with pytest.raises(RecordProblem, match="reason"):
        return_not_our_duty(record, at("2021-05-06T10:30"), "   ")
    returned = return_not_our_duty(record, at("2021-05-06T10:30"), "该房产不在本单位登记范围")
    assert returned.state is VerificationState.RETURNED
    assert returned.return_reason == "该房产不在本单位登记范围"


def test_return_after_answer_is_refused(accepted: VerificationRequest) -> None:
    done = answer(accepted, at("2021-05-06T11:00"), matches=True)
    with pytest.raises(TransitionError):
        return_not_our_duty(done, at("2021-05-06T12:00"), "不属于本单位职责")


def test_nothing_follows_a_return(accepted: VerificationRequest) -> None:
    returned = return_not_our_duty(accepted, at("2021-05-06T10:30"), "不属于本单位职责")
    for action in (
        lambda r: answer(r, at("2021-05-06T11:00"), matches=True),
        lambda r: accept(r, at("2021-05-06T11:00")),
        lambda r: escalate(r, at("2021-05-10T09:00")),
    ):
        with pytest.raises(TransitionError):
            action(returned)


# ---------------------------------------------------------------- overdue / escalation (第十一条)


def test_not_overdue_before_due(accepted: VerificationRequest, zibo: Ruleset) -> None:
    with pytest.raises(RecordProblem, match="not overdue"):
        mark_overdue(accepted, at("2021-05-08T17:00"), zibo)  # exactly at due: on time


def test_overdue_escalate_then_late_answer(accepted: VerificationRequest, zibo: Ruleset) -> None:
    overdue = mark_overdue(accepted, at("2021-05-08T17:01"), zibo)
    assert overdue.state is VerificationState.OVERDUE
    assert overdue.escalation is not None and overdue.escalation.clause == "附件2 第十一条"
    assert overdue.escalation.overdue_since == accepted.due_at
    escalated = escalate(overdue, at("2021-05-10T09:00"), note="已报市联席会议办公室")
    assert escalated.state is VerificationState.ESCALATED
    late = answer(escalated, at("2021-05-10T15:00"), matches=True)
    assert late.state is VerificationState.MATCHED and late.answered_late is True


def test_an_adverse_effect_on_the_escalation_leads_to_an_interview(accepted: VerificationRequest, zibo: Ruleset) -> None:
    """附件2 第十一条 第二句: 造成不良影响的，市联席会议办公室应当提请市政府对相关人员进行约谈 (issue 24, item 4)."""
    from nocert_rules.records.verification import (
        InterviewProposal,
        InterviewState,
        hold_interview,
        propose_interview,
        record_adverse_effect,
    )

    overdue = mark_overdue(accepted, at("2021-05-08T17:01"), zibo)
    with pytest.raises(RecordProblem, match="only an escalated request"):
        record_adverse_effect(overdue, at("2021-05-09T09:00"), "申请人两次往返")
    escalated = escalate(overdue, at("2021-05-10T09:00"))
    with pytest.raises(RecordProblem, match="records an adverse effect"):
        propose_interview(escalated, at("2021-05-10T10:00"), zibo)  # no adverse effect recorded: no interview
    late = answer(escalated, at("2021-05-10T15:00"), matches=True)
    shown = record_adverse_effect(late, at("2021-05-11T09:00"), "申请人两次往返，延误开业")
    assert shown.state is VerificationState.MATCHED and shown.adverse_effect == "申请人两次往返，延误开业"
    proposal = propose_interview(shown, at("2021-05-11T10:00"), zibo, persons=[], record_id="i-1")
    assert isinstance(proposal, InterviewProposal) and proposal.state is InterviewState.PROPOSED
    esc = zibo.manifest.deadlines.escalation
    assert (proposal.proposed_by, proposal.authority, proposal.clause) == ("市联席会议办公室", "市政府", "附件2 第十一条")
    assert esc is not None and esc.interview is not None and proposal.action == esc.interview.action
    assert "约谈" in zibo.citation(proposal.clause).text and proposal.adverse_effect == shown.adverse_effect
    held = hold_interview(proposal, at("2021-05-20T10:00"), "已约谈出具单位负责人")
    assert held.state is InterviewState.HELD and held.outcome == "已约谈出具单位负责人"
    with pytest.raises(TransitionError):
        hold_interview(held, at("2021-05-21T10:00"), "again")
    # a stored request that claims an adverse effect without an escalation is refused
    data = accepted.model_dump()
    data["adverse_effect"] = "x"
    with pytest.raises(RecordProblem, match="escalated request"):
        VerificationRequest.model_validate(data)
    # escalate may carry it at once
    at_once = escalate(overdue, at("2021-05-10T09:00"), adverse_effect="延误开业")
    assert at_once.adverse_effect == "延误开业" and at_once.adverse_effect_at == at("2021-05-10T09:00")


def test_overdue_from_requested(opened: VerificationRequest, zibo: Ruleset) -> None:
    assert mark_overdue(opened, at("2021-05-10T09:00"), zibo).state is VerificationState.OVERDUE


def test_escalate_needs_overdue(accepted: VerificationRequest) -> None:
    with pytest.raises(TransitionError, match="escalate"):
        escalate(accepted, at("2021-05-10T09:00"))


def test_overdue_twice_is_refused(accepted: VerificationRequest, zibo: Ruleset) -> None:
    overdue = mark_overdue(accepted, at("2021-05-10T09:00"), zibo)
    with pytest.raises(TransitionError):
        mark_overdue(overdue, at("2021-05-11T09:00"), zibo)


def test_overdue_with_a_rows_statutory_limit(zibo_engine: Engine, zibo: Ruleset) -> None:
    # 律师执业许可 / 无犯罪记录证明: electronic records, but a 3-working-day statutory limit (三(三)3)
    # in force from 2021-12-31 (《公安机关办理犯罪记录查询工作规定》, issued December 2021)
    decision = decide(zibo_engine, "370300-XK-0005", "ZM-GA-0001", sharing_online=False,
                      requested_at="2022-01-04T10:00")
    assert decision.method is Method.VERIFICATION and decision.deadline is not None
    assert decision.deadline.clause == "三(三)3"
    record = open_verification(decision, requesting_unit=UNIT)
    with pytest.raises(RecordProblem, match="not overdue"):
        mark_overdue(record, at("2022-01-05T09:00"), zibo)  # the 30-minute plan limit would be past
    assert mark_overdue(record, decision.deadline.due_at.replace(minute=1), zibo).state is VerificationState.OVERDUE


def test_overdue_refuses_a_due_time_the_calendar_does_not_give(accepted: VerificationRequest, zibo: Ruleset) -> None:
    data = accepted.model_dump()
    data["due_at"] = at("2021-05-07T17:00")
    tampered = VerificationRequest.model_validate(data)
    with pytest.raises(RecordProblem, match="differs from the decision"):
        mark_overdue(tampered, at("2021-05-12T09:00"), zibo)


# ---------------------------------------------------------------- mismatch: supplement + ledger (第八条)


def test_supplement_after_mismatch_with_ledger(accepted: VerificationRequest) -> None:
    mismatched = answer(accepted, at("2021-05-06T11:00"), matches=False, note="面积不符")
    supplement, ledger = request_supplement(
        mismatched,
        at("2021-05-06T11:30"),
        materials=["房屋租赁合同", " 不动产权证书复印件 "],
        purpose="核实住所面积",
        record_id="s-1",
        ledger_id="l-1",
    )
    assert isinstance(supplement, SupplementaryRequest) and isinstance(ledger, LedgerEntry)
    assert supplement.materials == ("房屋租赁合同", "不动产权证书复印件")
    assert supplement.verification_id == accepted.id and supplement.clause == "附件2 第八条"
    assert ledger.supplementary_request_id == "s-1" and ledger.unit == UNIT
    assert ledger.materials == supplement.materials and ledger.purpose == "核实住所面积"


def test_a_ledger_entry_without_a_ruleset_carries_no_note(zibo_engine: Engine) -> None:
    """The ledger note's words are the ruleset's (``wording.records.ledger_note``; that they are
    read from it: tests/test_trace_wording.py): a request opened without one gives none."""
    bare = accept(open_verification(decide(zibo_engine), requesting_unit=UNIT, record_id="v-2"),
                  at("2021-05-06T10:05"))
    bare = answer(bare, at("2021-05-06T11:00"), matches=False, note="面积不符")
    _, ledger = request_supplement(bare, at("2021-05-06T11:30"), materials=["合同"], purpose="核实")
    assert ledger.note is None and ledger.clause is None


@pytest.mark.parametrize(
    ("materials", "purpose", "problem"),
    [
        ([], "核实住所", "materials"),
        (["  "], "核实住所", "blank"),
        (["租赁合同", "租赁合同"], "核实住所", "twice"),
        (["租赁合同"], "   ", "purpose"),
    ],
)
def test_supplement_must_be_limited_and_stated(
    accepted: VerificationRequest, materials: list[str], purpose: str, problem: str
) -> None:
    mismatched = answer(accepted, at("2021-05-06T11:00"), matches=False)
    with pytest.raises(RecordProblem, match=problem):
        request_supplement(mismatched, at("2021-05-06T11:30"), materials=materials, purpose=purpose)


def test_supplement_needs_a_mismatch(accepted: VerificationRequest) -> None:
    matched = answer(accepted, at("2021-05-06T11:00"), matches=True)
    with pytest.raises(TransitionError, match="request_supplement"):
        request_supplement(matched, at("2021-05-06T11:30"), materials=["租赁合同"], purpose="核实住所")


# ---------------------------------------------------------------- purpose binding (第十二条)


def test_verified_facts_only_for_their_service_item(accepted: VerificationRequest) -> None:
    matched = answer(accepted, at("2021-05-06T11:00"), matches=True)
    check_use(matched, ITEM)
    check_use(matched, ITEM, request_id="case-1")
    with pytest.raises(PurposeError, match="附件2 第十二条") as info:
        check_use(matched, "370300-XK-0001")
    assert isinstance(info.value, RecordError)
    with pytest.raises(PurposeError, match="case-2"):
        check_use(matched, ITEM, request_id="case-2")


def test_no_use_before_an_answer(accepted: VerificationRequest) -> None:
    with pytest.raises(PurposeError, match="no verified facts"):
        check_use(accepted, ITEM)


# ---------------------------------------------------------------- stored records


def test_round_trip_and_frozen(accepted: VerificationRequest) -> None:
    again = VerificationRequest.model_validate_json(accepted.model_dump_json())
    assert again == accepted
    with pytest.raises(ValueError):
        accepted.state = VerificationState.MATCHED  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"state": "returned"}, "reason"),
        ({"state": "matched"}, "answered_at"),
        ({"state": "escalated"}, "escalation"),
        ({"state": "refused"}, "state"),
        ({"colour": "red"}, "unknown field"),
    ],
)
def test_stored_record_edited_into_nonsense_is_refused(
    accepted: VerificationRequest, changes: dict[str, Any], problem: str
) -> None:
    data = accepted.model_dump(mode="json")
    data.update(changes)
    with pytest.raises(RecordProblem, match=problem) as info:
        VerificationRequest.model_validate(data)
    assert "v-1" in str(info.value)  # names the record


def test_no_id_number_in_records(accepted: VerificationRequest) -> None:
    mismatched = answer(accepted, at("2021-05-06T11:00"), matches=False)
    supplement, ledger = request_supplement(mismatched, at("2021-05-06T11:30"), materials=["合同"], purpose="核实")
    for record in (accepted, mismatched, supplement, ledger):
        assert PERSON_ID not in record.model_dump_json()


def test_no_overdue_after_an_answer(accepted: VerificationRequest, zibo: Ruleset) -> None:
    matched = answer(accepted, at("2021-05-06T11:00"), matches=True)
    with pytest.raises(TransitionError, match="mark_overdue"):
        mark_overdue(matched, at("2021-05-12T09:00"), zibo)
