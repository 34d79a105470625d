"""Issue #2 semantics a-g, each on the bundled Zibo ruleset and on a tiny ruleset written here."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import PERSON_ID
from ruleset_factory import MANIFEST, write_ruleset

from nocert_rules import Decision, Engine, Method, RecordKind, load_ruleset


@dataclass(frozen=True)
class Case:
    """Where each situation lives in a ruleset, and the rule ids that implement it."""

    when: str  # an in-force request time
    unlisted: tuple[str, str]
    no_basis: tuple[str, str]
    abolished: tuple[str, str]
    sharing: tuple[str, str]  # data sharing first, verification next
    pledge: tuple[str, str]  # pledge allowed, low risk
    risky_pledge: tuple[str, str]  # pledge allowed on the row but a barring risk, verification next
    verification: tuple[str, str]  # verification, incomplete archive
    proxy_only: tuple[str, str]
    rules: dict[str, str]


ZIBO_CASE = Case(
    when="2021-05-06T10:00:00",
    unlisted=("370300-XK-0001", "ZM-XX-9999"),
    no_basis=("370300-JF-0001", "ZM-CW-0005"),
    abolished=("370300-GG-0003", "ZM-GA-0002"),
    sharing=("370300-QR-0001", "ZM-JY-0001"),
    pledge=("370300-XK-0013", "ZM-CW-0008"),
    risky_pledge=("370300-XK-0011", "ZM-ZJ-0002"),
    verification=("370300-QR-0002", "ZM-ZJ-0003"),
    proxy_only=("370300-JF-0006", "ZM-FY-0002"),
    rules={
        "unlisted": "abolish.not-listed",
        "no_basis": "abolish.no-legal-basis",
        "abolished": "abolish.status-abolished",
        "provided": "provided.applicant-offers",
        "offline": "sharing.channel-offline",
        "risk": "pledge.barred-by-risk",
        "declines": "pledge.applicant-declines",
        "blacklist": "pledge.blacklisted",
        "bad_record": "pledge.serious-bad-record",
        "untrustworthy": "pledge.untrustworthy",
        "no_auth": "proxy.not-authorised",
    },
)

TINY_CASE = Case(
    when="2025-03-03T10:00:00",
    unlisted=("S1", "nope"),
    no_basis=("S1", "no-basis"),
    abolished=("S1", "gone"),
    sharing=("S1", "share"),
    pledge=("S1", "pledge"),
    risky_pledge=("S1", "risky"),
    verification=("S1", "verify"),
    proxy_only=("S1", "proxy-only"),
    rules={
        "unlisted": "a.unlisted",
        "no_basis": "a.no-basis",
        "abolished": "a.abolished",
        "provided": "p.offers",
        "offline": "s.offline",
        "risk": "g.risk",
        "declines": "g.declines",
        "blacklist": "g.bad-credit",
        "bad_record": "g.bad-credit",
        "untrustworthy": "g.bad-credit",
        "no_auth": "x.no-auth",
    },
)


@pytest.fixture(params=["zibo", "tiny"])
def setup(request: pytest.FixtureRequest) -> tuple[Engine, Case]:
    if request.param == "zibo":
        return request.getfixturevalue("zibo_engine"), ZIBO_CASE
    return request.getfixturevalue("tiny_engine"), TINY_CASE


def ask(engine: Engine, case: Case, where: tuple[str, str], applicant: dict[str, Any] | None = None, **kw: Any) -> Decision:
    person = {"kind": "person", "id_number": PERSON_ID, "credit": "normal"}
    person.update(applicant or {})
    request = {"service_item": where[0], "certificate": where[1], "applicant": person, "requested_at": case.when}
    request.update(kw)
    return engine.decide(request)


def fired(decision: Decision, effect: str) -> list[str]:
    return [s.rule_id for s in decision.trace if s.effect == effect]


# ---------------------------------------------------------------- a. abolish


@pytest.mark.parametrize("which", ["unlisted", "no_basis", "abolished"])
def test_a_abolish(setup: tuple[Engine, Case], which: str) -> None:
    engine, case = setup
    decision = ask(engine, case, getattr(case, which))
    assert decision.method is Method.ABOLISH
    assert decision.applicant_must_submit is False
    assert case.rules[which] in fired(decision, "offer")
    assert decision.listed is (which != "unlisted")


def test_a_abolish_wins_even_if_applicant_offers_document(setup: tuple[Engine, Case]) -> None:
    engine, case = setup
    assert ask(engine, case, case.no_basis, provides_certificate=True).method is Method.ABOLISH


def test_a_certificate_found_by_exact_name(setup: tuple[Engine, Case]) -> None:
    engine, case = setup
    row = engine.ruleset.find_row(*case.verification)
    assert row is not None
    by_name = ask(engine, case, (case.verification[0], row.certificate_name))
    assert by_name.method is Method.VERIFICATION
    assert by_name.certificate_id == row.certificate_id


# ---------------------------------------------------------------- b. applicant provides


def test_b_applicant_provided_is_accepted(setup: tuple[Engine, Case]) -> None:
    engine, case = setup
    decision = ask(engine, case, case.verification, provides_certificate=True)
    assert decision.method is Method.APPLICANT_PROVIDED
    assert decision.applicant_must_submit is False
    step = next(s for s in decision.trace if s.rule_id == case.rules["provided"])
    assert step.citation is not None and step.citation.text


# ---------------------------------------------------------------- c. data sharing


def test_c_data_sharing_online(setup: tuple[Engine, Case]) -> None:
    engine, case = setup
    decision = ask(engine, case, case.sharing)
    assert decision.method is Method.DATA_SHARING
    assert decision.sharing_source


def test_c_data_sharing_offline_falls_through_and_trace_says_so(setup: tuple[Engine, Case]) -> None:
    engine, case = setup
    decision = ask(engine, case, case.sharing, sharing_online=False)
    assert decision.method is not Method.DATA_SHARING
    assert decision.method in (Method.PLEDGE, Method.VERIFICATION)
    assert case.rules["offline"] in fired(decision, "block")
    assert Method.DATA_SHARING in decision.blocked_methods()


# ---------------------------------------------------------------- d. pledge


def test_d_pledge_for_normal_credit_has_post_check_due(setup: tuple[Engine, Case]) -> None:
    engine, case = setup
    decision = ask(engine, case, case.pledge)
    assert decision.method is Method.PLEDGE
    plan = engine.ruleset.manifest.pledge_policy.post_check[decision.applicant.credit]
    assert decision.post_check is not None and decision.post_check.waived is False
    assert decision.post_check.within_working_days == plan.within_working_days
    cal = engine.ruleset.calendar
    start = datetime.fromisoformat(case.when).date()
    assert decision.post_check.due_at is not None
    assert decision.post_check.due_at.date() == cal.add_working_days(start, plan.within_working_days or 0)
    assert decision.deadline is not None and decision.deadline.kind == "post_check"


def test_d_pledge_for_trustworthy_is_waived(setup: tuple[Engine, Case]) -> None:
    engine, case = setup
    decision = ask(engine, case, case.pledge, {"credit": "trustworthy"})
    assert decision.method is Method.PLEDGE
    assert decision.post_check is not None and decision.post_check.waived is True
    assert decision.post_check.due_at is None


@pytest.mark.parametrize(
    ("why", "applicant", "extra"),
    [
        ("declines", {}, {"wants_pledge": False}),
        ("blacklist", {"blacklisted_since": "2020-01-01"}, {}),
        ("blacklist", {"blacklisted_since": "2020-01-01", "credit_repaired_on": "2030-01-01"}, {}),
        ("bad_record", {"serious_bad_record": True}, {}),
        ("untrustworthy", {"credit": "untrustworthy"}, {}),
    ],
)
def test_d_pledge_blocked_for_applicant(
    setup: tuple[Engine, Case], why: str, applicant: dict[str, Any], extra: dict[str, Any]
) -> None:
    engine, case = setup
    decision = ask(engine, case, case.pledge, applicant, **extra)
    assert decision.method is not Method.PLEDGE
    assert case.rules[why] in fired(decision, "block")
    assert decision.post_check is None


def test_d_blacklist_repaired_before_request_allows_pledge(setup: tuple[Engine, Case]) -> None:
    engine, case = setup
    decision = ask(engine, case, case.pledge, {"blacklisted_since": "2019-01-01", "credit_repaired_on": "2020-06-01"})
    assert decision.method is Method.PLEDGE
    assert decision.applicant.on_blacklist is False


def test_d_blacklisted_after_request_does_not_count(setup: tuple[Engine, Case]) -> None:
    engine, case = setup
    decision = ask(engine, case, case.pledge, {"blacklisted_since": "2031-01-01"})
    assert decision.method is Method.PLEDGE


def test_d_pledge_barred_by_risk_category(setup: tuple[Engine, Case]) -> None:
    engine, case = setup
    decision = ask(engine, case, case.risky_pledge)
    assert decision.method is Method.VERIFICATION
    assert case.rules["risk"] in fired(decision, "block")


# ---------------------------------------------------------------- e. verification


def test_e_verification_names_issuer_and_records(setup: tuple[Engine, Case]) -> None:
    engine, case = setup
    decision = ask(engine, case, case.verification)
    row = engine.ruleset.find_row(*case.verification)
    assert row is not None
    assert decision.method is Method.VERIFICATION
    assert decision.issuer == row.issuer
    assert decision.records is RecordKind.INCOMPLETE_ARCHIVE
    assert decision.deadline is not None and decision.deadline.kind == "verification_reply"
    cal = engine.ruleset.calendar
    start = datetime.fromisoformat(case.when).date()
    assert decision.deadline.due_at == cal.close_of_business(cal.add_working_days(start, 2))
    assert decision.deadline.clause == engine.ruleset.manifest.deadlines.verification_clause


# ---------------------------------------------------------------- f. proxy


def test_f_proxy_when_nothing_else_applies(setup: tuple[Engine, Case]) -> None:
    engine, case = setup
    decision = ask(engine, case, case.proxy_only)
    assert decision.method is Method.PROXY
    assert decision.applicant_must_submit is False


def test_f_proxy_without_authorisation_lets_applicant_provide_and_cites_why(setup: tuple[Engine, Case]) -> None:
    engine, case = setup
    decision = ask(engine, case, case.proxy_only, proxy_authorized=False)
    assert decision.method is Method.APPLICANT_PROVIDED
    assert decision.applicant_must_submit is True
    assert case.rules["no_auth"] in fired(decision, "block")
    last = decision.trace[-1]
    assert last.effect == "fallback" and last.citation is not None
    assert last.citation.clause_id == engine.ruleset.manifest.fallback.clause


# ---------------------------------------------------------------- g. every block in the trace


def test_g_every_blocked_method_is_in_trace_with_reason_and_clause(setup: tuple[Engine, Case]) -> None:
    engine, case = setup
    decision = ask(
        engine, case, case.sharing, {"credit": "untrustworthy"}, sharing_online=False, wants_pledge=False
    )
    blocked = decision.blocked_methods()
    assert Method.DATA_SHARING in blocked
    row = engine.ruleset.find_row(*case.sharing)
    assert row is not None
    if any(m.value == "pledge" for m in row.methods):
        assert Method.PLEDGE in blocked
        assert {case.rules["declines"], case.rules["untrustworthy"]} <= {s.rule_id for s in blocked[Method.PLEDGE]}
    for steps in blocked.values():
        for step in steps:
            assert step.citation is not None
            assert step.citation.clause_id in engine.ruleset.clauses
            assert step.citation.text == engine.ruleset.clauses[step.citation.clause_id].text
            rule = next(r for r in engine.ruleset.rules if r.id == step.rule_id)
            assert rule.reason in step.conclusion
    assert decision.trace[-1].effect in ("choose", "fallback")


def test_deadline_clauses_come_from_the_ruleset(tmp_path: Path) -> None:
    """A city whose documents number clauses differently gets its own clause ids on deadlines."""
    manifest = copy.deepcopy(MANIFEST)
    manifest["deadlines"]["verification_clause"] = "C-order"
    manifest["pledge_policy"]["post_check"]["normal"]["clause"] = "C-credit"
    engine = Engine(load_ruleset(write_ruleset(tmp_path / "rs", manifest=manifest)))
    verify = ask(engine, TINY_CASE, TINY_CASE.verification)
    pledge = ask(engine, TINY_CASE, TINY_CASE.pledge)
    assert verify.deadline is not None and verify.deadline.clause == "C-order"
    assert pledge.deadline is not None and pledge.deadline.clause == "C-credit"
    engine.close()


def test_row_order_replaces_the_manifest_order_among_replacement_methods(tmp_path: Path) -> None:
    from ruleset_factory import row

    rows = [
        row("S1", "v-first", methods=["verification", "data_sharing"], sharing_source="库"),
        row("S1", "g-first", methods=["pledge", "data_sharing"], sharing_source="库"),
    ]
    with Engine(load_ruleset(write_ruleset(tmp_path / "rs", rows=rows))) as engine:
        assert ask(engine, TINY_CASE, ("S1", "v-first")).method is Method.VERIFICATION
        assert ask(engine, TINY_CASE, ("S1", "g-first")).method is Method.PLEDGE
        declined = ask(engine, TINY_CASE, ("S1", "g-first"), wants_pledge=False)
        assert declined.method is Method.DATA_SHARING  # the row's next method, not the manifest's


def test_statutory_limit_cites_the_manifest_clause(zibo_engine: Engine) -> None:
    row = next(r for r in zibo_engine.ruleset.rows if r.verification_limit and r.methods[0].value == "verification")
    decision = ask(zibo_engine, ZIBO_CASE, (row.service_item_code, row.certificate_id), sharing_online=False)
    assert decision.method is Method.VERIFICATION and decision.deadline is not None
    assert decision.deadline.clause == zibo_engine.ruleset.manifest.deadlines.statutory_limit_clause
    assert row.verification_limit is not None and row.verification_limit.basis in decision.deadline.rule


def test_memoised_deadlines_equal_fresh_ones_across_dates(tiny: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Date-only deadlines are memoised per engine (bounded): they must equal the calendar's own."""
    import nocert_rules.engine.core as engine_module

    monkeypatch.setattr(engine_module, "_DAY_DEADLINE_MEMO", 5)  # force the memo to clear often
    engine = Engine(tiny)
    cal = tiny.calendar
    try:
        for day in range(1, 29):
            for hour in (9, 16):
                when = f"2025-02-{day:02d}T{hour:02d}:30:00"
                case = Case(**{**TINY_CASE.__dict__, "when": when})
                verify = ask(engine, case, TINY_CASE.verification)
                start = datetime.fromisoformat(when).date()
                assert verify.deadline is not None
                assert verify.deadline.due_at == cal.close_of_business(cal.add_working_days(start, 2))
                pledge = ask(engine, case, TINY_CASE.pledge)
                assert pledge.post_check is not None and pledge.post_check.due_at is not None
                assert pledge.post_check.due_at == cal.close_of_business(cal.add_working_days(start, 10))
        assert len(engine._day_deadlines) <= 5
    finally:
        engine.close()
