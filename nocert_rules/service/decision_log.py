"""The decision log (as Open Policy Agent keeps one): one JSON line per decision.

With the host key (``serve --key-file``), the log is an audit log (:class:`AuditedDecisionLog`,
``records.audit.AuditLog``): each line a hash-chained entry MAC'd with HMAC-SHA256 under the key
(``kid``), its record the library's decision audit record (``audit_decision``: the applicant as
keyed hashes) with the service's ``decision_id``; ``nocert-rules audit verify --key-file`` checks
it. Without a key the lines below are written, masked but not authenticated:

Each line: ``decision_id``, ``time`` (UTC), ``ruleset`` (name, version, sha256), ``input`` (the
request as validated) and ``result`` (the Decision). Personal data in ``input`` is replaced by the
masked values the decision itself carries (``applicant.id_masked``, ``name_masked``), so the log
shows exactly what a decision shows and nothing more. Lines are appended with one ``write`` to a
file opened ``O_APPEND``, so several worker processes can share one log.

``GET /v1/explain/{decision_id}`` reads an entry back: from the recent entries kept in memory, or
else by scanning the file.

**Group commit.** Both logs write through one writer thread (:class:`GroupCommit`): the appends
that arrive while the previous batch is being written, or within ``commit_delay`` seconds of the
first of them, are written as one ``write`` and made durable by one ``fsync`` (the audit log: one
checkpoint update too). :meth:`DecisionLog.submit` returns a future that completes only once the
entries are durable (:meth:`~DecisionLog.commit` also takes a :class:`Durable`: an event loop's
future, completed with the answer on its loop, one call per batch); the service answers a
request only then, so an acknowledged decision is in the log whatever happens to the process
after. ``submit`` is :meth:`~DecisionLog.prepare` (the
line, or the audit record: CPU work the service does in its deciding threads, off the event loop)
then :meth:`~DecisionLog.commit` (hand them to the writer).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from nocert_rules.models import Decision, DecisionRequest
from nocert_rules.records.audit import (
    AuditLog,
    AuditLogError,
    canonical_json,
    left_unmasked,
)

RECENT = 2_000
"""How many entries each process keeps in memory for ``explain``."""


MAX_GROUP = 1024  # config.DEFAULT_COMMIT_MAX
"""Most entries written by one write and one fsync."""

Entry = tuple[str, DecisionRequest, Decision]
"""What one decision appends: ``(decision_id, request, decision)``."""


def new_decision_id() -> str:
    """A random (version 4) UUID that the logs' personal-data masking leaves as it is.

    The audit log masks every string it stores (``classify_record``, a safety net even for public
    fields), so an id it altered would be logged masked and an acknowledged ``decision_id`` not
    be found in the log. The mask leaves every UUID alone (one opaque token); an id it would
    alter all the same is drawn again (``left_unmasked``, the log's own check: a lookup for a UUID).
    """
    while True:
        decision_id = uuid4_text(_random_bytes(16))
        if left_unmasked(decision_id):
            return decision_id


def uuid4_text(raw: bytes) -> str:
    """``str(uuid.UUID(bytes=raw, version=4))`` of 16 random bytes, without building the UUID
    (RFC 9562 section 5.4: the version nibble 4, the variant bits ``10``)."""
    b = bytearray(raw)
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_POOL_BYTES = 4096
"""Random bytes each thread draws from ``os.urandom`` at once, for 256 ids."""


class _RandomPool(threading.local):
    """A thread's unused random bytes, and the process that drew them."""

    data = b""
    at = 0
    pid = 0


_pool = _RandomPool()


def _random_bytes(n: int) -> bytes:
    """``n`` bytes of ``os.urandom``, drawn :data:`_POOL_BYTES` at a time per thread: each call of
    ``os.urandom`` lets go of the interpreter lock, and under load the deciding thread then waits
    to get it back (py-spy: 14% of a keyed request's samples in ``uuid4``). Drawn again in a
    forked child, so two processes never share bytes."""
    pool = _pool
    if pool.at + n > len(pool.data) or pool.pid != os.getpid():
        pool.data, pool.at, pool.pid = os.urandom(_POOL_BYTES), 0, os.getpid()
    pool.at += n
    return pool.data[pool.at - n : pool.at]


class Durable(NamedTuple):
    """What a submitter waits on, on an event loop: ``future`` is given ``value`` (on its loop)
    once the submitted entries are durable, or the error that kept them from being so."""

    future: asyncio.Future[Any]
    value: Any

    def settle(self, error: BaseException | None = None) -> None:
        """(On the future's loop.) Give the future its value, or ``error``; a cancelled one (its
        request is gone) is left as it is."""
        if self.future.done():
            return
        if error is None:
            self.future.set_result(self.value)
        else:
            self.future.set_exception(error)


Waiter = Future[None] | Durable


class GroupCommit:
    """One writer thread: entries submitted while a batch is being written (or within ``delay``
    seconds of the first of them) are handed to ``write`` together, at most ``most`` entries
    (:data:`MAX_GROUP`; more when one submitter's entries alone are more).

    ``write(items)`` must make all of ``items`` durable before it returns; each submitter's waiter
    then completes, or fails with what ``write`` raised (a failed waiter was never durable as far
    as anyone was told): a ``concurrent.futures.Future``, or a :class:`Durable` whose future is
    completed on its event loop, one call into each loop per batch (not one wake-up per entry).
    """

    def __init__(self, write: Callable[[list[Any]], None], delay: float = 0.0, most: int = MAX_GROUP) -> None:
        self._write = write
        self._delay = delay
        self._most = most
        self._pending: list[tuple[Sequence[Any], Waiter]] = []
        self._count = 0
        self._cond = threading.Condition()
        self._closed = False
        self.batches = 0
        """Writes done so far (for tests and the benchmark)."""
        self._thread = threading.Thread(target=self._run, name="decision-log-writer", daemon=True)
        self._thread.start()

    def submit(self, items: Sequence[Any], waiter: Waiter | None = None) -> Waiter:
        """Hand ``items`` to the writer; ``waiter`` (a new ``Future`` when None) completes once
        they are durable."""
        if waiter is None:
            waiter = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("the decision log is closed")
            self._pending.append((items, waiter))
            self._count += len(items)
            self._cond.notify()
        return waiter

    def _take(self) -> list[tuple[Sequence[Any], Waiter]] | None:
        with self._cond:
            while not self._pending and not self._closed:
                self._cond.wait()
            if not self._pending:
                return None
            deadline = time.monotonic() + self._delay
            while self._count < self._most and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            taken, size = [], 0
            while self._pending and (not taken or size + len(self._pending[0][0]) <= self._most):
                items, waiter = self._pending.pop(0)
                taken.append((items, waiter))
                size += len(items)
            self._count -= size
            return taken

    def _run(self) -> None:
        while (taken := self._take()) is not None:
            error: BaseException | None = None
            try:
                self._write([item for items, _ in taken for item in items])
            except BaseException as exc:  # noqa: BLE001 - every waiter must hear of it
                error = exc
            else:
                self.batches += 1
            _settle([waiter for _, waiter in taken], error)

    def close(self) -> None:
        """Write what is pending, then stop the writer."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()


def _settle(waiters: list[Waiter], error: BaseException | None) -> None:
    """Complete ``waiters`` (from the writer thread): futures at once, each event loop's in one call."""
    on_loops: dict[asyncio.AbstractEventLoop, list[Durable]] = {}
    for waiter in waiters:
        if isinstance(waiter, Durable):
            on_loops.setdefault(waiter.future.get_loop(), []).append(waiter)
        elif error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)
    for loop, durables in on_loops.items():
        with contextlib.suppress(RuntimeError):  # the loop is closed: no one is waiting any more
            loop.call_soon_threadsafe(_settle_on_loop, durables, error)


def _settle_on_loop(durables: list[Durable], error: BaseException | None) -> None:
    for durable in durables:
        durable.settle(error)


def masked_input(request: DecisionRequest, decision: Decision) -> dict[str, Any]:
    """The request as logged: ID number and name replaced by the decision's masked values."""
    data = request.model_dump(mode="json")
    applicant = data["applicant"]
    applicant["id_number"] = decision.applicant.id_masked
    if applicant.get("name") is not None:
        applicant["name"] = decision.applicant.name_masked
    return data


class DecisionLog:
    """Append-only JSONL decision log with a bounded in-memory index for ``explain``."""

    def __init__(self, path: str | Path, *, commit_delay: float = 0.0, commit_max: int = MAX_GROUP) -> None:
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._recent: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._writer = GroupCommit(self._write, commit_delay, commit_max)

    @property
    def batches(self) -> int:
        """Group writes (one fsync each) done so far."""
        return self._writer.batches

    def line(self, decision_id: str, request: DecisionRequest, decision: Decision) -> str:
        """The entry's line (the decision's JSON is embedded as produced, not re-serialised)."""
        head = json.dumps(
            {
                "decision_id": decision_id,
                "time": datetime.now(UTC).isoformat(),
                "ruleset": decision.ruleset.model_dump(mode="json"),
                "input": masked_input(request, decision),
            },
            ensure_ascii=False,
        )
        return head[:-1] + ', "result": ' + decision.model_dump_json() + "}"

    def prepare(self, entries: Sequence[Entry]) -> list[Any]:
        """What :meth:`commit` writes for ``entries``: ``(decision_id, line)`` each."""
        return [(d, self.line(d, r, x)) for d, r, x in entries]

    def commit(self, prepared: Sequence[Any], waiter: Waiter | None = None) -> Waiter:
        """Append what :meth:`prepare` made; ``waiter`` (a new ``Future`` when None, or a
        :class:`Durable`) completes once it is durable."""
        return self._writer.submit(prepared, waiter)

    def submit(self, entries: Sequence[Entry]) -> Waiter:
        """Append ``entries``; the future completes once they are durable (written, fsynced)."""
        return self.commit(self.prepare(entries))

    def record(self, decision_id: str, request: DecisionRequest, decision: Decision) -> None:
        """Append one entry and wait until it is durable."""
        done: Future[None] = Future()
        self.commit(self.prepare([(decision_id, request, decision)]), done)
        done.result()

    def _write(self, items: list[tuple[str, str]]) -> None:
        data = memoryview("".join(line + "\n" for _, line in items).encode("utf-8"))
        while data:
            data = data[os.write(self._fd, data):]
        os.fsync(self._fd)
        self._remember(items)

    def _remember(self, items: list[tuple[str, Any]]) -> None:
        with self._lock:
            for decision_id, view in items:
                self._recent[decision_id] = view
            while len(self._recent) > RECENT:
                self._recent.popitem(last=False)

    def _recalled(self, decision_id: str) -> Any:
        with self._lock:
            return self._recent.get(decision_id)

    def find(self, decision_id: str) -> dict[str, Any] | None:
        """The entry of ``decision_id``, or None."""
        line = self._recalled(decision_id)
        if line is not None:
            return json.loads(line)
        needle = f'"decision_id": "{decision_id}"'
        with self.path.open(encoding="utf-8", errors="replace") as f:
            for text in f:
                if needle in text:
                    try:
                        entry = json.loads(text)
                    except ValueError:
                        continue  # a torn last line
                    if entry.get("decision_id") == decision_id:
                        return entry
        return None

    def close(self) -> None:
        """Write what is pending, then close the file."""
        self._writer.close()
        os.close(self._fd)


class AuditedDecisionLog(DecisionLog):
    """The decision log as an audit log (``records.audit.AuditLog``): the same interface as
    :class:`DecisionLog` (``submit``, ``record``, ``find``, ``close``).

    Each decision is ``audit_decision(request, decision, key)`` with ``decision_id`` added to its
    outcome, classified and serialised where it is prepared (``AuditLog.prepare``, in the deciding
    thread); a group of them is appended (chained, MAC'd, one write, one fsync, one checkpoint
    update) under the log's lock and ``flock`` (``AuditLog.append_prepared``), so several worker
    processes may share one log and one ``head_file``. The recent entries are kept as their
    stored lines (bytes: nothing for the garbage collector to walk), parsed when asked for. A torn last fragment (a process killed in
    the middle of a write, before anything in it was acknowledged) is cut at start. ``find``
    returns the entry as ``{"decision_id", "seq", "hash", "kid", "record"}``.
    """

    def __init__(
        self,
        path: str | Path,
        key: bytes,
        *,
        head_file: str | Path | None = None,
        previous_keys: tuple[bytes, ...] = (),
        commit_delay: float = 0.0,
        commit_max: int = MAX_GROUP,
    ) -> None:
        self.path = Path(path)
        self._key = key
        self._log = AuditLog(self.path, key, head_file=head_file, previous_keys=previous_keys,
                             repair_torn_tail=True)
        self._recent = OrderedDict()
        self._lock = threading.Lock()
        self._writer = GroupCommit(self._write_audited, commit_delay, commit_max)

    @property
    def key_id(self) -> str:
        return self._log.key_id

    def prepare(self, entries: Sequence[Entry]) -> list[Any]:
        """The decisions' audit records, each carrying its ``decision_id`` in its outcome, ready
        to chain (``AuditLog.prepare``: classified, serialised): ``(decision_id, prepared)`` each.

        An id the log's scan would alter (``left_unmasked``: a public string is written as that
        scan leaves it) is refused here, before anything is written or acknowledged."""
        items = []
        for decision_id, request, decision in entries:
            if not left_unmasked(decision_id):
                raise AuditLogError("决定编号在日志中会被改写 / the decision_id would be altered on its way into the log")
            items.append((decision_id, self._log.prepare_decision(request, decision, outcome_extra={"decision_id": decision_id})))
        return items

    def _write_audited(self, items: list[tuple[str, Any]]) -> None:
        written = self._log.append_prepared([prepared for _, prepared in items])
        self._remember([(decision_id, w.line) for (decision_id, _), w in zip(items, written, strict=True)])

    def find(self, decision_id: str) -> dict[str, Any] | None:
        """The entry of ``decision_id``, or None (recent ones from memory, else from the file)."""
        line = self._recalled(decision_id)
        if line is not None:
            return _view(decision_id, line)
        needle = canonical_json({"decision_id": decision_id})[1:-1].decode("utf-8")
        with self.path.open(encoding="utf-8", errors="replace") as f:
            for text in f:
                if needle in text and (view := _view(decision_id, text)) is not None:
                    return view
        return None

    def close(self) -> None:
        """Write what is pending, then stop the writer (every append opens and closes the file)."""
        self._writer.close()


def _view(decision_id: str, line: str | bytes) -> dict[str, Any] | None:
    """The entry of ``decision_id`` as ``explain`` answers it, from its stored line; None when the
    line is not that entry (another's, or torn)."""
    try:
        entry = json.loads(line)
        record = entry["record"]
        if record["outcome"]["decision_id"] == decision_id:
            return {"decision_id": decision_id, "seq": entry["seq"], "hash": entry["hash"], "kid": entry["kid"],
                    "record": record}
    except (ValueError, KeyError, TypeError):
        pass
    return None
