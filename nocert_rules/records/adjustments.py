"""清单动态调整 list-adjustment applications (附件3 第六条–第九条).

An application states the unit, date, service item, certificate, type (新增/变更/取消), the
no-submission method (共享/告知承诺/核验/其他) and the basis (第九条). Its cause must be one of
the ruleset's causes for that type (manifest ``records.adjustment_causes``; in Zibo the items of
新增 第六条, 变更 第七条, 取消 第八条), and the record keeps the cause's clause and label; an
"other" item needs the cause described. A ruleset that lists no causes accepts any cause id,
described in words.

**Late applications are flagged, not refused.** 第九条 asks for the application within 7 working
days of the cause (the ruleset's ``deadlines.adjustment_working_days``) (:func:`nocert_rules.worktime.deadlines.adjustment_due`). A late one is still the only
way to correct the list, so refusing it would leave the list wrong; the record is kept with
``late=True`` (its submit event noted late) and a warning (:func:`adjustment_warnings`, in the
ruleset's words: manifest ``wording.records``), which the joint-meeting office and 附件5 第四条
accountability can act on.

Between the cause and publication the unit picks a method itself and may not ask applicants for
the certificate (第九条 第二款). :func:`pending_adjustment_for` tells a host when to set the
request's ``adjustment_pending``; the ruleset's ``adjustment.pending-unit-verifies`` rule then
has the unit verify instead.

Life: ``submitted`` ──publish──▶ ``published`` | ──reject (reason)──▶ ``rejected``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar, Self
from uuid import uuid4

from pydantic import Field, model_validator

from nocert_rules.models import ShanghaiDatetime, as_shanghai
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.records import Record, RecordProblem, require_text
from nocert_rules.worktime.deadlines import adjustment_due
from nocert_rules.worktime.wording import say

__all__ = [
    "AdjustmentApplication",
    "AdjustmentCause",
    "AdjustmentState",
    "AdjustmentType",
    "CauseState",
    "ExemptionMethod",
    "adjustment_warnings",
    "as_list_adjustment",
    "mark_applied",
    "note_cause",
    "pending_adjustment_for",
    "publish",
    "reject",
    "submit_adjustment",
]


class AdjustmentType(StrEnum):
    """调整类型 (附件3 第九条)."""

    ADD = "add"  # 新增
    CHANGE = "change"  # 变更
    CANCEL = "cancel"  # 取消

    @property
    def label_zh(self) -> str:
        return {"add": "新增", "change": "变更", "cancel": "取消"}[self.value]


class ExemptionMethod(StrEnum):
    """免提交方式 (附件3 第九条): 共享、告知承诺、核验及其他."""

    SHARING = "sharing"  # 共享
    PLEDGE = "pledge"  # 告知承诺
    VERIFICATION = "verification"  # 核验
    OTHER = "other"  # 其他

    @property
    def label_zh(self) -> str:
        return {"sharing": "共享", "pledge": "告知承诺", "verification": "核验", "other": "其他"}[self.value]


class AdjustmentState(StrEnum):
    SUBMITTED = "submitted"  # 已提出书面申请
    PUBLISHED = "published"  # 已公布实施
    REJECTED = "rejected"  # 审核未通过


class AdjustmentApplication(Record):
    """A written application to adjust the list, to the ruleset's ``deadlines.adjustment_office`` (附件3 第九条)."""

    record_label: ClassVar[str] = "清单调整申请 / list-adjustment application"

    state: AdjustmentState = AdjustmentState.SUBMITTED
    unit: str = Field(min_length=1, max_length=200, description="申请单位")
    applied_on: date = Field(description="申请日期")
    service_item: str = Field(min_length=1, description="申请调整的政务服务和公共服务事项")
    service_item_name: str | None = None
    certificate: str = Field(min_length=1, description="申请调整的证明材料（编号或名称）")
    certificate_name: str | None = None
    type: AdjustmentType
    method: ExemptionMethod | None = Field(default=None, description="免提交方式；取消时可不填")
    method_detail: str | None = Field(default=None, description="“其他”方式的说明")
    basis: str = Field(min_length=1, description="调整依据")
    cause: str = Field(min_length=1, max_length=64, description="调整事由 id (manifest records.adjustment_causes)")
    cause_type: AdjustmentType = Field(description="the type the cause belongs to")
    cause_clause: str | None = Field(default=None, description="the clause (and item) listing the cause")
    cause_label: str | None = None
    cause_other: bool = Field(default=False, description="a catch-all cause: cause_detail required")
    cause_detail: str | None = Field(default=None, description="“其他情形”的说明")
    cause_on: date = Field(description="调整事由发生之日")
    due_at: ShanghaiDatetime
    due_rule: str
    due_clause: str | None = None
    late: bool
    published_on: date | None = None
    rejected_on: date | None = None
    rejection_reason: str | None = None

    @model_validator(mode="after")
    def _valid(self) -> Self:
        """附件3 第六条至第九条."""
        if self.cause_type is not self.type:
            where = f"{self.cause_clause}“{self.cause_label}”" if self.cause_clause else self.cause
            raise ValueError(
                f"事由 {where}属于{self.cause_type.label_zh}，不是{self.type.label_zh} / cause "
                f"{self.cause} is a cause to {self.cause_type.value}, not to {self.type.value}"
            )
        if self.cause_other and not (self.cause_detail or "").strip():
            raise ValueError(f"{self.cause_clause or self.cause} 其他情形须说明事由 / an 'other' cause needs cause_detail")
        if self.type is not AdjustmentType.CANCEL and self.method is None:
            raise ValueError(
                f"{self.type.label_zh}须写明免提交方式 / a {self.type.value} needs the method"
            )
        if self.method is ExemptionMethod.OTHER and not (self.method_detail or "").strip():
            raise ValueError("“其他”免提交方式须说明 / method 'other' needs method_detail")
        if not self.basis.strip():
            raise ValueError("须写明调整依据 / the basis is required")
        if self.applied_on < self.cause_on:
            raise ValueError("申请日期早于调整事由发生之日 / applied before the cause happened")
        if self.state is AdjustmentState.PUBLISHED and self.published_on is None:
            raise ValueError("published 状态须有 published_on / state published needs published_on")
        if self.state is AdjustmentState.REJECTED and (
            self.rejected_on is None or not (self.rejection_reason or "").strip()
        ):
            raise ValueError("rejected 状态须有日期和理由 / state rejected needs its date and reason")
        return self



def adjustment_warnings(ruleset: Ruleset, application: AdjustmentApplication) -> list[str]:
    """A late application's warning in the ruleset's words (``wording.records.adjustment_late``,
    ``adjustment_late_no_clause`` for a record without ``due_clause``); none when on time."""
    if not application.late:
        return []
    words = ruleset.manifest.wording.records
    due = f"{application.due_at:%Y-%m-%d %H:%M}"
    if application.due_clause:
        return [say(words.adjustment_late, due=due, clause=application.due_clause)]
    return [say(words.adjustment_late_no_clause, due=due)]


class CauseState(StrEnum):
    NOTED = "noted"  # 调整事由已发生，待提出申请
    APPLIED = "applied"  # 已提出书面申请


class AdjustmentCause(Record):
    """调整事由 noted (附件3 第九条): from ``cause_on`` the unit owes a written application within the
    ruleset's limit; ``noted`` until :func:`mark_applied` links the application. As of a day past
    ``due_at`` a cause still ``noted`` is an accountability candidate (``records.accountability``)."""

    record_label: ClassVar[str] = "清单调整事由 / list-adjustment cause"

    state: CauseState = CauseState.NOTED
    unit: str = Field(min_length=1, max_length=200, description="应当申请的单位")
    service_item: str = Field(min_length=1)
    certificate: str = Field(min_length=1)
    type: AdjustmentType
    cause: str = Field(min_length=1, max_length=64)
    cause_type: AdjustmentType
    cause_clause: str | None = None
    cause_label: str | None = None
    cause_other: bool = False
    cause_detail: str | None = None
    cause_on: date
    due_at: ShanghaiDatetime
    due_rule: str
    due_clause: str | None = None
    application_id: str | None = None
    applied_on: date | None = None
    late: bool | None = None

    @model_validator(mode="after")
    def _valid(self) -> Self:
        if self.cause_type is not self.type:
            raise ValueError(f"事由 {self.cause} 属于{self.cause_type.label_zh}，不是{self.type.label_zh} / cause "
                             f"{self.cause} is a cause to {self.cause_type.value}, not to {self.type.value}")
        if self.cause_other and not (self.cause_detail or "").strip():
            raise ValueError(f"{self.cause_clause or self.cause} 其他情形须说明事由 / an 'other' cause needs cause_detail")
        if self.state is CauseState.APPLIED and (self.application_id is None or self.applied_on is None):
            raise ValueError("applied 状态须有申请 / state applied needs the application and its date")
        return self


def note_cause(
    ruleset: Ruleset,
    *,
    unit: str,
    service_item: str,
    certificate: str,
    type: AdjustmentType | str,
    cause: str,
    cause_on: date,
    cause_detail: str | None = None,
    record_id: str | None = None,
) -> AdjustmentCause:
    """The cause of an adjustment as it happens: what must be applied for, by whom, by when (第九条)."""
    rid = record_id or uuid4().hex
    deadline = adjustment_due(cause_on, ruleset.calendar, policy=ruleset.deadline_policy)
    return AdjustmentCause.model_validate({
        "id": rid, "unit": unit, "service_item": service_item, "certificate": certificate, "type": type,
        "cause": cause, **_cause_fields(ruleset, cause, type, AdjustmentCause.record_label, rid),
        "cause_detail": (cause_detail or "").strip() or None, "cause_on": cause_on,
        "due_at": deadline.due_at, "due_rule": deadline.rule, "due_clause": deadline.clause,
        "events": ({"at": _day_start(cause_on), "action": "note", "state": CauseState.NOTED.value,
                    "note": deadline.clause},),
    })


def mark_applied(notice: AdjustmentCause, application: AdjustmentApplication) -> AdjustmentCause:
    """The cause's application was made: the same unit, service item, certificate, cause and day."""
    if notice.state is not CauseState.NOTED:
        raise notice.refuse("mark_applied", notice.state, [CauseState.NOTED])
    same = (application.unit, application.service_item, application.certificate, application.cause, application.cause_on)
    if same != (notice.unit, notice.service_item, notice.certificate, notice.cause, notice.cause_on):
        raise notice.problem("申请与调整事由不符（单位、事项、证明、事由、事由日期）/ the application is not for this "
                             "cause (unit, service item, certificate, cause, cause day)")
    at = notice.check_time(_day_start(application.applied_on), "mark_applied")
    return notice.evolve(action="mark_applied", at=at, note=application.id, state=CauseState.APPLIED,
                         application_id=application.id, applied_on=application.applied_on, late=application.late)


def _cause_fields(ruleset: Ruleset, cause: str, type: AdjustmentType | str, label: str, rid: str) -> dict[str, Any]:
    """The cause's type, clause (and item), label and catch-all flag from the ruleset's causes."""
    causes = {c.id: c for c in ruleset.manifest.records.adjustment_causes}
    plan = causes.get(cause) if isinstance(cause, str) else None
    if causes and plan is None:
        raise RecordProblem(
            label, rid, f"未知调整事由 / unknown cause; the ruleset's causes: {', '.join(sorted(causes))}"
        )
    if plan is None:  # no catalogue: the cause is described in words
        return {"cause_type": type, "cause_clause": None, "cause_label": None, "cause_other": True}
    return {
        "cause_type": plan.type,
        "cause_clause": f"{plan.clause}{plan.item or ''}",
        "cause_label": plan.label,
        "cause_other": plan.other,
    }


def submit_adjustment(
    ruleset: Ruleset,
    *,
    unit: str,
    applied_on: date,
    service_item: str,
    certificate: str,
    type: AdjustmentType | str,
    method: ExemptionMethod | str | None,
    basis: str,
    cause: str,
    cause_on: date,
    cause_detail: str | None = None,
    method_detail: str | None = None,
    service_item_name: str | None = None,
    certificate_name: str | None = None,
    record_id: str | None = None,
) -> AdjustmentApplication:
    """A validated application; ``due_at``/``late`` from ``adjustment_due`` in ``ruleset``'s calendar.

    ``cause`` is the id of one of the ruleset's ``records.adjustment_causes``; the record keeps
    its type, clause and label. A ruleset without causes takes any id, with ``cause_detail``.
    """
    rid = record_id or uuid4().hex
    cause_fields = _cause_fields(ruleset, cause, type, AdjustmentApplication.record_label, rid)
    deadline = adjustment_due(cause_on, ruleset.calendar, policy=ruleset.deadline_policy)
    late = applied_on > deadline.due_at.date()
    event = {
        "at": _day_start(applied_on),
        "action": "submit",
        "state": AdjustmentState.SUBMITTED.value,
        "note": say(ruleset.manifest.wording.records.adjustment_late_note) if late else None,
    }
    return AdjustmentApplication.model_validate(
        {
            "id": rid,
            "unit": unit,
            "applied_on": applied_on,
            "service_item": service_item,
            "service_item_name": service_item_name,
            "certificate": certificate,
            "certificate_name": certificate_name,
            "type": type,
            "method": method,
            "method_detail": method_detail,
            "basis": basis,
            "cause": cause,
            **cause_fields,
            "cause_detail": cause_detail,
            "cause_on": cause_on,
            "due_at": deadline.due_at,
            "due_rule": deadline.rule,
            "due_clause": deadline.clause,
            "late": late,
            "events": (event,),
        }
    )


def _day_start(on: date) -> datetime:
    return as_shanghai(datetime.combine(on, datetime.min.time()))


def publish(application: AdjustmentApplication, on: date) -> AdjustmentApplication:
    """公布实施 by the joint-meeting office (附件3 第五条、第十条)."""
    if application.state is not AdjustmentState.SUBMITTED:
        raise application.refuse("publish", application.state, [AdjustmentState.SUBMITTED])
    if on < application.applied_on:
        raise application.problem("公布日期早于申请日期 / published before the application")
    at = application.check_time(_day_start(on), "publish")
    return application.evolve(action="publish", at=at, state=AdjustmentState.PUBLISHED, published_on=on)


def reject(application: AdjustmentApplication, on: date, reason: str) -> AdjustmentApplication:
    """审核未通过 (附件3 第十条), with the reason."""
    if application.state is not AdjustmentState.SUBMITTED:
        raise application.refuse("reject", application.state, [AdjustmentState.SUBMITTED])
    text = require_text(application.record_label, application.id, "reason / 理由", reason)
    if on < application.applied_on:
        raise application.problem("审核日期早于申请日期 / rejected before the application")
    at = application.check_time(_day_start(on), "reject")
    return application.evolve(
        action="reject", at=at, note=text, state=AdjustmentState.REJECTED, rejected_on=on, rejection_reason=text
    )


def as_list_adjustment(application: AdjustmentApplication, row: dict[str, Any] | None = None) -> dict[str, Any]:
    """A published application as an entry of the ruleset's ``adjustments.yaml``
    (``policy.list_adjustments``): from its publication day ``decide()`` answers by ``row``
    (for 新增 / 变更: the row as it then applies; for 取消 none is needed), and between the cause
    and publication the pending rule of 附件3 第九条 applies."""
    if application.state is not AdjustmentState.PUBLISHED or application.published_on is None:
        raise application.problem("只有已公布的调整才进入清单 / only a published adjustment changes the list")
    entry: dict[str, Any] = {
        "id": application.id,
        "type": application.type.value,
        "cause_on": application.cause_on.isoformat(),
        "published_on": application.published_on.isoformat(),
        "basis": application.basis,
    }
    if row is not None:
        entry["row"] = row
    else:
        if application.type is not AdjustmentType.CANCEL:
            raise application.problem(f"{application.type.label_zh}须给出调整后的清单行 / a {application.type.value} needs the row")
        entry["service_item_code"] = application.service_item
        entry["certificate_id"] = application.certificate
    return entry


def _matches(app: AdjustmentApplication | AdjustmentCause, service_item: str, certificate: str) -> bool:
    name = app.certificate_name if isinstance(app, AdjustmentApplication) else None
    return app.service_item == service_item and certificate in (app.certificate, name)


def pending_adjustment_for(
    applications: Iterable[AdjustmentApplication | AdjustmentCause], service_item: str, certificate: str,
    at: date | datetime,
) -> bool:
    """True while an adjustment of (service item, certificate) is pending at ``at`` (附件3 第九条).

    Pending: its cause has happened (on or before that day) and it is neither published nor
    rejected yet (publication day itself: the new list applies). A host sets the decision
    request's ``adjustment_pending`` from this; the certificate (by id or name) must match. A
    noted cause (:class:`AdjustmentCause`) still ``noted`` is pending too: the period runs from
    the cause, applied for or not.
    """
    day = as_shanghai(at).date() if isinstance(at, datetime) else at
    for app in applications:
        if not _matches(app, service_item, certificate) or app.cause_on > day:
            continue
        if isinstance(app, AdjustmentCause):
            if app.state is CauseState.NOTED:
                return True
            continue
        if app.published_on is not None and app.published_on <= day:
            continue
        if app.rejected_on is not None and app.rejected_on <= day:
            continue
        return True
    return False

