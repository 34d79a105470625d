"""The request a host system sends and the decision it gets back.

Field names of ``DecisionRequest``, ``Applicant`` and ``Decision`` are a contract with host
systems (issue #2): add fields, never rename them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_serializer,
    field_validator,
    model_validator,
)

from nocert_rules.enums import ApplicantKind, CreditLevel, Method, RecordKind
from nocert_rules.errors import RequestError
from nocert_rules.privacy import (
    contains_id_number,
    keyed_hash,
    mask_id,
    mask_known,
    mask_name,
    mask_text,
    normalise,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")

_Model = TypeVar("_Model", bound=BaseModel)


_SLOTS = BaseModel.__dict__
_set_dict = _SLOTS["__dict__"].__set__
_set_fields_set = _SLOTS["__pydantic_fields_set__"].__set__
_set_extra = _SLOTS["__pydantic_extra__"].__set__
_set_private = _SLOTS["__pydantic_private__"].__set__
"""The setters of a pydantic model's slots, as ``object.__setattr__`` finds them (a frozen
model refuses its own ``__setattr__``), taken once."""


def trusted(cls: type[_Model], fields_set: set[str], values: dict[str, Any]) -> _Model:
    """A frozen model from ``values`` that already have their fields' types (every field, in
    ``values``), without validation: what ``cls(**values)`` gives, for the engine's own parts
    (``engine.core``; ``tests/test_decisions_unchanged.py`` checks the Decisions are equal).
    ``fields_set``: the fields counted as given (``exclude_unset``), shared, never changed."""
    obj = cls.__new__(cls)
    _set_dict(obj, values)
    _set_fields_set(obj, fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


def as_shanghai(value: datetime) -> datetime:
    """Naive datetimes mean Asia/Shanghai; aware ones are converted to it."""
    if value.tzinfo is None:
        if type(value) is datetime and not value.fold:  # replace(tzinfo=) by the constructor: twice as fast
            return datetime(
                value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond, SHANGHAI
            )
        return value.replace(tzinfo=SHANGHAI)
    try:
        return value.astimezone(SHANGHAI)
    except OverflowError:
        raise ValueError("out of the representable date range / 超出可表示的日期范围") from None


ShanghaiDatetime = Annotated[datetime, AfterValidator(as_shanghai)]

EARLIEST_REQUEST = datetime(1990, 1, 1, tzinfo=SHANGHAI)
LATEST_REQUEST = datetime(2199, 12, 31, 23, 59, 59, tzinfo=SHANGHAI)
"""Requests outside these bounds are data errors (and would overflow the calendar's arithmetic)."""


def _plausible_request_time(value: datetime) -> datetime:
    if not EARLIEST_REQUEST <= value <= LATEST_REQUEST:
        raise ValueError(
            f"must be between {EARLIEST_REQUEST:%Y-%m-%d} and {LATEST_REQUEST:%Y-%m-%d} / 申请时间超出合理范围"
        )
    return value


MAX_TIME_TEXT = 64
"""An ISO 8601 date-time is never longer; longer text is refused unparsed."""


def _text_or_datetime(value: object) -> object:
    """A datetime or ISO 8601 text only: a number is not read as a Unix timestamp."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        if len(value) > MAX_TIME_TEXT:
            raise ValueError(f"过长（超过 {MAX_TIME_TEXT} 个字符） / longer than {MAX_TIME_TEXT} characters")
        return value
    raise ValueError(
        "须为 ISO 8601 日期时间文本，如 2021-09-30T10:05（不接受数字） / must be ISO 8601 text such as "
        "2021-09-30T10:05 (numbers are not accepted)"
    )


def _request_time(value: object, handler: ValidatorFunctionWrapHandler) -> datetime:
    """A request's time: a datetime or ISO 8601 text (``_text_or_datetime``) read by pydantic,
    in Asia/Shanghai, within the plausible bounds; one call on the decide path."""
    return _plausible_request_time(as_shanghai(handler(_text_or_datetime(value))))


RequestDatetime = Annotated[datetime, WrapValidator(_request_time)]


class Applicant(BaseModel):
    """Who applies. ``id_number`` is personal data: it is masked in every output."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ApplicantKind
    id_number: str = Field(min_length=1, max_length=64, repr=False)
    name: str | None = Field(default=None, max_length=200, repr=False)
    credit: CreditLevel = CreditLevel.NORMAL
    blacklisted_since: date | None = None
    credit_repaired_on: date | None = None
    serious_bad_record: bool = False
    bad_record: bool = Field(
        default=False,
        description="存在不良记录（非严重）/ an ordinary bad record: no pledge until credit repair",
    )

    @field_validator("id_number")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    def repair_counts(self, at: datetime, *, same_day: bool = False) -> date | None:
        """The credit repair date if it counts at ``at``: before the request day, or on it when
        ``same_day`` (the ruleset's ``pledge_policy.credit_repair_counts_from``)."""
        repaired = self.credit_repaired_on
        if repaired is None:
            return None
        day = at.date()
        return repaired if (repaired <= day if same_day else repaired < day) else None

    def on_blacklist(self, at: datetime, *, same_day: bool = False) -> bool:
        """On the false-pledge blacklist at ``at`` (三(五)3), unless credit was repaired since."""
        if self.blacklisted_since is None or self.blacklisted_since > at.date():
            return False
        repaired = self.repair_counts(at, same_day=same_day)
        return not (repaired is not None and repaired >= self.blacklisted_since)

    def summary(
        self, at: datetime, key: bytes | None = None, *, same_day: bool = False,
        credit: dict[str, Any] | None = None,
    ) -> ApplicantSummary:
        """Masked; with the host's ``key`` also ``ref``, the keyed hash that records compare.
        ``credit``: the engine's credit facts (``engine.credit.credit_facts``: a blacklist
        store's part included), which then give ``on_blacklist``, ``false_pledge_on_record``
        and ``credit_repaired``."""
        if credit is None:
            on_blacklist = self.on_blacklist(at, same_day=same_day)
            on_record = False
            repaired = self.repair_counts(at, same_day=same_day) is not None
        else:
            on_blacklist = credit["applicant.on_blacklist"]
            on_record = credit["applicant.false_pledge_on_record"]
            repaired = credit["applicant.credit_repaired"]
        return trusted(ApplicantSummary, _SUMMARY_FIELDS, {
            "kind": self.kind,
            "id_masked": mask_id(_normalised_id(self.id_number)),
            "name_masked": mask_name(self.name) if self.name else None,
            "ref": keyed_hash(self.id_number, key) if key else None,
            "credit": self.credit,
            "on_blacklist": on_blacklist,
            "serious_bad_record": self.serious_bad_record,
            "bad_record": self.bad_record,
            "false_pledge_on_record": on_record,
            "credit_repaired": repaired,
        })


def _normalised_id(id_number: str) -> str:
    """The ID number as ``privacy.normalise`` reads it (itself if that leaves nothing): ASCII
    letters and digits alone are already normal (nothing to fold or drop; the common case,
    tests/test_trusted_models.py), anything else goes through ``normalise``."""
    if id_number.isascii() and id_number.isalnum():
        return id_number
    return normalise(id_number) or id_number


MAX_CODE = 128
"""Longest service item code a request may carry (longer is refused, never echoed)."""
MAX_CERTIFICATE = 256
"""Longest certificate id or name a request may carry."""


class DecisionRequest(BaseModel):
    """One required certificate of one service item for one applicant, asked at ``requested_at``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service_item: str = Field(min_length=1, max_length=MAX_CODE, description="事项编码 service item code")
    certificate: str = Field(
        min_length=1, max_length=MAX_CERTIFICATE, description="证明编号或准确名称 certificate id or exact name"
    )
    applicant: Applicant
    requested_at: RequestDatetime
    wants_pledge: bool | None = Field(
        default=None,
        description="申请人是否选择告知承诺；未选择 (null) 时决定列出可承诺及不承诺时的办理方式 "
        "(国办发〔2020〕42号 自主选择) / the applicant's choice; unset: the decision offers both",
    )
    provides_certificate: bool = False
    sharing_online: bool = True
    proxy_authorized: bool = True
    adjustment_pending: bool = Field(
        default=False,
        description="清单调整事由已发生、尚未公布: the unit may not ask for the certificate",
    )
    request_id: str | None = Field(default=None, max_length=128)
    requesting_unit: str | None = Field(default=None, max_length=200)

    @model_validator(mode="before")
    @classmethod
    def _mask_applicant_name(cls, data: Any) -> Any:
        """The applicant's name, where a field copied into decisions repeats it, is masked
        (``privacy.mask_known``): ``张三丰-0001`` -> ``张**-0001``."""
        applicant = data.get("applicant") if isinstance(data, dict) else None
        name = applicant.get("name") if isinstance(applicant, dict) else getattr(applicant, "name", None)
        if not isinstance(name, str) or not name.strip():
            return data
        masked = None
        for key in _ECHOED:
            value = data.get(key)
            if isinstance(value, str) and (hidden := mask_known(value, (name,))) != value:
                if masked is None:
                    masked = dict(data)
                masked[key] = hidden
        return data if masked is None else masked

    @field_validator("service_item", "certificate")
    @classmethod
    def _code(cls, value: str) -> str:
        """A code: stripped, not blank, and copied into decisions (``_echoed``; a credit code passes)."""
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return _echoed(value, keep_credit_codes=True)

    @field_validator("request_id")
    @classmethod
    def _request_id(cls, value: str | None) -> str | None:
        return None if value is None else _echoed(value, keep_credit_codes=False)

    @field_validator("requesting_unit")
    @classmethod
    def _unit(cls, value: str | None) -> str | None:
        return None if value is None else _echoed(value, keep_credit_codes=True)


_ECHOED = ("request_id", "requesting_unit", "service_item", "certificate")
"""The request's fields a decision copies: checked for ID numbers, masked."""


def _echoed(value: str, *, keep_credit_codes: bool) -> str:
    """Copied into decisions: a real ID number is refused, anything ID-shaped is masked
    (``nocert_rules.privacy``: a credit code or an implementation code passes)."""
    if contains_id_number(value):
        raise ValueError("must not contain an ID number (it is copied into decisions in clear) / 不得包含身份证号")
    return mask_text(value, keep_credit_codes=keep_credit_codes)


def parse_request(data: DecisionRequest | dict[str, Any]) -> DecisionRequest:
    """Validate a request; every problem becomes one ``RequestError`` naming field paths."""
    if isinstance(data, DecisionRequest):
        return data
    if not isinstance(data, dict):
        raise RequestError([("(request)", f"expected an object, got {type(data).__name__}")])
    try:
        return _validate_request(data)  # DecisionRequest.model_validate(data), without its wrapper
    except ValidationError as exc:
        raise RequestError(
            [(_safe_path(err["loc"]) or "(request)", _safe_msg(err)) for err in exc.errors()]
        ) from None


_validate_request = DecisionRequest.__pydantic_validator__.validate_python


def _safe_path(loc: tuple[Any, ...]) -> str:
    # An unknown key is part of the path: it may itself be an ID number.
    return ".".join(mask_text(str(p)) for p in loc)


def _safe_msg(err: Any) -> str:
    # Never echo the offending input: it may be an ID number.
    return str(err["msg"])


class ApplicantSummary(BaseModel):
    """The applicant as a decision may show it: masked, never in clear."""

    model_config = ConfigDict(frozen=True)

    kind: ApplicantKind
    id_masked: str
    name_masked: str | None = None
    ref: str | None = Field(
        default=None,
        description="keyed_hash(id_number, host key) when the engine has the key: records link the person by it",
    )
    credit: CreditLevel
    on_blacklist: bool
    serious_bad_record: bool
    bad_record: bool = False
    false_pledge_on_record: bool = False
    credit_repaired: bool = False


_SUMMARY_FIELDS = set(ApplicantSummary.model_fields)


class Citation(BaseModel):
    """A clause a rule implements: its id, the document it is in, and its text."""

    model_config = ConfigDict(frozen=True)

    clause_id: str
    source_id: str
    source_title: str
    text: str


class TraceStep(BaseModel):
    """One rule that fired (offered or blocked a method), or the engine's choice."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    method: Method | None
    effect: Literal["offer", "block", "choose", "fallback", "choice"]
    conclusion: str
    citation: Citation | None = None
    see_also: list[Citation] = Field(default_factory=list)


class PostCheckPlan(BaseModel):
    """事中事后核查 plan for a pledge, by the applicant's credit level (三(三)2)."""

    model_config = ConfigDict(frozen=True)

    credit: CreditLevel
    waived: bool
    within_working_days: int | None = None
    description: str
    due_at: datetime | None = None
    citation: Citation | None = None


class DeadlineInfo(BaseModel):
    """A deadline as carried by a decision (filled from ``nocert_rules.worktime.deadlines``)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["verification_reply", "post_check"]
    due_at: datetime
    rule: str
    clause: str
    warnings: list[str] = Field(default_factory=list)


class ApprovalClockRule(BaseModel):
    """即办件: the approval clock of an on-the-spot item pauses while verification is pending
    (the ruleset's ``on_the_spot``; 附件2 第七条 in Zibo). ``working_minutes`` is the ruleset's
    time limit for the item, when it sets one; ``records.on_the_spot.on_the_spot_clock`` computes
    the paused intervals and the due time from the verification records."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["on_the_spot"] = "on_the_spot"
    rule: str
    clause: str
    citation: Citation
    working_minutes: int | None = None
    limit_clause: str | None = None


class DeclinedAlternative(BaseModel):
    """What happens if the applicant declines the pledge on offer (国办发〔2020〕42号 自主选择):
    the next method, decided in the same call, with its deadline and the rules that led to it."""

    model_config = ConfigDict(frozen=True)

    method: Method
    applicant_must_submit: bool
    deadline: DeadlineInfo | None = None
    trace: list[TraceStep]
    approval_clock: ApprovalClockRule | None = None


class OfficerOnDuty(BaseModel):
    """An officer a decision or record names: the unit, the role (label from the ruleset's
    officers file), and, where asked, the officer on duty by pseudonymised id (never a name) and
    A/B role (policy/officers.py)."""

    model_config = ConfigDict(frozen=True)

    unit: str | None = None
    role: str
    role_label: str
    officer_id: str | None = Field(default=None, description="pseudonymised id from the officers file; null: not asked")
    ab: Literal["A", "B"] | None = Field(default=None, description="A角 or B角 of the officer on duty")
    on_duty_at: datetime | None = None
    note: str | None = None
    citation: Citation | None = None
    duties: Citation | None = Field(default=None, description="the clause on the officers' duties")


class RulesetStamp(BaseModel):
    """Which ruleset decided: its name, version and hash; for a decision also the list's date
    (``effective_date``, the request's day or the ``as_of`` asked for) and the row version used."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    sha256: str
    backend: Literal["durable", "compiled"] | None = Field(
        default=None, description="规则后端 / the rule backend that decided (nocert_rules.engine.backend)"
    )
    effective_date: date | None = None
    row_version: str | None = None


class Decision(BaseModel):
    """How one certificate is handled, why, under which clauses, and by when."""

    model_config = ConfigDict(frozen=True)

    request_id: str | None = None
    service_item: str
    service_item_name: str | None = None
    certificate: str
    certificate_id: str | None = None
    certificate_name: str | None = None
    listed: bool
    method: Method
    applicant_must_submit: bool
    issuer: str | None = None
    records: RecordKind | None = None
    sharing_source: str | None = None
    applicant: ApplicantSummary
    requested_at: datetime
    trace: list[TraceStep]
    warnings: list[str] = Field(default_factory=list)
    post_check: PostCheckPlan | None = None
    deadline: DeadlineInfo | None = None
    ruleset: RulesetStamp
    row_source: str | None = Field(
        default=None, description="the ruleset (level: city or district) whose row decided"
    )
    awaiting_choice: bool = Field(
        default=False,
        description="告知承诺可用但申请人尚未选择：请申请人在 PLEDGE 与 if_declined 之间选择 / a pledge is "
        "available and the applicant has not chosen yet",
    )
    if_declined: DeclinedAlternative | None = None
    approval_clock: ApprovalClockRule | None = Field(
        default=None,
        description="即办件 decided by verification: the approval clock's rule (verification time paused)",
    )
    proxy_officer: OfficerOnDuty | None = Field(
        default=None,
        description="PROXY: the role that fetches the certificate (the ruleset's officers file) and, when the "
        "host asks (Engine.officer_on_duty), the officer on duty",
    )

    @field_serializer("requested_at")
    def _iso(self, value: datetime) -> str:
        return value.isoformat()

    def blocked_methods(self) -> dict[Method, list[TraceStep]]:
        """Each method that a rule blocked, with the blocking steps (for reports)."""
        out: dict[Method, list[TraceStep]] = {}
        for step in self.trace:
            if step.effect == "block" and step.method is not None:
                out.setdefault(step.method, []).append(step)
        return out
