"""Cross-file checks: every reference between the manifest, the list, the rules and the clauses."""

from __future__ import annotations

import difflib

from nocert_rules.enums import CreditLevel, Method
from nocert_rules.policy import conditions, versions
from nocert_rules.policy.certificate_list import ListRow
from nocert_rules.policy.manifest import Manifest, RecordClauses
from nocert_rules.policy.problems import Problems
from nocert_rules.policy.rules import Clause, PolicyRule
from nocert_rules.policy.yaml_source import LocatedYaml

MAX_RULES = 400
"""durable_rules 2.0.28 has failed past about 480 rules in one ruleset; stay well below."""


def _post_check_always_blocked(rules: list[PolicyRule], level: CreditLevel) -> bool:
    """Some PLEDGE block rule holds whenever the applicant's credit is ``level``.

    Sound: the condition holds with only ``applicant.credit`` known, and an absent fact matches
    no test, so the rule's tests are on the credit alone (or one ``any`` branch is).
    """
    facts = {"applicant.credit": level.value}
    for rule in rules:
        if rule.method is not Method.PLEDGE or rule.effect != "block":
            continue
        try:
            conditions.validate(rule.when)
        except conditions.ConditionError:
            continue  # reported with the rules
        if conditions.evaluate(rule.when, facts):
            return True
    return False


def check_cross_references(
    problems: Problems,
    manifest: Manifest | None,
    manifest_doc: LocatedYaml,
    rows: list[ListRow] | None,
    cert_doc: LocatedYaml | None,
    rules: list[PolicyRule] | None,
    rule_doc: LocatedYaml | None,
    clauses: list[Clause] | None,
    clause_doc: LocatedYaml | None,
) -> None:
    """Every reference between the files; each part runs when the files it needs are valid."""
    report = problems.add
    clause_ids: set[str] = set()
    if clauses is not None and clause_doc is not None:
        sources = {s.id for s in manifest.sources} if manifest is not None else None
        for i, clause in enumerate(clauses):
            if clause.id in clause_ids:
                report(clause_doc.error(("clauses", i, "id"), f"duplicate clause id {clause.id!r}"))
            clause_ids.add(clause.id)
            if sources is not None and clause.source not in sources:
                report(clause_doc.error(
                    ("clauses", i, "source"), f"unknown source {clause.source!r}; manifest sources: {sorted(sources)}"
                ))

    def cited(doc: LocatedYaml, path: tuple[str | int, ...], clause_id: str) -> None:
        if clauses is not None and clause_id not in clause_ids:
            close = difflib.get_close_matches(clause_id, sorted(clause_ids), n=3)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            report(doc.error(path, f"cites unknown clause {clause_id!r} (not in clauses file){hint}"))

    if manifest is not None:
        m = manifest
        cited(manifest_doc, ("method_order_clause",), m.method_order_clause)
        cited(manifest_doc, ("fallback", "clause"), m.fallback.clause)
        cited(manifest_doc, ("pledge_policy", "barring_clause"), m.pledge_policy.barring_clause)
        for field in ("credit_repair_clause", "choice_clause"):
            if getattr(m.pledge_policy, field):
                cited(manifest_doc, ("pledge_policy", field), getattr(m.pledge_policy, field))
        for level, plan in m.pledge_policy.post_check.items():
            cited(manifest_doc, ("pledge_policy", "post_check", level.value, "clause"), plan.clause)
        for field in ("verification_clause", "complaint_clause", "adjustment_clause", "publication_clause"):
            cited(manifest_doc, ("deadlines", field), getattr(m.deadlines, field))
        if m.validity_clause:
            cited(manifest_doc, ("validity_clause",), m.validity_clause)
        if m.deadlines.statutory_limit_clause:
            cited(manifest_doc, ("deadlines", "statutory_limit_clause"), m.deadlines.statutory_limit_clause)
        if m.deadlines.escalation is not None:
            cited(manifest_doc, ("deadlines", "escalation", "clause"), m.deadlines.escalation.clause)
        for field in RecordClauses.model_fields:
            value = getattr(m.records, field)
            if isinstance(value, str):
                cited(manifest_doc, ("records", field), value)
        for i, cause in enumerate(m.records.adjustment_causes):
            cited(manifest_doc, ("records", "adjustment_causes", i, "clause"), cause.clause)
        if m.legal_basis_policy is not None:
            cited(manifest_doc, ("legal_basis_policy", "clause"), m.legal_basis_policy.clause)
        if m.on_the_spot is not None:
            cited(manifest_doc, ("on_the_spot", "clause"), m.on_the_spot.clause)
            if m.on_the_spot.limit_clause:
                cited(manifest_doc, ("on_the_spot", "limit_clause"), m.on_the_spot.limit_clause)
        if m.verification is not None:
            cited(manifest_doc, ("verification", "channels_clause"), m.verification.channels_clause)
            if m.verification.on_site_check is not None:
                cited(manifest_doc, ("verification", "on_site_check", "clause"), m.verification.on_site_check.clause)
            for i, risk in enumerate(m.verification.secret_risk_categories):
                if risk not in m.pledge_policy.risk_categories:
                    report(manifest_doc.error(
                        ("verification", "secret_risk_categories", i),
                        f"unknown risk category {risk!r}; declared in pledge_policy.risk_categories: "
                        f"{sorted(m.pledge_policy.risk_categories)}",
                    ))
        if m.accountability is not None:
            cited(manifest_doc, ("accountability", "clause"), m.accountability.clause)
            cited(manifest_doc, ("accountability", "exemption_clause"), m.accountability.exemption_clause)
        if rules is not None:
            for level in CreditLevel:
                if level not in m.pledge_policy.post_check and not _post_check_always_blocked(rules, level):
                    report(manifest_doc.error(
                        ("pledge_policy", "post_check", level.value),
                        f"no post-check plan for credit level {level.value!r}, and no PLEDGE block rule "
                        f"always blocks it / 缺少信用等级 {level.value} 的核查安排（且无规则总是阻止其承诺）",
                    ))

    if rows is not None and cert_doc is not None:
        # Rows sharing a key (or a certificate name) are dated versions: their windows must not
        # overlap (policy/versions.py).
        seen: dict[tuple[str, str], list[int]] = {}
        seen_names: dict[tuple[str, str], list[int]] = {}
        known_risks = manifest.pledge_policy.risk_categories if manifest is not None else None
        for i, row in enumerate(rows):
            clash = next((j for j in seen.get(row.key, ()) if versions.overlap(rows[j], row)), None)
            if clash is not None:
                first_line = cert_doc.line_of(("rows", clash))
                dated = rows[clash].version != "always" or row.version != "always"
                report(cert_doc.error(
                    ("rows", i),
                    f"duplicate row for service item {row.service_item_code} and certificate "
                    f"{row.certificate_id} (first at line {first_line})"
                    + (f": versions {rows[clash].version} and {row.version} overlap / 清单行版本有效期重叠"
                       if dated else " / 清单行重复"),
                ))
            seen.setdefault(row.key, []).append(i)
            name_key = (row.service_item_code, row.certificate_name)
            if clash is None:  # a repeated row: its repeated name is the same problem
                other = next((j for j in seen_names.get(name_key, ())
                              if rows[j].key != row.key and versions.overlap(rows[j], row)), None)
                if other is not None:
                    first_line = cert_doc.line_of(("rows", other))
                    report(cert_doc.error(
                        ("rows", i, "certificate_name"),
                        f"two rows of service item {row.service_item_code} share the certificate name "
                        f"{row.certificate_name!r} (first at line {first_line}); a lookup by name would be "
                        "ambiguous / 同一事项下证明名称重复",
                    ))
            seen_names.setdefault(name_key, []).append(i)
            if row.on_the_spot and manifest is not None and manifest.on_the_spot is None:
                report(cert_doc.error(
                    ("rows", i, "on_the_spot"),
                    "the row marks its service item 即办件 but the manifest has no on_the_spot section "
                    "(the pause rule and its clause) / 清单行标为即办件，但 manifest 未设 on_the_spot",
                ))
            for j, risk in enumerate(row.risk_categories):
                if known_risks is not None and risk not in known_risks:
                    report(cert_doc.error(
                        ("rows", i, "risk_categories", j),
                        f"unknown risk category {risk!r}; declared: {sorted(known_risks)}",
                    ))

    if rules is not None and rule_doc is not None:
        if len(rules) > MAX_RULES:
            report(rule_doc.error(("rules",), f"{len(rules)} rules; durable_rules is unreliable past {MAX_RULES}"))
        rule_ids: set[str] = set()
        for i, rule in enumerate(rules):
            if rule.id in rule_ids:
                report(rule_doc.error(("rules", i, "id"), f"duplicate rule id {rule.id!r}"))
            rule_ids.add(rule.id)
            cited(rule_doc, ("rules", i, "clause"), rule.clause)
            for j, also in enumerate(rule.see_also):
                cited(rule_doc, ("rules", i, "see_also", j), also)
            try:
                conditions.validate(rule.when)
            except conditions.ConditionError as exc:
                report(rule_doc.error(("rules", i, "when", *exc.path), exc.problem))

