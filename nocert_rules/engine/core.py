"""Deciding how one certificate is handled, on a rule backend, safely.

The policy rules of a ruleset are generic over facts (the list is data: no rule per
certificate). When an ``Engine`` is made they are compiled (``nocert_rules.engine.plan``): per
list row version, a plan of the rules that can hold for that row, in the order it tries the
methods, with the constant parts of its Decisions built once. A decision:

1. validates the request and finds the row version in force on its day (``find_row``);
2. computes the request's own facts (``facts_for``: flags, the applicant's credit on the day);
3. walks the methods in the row plan's order (附件3 第三条 便民、高效、最优; the row's own order
   among replacement methods) and takes the first method some rule offers and no rule blocks;
   blocked methods fall through and stay in the trace with reason and clause;
4. if none remains, applies the manifest's fallback; then adds what depends on the request:
   deadlines, warnings, the masked applicant, the stamp.

Which rules hold is matched on a backend (``nocert_rules.engine.backend``): ``compiled`` (the
plan's conditions, specialised to the row, as Python closures, ``nocert_rules.engine.compiled``)
or ``durable`` (durable_rules, whose hazards are contained in ``nocert_rules.engine.durable_host``
and kept within a measured budget, ``nocert_rules.engine.budget``; the plan does the rest);
``auto`` picks durable where it imports and fits, else compiled. Every Decision's ruleset stamp
says which backend decided it.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from nocert_rules.engine import backend as backends
from nocert_rules.engine.credit import FalsePledgeLookup, credit_facts
from nocert_rules.engine.plan import Plans, RowPlan, row_facts
from nocert_rules.engine.unknown import UnknownCodes
from nocert_rules.enums import CreditLevel, Method
from nocert_rules.errors import EngineClosedError, NocertError, RequestError
from nocert_rules.models import (
    ApprovalClockRule,
    DeadlineInfo,
    Decision,
    DecisionRequest,
    DeclinedAlternative,
    PostCheckPlan,
    RulesetStamp,
    TraceStep,
    as_shanghai,
    parse_request,
    trusted,
)
from nocert_rules.policy import conditions
from nocert_rules.policy.officers import name_proxy_role, proxy_on_duty
from nocert_rules.policy.ruleset import ListRow, Ruleset
from nocert_rules.worktime.wording import say

if TYPE_CHECKING:
    from nocert_rules.worktime.deadlines import StatutoryLimit


def _validity_texts(ruleset: Ruleset) -> tuple[str, str]:
    """The warnings of a decision after the ruleset's ``effective_until`` and before its
    ``effective_from``, in the ruleset's words (manifest ``wording.warnings``)."""
    m, words = ruleset.manifest, ruleset.manifest.wording.warnings
    return (say(words.expired, name=m.name, version=m.version, effective_until=m.effective_until),
            say(words.not_yet_in_force, name=m.name, version=m.version, effective_from=m.effective_from))


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
    facts = request_facts(ruleset, request, row, list_day(request, as_of), blacklist)
    if row is not None:
        facts.update(row_facts(ruleset, row))
    return facts


def request_facts(
    ruleset: Ruleset, request: DecisionRequest, row: ListRow | None, day: date,
    blacklist: FalsePledgeLookup | None = None,
) -> dict[str, Any]:
    """The facts of ``facts_for`` that are not the row's (``row.*``): the request's and its applicant's."""
    facts: dict[str, Any] = {
        "request.listed": row is not None,
        "request.provides_certificate": request.provides_certificate,
        "request.wants_pledge": request.wants_pledge is not False,
        "request.sharing_online": request.sharing_online,
        "request.proxy_authorized": request.proxy_authorized,
        "request.adjustment_pending": request.adjustment_pending or bool(
            ruleset.adjustments and ruleset.adjustment_pending(
                request.service_item, row.certificate_id if row is not None else request.certificate, day,
            )
        ),
        "request.ruleset_in_force": ruleset.in_force(day),
    }
    facts.update(credit_facts(ruleset, request.applicant, request.requested_at, blacklist))
    return facts


_DECISION_JSON: Callable[[Decision], bytes] = Decision.__pydantic_serializer__.to_json
"""A Decision as JSON bytes: what ``model_dump_json`` returns, before it decodes them to text."""

_DECISION_GIVEN = set(Decision.model_fields) - {"awaiting_choice", "if_declined", "proxy_officer"}
_AWAITING_GIVEN = _DECISION_GIVEN | {"awaiting_choice", "if_declined"}
_STAMP_GIVEN = set(RulesetStamp.model_fields)
_PLAN_GIVEN = set(PostCheckPlan.model_fields)
_DECLINED_GIVEN = set(DeclinedAlternative.model_fields)
"""The fields each model of a Decision counts as given (``model_fields_set``), as when validated."""

Match = Callable[[RowPlan, dict[str, Any]], Collection[str]]
"""Which rules fire for a row plan and the full facts (a backend's ``fire``, or a memo of it)."""

_FIRED_MEMO = 1024
"""How many durable_rules firings an engine keeps, by rule plan and request facts read (a
dry-run keeps more)."""

_STAMP_MEMO = 1024
"""How many ruleset stamps an engine keeps, one per (list day, row version): a year and more of
days for a list with a few dated versions."""

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
        fired_memo: int | None = None,
    ) -> None:
        """``backend``: ``"auto"`` (default), ``"durable"`` or ``"compiled"`` (see
        ``nocert_rules.engine.backend``); ``self.backend`` / ``self.backend_reason`` say which
        one it got and why. ``"durable"`` over its budget is a ``RulesetError`` at the rule.
        ``key``: the host's pseudonymisation key; decisions then carry ``applicant.ref``
        (``privacy.keyed_hash``), by which records (``open_pledge``) check the person.
        ``unknown_memo``: how many pairs of unknown codes' answers to keep, each computed once
        (default ``engine.unknown._MEMO``, 512; a dry-run over a case file keeps more).
        ``day_memo``: how many date-only deadlines to keep (default
        :data:`_DAY_DEADLINE_MEMO`, small; a dry-run over years of cases keeps more).
        ``fired_memo``: how many durable_rules firings to keep (default :data:`_FIRED_MEMO`; 0:
        none, every decision asserts its facts)."""
        self._day_memo = _DAY_DEADLINE_MEMO if day_memo is None else max(1, day_memo)
        self.ruleset = ruleset
        self._key = bytes(key) if key else None
        self.blacklist = blacklist
        """The host's false-pledge store (三(五)3), consulted for every decision when given."""
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
        self._plans = Plans(ruleset)
        self._validity = _validity_texts(ruleset)
        self._stamps: OrderedDict[tuple[date, str | None], RulesetStamp] = OrderedDict()
        self._stamp_size = _STAMP_MEMO
        self._closed = threading.Event()
        self._approval_rule: ApprovalClockRule | None = None  # 即办件 (manifest on_the_spot), built once
        self._choice_steps: dict[Method, TraceStep] = {}
        self._limits: dict[tuple[Any, ...], tuple[ListRow, StatutoryLimit | None]] = {}
        self._day_deadlines: dict[tuple[Any, ...], DeadlineInfo] = {}
        self._compiled: backends.RuleBackend = backends.build(ruleset.name, rules, choice)
        self._durable = choice.backend == "durable"
        self._fired_memo: OrderedDict[tuple[Any, ...], frozenset[str]] = OrderedDict()
        self._fired_size = _FIRED_MEMO if fired_memo is None else max(0, fired_memo)
        read: set[str] = set()
        for rule in ruleset.rules:
            read |= conditions.facts_named(rule.when)
        self._request_read = tuple(sorted(n for n in read if not n.startswith("row.")))
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
        day = list_day(req, as_of)
        row = self.ruleset.find_row(req.service_item, req.certificate, day)
        facts = request_facts(self.ruleset, req, row, day, self.blacklist)
        plan = self._plans.of(row)
        if self._closed.is_set():  # the backend says so
            return self._decide(req, plan, day, facts, self._unmemoised)
        if self._durable:
            facts.update(plan.facts)
            return self._decide(req, plan, day, facts, self._fired_on_durable if self._fired_size else self._unmemoised)
        return self._decide(req, plan, day, facts, None)

    def decide_many(
        self, requests: Iterable[DecisionRequest | dict[str, Any]], as_of: date | datetime | None = None
    ) -> list[Decision | NocertError | ValueError]:
        """``decide`` for each request, in order: a list of the same length whose item is the
        Decision, or the error ``decide`` raises for that request (a ``RequestError`` for a
        malformed one; any ``NocertError``/``ValueError`` of one request), returned in its place
        so that one bad request does not lose the others. An engine closed is raised
        (``EngineClosedError``), not returned."""
        out: list[Decision | NocertError | ValueError] = []
        decide = self.decide
        for request in requests:
            try:
                out.append(decide(request, as_of))
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

    def facts_for(
        self, req: DecisionRequest, row: ListRow | None, as_of: date | datetime | None = None
    ) -> dict[str, Any]:
        """``facts_for`` as this engine decides on them: its blacklist store consulted, the row's
        facts those its plan holds (computed once per row version)."""
        facts = request_facts(self.ruleset, req, row, list_day(req, as_of), self.blacklist)
        facts.update(self._plans.of(row).facts)
        return facts

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
        them for ``self.facts_for(req, row, as_of)``); ``fire`` (default
        ``self.fire``) decides the declined alternative. ``decide`` on durable is this.

        When the applicant has not chosen (``wants_pledge`` unset) and a pledge is chosen, the
        decision awaits the choice and carries ``if_declined``: the same request with
        ``wants_pledge: false``, decided now (国办发〔2020〕42号 自主选择).
        """
        if facts is None:
            facts = self.facts_for(req, row, as_of)
        match = self._unmemoised if fire is None else lambda _plan, f: fire(f)
        return self._decide(req, self._plans.of(row), list_day(req, as_of), facts, match, fired)

    def _unmemoised(self, _plan: RowPlan, facts: dict[str, Any]) -> Sequence[str]:
        return self._compiled.fire(facts)

    def _fired_on_durable(self, plan: RowPlan, facts: dict[str, Any]) -> Collection[str]:
        """What durable_rules fires for ``facts``, kept by the row plan's rules and the request
        facts any rule reads: an exact memo (a fact no rule reads cannot change what fires;
        rows alike in every row fact read share their rule plan). Bounded (cleared when full);
        a durable_rules assertion is the dearest part of a decision on that backend. Bounded:
        the oldest entry goes when full, so a full memo stays the same size."""
        key = (id(plan.rules), *[facts.get(n) for n in self._request_read])  # rule plans live as long as the engine
        memo = self._fired_memo
        fired = memo.get(key)
        if fired is None:
            fired = frozenset(self._compiled.fire(facts))
            memo[key] = fired
            if len(memo) > self._fired_size:
                with contextlib.suppress(KeyError):  # another thread took it first
                    memo.popitem(last=False)
        return fired

    def _decide(
        self, req: DecisionRequest, plan: RowPlan, day: date, facts: dict[str, Any],
        fire: Match | None, fired: Sequence[str] | None = None,
    ) -> Decision:
        method, must_submit, trace = self._outcome(plan, facts, fire, fired)
        decision = self._assemble(req, plan, day, facts, method, must_submit, trace)
        if method is Method.PROXY and self.ruleset.officers is not None:  # the role (policy/officers.py)
            decision = name_proxy_role(self.ruleset, decision, req.requesting_unit)
        if req.wants_pledge is not None or method is not Method.PLEDGE:
            return decision
        alt_method, alt_must, alt_trace = self._outcome(plan, dict(facts, **{"request.wants_pledge": False}), fire)
        row = plan.row
        alt_deadline = self.deadline_for(alt_method, req.applicant.credit, req.requested_at, row, day)
        warnings = decision.warnings
        warnings += [w for w in self._warnings(req, row, day, alt_deadline) if w not in warnings]
        values = dict(decision.__dict__)
        values.update(
            awaiting_choice=True,
            trace=[*trace[:-1], self._await_step(alt_method), trace[-1]],  # engine.choose stays last
            warnings=warnings,
            if_declined=trusted(DeclinedAlternative, _DECLINED_GIVEN, {
                "method": alt_method,
                "applicant_must_submit": alt_must,
                "deadline": alt_deadline,
                "trace": alt_trace,
                "approval_clock": self._approval_clock(alt_method, row),
            }),
        )
        return trusted(Decision, _AWAITING_GIVEN, values)

    def _outcome(
        self, plan: RowPlan, facts: dict[str, Any], fire: Match | None, fired: Sequence[str] | None = None,
    ) -> tuple[Method, bool, list[TraceStep]]:
        """The method, whether the applicant must submit, and the trace, ending with the
        engine's choice (or the fallback) and, in an overlay, the level whose row decided.
        Which rules hold: ``fired``, else what ``fire`` matches, else the plan's own conditions."""
        ids: frozenset[str] | None = None
        if fired is not None or fire is not None:
            matched = fire(plan, facts) if fired is None else fired  # type: ignore[misc]
            ids = matched if isinstance(matched, frozenset) else frozenset(matched)
        chosen, trace = plan.rules.walk(facts, ids)
        method, must_submit, step = self._plans.final_step(chosen)
        trace.append(step)
        if plan.source is not None and self.ruleset.parent is not None:
            trace.append(self._plans.source_step(plan.source, method))
        return method, must_submit, trace

    def _assemble(
        self, req: DecisionRequest, plan: RowPlan, day: date, facts: dict[str, Any], method: Method,
        must_submit: bool, trace: list[TraceStep],
    ) -> Decision:
        """The Decision: the row plan's fields and constant parts, shared, and the request's own."""
        row = plan.row
        credit = req.applicant.credit
        at = req.requested_at
        deadline = self.deadline_for(method, credit, at, row, day)
        values = plan.fields.copy()  # every field, in order: the row's filled, the request's None
        values["request_id"] = req.request_id
        values["service_item"] = req.service_item
        values["certificate"] = req.certificate
        values["method"] = method
        values["applicant_must_submit"] = must_submit
        values["applicant"] = req.applicant.summary(at, self._key, credit=facts)
        values["requested_at"] = at
        values["trace"] = trace
        values["warnings"] = self._warnings(req, row, day, deadline)
        values["deadline"] = deadline
        values["ruleset"] = self._stamp_on(day, plan)
        if row is not None:
            if method is Method.DATA_SHARING:
                values["sharing_source"] = row.sharing_source
            elif method is Method.VERIFICATION and row.on_the_spot:
                values["approval_clock"] = self._approval_clock(method, row)
        if method is Method.PLEDGE:
            values["post_check"] = self._post_check_plan(credit, deadline)
        return trusted(Decision, _DECISION_GIVEN, values)

    def _stamp_on(self, day: date, plan: RowPlan) -> RulesetStamp:
        """The ruleset stamp of a decision on the list of ``day`` by ``plan``'s row version: one
        frozen stamp per (day, row version), shared, bounded (the oldest goes when full)."""
        key = (day, plan.version)
        stamp = self._stamps.get(key)
        if stamp is None:
            s = self._stamp
            stamp = self._stamps[key] = trusted(RulesetStamp, _STAMP_GIVEN, {
                "name": s.name, "version": s.version, "sha256": s.sha256, "backend": s.backend,
                "effective_date": key[0], "row_version": key[1],
            })
            if len(self._stamps) > self._stamp_size:
                with contextlib.suppress(KeyError):  # another thread took it first
                    self._stamps.popitem(last=False)
        return stamp

    def _warnings(
        self, req: DecisionRequest, row: ListRow | None, day: date, deadline: DeadlineInfo | None
    ) -> list[str]:
        """The ruleset's validity on ``day``, an unlisted request's codes (the manifest's
        ``unknown_service_item`` / ``unknown_certificate``), the deadline's own."""
        warnings = self._validity_warnings(day)
        if row is None:
            warnings.extend(self._unknown.check(req))
        if deadline is not None:
            warnings.extend(w for w in deadline.warnings if w not in warnings)
        return warnings

    def _await_step(self, declined: Method) -> TraceStep:
        """The step of a decision awaiting the applicant's choice (国办发〔2020〕42号 自主选择), in the
        ruleset's words (``wording.trace.awaiting_choice``), built once per method."""
        step = self._choice_steps.get(declined)
        if step is None:
            clause = self.ruleset.manifest.pledge_policy.choice_clause
            words = self.ruleset.manifest.wording
            step = self._choice_steps[declined] = TraceStep(
                rule_id="engine.await-choice",
                method=Method.PLEDGE,
                effect="choice",
                conclusion=say(words.trace.awaiting_choice, method=words.method(declined)),
                citation=self._plans.citation(clause) if clause else None,
            )
        return step

    def _approval_clock(self, method: Method, row: ListRow | None) -> ApprovalClockRule | None:
        """即办件 decided by verification: the manifest's ``on_the_spot`` rule, built once (the
        loader refuses a row that marks 即办件 when the manifest has none)."""
        if method is not Method.VERIFICATION or row is None or not row.on_the_spot:
            return None
        if self._approval_rule is None:
            policy = self.ruleset.manifest.on_the_spot
            if policy is None:
                return None
            self._approval_rule = ApprovalClockRule(
                rule=policy.rule,
                clause=policy.clause,
                citation=self._plans.citation(policy.clause),
                working_minutes=policy.working_minutes,
                limit_clause=policy.limit_clause,
            )
        return self._approval_rule

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

    def fire(self, facts: dict[str, Any]) -> list[str]:
        """Run the compiled rules over ``facts``; the ids of the rules that fired, in order."""
        return self._compiled.fire(facts)

    def close(self) -> None:
        """Free the compiled rules now (else they are freed when the engine is collected).

        ``decide`` raises ``EngineClosedError`` afterwards. ``with Engine(rs) as engine:`` closes it.
        """
        self._closed.set()
        self._compiled.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


    # ------------------------------------------------------------------ deadlines and warnings

    def _validity_warnings(self, day: date) -> list[str]:
        """The ruleset out of its validity on ``day`` (施行期限 in Zibo), in its words, worded once."""
        m = self.ruleset.manifest
        if m.effective_until is not None and day > m.effective_until:
            return [self._validity[0]]
        if day < m.effective_from:
            return [self._validity[1]]
        return []

    def deadline_for(
        self, method: Method, credit: CreditLevel, at: datetime, row: ListRow | None, day: date
    ) -> DeadlineInfo | None:
        """The deadline a decision by ``method`` carries for a request at ``at`` by an applicant
        of ``credit``, with ``row`` on the list's ``day``: a pledge's post-check (三(三)2), a
        verification's reply (附件2 第七条 in Zibo), else none. ``_assemble`` takes its
        deadline from here."""
        if method is Method.PLEDGE:
            return self._post_check_deadline(credit, at)
        if method is Method.VERIFICATION and row is not None:
            return self._verification_deadline(at, row, day)
        return None

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
            d = post_check_due(at, days, self.ruleset.calendar, clause=plan.clause, policy=self.ruleset.deadline_policy)
            deadline = self._remember(key, DeadlineInfo(
                kind="post_check", due_at=d.due_at, rule=d.rule, clause=plan.clause, warnings=list(d.warnings)
            ))
        return deadline

    def _post_check_plan(self, credit: CreditLevel, deadline: DeadlineInfo | None) -> PostCheckPlan:
        """The post-check plan of a pledge by the applicant's credit, due with ``deadline``."""
        plan = self.ruleset.manifest.pledge_policy.post_check[credit]
        return trusted(PostCheckPlan, _PLAN_GIVEN, {
            "credit": credit,
            "waived": plan.waived,
            "within_working_days": plan.within_working_days,
            "description": plan.description,
            "due_at": deadline.due_at if deadline is not None else None,
            "citation": self._plans.citation(plan.clause),
        })

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
