"""Records a host keeps after a decision (issue 5): immutable, validated, pure transitions.

Every record is a frozen pydantic model. A transition is a function that takes a record and
returns a *new* record (the host stores it); nothing here reads the clock, a database or the
network. Every time is passed in by the caller (naive means Asia/Shanghai).

Any invalid record or transition raises :class:`RecordProblem` (a ``RecordError``) naming the
record (its kind and id) and the problem, Chinese first with English beside it. A record read
back from storage (``model_validate`` / ``model_validate_json``) is validated the same way, so a
stored record edited into an impossible state is refused, never silently repaired.

Modules:

* :mod:`~nocert_rules.records.verification` 部门核验 (附件2 第七条–第十二条)
* :mod:`~nocert_rules.records.provided` 申请人自行提供 (附件2 第九条)
* :mod:`~nocert_rules.records.pledge` 告知承诺书 and post-check (三(三)2, 三(五)3)
* :mod:`~nocert_rules.records.complaints` 投诉举报 (附件4 第三条–第十一条)
* :mod:`~nocert_rules.records.adjustments` 清单动态调整 (附件3 第六条–第九条)
* :mod:`~nocert_rules.records.publication` 清单公布 (附件3 第五条)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from nocert_rules.enums import Method
from nocert_rules.errors import RecordError, RequestError
from nocert_rules.models import Decision, ShanghaiDatetime, as_shanghai
from nocert_rules.policy.wording import default_ruleset_wording
from nocert_rules.privacy import mask_text
from nocert_rules.worktime.calendar import as_moment

if TYPE_CHECKING:
    from nocert_rules.policy.ruleset import Ruleset

__all__ = [
    "HashedRef",
    "Record",
    "RecordEvent",
    "RecordProblem",
    "TransitionError",
    "decision_ref",
    "describe_validation_error",
    "mask_personal",
    "require_method",
    "require_text",
]


class RecordProblem(RecordError):
    """An invalid record or transition. ``record`` is the record's label, ``record_id`` its id."""

    def __init__(self, record: str, record_id: str | None, problem: str) -> None:
        # An id or a problem may quote input: ID-shaped runs are masked (nocert_rules.privacy).
        self.record = record
        self.record_id = mask_text(record_id) if record_id else record_id
        self.problem = mask_text(problem)
        where = f"{record} {self.record_id}" if self.record_id else record
        super().__init__(f"{where}: {self.problem}")


class TransitionError(RecordProblem):
    """A transition that the record's current state does not allow."""

    def __init__(
        self, record: str, record_id: str | None, action: str, state: str, allowed: Iterable[str]
    ) -> None:
        self.action = action
        self.state = state
        self.allowed = tuple(allowed)
        allowed_text = ", ".join(self.allowed) or "(none / 无)"
        super().__init__(
            record,
            record_id,
            f"当前状态 {state} 不允许“{action}” / {action!r} is not allowed in state {state!r} "
            f"(allowed from: {allowed_text})",
        )


def describe_validation_error(exc: ValidationError) -> str:
    """Field paths and problems of a pydantic error, never the offending input (it may be an ID)."""
    parts = []
    for err in exc.errors():
        loc = ".".join(mask_text(str(p)) for p in err["loc"]) or "(record)"  # unknown keys too
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "缺少必填字段 / field required"
        elif err["type"] == "extra_forbidden":
            msg = "未知字段 / unknown field"
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


_KEYED_HASH = re.compile(r"^hmac-sha256:[0-9a-f]{64}$")


def _keyed_hash_only(value: str) -> str:
    if not _KEYED_HASH.match(value):
        raise ValueError("须为 keyed_hash 结果，不得为明文 / must be a keyed hash, never in clear")
    return value


HashedRef = Annotated[str, AfterValidator(_keyed_hash_only)]
"""A person as :func:`nocert_rules.privacy.keyed_hash` ``(id_number, key)``: clear text cannot pass."""


class RecordEvent(BaseModel):
    """One step in a record's history: what happened, when, and the state it led to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: ShanghaiDatetime
    action: str = Field(min_length=1)
    state: str = Field(min_length=1)
    note: str | None = None


def _label_of(cls: type[Any]) -> str:
    return str(getattr(cls, "record_label", cls.__name__))


class Record(BaseModel):
    """Base of every record: frozen, unknown keys refused, validation errors become RecordProblem."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record_label: ClassVar[str] = "记录 / record"

    id: str = Field(min_length=1, max_length=128)
    events: tuple[RecordEvent, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _mask_free_text(cls, data: Any) -> Any:
        """Every text of a record is masked (``privacy.mask_text``) before it is kept: an ID
        number or a phone number typed into a summary, a note or an id never reaches the record,
        its repr or JSON. (The names a record holds: :func:`mask_personal`.)"""
        return _mask_deep(data) if isinstance(data, dict) else data

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise RecordProblem(_label_of(type(self)), _id_of(data), describe_validation_error(exc)) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise RecordProblem(_label_of(cls), _id_of(obj), describe_validation_error(exc)) from None

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except ValidationError as exc:
            raise RecordProblem(_label_of(cls), None, describe_validation_error(exc)) from None

    # ------------------------------------------------------------ helpers for transitions

    def problem(self, text: str) -> RecordProblem:
        """A RecordProblem naming this record."""
        return RecordProblem(self.record_label, self.id, text)

    def refuse(self, action: str, state: str, allowed: Iterable[Any]) -> TransitionError:
        return TransitionError(self.record_label, self.id, action, state, [str(s) for s in allowed])

    @property
    def last_event_at(self) -> datetime | None:
        return self.events[-1].at if self.events else None

    def check_time(self, at: datetime | str, action: str) -> datetime:
        """``at`` in Asia/Shanghai, refused when it is before the record's last event.

        ``at`` is what ``decide()`` accepts: a datetime or ISO 8601 text (naive = Asia/Shanghai);
        anything else is a ``RequestError``.
        """
        moment = as_moment(at, "at")
        if not isinstance(moment, datetime):
            raise RequestError([("at", "须为日期时间，不能只有日期 / a date and time, not a date alone")])
        at = as_shanghai(moment)
        last = self.last_event_at
        if last is not None and at < last:
            raise self.problem(
                f"“{action}”的时间 {at.isoformat()} 早于上一事件 {last.isoformat()} / the time of "
                f"{action!r} is before the record's last event"
            )
        return at

    def evolve(self, *, action: str, at: datetime, note: str | None = None, **changes: Any) -> Self:
        """A validated copy with ``changes`` applied and one event appended (never ``model_copy``)."""
        data = self.model_dump()
        data.update(changes)
        state = changes.get("state", data.get("state", ""))
        event = RecordEvent(at=at, action=action, state=str(state), note=note)
        data["events"] = (*self.events, event)
        return type(self).model_validate(data)


def mask_personal(data: dict[str, Any], personal: Iterable[str | None]) -> dict[str, Any]:
    """A record's data with every text masked (``privacy.mask_text``), also wherever it repeats
    one of ``personal``: the names and numbers the record is given in clear only to hash them
    (a complainant's name and phone), so that a summary repeating them keeps none in clear."""
    return _mask_deep(data, tuple(str(v) for v in personal if v))


def _mask_deep(value: Any, personal: tuple[str, ...] = ()) -> Any:
    if isinstance(value, str):
        return mask_text(value, personal=personal)
    if isinstance(value, dict):
        return {k: _mask_deep(v, personal) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask_deep(v, personal) for v in value)
    if isinstance(value, BaseModel):
        return _mask_deep(value.model_dump(), personal)
    return value


def _id_of(data: Any) -> str | None:
    if isinstance(data, dict):
        value = data.get("id")
        return value if isinstance(value, str) else None
    return None


def require_method(decision: Decision, method: Method, record: str, record_id: str | None,
                   ruleset: Ruleset | None = None) -> None:
    """A RecordProblem unless ``decision`` chose ``method`` (a record follows its decision); the
    message names ``method`` in the words of ``ruleset`` (the decision's; unset, the bundled
    default wording)."""
    if decision.method is not method:
        wording = ruleset.manifest.wording if ruleset is not None else default_ruleset_wording()
        raise RecordProblem(
            record,
            record_id,
            f"决定的方式是 {decision.method.value}，不是{wording.method(method).zh} / the decision's method is "
            f"{decision.method.value}, not {method.value}",
        )


def decision_ref(decision: Decision) -> dict[str, Any]:
    """The fields by which a record names the decision's request, service item and certificate."""
    return {
        "request_id": decision.request_id,
        "service_item": decision.service_item,
        "service_item_name": decision.service_item_name,
        "certificate": decision.certificate,
        "certificate_id": decision.certificate_id,
        "certificate_name": decision.certificate_name,
    }


def require_text(record: str, record_id: str | None, field: str, value: str | None) -> str:
    """``value`` stripped; a RecordProblem when it is missing or blank."""
    text = (value or "").strip()
    if not text:
        raise RecordProblem(record, record_id, f"{field} 不能为空 / {field} is required")
    return text
