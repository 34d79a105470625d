"""Writing: :class:`AuditLog`, one fsynced, chained, MAC'd line per append under a thread lock and
``fcntl.flock``; the end of the log (:mod:`~nocert_rules.records.audit.repair`) and the head
checkpoint are checked before anything is written.

The last entry is read back and checked (hash, MAC) before each append unless the file still ends
with exactly the bytes this log wrote last (:class:`_Tail`: same size, and those bytes read again
compare equal): then it is the entry this log made, already known, and re-parsing it would only
cost time (about 0.5 ms a group). Another writer's append, a cut or an edit of the last line
changes size or bytes, and the end is read and checked as before.

An append's CPU work (classifying and serialising the record, :meth:`AuditLog.prepare`) needs no
lock; :meth:`AuditLog.append_prepared` chains and writes records so prepared, and ``append_many``
is the two in one."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel

from nocert_rules.models import Decision, DecisionRequest
from nocert_rules.records.audit.checkpoint import fsync_dir, remove_stale_temps, write_head_file
from nocert_rules.records.audit.entry import (
    AuditLogError,
    LogEntry,
    RawEntry,
    Written,
    canonical_json,
    chained_line,
    key_id,
)
from nocert_rules.records.audit.keys import audit_mac_key, check_key, mac_keys_by_kid
from nocert_rules.records.audit.record import (
    AuditRecord,
    audit_state,
    classify_record,
    decision_record_json,
)
from nocert_rules.records.audit.repair import check_checkpoint, last_entry, open_tail, seq_hash

try:  # POSIX only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class _Tail(NamedTuple):
    """What this log wrote last: the last entry (its line's bytes with the newline) and where that
    line starts."""

    offset: int
    entry: Written

    def still_last(self, fd: int, size: int) -> bool:
        """Whether the file ``fd`` (``size`` bytes long) still ends with exactly that line."""
        line = self.entry.line
        return size == self.offset + len(line) and os.pread(fd, len(line), self.offset) == line


class Prepared(NamedTuple):
    """A record as :meth:`AuditLog.append_prepared` writes it: classified
    (:func:`classify_record`: people as keyed hashes, free text masked) and serialised
    (:func:`canonical_json`). Made by :meth:`AuditLog.prepare`, outside the log's lock."""

    record_json: bytes


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
        self._key = check_key(key)
        self._mac_key = audit_mac_key(self._key)
        self._kid = key_id(self._mac_key)
        self._mac_keys = mac_keys_by_kid([*previous_keys, self._key])
        self._lock = threading.Lock()
        self._tail: _Tail | None = None
        self.head_file = Path(head_file) if head_file is not None else None
        if not self.path.exists():
            if self.head_file is not None:
                check_checkpoint(self.path, self.head_file, None)  # a checkpoint past seq 0 but no log: refused
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
            fsync_dir(self.path.parent)
        with self._locked():
            if self.head_file is not None:
                remove_stale_temps(self.head_file)
            open_tail(self.path, self._mac_keys, self.head_file, repair_torn_tail)

    @property
    def key_id(self) -> str:
        """The ``kid`` this log writes (hand the auditor ``audit_mac_key(key)``)."""
        return self._kid

    @contextlib.contextmanager
    def _locked(self) -> Iterator[int]:
        """The thread lock and, on POSIX, an exclusive ``flock`` on the log, opened as a raw
        descriptor to append and read (:meth:`_Tail.still_last` reads the end back): one system
        call to open, none to seek or buffer (each call lets another thread take the GIL, and the
        writer waits to get it back)."""
        with self._lock:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    yield fd
                finally:
                    if fcntl is not None:
                        fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    @property
    def head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the last entry; ``(0, GENESIS)`` for an empty log."""
        return seq_hash(last_entry(self.path, self._mac_keys))

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
        written = self._append([canonical_json(payload) for payload in payloads])
        return [LogEntry(line=0, seq=w.seq, prev=w.prev, hash=w.hash, kid=self._kid, mac=w.mac, record=payload)
                for w, payload in zip(written, payloads, strict=True)]

    def prepare(self, record: AuditRecord) -> Prepared:
        """``record`` classified and serialised as it will be written (no lock taken: the CPU work of
        an append, done wherever the caller likes)."""
        return Prepared(canonical_json(classify_record(record.model_dump(mode="json"), self._key)))

    def append_prepared(self, prepared: Sequence[Prepared]) -> list[Written]:
        """:meth:`append_many` of records made ready by :meth:`prepare`: chained, one write, one
        fsync, one checkpoint update; each entry's place in the chain, MAC and stored line."""
        return self._append([p.record_json for p in prepared])

    def _append(self, records_json: Sequence[bytes]) -> list[Written]:
        """Chain, MAC, write and fsync the records (canonical JSON of classified payloads), then
        update the checkpoint: all under the lock."""
        entries: list[Written] = []
        with self._locked() as fd:
            last, end = self._last(fd)
            if self.head_file is not None:
                check_checkpoint(self.path, self.head_file, last)
            seq, prev = seq_hash(last)
            for record_json in records_json:
                seq += 1
                line, digest, mac = chained_line(seq, prev, record_json, self._mac_key, self._kid)
                entries.append(Written(seq, prev, digest, mac, line))
                prev = digest
            self._tail = None  # until the lines are durable
            data = memoryview(b"".join(entry.line for entry in entries))
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
            if entries:
                self._tail = _Tail(end + sum(len(entry.line) for entry in entries[:-1]), entries[-1])
            if self.head_file is not None and entries:
                try:
                    write_head_file(self.head_file, seq, prev)
                except OSError as exc:
                    raise AuditLogError(
                        f"{self.path}: 条目（序号 {seq}）已写入，但检查点 {self.head_file} 未能更新 / entry "
                        f"seq {seq} was written, but the head checkpoint could not be updated: {exc}"
                    ) from exc
        return entries

    def _last(self, fd: int) -> tuple[RawEntry | Written | None, int]:
        """The last entry and the file's size, under the lock: the entry this log wrote last when
        the file still ends with it, else read back and checked (another process may have
        appended, or the end changed)."""
        size = os.fstat(fd).st_size
        tail = self._tail
        if tail is not None and tail.still_last(fd, size):
            return tail.entry, size
        self._tail = None
        return last_entry(self.path, self._mac_keys), size

    def prepare_decision(
        self,
        request: DecisionRequest | dict[str, Any],
        decision: Decision,
        *,
        at: datetime | None = None,
        outcome_extra: Mapping[str, Any] | None = None,
    ) -> Prepared:
        """:meth:`prepare` of ``audit_decision(request, decision, key, at=at)`` (``outcome_extra``
        added to its outcome): the same bytes, built by parts (:func:`decision_record_json`)."""
        return Prepared(decision_record_json(request, decision, self._key, at=at, outcome_extra=outcome_extra))

    def append_decision(
        self, request: DecisionRequest | dict[str, Any], decision: Decision, *, at: datetime | None = None
    ) -> LogEntry:
        """``append(audit_decision(request, decision, key))``, through :meth:`prepare_decision`."""
        prepared = self.prepare_decision(request, decision, at=at)
        w = self.append_prepared([prepared])[0]
        return LogEntry(line=0, seq=w.seq, prev=w.prev, hash=w.hash, kid=self._kid, mac=w.mac,
                        record=json.loads(prepared.record_json))

    def append_state(self, record: BaseModel, *, at: datetime | None = None) -> LogEntry:
        """``append(audit_state(record))``."""
        return self.append(audit_state(record, at=at))
