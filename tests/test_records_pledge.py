"""告知承诺书 rendering and post-check records (三(三)2, 三(五)3)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import PERSON_ID, ZIBO

from nocert_rules import Applicant, Decision, Engine, Method, Ruleset, RulesetError, load_ruleset
from nocert_rules.models import SHANGHAI
from nocert_rules.privacy import keyed_hash
from nocert_rules.records import RecordProblem, TransitionError
from nocert_rules.records.pledge import (
    FalsePledgeEntry,
    PledgeRecord,
    PledgeState,
    PostCheckOutcome,
    load_pledge_template,
    open_pledge,
    record_post_check,
    render_pledge_html,
    render_pledge_text,
)

ITEM, CERT = "370300-XK-0013", "ZM-CW-0008"  # 个体工商户登记 / 经营场所使用证明: pledge, low risk
WHEN = "2021-05-06T10:00:00"
KEY = b"pledge-test-key-0123456789abcdef"
NAME = "张三丰"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def applicant(credit: str = "normal") -> Applicant:
    return Applicant(kind="person", id_number=PERSON_ID, name=NAME, credit=credit)  # type: ignore[arg-type]


def decide(engine: Engine, credit: str = "normal", **kw: Any) -> Decision:
    request: dict[str, Any] = {
        "service_item": ITEM,
        "certificate": CERT,
        "applicant": applicant(credit).model_dump(),
        "requested_at": WHEN,
        "request_id": "case-7",
        "wants_pledge": True,  # the applicant chose to pledge: the form renders only then
    }
    request.update(kw)
    decision = engine.decide(request)
    return decision


REQUEST_370399: dict[str, Any] = {"service_item": ITEM, "certificate": CERT, "requested_at": WHEN, "wants_pledge": True}


@pytest.fixture(scope="module")
def keyed_engine(zibo: Ruleset) -> Iterator[Engine]:
    engine = Engine(zibo, key=KEY)  # decisions carry applicant.ref, which open_pledge compares
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def normal(keyed_engine: Engine) -> Decision:
    decision = decide(keyed_engine)
    assert decision.method is Method.PLEDGE and decision.post_check is not None
    assert decision.post_check.waived is False
    return decision


@pytest.fixture(scope="module")
def trusted(keyed_engine: Engine) -> Decision:
    decision = decide(keyed_engine, "trustworthy")
    assert decision.method is Method.PLEDGE and decision.post_check is not None
    assert decision.post_check.waived is True
    return decision


# ---------------------------------------------------------------- the template


def test_text_names_certificate_content_obligation_consequences_and_post_check(zibo: Ruleset, normal: Decision) -> None:
    text = render_pledge_text(zibo, normal, content="经营场所为本人合法使用的房屋")
    assert "告知承诺书" in text
    assert normal.certificate_name is not None and normal.certificate_name in text
    assert "经营场所为本人合法使用的房屋" in text
    assert "证明义务" in text and "不实承诺的法律后果" in text and "虚假承诺黑名单" in text
    assert normal.post_check is not None and normal.post_check.description in text
    assert "2021年6月2日 17:00 前" in text  # 20 working days after the decision
    assert "$" not in text
    assert PERSON_ID not in text and NAME not in text
    assert normal.applicant.id_masked in text


def test_waived_plan_says_random_inspection(zibo: Ruleset, trusted: Decision) -> None:
    assert "双随机、一公开" in render_pledge_text(zibo, trusted)


def test_html_escapes_everything_and_is_self_contained(zibo: Ruleset, normal: Decision) -> None:
    hostile = '<script>alert("x")</script> & <b onload=1>'
    page = render_pledge_html(zibo, normal, content=hostile)
    assert "<script>" not in page and "<b " not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b onload=1&gt;" in page
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and '<meta charset="utf-8">' in page
    for external in ("<link", "src=", "http://", "https://", "@import"):
        assert external not in page
    assert "<h1>证明事项告知承诺书</h1>" in page and "<li>" in page
    assert PERSON_ID not in page and NAME not in page


def test_render_refuses_other_methods(zibo: Ruleset, zibo_engine: Engine) -> None:
    decision = zibo_engine.decide(
        {"service_item": "370300-QR-0002", "certificate": "ZM-ZJ-0003",
         "applicant": {"kind": "person", "id_number": PERSON_ID}, "requested_at": WHEN}
    )
    with pytest.raises(RecordProblem, match="not PLEDGE"):
        render_pledge_text(zibo, decision)


def _ruleset_with_template(tmp_path: Path, text: str) -> Ruleset:
    return load_ruleset(_folder_with_template(tmp_path, text))


def _folder_with_template(tmp_path: Path, text: str) -> Path:
    """A copy of the Zibo ruleset with ``text`` as its pledge template (checked by load_ruleset)."""
    target = tmp_path / "zibo"
    shutil.copytree(ZIBO, target)
    (target / "templates" / "pledge.md").write_text(text, encoding="utf-8")
    return target


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("# 承诺书\n\n$certificate_name $content\n$post_check $colour\n", 4, "unknown placeholder $colour"),
        ("# 承诺书\n$certificate_name $content $post_check\n费用 $5\n", 3, "malformed"),
        ("# 承诺书\n$certificate_name $post_check\n", None, "$content"),
    ],
)
def test_bad_template_is_a_ruleset_error_with_line(tmp_path: Path, text: str, line: int | None, problem: str) -> None:
    folder = _folder_with_template(tmp_path, text)
    with pytest.raises(RulesetError) as info:
        load_ruleset(folder)
    assert info.value.file == "templates/pledge.md"
    assert info.value.line == line
    assert problem in str(info.value)


def test_dollar_escape_is_allowed(tmp_path: Path) -> None:
    rs = _ruleset_with_template(tmp_path, "# 承诺书\n$certificate_name $content $post_check 费用 $$5\n")
    assert "$5" in load_pledge_template(rs).render({k: "x" for k in ("certificate_name", "content", "post_check")})


# ---------------------------------------------------------------- the pledge record


def test_open_pledge_keeps_only_a_keyed_hash(normal: Decision) -> None:
    pledge = open_pledge(normal, applicant(), KEY, text="承诺书全文", record_id="p-1")
    assert pledge.state is PledgeState.AWAITING_CHECK
    assert pledge.applicant_ref == keyed_hash(PERSON_ID, KEY)
    assert pledge.text_sha256 is not None and len(pledge.text_sha256) == 64
    assert PERSON_ID not in pledge.model_dump_json() and NAME not in pledge.model_dump_json()


def test_open_pledge_refuses_another_applicant_or_no_key(normal: Decision, zibo_engine: Engine) -> None:
    other = Applicant(kind="person", id_number="370399198812126789")
    with pytest.raises(RecordProblem, match="not the decision's"):
        open_pledge(normal, other, KEY)
    with pytest.raises(RecordProblem, match="key"):
        open_pledge(normal, applicant(), b"")
    with pytest.raises(RecordProblem, match="not the decision's"):
        open_pledge(normal, applicant(), b"another-key-0123456789abcdef")
    with pytest.raises(RecordProblem, match=r"applicant\.ref"):
        open_pledge(decide(zibo_engine), applicant(), KEY)  # no key at decision time: cannot check


def test_open_pledge_compares_keyed_hashes_never_masks(keyed_engine: Engine) -> None:
    # Both mask to 370*************34: a mask comparison would let the wrong person pledge.
    decision = keyed_engine.decide({**REQUEST_370399, "applicant": {"kind": "person", "id_number": "370399199001011234"}})
    impostor = Applicant(kind="person", id_number="370999888877776634")
    assert impostor.summary(decision.requested_at).id_masked == decision.applicant.id_masked
    with pytest.raises(RecordProblem, match="not the decision's"):
        open_pledge(decision, impostor, KEY)
    pledge = open_pledge(decision, Applicant(kind="person", id_number="370399199001011234"), KEY)
    assert pledge.applicant_ref == decision.applicant.ref


def test_open_pledge_refuses_other_methods(keyed_engine: Engine) -> None:
    decision = decide(keyed_engine, wants_pledge=False)
    assert decision.method is not Method.PLEDGE
    with pytest.raises(RecordProblem, match="not PLEDGE"):
        open_pledge(decision, applicant(), KEY)


def test_check_passed(normal: Decision) -> None:
    result = record_post_check(open_pledge(normal, applicant(), KEY), "passed", at("2021-05-20T10:00"))
    assert result.pledge.state is PledgeState.PASSED and result.blacklist is None
    assert result.pledge.checked_late is False and result.pledge.by_random_inspection is False


def test_check_late_is_flagged(normal: Decision) -> None:
    result = record_post_check(open_pledge(normal, applicant(), KEY), PostCheckOutcome.PASSED, at("2021-06-03T10:00"))
    assert result.pledge.checked_late is True


def test_found_false_produces_a_blacklist_entry_by_keyed_hash(normal: Decision, zibo: Ruleset) -> None:
    pledge = open_pledge(normal, applicant(), KEY, record_id="p-2", ruleset=zibo)
    assert pledge.clause == "三(三)2" and pledge.events[0].note == "三(三)2"
    result = record_post_check(pledge, "found_false", at("2021-05-20T10:00"), note="经营场所实为他人所有", blacklist_id="b-1")
    assert result.pledge.state is PledgeState.FOUND_FALSE
    entry = result.blacklist
    assert isinstance(entry, FalsePledgeEntry)
    assert entry.applicant_ref == keyed_hash(PERSON_ID, KEY)
    assert entry.clause == "三(五)3" and entry.pledge_id == "p-2" and entry.finding == "经营场所实为他人所有"
    assert PERSON_ID not in entry.model_dump_json() and NAME not in entry.model_dump_json()


def test_found_false_needs_the_finding(normal: Decision) -> None:
    with pytest.raises(RecordProblem, match="finding"):
        record_post_check(open_pledge(normal, applicant(), KEY), "found_false", at("2021-05-20T10:00"))


def test_waiving_a_required_check_is_refused(normal: Decision) -> None:
    with pytest.raises(RecordProblem, match="requires a check"):
        record_post_check(open_pledge(normal, applicant(), KEY), "waived", at("2021-05-20T10:00"))


@pytest.mark.parametrize("final", ["passed", "found_false"])
@pytest.mark.parametrize("then", ["passed", "found_false", "waived"])
def test_a_final_outcome_cannot_change(normal: Decision, final: str, then: str) -> None:
    done = record_post_check(open_pledge(normal, applicant(), KEY), final, at("2021-05-20T10:00"), note="发现")
    with pytest.raises(TransitionError):
        record_post_check(done.pledge, then, at("2021-05-21T10:00"), note="再次")


def test_unknown_outcome_is_refused(normal: Decision) -> None:
    with pytest.raises(RecordProblem, match="unknown outcome"):
        record_post_check(open_pledge(normal, applicant(), KEY), "maybe", at("2021-05-20T10:00"))


def test_outcome_before_signing_is_refused(normal: Decision) -> None:
    pledge = open_pledge(normal, applicant(), KEY, signed_at=at("2021-05-06T11:00"))
    with pytest.raises(RecordProblem, match="before the record's last event"):
        record_post_check(pledge, "passed", at("2021-05-06T10:30"))


def test_waived_then_random_inspection(trusted: Decision) -> None:
    pledge = open_pledge(trusted, applicant("trustworthy"), KEY)
    waived = record_post_check(pledge, "waived", at("2021-05-07T10:00")).pledge
    assert waived.state is PledgeState.WAIVED
    with pytest.raises(TransitionError):
        record_post_check(waived, "waived", at("2021-05-08T10:00"))
    result = record_post_check(waived, "found_false", at("2021-07-01T10:00"), note="抽查发现承诺不实")
    assert result.pledge.state is PledgeState.FOUND_FALSE and result.pledge.by_random_inspection is True
    assert result.blacklist is not None


def test_waived_plan_check_only_by_random_inspection(trusted: Decision) -> None:
    pledge = open_pledge(trusted, applicant("trustworthy"), KEY)
    with pytest.raises(RecordProblem, match="waives the check"):
        record_post_check(pledge, "passed", at("2021-05-07T10:00"))
    done = record_post_check(pledge, "passed", at("2021-05-07T10:00"), by_random_inspection=True)
    assert done.pledge.state is PledgeState.PASSED and done.pledge.by_random_inspection is True


def test_a_clear_id_cannot_enter_a_blacklist_entry(normal: Decision) -> None:
    pledge = open_pledge(normal, applicant(), KEY, record_id="p-3")
    entry = record_post_check(pledge, "found_false", at("2021-05-20T10:00"), note="不实").blacklist
    assert entry is not None
    data = entry.model_dump(mode="json")
    data["applicant_ref"] = PERSON_ID
    with pytest.raises(RecordProblem, match="keyed hash") as info:
        FalsePledgeEntry.model_validate(data)
    assert PERSON_ID not in str(info.value)
    data = pledge.model_dump(mode="json")
    data["applicant_ref"] = PERSON_ID
    with pytest.raises(RecordProblem, match="keyed hash"):
        PledgeRecord.model_validate(data)
