"""Issue 13, finding 5: 附件5 第四条 cases derived from records and findings, 第八条 exemptions."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PERSON_ID, ZIBO

from nocert_rules import Applicant, Engine, Ruleset
from nocert_rules.cli.main import main
from nocert_rules.models import SHANGHAI
from nocert_rules.records.accountability import (
    AccountabilityError,
    applied_method_cases,
    cases_from_records,
    exempt,
    read_records,
)
from nocert_rules.records.pledge import open_pledge, record_post_check
from nocert_rules.records.verification import accept, answer, open_verification

KEY = b"accountability-test-key-012345678"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def late_verification(engine: Engine) -> object:
    d = engine.decide({"service_item": "370300-QR-0002", "certificate": "ZM-ZJ-0003", "requested_at": "2021-05-06T10:00:00",
                       "applicant": {"kind": "person", "id_number": PERSON_ID}})
    v = open_verification(d, requesting_unit="淄博市行政审批服务局", record_id="v-1", ruleset=engine.ruleset)
    v = accept(v, at("2021-05-06T10:05:00"))
    return answer(v, at("2021-05-20T10:00:00"), matches=True)


def late_pledge(zibo: Ruleset) -> object:
    with Engine(zibo, key=KEY) as keyed:
        d = keyed.decide({"service_item": "370300-XK-0013", "certificate": "ZM-CW-0008", "requested_at": "2021-05-06T10:00:00",
                          "applicant": {"kind": "person", "id_number": PERSON_ID}, "wants_pledge": True})
    p = open_pledge(d, Applicant(kind="person", id_number=PERSON_ID), KEY, record_id="p-1")
    return record_post_check(p, "passed", at("2021-12-01T10:00:00")).pledge


def test_late_records_become_cases_citing_the_clause(zibo: Ruleset, zibo_engine: Engine) -> None:
    v, p = late_verification(zibo_engine), late_pledge(zibo)
    pairs = [("VerificationRequest", v.model_dump(mode="json")), ("PledgeRecord", p.model_dump(mode="json")),
             ("Complaint", {"id": "c-1", "concluded_late": True, "units": ["市民政局"], "due_at": "2021-05-13T17:00:00+08:00"}),
             ("AdjustmentApplication", {"id": "a-1", "late": True, "unit": "市卫生健康委"})]
    cases = {c.kind: c for c in cases_from_records(zibo, pairs)}
    assert set(cases) == {"late_verification", "pledge_not_checked", "other_serious"}
    lv = cases["late_verification"]
    assert lv.item == "（三）" and lv.unit == v.issuing_unit and lv.citation.clause_id == "附件5 第四条"
    assert "未在规定时间内完成部门核验" in lv.citation.text
    assert cases["pledge_not_checked"].item == "（五）"
    assert cases["other_serious"].candidate is True
    # an on-time verification is no case
    assert cases_from_records(zibo, [("VerificationRequest", {**v.model_dump(mode="json"), "answered_late": False,
                                                              "state": "matched"})]) == []


def test_methods_the_list_does_not_allow(zibo: Ruleset) -> None:
    cases = applied_method_cases(zibo, [
        {"service_item": "370300-XK-0001", "certificate": "ZM-SJ-0001", "method": "PLEDGE", "unit": "市市场监管局"},
        {"service_item": "370300-XK-0001", "certificate": "ZM-SJ-0001", "method": "DATA_SHARING", "unit": "市市场监管局"},
        {"service_item": "370300-JF-0001", "certificate": "ZM-MZ-0001", "method": "PROXY", "unit": "市民政局"},
    ])
    assert [(c.kind, c.item) for c in cases] == [("method_changed", "（二）"), ("unauthorised_request", "（一）")]


def test_exemptions_cite_article_eight(zibo: Ruleset, zibo_engine: Engine) -> None:
    (case,) = cases_from_records(zibo, [("VerificationRequest", late_verification(zibo_engine).model_dump(mode="json"))])
    marked = exempt(zibo, case, "（四）", "主动挽回损失", at("2021-06-01T10:00:00"))
    assert marked.exemption is not None and marked.exemption.citation.clause_id == "附件5 第八条"
    assert "主动挽回损失" in marked.exemption.citation.text
    with pytest.raises(AccountabilityError, match="unknown exemption"):
        exempt(zibo, case, "（九）", "x", at("2021-06-01T10:00:00"))


def test_cli_report_over_a_records_export(tmp_path: Path, zibo_engine: Engine) -> None:
    export = tmp_path / "records.jsonl"
    v = late_verification(zibo_engine)
    lines = [{"record_type": "VerificationRequest", **v.model_dump(mode="json")},
             {"record": {"kind": "AppliedMethod", "outcome": {"service_item": "370300-XK-0001", "certificate": "ZM-SJ-0001",
                                                               "method": "PLEDGE", "unit": "窗口"}}}]
    export.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    assert len(list(read_records(export))) == 2
    result = CliRunner().invoke(main, ["accountability", str(ZIBO), str(export), "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["count"] == 2 and {c["kind"] for c in data["cases"]} == {"late_verification", "method_changed"}
    human = CliRunner().invoke(main, ["accountability", str(ZIBO), str(export)])
    assert "附件5 第四条（三）" in human.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{\n", encoding="utf-8")
    broken = CliRunner().invoke(main, ["accountability", str(ZIBO), str(bad)])
    assert broken.exit_code == 2 and "bad.jsonl:1" in broken.output
