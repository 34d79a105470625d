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

**Anchoring the head.** A chain alone cannot show that entries were removed *at the end* (a
shorter prefix is a valid chain), nor a whole file rewritten with a recomputed chain (the hash is
not keyed). Give :func:`verify_log` what was known before: ``expect_head`` (a head hash stored
elsewhere, e.g. ``AuditLog.head`` after an append), ``min_records`` (the log must reach that seq)
or ``head_file`` (a checkpoint written by ``AuditLog(..., head_file=...)``). A log that no longer
reaches the expected seq is reported as ``truncated``; one whose chain does not contain the
expected head as ``head-mismatch``. The anchor must be *in* the chain: entries appended after it
are accepted. A checkpoint on the same disk as the log only detects accidental truncation
(whoever can edit the log can edit it too); a copy kept elsewhere also detects tampering.

**Writes.** ``AuditLog.append`` opens the file in append mode, writes one full line, flushes
and ``os.fsync``s, under a ``threading.Lock`` and, on POSIX, an exclusive ``fcntl.flock`` on the
file, re-reading the last entry under the lock: several processes on one host may append to
one log. Without ``fcntl`` (Windows), or on network filesystems where ``flock`` is not honoured,
use one writer process per file or an external lock.

**Torn tail.** A crash mid-write can leave a last line without its newline: only such an
*unterminated* last line is torn. :func:`verify_log` reports it as ``torn_tail=True`` and
verifies the intact prefix. ``AuditLog`` refuses to open such a log (:class:`AuditLogError`)
unless asked to repair it (``AuditLog(path, key, repair_torn_tail=True)``), which truncates
exactly the torn last line (an append that never returned) and nothing else. A complete,
newline-terminated line that is not a valid entry is never a torn write: :func:`verify_log`
reports it as ``malformed`` and ``AuditLog`` refuses to open the log, repair or not.

**Head checkpoint.** ``AuditLog(path, key, head_file=FILE)`` keeps ``{"hash", "seq"}`` of the
last entry in ``FILE`` (written to a temporary file, fsynced, then ``os.replace``d, under the
log's lock), and refuses to open or append to a log that no longer reaches its checkpoint.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field

from nocert_rules.errors import NocertError
from nocert_rules.models import (
    SHANGHAI,
    Decision,
    DecisionRequest,
    RulesetStamp,
    ShanghaiDatetime,
    parse_request,
)
from nocert_rules.privacy import keyed_hash

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
    "read_head_file",
    "verify_log",
]

GENESIS = "0" * 64
MIN_KEY_BYTES = 16


class AuditLogError(NocertError):
    """The audit log cannot be appended to (torn tail, tampered last entry, truncated log, bad
    key), or a head checkpoint file is not one."""


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


ProblemKind = Literal["malformed", "edited", "removed", "inserted", "reordered", "truncated", "head-mismatch"]


class LogProblem(BaseModel):
    """Something wrong at a line: ``kind`` is malformed, edited, removed, inserted, reordered,
    truncated or head-mismatch.

    For ``truncated`` (the log does not reach the expected seq) and ``head-mismatch`` (the
    expected head hash is not in the chain), ``line`` is the last intact line (0 when there is
    none).
    """

    model_config = ConfigDict(frozen=True)

    line: int
    kind: ProblemKind
    message: str


class LogVerification(BaseModel):
    """The result of :func:`verify_log`.

    ``ok``: no problem and no torn tail. ``records``: well-formed entries read (the torn tail
    excluded). ``head``, ``head_seq``, ``head_line``: the hash, seq and line of the last entry of
    the verified chain (anchor the hash elsewhere). ``anchored``: an expected head, minimum
    record count or head checkpoint was given, and the log matched it.
    """

    model_config = ConfigDict(frozen=True)

    path: str
    ok: bool
    records: int
    problems: list[LogProblem]
    torn_tail: bool
    torn_line: int | None = None
    head: str | None = None
    head_seq: int = 0
    head_line: int | None = None
    anchored: bool = False


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


def verify_log(
    path: str | Path,
    expect_head: str | None = None,
    min_records: int | None = None,
    *,
    head_file: str | Path | None = None,
) -> LogVerification:
    """Check every entry's hash and link; name each edited, removed, inserted or reordered entry.

    ``expect_head``: a head hash stored elsewhere; it must be the hash of an entry of the chain
    (entries appended after it are fine), else a ``head-mismatch`` problem. ``min_records``: the
    chain must reach that seq, else a ``truncated`` problem naming the last intact line.
    ``head_file``: a checkpoint written by ``AuditLog(..., head_file=...)``: both at once.

    Raises ``OSError`` when the log or the checkpoint is missing or unreadable (the CLI exits 2),
    :class:`AuditLogError` when ``expect_head`` or the checkpoint is not a head.
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
    data = Path(path).read_bytes()
    lines, unterminated = _split(data)
    problems: list[LogProblem] = []
    entries: list[LogEntry] = []
    torn_line: int | None = None
    for i, raw in enumerate(lines, start=1):
        if unterminated and i == len(lines):
            # no newline: an append that never returned (a crash mid-write); the prefix is
            # verified without it. A newline-terminated bad line is never a torn write.
            torn_line = i
            break
        parsed = _parse_line(raw, i)
        if isinstance(parsed, LogEntry):
            entries.append(parsed)
        else:
            problems.append(LogProblem(line=i, kind="malformed", message=parsed))
    head_entry = _check_chain(entries, problems, {p.line for p in problems})
    head_seq = head_entry.seq if head_entry is not None else 0
    head_line = head_entry.line if head_entry is not None else None
    anchored = bool(anchors) or min_records is not None
    if anchored:
        before = len(problems)
        _check_anchors(entries, head_entry, anchors, expected_seq, problems)
        anchored = len(problems) == before
    problems.sort(key=lambda p: p.line)
    return LogVerification(
        path=str(path),
        ok=not problems and torn_line is None,
        records=len(entries),
        problems=problems,
        torn_tail=torn_line is not None,
        torn_line=torn_line,
        head=head_entry.hash if head_entry is not None else None,
        head_seq=head_seq,
        head_line=head_line,
        anchored=anchored and not problems and torn_line is None,
    )


def _last_intact(head: LogEntry | None) -> str:
    if head is None:
        return "日志中没有完好的条目 / the log has no intact entry"
    return f"最后完好的条目：第 {head.line} 行（序号 {head.seq}） / last intact entry: line {head.line} (seq {head.seq})"


def _check_anchors(
    entries: list[LogEntry],
    head: LogEntry | None,
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
    hashes = {e.hash: e for e in entries if e.intact}
    for digest, seq, source_zh, source in anchors:
        if digest == GENESIS or digest in hashes:
            found = hashes.get(digest)
            if seq is None or found is None or found.seq == seq:
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


def _check_chain(entries: list[LogEntry], problems: list[LogProblem], malformed: set[int]) -> LogEntry | None:
    """Walk the chain; append a LogProblem for every break. Returns the head entry.

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
    return accepted[-1] if accepted else None


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


def read_head_file(path: str | Path) -> tuple[int, str]:
    """``(seq, hash)`` from a head checkpoint written by ``AuditLog(..., head_file=...)``.

    Raises ``OSError`` when it is missing or unreadable, :class:`AuditLogError` when it is not a
    checkpoint (one JSON object ``{"hash": <64 hex>, "seq": <int >= 0>}``).
    """
    raw = Path(path).read_bytes()
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


class AuditLog:
    """An append-only, hash-chained JSONL audit log. See the module documentation.

    ``key`` pseudonymises people in :meth:`append_decision` (``keyed_hash``); keep it secret and
    stable (changing it unlinks old records from new ones, which never breaks the chain).

    ``head_file``: a checkpoint file kept up to date with the last entry's hash and seq after
    each append (atomically, under the log's lock). The log is refused (:class:`AuditLogError`)
    when it no longer reaches the checkpoint (entries removed from the end) or its chain does not
    contain the checkpoint's hash; a missing checkpoint is (re)started from the current head.
    """

    def __init__(
        self,
        path: str | Path,
        key: bytes,
        *,
        repair_torn_tail: bool = False,
        head_file: str | Path | None = None,
    ) -> None:
        self.path = Path(path)
        self._key = _check_key(key)
        self._lock = threading.Lock()
        self.head_file = Path(head_file) if head_file is not None else None
        if not self.path.exists():
            if self.head_file is not None:
                self._check_checkpoint(None)  # a checkpoint past seq 0 but no log: refused
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
            _fsync_dir(self.path.parent)
        with self._locked():
            self._check_tail(repair_torn_tail)
            if self.head_file is not None:
                last = self._last_entry()
                if self._check_checkpoint(last):
                    self.head_file.parent.mkdir(parents=True, exist_ok=True)
                    _write_head_file(self.head_file, *_seq_hash(last))

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

    def _check_tail(self, repair: bool) -> None:
        """Refuse a damaged last entry; truncate an unterminated (torn) last line if asked.

        Only a last line without its newline is torn. The last newline-terminated line is checked
        first: when it is not an intact entry the log is refused, and nothing is truncated.
        """
        last, torn_at = _tail(self.path)
        if last is not None:
            parsed = _parse_line(last, 0)
            if not isinstance(parsed, LogEntry):
                raise AuditLogError(
                    f"{self.path}: 末行完整（以换行结尾）却不是日志条目：不是写入中断，而是被改动或损坏；"
                    "不会自动截去，请运行 audit verify / the last complete (newline-terminated) line is "
                    "not a log entry: not an interrupted write but tampering or damage. It is never "
                    "truncated automatically (repair_torn_tail only cuts an unterminated last line); "
                    "run `nocert-rules audit verify`"
                )
            if not parsed.intact:
                raise AuditLogError(
                    f"{self.path}: 末条目已损坏或被改动，请运行 audit verify / the last entry is damaged "
                    "or altered; run `nocert-rules audit verify`"
                )
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

    def _last_entry(self) -> LogEntry | None:
        """The last entry; None for an empty log. Raises on a torn or damaged tail."""
        last, torn_at = _tail(self.path)
        if torn_at is not None:
            raise AuditLogError(f"{self.path}: 末行不完整 / the last line is torn")
        if last is None:
            return None
        parsed = _parse_line(last, 0)
        if not isinstance(parsed, LogEntry) or not parsed.intact:
            raise AuditLogError(f"{self.path}: 末条目已损坏 / the last entry is damaged")
        return parsed

    def _check_checkpoint(self, last: LogEntry | None) -> bool:
        """Raise when the log does not reach the head checkpoint; True when it needs writing."""
        assert self.head_file is not None
        try:
            cp_seq, cp_hash = read_head_file(self.head_file)
        except FileNotFoundError:
            return True
        seq, digest = _seq_hash(last)
        where = f"{self.path}（检查点 / checkpoint {self.head_file}）"
        if seq < cp_seq:
            raise AuditLogError(
                f"{where}: 日志只到序号 {seq}，检查点为 {cp_seq}：末尾的条目被删除，请运行 audit verify / "
                f"the log ends at seq {seq} but the checkpoint is at seq {cp_seq}: entries were "
                "removed from the end (truncated); run `nocert-rules audit verify --head-file`"
            )
        if seq == cp_seq and digest == cp_hash:
            return False
        if cp_seq == 0 or (last is not None and seq == cp_seq + 1 and last.prev == cp_hash):
            return True  # later appends (e.g. a crash between the append and the checkpoint)
        if seq > cp_seq and any(
            isinstance(e, LogEntry) and e.seq == cp_seq and e.hash == cp_hash and e.intact
            for e in read_entries(self.path)
        ):
            return True
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
        """Append one record: one full line, flushed and fsynced, chained to the last entry.

        With a ``head_file``, the checkpoint is checked first and replaced after the line is
        fsynced (both under the lock).
        """
        payload = record.model_dump(mode="json")
        with self._locked() as f:
            last = self._last_entry()  # re-read under the lock: another process may have appended
            if self.head_file is not None:
                self._check_checkpoint(last)
            seq, prev = _seq_hash(last)
            seq += 1
            digest = entry_hash(seq, prev, payload)
            line = canonical_json({"hash": digest, "prev": prev, "record": payload, "seq": seq}) + b"\n"
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
            if self.head_file is not None:
                try:
                    _write_head_file(self.head_file, seq, digest)
                except OSError as exc:
                    raise AuditLogError(
                        f"{self.path}: 条目（序号 {seq}）已写入，但检查点 {self.head_file} 未能更新 / entry "
                        f"seq {seq} was written, but the head checkpoint could not be updated: {exc}"
                    ) from exc
        return LogEntry(line=0, seq=seq, prev=prev, hash=digest, record=payload)

    def append_decision(
        self, request: DecisionRequest | dict[str, Any], decision: Decision, *, at: datetime | None = None
    ) -> LogEntry:
        """``append(audit_decision(request, decision, key))``."""
        return self.append(audit_decision(request, decision, self._key, at=at))

    def append_state(self, record: BaseModel, *, at: datetime | None = None) -> LogEntry:
        """``append(audit_state(record))``."""
        return self.append(audit_state(record, at=at))


def _seq_hash(entry: LogEntry | None) -> tuple[int, str]:
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
