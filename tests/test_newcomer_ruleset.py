"""Any city can adopt it: a district's own ruleset gets its own clauses and offices, never Zibo's.

The ruleset (``ruleset_factory.write_newcomer_ruleset``) numbers its clauses 第二条…第三十二条 and
names its own offices. Every decision, record, deadline and CLI output for it is collected and
searched for Zibo's clause ids, offices and codes.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import PERSON_ID
from pydantic import BaseModel
from ruleset_factory import NEWCOMER_OFFICE, write_newcomer_ruleset

from nocert_rules import Engine, Method, Ruleset, load_ruleset
from nocert_rules.cli.main import main
from nocert_rules.models import SHANGHAI, Applicant
from nocert_rules.records import RecordProblem
from nocert_rules.records.adjustments import adjustment_warnings, submit_adjustment
from nocert_rules.records.complaints import (
    ComplaintEngine,
    ComplaintFacts,
    conclude,
    decide_intake,
    extend,
    register_complaint,
    terminate,
)
from nocert_rules.records.pledge import (
    open_pledge,
    record_post_check,
    render_pledge_html,
    render_pledge_text,
)
from nocert_rules.records.provided import record_provided
from nocert_rules.records.verification import (
    PurposeError,
    accept,
    answer,
    check_use,
    escalate,
    mark_overdue,
    open_verification,
    request_supplement,
    return_not_our_duty,
)
from nocert_rules.worktime import deadlines as dl

ZIBO_WORDING = re.compile(r"附件\s*\d|三\([一二三四五六七八九十]+\)|联席会议|淄博|国办发|370300|市司法局")
"""Zibo's clause ids (附件N 第X条, 三(三)2), offices, name and codes."""

KEY = b"k" * 32
WHEN = "2025-06-16T10:00:00"


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_newcomer_ruleset(tmp_path_factory.mktemp("qinghu") / "qinghu")


@pytest.fixture(scope="module")
def rs(district: Path) -> Ruleset:
    return load_ruleset(district)


@pytest.fixture(scope="module")
def engine(rs: Ruleset) -> Any:
    e = Engine(rs, key=KEY)  # decisions carry applicant.ref, which open_pledge compares
    yield e
    e.close()


class Outputs:
    """Everything the library said for the district, as text, to be searched at the end."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, label: str, value: Any) -> Any:
        if isinstance(value, BaseModel):
            text = value.model_dump_json()
        elif isinstance(value, str):
            text = value
        else:
            text = json.dumps(value, ensure_ascii=False, default=str)
        self.texts.append((label, text))
        return value

    def leaks(self) -> list[tuple[str, str]]:
        return [(label, m.group(0)) for label, text in self.texts for m in [ZIBO_WORDING.search(text)] if m]


def request(item: str, cert: str, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "service_item": item,
        "certificate": cert,
        "applicant": {"kind": "person", "id_number": PERSON_ID, "name": "张三丰", "credit": "normal"},
        "requested_at": WHEN,
        "request_id": "qh-1",
    }
    base.update(kw)
    return base


def test_the_zibo_pattern_catches_zibo(rs: Ruleset) -> None:
    """The search works: Zibo's own outputs are caught."""
    zibo = load_ruleset(Path(__file__).parent.parent / "rulesets" / "zibo")
    out = Outputs()
    out.add("zibo policy", zibo.deadline_policy)
    assert out.leaks()
    assert not ZIBO_WORDING.search(json.dumps([c.model_dump() for c in rs.clauses.values()], ensure_ascii=False))


def test_decisions_records_and_deadlines_use_the_districts_clauses(rs: Ruleset, engine: Any) -> None:
    out = Outputs()
    variants: list[dict[str, Any]] = [
        {},
        {"wants_pledge": False},
        {"sharing_online": False},
        {"proxy_authorized": False, "wants_pledge": False, "sharing_online": False},
        {"provides_certificate": True},
        {"adjustment_pending": True},
    ]
    credits = ("trustworthy", "normal", "untrustworthy")
    methods: set[Method] = set()
    for row in rs.rows:
        for extra in variants:
            for credit in credits:
                req = request(row.service_item_code, row.certificate_id, **extra)
                req["applicant"] = {**req["applicant"], "credit": credit}
                d = out.add("decision", engine.decide(req))
                methods.add(d.method)
    out.add("unlisted", engine.decide(request("QH-S1", "no-such-certificate")))
    out.add("unknown item", engine.decide(request("QH-NOPE", "share")))
    assert methods == set(Method)

    # verification: the plan's paper limit is the district's 2 days, not labelled statutory
    v = engine.decide(request("QH-S1", "risky", wants_pledge=False))
    assert v.method is Method.VERIFICATION and v.deadline is not None
    assert v.deadline.clause == "第十条" and v.deadline.due_at == sh(2025, 6, 18, 17, 0)
    opened = out.add("open", open_verification(v, requesting_unit="青湖区民政局", record_id="v-1", ruleset=rs))
    accepted = out.add("accept", accept(opened, sh(2025, 6, 16, 10, 5)))
    overdue = out.add("overdue", mark_overdue(accepted, sh(2025, 6, 19, 9, 0), rs))
    assert overdue.events[-1].note is not None and "法定程序" not in overdue.events[-1].note
    assert overdue.escalation is not None and overdue.escalation.clause == "第十二条"
    assert NEWCOMER_OFFICE in (overdue.escalation.to or "")
    escalated = out.add("escalate", escalate(overdue, sh(2025, 6, 19, 9, 30)))
    assert escalated.events[-1].note is not None and "第十二条" in escalated.events[-1].note
    mismatched = out.add("answer", answer(escalated, sh(2025, 6, 19, 10, 0), matches=False))
    supplement, ledger = request_supplement(mismatched, sh(2025, 6, 19, 11, 0), materials=["租赁合同"], purpose="核实住所")
    assert supplement.clause == ledger.clause == "第十一条"
    out.add("supplement", supplement)
    out.add("ledger", ledger)
    with pytest.raises(PurposeError) as info:
        check_use(mismatched, "QH-OTHER")
    assert "第十三条" in str(info.value)
    out.add("purpose error", str(info.value))
    out.add("return", return_not_our_duty(opened, sh(2025, 6, 16, 11, 0), "不属于本单位职责"))

    # a row's own statutory limit cites the district's statutory clause
    st = out.add("statutory", engine.decide(request("QH-S2", "statutory")))
    assert st.deadline is not None and st.deadline.clause == "第十条" and "法定程序" in st.deadline.rule

    # applicant-provided, pledge and blacklist
    provided = engine.decide(request("QH-S1", "verify", provides_certificate=True))
    assert provided.method is Method.APPLICANT_PROVIDED
    rec = out.add("provided", record_provided(provided, received_by="青湖区政务服务中心", at=sh(2025, 6, 16, 11), ruleset=rs))
    assert rec.clause == "第四条"
    pledge_decision = engine.decide(request("QH-S1", "pledge", wants_pledge=True))
    assert pledge_decision.method is Method.PLEDGE and pledge_decision.deadline is not None
    assert pledge_decision.deadline.clause == "第六条"
    out.add("pledge text", render_pledge_text(rs, pledge_decision))
    out.add("pledge html", render_pledge_html(rs, pledge_decision))
    pledge = out.add("pledge", open_pledge(pledge_decision, Applicant(kind="person", id_number=PERSON_ID), KEY, ruleset=rs))
    result = record_post_check(pledge, "found_false", sh(2025, 6, 20, 10), note="承诺不实")
    assert result.blacklist is not None and result.blacklist.clause == "第八条"
    out.add("post-check", result)

    # complaints
    ce = ComplaintEngine(rs)
    try:
        c = out.add("register", register_complaint(received_at=sh(2025, 6, 16, 9), channel="hotline_12345",
                                                   summary="仍要求提供证明", units=["青湖区某局"], ruleset=rs))
        assert c.events[0].note == "第二十二条"
        c = out.add("intake", decide_intake(c, ce, ComplaintFacts(specific=True, verifiable=True), sh(2025, 6, 16, 10)))
        assert c.due_at == sh(2025, 6, 19, 17, 0)  # 3 working days
        with pytest.raises(RecordProblem) as info:
            extend(c, sh(2025, 6, 17, 10), 3, "复杂", rs)
        out.add("extension error", str(info.value))
        assert "第二十条" in str(info.value)
        with pytest.raises(RecordProblem) as info:
            terminate(c, ce, ComplaintFacts(specific=True, verifiable=True), sh(2025, 6, 17, 10))
        out.add("terminate error", str(info.value))
        assert "第二十一条" in str(info.value)
        c = out.add("extend", extend(c, sh(2025, 6, 17, 10), 2, "复杂", rs))
        out.add("conclude", conclude(c, sh(2025, 6, 20, 10), "已纠正"))
        rejected = decide_intake(register_complaint(received_at=sh(2025, 6, 16, 9), channel="written", summary="x",
                                                    units=["某局"], ruleset=rs),
                                 ce, ComplaintFacts(specific=False, verifiable=False), sh(2025, 6, 16, 10))
        out.add("rejected", rejected)
    finally:
        ce.close()

    # list adjustments: the district's causes, office and 5-day limit
    late = submit_adjustment(rs, unit="青湖区某局", applied_on=date(2025, 7, 1), service_item="QH-S1",
                             certificate="share", type="change", method="verification", basis="修订",
                             cause="change.method", cause_on=date(2025, 6, 16))
    assert late.late and late.cause_clause == "第三十一条" and "青湖区司法局" in late.due_rule
    out.add("adjustment", late)
    out.add("adjustment warnings", adjustment_warnings(rs, late))
    with pytest.raises(RecordProblem) as info:
        submit_adjustment(rs, unit="青湖区某局", applied_on=date(2025, 7, 1), service_item="QH-S1",
                          certificate="share", type="add", method="verification", basis="修订",
                          cause="add.delegated_power", cause_on=date(2025, 6, 16))
    out.add("cause error", str(info.value))

    # every deadline function, with the ruleset's policy
    p = rs.deadline_policy
    for kind in ("electronic", "paper", "incomplete_archive"):
        out.add("verification_due", dl.verification_due(WHEN, kind, rs.calendar, policy=p))
        out.add("verification_status", dl.verification_status(WHEN, kind, "2025-07-01T10:00", rs.calendar, policy=p))
    out.add("complaint_due", dl.complaint_due(WHEN, rs.calendar, 2, policy=p))
    out.add("adjustment_due", dl.adjustment_due(WHEN, rs.calendar, policy=p))
    out.add("approval_clock", dl.approval_clock(WHEN, "2025-06-16T15:00", [], rs.calendar, clause=p.verification_clause,
                                                    policy=p))
    assert dl.next_publication_date(date(2025, 7, 1), p.publication_month_days) == date(2025, 9, 30)

    assert out.leaks() == []
    assert len(out.texts) > 100


def test_cli_outputs_for_the_district(district: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = Outputs()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, list(args))
        text = result.output + (result.stderr if result.stderr_bytes is not None else "")
        out.add(" ".join(args), text)
        return result.exit_code, text

    req = tmp_path / "req.json"
    for cert in ("share", "pledge", "risky", "verify", "proxy-only", "no-basis", "gone"):
        req.write_text(json.dumps(request("QH-S1", cert, sharing_online=False)), encoding="utf-8")
        assert run("decide", str(district), "--request", str(req))[0] == 0
        assert run("decide", str(district), "--request", str(req), "--json")[0] == 0
    for kind in ("verification", "complaint", "adjustment", "post-check"):
        for fmt in ((), ("--json",)):
            code, text = run("calendar", "deadline", kind, WHEN, "--ruleset", str(district), "--records", "paper", *fmt)
            assert code == 0, text
    code, text = run("calendar", "deadline", "complaint", WHEN, "--ruleset", str(district), "--extension-days", "3")
    assert code == 2 and "第二十条" in text
    code, text = run("calendar", "deadline", "verification", WHEN, "--ruleset", str(district), "--records", "paper")
    assert "第十条" in text and "2025-06-18 17:00" in text
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(json.dumps(request("QH-S1", c)) for c in ("share", "pledge", "verify")) + "\n",
                     encoding="utf-8")
    assert run("dry-run", str(district), str(cases))[0] == 0
    assert run("dry-run", str(district), str(cases), "--json")[0] == 0
    run("lint", str(district))
    run("lint", str(district), "--json")
    assert out.leaks() == []
