"""Audit records and an append-only, hash-chained, HMAC-authenticated JSONL audit log (数据留痕, 三(二)).

**Records.** :func:`audit_decision` turns a request and its :class:`~nocert_rules.models.Decision`
into an :class:`AuditRecord`; :func:`audit_state` records a state of any record of
:mod:`nocert_rules.records`. Every field of a record is classified (:data:`FIELD_CLASSES`):
*public* (kinds, times, methods, clause ids, ruleset stamps, hashes: written as is),
*pseudonymised* (``id_number``, ``name``, ``received_by`` …: written as
:func:`~nocert_rules.privacy.keyed_hash` under the host key) or *free text* (every other string:
scanned and masked with :func:`~nocert_rules.privacy.mask_text` at write time). The
classification is applied by :meth:`AuditLog.append` itself, so no ID number or name reaches the
log in clear whatever record a host passes.

**Log format.** One JSON object per line, UTF-8, ``\\n``-terminated, in canonical form
(``sort_keys=True, separators=(",", ":"), ensure_ascii=False``)::

    {"hash": H(n), "kid": K, "mac": M(n), "prev": H(n-1), "record": {...}, "seq": n}

The *body* of an entry is the canonical JSON of ``{"kid", "prev", "record", "seq"}``: ``hash``
is its sha256 and ``mac`` its HMAC-SHA256 under the log's MAC key (:func:`audit_mac_key`, derived
from the host key); ``kid`` names that key (:func:`key_id`). ``seq`` counts from 1; ``prev`` of the
first entry is 64 zeros. A line is accepted only when its bytes *are* the canonical form (a
duplicate JSON key, reordered keys, extra whitespace or another escape are refused as
``noncanonical``), so the hashed and MAC'd bytes are the stored bytes without ``hash`` and ``mac``.

**Verification** (:func:`verify_log`) streams the file once (O(n), flat memory, no recursion):
each line's form, hash, MAC (when a key is given), sequence and link. Without a key only the
chain is checked: whoever can write the file can recompute it; with the key a forged append,
an edited and re-hashed entry and a rewrite with a recomputed chain are all ``forged``.
Anchors (``expect_head``, ``min_records``, ``head_file``) detect removal at the end.

**Writes, torn tail, checkpoints.** See ``docs/records.md``: one fsynced line per append under a
thread lock and ``fcntl.flock``; only an unterminated last fragment that is not a chained entry is
torn (an intact last entry missing its newline is kept, and completed); the head checkpoint is
checked before any repair; stale checkpoint temp files are removed on open.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from nocert_rules.errors import NocertError
from nocert_rules.fileio import replace_atomically
from nocert_rules.models import (
    SHANGHAI,
    Decision,
    DecisionRequest,
    RulesetStamp,
    ShanghaiDatetime,
    parse_request,
)
from nocert_rules.privacy import keyed_hash, mask_text

try:  # POSIX only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "FIELD_CLASSES",
    "GENESIS",
    "MAX_LINE_BYTES",
    "AuditLog",
    "AuditLogError",
    "AuditRecord",
    "LogEntry",
    "LogProblem",
    "LogVerification",
    "audit_decision",
    "audit_mac_key",
    "audit_state",
    "canonical_json",
    "classify_record",
    "entry_body",
    "entry_hash",
    "entry_line",
    "key_id",
    "load_key_file",
    "read_entries",
    "read_head_file",
    "verify_log",
]

GENESIS = "0" * 64
MIN_KEY_BYTES = 16
MAX_LINE_BYTES = 16 * 1024 * 1024
"""A longer line is malformed (and read in bounded pieces, never whole)."""

_MAC_KEY_LABEL = b"nocert-rules audit log MAC key v1"


class AuditLogError(NocertError):
    """The audit log cannot be appended to (torn tail, tampered last entry, truncated log, bad
    key), or a head checkpoint file is not one."""


def canonical_json(obj: Any) -> bytes:
    """The bytes hashed and written: sorted keys, no spaces, UTF-8 (ensure_ascii=False)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# ---------------------------------------------------------------- keys


def _check_key(key: bytes) -> bytes:
    if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
        raise AuditLogError(
            f"密钥须为至少 {MIN_KEY_BYTES} 字节的 bytes / the key must be bytes, at least {MIN_KEY_BYTES} long"
        )
    return bytes(key)


def audit_mac_key(key: bytes) -> bytes:
    """The log's MAC key, derived from the host key (HMAC-SHA256 with a fixed label).

    An auditor is given this key, never the host key: it verifies (and could forge) log
    entries, but cannot recompute the keyed hashes that pseudonymise people.
    """
    return hmac.new(_check_key(key), _MAC_KEY_LABEL, hashlib.sha256).digest()


def key_id(mac_key: bytes) -> str:
    """The ``kid`` of entries written under ``mac_key``: 16 hex digits of its sha256."""
    return hashlib.sha256(b"kid:" + mac_key).hexdigest()[:16]


def load_key_file(path: str | Path) -> bytes:
    """A key from a file: its bytes, one trailing newline dropped (e.g. ``openssl rand -hex 32``).

    Raises ``OSError`` when unreadable, :class:`AuditLogError` when shorter than 16 bytes.
    """
    data = Path(path).read_bytes()
    if data.endswith(b"\r\n"):
        data = data[:-2]
    elif data.endswith(b"\n"):
        data = data[:-1]
    return _check_key(data)


def _mac_keys(keys: Iterable[bytes] = (), mac_keys: Iterable[bytes] = ()) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for k in keys:
        mk = audit_mac_key(k)
        out[key_id(mk)] = mk
    for mk in mac_keys:
        mk = _check_key(mk)
        out[key_id(mk)] = mk
    return out


# ---------------------------------------------------------------- entries


def entry_body(seq: int, prev: str, record: Any, kid: str) -> bytes:
    """The bytes hashed and MAC'd: canonical JSON of ``{"kid", "prev", "record", "seq"}``."""
    return canonical_json({"kid": kid, "prev": prev, "record": record, "seq": seq})


def entry_hash(seq: int, prev: str, record: Any, kid: str) -> str:
    """sha256 hex of the entry's body."""
    return hashlib.sha256(entry_body(seq, prev, record, kid)).hexdigest()


def entry_line(seq: int, prev: str, record: Any, mac_key: bytes) -> tuple[bytes, str, str]:
    """The stored line (with its newline) of an entry, its hash and its MAC."""
    kid = key_id(mac_key)
    body = entry_body(seq, prev, record, kid)
    digest = hashlib.sha256(body).hexdigest()
    mac = hmac.new(mac_key, body, hashlib.sha256).hexdigest()
    # The canonical line is the body with "hash" first and "mac" after "kid" (sorted keys): built
    # from the body's bytes rather than serialising the record a second time (_parse_line inverts it).
    kid_end = 1 + len(b'"kid":' + json.dumps(kid, ensure_ascii=False).encode("utf-8"))
    line = b'{"hash":"%s",%s,"mac":"%s"%s' % (digest.encode(), body[1:kid_end], mac.encode(), body[kid_end:])
    return line + b"\n", digest, mac


# ---------------------------------------------------------------- records


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

FIELD_CLASSES: dict[str, FieldClass] = {
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
}
"""How :meth:`AuditLog.append` writes each field, by ``parent.key`` or else by key, wherever it
appears in a record.

Any key not listed is ``free_text``: its strings are scanned and every ID-shaped run masked
(:func:`~nocert_rules.privacy.mask_text`). Public fields are written as given (still passed
through the same scan as a safety net: a hash or a code is left alone by it)."""

_KEYED = re.compile(r"^hmac-sha256:[0-9a-f]{64}$")


_UNMASKED: dict[str, None] = {}
"""Strings the mask left as they are (nothing personal in them: clause texts, rule ids, ...),
not scanned again; cleared when it reaches ``_UNMASKED_MAX``. Strings it changed are never kept."""
_UNMASKED_MAX = 16_384


def _masked(text: str) -> str:
    """``mask_text(text)``, remembering the strings it leaves unchanged."""
    if text in _UNMASKED:
        return text
    masked = mask_text(text)
    if masked == text:
        if len(_UNMASKED) >= _UNMASKED_MAX:
            _UNMASKED.clear()
        _UNMASKED[text] = None
    return masked


def _classified(value: Any, key: bytes, field: str, parent: str) -> Any:
    cls = FIELD_CLASSES.get(f"{parent}.{field}") or FIELD_CLASSES.get(field, "free_text")
    if isinstance(value, dict):
        return {k: _classified(v, key, str(k), field) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_classified(v, key, field, parent) for v in value]
    if isinstance(value, str):
        if cls == "pseudonymised":
            return value if _KEYED.match(value) else keyed_hash(value, key)
        return _masked(value)
    return value


def classify_record(payload: dict[str, Any], key: bytes) -> dict[str, Any]:
    """``payload`` (a record's JSON) as written to the log: every field by :data:`FIELD_CLASSES`.

    Keys are classified too: a key that is not a public field name is scanned like free text.
    """
    out = _classified(payload, _check_key(key), "", "")
    return _mask_keys(out)


def _mask_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {_masked(k) if isinstance(k, str) else k: _mask_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_keys(v) for v in value]
    return value


def _pseudonymised_inputs(request: DecisionRequest, key: bytes) -> dict[str, Any]:
    data = request.model_dump(mode="json")
    applicant = data["applicant"]
    applicant["id_number"] = keyed_hash(request.applicant.id_number, key)
    name = request.applicant.name
    applicant["name"] = keyed_hash(name, key) if name else None
    return data


def audit_decision(
    request: DecisionRequest | dict[str, Any], decision: Decision, key: bytes, *, at: datetime | None = None
) -> AuditRecord:
    """The audit record of a decision; the applicant's ID number and name only as keyed hashes.

    ``at`` defaults to now. The request must be the decision's (same service item,
    certificate and request id; and the same applicant when the decision carries
    ``applicant.ref``).
    """
    req = parse_request(request)
    key = _check_key(key)
    if (req.service_item, req.certificate, req.request_id) != (
        decision.service_item,
        decision.certificate,
        decision.request_id,
    ):
        raise AuditLogError("请求与决定不对应 / the request is not the decision's")
    ref = decision.applicant.ref
    if ref is not None and not hmac.compare_digest(ref, keyed_hash(req.applicant.id_number, key)):
        raise AuditLogError("请求的申请人与决定不符 / the request's applicant is not the decision's")
    outcome = decision.model_dump(mode="json", exclude={"trace"})
    # The masked forms are not needed: the inputs identify the applicant by keyed hash.
    outcome["applicant"].pop("id_masked", None)
    outcome["applicant"].pop("name_masked", None)
    return AuditRecord(
        kind="decision",
        at=at or datetime.now(SHANGHAI),
        request_id=decision.request_id,
        ruleset=decision.ruleset,
        inputs=_pseudonymised_inputs(req, key),
        outcome=outcome,
        trace=[step.model_dump(mode="json") for step in decision.trace],
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


# ---------------------------------------------------------------- reading


class LogEntry(BaseModel):
    """One line of the log as read: its line number and fields."""

    model_config = ConfigDict(frozen=True)

    line: int
    seq: int
    prev: str
    hash: str
    kid: str
    mac: str
    record: dict[str, Any]

    def body(self) -> bytes:
        return entry_body(self.seq, self.prev, self.record, self.kid)

    @property
    def intact(self) -> bool:
        """The entry's own hash matches its content."""
        return hashlib.sha256(self.body()).hexdigest() == self.hash

    def authentic(self, mac_keys: dict[str, bytes]) -> bool | None:
        """The MAC matches under the key its ``kid`` names; None when that key is not given."""
        mk = mac_keys.get(self.kid)
        if mk is None:
            return None
        return hmac.compare_digest(hmac.new(mk, self.body(), hashlib.sha256).hexdigest(), self.mac)


ProblemKind = Literal[
    "malformed",
    "noncanonical",
    "edited",
    "forged",
    "unknown-key",
    "removed",
    "inserted",
    "duplicate",
    "reordered",
    "truncated",
    "head-mismatch",
]


class LogProblem(BaseModel):
    """Something wrong at a line.

    ``kind``: ``malformed`` (not an entry), ``noncanonical`` (an entry whose bytes are not its
    canonical form: duplicate key, reordered keys, whitespace), ``edited`` (content no longer
    matches its hash, or changed and re-hashed, found from the next link), ``forged`` (the MAC
    does not match: written without the key), ``unknown-key`` (its ``kid`` names a key not
    given), ``removed`` (a gap in the sequence), ``inserted``, ``duplicate`` (a second entry
    with a seq already seen), ``reordered`` (an entry after the one that follows it), and, with
    an anchor, ``truncated`` / ``head-mismatch`` (``line`` is then the last intact line, 0 when
    there is none).
    """

    model_config = ConfigDict(frozen=True)

    line: int
    kind: ProblemKind
    message: str


class LogVerification(BaseModel):
    """The result of :func:`verify_log`.

    ``ok``: no problem and no torn tail. ``records``: well-formed entries read (the torn tail
    excluded). ``head``, ``head_seq``, ``head_line``: the hash, seq and line of the last entry of
    the verified chain. ``anchored``: an anchor was given and matched. ``authenticated``: a key
    was given and every entry's MAC matched. ``missing_newline``: the last entry is intact and
    chained but lacks its newline (kept; ``AuditLog`` completes it). ``problems_omitted``: how
    many problems past ``max_problems`` were counted but not listed.
    """

    model_config = ConfigDict(frozen=True)

    path: str
    ok: bool
    records: int
    problems: list[LogProblem]
    problems_omitted: int = 0
    torn_tail: bool
    torn_line: int | None = None
    missing_newline: bool = False
    head: str | None = None
    head_seq: int = 0
    head_line: int | None = None
    anchored: bool = False
    authenticated: bool = False


_HEX = frozenset("0123456789abcdef")


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


_ENTRY_KEYS = frozenset({"seq", "prev", "record", "hash", "kid", "mac"})


class _Raw(NamedTuple):
    """A parsed, canonical line (the verifier's light form of :class:`LogEntry`)."""

    line: int
    seq: int
    prev: str
    hash: str
    kid: str
    mac: str
    record: dict[str, Any]
    body: bytes  # the stored bytes without "hash" and "mac": what was hashed and MAC'd
    intact: bool

    def authentic(self, mac_keys: dict[str, bytes]) -> bool | None:
        mk = mac_keys.get(self.kid)
        if mk is None:
            return None
        return hmac.compare_digest(hmac.new(mk, self.body, hashlib.sha256).hexdigest(), self.mac)

    def entry(self) -> LogEntry:
        return LogEntry(
            line=self.line, seq=self.seq, prev=self.prev, hash=self.hash, kid=self.kid, mac=self.mac, record=self.record
        )


_HASH_PREFIX = len(b'{"hash":"') + 64 + len(b'",')
_MAC_PART = len(b',"mac":"') + 64 + len(b'"')


def _parse_line(raw: bytes, line: int) -> _Raw | tuple[Literal["malformed", "noncanonical"], str]:
    """A parsed line, or the problem's kind and words."""
    if len(raw) > MAX_LINE_BYTES:
        return "malformed", f"行过长 / line longer than {MAX_LINE_BYTES} bytes"
    try:
        text = raw.decode("utf-8")
        obj = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return "malformed", f"不是有效的 JSON / not valid JSON ({type(exc).__name__})"
    if not isinstance(obj, dict) or set(obj) != _ENTRY_KEYS:
        return "malformed", (
            "不是日志条目（须恰有 hash, kid, mac, prev, record, seq） / not a log entry (needs exactly "
            "hash, kid, mac, prev, record, seq)"
        )
    seq, prev, digest, record, kid, mac = (obj[k] for k in ("seq", "prev", "hash", "record", "kid", "mac"))
    if (
        type(seq) is not int
        or seq < 1
        or not _is_hash(prev)
        or not _is_hash(digest)
        or not _is_hash(mac)
        or not isinstance(kid, str)
        or not isinstance(record, dict)
    ):
        return "malformed", "字段类型错误 / a field has the wrong type"
    try:
        canonical = canonical_json(obj)
    except (ValueError, RecursionError):
        return "malformed", "无法规范化 / cannot be put in canonical form"
    if canonical != raw:
        try:
            json.loads(text, object_pairs_hook=_no_duplicates)
        except _DuplicateKey as dup:
            return "noncanonical", (
                f"重复的 JSON 键 {mask_text(str(dup))[:40]!r}：不同的读取方会取不同的值 / a duplicate JSON key "
                "(readers disagree on which value counts)"
            )
        except (ValueError, RecursionError):
            pass
        return "noncanonical", (
            "不是规范形式（键序、空白或转义不同）：所存字节与所签字节不一致 / not in canonical form "
            "(key order, whitespace or escapes differ): the stored bytes are not the signed bytes"
        )
    # canonical, so the body is the stored bytes less the "hash" and "mac" members (sorted keys:
    # hash, kid, mac, prev, record, seq)
    kid_part = b'"kid":' + json.dumps(kid, ensure_ascii=False).encode("utf-8")
    rest = raw[_HASH_PREFIX + len(kid_part) + _MAC_PART :]
    body = b"{" + kid_part + rest
    return _Raw(line, seq, prev, digest, kid, mac, record, body, hashlib.sha256(body).hexdigest() == digest)


def _lines(f: BinaryIO) -> Iterator[tuple[int, bytes, bool]]:
    """``(line number, bytes without the newline, terminated)``, reading at most
    ``MAX_LINE_BYTES + 1`` bytes of any line into memory."""
    number = 0
    while True:
        raw = f.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if raw.endswith(b"\n"):
            yield number, raw[:-1], True
            continue
        if len(raw) <= MAX_LINE_BYTES:
            yield number, raw, False  # the file's last bytes, unterminated
            return
        # an overlong line: skip the rest of it
        terminated = False
        while chunk := f.readline(MAX_LINE_BYTES):
            if chunk.endswith(b"\n"):
                terminated = True
                break
        yield number, raw, terminated
        if not terminated:
            return


def read_entries(path: str | Path) -> Iterator[LogEntry | tuple[int, str]]:
    """Each line of a log, streamed: a LogEntry, or ``(line, problem)`` for a line that is not one.

    Raises ``OSError`` when the file cannot be read.
    """
    with Path(path).open("rb") as f:
        for i, raw, _terminated in _lines(f):
            parsed = _parse_line(raw, i)
            yield parsed.entry() if isinstance(parsed, _Raw) else (i, parsed[1])


# ---------------------------------------------------------------- verifying


class _Chain:
    """The streaming chain check: constant state plus what is wrong (gaps awaiting a late entry)."""

    def __init__(self, mac_keys: dict[str, bytes], anchors: set[str], max_problems: int) -> None:
        self.mac_keys = mac_keys
        self.anchors = anchors
        self.found_anchors: dict[str, int] = {}
        self.max_problems = max_problems
        self.problems: list[LogProblem] = []
        self.omitted = 0
        self.expected, self.last_hash, self.last_line = 1, GENESIS, 0
        self.before_last = GENESIS
        self.head: _Raw | None = None
        self.gaps: dict[int, int] = {}  # missing seq -> line where its absence was noticed
        self.recent: dict[int, str] = {}  # seq -> hash of recently accepted entries (duplicates)
        self.records = 0
        self.authentic_all = bool(mac_keys)
        self.forged_seq: int | None = None  # seq of the entry just refused as forged
        self.bad_run = 0  # malformed lines just before the entry being fed

    def problem(self, line: int, kind: ProblemKind, message: str) -> None:
        if len(self.problems) < self.max_problems:
            self.problems.append(LogProblem(line=line, kind=kind, message=message))
        else:
            self.omitted += 1

    def accept(self, e: _Raw) -> None:
        self.before_last = self.last_hash
        self.expected, self.last_hash, self.last_line = e.seq + 1, e.hash, e.line
        self.head = e
        self.recent[e.seq] = e.hash
        if len(self.recent) > 4096:
            self.recent.pop(next(iter(self.recent)))
        if e.hash in self.anchors:
            self.found_anchors[e.hash] = e.seq

    def links(self, e: _Raw) -> bool:
        return e.seq == self.expected and e.prev == self.last_hash

    def feed(self, e: _Raw, nxt: _Raw | None) -> None:
        """Check one entry; ``nxt`` is the following entry (one line of look-ahead) or None."""
        self.records += 1
        bad_before, self.bad_run = self.bad_run, 0
        if not e.intact:
            self.problem(e.line, "edited", f"条目内容与其哈希不符（序号 {e.seq}） / entry seq {e.seq} no longer matches its hash")
            self.authentic_all = False
            self.accept(e)  # keep its claimed hash so that the rest of the chain is still checked
            return
        if self.mac_keys:
            ok = e.authentic(self.mac_keys)
            if ok is None:
                self.authentic_all = False
                self.problem(
                    e.line,
                    "unknown-key",
                    f"条目以未知密钥 {e.kid!r} 写入，无法核验 / entry seq {e.seq} was written under key "
                    f"{e.kid!r}, which was not given: it cannot be authenticated",
                )
            elif not ok:
                self.authentic_all = False
                self.forged_seq = e.seq
                self.problem(
                    e.line,
                    "forged",
                    f"条目的 MAC 不符：不是持有密钥者写入（伪造、改动后重算哈希或整链重写）（序号 {e.seq}） / "
                    f"entry seq {e.seq}: the MAC does not match: not written with the key (forged, "
                    "edited and re-hashed, or the chain rewritten)",
                )
                return  # never part of the chain
        forged_before, self.forged_seq = self.forged_seq, None
        if self.links(e):
            self.accept(e)
            return
        if e.seq < self.expected:
            if e.seq in self.gaps:
                noticed = self.gaps.pop(e.seq)
                self.problem(
                    e.line,
                    "reordered",
                    f"序号 {e.seq} 的条目顺序错误：应在第 {noticed} 行之前 / entry seq {e.seq} is out of "
                    f"order: it belongs before line {noticed}",
                )
                return
            if self.recent.get(e.seq) == e.hash:
                self.problem(e.line, "duplicate", f"重复的条目（序号 {e.seq}） / a copy of the entry seq {e.seq}")
                return
            if e.seq == self.expected - 1 and e.prev == self.before_last:
                # two entries claim the same place; the next entry tells which one the chain continues
                if nxt is not None and nxt.prev == e.hash:
                    self.problem(
                        self.last_line,
                        "inserted",
                        f"插入的条目：第 {e.line} 行（序号 {e.seq}）接续其前一条 / an inserted entry: "
                        f"line {e.line} (seq {e.seq}) links to the entry before it",
                    )
                    self.accept(e)
                    return
            self.problem(
                e.line,
                "inserted",
                f"插入的条目：序号 {e.seq} 已出现过 / an inserted entry: seq {e.seq} was already seen",
            )
            return
        if nxt is not None and self.links(nxt) and e.seq > self.expected and e.prev != nxt.hash:
            self.problem(
                e.line, "inserted", "插入的条目：下一条直接接续其前一条 / an inserted entry: the next entry links to the one before it"
            )
            return
        if e.seq == self.expected:  # the sequence is intact but the link is broken
            if self.head is not None:
                self.problem(
                    self.last_line,
                    "edited",
                    f"条目已被改动并重算哈希：第 {e.line} 行的链接与之不符 / entry changed and re-hashed: "
                    f"the link of line {e.line} no longer matches it",
                )
            self.accept(e)
            return
        # e.seq > expected: a gap; a late entry may fill it (reordered), else it was removed
        skipped = range(self.expected, e.seq)
        if forged_before is not None and list(skipped) == [forged_before]:
            pass  # the authentic entry was replaced by the forged one just reported
        elif bad_before and len(skipped) <= bad_before:
            pass  # replaced by the malformed lines just reported
        elif len(self.gaps) + len(skipped) <= 100_000:  # flat memory, whatever the damage
            for s in skipped:
                self.gaps.setdefault(s, e.line)
        else:
            gap = f"{self.expected}–{e.seq - 1}"
            self.problem(e.line, "removed", f"第 {e.line} 行之前缺少序号 {gap} 的条目 / entries seq {gap} are missing before line {e.line}")
        self.accept(e)

    def finish(self) -> None:
        by_line: dict[int, list[int]] = {}
        for s, line in self.gaps.items():
            by_line.setdefault(line, []).append(s)
        for line, seqs in sorted(by_line.items()):
            seqs.sort()
            gap = str(seqs[0]) if len(seqs) == 1 else f"{seqs[0]}–{seqs[-1]}"
            self.problem(
                line, "removed", f"第 {line} 行之前缺少序号 {gap} 的条目 / entries seq {gap} are missing before line {line}"
            )


def verify_log(
    path: str | Path,
    expect_head: str | None = None,
    min_records: int | None = None,
    *,
    head_file: str | Path | None = None,
    key: bytes | None = None,
    keys: Sequence[bytes] = (),
    mac_keys: Sequence[bytes] = (),
    max_problems: int = 1000,
) -> LogVerification:
    """Check every line's form, hash, MAC, sequence and link in one streaming pass.

    ``key`` / ``keys``: host keys (the MAC keys are derived); ``mac_keys``: MAC keys as given to
    an auditor (:func:`audit_mac_key`). Entries name their key by ``kid``, so a log written
    across a key rotation verifies with all its keys. Without any key only the chain is checked.

    ``expect_head``: a head hash stored elsewhere; it must be the hash of an entry of the chain
    (entries appended after it are fine), else ``head-mismatch``. ``min_records``: the chain must
    reach that seq, else ``truncated``. ``head_file``: a checkpoint written by
    ``AuditLog(..., head_file=...)``: both at once.

    Raises ``OSError`` when the log or the checkpoint is missing or unreadable (the CLI exits 2),
    :class:`AuditLogError` when ``expect_head``, the checkpoint or a key is not one.
    """
    anchors: list[tuple[str, int | None, str, str]] = []  # (hash, seq if known, source zh, en)
    if expect_head is not None:
        if not _is_hash(expect_head.lower()):
            raise AuditLogError("expect_head 须为 64 位十六进制 / expect_head must be 64 hex digits")
        anchors.append((expect_head.lower(), None, "所给链头", "expected head"))
    expected_seq = 0
    if min_records is not None:
        if type(min_records) is not int or min_records < 0:
            raise AuditLogError("min_records 须为非负整数 / min_records must be a non-negative int")
        expected_seq = min_records
    if head_file is not None:
        cp_seq, cp_hash = read_head_file(head_file)
        anchors.append((cp_hash, cp_seq, f"检查点 {head_file} 的链头", f"head of checkpoint {head_file}"))
        expected_seq = max(expected_seq, cp_seq)
    all_keys = [*([key] if key is not None else []), *keys]
    chain = _Chain(_mac_keys(all_keys, mac_keys), {a[0] for a in anchors}, max_problems)
    torn_line: int | None = None
    missing_newline = False
    with Path(path).open("rb") as f:
        pending: _Raw | None = None  # one entry of look-ahead
        for i, raw, terminated in _lines(f):
            parsed = _parse_line(raw, i)
            if not terminated:
                # the last bytes lack a newline: an intact entry that continues the chain is kept;
                # anything else is an append that never returned (torn) and is not verified
                if isinstance(parsed, _Raw) and parsed.intact and _continues(chain, pending, parsed):
                    missing_newline = True
                else:
                    torn_line = i
                    break
            if isinstance(parsed, _Raw):
                if pending is not None:
                    chain.feed(pending, parsed)
                pending = parsed
            else:
                if pending is not None:
                    chain.feed(pending, None)
                    pending = None
                chain.problem(i, parsed[0], parsed[1])
                chain.bad_run += 1
        if pending is not None:
            chain.feed(pending, None)
    chain.finish()
    problems = chain.problems
    head_entry = chain.head
    anchored = bool(anchors) or min_records is not None
    if anchored:
        before = len(problems)
        _check_anchors(head_entry, chain.found_anchors, anchors, expected_seq, problems)
        anchored = len(problems) == before
    problems.sort(key=lambda p: p.line)
    ok = not problems and not chain.omitted and torn_line is None
    return LogVerification(
        path=str(path),
        ok=ok,
        records=chain.records,
        problems=problems,
        problems_omitted=chain.omitted,
        torn_tail=torn_line is not None,
        torn_line=torn_line,
        missing_newline=missing_newline,
        head=head_entry.hash if head_entry is not None else None,
        head_seq=head_entry.seq if head_entry is not None else 0,
        head_line=head_entry.line if head_entry is not None else None,
        anchored=anchored and ok,
        authenticated=chain.authentic_all and chain.records > 0 and ok,
    )


def _continues(chain: _Chain, pending: _Raw | None, e: _Raw) -> bool:
    """Whether ``e`` is the next entry of the chain (after ``pending``, not yet fed)."""
    if pending is not None:
        return e.seq == pending.seq + 1 and e.prev == pending.hash
    return chain.links(e)


def _last_intact(head: _Raw | None) -> str:
    if head is None:
        return "日志中没有完好的条目 / the log has no intact entry"
    return f"最后完好的条目：第 {head.line} 行（序号 {head.seq}） / last intact entry: line {head.line} (seq {head.seq})"


def _check_anchors(
    head: _Raw | None,
    found: dict[str, int],
    anchors: list[tuple[str, int | None, str, str]],
    expected_seq: int,
    problems: list[LogProblem],
) -> None:
    """Append ``truncated`` / ``head-mismatch`` problems when the log is not what was anchored."""
    line = head.line if head is not None else 0
    head_seq = head.seq if head is not None else 0
    truncated = head_seq < expected_seq
    if truncated:
        problems.append(
            LogProblem(
                line=line,
                kind="truncated",
                message=f"日志只到序号 {head_seq}，应至少到 {expected_seq}：末尾的条目被删除 / the log ends at "
                f"seq {head_seq}, expected at least {expected_seq}: entries were removed from the end; "
                + _last_intact(head),
            )
        )
    for digest, seq, source_zh, source in anchors:
        if digest == GENESIS or digest in found:
            if seq is None or digest == GENESIS or found[digest] == seq:
                continue
        if truncated and (seq is None or seq > head_seq):
            continue  # explained by the truncation already reported
        problems.append(
            LogProblem(
                line=line,
                kind="head-mismatch",
                message=f"{source_zh} {digest[:12]}… 不在链中：末尾的条目被删除或替换，或整条链被重写 / the "
                f"{source} {digest[:12]}… is not in the chain: entries at the end were removed or "
                "replaced, or the chain was rewritten; " + _last_intact(head),
            )
        )


# ---------------------------------------------------------------- writing


def _tail(path: Path) -> tuple[bytes | None, bytes | None, int]:
    """``(last newline-terminated line or None, unterminated last fragment or None, offset of the
    fragment)``, reading backwards from the end (never the whole file)."""
    size = path.stat().st_size
    if size == 0:
        return None, None, 0
    with path.open("rb") as f:
        pos, chunk = size, b""
        while True:
            step = min(65536, pos)
            pos -= step
            f.seek(pos)
            chunk = f.read(step) + chunk
            last_nl = chunk.rfind(b"\n")
            if last_nl == -1:
                if pos == 0:
                    return None, chunk, 0  # one unterminated line
                continue
            prev_nl = chunk.rfind(b"\n", 0, last_nl)
            if prev_nl == -1 and pos > 0:
                continue
            fragment = chunk[last_nl + 1 :] or None
            return chunk[prev_nl + 1 : last_nl], fragment, pos + last_nl + 1


def read_head_file(path: str | Path) -> tuple[int, str]:
    """``(seq, hash)`` from a head checkpoint written by ``AuditLog(..., head_file=...)``.

    Raises ``OSError`` when it is missing or unreadable, :class:`AuditLogError` when it is not a
    checkpoint (one JSON object ``{"hash": <64 hex>, "seq": <int >= 0>}``).
    """
    raw = Path(path).read_bytes()
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        obj = None
    if (
        not isinstance(obj, dict)
        or set(obj) != {"hash", "seq"}
        or type(obj["seq"]) is not int
        or obj["seq"] < 0
        or not _is_hash(obj["hash"])
        or (obj["seq"] == 0) != (obj["hash"] == GENESIS)
    ):
        raise AuditLogError(
            f'{path}: 不是链头检查点 / not a head checkpoint (needs {{"hash": <64 hex>, "seq": <int>}})'
        )
    return obj["seq"], obj["hash"]


def _write_head_file(path: Path, seq: int, digest: str) -> None:
    """Replace the checkpoint atomically: a temporary file, fsynced, then ``os.replace``."""
    data = canonical_json({"hash": digest, "seq": seq}) + b"\n"
    replace_atomically(path, data)
    _fsync_dir(path.parent)


def _remove_stale_temps(head_file: Path) -> list[Path]:
    """Remove ``.<name>.*.tmp`` files a killed writer left beside the checkpoint."""
    removed = []
    if head_file.parent.is_dir():
        for p in head_file.parent.glob(f".{glob_escape(head_file.name)}.*.tmp"):
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    return removed


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


class AuditLog:
    """An append-only, hash-chained, HMAC-authenticated JSONL audit log. See the module doc.

    ``key``: the host key. It pseudonymises people in records (``keyed_hash``) and, through
    :func:`audit_mac_key`, authenticates every entry. Keep it secret and stable.
    ``previous_keys``: earlier host keys after a rotation (the last entry may be under one).

    ``head_file``: a checkpoint file kept up to date with the last entry's hash and seq after
    each append (atomically, under the log's lock). The log is refused (:class:`AuditLogError`)
    when it no longer reaches the checkpoint or its chain does not contain the checkpoint's hash;
    a missing checkpoint is (re)started from the current head.
    """

    def __init__(
        self,
        path: str | Path,
        key: bytes,
        *,
        repair_torn_tail: bool = False,
        head_file: str | Path | None = None,
        previous_keys: Sequence[bytes] = (),
    ) -> None:
        self.path = Path(path)
        self._key = _check_key(key)
        self._mac_key = audit_mac_key(self._key)
        self._kid = key_id(self._mac_key)
        self._mac_keys = _mac_keys([*previous_keys, self._key])
        self._lock = threading.Lock()
        self.head_file = Path(head_file) if head_file is not None else None
        if not self.path.exists():
            if self.head_file is not None:
                self._check_checkpoint(None)  # a checkpoint past seq 0 but no log: refused
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
            _fsync_dir(self.path.parent)
        with self._locked():
            if self.head_file is not None:
                _remove_stale_temps(self.head_file)
            self._open_tail(repair_torn_tail)

    @property
    def key_id(self) -> str:
        """The ``kid`` this log writes (hand the auditor ``audit_mac_key(key)``)."""
        return self._kid

    @contextlib.contextmanager
    def _locked(self) -> Iterator[BinaryIO]:
        """The thread lock and, on POSIX, an exclusive ``flock`` on the log."""
        with self._lock, self.path.open("ab") as f:
            if fcntl is not None:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield f
            finally:
                if fcntl is not None:
                    fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def _entry(self, raw: bytes) -> _Raw:
        """The entry of a complete last line; AuditLogError when it is not an authentic entry."""
        parsed = _parse_line(raw, 0)
        if not isinstance(parsed, _Raw):
            raise AuditLogError(
                f"{self.path}: 末行完整（以换行结尾）却不是日志条目：不是写入中断，而是被改动或损坏；"
                "不会自动截去，请运行 audit verify / the last complete (newline-terminated) line is "
                "not a log entry: not an interrupted write but tampering or damage. It is never "
                "truncated automatically (repair_torn_tail only cuts an unterminated last fragment); "
                "run `nocert-rules audit verify`"
            )
        if not parsed.intact:
            raise AuditLogError(
                f"{self.path}: 末条目已损坏或被改动，请运行 audit verify / the last entry is damaged "
                "or altered; run `nocert-rules audit verify`"
            )
        authentic = parsed.authentic(self._mac_keys)
        if authentic is None:
            raise AuditLogError(
                f"{self.path}: 末条目以另一密钥（{parsed.kid}）写入；轮换密钥时请传入 previous_keys / the last "
                f"entry was written under another key ({parsed.kid}); after a rotation pass previous_keys"
            )
        if not authentic:
            raise AuditLogError(
                f"{self.path}: 末条目的 MAC 不符（伪造或被改动），请运行 audit verify / the last entry's MAC "
                "does not match (forged or altered); run `nocert-rules audit verify`"
            )
        return parsed

    def _open_tail(self, repair: bool) -> None:
        """Check the end of the log and the checkpoint, then complete or cut the last fragment.

        An unterminated last fragment that is an authentic entry continuing the chain is an
        intact entry missing its newline: the newline is added. Anything else unterminated is
        torn: refused unless ``repair``, and cut only after the checkpoint was checked against
        the log without it.
        """
        last, fragment, offset = _tail(self.path)
        last_entry = self._entry(last) if last is not None else None
        if fragment is not None:
            parsed = _parse_line(fragment, 0)
            seq, digest = _seq_hash(last_entry)
            if (
                isinstance(parsed, _Raw)
                and parsed.intact
                and parsed.authentic(self._mac_keys)
                and parsed.seq == seq + 1
                and parsed.prev == digest
            ):
                if self.head_file is not None:
                    self._check_checkpoint(parsed)
                with self.path.open("ab") as f:  # an intact entry missing its newline: complete it
                    f.write(b"\n")
                    f.flush()
                    os.fsync(f.fileno())
                last_entry, fragment = parsed, None
        if self.head_file is not None:
            self._check_checkpoint(last_entry)  # before any repair: never cut an acknowledged entry
        if fragment is not None:
            if not repair:
                raise AuditLogError(
                    f"{self.path}: 末行不完整（写入中断），修复前不能追加；用 repair_torn_tail=True 截去末行 / "
                    "the last line is torn (interrupted write); open with repair_torn_tail=True to "
                    "truncate it"
                )
            with self.path.open("r+b") as f:
                f.truncate(offset)
                f.flush()
                os.fsync(f.fileno())
        if self.head_file is not None and self._checkpoint_behind(last_entry):
            self.head_file.parent.mkdir(parents=True, exist_ok=True)
            _write_head_file(self.head_file, *_seq_hash(last_entry))

    def _last_entry(self) -> _Raw | None:
        """The last entry; None for an empty log. Raises on a torn or damaged tail."""
        last, fragment, _ = _tail(self.path)
        if fragment is not None:
            raise AuditLogError(f"{self.path}: 末行不完整 / the last line is torn")
        return self._entry(last) if last is not None else None

    def _checkpoint_behind(self, last: _Raw | None) -> bool:
        assert self.head_file is not None
        try:
            return read_head_file(self.head_file) != _seq_hash(last)
        except FileNotFoundError:
            return True

    def _check_checkpoint(self, last: _Raw | None) -> None:
        """Raise when the log does not reach the head checkpoint or does not contain it."""
        assert self.head_file is not None
        try:
            cp_seq, cp_hash = read_head_file(self.head_file)
        except FileNotFoundError:
            return
        seq, digest = _seq_hash(last)
        where = f"{self.path}（检查点 / checkpoint {self.head_file}）"
        if seq < cp_seq:
            raise AuditLogError(
                f"{where}: 日志只到序号 {seq}，检查点为 {cp_seq}：末尾的条目被删除，请运行 audit verify / "
                f"the log ends at seq {seq} but the checkpoint is at seq {cp_seq}: entries were "
                "removed from the end (truncated); run `nocert-rules audit verify --head-file`"
            )
        if seq == cp_seq and digest == cp_hash:
            return
        if cp_seq == 0 or (last is not None and seq == cp_seq + 1 and last.prev == cp_hash):
            return  # later appends (e.g. a crash between the append and the checkpoint)
        if seq > cp_seq and _contains(self.path, cp_seq, cp_hash):
            return
        raise AuditLogError(
            f"{where}: 检查点的链头 {cp_hash[:12]}… 不在链中：条目被替换或链被重写，请运行 audit verify / "
            f"the checkpoint's head {cp_hash[:12]}… (seq {cp_seq}) is not in the chain: entries were "
            "replaced or the chain rewritten; run `nocert-rules audit verify --head-file`"
        )

    @property
    def head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the last entry; ``(0, GENESIS)`` for an empty log."""
        return _seq_hash(self._last_entry())

    def append(self, record: AuditRecord) -> LogEntry:
        """Append one record: classified (:func:`classify_record`), one full line, flushed and
        fsynced, chained to the last entry and MAC'd under the log's key.

        With a ``head_file``, the checkpoint is checked first and replaced after the line is
        fsynced (both under the lock).
        """
        return self.append_many([record])[0]

    def append_many(self, records: Sequence[AuditRecord]) -> list[LogEntry]:
        """Append several records as :meth:`append` does one, chained in order, with one write,
        one fsync and one checkpoint update for all (group commit): when it returns, every one
        is durable; when it raises, none was acknowledged."""
        payloads = [classify_record(record.model_dump(mode="json"), self._key) for record in records]
        entries: list[LogEntry] = []
        with self._locked() as f:
            last = self._last_entry()  # re-read under the lock: another process may have appended
            if self.head_file is not None:
                self._check_checkpoint(last)
            seq, prev = _seq_hash(last)
            lines = []
            for payload in payloads:
                seq += 1
                line, digest, mac = entry_line(seq, prev, payload, self._mac_key)
                lines.append(line)
                entries.append(LogEntry(line=0, seq=seq, prev=prev, hash=digest, kid=self._kid, mac=mac,
                                        record=payload))
                prev = digest
            f.write(b"".join(lines))
            f.flush()
            os.fsync(f.fileno())
            if self.head_file is not None and entries:
                try:
                    _write_head_file(self.head_file, seq, prev)
                except OSError as exc:
                    raise AuditLogError(
                        f"{self.path}: 条目（序号 {seq}）已写入，但检查点 {self.head_file} 未能更新 / entry "
                        f"seq {seq} was written, but the head checkpoint could not be updated: {exc}"
                    ) from exc
        return entries

    def append_decision(
        self, request: DecisionRequest | dict[str, Any], decision: Decision, *, at: datetime | None = None
    ) -> LogEntry:
        """``append(audit_decision(request, decision, key))``."""
        return self.append(audit_decision(request, decision, self._key, at=at))

    def append_state(self, record: BaseModel, *, at: datetime | None = None) -> LogEntry:
        """``append(audit_state(record))``."""
        return self.append(audit_state(record, at=at))


def _contains(path: Path, seq: int, digest: str) -> bool:
    """Whether the log holds an intact entry ``seq`` with hash ``digest`` (one streaming pass)."""
    with path.open("rb") as f:
        for i, raw, _terminated in _lines(f):
            parsed = _parse_line(raw, i)
            if isinstance(parsed, _Raw) and parsed.seq == seq and parsed.hash == digest and parsed.intact:
                return True
    return False


def _seq_hash(entry: _Raw | LogEntry | None) -> tuple[int, str]:
    return (entry.seq, entry.hash) if entry is not None else (0, GENESIS)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
