"""The list's publication schedule (附件3 第五条 in Zibo: 《清单》实行实时动态调整，原则上每半年公布一次).

The plan says only "in principle every half year"; the ruleset says how it reads that
(``deadlines.publication_schedule``, cited by ``publication_schedule_clause``) and names the days
(``deadlines.publication_month_days``, ``"MM-DD"``) and the clause (``deadlines.publication_clause``):

* ``calendar_halves``: the year is cut into periods ending on the listed days (Zibo: 06-30 and
  12-31, the calendar halves); the list is published once in each period. After a publication
  on day P the next one is due by the end of the period *after* P's (published 2021-06-29 or
  2021-06-30: next due 2021-12-31). With none known, the period of ``effective_from`` owes one.
* ``months_after_last``: the next one is due ``publication_months`` after the last (or after
  ``effective_from``), the same day of the month (the month's last day when it has none).

As of a day D the list is **overdue** when D is after the due day and no later publication is
known (:func:`check_schedule`).

Publications themselves are records (:mod:`nocert_rules.records.publication`, appended to a
log); this module only needs what each one says — which ruleset, which version and hash, on which
day (:class:`PublishedList`) — so that ``lint`` (a layer that may not read records) can check the
schedule.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict, Field

from nocert_rules.models import Citation
from nocert_rules.policy.loaded import Ruleset
from nocert_rules.worktime.deadlines import next_publication_date

__all__ = ["PublishedList", "ScheduleCheck", "check_schedule", "first_publication_due", "next_publication_due"]


class PublishedList(BaseModel):
    """What a publication says: the ruleset (name, version, sha256) published on a day."""

    model_config = ConfigDict(frozen=True)

    ruleset_name: str
    ruleset_version: str
    ruleset_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    published_on: date


class ScheduleCheck(BaseModel):
    """Where a ruleset's list stands against its publication schedule on ``as_of``."""

    model_config = ConfigDict(frozen=True)

    ruleset_name: str
    as_of: date
    in_force: bool = Field(description="the ruleset is in force on as_of (else nothing is due)")
    last: PublishedList | None = Field(description="the latest publication on or before as_of, if any")
    counted_from: date = Field(description="last.published_on, or effective_from when none is known")
    due_on: date = Field(description="the day the next publication is due by (the ruleset's schedule)")
    overdue: bool = Field(description="as_of is after due_on (and the ruleset is in force)")
    current: bool | None = Field(
        description="the last publication is of this very ruleset (same sha256); None without one"
    )
    schedule: tuple[str, ...]
    schedule_kind: str = Field(description="deadlines.publication_schedule: calendar_halves or months_after_last")
    schedule_reading: Citation | None = Field(description="the clause behind the schedule (publication_schedule_clause)")
    citation: Citation


def next_publication_due(ruleset: Ruleset, published_on: date) -> date:
    """The day the publication after one on ``published_on`` is due by, by the ruleset's schedule."""
    d = ruleset.manifest.deadlines
    if d.publication_schedule == "months_after_last":
        return published_on + relativedelta(months=d.publication_months)
    period_end = next_publication_date(published_on, d.publication_month_days)
    return next_publication_date(period_end + timedelta(days=1), d.publication_month_days)


def first_publication_due(ruleset: Ruleset) -> date:
    """With no publication known: the end of ``effective_from``'s period (calendar_halves), or
    ``publication_months`` after it (months_after_last)."""
    d = ruleset.manifest.deadlines
    start = ruleset.manifest.effective_from
    if d.publication_schedule == "months_after_last":
        return start + relativedelta(months=d.publication_months)
    return next_publication_date(start, d.publication_month_days)


def check_schedule(ruleset: Ruleset, publications: Iterable[PublishedList], as_of: date) -> ScheduleCheck:
    """The schedule check of ``ruleset`` on ``as_of`` against the publications known.

    Only publications of this ruleset's name dated on or before ``as_of`` count. With none, the
    count starts from the manifest's ``effective_from`` (the day the list took effect).
    """
    own = [p for p in publications if p.ruleset_name == ruleset.name and p.published_on <= as_of]
    last = max(own, key=lambda p: p.published_on) if own else None
    counted_from = last.published_on if last is not None else ruleset.manifest.effective_from
    due_on = next_publication_due(ruleset, counted_from) if last is not None else first_publication_due(ruleset)
    in_force = ruleset.in_force(as_of)
    policy = ruleset.deadline_policy
    return ScheduleCheck(
        ruleset_name=ruleset.name,
        as_of=as_of,
        in_force=in_force,
        last=last,
        counted_from=counted_from,
        due_on=due_on,
        overdue=in_force and as_of > due_on,
        current=None if last is None else last.ruleset_sha256 == ruleset.sha256,
        schedule=tuple(policy.publication_month_days),
        schedule_kind=ruleset.manifest.deadlines.publication_schedule,
        schedule_reading=_reading(ruleset),
        citation=ruleset.citation(policy.publication_clause),
    )


def _reading(ruleset: Ruleset) -> Citation | None:
    clause = ruleset.manifest.deadlines.publication_schedule_clause
    return ruleset.citation(clause) if clause else None
