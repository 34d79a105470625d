"""Decision plans: the ruleset compiled, per list row version, into what deciding it needs.

A row version's plan (``RowPlan``) holds what depends on the row and the ruleset alone, computed
once: the row's facts (``row.*``, ``request.listed``); its rules, each condition specialised to
those facts (``compiled.specialise``: a rule that cannot hold for the row is dropped, one whose
row-side tests all hold keeps only its request-side ones), grouped by method in the order the
row tries them (the manifest's order, 附件3 第三条, with the row's own order among the
replacement methods); and the constant parts of its Decisions, frozen and shared: trace steps
with their citations (clause text), issuer, names, the engine's choice and fallback steps, each
conclusion in the ruleset's words (manifest ``wording``: ``methods`` and ``trace``), worded once.
Rows alike in every row fact a rule reads and in their order share one ``RulePlan``.

``RulePlan.walk`` takes the methods in order; the first with a rule offering it and none
blocking it is chosen, blocked ones stay in the trace with their rules and clauses (what
``engine.core`` documents). Which rules hold: the specialised predicates on the request's facts
(compiled backend), or membership in what the caller says fired (durable_rules).
Thread-safe: plans are immutable; the memo tables only ever gain equal entries.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from nocert_rules.engine.compiled import Predicate, specialise
from nocert_rules.enums import Method, ReplacementMethod
from nocert_rules.models import Citation, Decision, TraceStep
from nocert_rules.policy import conditions
from nocert_rules.policy.ruleset import ListRow, PolicyRule, Ruleset
from nocert_rules.worktime.wording import say


@dataclass(frozen=True, slots=True)
class Entry:
    """One rule of a plan: its id, its condition for the row (``None``: holds whatever the
    request), the trace step it adds when it fires."""

    rule_id: str
    holds: Predicate | None
    step: TraceStep


@dataclass(frozen=True, slots=True)
class Group:
    """The rules offering and blocking one method, each in file order."""

    method: Method
    offers: tuple[Entry, ...]
    blocks: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class RulePlan:
    """The rules of the rows that share their read row facts and method order."""

    groups: tuple[Group, ...]

    def walk(
        self, facts: Mapping[str, Any], fired: Collection[str] | None = None
    ) -> tuple[Method | None, list[TraceStep]]:
        """The method chosen (``None``: none; the fallback applies) and the trace steps so far.
        Which rules hold: those in ``fired`` (what a backend fired), else each one's condition
        for the row on ``facts``."""
        trace: list[TraceStep] = []
        for group in self.groups:
            offers = _holding(group.offers, facts, fired)
            if not offers:
                continue
            trace += offers
            blocks = _holding(group.blocks, facts, fired)
            if blocks:
                trace += blocks
                continue
            return group.method, trace
        return None, trace


def _holding(entries: tuple[Entry, ...], facts: Mapping[str, Any], fired: Collection[str] | None) -> list[TraceStep]:
    """The steps of the entries that hold (in ``fired``, else by their condition on ``facts``)."""
    if fired is None:
        return [e.step for e in entries if e.holds is None or e.holds(facts)]
    return [e.step for e in entries if e.rule_id in fired]


@dataclass(frozen=True, slots=True)
class RowPlan:
    """A row version's plan (``row`` None: the plan of every request whose certificate is not listed)."""

    row: ListRow | None
    rules: RulePlan
    facts: Mapping[str, Any]
    """The ``row.*`` facts, as ``facts_for`` gives them (none for unlisted)."""
    source: str | None
    """The ruleset (level) whose row this is; ``None`` for unlisted."""
    version: str | None
    """The row version's window (``ListRow.version``: the stamp's ``row_version``); ``None`` for unlisted."""
    fields: Mapping[str, Any]
    """Every field of a Decision of this row, in the model's order: those that come from the row
    alone (names, issuer, records, source) filled, the request's ones ``None`` (and not awaiting
    a choice): ``engine.core`` copies it and sets the request's."""


def row_facts(ruleset: Ruleset, row: ListRow) -> dict[str, Any]:
    """The ``row.*`` facts (``conditions.FACTS``): they depend on the frozen row and the manifest."""
    barring = set(ruleset.manifest.pledge_policy.barring_risk_categories)
    return {
        "row.service_item_code": row.service_item_code,
        "row.certificate_id": row.certificate_id,
        "row.status": row.status.value,
        "row.has_legal_basis": row.has_legal_basis,
        "row.legal_basis_sufficient": ruleset.basis_sufficient(row),
        "row.allows_data_sharing": ReplacementMethod.DATA_SHARING in row.methods,
        "row.allows_pledge": ReplacementMethod.PLEDGE in row.methods,
        "row.allows_verification": ReplacementMethod.VERIFICATION in row.methods,
        "row.has_sharing_source": bool(row.sharing_source),
        "row.records": row.records.value,
        "row.pledge_barring_risk": bool(barring.intersection(row.risk_categories)),
        "row.issuer_department": row.issuer_department,
    }


def decision_fields(row: ListRow | None, source: str | None) -> dict[str, Any]:
    """A Decision's fields with those that depend on its row version alone (``row`` None: not
    listed) filled, the others ``None``; in the model's field order."""
    fields: dict[str, Any] = dict.fromkeys(Decision.model_fields)
    fields.update(
        service_item_name=row.service_item_name if row else None,
        certificate_id=row.certificate_id if row else None,
        certificate_name=row.certificate_name if row else None,
        listed=row is not None,
        issuer=row.issuer if row else None,
        records=row.records if row else None,
        row_source=source,
        awaiting_choice=False,
    )
    return fields


def _row_side(name: str) -> bool:
    return name.startswith("row.") or name == "request.listed"


class Plans:
    """The plans of one engine's ruleset, compiled on a row version's first decision, then kept
    for the engine's life (one per row version; a list of 100,000 rows is not compiled up front)."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self._citations: dict[str, Citation] = {}
        self._wording = ruleset.manifest.wording
        self._steps: dict[Any, TraceStep] = {}
        read: set[str] = set()
        for rule in ruleset.rules:
            read |= conditions.facts_named(rule.when)
        self._read_row_side = tuple(sorted(n for n in read if _row_side(n)))
        self._rule_plans: dict[tuple[Any, ...], RulePlan] = {}
        self._rows: dict[int, RowPlan] = {}
        self._unlisted = self._plan(None)

    def of(self, row: ListRow | None) -> RowPlan:
        """The plan of ``row`` (compiled on first use)."""
        if row is None:
            return self._unlisted
        plan = self._rows.get(id(row))
        if plan is None or plan.row is not row:
            plan = self._rows[id(row)] = self._plan(row)
        return plan

    def _plan(self, row: ListRow | None) -> RowPlan:
        facts = row_facts(self.ruleset, row) if row is not None else {}
        # An unlisted request has no row.* facts: absent (None) satisfies no test on them.
        known = {**dict.fromkeys(n for n in self._read_row_side if n.startswith("row.")), **facts,
                 "request.listed": row is not None}
        order = candidate_order(self.ruleset, row)
        key = (tuple(known.get(n) for n in self._read_row_side), order)
        rules = self._rule_plans.get(key)
        if rules is None:
            rules = self._rule_plans[key] = self._rule_plan(known, order)
        source = self.ruleset.source_of(row) if row is not None else None
        version = row.version if row is not None else None
        return RowPlan(row, rules, facts, source, version, decision_fields(row, source))

    def _rule_plan(self, known: Mapping[str, Any], order: tuple[Method, ...]) -> RulePlan:
        offers: dict[Method, list[Entry]] = {}
        blocks: dict[Method, list[Entry]] = {}
        for rule in self.ruleset.rules:
            holds = specialise(rule.when, known)
            if holds is False:
                continue
            entry = Entry(rule.id, None if holds is True else holds, self.rule_step(rule))
            (offers if rule.effect == "offer" else blocks).setdefault(rule.method, []).append(entry)
        return RulePlan(tuple(
            Group(m, tuple(offers[m]), tuple(blocks.get(m, ()))) for m in order if offers.get(m)
        ))

    # ------------------------------------------------------------ the constant parts

    def citation(self, clause_id: str) -> Citation:
        citation = self._citations.get(clause_id)
        if citation is None:
            citation = self._citations[clause_id] = self.ruleset.citation(clause_id)
        return citation

    def rule_step(self, rule: PolicyRule) -> TraceStep:
        """The trace step of a rule that fired: it depends on the rule alone."""
        step = self._steps.get(rule.id)
        if step is None:
            words = self._wording
            text = words.trace.offered if rule.effect == "offer" else words.trace.blocked
            step = self._steps[rule.id] = TraceStep(
                rule_id=rule.id,
                method=rule.method,
                effect=rule.effect,
                conclusion=say(text, method=words.method(rule.method), reason=rule.reason),
                citation=self.citation(rule.clause),
                see_also=[self.citation(c) for c in rule.see_also],
            )
        return step

    def final_step(self, chosen: Method | None) -> tuple[Method, bool, TraceStep]:
        """The method decided, whether the applicant must submit, and the engine's last step:
        its choice, or the manifest's fallback when no method is left (``chosen`` None)."""
        key = ("choose", chosen)
        step = self._steps.get(key)
        m = self.ruleset.manifest
        if chosen is None:
            fb = m.fallback
            if step is None:
                step = self._steps[key] = TraceStep(
                    rule_id="manifest.fallback",
                    method=fb.method,
                    effect="fallback",
                    conclusion=say(self._wording.trace.fallback, method=self._wording.method(fb.method),
                                   reason=fb.reason),
                    citation=self.citation(fb.clause),
                )
            return fb.method, fb.applicant_must_submit, step
        if step is None:
            step = self._steps[key] = TraceStep(
                rule_id="engine.choose",
                method=chosen,
                effect="choose",
                conclusion=say(self._wording.trace.chosen, method=self._wording.method(chosen)),
                citation=self.citation(m.method_order_clause),
            )
        return chosen, False, step

    def source_step(self, source: str, method: Method) -> TraceStep:
        """Which level's row decided, in a ruleset that extends another (policy/overlay.py)."""
        key = ("source:" + source, method)
        step = self._steps.get(key)
        if step is None:
            trace = self._wording.trace
            step = self._steps[key] = TraceStep(
                rule_id="engine.row-source",
                method=method,
                effect="choose",
                conclusion=say(trace.row_own if source == self.ruleset.name else trace.row_inherited, source=source),
            )
        return step


def candidate_order(ruleset: Ruleset, row: ListRow | None) -> tuple[Method, ...]:
    """The manifest's order, with the row's own order in the replacement methods' places."""
    order = list(ruleset.manifest.method_order)
    if row is None:
        return tuple(order)
    replacement = {m.method for m in ReplacementMethod}
    row_first = [m.method for m in row.methods]
    rest = [m for m in order if m in replacement and m not in row_first]
    slots = iter(row_first + rest)
    return tuple(next(slots) if m in replacement else m for m in order)
