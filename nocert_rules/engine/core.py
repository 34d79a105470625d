"""Deciding how one certificate is handled, on a rule backend, safely.

The policy rules of a ruleset compile to one durable_rules ruleset whose rules are generic
over facts (the list is data: no rule per certificate). A decision:

1. computes the facts of the request and its list row (``facts_for``);
2. asserts them as one fact in a fresh session; every matching rule fires, in file order;
3. walks the methods in the manifest's order (附件3 第三条 便民、高效、最优), the row's own
   order among replacement methods, and takes the first method some rule offers and no
   rule blocks; blocked methods fall through and stay in the trace with reason and clause;
4. if none remains, applies the manifest's fallback.

Step 2 runs on a backend (``nocert_rules.engine.backend``): ``durable`` (durable_rules, whose
hazards are contained in ``nocert_rules.engine.durable_host`` and kept within a measured budget,
``nocert_rules.engine.budget``) or ``compiled`` (the same conditions as Python closures,
``nocert_rules.engine.compiled``); ``auto`` picks durable where it imports and fits, else compiled.
Every Decision's ruleset stamp says which backend decided it.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from nocert_rules.engine import backend as backends
from nocert_rules.engine.credit import FalsePledgeLookup, credit_facts
from nocert_rules.engine.unknown import UnknownCodes
from nocert_rules.enums import CreditLevel, Method, ReplacementMethod
from nocert_rules.errors import EngineClosedError, NocertError, RequestError
from nocert_rules.models import (
    ApplicantSummary,
    ApprovalClockRule,
    Citation,
    DeadlineInfo,
    Decision,
    DecisionRequest,
    DeclinedAlternative,
    PostCheckPlan,
    RulesetStamp,
    TraceStep,
    as_shanghai,
    parse_request,
)
from nocert_rules.policy.officers import name_proxy_role, proxy_on_duty
from nocert_rules.policy.ruleset import ListRow, PolicyRule, Ruleset

if TYPE_CHECKING:
    from nocert_rules.worktime.deadlines import StatutoryLimit

def list_day(request: DecisionRequest, as_of: date | datetime | None = None) -> date:
    """The day whose list decides: ``as_of`` if given (a datetime in Asia/Shanghai), else the request's day."""
    if as_of is None:
        return request.requested_at.date()
    if isinstance(as_of, datetime):
        return as_shanghai(as_of).date()
    return as_of


def facts_for(
    ruleset: Ruleset,
    request: DecisionRequest,
    row: ListRow | None,
    as_of: date | datetime | None = None,
    *,
    blacklist: FalsePledgeLookup | None = None,
) -> dict[str, Any]:
    """The facts rules may test (``conditions.FACTS``), by dotted name; ``as_of`` as for ``list_day``.

    ``blacklist``: the engine's false-pledge store, if any. An unset ``wants_pledge`` reads as
    true here: the pledge stays on offer, and the engine adds what happens if the applicant
    declines (``Decision.if_declined``).
    """
    facts: dict[str, Any] = {
        "request.listed": row is not None,
        "request.provides_certificate": request.provides_certificate,
        "request.wants_pledge": request.wants_pledge is not False,
        "request.sharing_online": request.sharing_online,
        "request.proxy_authorized": request.proxy_authorized,
        "request.adjustment_pending": request.adjustment_pending or bool(
            ruleset.adjustments and ruleset.adjustment_pending(
                request.service_item, row.certificate_id if row is not None else request.certificate,
                list_day(request, as_of),
            )
        ),
        "request.ruleset_in_force": ruleset.in_force(list_day(request, as_of)),
    }
    facts.update(credit_facts(ruleset, request.applicant, request.requested_at, blacklist))
    if row is not None:
        memo = _ROW_FACTS.get(ruleset)
        if memo is None:
            memo = _ROW_FACTS.setdefault(ruleset, {})
        key = (*row.key, row.valid_from)
        row_facts = memo.get(key)
        if row_facts is None or row_facts[0] is not row:
            row_facts = memo[key] = (row, _row_facts(ruleset, row))
        facts.update(row_facts[1])
    return facts


_ROW_FACTS: weakref.WeakKeyDictionary[Ruleset, dict[tuple[Any, ...], tuple[ListRow, dict[str, Any]]]] = (
    weakref.WeakKeyDictionary()
)
"""The ``row.*`` facts depend on the (frozen) row and the manifest only: computed once per row."""


def _row_facts(ruleset: Ruleset, row: ListRow) -> dict[str, Any]:
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


_DECISION_JSON: Callable[[Decision], bytes] = Decision.__pydantic_serializer__.to_json
"""A Decision as JSON bytes: what ``model_dump_json`` returns, before it decodes them to text."""

_DAY_DEADLINE_MEMO = 128
"""How many date-only deadlines an engine keeps (cleared when full: a counter works on today).
Small, so that the memo's fill level moves memory by little (tests/test_stress.py)."""


class Engine:
    """Decides requests against one ruleset. Thread-safe; reuse one per ruleset.

    >>> engine = Engine(load_ruleset("rulesets/zibo"))        # doctest: +SKIP
    >>> engine.decide({...}).method                           # doctest: +SKIP
    """

    def __init__(
        self,
        ruleset: Ruleset,
        backend: str = "auto",
        *,
        key: bytes | None = None,
        blacklist: FalsePledgeLookup | None = None,
        unknown_memo: int | None = None,
        day_memo: int | None = None,
    ) -> None:
        """``backend``: ``"auto"`` (default), ``"durable"`` or ``"compiled"`` (see
        ``nocert_rules.engine.backend``); ``self.backend`` / ``self.backend_reason`` say which
        one it got and why. ``"durable"`` over its budget is a ``RulesetError`` at the rule.
        ``key``: the host's pseudonymisation key; decisions then carry ``applicant.ref``
        (``privacy.keyed_hash``), by which records (``open_pledge``) check the person.
        ``unknown_memo``: how many nearest-code answers for unknown codes to keep (default
        ``engine.unknown``'s small figure; a dry-run over a case file keeps more).
        ``day_memo``: how many date-only deadlines and days' validity to keep (default
        :data:`_DAY_DEADLINE_MEMO`, small; a dry-run over years of cases keeps more)."""
        self._day_memo = _DAY_DEADLINE_MEMO if day_memo is None else max(1, day_memo)
        self.ruleset = ruleset
        self._key = bytes(key) if key else None
        self.blacklist = blacklist
        """The host's false-pledge store (三(五)3), consulted for every decision when given."""
        self._rules_by_id: dict[str, PolicyRule] = {rule.id: rule for rule in ruleset.rules}
        rules = [(rule.id, rule.when) for rule in ruleset.rules]
        rules_file = ruleset.manifest.files.rules
        choice = backends.choose(
            rules, backend, backends.rule_locator(rules_file, ruleset.files.get(rules_file))
        )
        self.backend: str = choice.backend
        self.backend_reason: str = choice.reason
        self._stamp = RulesetStamp(
            name=ruleset.name, version=ruleset.version, sha256=ruleset.sha256, backend=choice.backend
        )
        # Memo tables for what depends on the (immutable) ruleset only, filled on first use.
        # Values are frozen models shared between decisions. Races only compute twice.
        # Per-row entries keep the row they were computed from and are used for that row only.
        self._orders: dict[tuple[str, str] | None, tuple[ListRow | None, tuple[Method, ...]]] = {}
        self._steps: dict[str | tuple[str, Method], TraceStep] = {}
        self._approval_rule: ApprovalClockRule | None = None  # 即办件 (manifest on_the_spot), built once
        self._citations: dict[str, Citation] = {}
        self._limits: dict[tuple[Any, ...], tuple[ListRow, StatutoryLimit | None]] = {}
        self._day_deadlines: dict[tuple[Any, ...], DeadlineInfo] = {}
        self._validity: dict[date, tuple[bool, tuple[str, ...]]] = {}
        self._read_facts: frozenset[str] | None = None
        self._compiled: backends.RuleBackend = backends.build(ruleset.name, rules, choice)
        self._unknown = UnknownCodes(ruleset) if unknown_memo is None else UnknownCodes(ruleset, unknown_memo)

    # ------------------------------------------------------------------ public

    def decide(
        self, request: DecisionRequest | dict[str, Any], as_of: date | datetime | None = None
    ) -> Decision:
        """Decide one request (a ``DecisionRequest`` or a plain dict). See the module doc.

        The list in force on the request's day decides (rows and limits are dated,
        ``policy.versions``); ``as_of`` asks "under the list of that date" instead, the request
        keeping its own time for deadlines. The decision's ruleset stamp records the date used.
        """
        req = parse_request(request)
        row = self.find_row(req, as_of)
        facts = facts_for(self.ruleset, req, row, as_of, blacklist=self.blacklist)
        return self.decide_with_fired(req, row, self.fire(facts), as_of=as_of, facts=facts)

    def decide_many(
        self, requests: Iterable[DecisionRequest | dict[str, Any]], as_of: date | datetime | None = None
    ) -> list[Decision | NocertError | ValueError]:
        """``decide`` for each request, in order: a list of the same length whose item is the
        Decision, or the error ``decide`` raises for that request (a ``RequestError`` for a
        malformed one; any ``NocertError``/``ValueError`` of one request), returned in its place
        so that one bad request does not lose the others. An engine closed is raised
        (``EngineClosedError``), not returned."""
        out: list[Decision | NocertError | ValueError] = []
        for request in requests:
            try:
                out.append(self.decide(request, as_of))
            except EngineClosedError:
                raise
            except (NocertError, ValueError) as exc:
                out.append(exc)
        return out

    def decide_json(self, data: bytes | str, as_of: date | datetime | None = None) -> bytes:
        """One request as JSON text in, its Decision as JSON bytes out (UTF-8, exactly
        ``decide(json.loads(data)).model_dump_json()`` encoded). Text that is not JSON is a
        ``RequestError`` at ``(request)``; otherwise the errors of ``decide``."""
        try:
            request = json.loads(data)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and bad UTF-8 are ValueErrors
            raise RequestError([("(request)", f"不是 JSON / not JSON: {type(exc).__name__}")]) from None
        return _DECISION_JSON(self.decide(request, as_of))

    def find_row(self, req: DecisionRequest, as_of: date | datetime | None = None) -> ListRow | None:
        """The row version in force for ``req`` (on ``as_of``'s day if given)."""
        return self.ruleset.find_row(req.service_item, req.certificate, list_day(req, as_of))

    def decide_with_fired(
        self,
        req: DecisionRequest,
        row: ListRow | None,
        fired: Sequence[str],
        *,
        as_of: date | datetime | None = None,
        facts: dict[str, Any] | None = None,
        fire: Callable[[dict[str, Any]], Sequence[str]] | None = None,
    ) -> Decision:
        """The Decision for ``req`` given the ids of the rules that fired (as ``fire`` returns
        them for ``facts_for(ruleset, req, row, as_of, blacklist=...)``). ``decide`` is parse, find_row,
        facts_for, fire, then this; a cache of ``fire`` results (``nocert_rules.engine.cache``)
        calls it too, passing its own ``fire`` for the declined alternative.

        When the applicant has not chosen (``wants_pledge`` unset) and a pledge is chosen, the
        decision awaits the choice and carries ``if_declined``: the same request with
        ``wants_pledge: false``, decided now (国办发〔2020〕42号 自主选择).
        """
        if facts is None:
            facts = facts_for(self.ruleset, req, row, as_of, blacklist=self.blacklist)
        day = list_day(req, as_of)
        decision = self._decide_from(req, row, [self._rules_by_id[r] for r in fired], day, facts)
        if decision.method is Method.PROXY and self.ruleset.officers is not None:  # the role (policy/officers.py)
            decision = name_proxy_role(self.ruleset, decision, req.requesting_unit)
        if req.wants_pledge is not None or decision.method is not Method.PLEDGE:
            return decision
        declined = req.model_copy(update={"wants_pledge": False})
        declined_facts = dict(facts, **{"request.wants_pledge": False})
        alt = self._decide_from(
            declined, row, [self._rules_by_id[r] for r in (fire or self.fire)(declined_facts)], day, declined_facts
        )
        clause = self.ruleset.manifest.pledge_policy.choice_clause
        step = TraceStep(
            rule_id="engine.await-choice",
            method=Method.PLEDGE,
            effect="choice",
            conclusion=(
                f"申请人尚未选择是否承诺：可采用告知承诺；不承诺的，采用{alt.method.label_zh} / the applicant "
                f"has not chosen: a pledge is available; if declined, {alt.method.value}"
            ),
            citation=self._citation(clause) if clause else None,
        )
        warnings = list(decision.warnings) + [w for w in alt.warnings if w not in decision.warnings]
        return decision.model_copy(
            update={
                "awaiting_choice": True,
                "trace": [*decision.trace[:-1], step, decision.trace[-1]],  # engine.choose stays last
                "warnings": warnings,
                "if_declined": DeclinedAlternative(
                    method=alt.method,
                    applicant_must_submit=alt.applicant_must_submit,
                    deadline=alt.deadline,
                    trace=alt.trace,
                    approval_clock=alt.approval_clock,
                ),
            }
        )

    def officer_on_duty(
        self,
        decision: Decision,
        at: datetime | None = None,
        *,
        unit: str | None = None,
        unavailable: Sequence[str] = (),
    ) -> Decision:
        """A PROXY decision with the proxy officer on duty at ``at`` (default: the request's
        time) in the requesting unit: the A角, else the B角 (``policy.officers.proxy_on_duty``).
        ``unavailable``: officer ids the host marks away. ``OfficerError`` if there is none."""
        return proxy_on_duty(self.ruleset, decision, at, unit=unit, unavailable=unavailable)

    def day_signature(self, service_item: str, certificate: str, day: date) -> tuple[Any, ...]:
        """What deciding reads of the list's day, deadlines and the applicant's own dates aside:
        the row version in force, whether an adjustment of it is pending (``facts_for``), whether
        the ruleset is in force and its validity warnings (``_decide_from``), the row's statutory
        limit in force (``deadline_for``). Two requests alike
        but for the day, on days of equal signature, get the same decision but for the fields
        that copy the day (the stamp, the applicant's summary) — unless the decision has a
        deadline (counted from the day) or the applicant has dates (compared with it). Keep this
        in step with ``facts_for`` and ``_decide_from`` (``tests/test_outcomes.py`` checks it);
        the deadline, by the clock, is ``deadline_for``'s."""
        rs = self.ruleset
        row = rs.find_row(service_item, certificate, day)
        pending = bool(rs.adjustments and rs.adjustment_pending(
            service_item, row.certificate_id if row is not None else certificate, day
        ))
        validity = self._validity.get(day)
        if validity is None:
            if len(self._validity) >= self._day_memo:
                self._validity.clear()
            validity = self._validity[day] = (rs.in_force(day), tuple(self._validity_warnings(day)))
        limit = row.limit_at(day) if row is not None and row.limits else None
        return id(row), id(limit), pending, validity

    def fire(self, facts: dict[str, Any]) -> list[str]:
        """Run the compiled rules over ``facts``; the ids of the rules that fired, in order."""
        return self._compiled.fire(facts)

    def close(self) -> None:
        """Free the compiled rules now (else they are freed when the engine is collected).

        ``decide`` raises ``EngineClosedError`` afterwards. ``with Engine(rs) as engine:`` closes it.
        """
        self._compiled.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ choice

    def _candidate_order(self, row: ListRow | None) -> tuple[Method, ...]:
        key = row.key if row is not None else None
        memo = self._orders.get(key)
        if memo is None or memo[0] is not row:
            memo = self._orders[key] = (row, tuple(self._compute_candidate_order(row)))
        return memo[1]

    def _compute_candidate_order(self, row: ListRow | None) -> list[Method]:
        """The manifest's order, with the row's own order in the replacement methods' places."""
        order = list(self.ruleset.manifest.method_order)
        if row is None:
            return order
        replacement = {m.method for m in ReplacementMethod}
        row_first = [m.method for m in row.methods]
        rest = [m for m in order if m in replacement and m not in row_first]
        slots = iter(row_first + rest)
        return [next(slots) if m in replacement else m for m in order]

    def _decide_from(
        self, req: DecisionRequest, row: ListRow | None, fired: list[PolicyRule], day: date,
        facts: dict[str, Any],
    ) -> Decision:
        rs = self.ruleset
        trace: list[TraceStep] = []
        chosen: Method | None = None
        offered: dict[Method, list[PolicyRule]] = {}
        blocked: dict[Method, list[PolicyRule]] = {}
        for r in fired:
            (offered if r.effect == "offer" else blocked).setdefault(r.method, []).append(r)
        for method in self._candidate_order(row):
            offers = offered.get(method)
            if not offers:
                continue
            blocks = blocked.get(method)
            for rule in offers:
                trace.append(self._rule_step(rule))
            if blocks:
                for rule in blocks:
                    trace.append(self._rule_step(rule))
                continue
            chosen = method
            break

        must_submit = False
        if chosen is None:
            fb = rs.manifest.fallback
            chosen = fb.method
            must_submit = fb.applicant_must_submit
            step = self._steps.get(("fallback", fb.method))
            if step is None:
                step = self._steps[("fallback", fb.method)] = TraceStep(
                    rule_id="manifest.fallback",
                    method=fb.method,
                    effect="fallback",
                    conclusion=f"{fb.method.label_zh} / {fb.method.value}: {fb.reason}",
                    citation=self._citation(fb.clause),
                )
            trace.append(step)
        else:
            step = self._steps.get(("choose", chosen))
            if step is None:
                step = self._steps[("choose", chosen)] = TraceStep(
                    rule_id="engine.choose",
                    method=chosen,
                    effect="choose",
                    conclusion=f"采用{chosen.label_zh} / {chosen.value}",
                    citation=self._citation(rs.manifest.method_order_clause),
                )
            trace.append(step)
        if rs.parent is not None and row is not None:
            trace.append(self._source_step(rs.source_of(row), chosen))

        warnings = self._validity_warnings(day)
        if row is None:  # the manifest's unknown_service_item / unknown_certificate (abolish warns)
            warnings.extend(self._unknown.check(req))
        post_check = None
        deadline = None
        deadline = self.deadline_for(chosen, req.applicant.credit, req.requested_at, row, day)
        if chosen is Method.PLEDGE:
            post_check = self._post_check_plan(req.applicant.credit, deadline)
        if deadline is not None:
            warnings.extend(w for w in deadline.warnings if w not in warnings)
        approval_clock = None
        if chosen is Method.VERIFICATION and row is not None and row.on_the_spot:
            approval_clock = self._approval_clock_rule()

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
            applicant=self._summary(req, facts),
            requested_at=req.requested_at,
            trace=trace,
            warnings=warnings,
            post_check=post_check,
            deadline=deadline,
            ruleset=self._stamp_for(day, row),
            row_source=rs.source_of(row) if row is not None else None,
            approval_clock=approval_clock,
        )

    def _approval_clock_rule(self) -> ApprovalClockRule | None:
        """即办件: the manifest's ``on_the_spot`` rule, built once (the loader refuses a row that
        marks 即办件 when the manifest has none)."""
        if self._approval_rule is None:
            policy = self.ruleset.manifest.on_the_spot
            if policy is None:
                return None
            self._approval_rule = ApprovalClockRule(
                rule=policy.rule,
                clause=policy.clause,
                citation=self._citation(policy.clause),
                working_minutes=policy.working_minutes,
                limit_clause=policy.limit_clause,
            )
        return self._approval_rule

    def _stamp_for(self, day: date, row: ListRow | None) -> RulesetStamp:
        """The ruleset stamp with the list's date and the row version (one per decision: a
        memo of them would grow with the days decided)."""
        s = self._stamp
        return RulesetStamp.model_construct(
            name=s.name, version=s.version, sha256=s.sha256, backend=s.backend, effective_date=day,
            row_version=row.version if row is not None else None,
        )

    def _source_step(self, source: str, method: Method) -> TraceStep:
        """Which level's row decided, in a ruleset that extends another (policy/overlay.py)."""
        key = ("source:" + source, method)
        step = self._steps.get(key)
        if step is None:
            own = source == self.ruleset.name
            where = "本级清单行（覆盖或新增上级清单）" if own else "沿用上级清单行"
            step = self._steps[key] = TraceStep(
                rule_id="engine.row-source",
                method=method,
                effect="choose",
                conclusion=f"{where}：{source} / row from {source}"
                + (" (this level's row)" if own else " (inherited)"),
            )
        return step

    def _summary(self, req: DecisionRequest, facts: dict[str, Any]) -> ApplicantSummary:
        base = req.applicant.summary(req.requested_at, self._key)
        return base.model_copy(
            update={
                "on_blacklist": facts["applicant.on_blacklist"],
                "false_pledge_on_record": facts["applicant.false_pledge_on_record"],
                "credit_repaired": facts["applicant.credit_repaired"],
            }
        )

    def _rule_step(self, rule: PolicyRule) -> TraceStep:
        """The trace step of a rule that fired: it depends on the rule alone, so built once."""
        step = self._steps.get(rule.id)
        if step is None:
            m = rule.method
            if rule.effect == "offer":
                conclusion = f"可采用{m.label_zh} / {m.value} offered: {rule.reason}"
            else:
                conclusion = f"不采用{m.label_zh} / {m.value} blocked: {rule.reason}"
            step = self._steps[rule.id] = self._step(rule, conclusion)
        return step

    def _step(self, rule: PolicyRule, conclusion: str) -> TraceStep:
        return TraceStep(
            rule_id=rule.id,
            method=rule.method,
            effect=rule.effect,
            conclusion=conclusion,
            citation=self._citation(rule.clause),
            see_also=[self._citation(c) for c in rule.see_also],
        )

    def _citation(self, clause_id: str) -> Citation:
        citation = self._citations.get(clause_id)
        if citation is None:
            citation = self._citations[clause_id] = self.ruleset.citation(clause_id)
        return citation

    def _validity_warnings(self, day: date) -> list[str]:
        m = self.ruleset.manifest
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

    def deadline_for(
        self, method: Method, credit: CreditLevel, at: datetime, row: ListRow | None, day: date
    ) -> DeadlineInfo | None:
        """The deadline a decision by ``method`` carries for a request at ``at`` by an applicant
        of ``credit``, with ``row`` on the list's ``day``: a pledge's post-check (三(三)2), a
        verification's reply (附件2 第七条 in Zibo), else none. ``_decide_from`` takes its
        deadline from here; so may a cache of outcomes (``tools.outcomes``)."""
        if method is Method.PLEDGE:
            return self._post_check_deadline(credit, at)
        if method is Method.VERIFICATION and row is not None:
            return self._verification_deadline(at, row, day)
        return None

    def outcome_key(
        self, req: DecisionRequest, row: ListRow | None, facts: dict[str, Any], day: date
    ) -> tuple[Any, ...]:
        """Everything a decision's method, trace and warnings are made of, deadlines aside
        (``deadline_for``): the facts the rules read (the declined alternative's are the same
        with ``request.wants_pledge`` false), whether the applicant has chosen (unset: the
        alternative is decided too), the row version and its limit in force, the codes of an
        unlisted certificate (their warnings), the ruleset's validity on the day, the credit
        level (the post-check plan). Requests with equal keys are decided alike but for the
        fields copied from the request (``tools.outcomes``). Keep it in step with
        ``decide_with_fired`` and ``_decide_from`` (``tests/test_outcomes.py`` checks it)."""
        read = self._read_facts
        if read is None:
            from nocert_rules.policy import conditions

            names: set[str] = set()
            for rule in self.ruleset.rules:
                names |= conditions.facts_named(rule.when)
            read = self._read_facts = frozenset(names)
        limit = row.limit_at(day) if row is not None and row.limits else None
        return (
            frozenset((k, v) for k, v in facts.items() if k in read),
            req.wants_pledge is None,
            id(row),
            id(limit),
            (req.service_item, req.certificate) if row is None else None,
            self.day_signature(req.service_item, req.certificate, day)[3],
            req.applicant.credit,
        )

    def unknown_code_warnings(self, req: DecisionRequest) -> list[str]:
        """The warnings an unlisted request's codes give (``engine.unknown``), as ``_decide_from``
        adds them after the ruleset's validity warnings: the only part of an unlisted decision
        that depends on the codes beyond ``outcome_key``'s (``tools.outcomes``)."""
        return self._unknown.check(req)

    def deadline_goes_by_day(self, method: Method, credit: CreditLevel, row: ListRow | None, day: date) -> bool:
        """Whether ``deadline_for`` is the same at every time of ``day`` (all but a verification
        reply counted in working minutes, which goes by the clock)."""
        if method is not Method.VERIFICATION or row is None:
            return True
        limit = self._verification_limit(row, day)
        return bool((limit or self.ruleset.deadline_policy.verification[row.records]).working_days)

    def _post_check_deadline(self, credit: CreditLevel, at: datetime) -> DeadlineInfo | None:
        """A pledge's post-check deadline unless waived (computed once per day and period)."""
        plan = self.ruleset.manifest.pledge_policy.post_check[credit]
        if plan.waived or plan.within_working_days is None:
            return None
        from nocert_rules.worktime.deadlines import post_check_due

        days = plan.within_working_days
        key = ("post_check", days, at.date())
        deadline = self._day_deadlines.get(key)
        if deadline is None:
            d = post_check_due(at, days, self.ruleset.calendar, clause=plan.clause)
            deadline = self._remember(key, DeadlineInfo(
                kind="post_check", due_at=d.due_at, rule=d.rule, clause=plan.clause, warnings=list(d.warnings)
            ))
        return deadline

    def _post_check_plan(self, credit: CreditLevel, deadline: DeadlineInfo | None) -> PostCheckPlan:
        """The post-check plan of a pledge by the applicant's credit, due with ``deadline``."""
        plan = self.ruleset.manifest.pledge_policy.post_check[credit]
        return PostCheckPlan(
            credit=credit,
            waived=plan.waived,
            within_working_days=plan.within_working_days,
            description=plan.description,
            due_at=deadline.due_at if deadline is not None else None,
            citation=self._citation(plan.clause),
        )

    def _verification_limit(self, row: ListRow, day: date) -> StatutoryLimit | None:
        """The row's own statutory limit in force on ``day``, if any (the plan's figure is the
        ruleset's deadline policy)."""
        own = row.limit_at(day)
        key = (*row.key, row.valid_from, id(own) if own is not None else None)
        memo = self._limits.get(key)
        if memo is not None and memo[0] is row:
            return memo[1]
        from nocert_rules.worktime.deadlines import StatutoryLimit

        limit = None
        if own is not None:
            limit = StatutoryLimit(
                working_days=own.working_days, working_minutes=own.working_minutes, basis=own.basis
            )
        self._limits[key] = (row, limit)
        return limit

    def _verification_deadline(self, at: datetime, row: ListRow, day: date) -> DeadlineInfo:
        from nocert_rules.worktime.deadlines import verification_due

        policy = self.ruleset.deadline_policy
        limit = self._verification_limit(row, day)
        effective = limit or policy.verification[row.records]
        # A limit in working days ends at close of business: it depends on the date alone.
        key = ("verification", limit, row.records, at.date()) if effective.working_days else None
        if key is not None and (cached := self._day_deadlines.get(key)) is not None:
            return cached
        d = verification_due(at, row.records, self.ruleset.calendar, limit, policy=policy)
        # The ruleset's own clause ids; a row's own limit without a statutory clause cites the plan's.
        clause = d.clause or policy.verification_clause
        info = DeadlineInfo(
            kind="verification_reply", due_at=d.due_at, rule=d.rule, clause=clause, warnings=list(d.warnings)
        )
        return self._remember(key, info) if key is not None else info

    def _remember(self, key: tuple[Any, ...], info: DeadlineInfo) -> DeadlineInfo:
        """Keep a date-only deadline (frozen) for reuse; the memo is bounded."""
        if len(self._day_deadlines) >= self._day_memo:
            self._day_deadlines.clear()
        self._day_deadlines[key] = info
        return info
