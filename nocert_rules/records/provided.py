"""申请人自行提供 documents the applicant offered (附件2 第九条).

"行政相对人能够提供也愿意提供的，办事部门不得拒绝 … 应当做好相关记录，并留存备查."
The office may not refuse, so the record has one state only, ``accepted``: there is no
"refused" state and no function that refuses. ``record_provided`` takes an
APPLICANT_PROVIDED decision; ``voluntary`` tells a 第九条 offer from the manifest's fallback
(no other method was available and the applicant had to provide it). The record cites the
ruleset's ``records.applicant_provided_clause`` (pass the ruleset); without it, no clause.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal, Self
from uuid import uuid4

from pydantic import Field, model_validator

from nocert_rules.enums import Method
from nocert_rules.models import Citation, Decision, RulesetStamp, ShanghaiDatetime
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.records import (
    Record,
    RecordEvent,
    decision_ref,
    require_method,
    require_text,
)

__all__ = ["ProvidedDocument", "record_provided"]


class ProvidedDocument(Record):
    """The office accepted a document the applicant provided and recorded it (附件2 第九条)."""

    record_label: ClassVar[str] = "申请人自行提供材料记录 / applicant-provided document record"

    status: Literal["accepted"] = "accepted"
    request_id: str | None = None
    service_item: str = Field(min_length=1)
    service_item_name: str | None = None
    certificate: str = Field(min_length=1)
    certificate_id: str | None = None
    certificate_name: str | None = None
    received_by: str = Field(min_length=1, max_length=200)
    received_at: ShanghaiDatetime
    decided_at: ShanghaiDatetime
    description: str | None = Field(default=None, max_length=2000)
    voluntary: bool
    basis: Citation | None = None
    ruleset: RulesetStamp
    clause: str | None = None
    """The clause the decision cited for this submission: the offer rule's (附件2 第九条 for a fact
    moved to verification, 二(二) otherwise) or the manifest fallback's (a compelled submission)."""

    @model_validator(mode="after")
    def _times(self) -> Self:
        if self.received_at < self.decided_at:
            raise ValueError("received_at 早于决定时间 / received before the decision")
        return self


def record_provided(
    decision: Decision,
    *,
    received_by: str,
    at: datetime,
    description: str | None = None,
    record_id: str | None = None,
    ruleset: Ruleset | None = None,
) -> ProvidedDocument:
    """Record what the applicant provided under an APPLICANT_PROVIDED decision (附件2 第九条).

    ``ruleset`` (the decision's) gives the clause the record cites.
    """
    rid = record_id or uuid4().hex
    label = ProvidedDocument.record_label
    require_method(decision, Method.APPLICANT_PROVIDED, label, rid, ruleset)
    basis = next(
        (
            s.citation
            for s in decision.trace
            if s.method is Method.APPLICANT_PROVIDED and s.effect in ("offer", "fallback")
        ),
        None,
    )
    # The decision's own citation names the situation; the manifest's clause only without one.
    if basis is not None:
        clause: str | None = basis.clause_id
    else:
        clause = ruleset.manifest.records.applicant_provided_clause if ruleset is not None else None
    return ProvidedDocument(
        id=rid,
        **decision_ref(decision),
        received_by=require_text(label, rid, "received_by", received_by),
        received_at=at,
        decided_at=decision.requested_at,
        description=description,
        voluntary=not decision.applicant_must_submit,
        basis=basis,
        ruleset=decision.ruleset,
        clause=clause,
        events=(RecordEvent(at=at, action="record", state="accepted", note=clause),),
    )
