"""What a dry-run summary counts of one decision (an ``Outcome``), and an exact cache of them.

A dry-run without ``--out`` needs of each Decision only what ``Summary`` counts: the method,
listed or not, the issuing unit, the pledge blocks, the deadline's rule and due time, the
warnings. :func:`outcome_of` takes exactly that from a Decision; ``Summary.add_decision`` is
``add_outcome(outcome_of(decision))``, so both paths count through the same code.

:class:`OutcomeCache` keeps outcomes keyed on everything a decision depends on: the validated
request without the fields that a decision only copies or masks (``request_id``,
``requesting_unit``, ``applicant.id_number``, ``applicant.name``), and what the decision reads of
the request's day (``Engine.day_signature``: the row version in force, a pending adjustment, the
ruleset's validity; the credit facts of the day where the applicant has dates of its own). An
outcome with a deadline is kept without its due time, which is the engine's for each request
(``Engine.deadline_for``, where decisions take their deadline from); a deadline with a calendar
warning of its own sends the request the general way. An engine with a false-pledge store
(which looks the ID number up) gets no cache.

Validating a request costs more than looking its outcome up, so the cache also checks requests
in two parts, each exactly as ``DecisionRequest`` does: the *template* (every field but the
per-case ones, validated once by the model itself with placeholder per-case values; its fields
do not depend on each other) and the per-case fields (lengths and types as the model declares
them, ``privacy.contains_id_number`` for the fields it checks, ``requested_at`` by the model's own
type). Whatever the cache cannot vouch for (another type, a nested value, a field the model
would refuse) goes the general way: ``parse_request`` and ``Engine.decide``, errors and all.

Sharing, each exact for its own reason (the docstrings say why): day signatures are numbered
per codes and day, and codes no list version holds share one per day (``_signature``); a
deadline's due time is kept per shared entry and day, or time by the clock; unlisted requests
decided alike but for their codes share one decision and take their own code warnings
(``_other_codes``).

The dry-run's fast lane (``line_outcome``, with the extra ``fast``): a case line's object as
orjson read it is taken apart (per-case fields out) and its template looked up by orjson's text
of what is left, with no copy of the line and no walk over its fields.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from nocert_rules.engine.core import facts_for
from nocert_rules.engine.credit import credit_facts
from nocert_rules.enums import CreditLevel, Method
from nocert_rules.models import (
    Applicant,
    DeadlineInfo,
    Decision,
    DecisionRequest,
    RequestDatetime,
)
from nocert_rules.privacy import contains_id_number
from nocert_rules.tools.casefile import floats_in

try:  # the extra ``fast``: the dry-run's fast lane keys templates by orjson's text of them
    from orjson import dumps as _dumps
except ImportError:  # pragma: no cover - without the extra the lane is off (casefile.fast_loads)
    _dumps = None

if TYPE_CHECKING:
    from nocert_rules.policy.ruleset import Ruleset

NOT_LISTED = "（不在清单 / not listed）"
"""The issuer column of decisions without a row."""

MAX_ENTRIES = 131_072
"""Each of the cache's tables is cleared when it holds this many entries (memory stays flat)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """A decision as the dry-run summary counts it (``Summary.add_outcome``)."""

    method: Method
    listed: bool
    unknown: str | None  # "service_item" or "certificate" when not listed, else None
    must_submit: bool
    issuer: str
    pledge_blocked_by: tuple[str, ...]
    deadline: tuple[str, str, str] | None  # (kind, rule, clause)
    due_at: datetime | None
    warnings: tuple[str, ...]


def outcome_of(decision: Decision, ruleset: Ruleset) -> Outcome:
    """What ``Summary`` counts of ``decision``."""
    unknown = None
    if not decision.listed:
        unknown = "certificate" if decision.service_item in ruleset.service_items else "service_item"
    d = decision.deadline
    return Outcome(
        method=decision.method,
        listed=decision.listed,
        unknown=unknown,
        must_submit=decision.applicant_must_submit,
        issuer=decision.issuer or NOT_LISTED,
        pledge_blocked_by=tuple(
            s.rule_id for s in decision.trace if s.effect == "block" and s.method is Method.PLEDGE
        ),
        deadline=(d.kind, d.rule, d.clause) if d is not None else None,
        due_at=d.due_at if d is not None else None,
        warnings=tuple(decision.warnings),
    )


# Fields a decision copies (masked) but never decides by; the rest of the request is the key.
_PER_CASE = frozenset({"requested_at", "request_id", "requesting_unit"})
_PER_PERSON = frozenset({"id_number", "name"})
_KEY_FIELDS = tuple(name for name in DecisionRequest.model_fields if name not in _PER_CASE and name != "applicant")
_APPLICANT_KEY_FIELDS = tuple(name for name in Applicant.model_fields if name not in _PER_PERSON)
_SCALARS = (str, bool, type(None))
_PLACEHOLDER_ID = "0"
_PLACEHOLDER_AT = "2021-06-01T10:00"

# The model's own limits for the per-case fields (read from the model, not repeated here).
def _max_length(model: Any, name: str) -> int:
    for meta in model.model_fields[name].metadata:
        if hasattr(meta, "max_length") and meta.max_length is not None:
            return int(meta.max_length)
    raise LookupError(name)  # pragma: no cover - the models declare them


_MAX_ID = _max_length(Applicant, "id_number")
_MAX_NAME = _max_length(Applicant, "name")
_MAX_REQUEST_ID = _max_length(DecisionRequest, "request_id")
_MAX_UNIT = _max_length(DecisionRequest, "requesting_unit")
_INVALID = object()
_MISSING = object()
_GENERAL = object()
_DATED = "<dated>"
_SIGNATURE = "<day signature>"
_NEVER_LISTED = "<codes never listed>"
_PLACEHOLDER_DAY = "2000-01-01"
_DAYS_PER_TEMPLATE = 4096
_DATE_FIELDS = frozenset(n for n, f in Applicant.model_fields.items() if f.annotation in (date, date | None))
"""The applicant's own dates: validated per case (they differ from case to case)."""


_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    "requested_at": TypeAdapter(RequestDatetime),
    **{n: TypeAdapter(Applicant.model_fields[n].annotation) for n in _DATE_FIELDS},
}


class OutcomeCache:
    """Outcomes of requests (plain dicts, as case files give them), computed once per key.

    ``decider``: the dry-run's engine (an ``Engine`` or a ``CachedEngine``), used for every miss.
    ``hits`` and ``misses`` count the requests answered from the cache and decided.
    """

    def __init__(self, decider: Any, ruleset: Ruleset, maxsize: int = MAX_ENTRIES) -> None:
        self.decider = decider
        self.engine = getattr(decider, "engine", decider)
        self.ruleset = ruleset
        self.enabled = getattr(self.engine, "blacklist", None) is None
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._templates: dict[tuple[Any, ...], Any] = {}
        self._parts: dict[tuple[Any, ...], int] = {}
        self._values: dict[tuple[str, Any], Any] = {}  # (field, raw) -> validated, or _INVALID
        self._outcomes: dict[tuple[Any, ...], Any] = {}
        self._dated: dict[tuple[Any, ...], tuple[_Dated, Outcome]] = {}  # (id(entry), day or time) -> its outcome then
        self._coarse: dict[tuple[Any, ...], Any] = {}  # Engine.outcome_key -> entry
        self._signatures: dict[tuple[str, str, date], int] = {}  # codes and day -> day_signature's number
        self._unlisted: dict[tuple[Any, ...], Any] = {}  # outcome_key without codes -> (entry, validity warnings)
        self._keys: dict[tuple[Any, ...], int] = {}  # (part, day signature) -> number
        self._numbers = itertools.count()
        self._deadlines: dict[tuple[Any, ...], DeadlineInfo | None] = {}  # by-day deadlines of rows
        self._times: dict[str, Any] = {}  # requested_at text -> (validated, its day), or _INVALID
        self._lines: dict[bytes, Any] = {}  # a case line's template as JSON text -> template, or None

    # ------------------------------------------------------------------ keys

    def _template_key(self, request: dict[str, Any]) -> tuple[Any, ...] | None:
        """The request without its per-case fields (and with the applicant's dates as present
        or not), or None when a value is not a plain JSON scalar."""
        applicant = request.get("applicant")
        if type(applicant) is not dict:
            return None
        scalars = _SCALARS
        top = []
        for item in request.items():
            if item[0] in _PER_CASE or item[0] == "applicant":
                continue
            if type(item[1]) not in scalars:
                return None
            top.append(item)
        person = []
        for item in applicant.items():
            name = item[0]
            if name in _PER_PERSON:
                continue
            if type(item[1]) not in scalars:
                return None
            if name in _DATE_FIELDS and item[1] is not None:
                person.append((name, _DATED))
            else:
                person.append(item)
        return (tuple(top), tuple(person))

    def _template(self, template: tuple[Any, ...]) -> Any:
        """``(key part, service item, certificate, applicant)`` of a template, or ``_INVALID``:
        validated by the model itself, with valid placeholders for the per-case fields (the
        model validates fields independently). The key part is numbered. ``applicant`` is given
        when the request carries dates of its own (a blacklisting, a credit repair): the key
        then holds the credit facts of the day (``engine.credit.credit_facts``), not the dates."""
        top, person = template
        data = dict(top)
        data["applicant"] = {k: (_PLACEHOLDER_DAY if v is _DATED else v) for k, v in person}
        data["applicant"]["id_number"] = _PLACEHOLDER_ID
        data["requested_at"] = _PLACEHOLDER_AT
        try:
            req = DecisionRequest.model_validate(data)
        except ValidationError:
            return _INVALID
        a = req.applicant
        dated = any(v is _DATED for _, v in person)
        values = (tuple(getattr(req, n) for n in _KEY_FIELDS),
                  tuple(_DATED if n in _DATE_FIELDS and getattr(a, n) is not None else getattr(a, n)
                        for n in _APPLICANT_KEY_FIELDS))
        parts = self._parts
        part = parts.get(values)
        if part is None:
            if len(parts) >= self.maxsize:
                parts.clear()
            part = parts[values] = next(self._numbers)  # a small int: cheap to hash
        rs = self.ruleset
        never_listed = not rs.row_versions(req.service_item, req.certificate) and not any(
            adjustment.key == (req.service_item, req.certificate) for adjustment in rs.adjustments)
        return _Template(part, req.service_item, req.certificate, a if dated else None, req, {}, never_listed)

    def _value(self, field: str, raw: Any) -> Any:
        """A per-case field's raw value validated by the model's own type for it (memoised)."""
        values = self._values
        key = (field, raw)
        value = values.get(key, _MISSING)
        if value is _MISSING:
            if len(values) >= self.maxsize:
                values.clear()
            try:
                value = _ADAPTERS[field].validate_python(raw)
            except ValidationError:
                value = _INVALID
            values[key] = value
        return value

    def key(self, request: dict[str, Any]) -> tuple[int, datetime, _Template, Applicant | None] | None:
        """``(key, requested_at, template, applicant)`` of a request the model accepts, or None
        when the cache cannot vouch for it (the general path then validates it, and reports
        what is wrong). The key (a number) stands for the template and the day's signature
        (``Engine.day_signature``). ``applicant``: with the case's own dates, when it has any."""
        entry = self._entry(request)
        if entry is None:
            return None
        applicant = request["applicant"]
        return self._per_case(entry, applicant, applicant.get("id_number"), applicant.get("name"),
                              request.get("request_id"), request.get("requesting_unit"),
                              request.get("requested_at", _MISSING))

    def _entry(self, request: dict[str, Any]) -> _Template | None:
        """The validated template of ``request`` (None: not one the cache can vouch for)."""
        template = self._template_key(request)
        if template is None:
            return None
        templates = self._templates
        entry = templates.get(template)
        if entry is None:
            if len(templates) >= self.maxsize:
                templates.clear()
            entry = templates[template] = self._template(template)
        return None if entry is _INVALID else entry  # type: ignore[return-value]

    def line_outcome(self, case: dict[str, Any]) -> tuple[Outcome, datetime] | None:
        """``outcome`` of the request a case line holds, given the line's object as orjson read
        it (with ``case_id`` and ``expected_method``, which the request does not hold): the
        same answer, found faster. The object is taken apart: its per-case fields are removed
        (the caller has read the case fields first), and what is left, the template, is looked
        up by its JSON text (``orjson.dumps``), which tells ``true`` from ``1`` and keeps every
        field, known or not. None: decide it the general way (``outcome`` of the request read
        again, then ``parse_request`` and ``Engine.decide``)."""
        if not self.enabled or _dumps is None:
            return None
        applicant = case.get("applicant")
        if type(applicant) is not dict:
            return None
        pop = case.pop
        pop("case_id", None)
        pop("expected_method", None)
        raw_at = pop("requested_at", _MISSING)
        request_id = pop("request_id", None)
        unit = pop("requesting_unit", None)
        id_number = applicant.pop("id_number", None)
        name = applicant.pop("name", None)
        try:
            key = _dumps(case)
        except TypeError:  # not what orjson writes back (e.g. an integer past 64 bits)
            return None
        lines = self._lines
        entry = lines.get(key, _MISSING)
        if entry is _MISSING:
            if len(lines) >= self.maxsize:
                lines.clear()
            # A float anywhere (orjson reads integers past 64 bits as floats, json does not):
            # the general way, for every line of this text.
            # Kept as a copy of its own size: orjson's bytes keep their write buffer (~3 KiB).
            entry = lines[bytes(memoryview(key))] = None if floats_in(case) else self._entry(case)
        if entry is None:
            return None
        found = self._per_case(entry, applicant, id_number, name, request_id, unit, raw_at)
        return None if found is None else self._outcome_of_key(*found)

    def _per_case(
        self, entry: _Template, applicant: dict[str, Any], id_number: Any, name: Any, request_id: Any,
        unit: Any, raw_at: Any,
    ) -> tuple[int, datetime, _Template, Applicant | None] | None:
        """``key`` once the template is known: the per-case fields checked as the model does
        (``applicant``: for the applicant's own dates)."""
        if type(id_number) is not str or not 0 < len(id_number) <= _MAX_ID or id_number.isspace():
            return None
        if name is not None and (type(name) is not str or len(name) > _MAX_NAME):
            return None
        if request_id is not None and (type(request_id) is not str or len(request_id) > _MAX_REQUEST_ID
                                       or contains_id_number(request_id)):
            return None
        if unit is not None and (type(unit) is not str or len(unit) > _MAX_UNIT or contains_id_number(unit)):
            return None
        if type(raw_at) is str:
            times = self._times
            moment = times.get(raw_at)
            if moment is None:
                if len(times) >= self.maxsize:
                    times.clear()
                try:
                    valid = _ADAPTERS["requested_at"].validate_python(raw_at)
                    moment = times[raw_at] = (valid, valid.date())  # one day object: cheap to look up
                except ValidationError:
                    moment = times[raw_at] = _INVALID
            if moment is _INVALID:
                return None
            at, day = moment
        elif not isinstance(raw_at, datetime):  # absent, or not for the cache
            return None
        else:  # --as-of: one datetime for every case
            try:
                at = _ADAPTERS["requested_at"].validate_python(raw_at)
            except ValidationError:
                return None
            day = at.date()
        dated = entry.dated
        if dated is None:
            number = entry.days.get(day)
            if number is None:
                if len(entry.days) >= _DAYS_PER_TEMPLATE:
                    entry.days.clear()
                number = entry.days[day] = self._number((entry.part, self._signature(entry, day)))
            return number, at, entry, None
        signature: Any = self._signature(entry, day)
        if dated is not None:  # the applicant's dates count through the credit facts alone
            update = {}
            for field in _DATE_FIELDS:
                raw = applicant.get(field)
                if raw is not None:
                    value = self._value(field, raw)
                    if value is _INVALID:
                        return None
                    update[field] = value
            person = dated.model_copy(update=update)
            signature = (signature, tuple(credit_facts(self.ruleset, person, at).values()))
        return self._number((entry.part, signature)), at, entry, person

    def _signature(self, entry: _Template, day: date) -> int:
        """``Engine.day_signature`` of the template's codes on ``day``, numbered (``_number``) and
        kept per codes and day: every template of a row shares it, and keys holding it are
        cheap to hash. Codes no version of the list holds and no adjustment names have the same
        signature on a day whatever they are (no row, no limit, nothing pending: the day's
        validity alone), so they share one per day."""
        key = (entry.service_item, entry.certificate, day) if not entry.never_listed else (_NEVER_LISTED, day)
        signatures = self._signatures
        signature = signatures.get(key)
        if signature is None:
            if len(signatures) >= self.maxsize:
                signatures.clear()
            signature = signatures[key] = self._number(
                (_SIGNATURE, self.engine.day_signature(entry.service_item, entry.certificate, day)))
        return signature

    def _number(self, key: tuple[Any, ...]) -> int:
        """Keys are numbered (cheap to hash, small to keep). Numbers are never reused, so any
        table may be cleared on its own when full."""
        keys = self._keys
        number = keys.get(key)
        if number is None:
            if len(keys) >= self.maxsize:
                keys.clear()
            number = keys[key] = next(self._numbers)
        return number

    # ------------------------------------------------------------------ outcomes

    def outcome(self, request: dict[str, Any]) -> tuple[Outcome, datetime] | None:
        """The outcome of ``request`` and its ``requested_at`` (from the cache, or decided now);
        None when the caller should decide it the general way. Deciding may raise what
        ``Engine.decide`` raises (the request is then not cached).

        An outcome with a deadline is kept without it; the deadline is the engine's for this
        request's time (``Engine.deadline_for``, the function decisions take it from)."""
        if not self.enabled:
            return None
        found = self.key(request)
        if found is None:
            return None
        return self._outcome_of_key(*found)

    def _outcome_of_key(
        self, key: int, at: datetime, entry: _Template, person: Applicant | None
    ) -> tuple[Outcome, datetime] | None:
        hit = self._outcomes.get(key)
        if hit is None:
            # Not seen: another request may have been decided alike (Engine.outcome_key). The
            # template's facts are the case's on its day, but for an applicant with dates.
            template = entry.request
            if person is not None:
                template = template.model_copy(update={"applicant": person, "requested_at": at})
            day = at.date()
            row = self.engine.find_row(template, day)
            facts = facts_for(self.ruleset, template, row, day)
            coarse = self.engine.outcome_key(template, row, facts, day)
            hit = self._coarse.get(coarse)
            if hit is None and row is None:
                hit = self._other_codes(coarse, template, day)
                if hit is not None:
                    self._keep(self._coarse, coarse, hit)
            if hit is not None:
                self._remember(key, hit)
        if hit is not None:
            if type(hit) is Outcome:
                self.hits += 1
                return hit, at
            if hit is _GENERAL:
                return None
            # Kept per entry (shared by every key decided alike) and day, or time by the clock.
            dated_key = (id(hit), at.date() if hit.by_day else at)
            found = self._dated.get(dated_key)
            if found is not None and found[0] is hit:
                outcome = found[1]
            else:
                outcome = self._with_deadline(hit, at)
                if outcome is None:
                    return None
                if len(self._dated) >= self.maxsize:
                    self._dated.clear()
                self._dated[dated_key] = (hit, outcome)  # the entry itself: its id stays its own
            self.hits += 1
            return outcome, at
        self.misses += 1
        # Decided as its template at its time: what the template leaves out (request id, unit,
        # ID number, name) is never read for what an outcome holds, as the key has it.
        req = template if person is not None else template.model_copy(update={"requested_at": at})
        decision = self.decider.decide(req)
        outcome = outcome_of(decision, self.ruleset)
        alt = decision.if_declined
        deadlines = [d for d in (decision.deadline, alt.deadline if alt is not None else None) if d is not None]
        kept: Any
        if not deadlines:
            kept = outcome
        elif any(d.warnings for d in deadlines):
            kept = _GENERAL  # a calendar warning of the deadline's own: rare, decided each time
        else:
            engine, credit, row = self.engine, req.applicant.credit, self.engine.find_row(req)
            methods = [decision.method] + ([alt.method] if alt is not None else [])
            by_day = all(engine.deadline_goes_by_day(m, credit, row, day) for m in methods)
            kept = _Dated(outcome, decision.method, alt.method if alt is not None else None, credit, row, by_day)
        self._remember(key, kept)
        self._keep(self._coarse, coarse, kept)
        if row is None and kept is not _GENERAL:
            validity = self._validity_warnings(req, day)
            if outcome.warnings == validity + tuple(self.engine.unknown_code_warnings(req)):
                self._keep(self._unlisted, self._without_codes(coarse, req), (kept, len(validity)))
        return outcome, decision.requested_at

    # ------------------------------------------------------------------ unlisted codes

    def _validity_warnings(self, req: DecisionRequest, day: date) -> tuple[str, ...]:
        """The ruleset's validity warnings of ``day`` (``Engine.day_signature``), which come first."""
        return tuple(self.engine.day_signature(req.service_item, req.certificate, day)[3][1])

    def _without_codes(self, coarse: tuple[Any, ...], req: DecisionRequest) -> tuple[Any, ...]:
        """An unlisted request's ``Engine.outcome_key`` with its codes replaced by what the
        summary counts of them: an unknown service item, or an unknown certificate."""
        unknown = "certificate" if req.service_item in self.ruleset.service_items else "service_item"
        return (*coarse[:4], unknown, *coarse[5:])

    def _other_codes(self, coarse: tuple[Any, ...], req: DecisionRequest, day: date) -> Any:
        """An unlisted request decided alike but for its codes (same facts, choice, validity,
        credit, kind of unknown code): its outcome with this request's code warnings. Exact
        because an unlisted decision reads its codes only for those warnings, which follow the
        validity warnings, and the entry was kept only where its warnings were exactly those
        (no deadline warning among them: a deadline's own warnings send a request the general
        way, ``_with_deadline``). None: decide it."""
        found = self._unlisted.get(self._without_codes(coarse, req))
        if found is None:
            return None
        kept, validity = found
        base = kept.outcome if type(kept) is _Dated else kept
        warnings = (*base.warnings[:validity], *self.engine.unknown_code_warnings(req))
        outcome = Outcome(base.method, base.listed, base.unknown, base.must_submit, base.issuer,
                          base.pledge_blocked_by, base.deadline, base.due_at, warnings)
        return _Dated(outcome, kept.method, kept.alt_method, kept.credit, kept.row, kept.by_day) \
            if type(kept) is _Dated else outcome

    # ------------------------------------------------------------------ shared entries

    def _keep(self, table: dict[tuple[Any, ...], Any], key: tuple[Any, ...], entry: Any) -> None:
        if len(table) >= self.maxsize:
            table.clear()
        table[key] = entry

    def _remember(self, key: int, entry: Any) -> None:
        outcomes = self._outcomes
        if len(outcomes) >= self.maxsize:
            outcomes.clear()
            self._dated.clear()
        outcomes[key] = entry

    def _with_deadline(self, entry: _Dated, at: datetime) -> Outcome | None:
        """``entry``'s outcome with the deadline the engine gives at ``at`` (None: a deadline
        with a calendar warning of its own, for the general path)."""
        day = at.date()
        deadline = self._deadline(entry.method, entry, at, day)
        if deadline is not None and deadline.warnings:
            return None
        if entry.alt_method is not None:
            declined = self._deadline(entry.alt_method, entry, at, day)
            if declined is not None and declined.warnings:
                return None
        o = entry.outcome
        if deadline is None:
            return Outcome(o.method, o.listed, o.unknown, o.must_submit, o.issuer, o.pledge_blocked_by, None, None,
                           o.warnings)
        return Outcome(o.method, o.listed, o.unknown, o.must_submit, o.issuer, o.pledge_blocked_by,
                       (deadline.kind, deadline.rule, deadline.clause), deadline.due_at, o.warnings)


    def _deadline(self, method: Method, entry: _Dated, at: datetime, day: date) -> DeadlineInfo | None:
        """``Engine.deadline_for``; kept per method, credit, row and day when it goes by the day
        (many templates share a row's deadline of a day)."""
        if not entry.by_day:
            return self.engine.deadline_for(method, entry.credit, at, entry.row, day)
        key = (method, entry.credit, id(entry.row), day)
        deadlines = self._deadlines
        found = deadlines.get(key, _MISSING)
        if found is _MISSING:
            if len(deadlines) >= self.maxsize:
                deadlines.clear()
            found = deadlines[key] = self.engine.deadline_for(method, entry.credit, at, entry.row, day)
        return found  # type: ignore[return-value]


@dataclass(slots=True)
class _Template:
    """A request template, validated: its key part's number, its codes, the applicant (when it
    has dates of its own), the validated request, and its keys by day."""

    part: int
    service_item: str
    certificate: str
    dated: Applicant | None
    request: DecisionRequest
    days: dict[date, int]
    never_listed: bool = False  # no version of the list holds the codes, no adjustment names them


@dataclass(frozen=True, slots=True)
class _Dated:
    """An outcome whose deadline (or the declined alternative's) is computed per request."""

    outcome: Outcome
    method: Method
    alt_method: Method | None
    credit: CreditLevel
    row: Any
    by_day: bool  # the deadlines go by the day (else by the clock): their outcomes are kept so


__all__ = ["NOT_LISTED", "Outcome", "OutcomeCache", "outcome_of"]
