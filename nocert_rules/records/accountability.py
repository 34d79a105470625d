"""责任追究 accountability cases derived from records and check findings (附件5 第四条, 第八条).

The records already know when something went wrong; this module says which case of the
ruleset's accountability clause each one is, against which unit, citing the clause's text:

=============================  ===========================================  ==================
what the records show          case (``manifest.accountability.cases``)     responsible unit
=============================  ===========================================  ==================
a verification answered late   ``late_verification``                        the issuing unit
  or still unanswered when
  overdue / escalated
a guide asks for a forbidden   ``unauthorised_request``                     the guide's unit
  certificate (check-guide)
a method applied that the      ``method_changed``                           the applying unit
  list does not allow
a post-check done late         ``pledge_not_checked``                       the checking unit
a complaint concluded late     ``other_serious`` (to be assessed)           the units concerned
an adjustment applied late     ``other_serious`` (to be assessed)           the applying unit
=============================  ===========================================  ==================

Cases of ``other_serious`` are *candidates*: whether they caused serious consequences is for
the units with accountability functions to find (第五条). A host marks an exemption
(第八条) with :func:`exempt`; the case keeps it with the clause's text.

Clause ids, item numbers and wording come from the ruleset (``manifest.accountability``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nocert_rules.enums import Method, ReplacementMethod, RowStatus
from nocert_rules.errors import RecordError
from nocert_rules.fileio import JsonLineError, json_lines
from nocert_rules.models import Citation, ShanghaiDatetime, as_shanghai
from nocert_rules.policy.publication import check_schedule
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.records import RecordProblem
from nocert_rules.records.exemptions import ExemptionApplication
from nocert_rules.records.publication import ListPublication

__all__ = [
    "AccountabilityCase",
    "AccountabilityError",
    "Exemption",
    "applied_method_cases",
    "as_of_moment",
    "cases_from_records",
    "exempt",
    "guide_cases",
    "read_records",
]

CaseKind = Literal[
    "unauthorised_request", "method_changed", "late_verification", "falsified", "pledge_not_checked", "other_serious"
]



class AccountabilityError(RecordError):
    """The ruleset has no accountability policy, or an input line is unreadable (file:line)."""


class Exemption(BaseModel):
    """A 免于追究 ground a host marked (第八条 in Zibo), with the clause's text."""

    model_config = ConfigDict(frozen=True)

    ground: str
    note: str
    marked_at: ShanghaiDatetime
    citation: Citation
    application_id: str | None = Field(default=None, description="the ExemptionApplication that granted it")
    filed: bool = Field(default=False, description="免责备案 done (the application's state filed)")


class AccountabilityCase(BaseModel):
    """One case for the units with accountability functions: what, whose, under which clause."""

    model_config = ConfigDict(frozen=True)

    kind: CaseKind
    item: str
    unit: str
    source: str
    detail: str
    at: ShanghaiDatetime | None = None
    candidate: bool = False
    citation: Citation
    due_at: ShanghaiDatetime | None = Field(default=None, description="the deadline the record shows (its act's due time)")
    deadline: Citation | None = Field(default=None, description="the clause that sets that deadline (from the ruleset)")
    act_missing: bool = Field(
        default=False, description="the act is not recorded at all by as_of (not merely late): a candidate to check"
    )
    exemption: Exemption | None = None
    officers: list[str] = Field(
        default_factory=list, description="the officers the record names (pseudonymised ids, officers file)"
    )
    duties: Citation | None = Field(default=None, description="the officers' duties clause (officers file)")


def _policy(ruleset: Ruleset) -> Any:
    policy = ruleset.manifest.accountability
    if policy is None:
        raise AccountabilityError(
            f"规则集 {ruleset.name} 未配置 accountability / the ruleset has no manifest.accountability section"
        )
    return policy


def _detail(ruleset: Ruleset, finding: str, **values: Any) -> str:
    """The manifest's sentence for ``finding`` (``accountability.details``), its placeholders
    filled from the record (the loader checked that it names no others)."""
    return _policy(ruleset).details[finding].format(**values)


def _case(ruleset: Ruleset, kind: CaseKind, unit: str | None, source: str, detail: str,
          at: datetime | None = None, *, due: Any = None, deadline_clause: str | None = None,
          act_missing: bool = False) -> AccountabilityCase:
    policy = _policy(ruleset)
    return AccountabilityCase(
        kind=kind,
        item=policy.cases[kind],
        unit=(unit or "").strip() or policy.details["unit_not_recorded"],
        source=source,
        detail=detail,
        at=at,
        candidate=kind == "other_serious" or act_missing,
        citation=ruleset.citation(policy.clause),
        due_at=_at(due),
        deadline=_cite(ruleset, deadline_clause),
        act_missing=act_missing,
    )


def _cite(ruleset: Ruleset, clause: str | None) -> Citation | None:
    """The clause's citation when the ruleset has it (a record may carry a clause id of its own)."""
    return ruleset.citation(clause) if clause and clause in ruleset.clauses else None


def exempt(ruleset: Ruleset, case: AccountabilityCase, ground: str, note: str, at: datetime, *,
           application_id: str | None = None, filed: bool = False) -> AccountabilityCase:
    """The case with an exemption marked on one of the exemption clause's grounds (e.g. ``(四)``);
    ``application_id``/``filed``: the granted application (``records.exemptions``) it comes from."""
    policy = _policy(ruleset)
    if ground not in policy.exemption_grounds:
        raise AccountabilityError(
            f"未知免责情形 {ground!r} / unknown exemption ground; known: {', '.join(policy.exemption_grounds)}"
        )
    if not note.strip():
        raise AccountabilityError("免责须写明理由 / an exemption needs a note")
    return case.model_copy(update={"exemption": Exemption(
        ground=ground, note=note.strip(), marked_at=at, citation=ruleset.citation(policy.exemption_clause),
        application_id=application_id, filed=filed,
    )})


# ---------------------------------------------------------------- from records


def cases_from_records(
    ruleset: Ruleset, records: Iterable[tuple[str, Mapping[str, Any]]], *, as_of: date | datetime | None = None
) -> list[AccountabilityCase]:
    """Cases from ``(record kind, record fields)`` pairs, as :func:`read_records` yields them.

    Kinds read: ``VerificationRequest``, ``PledgeRecord``, ``Complaint``, ``AdjustmentApplication``,
    ``AdjustmentCause`` (a cause noted, the application still owed), ``ListPublication``,
    ``GuideFinding`` (a check-guide finding with a ``unit``) and ``AppliedMethod`` (service_item,
    certificate, method, unit). Other kinds are skipped. The latest state of a record counts.

    Without ``as_of`` only what the records flag late is a case. With ``as_of`` (a day means its
    end; a datetime that moment) a record whose deadline passed before it without its act is a
    case too (``act_missing``, a candidate: the record may be behind the facts): a verification
    neither answered nor returned, a post-check not done, an accepted complaint not concluded or
    terminated, a noted adjustment cause without its application, a list not published by its
    schedule (``ListPublication`` records: :func:`~nocert_rules.policy.publication.check_schedule`).
    And a flagged-late case counts only when its deadline was before ``as_of``.

    ``ExemptionApplication`` records (``records.exemptions``) granted (before ``as_of``) mark the
    case they name exempt (:func:`exempt`, 第八条 in Zibo).
    """
    moment = as_of_moment(as_of)
    latest: dict[tuple[str, str], tuple[str, Mapping[str, Any]]] = {}
    extra: list[tuple[str, Mapping[str, Any]]] = []
    publications: list[Mapping[str, Any]] = []
    exemptions: dict[str, Mapping[str, Any]] = {}
    for kind, data in records:
        rid = data.get("id")
        if kind == "ListPublication":
            publications.append(data)
        elif kind == "ExemptionApplication" and isinstance(rid, str):
            exemptions[rid] = data  # the latest version of each application counts
        elif isinstance(rid, str) and kind in _BY_KIND:
            latest[(kind, rid)] = (kind, data)
        else:
            extra.append((kind, data))
    out: list[AccountabilityCase] = []
    for kind, data in latest.values():
        out.extend(c for c in _BY_KIND[kind](ruleset, data, moment) if moment is None or _due_before(c, moment))
    for kind, data in extra:
        handler = _BY_LINE.get(kind)
        if handler is not None:
            out.extend(handler(ruleset, data))
    if moment is not None and publications:
        out.extend(_publication(ruleset, publications, moment))
    return _with_exemptions(ruleset, out, exemptions, moment)


def _with_exemptions(ruleset: Ruleset, cases: list[AccountabilityCase], exemptions: dict[str, Mapping[str, Any]],
                     moment: datetime | None) -> list[AccountabilityCase]:
    """Each case that a granted (or filed) ``ExemptionApplication`` names, marked exempt (第八条)."""
    granted: dict[tuple[str, str], ExemptionApplication] = {}
    for data in exemptions.values():
        try:
            app = ExemptionApplication.model_validate({k: v for k, v in data.items() if k != "record_type"})
        except RecordProblem as exc:
            raise AccountabilityError(str(exc)) from None
        if app.exempts and app.decided_at is not None and (moment is None or app.decided_at < moment):
            granted[(app.case_source, app.case_kind)] = app
    out = []
    for case in cases:
        app = granted.get((case.source, case.kind))
        if app is not None and app.decided_at is not None:
            case = exempt(ruleset, case, app.ground, app.decision_note or app.reason, app.decided_at,
                          application_id=app.id, filed=app.state == "filed")
        out.append(case)
    return out


def as_of_moment(as_of: date | datetime | None) -> datetime | None:
    """``as_of`` as a moment in Asia/Shanghai: a day means its end (the first moment of the next)."""
    if as_of is None or isinstance(as_of, datetime):
        return as_shanghai(as_of) if as_of is not None else None
    return as_shanghai(datetime.combine(as_of + timedelta(days=1), time()))


def _due_before(case: AccountabilityCase, moment: datetime) -> bool:
    return case.due_at is None or case.due_at < moment


def _overdue_open(d: Mapping[str, Any], states: tuple[str, ...], due: Any, moment: datetime | None) -> bool:
    """The record is still in one of ``states`` and its deadline ``due`` passed before ``moment``."""
    when = _at(due)
    return moment is not None and str(d.get("state", "")) in states and when is not None and when < moment


def _verification(rs: Ruleset, d: Mapping[str, Any], moment: datetime | None) -> Iterator[AccountabilityCase]:
    state = str(d.get("state", ""))
    late = d.get("answered_late") is True or state in ("overdue", "escalated")
    # an overdue request the requesting unit then checked on site itself was still late
    late = late or (state in ("on_site_check", "on_site_checked") and d.get("escalation") is not None)
    due, clause = d.get("due_at"), d.get("deadline_clause")
    if late:
        case = _case(rs, "late_verification", d.get("issuing_unit"), f"VerificationRequest {d.get('id')}",
                     _detail(rs, "verification_late", due=due),
                     _at(d.get("answered_at") or d.get("escalated_at") or d.get("unverifiable_at")),
                     due=due, deadline_clause=clause)
        yield _with_officers(rs, case, [d.get("accepted_by")])
    elif _overdue_open(d, ("requested", "accepted"), due, moment):
        case = _case(rs, "late_verification", d.get("issuing_unit"), f"VerificationRequest {d.get('id')}",
                     _detail(rs, "verification_unanswered", due=due, state=state), due=due, deadline_clause=clause,
                     act_missing=True)
        yield _with_officers(rs, case, [d.get("accepted_by")])


def _with_officers(rs: Ruleset, case: AccountabilityCase, ids: list[Any]) -> AccountabilityCase:
    """The case naming the officers its record names, with the officers file's duties clause
    (附件2 第十条 in Zibo: 未按照规定程序办理并造成不良后果的，按照附件5处理)."""
    named = [i for i in ids if isinstance(i, str) and i.strip()]
    officers = rs.officers
    clause = officers.content.duties_clause if officers is not None else None
    if not named and clause is None:
        return case
    return case.model_copy(update={"officers": named, "duties": rs.citation(clause) if clause else None})


def _pledge(rs: Ruleset, d: Mapping[str, Any], moment: datetime | None) -> Iterator[AccountabilityCase]:
    plan = d.get("post_check") or {}
    due, clause = plan.get("due_at"), (plan.get("citation") or {}).get("clause_id")
    unit = d.get("checked_by") or d.get("requesting_unit")
    if d.get("checked_late") is True:
        yield _case(rs, "pledge_not_checked", unit, f"PledgeRecord {d.get('id')}",
                    _detail(rs, "pledge_checked_late", due=due), _at(d.get("outcome_at")),
                    due=due, deadline_clause=clause)
    elif not plan.get("waived") and _overdue_open(d, ("awaiting_check",), due, moment):
        yield _case(rs, "pledge_not_checked", unit, f"PledgeRecord {d.get('id')}",
                    _detail(rs, "pledge_unchecked", due=due),
                    due=due, deadline_clause=clause, act_missing=True)


def _complaint(rs: Ruleset, d: Mapping[str, Any], moment: datetime | None) -> Iterator[AccountabilityCase]:
    due, clause = d.get("due_at"), rs.deadline_policy.complaint_clause
    if d.get("concluded_late") is True:
        detail, at, missing = _detail(rs, "complaint_concluded_late", due=due), _at(d.get("concluded_at")), False
    elif _overdue_open(d, ("accepted",), due, moment):
        detail, at, missing = _detail(rs, "complaint_open", due=due), None, True
    else:
        return
    for unit in d.get("units") or [None]:
        yield _case(rs, "other_serious", unit, f"Complaint {d.get('id')}", detail, at,
                    due=due, deadline_clause=clause, act_missing=missing)


def _adjustment(rs: Ruleset, d: Mapping[str, Any], moment: datetime | None) -> Iterator[AccountabilityCase]:
    if d.get("late") is True:
        yield _case(rs, "other_serious", d.get("unit"), f"AdjustmentApplication {d.get('id')}",
                    _detail(rs, "adjustment_late", due=d.get("due_at")),
                    _at(d.get("applied_on")), due=d.get("due_at"), deadline_clause=d.get("due_clause"))


def _adjustment_cause(rs: Ruleset, d: Mapping[str, Any], moment: datetime | None) -> Iterator[AccountabilityCase]:
    due = d.get("due_at")
    if _overdue_open(d, ("noted",), due, moment):
        yield _case(rs, "other_serious", d.get("unit"), f"AdjustmentCause {d.get('id')}",
                    _detail(rs, "adjustment_not_applied", due=due, cause_on=d.get("cause_on")), due=due,
                    deadline_clause=d.get("due_clause"), act_missing=True)


def _publication(rs: Ruleset, published: list[Mapping[str, Any]], moment: datetime) -> Iterator[AccountabilityCase]:
    """The list not published by its schedule (``check_schedule`` over the publications given)."""
    try:
        known = [ListPublication.model_validate(p) for p in published]
    except RecordProblem as exc:
        raise AccountabilityError(str(exc)) from None
    check = check_schedule(rs, [p.published for p in known], (moment - timedelta(microseconds=1)).date())
    if not check.overdue:
        return
    last = max((p for p in known if p.published_on <= check.as_of), key=lambda p: p.published_on, default=None)
    office = rs.manifest.deadlines.adjustment_office
    unit = (last.published_by if last is not None else None) or (office.name if office is not None else None)
    due = as_shanghai(datetime.combine(check.due_on + timedelta(days=1), time()))
    yield _case(rs, "other_serious", unit, f"ListPublication {last.id if last else '(none)'}",
                _detail(rs, "publication_overdue", counted_from=check.counted_from, due_on=check.due_on), due=due,
                deadline_clause=check.citation.clause_id, act_missing=True)


def _guide(rs: Ruleset, d: Mapping[str, Any]) -> Iterator[AccountabilityCase]:
    yield from guide_cases(rs, [d], unit=d.get("unit"))


def _applied(rs: Ruleset, d: Mapping[str, Any]) -> Iterator[AccountabilityCase]:
    yield from applied_method_cases(rs, [d])


def _at(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


_BY_KIND = {
    "VerificationRequest": _verification,
    "PledgeRecord": _pledge,
    "Complaint": _complaint,
    "AdjustmentApplication": _adjustment,
    "AdjustmentCause": _adjustment_cause,
}
_BY_LINE = {"GuideFinding": _guide, "AppliedMethod": _applied}


def guide_cases(ruleset: Ruleset, findings: Iterable[Mapping[str, Any]], *, unit: str | None = None) -> list[AccountabilityCase]:
    """A case per ``forbidden`` material of a check-guide result (``MaterialCheck.to_dict()``)."""
    out = []
    for f in findings:
        if f.get("verdict") != "forbidden":
            continue
        out.append(_case(
            ruleset, "unauthorised_request", f.get("unit") or unit, f"guide {f.get('file')}:{f.get('line')}",
            _detail(ruleset, "guide_forbidden", material=f.get("material"), service_item=f.get("service_item"),
                    reason=f.get("reason")),
        ))
    return out


def _allowed(ruleset: Ruleset, service_item: str, certificate: str) -> set[Method] | None:
    row = ruleset.find_row(service_item, certificate)
    if row is None:
        return None
    if row.status is RowStatus.ABOLISHED or not row.has_legal_basis:
        return {Method.ABOLISH}
    allowed = {m.method for m in row.methods} | {Method.PROXY, Method.APPLICANT_PROVIDED}
    return allowed - ({Method.PLEDGE} if ReplacementMethod.PLEDGE not in row.methods else set())


def applied_method_cases(ruleset: Ruleset, applied: Iterable[Mapping[str, Any]]) -> list[AccountabilityCase]:
    """A case per handling the list does not allow: ``{service_item, certificate, method, unit}``.

    Allowed: the row's replacement methods, 干部代办 and the applicant's own document for a
    retained row with a basis; only abolition for an abolished row; nothing for a certificate
    not on the list (it may not be requested at all: ``unauthorised_request``).
    """
    out = []
    for a in applied:
        item, cert, method = str(a.get("service_item", "")), str(a.get("certificate", "")), str(a.get("method", ""))
        allowed = _allowed(ruleset, item, cert)
        at = _at(a.get("at"))
        source = f"AppliedMethod {a.get('id') or a.get('request_id') or item + '/' + cert}"
        if allowed is None:
            out.append(_case(ruleset, "unauthorised_request", a.get("unit"), source,
                             _detail(ruleset, "certificate_not_listed", certificate=cert, service_item=item), at))
            continue
        try:
            m = Method(method)
        except ValueError:
            m = None
        if m is None or m not in allowed:
            out.append(_case(
                ruleset, "method_changed", a.get("unit"), source,
                _detail(ruleset, "method_not_allowed", method=method, certificate=cert, service_item=item,
                        allowed=sorted(x.value for x in allowed)), at,
            ))
    return out


# ---------------------------------------------------------------- reading inputs


def read_records(path: str | Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(kind, fields)`` of each line of an audit log or a records export (JSON lines).

    An audit log line has ``record: {kind, outcome}``; an export line is a record with
    ``record_type`` (or ``kind``) naming its class. A line that is not JSON is an error naming
    ``file:line``; lines of other shapes are skipped.
    """
    try:
        for _, doc in json_lines(Path(path)):
            if not isinstance(doc, dict):
                continue
            rec = doc.get("record") if isinstance(doc.get("record"), dict) else doc
            kind = rec.get("record_type") or rec.get("kind")
            fields = rec.get("outcome") if isinstance(rec.get("outcome"), dict) else rec
            if isinstance(kind, str) and isinstance(fields, dict):
                yield kind, fields
    except JsonLineError as exc:
        raise AccountabilityError(str(exc)) from None
