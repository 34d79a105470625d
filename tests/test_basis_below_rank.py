"""``abolish.basis-below-rank`` alone abolishes a shipped row that rests only on a 部门规章
(二(一): 凡是无法律法规依据的证明事项一律取消; manifest ``legal_basis_policy``), so deleting
the rule changes the decision (issue 24, item 5: the clause matrix names a test that bites)."""

from __future__ import annotations

from pathlib import Path

from test_repealed_basis import without_rule

from nocert_rules import Engine, Method, Ruleset

RULE = "abolish.basis-below-rank"
ITEM, CERT = "370300-XK-0003", "ZM-WJ-0002"  # 医师执业注册 / 从业人员健康证明: 《医师执业注册管理办法》 (部门规章) only


def test_a_row_resting_only_on_a_departmental_rule_is_abolished_by_this_rule_alone(zibo: Ruleset, tmp_path: Path) -> None:
    row = zibo.find_row(ITEM, CERT)
    assert row is not None and [b.rank for b in row.legal_basis] == ["部门规章"]
    req = {"service_item": ITEM, "certificate": CERT, "requested_at": "2021-05-06T10:00",
           "applicant": {"kind": "person", "id_number": "370399198804160017"}}
    with Engine(zibo) as with_rule, Engine(without_rule(tmp_path, RULE)) as without:
        kept, dropped = with_rule.decide(req), without.decide(req)
    offers = [s for s in kept.trace if s.effect == "offer"]
    assert kept.method is Method.ABOLISH and [s.rule_id for s in offers] == [RULE]
    assert offers[0].citation.clause_id == "二(一)" and "一律取消" in offers[0].citation.text
    assert dropped.method is not Method.ABOLISH  # no other rule abolishes it
