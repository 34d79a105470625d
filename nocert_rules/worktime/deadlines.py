"""Deadlines the plan sets, in Chinese working time.

Every function takes a :class:`~nocert_rules.worktime.calendar.WorkCalendar` and the ruleset's
figures and clause ids (a :class:`DeadlinePolicy`, built from the manifest by
``Ruleset.deadline_policy``; the library has no figures or clause ids of its own) and returns a
frozen model whose ``clause`` cites the ruleset's clause and whose ``rule`` is worded by the
ruleset's templates (``DeadlinePolicy.wording``, ``worktime/wording.py``). Starts may be dates or datetimes; naive
means Asia/Shanghai (a date means 00:00 that day). Day limits are counted as the Civil Code counts them (民法典
第二百零一条至第二百零三条): the start day is not counted, and the period ends at the close of
business of its last working day. Every deadline touching a year whose 调休 schedule is unknown
carries a warning naming that year.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nocert_rules.enums import RecordKind
from nocert_rules.errors import CalendarError
from nocert_rules.worktime.calendar import WorkCalendar, as_moment, as_shanghai
from nocert_rules.worktime.wording import (
    Both,
    DeadlineWording,
    Wording,
    adjustment_problem,
    missing_kinds,
    plural,
    say,
)

__all__ = [
    "ApprovalClock",
    "Deadline",
    "DeadlinePolicy",
    "Escalation",
    "EscalationPolicy",
    "ExtensionLimitError",
    "Office",
    "StatutoryLimit",
    "VerificationOutcome",
    "VerificationStatus",
    "adjustment_due",
    "approval_clock",
    "approval_due",
    "merge_pauses",
    "complaint_due",
    "next_publication_date",
    "post_check_due",
    "verification_due",
    "verification_status",
    "WorkingLimit",
]

_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


class ExtensionLimitError(CalendarError):
    """A complaint extension beyond what the ruleset allows (附件4 第十条 in Zibo: at most 5 days)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Deadline(_Frozen):
    """When something is due, under which rule, by which clause, with any calendar warnings."""

    due_at: datetime  # aware, Asia/Shanghai
    rule: str  # Chinese first, then English
    clause: str | None  # the ruleset's clause id; None when the caller gave none
    warnings: list[str] = Field(default_factory=list)


class WorkingLimit(_Frozen):
    """A time limit in working days or working minutes (exactly one of the two)."""

    working_days: int | None = Field(default=None, ge=1)
    working_minutes: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.working_days is None) == (self.working_minutes is None):
            raise ValueError("set exactly one of working_days and working_minutes")
        return self


class StatutoryLimit(WorkingLimit):
    """A list row's own statutory time limit (三(三)3: "按法定程序办理的证明，在规定时间内").

    Exactly one of ``working_days`` and ``working_minutes`` is set; ``basis`` names the law.
    """

    basis: str = Field(min_length=1)


class Office(_Frozen):
    """An office named by the ruleset (where late replies are reported, adjustments applied for)."""

    name: str = Field(min_length=1, max_length=200)  # Chinese
    name_en: str | None = Field(default=None, max_length=200)

    @property
    def label(self) -> str:
        """``name / name_en`` (Chinese first), or the name alone."""
        return f"{self.name} / {self.name_en}" if self.name_en else self.name


class InterviewPolicy(_Frozen):
    """约谈: whom the escalation office asks to interview the persons concerned when a late reply
    had an adverse effect (附件2 第十一条 第二句 in Zibo; ``records.verification.propose_interview``)."""

    authority: Office
    action: str | None = None  # the clause's instruction, Chinese first


class EscalationPolicy(_Frozen):
    """Where a late verification reply is reported, by which clause (附件2 第十一条 in Zibo)."""

    office: Office
    clause: str = Field(min_length=1)
    action: str = Field(min_length=1)  # the clause's instruction, Chinese first
    interview: InterviewPolicy | None = None  # 约谈 after an adverse effect (same clause)


class DeadlinePolicy(_Frozen):
    """The ruleset's figures and clause ids for every deadline (from the manifest's ``deadlines``)."""

    verification: dict[RecordKind, WorkingLimit]
    verification_clause: str
    statutory_limit_clause: str | None = None
    escalation: EscalationPolicy | None = None
    complaint_working_days: int = Field(ge=1)
    complaint_max_extension_days: int = Field(ge=0)
    complaint_clause: str
    adjustment_working_days: int = Field(ge=1)
    adjustment_clause: str
    adjustment_office: Office | None = None
    publication_month_days: tuple[str, ...] = Field(min_length=1)
    publication_clause: str
    post_check_clause: str | None = None
    minutes_unit: Literal["working_minutes", "elapsed_minutes"] = "working_minutes"  # the plan's minute limits
    wording: DeadlineWording  # the rules' words (manifest deadlines.wording)

    @model_validator(mode="after")
    def _every_record_kind(self) -> Self:
        if missing := missing_kinds(self.verification):
            raise ValueError(f"missing verification limits for record kinds: {missing}")
        problem = adjustment_problem(self.wording, self.adjustment_office is not None)
        if problem:
            raise ValueError(problem)
        return self


class VerificationOutcome(StrEnum):
    ON_TIME = "on_time"
    OVERDUE = "overdue"


class Escalation(_Frozen):
    """Where a late verification reply is reported (the ruleset's ``deadlines.escalation``).

    ``to`` and ``clause`` are None when the ruleset names no escalation office.
    """

    to: str | None = None
    clause: str | None = None
    action: str
    overdue_since: datetime


def _escalation(policy: DeadlinePolicy, overdue_since: datetime) -> Escalation:
    esc = policy.escalation
    if esc is None:  # the mechanism's own words: no policy to state
        return Escalation(
            action="核验反馈已逾期；规则集未规定报告机构 / the reply is overdue; the ruleset names no "
            "office to report it to",
            overdue_since=overdue_since,
        )
    return Escalation(to=esc.office.label, clause=esc.clause, action=esc.action, overdue_since=overdue_since)


class VerificationStatus(_Frozen):
    """Whether a verification reply is on time at ``now``; ``escalation`` is set when overdue."""

    status: VerificationOutcome
    due_at: datetime
    deadline: Deadline
    escalation: Escalation | None = None


class ApprovalClock(_Frozen):
    """Working minutes on an on-the-spot item's clock, verification time paused (附件2 第七条)."""

    elapsed_minutes: float  # office minutes that count against the item
    paused_minutes: float  # office minutes spent waiting for verification, not counted
    gross_minutes: float  # office minutes from start to now
    rule: str
    clause: str | None = None  # the ruleset's verification clause, when given
    warnings: list[str] = Field(default_factory=list)


def _record_kind(records: RecordKind | str) -> RecordKind:
    if type(records) is RecordKind:  # what RecordKind(records) returns then
        return records
    try:
        return RecordKind(records)
    except ValueError:
        allowed = ", ".join(k.value for k in RecordKind)
        raise CalendarError(
            f"unknown record kind {records!r}; expected one of: {allowed}"
        ) from None


def _days_deadline(
    start: date | datetime, days: int, calendar: WorkCalendar, rule: str, clause: str | None
) -> Deadline:
    last = calendar.add_working_days(start, days)
    return Deadline(
        due_at=calendar.close_of_business(last),
        rule=rule,
        clause=clause,
        warnings=calendar.warnings_for(start, last),
    )


def verification_due(
    requested_at: date | datetime | str,
    records: RecordKind | str,
    calendar: WorkCalendar,
    limit: StatutoryLimit | None = None,
    *,
    policy: DeadlinePolicy,
) -> Deadline:
    """When the issuing unit's verification reply is due (附件2 第七条 in Zibo).

    The limit is the ruleset's figure for the record kind (``policy.verification``), citing
    ``policy.verification_clause``; day limits end at close of business of the last day.
    ``limit`` replaces it with the row's statutory limit (三(三)3), citing
    ``policy.statutory_limit_clause``.
    """
    kind = _record_kind(records)
    start = as_moment(requested_at, "requested_at")
    wording = policy.wording
    if limit is not None:
        clause = policy.statutory_limit_clause
        in_words = wording.statutory_days if limit.working_days is not None else wording.statutory_minutes
        rule = _statutory_rule(in_words.zh, in_words.en, limit.working_days, limit.working_minutes, limit.basis)
        if limit.working_days is not None:
            return _days_deadline(start, limit.working_days, calendar, rule, clause)
        due = calendar.add_working_minutes(start, limit.working_minutes or 0)  # set: exactly one is
        return Deadline(due_at=due, rule=rule, clause=clause, warnings=calendar.warnings_for(start, due))
    plan = policy.verification[kind]
    text, label = _plan_text(wording, plan.working_days, policy.minutes_unit), wording.record_kinds.labels[kind]
    rule = _plan_rule(text.zh, text.en, label.zh, label.en, plan.working_days, plan.working_minutes)
    if plan.working_days is not None:
        return _days_deadline(start, plan.working_days, calendar, rule, policy.verification_clause)
    if policy.minutes_unit == "elapsed_minutes":  # the manifest's reading: counted from the request, unbroken
        due = _elapsed(start, plan.working_minutes or 0)
        return Deadline(due_at=due, rule=rule, clause=policy.verification_clause, warnings=[])
    due = calendar.add_working_minutes(start, plan.working_minutes or 0)
    return Deadline(
        due_at=due, rule=rule, clause=policy.verification_clause, warnings=calendar.warnings_for(start, due)
    )


# The rules' wording depends on a few figures only: built once per template and figure, not once
# per deadline (keyed on the templates' strings: hashing them is cheaper than hashing the models).


@lru_cache(maxsize=1024)
def _statutory_rule(zh: str, en: str, days: int | None, minutes: int | None, basis: str) -> str:
    """A row's statutory limit in the ruleset's words (三(三)3 in Zibo)."""
    if days is not None:
        return say(Both(zh, en), days=days, s=plural(days), basis=basis)
    return say(Both(zh, en), minutes=minutes or 0, basis=basis)


@lru_cache(maxsize=1024)
def _elapsed(start: date | datetime, minutes: int) -> datetime:
    moment = start if isinstance(start, datetime) else datetime.combine(start, datetime.min.time())
    return as_shanghai(moment) + timedelta(minutes=minutes)


def _plan_text(wording: DeadlineWording, days: int | None, unit: str) -> Wording:
    """The template of a verification limit: in days, in working minutes or in elapsed minutes."""
    if days is not None:
        return wording.verification_days
    return wording.verification_elapsed_minutes if unit == "elapsed_minutes" else wording.verification_minutes


@lru_cache(maxsize=1024)
def _plan_rule(zh: str, en: str, label_zh: str, label_en: str, days: int | None, minutes: int | None) -> str:
    """The ruleset's verification limit for a record kind, in its words (附件2 第七条 in Zibo)."""
    records = Both(label_zh, label_en)
    if days is not None:
        return say(Both(zh, en), records=records, days=days, s=plural(days))
    return say(Both(zh, en), records=records, minutes=minutes or 0)


def verification_status(
    requested_at: date | datetime | str,
    records: RecordKind | str,
    now: date | datetime | str,
    calendar: WorkCalendar,
    limit: StatutoryLimit | None = None,
    *,
    policy: DeadlinePolicy,
) -> VerificationStatus:
    """On time or overdue at ``now`` (pass the reply's time if it has come).

    A reply exactly at ``due_at`` is on time. When overdue, ``escalation`` names the office the
    ruleset says the requesting unit reports to (``policy.escalation``; 附件2 第十一条 in Zibo).
    """
    deadline = verification_due(requested_at, records, calendar, limit, policy=policy)
    if as_shanghai(as_moment(now, "now")) <= deadline.due_at:
        return VerificationStatus(
            status=VerificationOutcome.ON_TIME, due_at=deadline.due_at, deadline=deadline
        )
    return VerificationStatus(
        status=VerificationOutcome.OVERDUE,
        due_at=deadline.due_at,
        deadline=deadline,
        escalation=_escalation(policy, deadline.due_at),
    )


def _minutes(td: timedelta) -> float:
    return td / timedelta(minutes=1)


def _merge(intervals: Sequence[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def merge_pauses(
    intervals: Sequence[tuple[date | datetime | str, date | datetime | str]],
) -> list[tuple[datetime, datetime]]:
    """Pause intervals as aware Asia/Shanghai datetimes, sorted, overlapping ones merged (an
    interval ending before it starts raises :class:`CalendarError`)."""
    out: list[tuple[datetime, datetime]] = []
    for i, (a, b) in enumerate(intervals):
        ia = as_shanghai(as_moment(a, f"intervals[{i}][0]"))
        ib = as_shanghai(as_moment(b, f"intervals[{i}][1]"))
        if ib < ia:
            raise CalendarError(f"interval ends ({ib.isoformat()}) before it starts ({ia.isoformat()})")
        out.append((ia, ib))
    return _merge(out)


def approval_due(
    started_at: date | datetime | str,
    working_minutes: int,
    pauses: Sequence[tuple[date | datetime | str, date | datetime | str]],
    calendar: WorkCalendar,
    *,
    rule: str,
    clause: str | None = None,
    policy: DeadlinePolicy,
) -> Deadline:
    """When an on-the-spot item's time limit runs out, the ``pauses`` not counted (附件2 第七条).

    ``working_minutes`` of office time from ``started_at``, the office time inside the pauses
    (verification requests sent → replies received; overlapping ones merged, parts before the
    start ignored) added on. ``rule`` is the ruleset's rule in words and ``clause`` its clause
    (manifest ``on_the_spot``); the limit is the ruleset's, not the plan's (the plan sets none).
    The due time's rule is ``policy.wording.approval_due`` around ``rule``.
    """
    if type(working_minutes) is not int or working_minutes < 1:
        raise CalendarError(f"an on-the-spot limit must be at least 1 working minute, not {working_minutes!r}")
    start = as_shanghai(as_moment(started_at, "started_at"))
    remaining = timedelta(minutes=working_minutes)
    cursor = start
    paused = timedelta()
    due: datetime | None = None
    for a, b in merge_pauses(pauses):
        if b <= cursor:
            continue
        a = max(a, cursor)
        available = calendar.working_time_between(cursor, a)
        if available >= remaining:
            due = calendar.add_working_minutes(cursor, _minutes(remaining))
            break
        remaining -= available
        paused += calendar.working_time_between(a, b)
        cursor = b
    if due is None:
        due = calendar.add_working_minutes(cursor, _minutes(remaining))
    paused_minutes = _minutes(paused)
    return Deadline(
        due_at=due,
        rule=say(policy.wording.approval_due, rule=rule, working_minutes=working_minutes, paused=f"{paused_minutes:g}"),
        clause=clause,
        warnings=calendar.warnings_for(start, due),
    )


def approval_clock(
    started_at: date | datetime | str,
    now: date | datetime | str,
    verification_intervals: Sequence[tuple[date | datetime | str, date | datetime | str]],
    calendar: WorkCalendar,
    *,
    clause: str | None = None,
    policy: DeadlinePolicy,
) -> ApprovalClock:
    """Working minutes on an on-the-spot item's clock, verification intervals paused.

    附件2 第七条, last sentence: "协查时间不列入对审批部门单位即办件的考核时间"; ``clause`` is the
    ruleset's id for it (``DeadlinePolicy.verification_clause``), ``policy.wording.approval_clock``
    its words. Only office time counts.
    Intervals are clipped to [started_at, now] and merged first, so overlapping verifications
    are subtracted once. An interval ending before it starts, or ``now`` before ``started_at``,
    raises :class:`CalendarError`.
    """
    start, end = as_shanghai(as_moment(started_at, "started_at")), as_shanghai(as_moment(now, "now"))
    if end < start:
        raise CalendarError(f"now ({end.isoformat()}) is before the start ({start.isoformat()})")
    clipped: list[tuple[datetime, datetime]] = []
    for i, (a, b) in enumerate(verification_intervals):
        ia = as_shanghai(as_moment(a, f"verification_intervals[{i}][0]"))
        ib = as_shanghai(as_moment(b, f"verification_intervals[{i}][1]"))
        if ib < ia:
            raise CalendarError(
                f"verification interval ends ({ib.isoformat()}) before it starts ({ia.isoformat()})"
            )
        ia, ib = max(ia, start), min(ib, end)
        if ia < ib:
            clipped.append((ia, ib))
    merged = _merge(clipped)
    gross = calendar.working_time_between(start, end)
    paused = sum((calendar.working_time_between(a, b) for a, b in merged), timedelta())
    return ApprovalClock(
        elapsed_minutes=_minutes(gross - paused),
        paused_minutes=_minutes(paused),
        gross_minutes=_minutes(gross),
        rule=say(policy.wording.approval_clock),
        clause=clause,
        warnings=calendar.warnings_for(start, end),
    )


def complaint_due(
    accepted_on: date | datetime | str,
    calendar: WorkCalendar,
    extension_days: int = 0,
    *,
    policy: DeadlinePolicy,
) -> Deadline:
    """Complaint handled within the ruleset's working days of acceptance (附件4 第十条 in Zibo: 5).

    A complicated complaint may be extended once by at most ``policy.complaint_max_extension_days``;
    ``extension_days`` outside that range raises :class:`ExtensionLimitError`.
    """
    working_days = policy.complaint_working_days
    max_extension_days = policy.complaint_max_extension_days
    if type(extension_days) is not int or not 0 <= extension_days <= max_extension_days:
        raise ExtensionLimitError(
            f"a complaint may be extended once, by 0 to {max_extension_days} working days "
            f"({policy.complaint_clause}), not {extension_days!r}"
        )
    wording = policy.wording
    if extension_days:
        rule = say(wording.complaint_extended, days=working_days, s=plural(working_days),
                   extension_days=extension_days, max_extension_days=max_extension_days)
    else:
        rule = say(wording.complaint, days=working_days, s=plural(working_days))
    return _days_deadline(
        as_moment(accepted_on, "accepted_on"), working_days + extension_days, calendar, rule,
        policy.complaint_clause,
    )


def adjustment_due(
    cause_on: date | datetime | str, calendar: WorkCalendar, *, policy: DeadlinePolicy
) -> Deadline:
    """List-adjustment application within the ruleset's working days of the cause (附件3 第九条 in Zibo: 7)."""
    days = policy.adjustment_working_days
    office = policy.adjustment_office
    wording = policy.wording
    if office is None:  # adjustment_no_office is set then (checked at load: adjustment_problem)
        rule = say(wording.adjustment_no_office or wording.adjustment, days=days, s=plural(days), office="")
    else:
        rule = say(wording.adjustment, days=days, s=plural(days), office=Both(office.name, office.name_en or office.name))
    return _days_deadline(as_moment(cause_on, "cause_on"), days, calendar, rule, policy.adjustment_clause)


def post_check_due(
    decided_at: date | datetime | str,
    working_days: int,
    calendar: WorkCalendar,
    *,
    clause: str | None = None,
    policy: DeadlinePolicy,
) -> Deadline:
    """The pledge post-check due date (三(三)2: 核查时间 by the applicant's credit).

    ``working_days`` comes from the ruleset's plan for the applicant's credit level and must be
    at least 1 (a waived check is the ruleset's business, not a zero-day deadline); ``clause``
    is that plan's clause; ``policy.wording.post_check`` words the rule.
    """
    if type(working_days) is not int or working_days < 1:
        raise CalendarError(
            f"a post-check period must be at least 1 working day, not {working_days!r}"
        )
    return _days_deadline(
        as_moment(decided_at, "decided_at"),
        working_days,
        calendar,
        _post_check_rule(policy.wording.post_check.zh, policy.wording.post_check.en, working_days),
        clause,
    )


@lru_cache(maxsize=256)
def _post_check_rule(zh: str, en: str, working_days: int) -> str:
    """The post-check rule in the ruleset's words (built once per template and figure)."""
    return say(Both(zh, en), days=working_days, s=plural(working_days))


def next_publication_date(on: date | datetime | str, publication_dates: Sequence[str]) -> date:
    """The first scheduled list publication on or after ``on`` (附件3 第五条 in Zibo).

    The plan says only "原则上每半年公布一次" (published in principle every half year); the dates
    are the ruleset's choice (``DeadlinePolicy.publication_month_days``), as ``"MM-DD"`` strings.
    They are calendar dates, not moved off weekends or holidays. ``02-29`` is refused (not every
    year has it).
    """
    on = as_moment(on, "on")
    day = on if type(on) is date else as_shanghai(on).date()
    if not publication_dates:
        raise CalendarError("at least one publication date is required")
    month_days: list[tuple[int, int]] = []
    for text in publication_dates:
        m = _MONTH_DAY.match(text)
        if m is None:
            raise CalendarError(f"publication date must be 'MM-DD', got {text!r}")
        month, dom = int(m.group(1)), int(m.group(2))
        try:
            date(2001, month, dom)  # a common year: refuses 02-29 too
        except ValueError:
            raise CalendarError(f"publication date {text!r} is not a day of every year") from None
        month_days.append((month, dom))
    candidates = [date(day.year, m, d) for m, d in month_days]
    candidates += [date(day.year + 1, m, d) for m, d in month_days]
    return min(c for c in candidates if c >= day)
