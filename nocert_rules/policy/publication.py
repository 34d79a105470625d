"""The list's publication schedule (附件3 第五条 in Zibo: 《清单》实行实时动态调整，原则上每半年公布一次).

The plan says only "in principle every half year"; the ruleset names the days
(``deadlines.publication_month_days``, ``"MM-DD"``) and the clause (``deadlines.publication_clause``).
Reading used here (mechanism, not policy): after a publication on day P, the next one is due on
the first scheduled day *after* P (:func:`next_publication_due`); as of a day D the list is
**overdue** when D is after that due day and no later publication is known.

Publications themselves are records (:mod:`nocert_rules.records.publication`, appended to a
log); this module only needs what each one says — which ruleset, which version and hash, on which
day (:class:`PublishedList`) — so that ``lint`` (a layer that may not read records) can check the
schedule (:func:`check_schedule`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from nocert_rules.models import Citation
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.worktime.deadlines import next_publication_date

__all__ = ["PublishedList", "ScheduleCheck", "check_schedule", "next_publication_due"]


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
    due_on: date = Field(description="the first scheduled publication day after counted_from")
    overdue: bool = Field(description="as_of is after due_on (and the ruleset is in force)")
    current: bool | None = Field(
        description="the last publication is of this very ruleset (same sha256); None without one"
    )
    schedule: tuple[str, ...]
    citation: Citation


def next_publication_due(ruleset: Ruleset, published_on: date) -> date:
    """The first scheduled publication day strictly after ``published_on`` (the manifest's days)."""
    return next_publication_date(published_on + timedelta(days=1), ruleset.deadline_policy.publication_month_days)


def check_schedule(ruleset: Ruleset, publications: Iterable[PublishedList], as_of: date) -> ScheduleCheck:
    """The schedule check of ``ruleset`` on ``as_of`` against the publications known.

    Only publications of this ruleset's name dated on or before ``as_of`` count. With none, the
    count starts from the manifest's ``effective_from`` (the day the list took effect).
    """
    own = [p for p in publications if p.ruleset_name == ruleset.name and p.published_on <= as_of]
    last = max(own, key=lambda p: p.published_on) if own else None
    counted_from = last.published_on if last is not None else ruleset.manifest.effective_from
    due_on = next_publication_due(ruleset, counted_from)
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
        citation=ruleset.citation(policy.publication_clause),
    )
