"""Audit records and an append-only, hash-chained JSONL audit log (数据留痕, 三(二)).

**Records.** :func:`audit_decision` turns a request and its :class:`~nocert_rules.models.Decision`
into an :class:`AuditRecord`: the inputs (the request, with the applicant's ``id_number`` and
``name`` replaced by :func:`~nocert_rules.privacy.keyed_hash` under the host's key: never in
clear), the outcome, the trace, the ruleset hash and the time. :func:`audit_state` records a
state of any record of :mod:`nocert_rules.records`.

**Log format.** One JSON object per line, UTF-8, ``\\n``-terminated, written as canonical JSON
(``sort_keys=True, separators=(",", ":"), ensure_ascii=False``)::

    {"hash": H(n), "prev": H(n-1), "record": {...}, "seq": n}

``seq`` counts from 1; ``prev`` of the first entry is 64 zeros; ``hash`` is the sha256 (hex) of
the canonical JSON of ``{"prev", "record", "seq"}``. :func:`verify_log` recomputes every hash and
link and names each edited, removed, inserted or reordered entry by line.

**What the chain does not do.** The hash is not keyed: whoever can rewrite the whole file can
recompute the whole chain, and removing entries *at the end* leaves a valid shorter chain.
Anchor the head (``LogVerification.head``, ``AuditLog.head``) somewhere else (a daily report,
another system) to detect those.

**Writes.** ``AuditLog.append`` opens the file in append mode, writes one full line, flushes
and ``os.fsync``s, under a ``threading.Lock`` and, on POSIX, an exclusive ``fcntl.flock`` on the
file, re-reading the last entry under the lock: several processes on one host may append to
one log. Without ``fcntl`` (Windows), or on network filesystems where ``flock`` is not honoured,
use one writer process per file or an external lock.

**Torn tail.** A crash mid-write can leave a last line without its newline (or with invalid
JSON). :func:`verify_log` reports it as ``torn_tail=True`` and verifies the intact prefix.
``AuditLog`` refuses to open such a log (:class:`AuditLogError`) unless asked to repair it
(``AuditLog(path, key, repair_torn_tail=True)``), which truncates exactly the torn last line
(an append that never returned) and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import NocertError
from .models import (
    SHANGHAI,
    Decision,
    DecisionRequest,
    RulesetStamp,
    ShanghaiDatetime,
    parse_request,
)
from .privacy import keyed_hash

try:  # POSIX only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "GENESIS",
    "AuditLog",
    "AuditLogError",
    "AuditRecord",
    "LogEntry",
    "LogProblem",
    "LogVerification",
    "audit_decision",
    "audit_state",
    "canonical_json",
    "entry_hash",
    "read_entries",
    "verify_log",
]

GENESIS = "0" * 64
MIN_KEY_BYTES = 16


class AuditLogError(NocertError):
    """The audit log cannot be appended to (torn tail, tampered last entry, bad key)."""


def canonical_json(obj: Any) -> bytes:
    """The bytes hashed and written: sorted keys, no spaces, UTF-8 (ensure_ascii=False)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(seq: int, prev: str, record: Any) -> str:
    """sha256 hex of the canonical JSON of ``{"prev", "record", "seq"}``."""
    return hashlib.sha256(canonical_json({"prev": prev, "record": record, "seq": seq})).hexdigest()


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


def _check_key(key: bytes) -> bytes:
    if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
        raise AuditLogError(
            f"密钥须为至少 {MIN_KEY_BYTES} 字节的 bytes / the key must be bytes, at least {MIN_KEY_BYTES} long"
        )
    return bytes(key)


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
    certificate and request id).
    """
    req = parse_request(request)
    key = _check_key(key)
    if (req.service_item, req.certificate, req.request_id) != (
        decision.service_item,
        decision.certificate,
        decision.request_id,
    ):
        raise AuditLogError("请求与决定不对应 / the request is not the decision's")
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

    Records of :mod:`nocert_rules.records` hold no personal data in clear (people appear only as
    keyed hashes), so the whole record is kept.
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


# ---------------------------------------------------------------- reading and verifying


class LogEntry(BaseModel):
    """One line of the log as read: its line number and fields."""

    model_config = ConfigDict(frozen=True)

    line: int
    seq: int
    prev: str
    hash: str
    record: dict[str, Any]

    @property
    def intact(self) -> bool:
        """The entry's own hash matches its content."""
        return entry_hash(self.seq, self.prev, self.record) == self.hash


ProblemKind = Literal["malformed", "edited", "removed", "inserted", "reordered"]


class LogProblem(BaseModel):
    """Something wrong at a line: ``kind`` is malformed, edited, removed, inserted or reordered."""

    model_config = ConfigDict(frozen=True)

    line: int
    kind: ProblemKind
    message: str


class LogVerification(BaseModel):
    """The result of :func:`verify_log`.

    ``ok``: no problem and no torn tail. ``records``: well-formed entries read (the torn tail
    excluded). ``head``: the hash of the last entry of the verified chain (anchor it elsewhere).
    """

    model_config = ConfigDict(frozen=True)

    path: str
    ok: bool
    records: int
    problems: list[LogProblem]
    torn_tail: bool
    torn_line: int | None = None
    head: str | None = None


_HEX = frozenset("0123456789abcdef")


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def _parse_line(raw: bytes, line: int) -> LogEntry | str:
    """A LogEntry, or the problem in words."""
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"不是有效的 JSON / not valid JSON ({type(exc).__name__})"
    if not isinstance(obj, dict) or set(obj) != {"seq", "prev", "record", "hash"}:
        return "不是日志条目（须恰有 seq, prev, record, hash） / not a log entry (needs exactly seq, prev, record, hash)"
    seq, prev, digest, record = obj["seq"], obj["prev"], obj["hash"], obj["record"]
    if type(seq) is not int or seq < 1 or not _is_hash(prev) or not _is_hash(digest) or not isinstance(record, dict):
        return "字段类型错误 / a field has the wrong type"
    return LogEntry(line=line, seq=seq, prev=prev, hash=digest, record=record)


def _split(data: bytes) -> tuple[list[bytes], bool]:
    """Lines, and whether the last one lacks its newline."""
    if not data:
        return [], False
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        return lines[:-1], False
    return lines, True


def read_entries(path: str | Path) -> Iterator[LogEntry | tuple[int, str]]:
    """Each line of a log: a LogEntry, or ``(line, problem)`` for a line that is not one.

    Raises ``OSError`` when the file cannot be read.
    """
    data = Path(path).read_bytes()
    lines, _ = _split(data)
    for i, raw in enumerate(lines, start=1):
        parsed = _parse_line(raw, i)
        yield parsed if isinstance(parsed, LogEntry) else (i, parsed)


def verify_log(path: str | Path) -> LogVerification:
    """Check every entry's hash and link; name each edited, removed, inserted or reordered entry.

    Raises ``OSError`` when the file is missing or unreadable (the CLI exits 2).
    """
    data = Path(path).read_bytes()
    lines, unterminated = _split(data)
    problems: list[LogProblem] = []
    entries: list[LogEntry] = []
    torn_line: int | None = None
    for i, raw in enumerate(lines, start=1):
        parsed = _parse_line(raw, i)
        last = i == len(lines)
        if last and (unterminated or not isinstance(parsed, LogEntry)):
            torn_line = i  # a crash mid-write: the intact prefix is verified without it
            break
        if isinstance(parsed, LogEntry):
            entries.append(parsed)
        else:
            problems.append(LogProblem(line=i, kind="malformed", message=parsed))
    head = _check_chain(entries, problems, {p.line for p in problems})
    problems.sort(key=lambda p: p.line)
    return LogVerification(
        path=str(path),
        ok=not problems and torn_line is None,
        records=len(entries),
        problems=problems,
        torn_tail=torn_line is not None,
        torn_line=torn_line,
        head=head,
    )


def _check_chain(entries: list[LogEntry], problems: list[LogProblem], malformed: set[int]) -> str | None:
    """Walk the chain; append a LogProblem for every break. Returns the head hash.

    An entry that does not link is classified, in this order: a copy of an earlier entry
    (inserted); one that links to an entry on a later line (reordered: it is held back until
    that entry is reached); one the next entry skips over (inserted); one whose content no
    longer matches its own hash (edited); one whose predecessor was inserted before it; a gap in
    the sequence numbers (removed); and a link broken with the sequence intact (the previous
    entry was edited and re-hashed).
    """
    by_hash = {e.hash: e for e in entries}
    accepted: list[LogEntry] = []
    pending: dict[str, LogEntry] = {}  # entries held back, by the hash of the entry they follow
    seen: dict[str, int] = {}
    expected_seq, last_hash = 1, GENESIS

    def accept(entry: LogEntry) -> None:
        nonlocal expected_seq, last_hash
        accepted.append(entry)
        seen[entry.hash] = entry.line
        expected_seq, last_hash = entry.seq + 1, entry.hash
        while last_hash in pending:  # entries that were waiting for this one
            accept(pending.pop(last_hash))

    def problem(line: int, kind: ProblemKind, message: str) -> None:
        problems.append(LogProblem(line=line, kind=kind, message=message))

    for idx, entry in enumerate(entries):
        intact = entry.intact
        if intact and entry.prev == last_hash and entry.seq == expected_seq:
            accept(entry)
            continue
        if intact and entry.hash in seen:
            first = seen[entry.hash]
            problem(entry.line, "inserted", f"重复的条目（同第 {first} 行） / a copy of the entry at line {first}")
            continue
        pending_hashes = {p.hash for p in pending.values()}
        follows = by_hash.get(entry.prev)
        if intact and (entry.prev in pending_hashes or (follows is not None and follows.line > entry.line)):
            if entry.prev not in pending_hashes and follows is not None:
                problem(
                    entry.line,
                    "reordered",
                    f"序号 {entry.seq} 的条目顺序错误，应在第 {follows.line} 行之后 / entry seq "
                    f"{entry.seq} is out of order: it belongs after line {follows.line}",
                )
            pending[entry.prev] = entry
            continue
        nxt = entries[idx + 1] if idx + 1 < len(entries) else None
        if nxt is not None and nxt.intact and nxt.prev == last_hash and nxt.seq == expected_seq:
            problem(
                entry.line,
                "inserted",
                "插入的条目：下一条直接接续其前一条 / an inserted entry: the next entry links to the one before it",
            )
            continue
        if not intact:
            problem(
                entry.line,
                "edited",
                f"条目内容与其哈希不符（序号 {entry.seq}） / entry seq {entry.seq} no longer matches its hash",
            )
            accept(entry)  # keep its claimed hash so that the rest of the chain is still checked
            continue
        before_last = accepted[-2].hash if len(accepted) > 1 else GENESIS
        if accepted and entry.seq == expected_seq - 1 and entry.prev == before_last:
            problem(
                accepted[-1].line,
                "inserted",
                f"插入的条目：第 {entry.line} 行（序号 {entry.seq}）接续其前一条 / an inserted entry: "
                f"line {entry.line} (seq {entry.seq}) links to the entry before it",
            )
            accept(entry)
            continue
        if entry.seq > expected_seq:
            if entry.line - 1 not in malformed:  # a malformed line was already reported
                gap = str(expected_seq) if entry.seq == expected_seq + 1 else f"{expected_seq}–{entry.seq - 1}"
                problem(
                    entry.line,
                    "removed",
                    f"第 {entry.line} 行之前缺少序号 {gap} 的条目 / entries seq {gap} are missing "
                    f"before line {entry.line}",
                )
            accept(entry)
            continue
        if entry.seq == expected_seq and accepted:
            problem(
                accepted[-1].line,
                "edited",
                f"条目已被改动并重算哈希：第 {entry.line} 行的链接与之不符 / entry changed and re-hashed: "
                f"the link of line {entry.line} no longer matches it",
            )
            accept(entry)
            continue
        problem(entry.line, "reordered", f"序号 {entry.seq} 的条目不在应有位置 / entry seq {entry.seq} is out of place")
        accept(entry)
    for waiting in pending.values():
        problem(waiting.line, "reordered", f"序号 {waiting.seq} 的条目无法接入链 / entry seq {waiting.seq} does not join the chain")
    return last_hash if accepted else None


# ---------------------------------------------------------------- writing


def _tail(path: Path, end: int | None = None) -> tuple[bytes | None, int | None]:
    """The last newline-terminated line before ``end`` (default: the file's end), without its
    newline, and the offset where an unterminated last line starts (None when there is none)."""
    size = path.stat().st_size if end is None else end
    if size == 0:
        return None, None
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
                    return None, 0  # one unterminated line
                continue
            prev_nl = chunk.rfind(b"\n", 0, last_nl)
            if prev_nl == -1 and pos > 0:
                continue
            torn_at = pos + last_nl + 1 if last_nl + 1 < len(chunk) else None
            return chunk[prev_nl + 1 : last_nl], torn_at


class AuditLog:
    """An append-only, hash-chained JSONL audit log. See the module documentation.

    ``key`` pseudonymises people in :meth:`append_decision` (``keyed_hash``); keep it secret and
    stable (changing it unlinks old records from new ones, which never breaks the chain).
    """

    def __init__(self, path: str | Path, key: bytes, *, repair_torn_tail: bool = False) -> None:
        self.path = Path(path)
        self._key = _check_key(key)
        self._lock = threading.Lock()
        if self.path.exists():
            self._check_tail(repair_torn_tail)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
            _fsync_dir(self.path.parent)

    def _check_tail(self, repair: bool) -> None:
        last, torn_at = _tail(self.path)
        if torn_at is None and last is not None and not isinstance(_parse_line(last, 0), LogEntry):
            # invalid JSON on the last (newline-terminated) line: also a torn tail
            torn_at = self.path.stat().st_size - len(last) - 1
            last, _ = _tail(self.path, torn_at)
        if torn_at is not None:
            if not repair:
                raise AuditLogError(
                    f"{self.path}: 末行不完整（写入中断），修复前不能追加；用 repair_torn_tail=True 截去末行 / "
                    "the last line is torn (interrupted write); open with repair_torn_tail=True to "
                    "truncate it"
                )
            with self.path.open("r+b") as f:
                f.truncate(torn_at)
                f.flush()
                os.fsync(f.fileno())
        if last is not None:
            parsed = _parse_line(last, 0)
            if not isinstance(parsed, LogEntry) or not parsed.intact:
                raise AuditLogError(
                    f"{self.path}: 末条目已损坏或被改动，请运行 audit verify / the last entry is damaged "
                    "or altered; run `nocert-rules audit verify`"
                )

    @property
    def head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the last entry; ``(0, GENESIS)`` for an empty log."""
        last, torn_at = _tail(self.path)
        if torn_at is not None:
            raise AuditLogError(f"{self.path}: 末行不完整 / the last line is torn")
        if last is None:
            return 0, GENESIS
        parsed = _parse_line(last, 0)
        if not isinstance(parsed, LogEntry) or not parsed.intact:
            raise AuditLogError(f"{self.path}: 末条目已损坏 / the last entry is damaged")
        return parsed.seq, parsed.hash

    def append(self, record: AuditRecord) -> LogEntry:
        """Append one record: one full line, flushed and fsynced, chained to the last entry."""
        payload = record.model_dump(mode="json")
        with self._lock, self.path.open("ab") as f:
            if fcntl is not None:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                seq, prev = self.head  # re-read under the lock: another process may have appended
                seq += 1
                digest = entry_hash(seq, prev, payload)
                line = canonical_json({"hash": digest, "prev": prev, "record": payload, "seq": seq}) + b"\n"
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            finally:
                if fcntl is not None:
                    fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        return LogEntry(line=0, seq=seq, prev=prev, hash=digest, record=payload)

    def append_decision(
        self, request: DecisionRequest | dict[str, Any], decision: Decision, *, at: datetime | None = None
    ) -> LogEntry:
        """``append(audit_decision(request, decision, key))``."""
        return self.append(audit_decision(request, decision, self._key, at=at))

    def append_state(self, record: BaseModel, *, at: datetime | None = None) -> LogEntry:
        """``append(audit_state(record))``."""
        return self.append(audit_state(record, at=at))


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
