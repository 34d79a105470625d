"""容错免责 procedure and 复核 as records (附件5 第六条、第七条、第八条、第十一条; issue 24, items 1 and 4)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ZIBO
from test_accountability import late_verification

from nocert_rules import Engine, Ruleset
from nocert_rules.cli.main import main
from nocert_rules.models import SHANGHAI
from nocert_rules.records import RecordProblem, TransitionError
from nocert_rules.records.accountability import cases_from_records
from nocert_rules.records.exemptions import (
    AccountabilityReview,
    ExemptionApplication,
    ExemptionState,
    ReviewState,
    apply_for_exemption,
    conclude_review,
    decide_exemption,
    file_exemption,
    request_review,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def application(zibo: Ruleset, **kw: object) -> ExemptionApplication:
    args: dict[str, object] = {"case_source": "VerificationRequest v-1", "case_kind": "late_verification",
                               "unit": "淄博市公安局", "ground": "（四）", "reason": "已主动补正并消除影响",
                               "submitted_to": "淄博市公安局党委", "at": "2021-06-01T10:00:00", "record_id": "ex-1"}
    args.update(kw)
    return apply_for_exemption(zibo, **args)  # type: ignore[arg-type]


def test_application_decision_and_filing_have_their_own_states_and_clauses(zibo: Ruleset) -> None:
    app = application(zibo)
    assert app.state is ExemptionState.APPLIED and app.application_clause == "附件5 第七条"
    assert app.ground_clause == "附件5 第八条（四）"
    assert "研究决定" in zibo.citation(app.application_clause).text
    with pytest.raises(TransitionError):
        file_exemption(app, zibo, at("2021-06-02T10:00"), filed_by="市纪委监委")  # not decided yet
    granted = decide_exemption(app, at("2021-06-10T10:00"), granted=True, decided_by="淄博市公安局党委", note="符合第八条（四）")
    assert granted.state is ExemptionState.GRANTED and granted.exempts
    filed = file_exemption(granted, zibo, at("2021-06-11T10:00"), filed_by="市纪委监委")
    assert filed.state is ExemptionState.FILED and filed.filing_clause == "附件5 第十一条" and filed.exempts
    assert "免责备案" in zibo.citation(filed.filing_clause or "").text
    refused = decide_exemption(app, at("2021-06-10T10:00"), granted=False, decided_by="淄博市公安局党委")
    assert refused.state is ExemptionState.REFUSED and not refused.exempts
    with pytest.raises(TransitionError):
        decide_exemption(refused, at("2021-06-12T10:00"), granted=True, decided_by="x")
    with pytest.raises(RecordProblem, match="unknown exemption ground"):
        application(zibo, ground="（九）")
    with pytest.raises(RecordProblem, match="submitted_to"):
        application(zibo, submitted_to=" ")
    data = granted.model_dump()
    data["decided_by"] = None
    with pytest.raises(RecordProblem, match="decided_by"):
        ExemptionApplication.model_validate(data)


def test_a_granted_application_marks_its_case_exempt(zibo: Ruleset, zibo_engine: Engine) -> None:
    v = late_verification(zibo_engine)
    app = application(zibo, case_source=f"VerificationRequest {v.id}")  # type: ignore[attr-defined]
    pairs = [("VerificationRequest", v.model_dump(mode="json")),  # type: ignore[attr-defined]
             ("ExemptionApplication", app.model_dump(mode="json"))]
    (case,) = cases_from_records(zibo, pairs)
    assert case.exemption is None  # applied only
    granted = decide_exemption(app, at("2021-06-10T10:00"), granted=True, decided_by="党委", note="主动消除不良影响")
    filed = file_exemption(granted, zibo, at("2021-06-11T10:00"), filed_by="市纪委监委")
    for latest, is_filed in ((granted, False), (filed, True)):
        (case,) = cases_from_records(zibo, [*pairs, ("ExemptionApplication", latest.model_dump(mode="json"))])
        assert case.exemption is not None and case.exemption.ground == "（四）" and case.exemption.filed is is_filed
        assert case.exemption.application_id == "ex-1" and case.exemption.citation.clause_id == "附件5 第八条"
        assert case.exemption.note == "主动消除不良影响"
    # as of a day before the decision the case is not yet exempt
    (before,) = cases_from_records(zibo, [*pairs, ("ExemptionApplication", granted.model_dump(mode="json"))],
                                   as_of=datetime(2021, 6, 9).date())
    assert before.exemption is None
    other = application(zibo, case_kind="pledge_not_checked", record_id="ex-2")
    other = decide_exemption(other, at("2021-06-10T10:00"), granted=True, decided_by="党委")
    (case,) = cases_from_records(zibo, [*pairs, ("ExemptionApplication", other.model_dump(mode="json"))])
    assert case.exemption is None  # another case kind


def test_a_review_never_suspends_the_decision(zibo: Ruleset) -> None:
    review = request_review(zibo, case_source="VerificationRequest v-1", decision="通报批评", unit="淄博市公安局",
                            reason="系统故障所致", at="2021-07-01T10:00:00", record_id="r-1")
    assert review.state is ReviewState.REQUESTED and review.decision_suspended is False
    assert review.clause == "附件5 第六条" and "不停止责任追究决定的执行" in zibo.citation(review.clause).text
    assert "不停止" in (review.events[0].note or "")
    done = conclude_review(review, at("2021-07-20T10:00"), outcome="upheld")
    assert done.state is ReviewState.CONCLUDED and done.outcome == "upheld" and done.decision_suspended is False
    with pytest.raises(TransitionError):
        conclude_review(done, at("2021-07-21T10:00"), outcome="changed")
    data = review.model_dump()
    data["decision_suspended"] = True  # a stored record that claims the decision is suspended
    with pytest.raises(RecordProblem, match="decision_suspended"):
        AccountabilityReview.model_validate(data)


def test_the_cli_records_the_procedure_and_accountability_shows_the_exemption(
    tmp_path: Path, zibo_engine: Engine
) -> None:
    export, log = tmp_path / "records.jsonl", tmp_path / "exemptions.jsonl"
    v = late_verification(zibo_engine)
    export.write_text(json.dumps({"record_type": "VerificationRequest", **v.model_dump(mode="json")},  # type: ignore[attr-defined]
                                 ensure_ascii=False) + "\n", encoding="utf-8")
    run = CliRunner().invoke
    applied = run(main, ["exemption", "apply", str(ZIBO), "--log", str(log), "--case", f"VerificationRequest {v.id}",  # type: ignore[attr-defined]
                         "--kind", "late_verification", "--unit", "淄博市公安局", "--ground", "（四）", "--reason", "主动消除影响",
                         "--to", "淄博市公安局党委", "--id", "ex-1", "--at", "2021-06-01T10:00", "--json"])
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.stdout)["record"]["state"] == "applied"
    before = json.loads(run(main, ["accountability", str(ZIBO), str(export), str(log), "--json"]).stdout)
    assert before["cases"][0]["exemption"] is None
    decided = run(main, ["exemption", "decide", "--log", str(log), "ex-1", "--grant", "--by", "淄博市公安局党委",
                         "--at", "2021-06-10T10:00"])
    assert decided.exit_code == 0 and "granted" in decided.stdout
    filed = run(main, ["exemption", "file", str(ZIBO), "--log", str(log), "ex-1", "--by", "市纪委监委", "--at", "2021-06-11T10:00"])
    assert filed.exit_code == 0 and "filed" in filed.stdout
    assert len(log.read_text(encoding="utf-8").splitlines()) == 3  # one version a line
    report = run(main, ["accountability", str(ZIBO), str(export), str(log), "--json"])
    assert report.exit_code == 1  # still a case: exempted, not gone
    (case,) = json.loads(report.stdout)["cases"]
    assert case["exemption"]["ground"] == "（四）" and case["exemption"]["filed"] is True
    human = run(main, ["accountability", str(ZIBO), str(export), str(log)])
    assert "已免责 / exempt 附件5 第八条（四）" in " ".join(human.stdout.split())
    twice = run(main, ["exemption", "decide", "--log", str(log), "ex-1", "--refuse", "--by", "x"])
    assert twice.exit_code == 2 and "decide" in twice.output
    unknown = run(main, ["exemption", "decide", "--log", str(log), "nope", "--grant", "--by", "x"])
    assert unknown.exit_code == 2 and "nope" in unknown.output
    # review: requested, concluded, never suspending the decision
    req = run(main, ["review", "request", str(ZIBO), "--log", str(log), "--case", "VerificationRequest v-1",
                     "--decision", "通报批评", "--unit", "淄博市公安局", "--reason", "系统故障", "--id", "r-1", "--json"])
    assert req.exit_code == 0 and json.loads(req.stdout)["record"]["decision_suspended"] is False
    done = run(main, ["review", "conclude", "--log", str(log), "r-1", "--outcome", "upheld", "--json"])
    assert done.exit_code == 0 and json.loads(done.stdout)["record"]["state"] == "concluded"
