"""Deadlines the plan sets, in Chinese working time.

Every function takes a :class:`~nocert_rules.worktime.calendar.WorkCalendar` and returns a frozen model
whose ``clause`` cites the plan. Starts may be dates or datetimes; naive means Asia/Shanghai
(a date means 00:00 that day). Day limits are counted as the Civil Code counts them (民法典
第二百零一条至第二百零三条): the start day is not counted, and the period ends at the close of
business of its last working day. Every deadline touching a year whose 调休 schedule is unknown
carries a warning naming that year.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nocert_rules.enums import RecordKind
from nocert_rules.errors import CalendarError
from nocert_rules.worktime.calendar import WorkCalendar, as_shanghai

__all__ = [
    "DEFAULT_PUBLICATION_DATES",
    "MAX_COMPLAINT_EXTENSION_DAYS",
    "ApprovalClock",
    "Deadline",
    "Escalation",
    "ExtensionLimitError",
    "StatutoryLimit",
    "VerificationOutcome",
    "VerificationStatus",
    "adjustment_due",
    "approval_clock",
    "complaint_due",
    "next_publication_date",
    "post_check_due",
    "verification_due",
    "verification_status",
]

CLAUSE_VERIFICATION = "附件2 第七条"
CLAUSE_STATUTORY_PROCEDURE = "三(三)3"
CLAUSE_ESCALATION = "附件2 第十一条"
CLAUSE_COMPLAINT = "附件4 第十条"
CLAUSE_ADJUSTMENT = "附件3 第九条"
CLAUSE_PUBLICATION = "附件3 第五条"
CLAUSE_POST_CHECK = "三(三)2"

COMPLAINT_WORKING_DAYS = 5
MAX_COMPLAINT_EXTENSION_DAYS = 5
ADJUSTMENT_WORKING_DAYS = 7
DEFAULT_PUBLICATION_DATES: tuple[str, ...] = ("06-30", "12-31")

_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


class ExtensionLimitError(CalendarError):
    """A complaint extension beyond what 附件4 第十条 allows (one, of at most 5 working days)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Deadline(_Frozen):
    """When something is due, under which rule, by which clause, with any calendar warnings."""

    due_at: datetime  # aware, Asia/Shanghai
    rule: str  # Chinese first, then English
    clause: str
    warnings: list[str] = Field(default_factory=list)


class StatutoryLimit(_Frozen):
    """A list row's own statutory time limit (三(三)3: "按法定程序办理的证明，在规定时间内").

    Exactly one of ``working_days`` and ``working_minutes`` is set; ``basis`` names the law.
    """

    working_days: int | None = Field(default=None, ge=1)
    working_minutes: int | None = Field(default=None, ge=1)
    basis: str = Field(min_length=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.working_days is None) == (self.working_minutes is None):
            raise ValueError("set exactly one of working_days and working_minutes")
        return self


class VerificationOutcome(StrEnum):
    ON_TIME = "on_time"
    OVERDUE = "overdue"


class Escalation(_Frozen):
    """Where a late verification reply is reported (附件2 第十一条)."""

    to: str = "市联席会议办公室 / the joint-meeting office"
    clause: str = CLAUSE_ESCALATION
    action: str = (
        "证明需求单位应将相关情况报市联席会议办公室；市联席会议办公室组织调查，责成证明出具单位限时办结。"
        " / The requesting unit reports the case to the joint-meeting office, which investigates "
        "and orders the issuing unit to finish within a set time."
    )
    overdue_since: datetime


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
    clause: str = CLAUSE_VERIFICATION
    warnings: list[str] = Field(default_factory=list)


_RECORD_LABELS: dict[RecordKind, str] = {
    RecordKind.ELECTRONIC: "已有数据库或电子化存储",
    RecordKind.PAPER: "需查阅纸质档案",
    RecordKind.INCOMPLETE_ARCHIVE: "因历史原因档案不全需多方查找",
}

_RECORD_LIMITS: dict[RecordKind, tuple[int, str, str]] = {
    # kind: (amount, unit, rule)
    RecordKind.ELECTRONIC: (
        30,
        "minutes",
        "已有数据库或电子化存储：30 个工作分钟 / records stored electronically: 30 working minutes",
    ),
    RecordKind.PAPER: (
        1,
        "days",
        "需查阅纸质档案：1 个工作日，至该日下班时止 / paper archives: 1 working day, "
        "ending at close of business",
    ),
    RecordKind.INCOMPLETE_ARCHIVE: (
        2,
        "days",
        "因历史原因档案不全需多方查找：2 个工作日，至最后一日下班时止 / archives incomplete "
        "for historical reasons: 2 working days, ending at close of business on the last day",
    ),
}


def _record_kind(records: RecordKind | str) -> RecordKind:
    try:
        return RecordKind(records)
    except ValueError:
        allowed = ", ".join(k.value for k in RecordKind)
        raise CalendarError(
            f"unknown record kind {records!r}; expected one of: {allowed}"
        ) from None


def _days_deadline(
    start: date | datetime, days: int, calendar: WorkCalendar, rule: str, clause: str
) -> Deadline:
    last = calendar.add_working_days(start, days)
    return Deadline(
        due_at=calendar.close_of_business(last),
        rule=rule,
        clause=clause,
        warnings=calendar.warnings_for(start, last),
    )


def verification_due(
    requested_at: date | datetime,
    records: RecordKind | str,
    calendar: WorkCalendar,
    limit: StatutoryLimit | None = None,
    *,
    plan_limit: StatutoryLimit | None = None,
) -> Deadline:
    """When the issuing unit's verification reply is due (附件2 第七条).

    ``plan_limit`` is the ruleset's figure for this record kind (the manifest's
    ``deadlines.verification``); it replaces the default figure and still cites 附件2 第七条.

    Electronic records: 30 working minutes from the request; paper archives: 1 working day;
    incomplete archives: 2 working days (day limits end at close of business of the last day).
    ``limit`` replaces these with the row's statutory limit (三(三)3).
    """
    kind = _record_kind(records)
    if limit is not None:
        if limit.working_days is not None:
            return _days_deadline(
                requested_at,
                limit.working_days,
                calendar,
                f"按法定程序办理，在规定时间内：{limit.working_days} 个工作日，至最后一日下班时止"
                f"（依据：{limit.basis}） / statutory procedure: {limit.working_days} working "
                f"days, ending at close of business on the last day (basis: {limit.basis})",
                CLAUSE_STATUTORY_PROCEDURE,
            )
        minutes = limit.working_minutes or 0  # set: the model requires exactly one
        due = calendar.add_working_minutes(requested_at, minutes)
        return Deadline(
            due_at=due,
            rule=f"按法定程序办理，在规定时间内：{minutes} 个工作分钟（依据："
            f"{limit.basis}） / statutory procedure: {minutes} working minutes "
            f"(basis: {limit.basis})",
            clause=CLAUSE_STATUTORY_PROCEDURE,
            warnings=calendar.warnings_for(requested_at, due),
        )
    amount, unit, rule = _RECORD_LIMITS[kind]
    if plan_limit is not None:
        label = _RECORD_LABELS[kind]
        if plan_limit.working_days is not None:
            amount, unit = plan_limit.working_days, "days"
            rule = (
                f"{label}：{amount} 个工作日，至最后一日下班时止 / {kind.value} records: "
                f"{amount} working day{'' if amount == 1 else 's'}, ending at close of business"
            )
        else:
            amount, unit = plan_limit.working_minutes or 0, "minutes"
            rule = f"{label}：{amount} 个工作分钟 / {kind.value} records: {amount} working minutes"
    if unit == "days":
        return _days_deadline(requested_at, amount, calendar, rule, CLAUSE_VERIFICATION)
    due = calendar.add_working_minutes(requested_at, amount)
    return Deadline(
        due_at=due,
        rule=rule,
        clause=CLAUSE_VERIFICATION,
        warnings=calendar.warnings_for(requested_at, due),
    )


def verification_status(
    requested_at: date | datetime,
    records: RecordKind | str,
    now: date | datetime,
    calendar: WorkCalendar,
    limit: StatutoryLimit | None = None,
) -> VerificationStatus:
    """On time or overdue at ``now`` (pass the reply's time if it has come).

    A reply exactly at ``due_at`` is on time. When overdue, ``escalation`` names the joint-meeting
    office the requesting unit reports to (附件2 第十一条).
    """
    deadline = verification_due(requested_at, records, calendar, limit)
    if as_shanghai(now) <= deadline.due_at:
        return VerificationStatus(
            status=VerificationOutcome.ON_TIME, due_at=deadline.due_at, deadline=deadline
        )
    return VerificationStatus(
        status=VerificationOutcome.OVERDUE,
        due_at=deadline.due_at,
        deadline=deadline,
        escalation=Escalation(overdue_since=deadline.due_at),
    )


def _minutes(td: timedelta) -> float:
    return td / timedelta(minutes=1)


def approval_clock(
    started_at: date | datetime,
    now: date | datetime,
    verification_intervals: Sequence[tuple[date | datetime, date | datetime]],
    calendar: WorkCalendar,
) -> ApprovalClock:
    """Working minutes on an on-the-spot item's clock, verification intervals paused.

    附件2 第七条, last sentence: "协查时间不列入对审批部门单位即办件的考核时间". Only office time
    counts. Intervals are clipped to [started_at, now] and merged first, so overlapping
    verifications are subtracted once. An interval ending before it starts, or ``now`` before
    ``started_at``, raises :class:`CalendarError`.
    """
    start, end = as_shanghai(started_at), as_shanghai(now)
    if end < start:
        raise CalendarError(f"now ({end.isoformat()}) is before the start ({start.isoformat()})")
    clipped: list[tuple[datetime, datetime]] = []
    for a, b in verification_intervals:
        ia, ib = as_shanghai(a), as_shanghai(b)
        if ib < ia:
            raise CalendarError(
                f"verification interval ends ({ib.isoformat()}) before it starts ({ia.isoformat()})"
            )
        ia, ib = max(ia, start), min(ib, end)
        if ia < ib:
            clipped.append((ia, ib))
    clipped.sort()
    merged: list[tuple[datetime, datetime]] = []
    for a, b in clipped:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    gross = calendar.working_time_between(start, end)
    paused = sum((calendar.working_time_between(a, b) for a, b in merged), timedelta())
    return ApprovalClock(
        elapsed_minutes=_minutes(gross - paused),
        paused_minutes=_minutes(paused),
        gross_minutes=_minutes(gross),
        rule="即办件考核时间按工作时间计，协查时间不计入 / the on-the-spot clock counts office "
        "time only; time waiting for verification is not counted",
        warnings=calendar.warnings_for(start, end),
    )


def complaint_due(
    accepted_on: date | datetime,
    calendar: WorkCalendar,
    extension_days: int = 0,
    *,
    working_days: int = COMPLAINT_WORKING_DAYS,
    max_extension_days: int = MAX_COMPLAINT_EXTENSION_DAYS,
) -> Deadline:
    """Complaint handled within 5 working days of acceptance (附件4 第十条).

    A complicated complaint may be extended once by at most 5 working days; ``extension_days``
    outside 0 to ``max_extension_days`` raises :class:`ExtensionLimitError`. ``working_days`` and
    ``max_extension_days`` default to the plan's 5 and 5 (a ruleset may configure them).
    """
    if working_days < 1:
        raise CalendarError(
            f"a complaint period must be at least 1 working day, not {working_days}"
        )
    if not 0 <= extension_days <= max_extension_days:
        raise ExtensionLimitError(
            f"a complaint may be extended once, by 0 to {max_extension_days} working days "
            f"({CLAUSE_COMPLAINT}), not {extension_days}"
        )
    rule = f"受理后 {working_days} 个工作日内办结 / handled within {working_days} working days of acceptance"
    if extension_days:
        rule = (
            f"受理后 {working_days} 个工作日内办结，延期 {extension_days} 个工作日"
            f"（延期最长 {max_extension_days} 个工作日） / handled within {working_days} working "
            f"days of acceptance, extended by {extension_days} (at most {max_extension_days})"
        )
    return _days_deadline(
        accepted_on, working_days + extension_days, calendar, rule, CLAUSE_COMPLAINT
    )


def adjustment_due(
    cause_on: date | datetime,
    calendar: WorkCalendar,
    *,
    working_days: int = ADJUSTMENT_WORKING_DAYS,
) -> Deadline:
    """List-adjustment application within 7 working days of the cause (附件3 第九条).

    ``working_days`` defaults to the plan's 7 (a ruleset may configure it).
    """
    if working_days < 1:
        raise CalendarError(
            f"an adjustment period must be at least 1 working day, not {working_days}"
        )
    return _days_deadline(
        cause_on,
        working_days,
        calendar,
        f"调整事由发生之日起 {working_days} 个工作日内向市联席会议办公室提出书面申请 / "
        f"written application to the joint-meeting office within {working_days} working days "
        f"of the cause",
        CLAUSE_ADJUSTMENT,
    )


def post_check_due(
    decided_at: date | datetime, working_days: int, calendar: WorkCalendar
) -> Deadline:
    """The pledge post-check due date (三(三)2: 核查时间 by the applicant's credit).

    ``working_days`` comes from the ruleset's plan for the applicant's credit level and must be
    at least 1 (a waived check is the ruleset's business, not a zero-day deadline).
    """
    if working_days < 1:
        raise CalendarError(
            f"a post-check period must be at least 1 working day, not {working_days}"
        )
    return _days_deadline(
        decided_at,
        working_days,
        calendar,
        f"告知承诺事中事后核查：作出决定后 {working_days} 个工作日内 / pledge post-check: within "
        f"{working_days} working days of the decision",
        CLAUSE_POST_CHECK,
    )


def next_publication_date(
    on: date | datetime, publication_dates: Sequence[str] = DEFAULT_PUBLICATION_DATES
) -> date:
    """The first scheduled list publication on or after ``on`` (附件3 第五条).

    The plan says only "原则上每半年公布一次" (published in principle every half year); the dates
    are the ruleset's choice, as ``"MM-DD"`` strings, defaulting to 06-30 and 12-31. They are
    calendar dates, not moved off weekends or holidays. ``02-29`` is refused (not every year has
    it).
    """
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
