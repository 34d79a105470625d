"""即办件: an on-the-spot application's approval clock, fed by its verification records (附件2 第七条).

附件2 第七条 (last sentence) in Zibo: "协查时间不列入对审批部门单位即办件的考核时间". A list row marks
its service item as 即办件 (``on_the_spot: true``); the manifest's ``on_the_spot`` gives the rule,
its clause and (where the ruleset sets one) the item's time limit in working minutes.

:func:`verification_pauses` turns the application's verification requests
(:class:`~nocert_rules.records.verification.VerificationRequest`) into paused intervals, each from
the request sent (``requested_at``) to the reply received (``answered_at``, or ``returned_at`` for
a request returned as outside the issuer's duties). :func:`on_the_spot_clock` gives those
intervals, the approval due time (:func:`~nocert_rules.worktime.deadlines.approval_due`: the limit
in office time, the paused office time added on) and, at ``now``, the clock
(:func:`~nocert_rules.worktime.deadlines.approval_clock`). While a request has no reply the clock
is paused and there is no due time yet (``due`` is None, ``paused_now`` True).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from nocert_rules.models import ShanghaiDatetime, as_shanghai
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.records import RecordProblem
from nocert_rules.records.verification import VerificationRequest
from nocert_rules.worktime.calendar import as_moment
from nocert_rules.worktime.deadlines import ApprovalClock, Deadline, approval_clock, approval_due

__all__ = ["OnTheSpotClock", "PausedInterval", "on_the_spot_clock", "verification_pauses"]

_LABEL = "即办件考核时间 / on-the-spot clock"


class PausedInterval(BaseModel):
    """One verification request's wait: request sent → reply received (None: no reply yet)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    verification_id: str
    certificate_id: str
    issuing_unit: str
    sent_at: ShanghaiDatetime
    replied_at: ShanghaiDatetime | None = None


class OnTheSpotClock(BaseModel):
    """An on-the-spot application's clock: its paused intervals, due time and (at ``now``) minutes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service_item: str
    started_at: ShanghaiDatetime
    pauses: list[PausedInterval]
    paused_now: bool  # some request has no reply yet: the clock is stopped, no due time
    working_minutes: int | None = None  # the ruleset's limit (manifest on_the_spot.working_minutes)
    due: Deadline | None = None  # when the limit runs out, pauses added on; None: no limit or paused now
    clock: ApprovalClock | None = None  # at ``now``, when given
    rule: str
    clause: str
    limit_clause: str | None = None


def verification_pauses(verifications: Sequence[VerificationRequest]) -> list[PausedInterval]:
    """Each request's paused interval, in the order of the requests sent."""
    out = [
        PausedInterval(
            verification_id=v.id,
            certificate_id=v.certificate_id,
            issuing_unit=v.issuing_unit,
            sent_at=v.requested_at,
            replied_at=v.answered_at or v.returned_at,
        )
        for v in verifications
    ]
    return sorted(out, key=lambda p: (p.sent_at, p.verification_id))


def _moment(value: date | datetime | str, field: str) -> datetime:
    return as_shanghai(as_moment(value, field))


def _one_on_the_spot_item(
    verifications: Sequence[VerificationRequest], ruleset: Ruleset, service_item: str | None, start: datetime,
) -> str:
    """The application's one service item: ``verifications`` of one item and one case, each on a
    row marked 即办件 on its list date (with none yet, the item has such a row on the start's
    day); otherwise a :class:`RecordProblem`."""
    items = {v.purpose.service_item for v in verifications}
    item = service_item or (next(iter(items)) if len(items) == 1 else None)
    if item is None or items - {item}:
        raise RecordProblem(_LABEL, None, f"核验申请须属于同一事项 / the requests must be of one service item "
                            f"(got {sorted(items) or 'none'}; pass service_item)")
    cases = {v.purpose.request_id for v in verifications if v.purpose.request_id is not None}
    if len(cases) > 1:
        raise RecordProblem(_LABEL, None, f"核验申请须属于同一办件 / the requests must be of one case (got {sorted(cases)})")
    for v in verifications:
        day = v.ruleset.effective_date or v.requested_at.date()
        row = ruleset.find_row(v.purpose.service_item, v.certificate_id, day)
        if row is None or not row.on_the_spot:
            raise RecordProblem(
                _LABEL, v.id,
                f"事项 {v.purpose.service_item} 证明 {v.certificate_id} 在 {day} 的清单行未标为即办件 / the list row "
                f"of service item {v.purpose.service_item}, certificate {v.certificate_id} on {day} is not 即办件",
            )
    if not verifications:  # no request yet: the item itself must be 即办件 on the start's day
        day = start.date()
        if not any(r.on_the_spot for r in ruleset.rows_at(day) if r.service_item_code == item):
            raise RecordProblem(_LABEL, None, f"事项 {item} 在 {day} 的清单行未标为即办件 / service item {item} "
                                f"has no row marked 即办件 on {day}")
    return item


def on_the_spot_clock(
    started_at: date | datetime | str,
    verifications: Sequence[VerificationRequest],
    ruleset: Ruleset,
    *,
    service_item: str | None = None,
    now: date | datetime | str | None = None,
) -> OnTheSpotClock:
    """The approval clock of one on-the-spot application (受理 at ``started_at``).

    ``verifications`` are the application's requests: one service item (``service_item`` when
    given, else theirs), one case (their ``request_id`` where set), each on a row of ``ruleset``
    that marks 即办件 on the request's list date. Anything else is a :class:`RecordProblem`, as is
    a ruleset without ``on_the_spot`` or ``now`` before ``started_at``. Waiting before
    ``started_at`` is not counted twice: the clock had not started.
    """
    policy = ruleset.manifest.on_the_spot
    if policy is None:
        raise RecordProblem(_LABEL, None, f"规则集 {ruleset.name} 未设即办件规则 (manifest on_the_spot) / "
                            f"ruleset {ruleset.name} has no on_the_spot section")
    start = _moment(started_at, "started_at")
    item = _one_on_the_spot_item(verifications, ruleset, service_item, start)
    pauses = verification_pauses(verifications)
    paused_now = any(p.replied_at is None for p in pauses)
    due = None
    if policy.working_minutes is not None and not paused_now:
        due = approval_due(
            start, policy.working_minutes,
            [(p.sent_at, p.replied_at) for p in pauses if p.replied_at is not None],
            ruleset.calendar, rule=policy.rule, clause=policy.clause, policy=ruleset.deadline_policy,
        )
    clock = None
    if now is not None:
        at = _moment(now, "now")
        if at < start:
            raise RecordProblem(_LABEL, None, f"now ({at.isoformat()}) 早于受理时间 / is before the start "
                                f"({start.isoformat()})")
        intervals = [(p.sent_at, p.replied_at or at) for p in pauses if p.sent_at <= at]
        clock = approval_clock(
            start, at, intervals, ruleset.calendar, clause=policy.clause, policy=ruleset.deadline_policy
        )
    return OnTheSpotClock(
        service_item=item,
        started_at=start,
        pauses=pauses,
        paused_now=paused_now,
        working_minutes=policy.working_minutes,
        due=due,
        clock=clock,
        rule=policy.rule,
        clause=policy.clause,
        limit_clause=policy.limit_clause,
    )
