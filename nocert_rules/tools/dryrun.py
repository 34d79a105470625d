"""The dry-run: decide every case of a case file and summarise, in flat memory.

Nothing grows with the number of cases: cases are read in chunks, each chunk is decided and
folded into a :class:`Summary` of counters, and per-case results (``--out``) are written as
they come. With ``jobs > 1`` chunks go to worker processes (``multiprocessing``, spawn), dealt
round-robin over one private pipe each and collected in the same order, with back-pressure (at
most ``4 x jobs`` chunks in flight); each worker loads the exact ruleset (``RulesetSnapshot``) and
builds its own :class:`~nocert_rules.engine.core.Engine` once. Every chunk takes one path,
``Engine.decide_many``, with ``--out`` or without. The summary and ``--out`` are the same whatever
``jobs`` is. While a run decides, the cycle collector is tuned for it (``bulk_gc``).

The summary counts methods (三(三)1-3), issuing unit x method (出具单位), pledges blocked and
by which rule (国办发〔2020〕42号; 三(五)3), the spread of deadlines (附件2 第七条; 三(三)2),
warnings, malformed rows and ``expected_method`` mismatches. Personal data appears only as the
Decision masks it; case ids that look like ID numbers are masked too.
"""

from __future__ import annotations

import gc
import json
import math
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain, islice
from typing import IO, Any

from nocert_rules.enums import Method
from nocert_rules.errors import NocertError
from nocert_rules.models import Decision
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.policy.snapshot import RulesetSnapshot
from nocert_rules.tools.casefile import (
    Case,
    CaseReader,
    Format,
    RawCase,
    apply_as_of,
    method_names,
    parse_raw,
    redact,
    safe_case_id,
)

SAMPLE_LIMIT = 100
"""How many malformed rows and mismatches are kept for listing (all are counted)."""

CHUNK_SIZE = 500
DAY_MEMO = 8192
"""Date-only deadlines and days' validity the dry-run's engine keeps (cases span years; the
engine's default is small, for hosts deciding today's requests)."""
SPREAD_MEMO = 65_536
"""Deadline spreads (working minutes, calendar hours) a dry-run keeps by request and due time."""
_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)
UNKNOWN_MEMO = 8192
"""Nearest-code answers the dry-run's engine keeps for unknown codes (a case file repeats its
mistyped codes; the engine's default is small, for hosts deciding one request at a time)."""
FIRED_MEMO = 65_536
"""durable_rules firings the dry-run's engine keeps (``Engine(fired_memo=)``)."""
NOT_LISTED = "（不在清单 / not listed）"
"""The issuer column of decisions without a row."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """A decision as the dry-run summary counts it (``Summary.add_decision``)."""

    method: Method
    listed: bool
    unknown: str | None  # "service_item" or "certificate" when not listed, else None
    must_submit: bool
    issuer: str
    pledge_blocked_by: tuple[str, ...]
    deadline: tuple[str, str, str] | None  # (kind, rule, clause)
    due_at: datetime | None
    warnings: tuple[str, ...]


def outcome_of(decision: Decision, ruleset: Ruleset) -> Outcome:
    """What ``Summary`` counts of ``decision``."""
    unknown = None
    if not decision.listed:
        unknown = "certificate" if decision.service_item in ruleset.service_items else "service_item"
    d = decision.deadline
    return Outcome(
        method=decision.method,
        listed=decision.listed,
        unknown=unknown,
        must_submit=decision.applicant_must_submit,
        issuer=decision.issuer or NOT_LISTED,
        pledge_blocked_by=tuple(
            s.rule_id for s in decision.trace if s.effect == "block" and s.method is Method.PLEDGE
        ),
        deadline=(d.kind, d.rule, d.clause) if d is not None else None,
        due_at=d.due_at if d is not None else None,
        warnings=tuple(decision.warnings),
    )


@dataclass
class Summary:
    """Counters over decided cases; ``merge`` adds another summary (in case order)."""

    rows: int = 0
    decided: int = 0
    malformed: int = 0
    listed: int = 0
    unknown_service_items: int = 0  # decided cases whose service item has no row
    unknown_certificates: int = 0  # decided cases whose certificate is not listed under a known item
    must_submit: int = 0
    methods: Counter[str] = field(default_factory=Counter)
    issuer_methods: Counter[tuple[str, str]] = field(default_factory=Counter)
    pledge_blocked_cases: int = 0
    pledge_blocked_by_rule: Counter[str] = field(default_factory=Counter)
    # (kind, rule, clause) -> Counter(working minutes until due) / Counter(calendar hours, ceil)
    deadline_minutes: dict[tuple[str, str, str], Counter[int]] = field(default_factory=dict)
    deadline_hours: dict[tuple[str, str, str], Counter[int]] = field(default_factory=dict)
    warnings: Counter[str] = field(default_factory=Counter)
    expected_checked: int = 0
    mismatched: int = 0
    mismatch_samples: list[dict[str, Any]] = field(default_factory=list)
    error_samples: list[dict[str, Any]] = field(default_factory=list)

    # ------------------------------------------------------------------ adding

    def add_error(self, case: Case, reason: str) -> None:
        self.rows += 1
        self.malformed += 1
        if len(self.error_samples) < SAMPLE_LIMIT:
            self.error_samples.append(
                {"line": case.line, "case_id": safe_case_id(case.case_id), "reason": redact(reason)}
            )

    def add_decision(self, case: Case, decision: Decision, ruleset: Ruleset,
                     spreads: dict[tuple[datetime, datetime], tuple[int, int]] | None = None) -> None:
        """Count one decided case (``spreads``: ``add_deadline``'s memo)."""
        outcome = outcome_of(decision, ruleset)
        self.count_outcome(outcome, 1)
        if outcome.deadline is not None:
            self.add_deadline(outcome, decision.requested_at, ruleset, spreads)
        if case.expected_method is not None:
            self.add_expected(case.line, case.case_id, case.expected_method, outcome.method)

    def count_outcome(self, outcome: Outcome, n: int) -> None:
        """Count ``n`` decided cases of one outcome: everything but what goes by the case
        (the time to the deadline, the expected method)."""
        self.rows += n
        self.decided += n
        method = outcome.method.value
        self.methods[method] += n
        if outcome.listed:
            self.listed += n
        elif outcome.unknown == "certificate":
            self.unknown_certificates += n
        else:
            self.unknown_service_items += n
        if outcome.must_submit:
            self.must_submit += n
        self.issuer_methods[(outcome.issuer, method)] += n
        if outcome.pledge_blocked_by:
            self.pledge_blocked_cases += n
            for rule in outcome.pledge_blocked_by:
                self.pledge_blocked_by_rule[rule] += n
        for text in outcome.warnings:
            self.warnings[text] += n

    def add_deadline(self, outcome: Outcome, requested_at: datetime, ruleset: Ruleset,
                     spreads: dict[tuple[datetime, datetime], tuple[int, int]] | None = None) -> None:
        """The spread of one case's deadline: working minutes and calendar hours until due.
        ``spreads``: a memo of them by (request time, due time), kept by the caller across
        chunks (both depend on the two instants alone)."""
        key = outcome.deadline
        due_at = outcome.due_at
        assert key is not None and due_at is not None
        pair = (requested_at, due_at)
        spread = spreads.get(pair) if spreads is not None else None
        if spread is None:
            working = ruleset.calendar.working_time_between(requested_at, due_at)
            spread = (round(working / _MINUTE), math.ceil((due_at - requested_at) / _HOUR))
            if spreads is not None:
                if len(spreads) >= SPREAD_MEMO:
                    spreads.clear()
                spreads[pair] = spread
        self.deadline_minutes.setdefault(key, Counter())[spread[0]] += 1
        self.deadline_hours.setdefault(key, Counter())[spread[1]] += 1

    def add_expected(self, line: int, case_id: str | None, expected: Method, got: Method) -> None:
        """One case's expected method against the method decided (a mismatch is kept as a sample)."""
        self.expected_checked += 1
        if expected is not got:
            self.mismatched += 1
            if len(self.mismatch_samples) < SAMPLE_LIMIT:
                self.mismatch_samples.append(
                    {"line": line, "case_id": safe_case_id(case_id), "expected": expected.value, "got": got.value}
                )

    def shift_lines(self, offset: int) -> None:
        """Add ``offset`` to the line numbers of the samples (a partition decided on its own)."""
        for sample in (*self.error_samples, *self.mismatch_samples):
            sample["line"] += offset

    def merge(self, other: Summary) -> None:
        for name in ("rows", "decided", "malformed", "listed", "unknown_service_items", "unknown_certificates",
                     "must_submit",
                     "pledge_blocked_cases", "expected_checked", "mismatched"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.methods.update(other.methods)
        self.issuer_methods.update(other.issuer_methods)
        self.pledge_blocked_by_rule.update(other.pledge_blocked_by_rule)
        self.warnings.update(other.warnings)
        for mine, theirs in ((self.deadline_minutes, other.deadline_minutes),
                             (self.deadline_hours, other.deadline_hours)):
            for key, counter in theirs.items():
                mine.setdefault(key, Counter()).update(counter)
        room = SAMPLE_LIMIT - len(self.mismatch_samples)
        self.mismatch_samples.extend(other.mismatch_samples[: max(room, 0)])
        room = SAMPLE_LIMIT - len(self.error_samples)
        self.error_samples.extend(other.error_samples[: max(room, 0)])

    # ------------------------------------------------------------------ reporting

    def to_dict(self, ruleset: Ruleset) -> dict[str, Any]:
        """The summary as plain JSON-able data (what ``--json`` prints and the report draws)."""
        rule_reason = {r.id: r.reason for r in ruleset.rules}
        order = [m.value for m in ruleset.manifest.method_order]
        issuers: dict[str, dict[str, int]] = {}
        for (issuer, method), n in self.issuer_methods.items():
            issuers.setdefault(issuer, {})[method] = n
        deadlines = []
        for key in sorted(self.deadline_minutes, key=lambda k: (k[0], -sum(self.deadline_minutes[k].values()), k[1])):
            kind, rule, clause = key
            minutes = self.deadline_minutes[key]
            hours = self.deadline_hours[key]
            deadlines.append(
                {
                    "kind": kind,
                    "rule": rule,
                    "clause": clause,
                    "count": sum(minutes.values()),
                    "working_minutes": _spread(minutes),
                    "calendar_hours": _spread(hours),
                }
            )
        return {
            "ruleset": {"name": ruleset.name, "version": ruleset.version, "sha256": ruleset.sha256},
            "rows": self.rows,
            "decided": self.decided,
            "malformed": self.malformed,
            "listed": self.listed,
            "not_listed": self.decided - self.listed,
            "unknown_service_items": self.unknown_service_items,
            "unknown_certificates": self.unknown_certificates,
            "applicant_must_submit": self.must_submit,
            "methods": {m: self.methods[m] for m in order if self.methods[m]},
            "issuers": [
                {
                    "issuer": issuer,
                    "total": sum(counts.values()),
                    "methods": {m: counts[m] for m in order if counts.get(m)},
                }
                for issuer, counts in sorted(issuers.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
            ],
            "pledge_blocked": {
                "cases": self.pledge_blocked_cases,
                "by_rule": [
                    {"rule": rule, "reason": rule_reason.get(rule, ""), "count": n}
                    for rule, n in sorted(self.pledge_blocked_by_rule.items(), key=lambda kv: (-kv[1], kv[0]))
                ],
            },
            "deadlines": deadlines,
            "warnings": [
                {"text": text, "count": n}
                for text, n in sorted(self.warnings.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "expected": {
                "checked": self.expected_checked,
                "matched": self.expected_checked - self.mismatched,
                "mismatched": self.mismatched,
                "mismatches": self.mismatch_samples,
            },
            "errors": {"count": self.malformed, "rows": self.error_samples},
        }


def _spread(counter: Counter[int]) -> dict[str, float | int]:
    """min / median (lower) / max of a counter of integer values."""
    keys = sorted(counter)
    total = sum(counter.values())
    target = (total + 1) // 2
    seen = 0
    median = keys[0]
    for k in keys:
        seen += counter[k]
        if seen >= target:
            median = k
            break
    return {"min": keys[0], "median": median, "max": keys[-1]}


# ------------------------------------------------------------------ deciding chunks


@dataclass
class _WorkerState:
    ruleset: Ruleset
    engine: Any
    as_of: datetime | None
    want_out: bool
    spreads: dict[tuple[datetime, datetime], tuple[int, int]] = field(default_factory=dict)
    """``Summary.add_deadline``'s memo, kept across chunks."""
    names: dict[str, Method] = field(init=False)
    """The texts ``expected_method`` may give (``casefile.method_names`` of the ruleset's wording)."""

    def __post_init__(self) -> None:
        self.names = method_names(self.ruleset.manifest.wording)


_STATE: _WorkerState | None = None
_INIT_ERROR: tuple[str, int] | None = None


class DryRunInterrupted(NocertError):
    """The run was asked to stop (``stop`` was set, e.g. on SIGINT) before the end."""

    exit_code = 130

    def __init__(self, rows: int) -> None:
        super().__init__(f"已中断 / interrupted after {rows:,} cases")
        self.rows = rows


class WorkerError(NocertError):
    """A worker process could not start, or died (e.g. a crash in the rules engine)."""

    exit_code = 3  # the CLI's "internal error"

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


def _engine(ruleset: Ruleset, options: dict[str, Any] | None = None) -> Any:
    """The engine of a run: the plain ``Engine``, keeping more of what repeats in a case file
    (unknown codes, days, durable_rules firings). ``options`` go to ``Engine`` as they are."""
    from nocert_rules.engine.core import Engine

    return Engine(ruleset, **{"unknown_memo": UNKNOWN_MEMO, "day_memo": DAY_MEMO, "fired_memo": FIRED_MEMO,
                              **(options or {})})


GC_GEN0_THRESHOLD = 50_000
"""Allocations between young collections while a dry-run decides (``bulk_gc``)."""


@contextmanager
def bulk_gc() -> Iterator[None]:
    """Python's cycle collector tuned for a run of many small, short-lived, acyclic objects.

    A dry-run allocates a few dicts and tuples per case and keeps long-lived tables (the
    ruleset, the engine, the caches): with the default thresholds the collector walks them
    again and again, about a sixth of a run's time (measured in BENCHMARKS.md). Here what
    exists when the run starts (the ruleset, the engine) is frozen out of collection
    (``gc.freeze``) and young collections run every :data:`GC_GEN0_THRESHOLD` allocations
    instead of 700. Cycles are still collected; nothing is disabled. Both are undone on exit.
    Only this process's own runs and pool workers use it (a Dask worker's process is not ours)."""
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(old[0], GC_GEN0_THRESHOLD), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


def _close(engine: Any) -> None:
    engine.close()


def _die_with_parent() -> None:
    """Linux: a worker is sent SIGTERM (silent) when its parent dies, even by SIGKILL, instead of
    printing BrokenPipe tracebacks when it next sends a result."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - no libc prctl
        return
    if os.getppid() == 1:  # the parent died before prctl: nobody to work for
        os._exit(0)


def _init_worker(snapshot: RulesetSnapshot, as_of: str | None, want_out: bool,
                 engine_options: dict[str, Any] | None = None) -> None:
    """Pool initializer: each worker loads the exact ruleset (``RulesetSnapshot.load``: same
    sha256, or it refuses) and builds its Engine once.

    A failure is kept and reported by the first chunk (an initializer that raises would make
    the pool restart workers forever)."""
    global _STATE, _INIT_ERROR
    try:  # Ctrl-C reaches the whole process group: only the parent decides what it means
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # pragma: no cover - not the main thread
        pass
    _die_with_parent()
    try:
        ruleset = snapshot.load()
        _STATE = _WorkerState(
            ruleset, _engine(ruleset, engine_options), datetime.fromisoformat(as_of) if as_of else None,
            want_out,
        )
    except Exception as exc:  # noqa: BLE001 - reported to the parent, one line
        _INIT_ERROR = (f"{type(exc).__name__}: {exc}", getattr(exc, "exit_code", 2 if isinstance(exc, NocertError) else 3))


def _process_chunk(chunk: list[RawCase]) -> tuple[Summary, list[str] | None]:
    """Decide one chunk; its partial summary and (with ``--out``) its JSONL lines."""
    state = _STATE
    if state is None:
        message, code = _INIT_ERROR or ("not initialised", 3)
        raise WorkerError(f"工作进程无法启动 / a worker could not start: {message}", code)
    return _decide_chunk(state, chunk)


def _decide_chunk(state: _WorkerState, chunk: list[RawCase]) -> tuple[Summary, list[str] | None]:
    """Decide ``chunk`` with ``state``'s engine (a pool worker's, a Dask worker's or this
    process's): its well-formed cases in one ``Engine.decide_many``, every case counted (and,
    with ``--out``, written) in file order, whatever the output."""
    summary = Summary()
    lines: list[str] | None = [] if state.want_out else None
    names = state.names
    cases = [parse_raw(raw, names) for raw in chunk]
    results = iter(state.engine.decide_many(
        [apply_as_of(c.request, state.as_of) for c in cases if c.error is None and c.request is not None]
    ))
    ruleset, spreads = state.ruleset, state.spreads
    for case in cases:
        if case.error is not None or case.request is None:
            reason = case.error or "empty row"
        else:
            result = next(results)
            if not isinstance(result, Exception):
                summary.add_decision(case, result, ruleset, spreads)
                if lines is not None:
                    lines.append(_out_line(case, result, None))
                continue
            # RequestError: a missing field or a wrong type; CalendarError: an impossible date
            reason = str(result)
        summary.add_error(case, reason)
        if lines is not None:
            lines.append(_out_line(case, None, reason))
    return summary, lines


_DECISION_JSON: Callable[[Decision], bytes] = Decision.__pydantic_serializer__.to_json
"""A Decision as JSON bytes: ``model_dump_json`` without its per-call wrapper."""
_JSON_STR: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]
"""A str as a JSON string, as ``json.dumps(..., ensure_ascii=False)`` writes it."""


def _out_line(case: Case, decision: Decision | None, error: str | None) -> str:
    """One ``--out`` line: ``{"line": N, "case_id": ..., then the error, or the expected method,
    whether it matched, and the Decision}``, as ``json.dumps(..., ensure_ascii=False)`` lays it out."""
    case_id = safe_case_id(case.case_id)
    head = f'{{"line": {case.line}, "case_id": {"null" if case_id is None else _JSON_STR(case_id)}'
    if error is not None:
        return f'{head}, "error": {_JSON_STR(redact(error))}}}'
    assert decision is not None
    expected = case.expected_method
    if expected is not None:
        head += f', "expected_method": "{expected.value}", "match": {"true" if expected is decision.method else "false"}'
    return f'{head},"decision":{_DECISION_JSON(decision).decode()}}}'


# ------------------------------------------------------------------ the run


@dataclass
class DryRunResult:
    summary: Summary
    ruleset: Ruleset
    elapsed: float
    cases_path: str
    as_of: datetime | None
    jobs: int
    lines: dict[str, int] | None = None
    """Where the file's lines went (``CaseReader.line_counts``); they add up to ``total``."""

    def to_dict(self) -> dict[str, Any]:
        data = self.summary.to_dict(self.ruleset)
        if self.lines is not None:
            data["lines"] = self.lines
        data["cases_file"] = self.cases_path
        data["as_of"] = self.as_of.isoformat() if self.as_of else None
        data["jobs"] = self.jobs
        data["elapsed_seconds"] = round(self.elapsed, 3)
        data["cases_per_second"] = round(self.summary.rows / self.elapsed, 1) if self.elapsed > 0 else None
        return data


ProgressCallback = Callable[[int, int | None, int], None]
"""Called after each chunk with (bytes read, total bytes or None, rows so far)."""


def run_dry_run(
    ruleset: Ruleset,
    cases_path: str,
    *,
    fmt: Format | None = None,
    as_of: datetime | None = None,
    jobs: int = 1,
    out: IO[str] | None = None,
    chunk_size: int = CHUNK_SIZE,
    progress: ProgressCallback | None = None,
    engine_options: dict[str, Any] | None = None,
    stop: threading.Event | None = None,
) -> DryRunResult:
    """Decide every case of ``cases_path`` against ``ruleset`` (see the module doc).

    Workers (``jobs > 1``) load the same ruleset by path and sha256 (``RulesetSnapshot``) and
    refuse to start if they cannot reproduce it; ``--out`` is byte-identical whatever ``jobs``.
    When ``stop`` is set (the CLI sets it on SIGINT/SIGTERM) the run ends at the next chunk with
    :class:`DryRunInterrupted`; workers are stopped, nothing is raised inside the rules engine.
    Raises :class:`~nocert_rules.tools.casefile.CaseFileError` when the file cannot be read at all.
    """
    started = time.perf_counter()
    summary = Summary()
    snapshot = RulesetSnapshot.of(ruleset)
    with CaseReader(cases_path, fmt) as reader:
        blocks = reader.chunks(chunk_size)
        first = list(islice(blocks, 1))  # header problems surface here, in this process
        chunks = chain(first, blocks)

        def fold(part: Summary, lines: list[str] | None) -> None:
            summary.merge(part)
            if out is not None and lines:
                out.write("\n".join(lines))
                out.write("\n")
            if progress is not None:
                progress(reader.bytes_read, reader.total_bytes, summary.rows)

        if jobs <= 1:
            global _STATE
            engine = _engine(ruleset, engine_options)
            previous = _STATE
            _STATE = _WorkerState(ruleset, engine, as_of, out is not None)
            try:
                with bulk_gc():
                    for chunk in chunks:
                        if stop is not None and stop.is_set():
                            raise DryRunInterrupted(summary.rows)
                        fold(*_process_chunk(chunk))
            finally:
                _STATE = previous
                _close(engine)
        else:
            for part, lines in _parallel(chunks, jobs, snapshot, as_of, out is not None, engine_options,
                                         stop or threading.Event()):
                if stop is not None and stop.is_set():
                    raise DryRunInterrupted(summary.rows)
                fold(part, lines)
            if stop is not None and stop.is_set():
                raise DryRunInterrupted(summary.rows)
        line_counts = reader.line_counts(summary.rows)
    return DryRunResult(summary, ruleset, time.perf_counter() - started, cases_path, as_of, max(jobs, 1),
                        line_counts)


def _worker_main(conn: Any, snapshot: RulesetSnapshot, as_of: str | None, want_out: bool,
                 engine_options: dict[str, Any] | None) -> None:
    """A worker process: load the exact ruleset once, then decide each chunk sent on ``conn``.

    Replies ``("ok", summary, lines)`` or ``("error", message, exit code)``; ``None`` ends it."""
    _init_worker(snapshot, as_of, want_out, engine_options)
    gc.freeze()  # this process is the worker's own: see bulk_gc
    gc.set_threshold(max(gc.get_threshold()[0], GC_GEN0_THRESHOLD), *gc.get_threshold()[1:])
    try:
        while True:
            chunk = conn.recv()
            if chunk is None:
                return
            try:
                reply: tuple[Any, ...] = ("ok", *_process_chunk(chunk))
            except NocertError as exc:
                reply = ("error", str(exc), getattr(exc, "exit_code", 3))
            except Exception as exc:  # noqa: BLE001 - a bug: reported to the parent, one line
                reply = ("error", f"{type(exc).__name__}: {exc}", 3)
            conn.send(reply)
    except (EOFError, OSError):  # the parent went away
        return


class _Worker:
    """One worker process with its own pipe (no lock shared with other workers, so a worker
    killed at any moment, e.g. by a signal to the process group, cannot block the others) and a
    thread that feeds it chunks, so the parent never blocks on a full pipe."""

    def __init__(self, ctx: Any, args: tuple[Any, ...]) -> None:
        import queue

        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(child, *args), daemon=True)
        self.process.start()
        child.close()
        self.queue: queue.SimpleQueue[list[RawCase] | None] = queue.SimpleQueue()
        self.feeder = threading.Thread(target=self._feed, daemon=True)
        self.feeder.start()

    def _feed(self) -> None:
        while True:
            chunk = self.queue.get()
            try:
                self.conn.send(chunk)
            except (OSError, ValueError):  # the worker died or was stopped: nothing to feed
                return
            if chunk is None:
                return

    def stop(self, kill: bool) -> None:
        if kill and self.process.exitcode is None:
            self.process.kill()
        self.queue.put(None)
        self.process.join(timeout=None if not kill else 5)
        self.feeder.join(timeout=1)
        self.conn.close()


def _parallel(
    chunks: Iterator[list[RawCase]], jobs: int, snapshot: RulesetSnapshot, as_of: datetime | None,
    want_out: bool, engine_options: dict[str, Any] | None = None,
    interrupt: threading.Event | None = None,
) -> Iterator[tuple[Summary, list[str] | None]]:
    """Chunks dealt round-robin to ``jobs`` workers and collected in the same order (so results
    come back in case order), at most ``4 x jobs`` in flight."""
    ctx = multiprocessing.get_context("spawn")
    args = (snapshot, as_of.isoformat() if as_of else None, want_out, engine_options)
    # Workers are born ignoring SIGINT (the disposition survives exec), so that Ctrl-C, which
    # reaches the whole process group, never prints their tracebacks; the parent handles it.
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    workers: list[_Worker] = []
    try:
        for _ in range(jobs):
            workers.append(_Worker(ctx, args))
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    pending: deque[_Worker] = deque()
    dealt = 0
    exhausted = False
    finished = False
    try:
        while True:
            while not exhausted and len(pending) < 4 * jobs:
                chunk = next(chunks, None)
                if chunk is None:
                    exhausted = True
                    break
                worker = workers[dealt % jobs]
                worker.queue.put(chunk)
                pending.append(worker)
                dealt += 1
            if not pending:
                break
            worker = pending.popleft()
            while not worker.conn.poll(0.2):
                if interrupt is not None and interrupt.is_set():
                    return  # workers killed by the same signal are not a crash
                if worker.process.exitcode is not None and not worker.conn.poll(0):
                    raise WorkerError(
                        f"工作进程异常退出 / a worker process died (exit code {worker.process.exitcode}); "
                        "try --jobs 1") from None
            try:
                reply = worker.conn.recv()
            except (EOFError, OSError):
                if interrupt is not None and interrupt.is_set():
                    return
                raise WorkerError(
                    f"工作进程异常退出 / a worker process died (exit code {worker.process.exitcode}); "
                    "try --jobs 1") from None
            if reply[0] == "error":
                raise WorkerError(reply[1], reply[2])
            yield reply[1], reply[2]
        finished = True
    finally:
        for worker in workers:
            worker.stop(kill=not finished)


__all__ = ["DryRunInterrupted", "DryRunResult", "Summary", "WorkerError", "run_dry_run", "NOT_LISTED"]


# ------------------------------------------------------------------ wording of times and deadlines (cli, report)


def format_minutes(minutes: float) -> str:
    """Working time for people: ``30 分钟 min``, ``13.0 小时 h``."""
    if minutes < 60:
        return f"{minutes:g} 分钟 min"
    return f"{round(minutes / 60, 1):g} 小时 h"


def format_spread(spread: dict[str, Any]) -> str:
    """min / median / max working minutes in one unit: ``140 / 141.2 / 147 小时 h``."""
    values = (spread["min"], spread["median"], spread["max"])
    if spread["max"] < 60:
        return " / ".join(f"{v:g}" for v in values) + " 分钟 min"
    return " / ".join(f"{round(v / 60, 1):g}" for v in values) + " 小时 h"


def format_hours(hours: float) -> str:
    """Calendar time: ``20 小时 h`` or ``3.5 天 days``."""
    if hours < 48:
        return f"{hours:g} 小时 h"
    return f"{round(hours / 24, 1):g} 天 days"


def zh_part(text: str) -> str:
    """The Chinese half of a ``中文 / English`` text."""
    return text.split(" / ", 1)[0]


def deadline_label(rule: str) -> str:
    """A deadline rule, short: ``法定程序：30 个工作日（《不动产登记暂行条例》）``."""
    zh = zh_part(rule)
    zh = re.sub(r"，至[^，（）]*下班时止", "", zh)
    zh = zh.replace("按法定程序办理，在规定时间内：", "法定程序：")
    zh = zh.replace("告知承诺事中事后核查：作出决定后 ", "告知承诺事后核查：")
    m = re.search(r"（依据：(.*)）$", zh)
    if m:
        title = re.search(r"《[^》]+》", m.group(1))
        zh = zh[: m.start()] + f"（{title.group(0) if title else shorten(m.group(1), 20)}）"
    return re.sub(r"\s+", "", zh)


def shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
