"""投诉举报 (附件4): acceptance and termination as ruleset rules, and the complaint record."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import PERSON_ID, ZIBO

from nocert_rules import Ruleset, RulesetError, load_ruleset
from nocert_rules.models import SHANGHAI
from nocert_rules.privacy import keyed_hash
from nocert_rules.records import RecordProblem, TransitionError
from nocert_rules.records.complaints import (
    Complaint,
    ComplaintEngine,
    ComplaintFacts,
    ComplaintState,
    conclude,
    decide_intake,
    extend,
    inform,
    register_complaint,
    terminate,
)
from nocert_rules.worktime.deadlines import complaint_due

KEY = b"complaint-test-key-0123456789ab"
RECEIVED = datetime(2021, 5, 6, 9, 0, tzinfo=SHANGHAI)  # Thursday
ACCEPTED = datetime(2021, 5, 6, 10, 0, tzinfo=SHANGHAI)
PLAIN = {"specific": True, "verifiable": True}


@pytest.fixture(scope="module")
def engine(zibo: Ruleset) -> Iterator[ComplaintEngine]:
    eng = ComplaintEngine(zibo)
    yield eng
    eng.close()


def facts(**kw: Any) -> ComplaintFacts:
    data: dict[str, Any] = dict(PLAIN)
    data.update(kw)
    return ComplaintFacts(**data)


def received() -> Complaint:
    return register_complaint(
        received_at=RECEIVED,
        channel="hotline_12345",
        summary="窗口仍要求提供村委会出具的居住证明",
        units=["某区民政局"],
        complainant_ref=keyed_hash(PERSON_ID, KEY),
        record_id="c-1",
        ground="still-requires-certificate",  # 附件4 第四条（一）: Zibo's intake needs the ground
    )


# ---------------------------------------------------------------- acceptance (第八条)


def test_accept_by_default_cites_clause(engine: ComplaintEngine) -> None:
    decision = engine.decide_acceptance(facts())
    assert decision.outcome == "accept" and decision.stage == "acceptance"
    assert [s.rule_id for s in decision.trace] == ["complaints.acceptance-default"]
    citation = decision.trace[0].citation
    assert citation is not None and citation.clause_id == "附件4 第四条" and citation.text
    assert decision.rules_sha256 and decision.ruleset.name == "zibo"


def test_first_decision_of_a_fresh_engine_may_fire_no_rule(zibo: Ruleset) -> None:
    # durable_rules aborts the process when a session nothing handled is deleted first thing;
    # the engine's catch-all rule prevents it (this test would crash the run otherwise).
    fresh = ComplaintEngine(zibo)
    try:
        assert fresh.fire(facts()) == []
        assert fresh.decide_termination(facts()).outcome == "continue"
    finally:
        fresh.close()


@pytest.mark.parametrize(
    ("kw", "rule_id", "item"),
    [
        ({"specific": False, "verifiable": False}, "reject.not-specific-unverifiable", "（一）"),
        ({"duplicate": True, "malicious": True}, "reject.duplicate-malicious", "（二）"),
        ({"belongs_to_litigation": True}, "reject.litigation-arbitration-review", "（三）"),
        ({"other_reject_ground": "同一事项已由司法部平台转办"}, "reject.other", "（四）"),
    ],
)
def test_reject_per_article_8(engine: ComplaintEngine, kw: dict[str, Any], rule_id: str, item: str) -> None:
    decision = engine.decide_acceptance(facts(**kw))
    assert decision.outcome == "reject"
    assert [s.rule_id for s in decision.trace] == [rule_id]
    step = decision.trace[0]
    assert step.effect == "reject" and step.item == item
    assert step.citation is not None and step.citation.clause_id == "附件4 第八条"
    assert f"附件4 第八条{item}" in step.conclusion


@pytest.mark.parametrize(
    "kw",
    [
        {"specific": False, "verifiable": True},  # 第八条（一） needs both: not specific AND unverifiable
        {"specific": True, "verifiable": False},
        {"duplicate": True},  # 第八条（二） needs malice verified too
        {"malicious": True},
        {"withdrawn": True},  # a termination fact does not decide acceptance
    ],
)
def test_not_a_ground_to_reject(engine: ComplaintEngine, kw: dict[str, Any]) -> None:
    assert engine.decide_acceptance(facts(**kw)).outcome == "accept"


# ---------------------------------------------------------------- termination (第十一条)


@pytest.mark.parametrize(
    ("kw", "rule_id", "item"),
    [
        ({"withdrawn": True}, "terminate.withdrawn", "（一）"),
        ({"filed_arbitration_or_litigation_meanwhile": True}, "terminate.arbitration-review-litigation-meanwhile", "（二）"),
        ({"other_terminate_ground": "被投诉单位已撤销"}, "terminate.other", "（三）"),
    ],
)
def test_terminate_per_article_11(engine: ComplaintEngine, kw: dict[str, Any], rule_id: str, item: str) -> None:
    decision = engine.decide_termination(facts(**kw))
    assert decision.outcome == "terminate"
    assert [s.rule_id for s in decision.trace] == [rule_id]
    citation = decision.trace[0].citation
    assert citation is not None and citation.clause_id == "附件4 第十一条"
    assert decision.trace[0].item == item


def test_no_ground_to_terminate_continues(engine: ComplaintEngine) -> None:
    decision = engine.decide_termination(facts(belongs_to_litigation=True))
    assert decision.outcome == "continue"
    citation = decision.trace[0].citation
    assert citation is not None and citation.clause_id == "附件4 第十条"


# ---------------------------------------------------------------- the record


def test_accept_sets_five_working_day_deadline(engine: ComplaintEngine, zibo: Ruleset) -> None:
    complaint = decide_intake(received(), engine, facts(), ACCEPTED)
    assert complaint.state is ComplaintState.ACCEPTED
    assert complaint.due_at == complaint_due(ACCEPTED, zibo.calendar, policy=zibo.deadline_policy).due_at
    assert complaint.acceptance is not None and complaint.acceptance.outcome == "accept"
    assert PERSON_ID not in complaint.model_dump_json()


def test_reject_at_intake(engine: ComplaintEngine) -> None:
    complaint = decide_intake(received(), engine, facts(belongs_to_litigation=True), ACCEPTED)
    assert complaint.state is ComplaintState.REJECTED and complaint.due_at is None
    for action in (
        lambda c: conclude(c, ACCEPTED, "已办结"),
        lambda c: terminate(c, engine, facts(withdrawn=True), ACCEPTED),
        lambda c: decide_intake(c, engine, facts(), ACCEPTED),
    ):
        with pytest.raises(TransitionError):
            action(complaint)


def test_one_extension_of_at_most_five_days(engine: ComplaintEngine, zibo: Ruleset) -> None:
    accepted = decide_intake(received(), engine, facts(), ACCEPTED)
    with pytest.raises(RecordProblem, match="reason"):
        extend(accepted, ACCEPTED, 3, " ", zibo)
    with pytest.raises(RecordProblem, match="beyond the limit"):
        extend(accepted, ACCEPTED, 6, "问题复杂", zibo)
    with pytest.raises(RecordProblem, match="at least 1"):
        extend(accepted, ACCEPTED, 0, "问题复杂", zibo)
    extended = extend(accepted, datetime(2021, 5, 10, 9, 0, tzinfo=SHANGHAI), 3, "涉及多个部门", zibo)
    assert extended.extension_days == 3
    assert extended.due_at == complaint_due(ACCEPTED, zibo.calendar, 3, policy=zibo.deadline_policy).due_at
    assert extended.due_at is not None and accepted.due_at is not None and extended.due_at > accepted.due_at
    with pytest.raises(RecordProblem, match="only once"):
        extend(extended, datetime(2021, 5, 11, 9, 0, tzinfo=SHANGHAI), 1, "还需时间", zibo)


def test_extend_only_while_accepted(engine: ComplaintEngine, zibo: Ruleset) -> None:
    with pytest.raises(TransitionError, match="extend"):
        extend(received(), ACCEPTED, 2, "问题复杂", zibo)
    done = conclude(decide_intake(received(), engine, facts(), ACCEPTED), ACCEPTED, "已办结")
    with pytest.raises(TransitionError, match="extend"):
        extend(done, ACCEPTED, 2, "问题复杂", zibo)


def test_no_extension_after_the_period(engine: ComplaintEngine, zibo: Ruleset) -> None:
    accepted = decide_intake(received(), engine, facts(), ACCEPTED)
    assert accepted.due_at is not None
    with pytest.raises(RecordProblem, match="no longer be extended"):
        extend(accepted, accepted.due_at.replace(hour=17, minute=30), 2, "问题复杂", zibo)


def test_conclude_and_inform(engine: ComplaintEngine) -> None:
    accepted = decide_intake(received(), engine, facts(), ACCEPTED)
    done = conclude(accepted, datetime(2021, 5, 10, 16, 0, tzinfo=SHANGHAI), "已责令整改，不再索要证明")
    assert done.state is ComplaintState.CONCLUDED and done.concluded_late is False and done.informed_at is None
    informed = inform(done, datetime(2021, 5, 10, 16, 30, tzinfo=SHANGHAI))
    assert informed.informed_at is not None
    with pytest.raises(RecordProblem, match="already informed"):
        inform(informed, datetime(2021, 5, 11, 9, 0, tzinfo=SHANGHAI))
    with pytest.raises(RecordProblem, match="result"):
        conclude(accepted, datetime(2021, 5, 10, 16, 0, tzinfo=SHANGHAI), "  ")
    with pytest.raises(TransitionError):
        inform(accepted, datetime(2021, 5, 10, 16, 0, tzinfo=SHANGHAI))


def test_conclude_late_is_flagged(engine: ComplaintEngine) -> None:
    accepted = decide_intake(received(), engine, facts(), ACCEPTED)
    late = conclude(accepted, datetime(2021, 5, 20, 9, 0, tzinfo=SHANGHAI), "已办结", informed_at=datetime(2021, 5, 20, 9, 5, tzinfo=SHANGHAI))
    assert late.concluded_late is True and late.informed_at is not None


def test_terminate_needs_a_ground(engine: ComplaintEngine) -> None:
    accepted = decide_intake(received(), engine, facts(), ACCEPTED)
    with pytest.raises(RecordProblem, match="no ground to terminate"):
        terminate(accepted, engine, facts(), datetime(2021, 5, 7, 9, 0, tzinfo=SHANGHAI))
    ended = terminate(accepted, engine, facts(withdrawn=True), datetime(2021, 5, 7, 9, 0, tzinfo=SHANGHAI))
    assert ended.state is ComplaintState.TERMINATED
    assert ended.termination is not None and ended.termination.trace[0].rule_id == "terminate.withdrawn"
    with pytest.raises(TransitionError):
        conclude(ended, datetime(2021, 5, 7, 10, 0, tzinfo=SHANGHAI), "已办结")


def test_terminate_before_acceptance_is_refused(engine: ComplaintEngine) -> None:
    with pytest.raises(TransitionError):
        terminate(received(), engine, facts(withdrawn=True), ACCEPTED)


def test_complainant_only_as_keyed_hash() -> None:
    with pytest.raises(RecordProblem, match="keyed hash") as info:
        register_complaint(received_at=RECEIVED, channel="service_window", summary="x", units=["某局"], complainant_ref=PERSON_ID)
    assert PERSON_ID not in str(info.value)


@pytest.mark.parametrize(
    ("kw", "problem"),
    [({"units": []}, "units"), ({"units": [" "]}, "blank"), ({"summary": ""}, "summary"), ({"channel": "pigeon"}, "channel")],
)
def test_invalid_registration_is_refused(kw: dict[str, Any], problem: str) -> None:
    args: dict[str, Any] = {"received_at": RECEIVED, "channel": "written", "summary": "x", "units": ["某局"]}
    args.update(kw)
    with pytest.raises(RecordProblem, match=problem):
        register_complaint(**args)


def test_stored_complaint_round_trips(engine: ComplaintEngine) -> None:
    accepted = decide_intake(received(), engine, facts(), ACCEPTED)
    assert Complaint.model_validate_json(accepted.model_dump_json()) == accepted
    data = accepted.model_dump(mode="json")
    data["state"] = "terminated"
    with pytest.raises(RecordProblem, match="terminate decision"):
        Complaint.model_validate(data)


# ---------------------------------------------------------------- malformed complaint_rules.yaml


def _with_rules(tmp_path: Path, text: str) -> Path:
    """A copy of the Zibo ruleset with ``text`` as its complaint rules (checked by load_ruleset)."""
    target = tmp_path / "zibo"
    shutil.copytree(ZIBO, target)
    (target / "complaint_rules.yaml").write_text(text, encoding="utf-8")
    return target


HEAD = """acceptance_default:
  clause: 附件4 第四条
  reason: 受理
handling_default:
  clause: 附件4 第十条
  reason: 继续办理
rules:
"""


@pytest.mark.parametrize(
    ("rules", "line", "problem"),
    [
        ("  - id: r1\n    effect: reject\n    when: {complaint.colour: red}\n    clause: 附件4 第八条\n    reason: x\n",
         10, "unknown fact 'complaint.colour'"),
        ("  - id: r1\n    effect: reject\n    when: {complaint.specific: maybe}\n    clause: 附件4 第八条\n    reason: x\n",
         10, "expects true/false"),
        ("  - id: r1\n    effect: dismiss\n    when: {complaint.specific: false}\n    clause: 附件4 第八条\n    reason: x\n",
         9, "effect"),
        ("  - id: r1\n    effect: reject\n    when: {complaint.specific: false}\n    clause: 附件4 第九十九条\n    reason: x\n",
         11, "unknown clause"),
        ("  - id: r1\n    effect: reject\n    when: {complaint.specific: false}\n    clause: 附件4 第八条\n    reason: x\n    colour: red\n",
         13, "unknown key"),
        ("  - id: r1\n    effect: reject\n    when: {request.listed: false}\n    clause: 附件4 第八条\n    reason: x\n",
         10, "unknown fact 'request.listed'"),
    ],
)
def test_malformed_rules_name_file_and_line(tmp_path: Path, rules: str, line: int, problem: str) -> None:
    folder = _with_rules(tmp_path, HEAD + rules)
    with pytest.raises(RulesetError) as info:
        load_ruleset(folder)
    assert info.value.file == "complaint_rules.yaml"
    assert info.value.line == line
    assert problem in str(info.value)


def test_duplicate_rule_id_and_bad_yaml(tmp_path: Path) -> None:
    rule = "  - id: r1\n    effect: reject\n    when: {complaint.specific: false}\n    clause: 附件4 第八条\n    reason: x\n"
    folder = _with_rules(tmp_path, HEAD + rule + rule)
    with pytest.raises(RulesetError, match="duplicate rule id") as info:
        load_ruleset(folder)
    assert info.value.line == 13
    shutil.rmtree(tmp_path / "zibo")
    folder = _with_rules(tmp_path, HEAD + "  - id: [unclosed\n")
    with pytest.raises(RulesetError) as info:
        load_ruleset(folder)
    assert info.value.file == "complaint_rules.yaml" and info.value.line is not None


def test_accept_rules_are_traced_and_rejects_still_win(tmp_path: Path) -> None:
    rules = (
        "  - id: accept.specific\n    effect: accept\n    when: {complaint.specific: true}\n"
        "    clause: 附件4 第四条\n    reason: 内容具体 / specific\n"
        "  - id: reject.litigation\n    effect: reject\n    when: {complaint.belongs_to_litigation: true}\n"
        "    clause: 附件4 第八条\n    item: （三）\n    reason: 诉讼 / litigation\n"
    )
    eng = ComplaintEngine(load_ruleset(_with_rules(tmp_path, HEAD + rules)))
    try:
        accepted = eng.decide_acceptance(facts())
        assert accepted.outcome == "accept" and [s.rule_id for s in accepted.trace] == ["accept.specific"]
        rejected = eng.decide_acceptance(facts(belongs_to_litigation=True))
        assert rejected.outcome == "reject" and [s.rule_id for s in rejected.trace] == ["reject.litigation"]
    finally:
        eng.close()


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"state": "referred"}, "referred needs the first receiver"),
        ({"state": "supplement_requested"}, "supplement_requested needs a supplement decision"),
        ({"form": "oral", "receiver": None}, "an oral complaint names the receiving unit"),
        ({"decided_at": None}, "state accepted needs the acceptance decision"),
        ({"state": "rejected"}, "rejected needs a reject decision"),
        ({"due_at": None}, "state accepted needs acceptance and a due time"),
        ({"state": "terminated"}, "terminated needs a terminate decision"),
        ({"state": "concluded", "result": " "}, "concluded needs the result"),
        ({"extension_days": 2}, "an extension needs its time and reason"),
    ],
)
def test_each_state_check_refuses_a_stored_record_on_its_own(engine: ComplaintEngine, changes: dict[str, Any],
                                                             problem: str) -> None:
    """Complaint._consistent as a table (issue 22/24): every check fires on its own, with its message."""
    accepted = decide_intake(received(), engine, facts(), ACCEPTED)
    Complaint.model_validate(accepted.model_dump())  # the record itself is consistent
    with pytest.raises(RecordProblem, match=problem):
        Complaint.model_validate({**accepted.model_dump(), **changes})
