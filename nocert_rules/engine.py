"""Deciding how one certificate is handled, on durable_rules, safely.

The policy rules of a ruleset compile to one durable_rules ruleset whose rules are generic
over facts (the list is data: no rule per certificate). A decision:

1. computes the facts of the request and its list row (``facts_for``);
2. asserts them as one fact in a fresh session; every matching rule fires, in file order;
3. walks the methods in the manifest's order (附件3 第三条 便民、高效、最优), the row's own
   order among replacement methods, and takes the first method some rule offers and no
   rule blocks; blocked methods fall through and stay in the trace with reason and clause;
4. if none remains, applies the manifest's fallback.

durable_rules hazards handled here: a private host without background timer threads, one
short-lived session per decision deleted in ``finally``, and one process-wide lock around
the C engine.
"""

from __future__ import annotations

import itertools
import threading
from datetime import datetime
from typing import Any

from durable import engine as durable_engine

from . import conditions
from .enums import Method, ReplacementMethod
from .models import (
    DeadlineInfo,
    Decision,
    DecisionRequest,
    PostCheckPlan,
    RulesetStamp,
    TraceStep,
    parse_request,
)
from .ruleset import ListRow, PolicyRule, Ruleset

_ENGINE_LOCK = threading.RLock()
"""durable_rules' C core is not known to be thread-safe across rulesets: one lock for all."""

_ENGINE_IDS = itertools.count(1)


class _PrivateHost(durable_engine.Host):
    """A durable_rules host that never starts its dispatch/timer threads (we use no timers)."""

    def _run(self) -> None:  # noqa: D401 - overrides the thread-starting loop
        return None


def facts_for(ruleset: Ruleset, request: DecisionRequest, row: ListRow | None) -> dict[str, Any]:
    """The facts rules may test (``conditions.FACTS``), by dotted name."""
    applicant = request.applicant
    facts: dict[str, Any] = {
        "request.listed": row is not None,
        "request.provides_certificate": request.provides_certificate,
        "request.wants_pledge": request.wants_pledge,
        "request.sharing_online": request.sharing_online,
        "request.proxy_authorized": request.proxy_authorized,
        "request.adjustment_pending": request.adjustment_pending,
        "request.ruleset_in_force": ruleset.in_force(request.requested_at.date()),
        "applicant.kind": applicant.kind.value,
        "applicant.credit": applicant.credit.value,
        "applicant.on_blacklist": applicant.on_blacklist(request.requested_at),
        "applicant.serious_bad_record": applicant.serious_bad_record,
    }
    if row is not None:
        barring = set(ruleset.manifest.pledge_policy.barring_risk_categories)
        facts.update(
            {
                "row.service_item_code": row.service_item_code,
                "row.certificate_id": row.certificate_id,
                "row.status": row.status.value,
                "row.has_legal_basis": row.has_legal_basis,
                "row.allows_data_sharing": ReplacementMethod.DATA_SHARING in row.methods,
                "row.allows_pledge": ReplacementMethod.PLEDGE in row.methods,
                "row.allows_verification": ReplacementMethod.VERIFICATION in row.methods,
                "row.has_sharing_source": bool(row.sharing_source),
                "row.records": row.records.value,
                "row.pledge_barring_risk": bool(barring.intersection(row.risk_categories)),
                "row.issuer_department": row.issuer_department,
            }
        )
    return facts


class Engine:
    """Decides requests against one ruleset. Thread-safe; reuse one per ruleset.

    >>> engine = Engine(load_ruleset("rulesets/zibo"))        # doctest: +SKIP
    >>> engine.decide({...}).method                           # doctest: +SKIP
    """

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self._name = f"nocert_{ruleset.name}_{next(_ENGINE_IDS)}"
        self._rules_by_id: dict[str, PolicyRule] = {rule.id: rule for rule in ruleset.rules}
        self._fired: list[str] = []
        self._sid = itertools.count(1)
        self._stamp = RulesetStamp(name=ruleset.name, version=ruleset.version, sha256=ruleset.sha256)
        definition: dict[str, Any] = {}
        for priority, rule in enumerate(ruleset.rules, start=1):
            definition[rule.id] = {
                "all": [{"m": conditions.to_durable(rule.when)}],
                "pri": priority,
                "run": self._recorder(rule.id),
            }
        with _ENGINE_LOCK:
            self._host = _PrivateHost({self._name: definition})

    def _recorder(self, rule_id: str) -> Any:
        fired = self._fired

        def record(_closure: Any) -> None:
            fired.append(rule_id)

        return record

    # ------------------------------------------------------------------ public

    def decide(self, request: DecisionRequest | dict[str, Any]) -> Decision:
        """Decide one request (a ``DecisionRequest`` or a plain dict). See the module doc."""
        req = parse_request(request)
        row = self.ruleset.find_row(req.service_item, req.certificate)
        facts = facts_for(self.ruleset, req, row)
        fired = self.fire(facts)
        return self._decide_from(req, row, [self._rules_by_id[r] for r in fired])

    def fire(self, facts: dict[str, Any]) -> list[str]:
        """Run the compiled rules over ``facts``; the ids of the rules that fired, in order."""
        payload = {conditions.durable_key(k): v for k, v in facts.items()}
        with _ENGINE_LOCK:
            sid = str(next(self._sid))
            payload["sid"] = sid
            self._fired.clear()
            try:
                try:
                    self._host.assert_fact(self._name, payload)
                except durable_engine.MessageNotHandledException:
                    pass  # no rule matched: nothing fired
                return list(self._fired)
            finally:
                self._fired.clear()
                self._host.delete_state(self._name, sid)

    def close(self) -> None:
        """Free the C ruleset. The engine is unusable afterwards."""
        with _ENGINE_LOCK:
            ruleset = self._host._ruleset_directory.pop(self._name, None)
            if ruleset is not None:
                durable_engine.durable_rules_engine.delete_ruleset(ruleset._handle)

    # ------------------------------------------------------------------ choice

    def _candidate_order(self, row: ListRow | None) -> list[Method]:
        order = list(self.ruleset.manifest.method_order)
        if row is None:
            return order
        replacement = {m.method for m in ReplacementMethod}
        row_order = iter([m.method for m in row.methods] + [m for m in order if m in replacement and m not in {x.method for x in row.methods}])
        return [next(row_order) if m in replacement else m for m in order]

    def _decide_from(
        self, req: DecisionRequest, row: ListRow | None, fired: list[PolicyRule]
    ) -> Decision:
        rs = self.ruleset
        trace: list[TraceStep] = []
        chosen: Method | None = None
        for method in self._candidate_order(row):
            offers = [r for r in fired if r.method == method and r.effect == "offer"]
            if not offers:
                continue
            blocks = [r for r in fired if r.method == method and r.effect == "block"]
            for rule in offers:
                trace.append(self._step(rule, f"可采用{method.label_zh} / {method.value} offered: {rule.reason}"))
            if blocks:
                for rule in blocks:
                    trace.append(self._step(rule, f"不采用{method.label_zh} / {method.value} blocked: {rule.reason}"))
                continue
            chosen = method
            break

        must_submit = False
        if chosen is None:
            fb = rs.manifest.fallback
            chosen = fb.method
            must_submit = fb.applicant_must_submit
            trace.append(
                TraceStep(
                    rule_id="manifest.fallback",
                    method=fb.method,
                    effect="fallback",
                    conclusion=f"{fb.method.label_zh} / {fb.method.value}: {fb.reason}",
                    citation=rs.citation(fb.clause),
                )
            )
        else:
            trace.append(
                TraceStep(
                    rule_id="engine.choose",
                    method=chosen,
                    effect="choose",
                    conclusion=f"采用{chosen.label_zh} / {chosen.value}",
                    citation=rs.citation(rs.manifest.method_order_clause),
                )
            )

        warnings = self._validity_warnings(req.requested_at)
        post_check = self._post_check(req) if chosen is Method.PLEDGE else None
        deadline = None
        if chosen is Method.VERIFICATION and row is not None:
            deadline = self._verification_deadline(req.requested_at, row)
        elif post_check is not None and post_check.due_at is not None:
            deadline = self._post_check_deadline(req.requested_at, post_check)
        if deadline is not None:
            warnings.extend(w for w in deadline.warnings if w not in warnings)

        return Decision(
            request_id=req.request_id,
            service_item=req.service_item,
            service_item_name=row.service_item_name if row else None,
            certificate=req.certificate,
            certificate_id=row.certificate_id if row else None,
            certificate_name=row.certificate_name if row else None,
            listed=row is not None,
            method=chosen,
            applicant_must_submit=must_submit,
            issuer=row.issuer if row else None,
            records=row.records if row else None,
            sharing_source=row.sharing_source if row and chosen is Method.DATA_SHARING else None,
            applicant=req.applicant.summary(req.requested_at),
            requested_at=req.requested_at,
            trace=trace,
            warnings=warnings,
            post_check=post_check,
            deadline=deadline,
            ruleset=self._stamp,
        )

    def _step(self, rule: PolicyRule, conclusion: str) -> TraceStep:
        return TraceStep(
            rule_id=rule.id,
            method=rule.method,
            effect=rule.effect,
            conclusion=conclusion,
            citation=self.ruleset.citation(rule.clause),
        )

    def _validity_warnings(self, at: datetime) -> list[str]:
        m = self.ruleset.manifest
        day = at.date()
        if m.effective_until is not None and day > m.effective_until:
            return [
                f"规则集已过有效期（{m.effective_until} 止），请核对是否已修订 / expired ruleset: "
                f"{m.name} {m.version} was valid until {m.effective_until}"
            ]
        if day < m.effective_from:
            return [
                f"规则集尚未生效（{m.effective_from} 起施行） / ruleset not yet in force: "
                f"{m.name} {m.version} takes effect on {m.effective_from}"
            ]
        return []

    def _post_check(self, req: DecisionRequest) -> PostCheckPlan:
        plan = self.ruleset.manifest.pledge_policy.post_check[req.applicant.credit]
        due_at = None
        if not plan.waived and plan.within_working_days is not None:
            from .deadlines import post_check_due

            due_at = post_check_due(req.requested_at, plan.within_working_days, self.ruleset.calendar).due_at
        return PostCheckPlan(
            credit=req.applicant.credit,
            waived=plan.waived,
            within_working_days=plan.within_working_days,
            description=plan.description,
            due_at=due_at,
            citation=self.ruleset.citation(plan.clause),
        )

    def _post_check_deadline(self, at: datetime, plan: PostCheckPlan) -> DeadlineInfo:
        from .deadlines import post_check_due

        assert plan.within_working_days is not None
        d = post_check_due(at, plan.within_working_days, self.ruleset.calendar)
        return DeadlineInfo(kind="post_check", due_at=d.due_at, rule=d.rule, clause=d.clause, warnings=list(d.warnings))

    def _verification_deadline(self, at: datetime, row: ListRow) -> DeadlineInfo:
        from .deadlines import StatutoryLimit, verification_due

        params = self.ruleset.manifest.deadlines
        limit = None
        if row.verification_limit is not None:
            own = row.verification_limit
            limit = StatutoryLimit(
                working_days=own.working_days, working_minutes=own.working_minutes, basis=own.basis
            )
        base = params.verification[row.records]
        plan_limit = StatutoryLimit(
            working_days=base.working_days,
            working_minutes=base.working_minutes,
            basis=params.verification_clause,
        )
        d = verification_due(at, row.records, self.ruleset.calendar, limit, plan_limit=plan_limit)
        return DeadlineInfo(
            kind="verification_reply", due_at=d.due_at, rule=d.rule, clause=d.clause, warnings=list(d.warnings)
        )
