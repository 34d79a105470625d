"""即办件 (issue 13, finding 7): rows mark on-the-spot items, decisions on them carry the approval
clock's rule, and verification records feed the pause into the clock (附件2 第七条, last sentence).

Hand-worked examples use Zibo's office hours (09:00-12:00, 13:00-17:00) and its 60-minute
sample limit (manifest ``on_the_spot.working_minutes``, clause 即办件 时限).
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from conftest import PERSON_ID, ZIBO

from nocert_rules import Engine, Method, Ruleset, load_ruleset
from nocert_rules.errors import RulesetError
from nocert_rules.models import SHANGHAI, Decision
from nocert_rules.records import RecordProblem
from nocert_rules.records.on_the_spot import on_the_spot_clock, verification_pauses
from nocert_rules.records.verification import (
    VerificationRequest,
    accept,
    answer,
    open_verification,
    return_not_our_duty,
)
from nocert_rules.worktime.deadlines import approval_due

ITEM, CERT = "370300-QR-0003", "ZM-GJ-0001"  # 不动产抵押权注销登记 / 住房公积金贷款结清证明: 即办件
UNIT = "淄博市不动产登记中心"


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def decide(engine: Engine, at: str, *, item: str = ITEM, cert: str = CERT, online: bool = False) -> Decision:
    return engine.decide({
        "service_item": item, "certificate": cert, "requested_at": at, "sharing_online": online,
        "applicant": {"kind": "person", "id_number": PERSON_ID}, "request_id": "CASE-1",
    })


def sent(engine: Engine, zibo: Ruleset, at: str, rid: str) -> VerificationRequest:
    decision = decide(engine, at)
    assert decision.method is Method.VERIFICATION
    return open_verification(decision, requesting_unit=UNIT, record_id=rid, ruleset=zibo)


def replied(request: VerificationRequest, at: str) -> VerificationRequest:
    return answer(accept(request, at), at, matches=True)


# ---------------------------------------------------------------- the row and the decision


def test_a_row_marks_its_service_item_on_the_spot(zibo: Ruleset) -> None:
    row = zibo.find_row(ITEM, CERT)
    assert row is not None and row.on_the_spot is True
    assert zibo.manifest.on_the_spot is not None
    assert zibo.manifest.on_the_spot.clause == "附件2 第七条"
    other = zibo.find_row("370300-QR-0002", "ZM-ZJ-0003")
    assert other is not None and other.on_the_spot is False


def test_a_verification_decision_on_an_on_the_spot_row_carries_the_clock_rule(zibo_engine: Engine) -> None:
    d = decide(zibo_engine, "2021-05-06T10:00")
    assert d.method is Method.VERIFICATION
    clock = d.approval_clock
    assert clock is not None
    policy = zibo_engine.ruleset.manifest.on_the_spot
    assert policy is not None
    assert clock.clause == policy.clause and clock.rule == policy.rule
    assert "协查时间不列入对审批部门单位即办件的考核时间" in clock.citation.text
    assert clock.working_minutes == 60 and clock.limit_clause == "即办件 时限"
    assert Decision.model_validate_json(d.model_dump_json()) == d


def test_no_clock_rule_without_verification_or_off_the_spot(zibo_engine: Engine) -> None:
    shared = decide(zibo_engine, "2021-05-06T10:00", online=True)
    assert shared.method is Method.DATA_SHARING and shared.approval_clock is None
    plain = decide(zibo_engine, "2021-05-06T10:00", item="370300-QR-0002", cert="ZM-ZJ-0003")
    assert plain.method is Method.VERIFICATION and plain.approval_clock is None


def test_a_row_marked_on_the_spot_needs_the_manifest_rule(tmp_path: Path) -> None:
    folder = tmp_path / "rs"
    shutil.copytree(ZIBO, folder)
    manifest = folder / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8")
    start = text.index("on_the_spot:\n")
    end = text.index("\n\n", start)
    manifest.write_text(text[:start] + text[end + 2:], encoding="utf-8")
    with pytest.raises(RulesetError) as err:
        load_ruleset(folder)
    found = [p for p in err.value.problems if "on_the_spot" in str(p)]
    assert found and "certificates.yaml" in str(found[0])


# ---------------------------------------------------------------- the due time, hand-worked


def test_approval_due_adds_the_paused_office_time(zibo: Ruleset) -> None:
    # 09:00 accepted; requests 09:10-09:40 and 09:30-11:50 overlap: one pause 09:10-11:50.
    # 10 minutes run before it, 50 after: 11:50-12:00 (10), lunch, 13:00-13:40 (40).
    due = approval_due(
        sh(2021, 5, 6, 9, 0), 60,
        [(sh(2021, 5, 6, 9, 10), sh(2021, 5, 6, 9, 40)), (sh(2021, 5, 6, 9, 30), sh(2021, 5, 6, 11, 50))],
        zibo.calendar, rule="r", clause="c", policy=zibo.deadline_policy,
    )
    assert due.due_at == sh(2021, 5, 6, 13, 40)
    assert "160" in due.rule and due.clause == "c"


def test_a_pause_over_national_day_resumes_on_the_tiaoxiu_saturday(zibo: Ruleset) -> None:
    # Thu 2021-09-30 16:30 accepted, request 16:40, reply Fri 10-08 16:50 (10-01..07 holidays).
    # 10 minutes before the pause; 10 more on 10-08 (16:50-17:00); Sat 10-09 is a 调休 working
    # day: the last 40 run 09:00-09:40 there (Mon-Fri counting would give Mon 10-11).
    due = approval_due(
        sh(2021, 9, 30, 16, 30), 60, [(sh(2021, 9, 30, 16, 40), sh(2021, 10, 8, 16, 50))],
        zibo.calendar, rule="r", policy=zibo.deadline_policy,
    )
    assert due.due_at == sh(2021, 10, 9, 9, 40)
    assert "430" in due.rule  # paused office time: 20 on 09-30, 410 on 10-08


def test_a_pause_before_the_start_is_not_counted(zibo: Ruleset) -> None:
    due = approval_due(
        sh(2021, 5, 6, 10, 0), 60, [(sh(2021, 5, 6, 9, 0), sh(2021, 5, 6, 9, 50))], zibo.calendar, rule="r",
        policy=zibo.deadline_policy,
    )
    assert due.due_at == sh(2021, 5, 6, 11, 0)


# ---------------------------------------------------------------- records feed the clock


def test_verification_records_feed_the_clock(zibo_engine: Engine, zibo: Ruleset) -> None:
    # Accepted 10:00; the request goes out 10:05 and is answered 10:35 (30 office minutes paused).
    request = replied(sent(zibo_engine, zibo, "2021-05-06T10:05", "V1"), "2021-05-06T10:35")
    clock = on_the_spot_clock("2021-05-06T10:00", [request], zibo, now="2021-05-06T11:00")
    assert [(p.verification_id, p.sent_at, p.replied_at) for p in clock.pauses] == [
        ("V1", sh(2021, 5, 6, 10, 5), sh(2021, 5, 6, 10, 35))
    ]
    assert clock.paused_now is False
    assert clock.due is not None and clock.due.due_at == sh(2021, 5, 6, 11, 30)
    assert clock.due.clause == "附件2 第七条"
    assert clock.clock is not None
    assert (clock.clock.gross_minutes, clock.clock.paused_minutes, clock.clock.elapsed_minutes) == (60, 30, 30)


def test_the_clock_across_the_may_day_tiaoxiu_saturday(zibo_engine: Engine, zibo: Ruleset) -> None:
    # Fri 2021-05-07 16:00 accepted; request 16:10, reply Mon 05-10 10:00. Sat 05-08 is a 调休
    # working day: its 420 office minutes are paused too (50 + 420 + 60 = 530).
    request = replied(sent(zibo_engine, zibo, "2021-05-07T16:10", "V2"), "2021-05-10T10:00")
    clock = on_the_spot_clock("2021-05-07T16:00", [request], zibo, now="2021-05-10T10:30")
    assert clock.due is not None and clock.due.due_at == sh(2021, 5, 10, 10, 50)
    assert "530" in clock.due.rule
    assert clock.clock is not None and clock.clock.paused_minutes == 530
    assert clock.clock.elapsed_minutes == 10 + 30


def test_a_returned_request_ends_its_pause_too(zibo_engine: Engine, zibo: Ruleset) -> None:
    request = sent(zibo_engine, zibo, "2021-05-06T09:00", "V3")
    back = return_not_our_duty(request, datetime(2021, 5, 6, 9, 20), "不属于本单位职责")
    clock = on_the_spot_clock("2021-05-06T09:00", [back], zibo)
    assert clock.pauses[0].replied_at == sh(2021, 5, 6, 9, 20)
    assert clock.due is not None and clock.due.due_at == sh(2021, 5, 6, 10, 20)


def test_an_unanswered_request_stops_the_clock(zibo_engine: Engine, zibo: Ruleset) -> None:
    request = sent(zibo_engine, zibo, "2021-05-06T10:10", "V4")
    clock = on_the_spot_clock("2021-05-06T10:00", [request], zibo, now="2021-05-06T14:00")
    assert clock.paused_now is True and clock.due is None
    assert clock.clock is not None
    assert clock.clock.elapsed_minutes == 10  # 10:00-10:10; paused since


def test_requests_must_be_of_one_on_the_spot_item(zibo_engine: Engine, zibo: Ruleset) -> None:
    plain = decide(zibo_engine, "2021-05-06T10:00", item="370300-QR-0002", cert="ZM-ZJ-0003")
    request = open_verification(plain, requesting_unit=UNIT, record_id="V5", ruleset=zibo)
    with pytest.raises(RecordProblem, match="即办件"):
        on_the_spot_clock("2021-05-06T10:00", [request], zibo)
    mine = sent(zibo_engine, zibo, "2021-05-06T10:00", "V6")
    with pytest.raises(RecordProblem, match="one service item"):
        on_the_spot_clock("2021-05-06T10:00", [mine, request], zibo)
    assert verification_pauses([]) == []


# ---------------------------------------------------------------- the command line


def test_decide_prints_the_clock_rule_and_lint_checks_the_item_agrees(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from nocert_rules.cli.main import main

    request = tmp_path / "req.json"
    request.write_text(json.dumps({"service_item": ITEM, "certificate": CERT, "requested_at": "2021-05-06T10:00",
                                   "sharing_online": False, "applicant": {"kind": "person", "id_number": PERSON_ID}}),
                       encoding="utf-8")
    result = CliRunner().invoke(main, ["decide", str(ZIBO), "--request", str(request)])
    assert result.exit_code == 0, result.output
    assert "即办件 / On-the-spot item" in result.stdout and "附件2 第七条" in result.stdout
    folder = tmp_path / "rs"
    shutil.copytree(ZIBO, folder)
    certs = folder / "certificates.yaml"
    text = certs.read_text(encoding="utf-8")
    marker = "    note: 公有住房出售（房改房）等历史遗留项目，统一登记前的原房产档案不全\n"  # one row of 370300-QR-0002
    assert text.count(marker) == 1
    certs.write_text(text.replace(marker, marker + "    on_the_spot: true\n"), encoding="utf-8")
    lint = CliRunner().invoke(main, ["lint", str(folder), "--json"])
    data = json.loads(lint.stdout)
    differs = [w for w in data["warnings"] if w["code"] == "on-the-spot-differs"]
    assert len(differs) == 1 and "370300-QR-0002" in differs[0]["message"]
    clean = json.loads(CliRunner().invoke(main, ["lint", str(ZIBO), "--json"]).stdout)
    assert not [w for w in clean["warnings"] if w["code"] == "on-the-spot-differs"]


def test_without_requests_the_limit_runs_from_the_start(zibo: Ruleset) -> None:
    clock = on_the_spot_clock("2021-05-06T11:30", [], zibo, service_item=ITEM, now="2021-05-06T13:10")
    assert clock.pauses == [] and clock.paused_now is False
    assert clock.due is not None and clock.due.due_at == sh(2021, 5, 6, 13, 30)  # 30 before lunch, 30 after
    assert clock.clock is not None and clock.clock.elapsed_minutes == 40
    with pytest.raises(RecordProblem, match="即办件"):
        on_the_spot_clock("2021-05-06T11:30", [], zibo, service_item="370300-QR-0002")
    with pytest.raises(RecordProblem, match="one service item"):
        on_the_spot_clock("2021-05-06T11:30", [], zibo)


def test_the_declined_pledge_alternative_carries_the_clock_rule(tmp_path: Path) -> None:
    folder = tmp_path / "rs"
    shutil.copytree(ZIBO, folder)
    certs = folder / "certificates.yaml"
    text = certs.read_text(encoding="utf-8")
    marker = "    note: 早年初中学籍档案多为纸质且不全；学历不实可事后撤销，风险可控\n"  # 370300-XK-0012: pledge, verification
    assert text.count(marker) == 1
    certs.write_text(text.replace(marker, marker + "    on_the_spot: true\n"), encoding="utf-8")
    engine = Engine(load_ruleset(folder))
    d = engine.decide({"service_item": "370300-XK-0012", "certificate": "ZM-JY-0004", "requested_at": "2021-05-06T10:00",
                       "applicant": {"kind": "person", "id_number": PERSON_ID}})
    assert d.method is Method.PLEDGE and d.awaiting_choice and d.approval_clock is None
    assert d.if_declined is not None and d.if_declined.method is Method.VERIFICATION
    assert d.if_declined.approval_clock is not None and d.if_declined.approval_clock.clause == "附件2 第七条"
