"""一窗受理 intake: one service item, every certificate it needs, one applicant.

Run from the repository root:  python examples/intake.py
It prints, for each certificate, how it is handled, why (rule, clause) and by when.
"""

from __future__ import annotations

from pathlib import Path

from nocert_rules import Engine, load_ruleset

RULESET = Path(__file__).resolve().parent.parent / "rulesets" / "zibo"

SERVICE_ITEM = "370300-JF-0006"  # a benefit claim after a death, in the sample list
APPLICANT = {
    "kind": "person",
    "id_number": "370399198502150021",  # synthetic
    "name": "王某某",
    "credit": "normal",
}


def main() -> None:
    ruleset = load_ruleset(RULESET)
    engine = Engine(ruleset)
    rows = [row for row in ruleset.rows if row.service_item_code == SERVICE_ITEM]
    print(f"事项 {SERVICE_ITEM} {rows[0].service_item_name}: {len(rows)} 项证明 / certificates")
    print(f"规则集 ruleset {ruleset.name} {ruleset.version} sha256 {ruleset.sha256[:12]}…\n")
    for row in rows:
        decision = engine.decide(
            {
                "service_item": SERVICE_ITEM,
                "certificate": row.certificate_id,
                "applicant": APPLICANT,
                "requested_at": "2021-06-01T10:15:00",
                "sharing_online": row.certificate_id != "ZM-GA-0003",  # pretend one channel is down
                "request_id": f"demo-{row.certificate_id}",
            }
        )
        must = "（须申请人提交 / applicant must submit）" if decision.applicant_must_submit else ""
        label = ruleset.manifest.wording.method(decision.method).zh  # the ruleset names its methods
        print(f"■ {row.certificate_name} [{row.certificate_id}] → {label} {decision.method.value}{must}")
        print(f"  申请人 applicant: {decision.applicant.id_masked}")
        if decision.issuer:
            print(f"  出具单位 issuer: {decision.issuer}")
        if decision.deadline:
            print(f"  期限 due: {decision.deadline.due_at:%Y-%m-%d %H:%M} ({decision.deadline.rule})")
        for step in decision.trace:
            clause = step.citation.clause_id if step.citation else "-"
            print(f"  · [{step.effect}] {step.rule_id} ({clause}): {step.conclusion}")
        for warning in decision.warnings:
            print(f"  ! {warning}")
        print()


if __name__ == "__main__":
    main()
