"""清单公布 list publications (附件3 第五条 in Zibo: 原则上每半年公布一次), recorded and kept in a log.

A :class:`ListPublication` says which list was published on which day: the ruleset's name,
version and sha256 (so the list that was published can be told from a later edit), the rows in
force that day, who published it, the clause of the schedule (``deadlines.publication_clause``)
and the next publication due by the manifest's schedule (``deadlines.publication_month_days``,
:func:`nocert_rules.policy.publication.next_publication_due`).

:class:`PublicationLog` keeps publications in a JSON-lines file, one record a line. Appending
rewrites the file whole or not at all (:func:`nocert_rules.fileio.replace_atomically`): a failed
write leaves the old log; a log that does not read back (a torn or edited line) is refused with
``file:line`` before anything is written. ``nocert-rules publication record|status`` and
``nocert-rules lint --publications LOG`` use it (``lint`` warns when the list is overdue).

Life: one event, ``publish``; a publication is never changed afterwards (a correction is a new
publication).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import ClassVar, Literal
from uuid import uuid4

from pydantic import Field

from nocert_rules.fileio import JsonLineError, json_lines, replace_atomically
from nocert_rules.models import as_shanghai
from nocert_rules.policy.publication import PublishedList, check_schedule, next_publication_due
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.records import Record, RecordProblem

__all__ = [
    "DEFAULT_LOG_NAME",
    "ListPublication",
    "PublicationLog",
    "check_schedule",
    "next_publication_due",
    "record_publication",
]

DEFAULT_LOG_NAME = "publications.jsonl"
"""The log ``lint`` and ``nocert-rules publication`` use when none is named: beside the manifest
(it is not a ruleset file: not loaded, not in the ruleset's sha256)."""


class ListPublication(Record):
    """One publication of the list (《清单》公布)."""

    record_label: ClassVar[str] = "清单公布 / list publication"

    record_type: Literal["ListPublication"] = "ListPublication"
    ruleset_name: str = Field(min_length=1)
    ruleset_version: str = Field(min_length=1)
    ruleset_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    published_on: date
    published_by: str | None = Field(default=None, max_length=200, description="公布单位 / the publishing office")
    rows_in_force: int = Field(ge=0, description="清单行数（公布之日有效） / rows in force that day")
    schedule: tuple[str, ...] = Field(min_length=1, description="the manifest's publication days, MM-DD")
    clause: str | None = Field(default=None, description="the schedule's clause (deadlines.publication_clause)")
    next_due_on: date = Field(description="下次公布期限 / the next scheduled publication")

    @property
    def published(self) -> PublishedList:
        """What :func:`check_schedule` reads of this record."""
        return PublishedList(
            ruleset_name=self.ruleset_name,
            ruleset_version=self.ruleset_version,
            ruleset_sha256=self.ruleset_sha256,
            published_on=self.published_on,
        )


def record_publication(
    ruleset: Ruleset, on: date, *, published_by: str | None = None, record_id: str | None = None
) -> ListPublication:
    """The publication of ``ruleset``'s list on ``on``, with its next due day by the schedule.

    ``published_by`` defaults to the manifest's ``deadlines.adjustment_office`` (the office that
    publishes adjustments), when it names one.
    """
    office = ruleset.manifest.deadlines.adjustment_office
    by = published_by if published_by is not None else (office.name if office is not None else None)
    policy = ruleset.deadline_policy
    return ListPublication.model_validate(
        {
            "id": record_id or uuid4().hex,
            "ruleset_name": ruleset.name,
            "ruleset_version": ruleset.version,
            "ruleset_sha256": ruleset.sha256,
            "published_on": on,
            "published_by": by,
            "rows_in_force": len(ruleset.rows_at(on)),
            "schedule": tuple(policy.publication_month_days),
            "clause": policy.publication_clause,
            "next_due_on": next_publication_due(ruleset, on),
            "events": ({"at": _day_start(on), "action": "publish", "state": "published", "note": policy.publication_clause},),
        }
    )


def _day_start(on: date) -> datetime:
    return as_shanghai(datetime.combine(on, datetime.min.time()))


_LOG_LABEL = "清单公布记录 / publication log"


class PublicationLog:
    """Publications in a JSON-lines file (created on the first append)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def read(self) -> list[ListPublication]:
        """Every publication in the log, in file order; a bad line is a RecordProblem at file:line."""
        if not self.path.exists():
            return []
        out: list[ListPublication] = []
        seen: set[str] = set()
        try:
            for n, doc in json_lines(self.path):
                try:
                    record = ListPublication.model_validate(doc)
                except RecordProblem as exc:
                    raise RecordProblem(_LOG_LABEL, None, f"{self.path}:{n}: {exc.problem}") from None
                if record.id in seen:
                    raise RecordProblem(_LOG_LABEL, None, f"{self.path}:{n}: 重复的记录 id / duplicate id {record.id}")
                seen.add(record.id)
                out.append(record)
        except JsonLineError as exc:
            raise RecordProblem(_LOG_LABEL, None, str(exc)) from None
        return out

    def append(self, publication: ListPublication) -> None:
        """Add ``publication`` (the whole log is rewritten atomically; a duplicate id is refused)."""
        existing = self.read()
        if any(p.id == publication.id for p in existing):
            raise RecordProblem(_LOG_LABEL, publication.id, "记录 id 已存在 / a publication with this id is logged")
        lines = [p.model_dump_json() for p in (*existing, publication)]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        replace_atomically(self.path, ("\n".join(lines) + "\n").encode("utf-8"))

    def published(self) -> list[PublishedList]:
        return [p.published for p in self.read()]
