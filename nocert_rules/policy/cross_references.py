"""Loading stage 5, check: every reference between the manifest, the list, the rules and the clauses.

Input: the parsed files (``References``: each file's model, or None when it did not validate,
and its located YAML for file:line). Output: problems, added to the load's ``Problems``; nothing
else changes. Each kind of reference is one small check with its own error, run from
``CHECKS`` in order; a check runs when the files it needs are valid. The clause ids the manifest
cites are a table of paths (``MANIFEST_CITATIONS``), walked by one loop.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel

from nocert_rules.enums import CreditLevel, Method
from nocert_rules.policy import conditions, versions
from nocert_rules.policy.certificate_list import ListRow
from nocert_rules.policy.manifest import Manifest
from nocert_rules.policy.problems import Problems
from nocert_rules.policy.rules import Clause, PolicyRule
from nocert_rules.policy.yaml_source import LocatedYaml

MAX_RULES = 400
"""durable_rules 2.0.28 has failed past about 480 rules in one ruleset; stay well below."""

Path_ = tuple[str | int, ...]

EVERY = "*"
"""In a citation path: every item of a list or a mapping (its key, an enum's value)."""
EVERY_TEXT = "*text"
"""In a citation path: every field of the model (``RecordClauses``' strings; with a further
step, that attribute of each field's value: ``DeadlineWording``'s entries' ``clause``)."""

MANIFEST_CITATIONS: tuple[Path_, ...] = (
    ("method_order_clause",),
    ("fallback", "clause"),
    ("pledge_policy", "barring_clause"),
    ("pledge_policy", "credit_repair_clause"),
    ("pledge_policy", "choice_clause"),
    ("pledge_policy", "post_check", EVERY, "clause"),
    ("deadlines", "verification_clause"),
    ("deadlines", "complaint_clause"),
    ("deadlines", "adjustment_clause"),
    ("deadlines", "publication_clause"),
    ("validity_clause",),
    ("deadlines", "statutory_limit_clause"),
    ("deadlines", "escalation", "clause"),
    ("deadlines", "wording", EVERY_TEXT, "clause"),
    ("wording", "methods", "clause"),
    ("wording", "trace", EVERY_TEXT, "clause"),
    ("wording", "warnings", EVERY_TEXT, "clause"),
    ("wording", "records", EVERY_TEXT, "clause"),
    ("wording", "complaints", "rule", "clause"),
    ("wording", "complaints", "default_ground", "clause"),
    ("records", EVERY_TEXT),
    ("records", "adjustment_causes", EVERY, "clause"),
    ("legal_basis_policy", "clause"),
    ("on_the_spot", "clause"),
    ("on_the_spot", "limit_clause"),
    ("verification", "channels_clause"),
    ("verification", "on_site_check", "clause"),
    ("accountability", "clause"),
    ("accountability", "exemption_clause"),
    # the clauses behind the manifest's readings and the records' procedures (issue 24)
    ("deadlines", "publication_schedule_clause"),
    ("deadlines", "minutes_unit_clause"),
    ("pledge_policy", "false_pledge_bar_clause"),
    ("pending_adjustment", "clause"),
    ("pending_adjustment", "reading_clause"),
    ("accountability", "exemption_application_clause"),
    ("accountability", "exemption_filing_clause"),
    ("accountability", "review_clause"),
)
"""Every place in manifest.yaml that holds a clause id (unset optional sections are skipped)."""

BLANK_IS_UNSET: frozenset[Path_] = frozenset({
    ("pledge_policy", "credit_repair_clause"),
    ("pledge_policy", "choice_clause"),
    ("validity_clause",),
    ("deadlines", "statutory_limit_clause"),
    ("on_the_spot", "limit_clause"),
})
"""Optional clause fields where an empty string means unset, as for None."""


@dataclass
class References:
    """What the check stage reads: each file's model (None: it did not validate) and its YAML."""

    problems: Problems
    manifest: Manifest | None
    manifest_doc: LocatedYaml
    rows: list[ListRow] | None
    cert_doc: LocatedYaml | None
    rules: list[PolicyRule] | None
    rule_doc: LocatedYaml | None
    clauses: list[Clause] | None
    clause_doc: LocatedYaml | None
    clause_ids: set[str] = field(default_factory=set)

    def cited(self, doc: LocatedYaml, path: Path_, clause_id: str) -> None:
        """A clause id must be in the clauses file (checked only when that file is valid)."""
        if self.clauses is not None and clause_id not in self.clause_ids:
            close = difflib.get_close_matches(clause_id, sorted(self.clause_ids), n=3)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            self.problems.add(doc.error(path, f"cites unknown clause {clause_id!r} (not in clauses file){hint}"))


def _walk(value: Any, path: Path_, pattern: Path_) -> Iterator[tuple[Path_, str]]:
    """The (path, text) of every string ``pattern`` reaches from ``value`` (None: skipped)."""
    if value is None:
        return
    if not pattern:
        if isinstance(value, str):
            yield path, value
        return
    step, rest = pattern[0], pattern[1:]
    if step == EVERY:
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            yield from _walk(item, (*path, key.value if isinstance(key, Enum) else key), rest)
    elif step == EVERY_TEXT:
        assert isinstance(value, BaseModel)
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name), (*path, name), rest)
    else:
        yield from _walk(getattr(value, str(step)), (*path, step), rest)


def manifest_citations(manifest: Manifest) -> Iterator[tuple[Path_, str]]:
    """(path in manifest.yaml, clause id) for every clause the manifest cites, in table order."""
    for pattern in MANIFEST_CITATIONS:
        for path, clause_id in _walk(manifest, (), pattern):
            if clause_id or pattern not in BLANK_IS_UNSET:
                yield path, clause_id


# ------------------------------------------------------------------ the checks, one per kind


def check_clauses(refs: References) -> None:
    """clauses.yaml: clause ids are unique; each clause's source is one of the manifest's."""
    if refs.clauses is None or refs.clause_doc is None:
        return
    sources = {s.id for s in refs.manifest.sources} if refs.manifest is not None else None
    for i, clause in enumerate(refs.clauses):
        if clause.id in refs.clause_ids:
            refs.problems.add(refs.clause_doc.error(("clauses", i, "id"), f"duplicate clause id {clause.id!r}"))
        refs.clause_ids.add(clause.id)
        if sources is not None and clause.source not in sources:
            refs.problems.add(refs.clause_doc.error(
                ("clauses", i, "source"), f"unknown source {clause.source!r}; manifest sources: {sorted(sources)}"
            ))


def check_manifest_citations(refs: References) -> None:
    """manifest.yaml: every clause id it cites (``MANIFEST_CITATIONS``) is in clauses.yaml."""
    if refs.manifest is None:
        return
    for path, clause_id in manifest_citations(refs.manifest):
        refs.cited(refs.manifest_doc, path, clause_id)


def check_secret_risk_categories(refs: References) -> None:
    """manifest.yaml: ``verification.secret_risk_categories`` are declared risk categories."""
    m = refs.manifest
    if m is None or m.verification is None:
        return
    for i, risk in enumerate(m.verification.secret_risk_categories):
        if risk not in m.pledge_policy.risk_categories:
            refs.problems.add(refs.manifest_doc.error(
                ("verification", "secret_risk_categories", i),
                f"unknown risk category {risk!r}; declared in pledge_policy.risk_categories: "
                f"{sorted(m.pledge_policy.risk_categories)}",
            ))


def check_post_check_plans(refs: References) -> None:
    """manifest.yaml: every credit level has a post-check plan, unless a PLEDGE block rule always blocks it."""
    if refs.manifest is None or refs.rules is None:
        return
    plans = refs.manifest.pledge_policy.post_check
    for level in CreditLevel:
        if level not in plans and not _post_check_always_blocked(refs.rules, level):
            refs.problems.add(refs.manifest_doc.error(
                ("pledge_policy", "post_check", level.value),
                f"no post-check plan for credit level {level.value!r}, and no PLEDGE block rule "
                f"always blocks it / 缺少信用等级 {level.value} 的核查安排（且无规则总是阻止其承诺）",
            ))


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


@dataclass
class _RowsSeen:
    """The rows checked so far, by key and by (service item, certificate name)."""

    by_key: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    by_name: dict[tuple[str, str], list[int]] = field(default_factory=dict)


def _row_duplicate(refs: References, seen: _RowsSeen, i: int, row: ListRow) -> int | None:
    """Rows sharing a key are dated versions: their windows must not overlap (policy/versions.py)."""
    assert refs.rows is not None and refs.cert_doc is not None
    rows = refs.rows
    clash = next((j for j in seen.by_key.get(row.key, ()) if versions.overlap(rows[j], row)), None)
    if clash is not None:
        first_line = refs.cert_doc.line_of(("rows", clash))
        dated = rows[clash].version != "always" or row.version != "always"
        refs.problems.add(refs.cert_doc.error(
            ("rows", i),
            f"duplicate row for service item {row.service_item_code} and certificate "
            f"{row.certificate_id} (first at line {first_line})"
            + (f": versions {rows[clash].version} and {row.version} overlap / 清单行版本有效期重叠"
               if dated else " / 清单行重复"),
        ))
    seen.by_key.setdefault(row.key, []).append(i)
    return clash


def _row_name_ambiguous(refs: References, seen: _RowsSeen, i: int, row: ListRow) -> None:
    """Two rows of one service item in force together may not share a certificate name."""
    assert refs.rows is not None and refs.cert_doc is not None
    rows = refs.rows
    name_key = (row.service_item_code, row.certificate_name)
    other = next((j for j in seen.by_name.get(name_key, ())
                  if rows[j].key != row.key and versions.overlap(rows[j], row)), None)
    if other is not None:
        first_line = refs.cert_doc.line_of(("rows", other))
        refs.problems.add(refs.cert_doc.error(
            ("rows", i, "certificate_name"),
            f"two rows of service item {row.service_item_code} share the certificate name "
            f"{row.certificate_name!r} (first at line {first_line}); a lookup by name would be "
            "ambiguous / 同一事项下证明名称重复",
        ))


def _row_on_the_spot(refs: References, i: int, row: ListRow) -> None:
    """A row marked 即办件 needs the manifest's ``on_the_spot`` section."""
    assert refs.cert_doc is not None
    if row.on_the_spot and refs.manifest is not None and refs.manifest.on_the_spot is None:
        refs.problems.add(refs.cert_doc.error(
            ("rows", i, "on_the_spot"),
            "the row marks its service item 即办件 but the manifest has no on_the_spot section "
            "(the pause rule and its clause) / 清单行标为即办件，但 manifest 未设 on_the_spot",
        ))


def _row_risk_categories(refs: References, i: int, row: ListRow) -> None:
    """A row's risk categories are declared in ``pledge_policy.risk_categories``."""
    assert refs.cert_doc is not None
    if refs.manifest is None:
        return
    known = refs.manifest.pledge_policy.risk_categories
    for j, risk in enumerate(row.risk_categories):
        if risk not in known:
            refs.problems.add(refs.cert_doc.error(
                ("rows", i, "risk_categories", j), f"unknown risk category {risk!r}; declared: {sorted(known)}",
            ))


def check_pending_adjustment(refs: References) -> None:
    """manifest ``pending_adjustment.methods`` are what the rules on ``request.adjustment_pending``
    offer, ranked so by ``method_order`` (the engine picks by method_order)."""
    m, rules = refs.manifest, refs.rules
    if m is None or m.pending_adjustment is None or rules is None:
        return
    methods = m.pending_adjustment.methods
    offered = {r.method for r in rules if r.effect == "offer" and r.when.get("request.adjustment_pending") is True}
    ranked = sorted(methods, key=m.method_order.index)
    if offered != set(methods):
        problem = (f"pending_adjustment.methods {[x.value for x in methods]} but the rules on "
                   f"request.adjustment_pending offer {sorted(x.value for x in offered)} / 清单调整期间的方式与规则不一致")
    elif ranked != methods:
        problem = (f"method_order ranks them {[x.value for x in ranked]}, not {[x.value for x in methods]} / "
                   "方式顺序与 method_order 不一致")
    else:
        return
    refs.problems.add(refs.manifest_doc.error(("pending_adjustment", "methods"), problem))


def check_rows(refs: References) -> None:
    """certificates.yaml, row by row: versions, names, 即办件, risk categories (in that order)."""
    if refs.rows is None or refs.cert_doc is None:
        return
    seen = _RowsSeen()
    for i, row in enumerate(refs.rows):
        clash = _row_duplicate(refs, seen, i, row)
        if clash is None:  # a repeated row: its repeated name is the same problem
            _row_name_ambiguous(refs, seen, i, row)
        seen.by_name.setdefault((row.service_item_code, row.certificate_name), []).append(i)
        _row_on_the_spot(refs, i, row)
        _row_risk_categories(refs, i, row)


def check_rules(refs: References) -> None:
    """rules.yaml: at most ``MAX_RULES``; unique ids; cited clauses known; conditions valid."""
    if refs.rules is None or refs.rule_doc is None:
        return
    doc = refs.rule_doc
    if len(refs.rules) > MAX_RULES:
        refs.problems.add(doc.error(("rules",), f"{len(refs.rules)} rules; durable_rules is unreliable past {MAX_RULES}"))
    rule_ids: set[str] = set()
    for i, rule in enumerate(refs.rules):
        if rule.id in rule_ids:
            refs.problems.add(doc.error(("rules", i, "id"), f"duplicate rule id {rule.id!r}"))
        rule_ids.add(rule.id)
        refs.cited(doc, ("rules", i, "clause"), rule.clause)
        for j, also in enumerate(rule.see_also):
            refs.cited(doc, ("rules", i, "see_also", j), also)
        try:
            conditions.validate(rule.when)
        except conditions.ConditionError as exc:
            refs.problems.add(doc.error(("rules", i, "when", *exc.path), exc.problem))


CHECKS: tuple[Callable[[References], None], ...] = (
    check_clauses,  # first: the others look clause ids up
    check_manifest_citations,
    check_secret_risk_categories,
    check_post_check_plans,
    check_pending_adjustment,
    check_rows,
    check_rules,
)


def check_references(refs: References) -> None:
    """Run every check of ``CHECKS`` on ``refs``; problems go to ``refs.problems``."""
    for check in CHECKS:
        check(refs)


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
    check_references(References(problems, manifest, manifest_doc, rows, cert_doc, rules, rule_doc, clauses, clause_doc))


__all__ = [
    "CHECKS",
    "MANIFEST_CITATIONS",
    "MAX_RULES",
    "References",
    "check_cross_references",
    "check_references",
    "manifest_citations",
]
