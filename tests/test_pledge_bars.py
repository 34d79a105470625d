"""Issue 13, findings 1-3 and 8: pledge bars, the applicant's choice, credit repair, citations.

三(五)3: 对存在不良记录或曾作出虚假承诺等情形的，不适用告知承诺制; 国办发〔2020〕42号: the
applicant chooses, and bars last until credit repair. Each test fails on the behaviour before
issue 13 (ordinary bad records ignored, library false pledges never fed back, repair lifting the
blacklist only, wants_pledge presumed true, 第九条 cited for every submission).
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import PERSON_ID, ZIBO

from nocert_rules import Applicant, Engine, Method, Ruleset, load_ruleset
from nocert_rules.models import SHANGHAI
from nocert_rules.records import RecordProblem
from nocert_rules.records.blacklist import BlacklistStore, MemoryBlacklist, SqliteBlacklist
from nocert_rules.records.pledge import open_pledge, record_post_check, render_pledge_text
from nocert_rules.records.provided import record_provided

KEY = b"issue13-test-key-0123456789abcdef"
ITEM, CERT = "370300-QR-0002", "ZM-MZ-0001"  # data sharing, then pledge; sharing offline below


def request(at: str = "2021-06-01T10:00:00", **applicant: Any) -> dict[str, Any]:
    return {
        "service_item": ITEM,
        "certificate": CERT,
        "applicant": {"kind": "person", "id_number": PERSON_ID, **applicant},
        "requested_at": at,
        "sharing_online": False,
        "wants_pledge": True,
    }


def blocks(decision: Any) -> list[str]:
    return [s.rule_id for s in decision.trace if s.effect == "block"]


# ---------------------------------------------------------------- finding 1: ordinary bad record


def test_an_ordinary_bad_record_bars_the_pledge(zibo_engine: Engine) -> None:
    clean = zibo_engine.decide(request())
    barred = zibo_engine.decide(request(bad_record=True))
    assert clean.method is Method.PLEDGE
    assert barred.method is Method.PROXY and "pledge.bad-record" in blocks(barred)
    step = next(s for s in barred.trace if s.rule_id == "pledge.bad-record")
    assert step.citation is not None and step.citation.clause_id == "三(五)3"
    assert "存在不良记录" in step.citation.text
    assert barred.applicant.bad_record is True


# ---------------------------------------------------------------- finding 1: library false pledges


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlacklistStore:
    if request.param == "memory":
        return MemoryBlacklist(KEY)
    return SqliteBlacklist(tmp_path / "blacklist.sqlite", KEY)


def _false_pledge(engine: Engine, store: BlacklistStore, found: datetime) -> None:
    with Engine(engine.ruleset, key=KEY) as keyed:  # the pledge record checks the applicant's keyed hash
        decision = keyed.decide(request("2021-03-01T10:00:00"))
    assert decision.method is Method.PLEDGE
    pledge = open_pledge(decision, Applicant(kind="person", id_number=PERSON_ID), KEY, record_id="p-1")
    result = record_post_check(pledge, "found_false", found, note="承诺的婚姻状况与登记信息不符", blacklist_id="fp-1")
    assert result.blacklist is not None
    store.add(result.blacklist)
    store.add(result.blacklist)  # idempotent


def test_a_false_pledge_found_by_the_library_bars_later_pledges(zibo: Ruleset, store: BlacklistStore) -> None:
    engine = Engine(zibo, blacklist=store)
    _false_pledge(engine, store, datetime(2021, 3, 10, 15, 0, tzinfo=SHANGHAI))
    assert len(store.entries()) == 1
    before = engine.decide(request("2021-03-10T14:00:00"))  # before the finding
    after = engine.decide(request("2021-03-10T16:00:00"))
    assert before.method is Method.PLEDGE
    assert after.method is Method.PROXY and "pledge.blacklisted" in blocks(after)
    assert after.applicant.false_pledge_on_record is True and after.applicant.on_blacklist is True
    # the same engine without the store does not know it (the host's flags are all clear)
    assert Engine(zibo).decide(request("2021-03-10T16:00:00")).method is Method.PLEDGE
    # a batch consults the store too
    assert engine.decide_many([request("2021-03-10T16:00:00")])[0].method is Method.PROXY  # type: ignore[union-attr]


def test_repair_recorded_in_the_store_lifts_the_bar_from_the_next_day(zibo: Ruleset, store: BlacklistStore) -> None:
    engine = Engine(zibo, blacklist=store)
    _false_pledge(engine, store, datetime(2021, 3, 10, 15, 0, tzinfo=SHANGHAI))
    store.record_repair(store.ref(PERSON_ID), date(2021, 5, 1))
    store.record_repair(store.ref(PERSON_ID), date(2021, 4, 1))  # an older repair does not undo it
    assert engine.decide(request("2021-05-01T10:00:00")).method is Method.PROXY  # repair day itself
    lifted = engine.decide(request("2021-05-02T10:00:00"))
    assert lifted.method is Method.PLEDGE and lifted.applicant.credit_repaired is True


def test_a_repair_before_the_false_pledge_does_not_lift_it(zibo: Ruleset, store: BlacklistStore) -> None:
    engine = Engine(zibo, blacklist=store)
    _false_pledge(engine, store, datetime(2021, 3, 10, 15, 0, tzinfo=SHANGHAI))
    old = engine.decide(request("2021-06-01T10:00:00", credit_repaired_on="2021-03-01"))
    assert old.method is Method.PROXY and "pledge.blacklisted" in blocks(old)
    new = engine.decide(request("2021-06-01T10:00:00", credit_repaired_on="2021-04-01"))
    assert new.method is Method.PLEDGE


def test_stores_keep_keyed_hashes_only(tmp_path: Path, zibo_engine: Engine) -> None:
    path = tmp_path / "b.sqlite"
    store = SqliteBlacklist(path, KEY)
    _false_pledge(zibo_engine, store, datetime(2021, 3, 10, 15, 0, tzinfo=SHANGHAI))
    store.record_repair(store.ref(PERSON_ID), date(2021, 5, 1))
    store.close()
    assert PERSON_ID.encode() not in path.read_bytes()
    reopened = SqliteBlacklist(path, KEY)
    assert reopened.false_pledge_status(PERSON_ID).repaired_on == date(2021, 5, 1)
    assert [e.id for e in reopened.entries()] == ["fp-1"]
    with pytest.raises(RecordProblem, match="keyed hash"):
        reopened.record_repair(PERSON_ID, date(2021, 5, 1))
    with pytest.raises(RecordProblem, match="key"):
        MemoryBlacklist(b"")
    # another key sees nobody
    assert SqliteBlacklist(path, b"another-key").false_pledge_status(PERSON_ID).found_at == ()


# ---------------------------------------------------------------- finding 3: what repair lifts


@pytest.mark.parametrize(
    ("bar", "rule"),
    [
        ({"serious_bad_record": True}, "pledge.serious-bad-record"),
        ({"credit": "untrustworthy"}, "pledge.untrustworthy"),
        ({"bad_record": True}, "pledge.bad-record"),
        ({"blacklisted_since": "2021-01-05"}, "pledge.blacklisted"),
    ],
)
def test_repair_lifts_every_credit_bar_from_the_day_after(zibo_engine: Engine, bar: dict[str, Any], rule: str) -> None:
    barred = zibo_engine.decide(request(**bar))
    assert barred.method is Method.PROXY and rule in blocks(barred)
    repaired = zibo_engine.decide(request(**bar, credit_repaired_on="2021-03-01"))
    assert repaired.method is Method.PLEDGE, repaired.trace
    same_day = zibo_engine.decide(request(**bar, credit_repaired_on="2021-06-01"))
    assert same_day.method is Method.PROXY and rule in blocks(same_day)
    day_before = zibo_engine.decide(request(**bar, credit_repaired_on="2021-05-31"))
    assert day_before.method is Method.PLEDGE


def test_the_boundary_day_is_the_manifests_choice(tmp_path: Path) -> None:
    folder = tmp_path / "zibo"
    shutil.copytree(ZIBO, folder)
    manifest = folder / "manifest.yaml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace(
            "credit_repair_counts_from: next_day", "credit_repair_counts_from: same_day"
        ),
        encoding="utf-8",
    )
    with Engine(load_ruleset(folder)) as engine:
        assert engine.decide(request(bad_record=True, credit_repaired_on="2021-06-01")).method is Method.PLEDGE
        assert engine.decide(request(bad_record=True, credit_repaired_on="2021-06-02")).method is Method.PROXY


def test_the_repair_rules_cite_the_clause_that_explains_them(zibo: Ruleset) -> None:
    policy = zibo.manifest.pledge_policy
    assert policy.credit_repair_clause is not None
    text = zibo.clauses[policy.credit_repair_clause].text
    assert "在信用修复前" in text and "次日" in text
    rules = {r.id: r for r in zibo.rules}
    for rule_id in ("pledge.serious-bad-record", "pledge.untrustworthy", "pledge.bad-record"):
        assert rules[rule_id].when.get("applicant.credit_repaired") is False
        assert policy.credit_repair_clause in rules[rule_id].see_also
    assert "applicant.credit_repaired" not in str(rules["pledge.barred-by-risk"].when)


# ---------------------------------------------------------------- finding 2: the applicant's choice


def test_no_choice_recorded_offers_both_in_one_decision(zibo_engine: Engine) -> None:
    req = request()
    del req["wants_pledge"]
    decision = zibo_engine.decide(req)
    assert decision.method is Method.PLEDGE and decision.awaiting_choice is True
    alt = decision.if_declined
    assert alt is not None and alt.method is Method.PROXY
    assert "pledge.applicant-declines" in blocks(alt)
    choice = next(s for s in decision.trace if s.rule_id == "engine.await-choice")
    assert choice.citation is not None and "自主选择" in choice.citation.clause_id
    assert decision.trace[-1].rule_id == "engine.choose"
    # the pledge form is not rendered before the choice
    with pytest.raises(RecordProblem, match="not chosen"):
        render_pledge_text(zibo_engine.ruleset, decision)
    with pytest.raises(RecordProblem, match="not chosen"):
        open_pledge(decision, Applicant(kind="person", id_number=PERSON_ID), KEY)
    chosen = zibo_engine.decide({**req, "wants_pledge": True})
    assert chosen.awaiting_choice is False and chosen.if_declined is None
    assert "告知承诺书" in render_pledge_text(zibo_engine.ruleset, chosen)
    declined = zibo_engine.decide({**req, "wants_pledge": False})
    assert declined.method is alt.method and declined.trace == alt.trace


def test_the_declined_alternative_carries_its_deadline(zibo_engine: Engine) -> None:
    decision = zibo_engine.decide(
        {"service_item": "370300-XK-0012", "certificate": "ZM-JY-0004", "requested_at": "2021-06-01T10:00:00",
         "applicant": {"kind": "person", "id_number": PERSON_ID}}
    )
    assert decision.awaiting_choice and decision.if_declined is not None
    assert decision.if_declined.method is Method.VERIFICATION
    assert decision.if_declined.deadline is not None
    assert decision.if_declined.deadline.due_at == datetime(2021, 6, 3, 17, 0, tzinfo=SHANGHAI)
    assert decision.post_check is not None  # the pledge's own plan is there as well


def test_the_default_is_unset() -> None:
    from nocert_rules.models import DecisionRequest

    assert DecisionRequest.model_fields["wants_pledge"].default is None


# ---------------------------------------------------------------- finding 8: citations


def test_provided_document_cites_the_clause_of_its_situation(zibo_engine: Engine) -> None:
    later = datetime(2021, 5, 6, 10, 20, tzinfo=SHANGHAI)
    base = {"applicant": {"kind": "person", "id_number": PERSON_ID}, "requested_at": "2021-05-06T10:00:00"}
    moved = zibo_engine.decide({**base, "service_item": "370300-QR-0002", "certificate": "ZM-ZJ-0003", "provides_certificate": True})
    assert record_provided(moved, received_by="窗口", at=later).clause == "附件2 第九条"
    compelled = zibo_engine.decide({**base, "service_item": "370300-JF-0006", "certificate": "ZM-FY-0002", "proxy_authorized": False})
    assert compelled.applicant_must_submit
    record = record_provided(compelled, received_by="窗口", at=later)
    assert record.clause == "三(三)3" and record.events[-1].note == "三(三)3"
    shared = zibo_engine.decide({**base, "service_item": "370300-XK-0001", "certificate": "ZM-SJ-0001", "provides_certificate": True})
    assert shared.method is Method.APPLICANT_PROVIDED
    assert shared.trace[0].rule_id == "provided.applicant-offers-other"
    assert record_provided(shared, received_by="窗口", at=later).clause == "二(二)"


def test_the_fallback_reason_matches_its_clause(zibo: Ruleset) -> None:
    fb = zibo.manifest.fallback
    assert fb.clause == "三(三)3" and "授权" in fb.reason and "记录" not in fb.reason
    assert "授权委托" in zibo.clauses[fb.clause].text


def test_applicant_offers_cites_ninth_article_only_for_verification_rows(zibo: Ruleset) -> None:
    rules = {r.id: r for r in zibo.rules}
    assert rules["provided.applicant-offers"].when["row.allows_verification"] is True
    assert rules["provided.applicant-offers"].clause == "附件2 第九条"
    assert rules["provided.applicant-offers-other"].when["row.allows_verification"] is False


ISOLATING_ROW = """
  - service_item_code: "370300-QR-0009"
    service_item_name: 公租房申请
    certificate_id: ZM-CW-0009
    certificate_name: 邻里关系证明（村居委会出具）
    legal_basis: null
    issuer: 村（居）委会
    issuer_department: civil_affairs
    methods: [verification]
    records: paper
    risk_categories: []
    status: retained
"""
"""A published-list error: retained with a method but no legal basis. ``lint`` refuses it
(retained-without-basis), so the shipped sample cannot carry it; the engine must still abolish it."""


def _variant(tmp_path: Path, drop_rule: str | None = None) -> Ruleset:
    folder = tmp_path / "zibo"
    if not folder.exists():
        shutil.copytree(ZIBO, folder)
        certs = folder / "certificates.yaml"
        certs.write_text(certs.read_text(encoding="utf-8") + ISOLATING_ROW, encoding="utf-8")
    if drop_rule:
        rules_file = folder / "rules.yaml"
        data = yaml.safe_load(rules_file.read_text(encoding="utf-8"))
        data["rules"] = [r for r in data["rules"] if r["id"] != drop_rule]
        rules_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_ruleset(folder)


def test_no_legal_basis_cites_the_plan_where_it_says_so(zibo: Ruleset, tmp_path: Path) -> None:
    rule = next(r for r in zibo.rules if r.id == "abolish.no-legal-basis")
    assert rule.clause == "三(一)1" and "一" in rule.see_also
    assert "没有法律法规规定的证明事项一律取消" in zibo.clauses[rule.clause].text
    assert "法无规定一律取消" in zibo.clauses["一"].text
    with Engine(_variant(tmp_path)) as engine:
        decision = engine.decide(
            {"service_item": "370300-QR-0009", "certificate": "ZM-CW-0009", "requested_at": "2021-05-06T10:00:00",
             "applicant": {"kind": "person", "id_number": PERSON_ID}}
        )
    assert decision.method is Method.ABOLISH and not decision.applicant_must_submit
    step = decision.trace[0]
    assert step.rule_id == "abolish.no-legal-basis" and [c.clause_id for c in step.see_also] == ["一", "二(一)"]
    assert [s.rule_id for s in decision.trace if s.effect == "offer"] == ["abolish.no-legal-basis"]


def test_a_row_isolates_abolish_no_legal_basis(tmp_path: Path) -> None:
    """With the isolating row, removing abolish.no-legal-basis changes exactly that row's outcome
    (on the shipped sample no row did: every row without a basis is also marked abolished)."""
    with_rule = _variant(tmp_path)
    without = _variant(tmp_path, drop_rule="abolish.no-legal-basis")
    changed = []
    with Engine(with_rule) as a, Engine(without) as b:
        for row in with_rule.rows:
            req = {"service_item": row.service_item_code, "certificate": row.certificate_id,
                   "requested_at": "2021-05-06T10:00:00", "applicant": {"kind": "person", "id_number": PERSON_ID}}
            if a.decide(req).method is not b.decide(req).method:
                changed.append(row.key)
    assert changed == [("370300-QR-0009", "ZM-CW-0009")]
