"""投诉举报 intake (issue 13, finding 10): the ground (附件4 第四条), the channel and its receiver
(第三条, 第五条), the contents of a written complaint (第五条（一）), oral and proxy complaints
(第六条) and the first receiver (第九条), all from the ruleset's complaint_rules.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import PERSON_ID

from nocert_rules import Ruleset
from nocert_rules.models import SHANGHAI
from nocert_rules.records import RecordProblem
from nocert_rules.records.complaints import (
    Complaint,
    ComplaintEngine,
    ComplaintFacts,
    ComplaintState,
    conclude,
    decide_intake,
    intake_rules,
    refer_to_first_receiver,
    register_complaint,
    supplement,
)

KEY = b"intake-test-key-0123456789abcdef"
NAME, PHONE = "张三丰", "13905330001"
T9 = datetime(2021, 5, 6, 9, 0, tzinfo=SHANGHAI)
T10 = datetime(2021, 5, 6, 10, 0, tzinfo=SHANGHAI)
T11 = datetime(2021, 5, 6, 11, 0, tzinfo=SHANGHAI)
PLAIN = ComplaintFacts(specific=True, verifiable=True)
FULL = {"name": NAME, "phone": PHONE, "agency": "某区民政局", "request": "不再索要居住证明",
        "reasons_and_facts": "2021年5月5日窗口要求提供村委会证明"}
OLD_RECORD = Path(__file__).parent / "data" / "complaint_before_intake.json"
"""A complaint written by main before this change (register, accept, extend; channel "written")."""


@pytest.fixture(scope="module")
def engine(zibo: Ruleset) -> Iterator[ComplaintEngine]:
    eng = ComplaintEngine(zibo)
    yield eng
    eng.close()


def letter(zibo: Ruleset, **kw: Any) -> Complaint:
    data: dict[str, Any] = {"received_at": T9, "channel": "letter", "summary": "窗口仍要求提供居住证明",
                            "units": ["某区民政局"], "ruleset": zibo, "key": KEY, "contents": FULL,
                            "ground": "still-requires-certificate"}
    data.update(kw)
    return register_complaint(**data)


# ---------------------------------------------------------------- the ground (第四条)


def test_intake_needs_a_ground_of_article_4_and_the_acceptance_names_it(zibo: Ruleset, engine: ComplaintEngine) -> None:
    no_ground = letter(zibo, ground=None)
    with pytest.raises(RecordProblem) as info:
        decide_intake(no_ground, engine, PLAIN, T10)
    assert "附件4 第四条" in str(info.value) and "仍然直接或变相要求行政相对人提供证明材料" in str(info.value)
    accepted = decide_intake(no_ground, engine, PLAIN, T10, ground="late-check")
    assert accepted.state is ComplaintState.ACCEPTED
    assert (accepted.ground, accepted.ground_clause, accepted.ground_label) == (
        "late-check", "附件4 第四条（三）", "未按照时间要求核查材料")
    step = accepted.acceptance.trace[0]  # type: ignore[union-attr]
    assert step.citation is not None and step.citation.clause_id == "附件4 第四条"
    assert "附件4 第四条（三）“未按照时间要求核查材料”" in step.conclusion


def test_unknown_and_other_grounds(zibo: Ruleset, engine: ComplaintEngine) -> None:
    with pytest.raises(RecordProblem, match="still-requires-certificate") as unknown:
        letter(zibo, ground="rude-staff")
    assert "附件4 第四条：公民、法人和其他组织" in str(unknown.value)
    with pytest.raises(RecordProblem, match="ground_detail"):
        letter(zibo, ground="other")
    other = decide_intake(letter(zibo, ground="other", ground_detail="窗口拒收申请人自愿提供的材料"), engine, PLAIN, T10)
    assert other.ground_clause == "附件4 第四条（五）" and "窗口拒收" in other.acceptance.trace[0].conclusion  # type: ignore[union-attr]


# ---------------------------------------------------------------- channels and receivers (第三条, 第五条)


def test_channels_carry_the_rulesets_label_clause_and_receiver(zibo: Ruleset) -> None:
    hotline = register_complaint(received_at=T9, channel="hotline_12345", summary="仍要求证明", units=["某局"],
                                 ruleset=zibo, receiver="市政府市民投诉中心")
    assert (hotline.channel_label, hotline.channel_clause, hotline.channel_receiver, hotline.form) == (
        "12345政务服务热线", "附件4 第五条（二）", "市政府市民投诉中心", "oral")
    moj = register_complaint(received_at=T9, channel="moj_platform", summary="仍要求证明", units=["某局"], ruleset=zibo)
    assert moj.channel_receiver == "各级司法行政部门" and moj.channel_clause == "附件4 第五条（三）"
    labels = {c.id: c.label for c in intake_rules(zibo).channels.items}  # type: ignore[union-attr]
    assert labels["service_window"] == "“无证明城市”监督服务专窗" and len(labels) >= 8
    with pytest.raises(RecordProblem, match="hotline_12345"):
        register_complaint(received_at=T9, channel="written", summary="x", units=["某局"], ruleset=zibo)


# ---------------------------------------------------------------- contents (第五条（一）)


def test_a_letter_missing_contents_is_asked_to_supplement_citing_article_5(zibo: Ruleset, engine: ComplaintEngine) -> None:
    partial = {k: v for k, v in FULL.items() if k not in ("phone", "reasons_and_facts")}
    c = letter(zibo, contents=partial)
    assert c.contents_missing == ("phone", "reasons_and_facts") and c.contents_clause == "附件4 第五条（一）"
    asked = decide_intake(c, engine, PLAIN, T10)
    assert asked.state is ComplaintState.SUPPLEMENT_REQUESTED and asked.acceptance.outcome == "supplement"  # type: ignore[union-attr]
    step = asked.acceptance.trace[0]  # type: ignore[union-attr]
    assert step.rule_id == "supplement.written-contents" and step.citation is not None
    assert step.citation.clause_id == "附件4 第五条" and "应当载明：投诉举报人姓名、电话号码" in step.citation.text
    assert asked.due_at is None  # not accepted: no handling deadline yet
    done = supplement(asked, zibo, T11, contents={"phone": PHONE, "reasons_and_facts": "窗口要求提供证明"}, key=KEY)
    assert done.state is ComplaintState.RECEIVED and done.contents_missing == ()
    accepted = decide_intake(done, engine, PLAIN, T11)
    assert accepted.state is ComplaintState.ACCEPTED and accepted.due_at is not None


def test_a_supplement_is_asked_once_then_article_8_decides(zibo: Ruleset, engine: ComplaintEngine) -> None:
    asked = decide_intake(letter(zibo, contents={"agency": "某区民政局"}), engine, PLAIN, T10)
    assert asked.state is ComplaintState.SUPPLEMENT_REQUESTED
    # nothing came: decided on what it has
    assert decide_intake(asked, engine, PLAIN, T11).state is ComplaintState.ACCEPTED
    vague = decide_intake(asked, engine, ComplaintFacts(specific=False, verifiable=False), T11)
    assert vague.state is ComplaintState.REJECTED
    assert vague.acceptance.trace[0].citation.clause_id == "附件4 第八条"  # type: ignore[union-attr]


def test_channels_that_need_no_written_contents_are_not_asked(zibo: Ruleset, engine: ComplaintEngine) -> None:
    window = register_complaint(received_at=T9, channel="service_window", form="written", summary="仍要求证明",
                                units=["某局"], ruleset=zibo, ground="not-per-list")
    assert window.contents_missing == ()
    assert decide_intake(window, engine, PLAIN, T10).state is ComplaintState.ACCEPTED


def test_names_and_phone_numbers_are_kept_only_as_keyed_hashes(zibo: Ruleset) -> None:
    c = letter(zibo)
    dumped = c.model_dump_json() + repr(c) + str(c)
    assert NAME not in dumped and PHONE not in dumped
    assert set(c.contents_refs) == {"name", "phone"} and all(v.startswith("hmac-sha256:") for v in c.contents_refs.values())
    assert c.contents["agency"] == "某区民政局" and "name" not in c.contents
    with pytest.raises(RecordProblem, match="key") as info:
        letter(zibo, key=None)
    assert NAME not in str(info.value) and PHONE not in str(info.value)
    with pytest.raises(RecordProblem, match="unknown contents"):
        letter(zibo, contents={**FULL, "id_card": PERSON_ID})


# ---------------------------------------------------------------- oral and proxy (第六条)


def test_an_oral_complaint_is_recorded_by_the_receiving_unit(zibo: Ruleset) -> None:
    with pytest.raises(RecordProblem) as info:
        register_complaint(received_at=T9, channel="service_window", form="oral", summary="口头反映", units=["某局"],
                           ruleset=zibo)
    assert "附件4 第六条" in str(info.value) and "可以口头形式提出" in str(info.value)
    oral = register_complaint(received_at=T9, channel="service_window", form="oral", summary="口头反映仍要求证明",
                              units=["某局"], ruleset=zibo, receiver="张店区行政审批服务局")
    assert oral.form == "oral" and oral.receiver == "张店区行政审批服务局"
    assert "附件4 第六条" in (oral.events[0].note or "") and "附件4 第七条" in (oral.events[0].note or "")
    with pytest.raises(RecordProblem, match="oral"):  # the hotline takes oral complaints only
        register_complaint(received_at=T9, channel="hotline_12345", form="written", summary="x", units=["某局"],
                           ruleset=zibo, receiver="市政府市民投诉中心")


def test_a_proxy_complaint_needs_the_entrustment(zibo: Ruleset, engine: ComplaintEngine) -> None:
    proxy = letter(zibo, by_proxy=True, proxy_id=PERSON_ID)
    assert proxy.proxy_ref is not None and proxy.proxy_ref.startswith("hmac-sha256:")
    assert PERSON_ID not in proxy.model_dump_json()
    asked = decide_intake(proxy, engine, PLAIN, T10)
    assert asked.state is ComplaintState.SUPPLEMENT_REQUESTED
    step = asked.acceptance.trace[0]  # type: ignore[union-attr]
    assert step.rule_id == "supplement.proxy-entrustment" and step.citation.clause_id == "附件4 第六条"  # type: ignore[union-attr]
    assert "委托他人代为提出" in step.citation.text  # type: ignore[union-attr]
    given = supplement(asked, zibo, T11, proxy_authorisation="委托书（2021-05-05 签署）")
    assert decide_intake(given, engine, PLAIN, T11).state is ComplaintState.ACCEPTED
    entrusted = letter(zibo, by_proxy=True, proxy_authorisation="委托书")
    assert decide_intake(entrusted, engine, PLAIN, T10).state is ComplaintState.ACCEPTED
    with pytest.raises(RecordProblem, match="by_proxy"):
        letter(zibo, proxy_authorisation="委托书")


# ---------------------------------------------------------------- the first receiver (第九条)


def test_the_first_receiver_handles_it_and_the_others_are_referred(zibo: Ruleset, engine: ComplaintEngine) -> None:
    hotline = register_complaint(received_at=T9, channel="hotline_12345", summary="仍要求证明", units=["某局"],
                                 ruleset=zibo, receiver="市政府市民投诉中心", record_id="a", ground="not-per-list")
    window = register_complaint(received_at=T10, channel="service_window", form="oral", summary="仍要求证明",
                                units=["某局"], ruleset=zibo, receiver="张店区行政审批服务局", record_id="b",
                                ground="not-per-list")
    window_first, hotline_first = refer_to_first_receiver([window, hotline], zibo, T11)
    assert hotline_first.state is ComplaintState.RECEIVED and hotline_first.co_receivers == ("张店区行政审批服务局",)
    assert hotline_first.events[-1].action == "first_receiver" and "附件4 第九条" in (hotline_first.events[-1].note or "")
    assert window_first.state is ComplaintState.REFERRED
    assert (window_first.first_receiver_id, window_first.first_receiver_unit) == ("a", "市政府市民投诉中心")
    with pytest.raises(RecordProblem) as info:
        decide_intake(window_first, engine, PLAIN, T11)
    assert "市政府市民投诉中心" in str(info.value) and "附件4 第九条" in str(info.value)
    assert "由最先收到投诉举报的单位先行处理" in str(info.value)  # the clause's text, from the ruleset
    assert decide_intake(hotline_first, engine, PLAIN, T11).state is ComplaintState.ACCEPTED
    tie = window.model_copy(update={"received_at": T9})
    with pytest.raises(RecordProblem) as tied:
        refer_to_first_receiver([hotline, tie], zibo, T11)
    assert "最先收到投诉举报的单位先行处理" in str(tied.value)


# ---------------------------------------------------------------- records written before


def test_a_complaint_written_before_intake_still_loads_and_goes_on(zibo: Ruleset) -> None:
    old = Complaint.model_validate_json(OLD_RECORD.read_text(encoding="utf-8"))
    assert old.state is ComplaintState.ACCEPTED and old.channel == "written" and old.ground is None
    assert old.intake_facts is not None and old.intake_facts.contents_missing is False
    done = conclude(old, datetime(2021, 5, 10, 10, 0, tzinfo=SHANGHAI), "已纠正")
    assert done.state is ComplaintState.CONCLUDED and done.concluded_late is False
    assert Complaint.model_validate_json(done.model_dump_json()) == done


def test_a_ruleset_without_intake_keeps_the_enum_channels_and_free_grounds(tiny: Ruleset) -> None:
    # tiny has no complaint_rules.yaml at all: registering still works, as before
    c = register_complaint(received_at=T9, channel="written", summary="仍要求证明", units=["某局"], ruleset=tiny,
                           ground="any words")
    assert c.channel == "written" and c.channel_label is None and c.ground == "any words"
    with pytest.raises(RecordProblem, match="hotline_12345"):
        register_complaint(received_at=T9, channel="letter", summary="x", units=["某局"], ruleset=tiny)
    with pytest.raises(RecordProblem, match="contents"):
        register_complaint(received_at=T9, channel="written", summary="x", units=["某局"], ruleset=tiny,
                           contents={"name": NAME}, key=KEY)


def test_both_backends_decide_the_intake_facts_alike(zibo: Ruleset, engine: ComplaintEngine) -> None:
    import itertools

    with ComplaintEngine(zibo, backend="compiled") as compiled:
        for values in itertools.product([True, False], repeat=6):
            facts = ComplaintFacts(specific=values[0], verifiable=values[1], contents_missing=values[2],
                                   by_proxy=values[3], proxy_authorised=values[4], supplement_requested=values[5])
            assert engine.fire(facts) == compiled.fire(facts), facts
            assert engine.decide_acceptance(facts).outcome == compiled.decide_acceptance(facts).outcome
    asks = ComplaintFacts(specific=True, verifiable=True, contents_missing=True)
    assert engine.decide_acceptance(asks).outcome == "supplement"
    assert engine.decide_acceptance(asks.model_copy(update={"supplement_requested": True})).outcome == "accept"


def test_the_init_skeleton_takes_complaints_with_ground_channel_and_contents(tmp_path: Path) -> None:
    from nocert_rules import load_ruleset
    from nocert_rules.tools.init import init_ruleset

    init_ruleset(tmp_path / "mine")
    rs = load_ruleset(tmp_path / "mine")
    with ComplaintEngine(rs) as eng:
        c = register_complaint(received_at=datetime(2025, 6, 16, 9, tzinfo=SHANGHAI), channel="letter", summary="仍要求证明",
                               units=["某局"], ruleset=rs, key=KEY, contents={"name": NAME, "agency": "某局"})
        assert c.channel_label == "信函" and c.contents_missing == ("phone", "request", "facts")
        with pytest.raises(RecordProblem, match="第十八条"):
            decide_intake(c, eng, PLAIN, datetime(2025, 6, 16, 10, tzinfo=SHANGHAI))
        asked = decide_intake(c, eng, PLAIN, datetime(2025, 6, 16, 10, tzinfo=SHANGHAI), ground="late-check")
        assert asked.state is ComplaintState.SUPPLEMENT_REQUESTED
        assert asked.acceptance.trace[0].citation.clause_id == "第十八条"  # type: ignore[union-attr]
        assert NAME not in asked.model_dump_json()


def test_the_audit_log_of_an_intake_holds_no_name_phone_or_id(zibo: Ruleset, engine: ComplaintEngine,
                                                               tmp_path: Path) -> None:
    from nocert_rules.records.audit import AuditLog, audit_state

    proxy = letter(zibo, by_proxy=True, proxy_id=PERSON_ID, proxy_authorisation="委托书", summary=f"代 {PERSON_ID} 投诉")
    accepted = decide_intake(proxy, engine, PLAIN, T10)
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, KEY)
    for state in (proxy, accepted):
        log.append(audit_state(state, at=T11))
    text = path.read_text(encoding="utf-8")
    assert NAME not in text and PHONE not in text and PERSON_ID not in text
    assert accepted.proxy_ref is not None and accepted.proxy_ref in text and accepted.contents_refs["phone"] in text
