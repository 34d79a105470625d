"""What is written: :class:`AuditRecord` (a decision, or a state of any record) and the field
classification that keeps people out of the log in clear (:data:`FIELD_CLASSES`)."""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nocert_rules.models import (
    SHANGHAI,
    Decision,
    DecisionRequest,
    RulesetStamp,
    ShanghaiDatetime,
    parse_request,
)
from nocert_rules.privacy import keyed_hash, mask_text
from nocert_rules.records.audit.entry import AuditLogError, canonical_json
from nocert_rules.records.audit.keys import check_key


class AuditRecord(BaseModel):
    """One audited event: a decision (kind ``decision``) or a record's state (kind = record type)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = Field(min_length=1)
    at: ShanghaiDatetime
    request_id: str | None = None
    ruleset: RulesetStamp | None = None
    inputs: dict[str, Any] | None = None
    outcome: dict[str, Any]
    trace: list[dict[str, Any]] | None = None


FieldClass = Literal["public", "pseudonymised", "free_text"]

FIELD_CLASSES: Mapping[str, FieldClass] = MappingProxyType({
    # pseudonymised: a person; written as keyed_hash(value, host key)
    "id_number": "pseudonymised",
    "applicant.name": "pseudonymised",
    "name_masked": "pseudonymised",
    "id_masked": "pseudonymised",
    "received_by": "pseudonymised",
    "applicant_ref": "pseudonymised",
    "complainant_ref": "pseudonymised",
    "proxy_ref": "pseudonymised",
    # public: codes, states, times, clause ids, hashes and the ruleset stamp
    "kind": "public",
    "at": "public",
    "method": "public",
    "state": "public",
    "status": "public",
    "effect": "public",
    "action": "public",
    "credit": "public",
    "records": "public",
    "clause": "public",
    "clause_id": "public",
    "rule_id": "public",
    "decision_id": "public",
    "source_id": "public",
    "sha256": "public",
    "text_sha256": "public",
    "rules_sha256": "public",
    "version": "public",
    "ruleset.name": "public",
})
"""How :meth:`AuditLog.append` writes each field, by ``parent.key`` or else by key, wherever it
appears in a record (read-only: :data:`_PSEUDONYMISED_KEYS` is drawn from it).

Any key not listed is ``free_text``: its strings are scanned and every ID-shaped run masked
(:func:`~nocert_rules.privacy.mask_text`). Public fields are written as given (still passed
through the same scan as a safety net: a hash or a code is left alone by it)."""

_KEYED = re.compile(r"^hmac-sha256:[0-9a-f]{64}$")
_PSEUDONYMISED_KEYS = frozenset(k.rsplit(".", 1)[-1] for k, c in FIELD_CLASSES.items() if c == "pseudonymised")
"""The keys under which a string may be pseudonymised: any other string is only scanned, without
looking its class up (the walk's hot path)."""


_UNMASKED: dict[str, None] = {}
"""Strings the mask left as they are (nothing personal in them: clause texts, rule ids, ...),
not scanned again; cleared when it reaches ``_UNMASKED_MAX``. Strings it changed are never kept."""
_UNMASKED_MAX = 16_384


_SHANGHAI_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?\+08:00")
"""A record's time (``at``) as written: new each time, so never remembered, and left as it is by
the mask: its longest digit run (``HHMMSS`` and the microseconds, 12 digits) is less than an ID
number, and a phone or card number never ends at (or spans) the decimal point between them."""


UUID_TEXT = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
"""A UUID as ``str(uuid)`` writes it (a ``decision_id``): one opaque token whole to the mask
(``privacy._PROTECTED``, ``privacy._one_token``), so left as it is by it."""

_NEW_EACH_TIME = re.compile(f"{_SHANGHAI_TIME.pattern}|{UUID_TEXT}")
"""A record's time or a UUID: left as they are by the mask and new in each record, so neither
scanned nor remembered (they would only push clause texts out of :data:`_UNMASKED`)."""


def _masked(text: str) -> str:
    """``mask_text(text)``, remembering the strings it leaves unchanged (a record's time and a
    UUID are not scanned: :data:`_NEW_EACH_TIME`, property tests compare them with the scan)."""
    if text in _UNMASKED or _NEW_EACH_TIME.fullmatch(text):
        return text
    masked = mask_text(text)
    if masked == text:
        if len(_UNMASKED) >= _UNMASKED_MAX:
            _UNMASKED.clear()
        _UNMASKED[text] = None
    return masked


def left_unmasked(text: str) -> bool:
    """Whether the log's scan (``mask_text``) leaves ``text`` as it is (the service checks each
    decision id with it); remembered when it does and it is neither a time nor a UUID, so that
    scanning it again in a record (:func:`classify_record`) is a lookup."""
    return _masked(text) == text


_AS_THEY_ARE = frozenset({int, float, bool, type(None)})
"""Leaves written as they are (only strings are classified)."""


def _classified(value: Any, key: bytes, field: Any, parent: Any) -> Any:
    """``value`` (found at ``parent.field``) as written: one walk classifying values and masking keys.

    The leaves of a dict or list are done in its loop (a string not under a pseudonymised key is
    only scanned, a number or null kept), without a call each: most of a record is leaves."""
    if isinstance(value, str):
        if field in _PSEUDONYMISED_KEYS and _class_of(field, parent) == "pseudonymised":
            return value if _KEYED.match(value) else keyed_hash(value, key)
        return value if value in _UNMASKED else _masked(value)
    if isinstance(value, dict):
        return _classified_dict(value, key, field)
    if isinstance(value, list | tuple):
        if field in _PSEUDONYMISED_KEYS:
            return [_classified(v, key, field, parent) for v in value]
        return [(v if v in _UNMASKED else _masked(v)) if type(v) is str
                else v if type(v) in _AS_THEY_ARE else _classified(v, key, field, parent) for v in value]
    return value


def _classified_dict(value: dict[Any, Any], key: bytes, field: Any) -> dict[Any, Any]:
    out = {}
    for k, v in value.items():
        kind = type(v)
        if kind is str and k not in _PSEUDONYMISED_KEYS:
            v = v if v in _UNMASKED else _masked(v)
        elif kind not in _AS_THEY_ARE:
            v = _classified(v, key, k, field)
        out[k if k in _UNMASKED or not isinstance(k, str) else _masked(k)] = v
    return out


def _class_of(field: Any, parent: Any) -> FieldClass:
    return FIELD_CLASSES.get(f"{parent}.{field}") or FIELD_CLASSES.get(str(field), "free_text")


def classify_record(payload: dict[str, Any], key: bytes) -> dict[str, Any]:
    """``payload`` (a record's JSON) as written to the log: every field by :data:`FIELD_CLASSES`.

    Keys are classified too: a key that is not a public field name is scanned like free text.
    """
    return _classified(payload, check_key(key), "", "")


def _pseudonymised_inputs(request: DecisionRequest, key: bytes, id_hash: str | None = None) -> dict[str, Any]:
    """The request with the applicant's ID number and name as keyed hashes (``id_hash``: the ID
    number's, when it is known already)."""
    data = request.model_dump(mode="json")
    applicant = data["applicant"]
    applicant["id_number"] = id_hash or keyed_hash(request.applicant.id_number, key)
    name = request.applicant.name
    applicant["name"] = keyed_hash(name, key) if name else None
    return data


def _checked_pair(
    request: DecisionRequest | dict[str, Any], decision: Decision, key: bytes
) -> tuple[DecisionRequest, str | None]:
    """``request`` parsed, once it is known to be the decision's (same service item, certificate
    and request id; and the same applicant when the decision carries ``applicant.ref``), with
    the applicant's ID number's keyed hash when that check computed it."""
    req = parse_request(request)
    if (req.service_item, req.certificate, req.request_id) != (
        decision.service_item,
        decision.certificate,
        decision.request_id,
    ):
        raise AuditLogError("请求与决定不对应 / the request is not the decision's")
    ref = decision.applicant.ref
    if ref is None:
        return req, None
    id_hash = keyed_hash(req.applicant.id_number, key)
    if not hmac.compare_digest(ref, id_hash):
        raise AuditLogError("请求的申请人与决定不符 / the request's applicant is not the decision's")
    return req, id_hash


def _outcome(decision: Decision) -> dict[str, Any]:
    """The decision without its trace and without the masked forms of the applicant (the inputs
    identify the applicant by keyed hash)."""
    outcome = decision.model_dump(mode="json", exclude={"trace"})
    outcome["applicant"].pop("id_masked", None)
    outcome["applicant"].pop("name_masked", None)
    return outcome


def audit_decision(
    request: DecisionRequest | dict[str, Any], decision: Decision, key: bytes, *, at: datetime | None = None
) -> AuditRecord:
    """The audit record of a decision; the applicant's ID number and name only as keyed hashes.

    ``at`` defaults to now. The request must be the decision's (same service item,
    certificate and request id; and the same applicant when the decision carries
    ``applicant.ref``). :func:`decision_record_json` gives the bytes the log writes for it.
    """
    key = check_key(key)
    req, id_hash = _checked_pair(request, decision, key)
    return AuditRecord(
        kind="decision",
        at=at or datetime.now(SHANGHAI),
        request_id=decision.request_id,
        ruleset=decision.ruleset,
        inputs=_pseudonymised_inputs(req, key, id_hash),
        outcome=_outcome(decision),
        trace=[step.model_dump(mode="json") for step in decision.trace],
    )


_SHARED: dict[tuple[int, bytes, str], tuple[BaseModel, bytes]] = {}
"""A frozen model's bytes as written under ``field``, by ``(id(model), key, field)``: the model is
kept beside its bytes, so its id is not reused while remembered. Trace steps and the ruleset stamp
are frozen and shared by the decisions of a ruleset (the engine builds each once); cleared when
it reaches ``_SHARED_MAX``."""
_SHARED_MAX = 4_096


def _shared_json(model: BaseModel, key: bytes, field: str) -> bytes:
    """A frozen model found under ``field`` (``trace``, ``ruleset``), classified (as
    :func:`classify_record` does it there) and serialised, remembered by identity."""
    known = _SHARED.get((id(model), key, field))
    if known is not None and known[0] is model:
        return known[1]
    data = canonical_json(_classified(model.model_dump(mode="json"), key, field, ""))
    if len(_SHARED) >= _SHARED_MAX:
        _SHARED.clear()
    _SHARED[(id(model), key, field)] = (model, data)
    return data


_LEAVES: dict[tuple[str, type, Any], bytes] = {}
"""``"key":value`` as written, by ``(key, type, value)``, for the leaves of a record's dicts that
are written as they are: a string the mask leaves unchanged under a key that is not
pseudonymised, a bool, an int or null. (A float is never kept: ``0.0 == -0.0``.) Strings the
mask changes are never kept, so nothing personal is remembered; cleared when it reaches
``_LEAVES_MAX``."""
_LEAVES_MAX = 16_384
_REMEMBERED = frozenset({str, bool, int, type(None)})


def _dict_json(value: dict[str, Any], key: bytes, field: str) -> bytes:
    """``canonical_json(_classified(value, key, field, ...))`` of a dict, by members: canonical JSON
    writes a dict as its members in sorted key order, each written as it is alone, so a leaf
    already seen under the same key is a lookup (:data:`_LEAVES`) and only the rest is classified
    (nested dicts member by member again). A dict whose keys the mask would change (never a
    model's field names) is classified whole."""
    if not value.keys() <= _UNMASKED.keys():  # (only strings are in it)
        return canonical_json(_classified(value, key, field, ""))
    parts = []
    for k in sorted(value):
        v = value[k]
        kind = type(v)
        if kind in _REMEMBERED and (kind is not str or k not in _PSEUDONYMISED_KEYS):
            member = _LEAVES.get((k, kind, v))
            if member is None:
                member = _leaf(k, kind, v)
        elif kind is dict:
            member = _key_json(k) + _dict_json(v, key, k)
        else:
            member = _key_json(k) + canonical_json(_classified(v, key, k, field))
        parts.append(member)
    return b"{" + b",".join(parts) + b"}"


def _key_json(k: str) -> bytes:
    """``"key":`` (a key the mask leaves unchanged), remembered among the leaves."""
    member = _LEAVES.get((k, bytes, b""))
    if member is None:
        member = canonical_json(k) + b":"
        if len(_LEAVES) >= _LEAVES_MAX:
            _LEAVES.clear()
        _LEAVES[(k, bytes, b"")] = member
    return member


def _leaf(k: str, kind: type, v: Any) -> bytes:
    """A leaf's ``"key":value``, remembered when it is written as it is given."""
    written = _masked(v) if kind is str else v
    member = canonical_json(k) + b":" + canonical_json(written)
    if written == v:
        if len(_LEAVES) >= _LEAVES_MAX:
            _LEAVES.clear()
        _LEAVES[(k, kind, v)] = member
    return member


def decision_record_json(
    request: DecisionRequest | dict[str, Any],
    decision: Decision,
    key: bytes,
    *,
    at: datetime | None = None,
    outcome_extra: Mapping[str, Any] | None = None,
) -> bytes:
    """What the log writes for a decision: ``canonical_json(classify_record(record))`` of
    ``audit_decision(request, decision, key, at=at)``'s dump (``outcome_extra`` added to its
    outcome), the same bytes, built by parts: canonical JSON writes a member's value exactly as
    it writes that value alone, so the record is its members' bytes in sorted key order, and
    each trace step and the ruleset stamp, shared by the ruleset's decisions, are classified and
    serialised once (:func:`_shared_json`)."""
    key = check_key(key)
    req, id_hash = _checked_pair(request, decision, key)
    when = (at or datetime.now(SHANGHAI)).astimezone(SHANGHAI).isoformat()
    outcome = _outcome(decision)
    if outcome_extra:
        outcome.update(outcome_extra)

    return b'{"at":%s,"inputs":%s,"kind":"decision","outcome":%s,"request_id":%s,"ruleset":%s,"trace":[%s]}' % (
        canonical_json(_classified(when, key, "at", "")),
        _dict_json(_pseudonymised_inputs(req, key, id_hash), key, "inputs"),
        _dict_json(outcome, key, "outcome"),
        canonical_json(_classified(decision.request_id, key, "request_id", "")),
        _shared_json(decision.ruleset, key, "ruleset"),
        b",".join([_shared_json(step, key, "trace") for step in decision.trace]),
    )


def audit_state(record: BaseModel, *, at: datetime | None = None) -> AuditRecord:
    """The audit record of one state of a record (verification, pledge, complaint, …).

    The whole record is kept; :meth:`AuditLog.append` classifies its fields (people as keyed
    hashes, free text masked) when it is written.
    """
    data = record.model_dump(mode="json")
    stamp = data.get("ruleset")
    return AuditRecord(
        kind=type(record).__name__,
        at=at or datetime.now(SHANGHAI),
        request_id=data.get("request_id") if isinstance(data.get("request_id"), str) else None,
        ruleset=RulesetStamp.model_validate(stamp) if isinstance(stamp, dict) else None,
        outcome=data,
    )
