"""Dry-runs past one machine: cases decided on Dask workers (``dask.distributed``).

Two entry points, both giving the summary of the single-process run (same counts, same samples,
in case order):

* :func:`run_dry_run_dask` (``nocert-rules dry-run --dask ADDRESS``). When the workers can read
  the case file themselves (``reading="auto"``, the default: a JSONL file that every worker sees at
  the same absolute path with the same size and the same first and last 64 KiB, e.g. on a shared
  file system or on this machine), the file is split into byte blocks (``block_bytes``), the
  workers first count the lines starting in each block (so each knows the file's number of its
  first line), then each block is read and decided on a worker; only summaries (and, with
  ``--out``, result lines) come back. Otherwise (standard input, a CSV file, a path the workers do
  not see, or ``reading="client"``) this process reads the file and sends chunks of raw records.
  CSV is always read here: a quoted cell may span lines, so a block boundary cannot be told from a
  record boundary without reading from the header on. Either way at most ``4 x workers`` tasks
  are in flight and results are folded in file order, so the summary (line numbers included) and
  ``--out`` are those of ``--jobs 1``.
* :func:`dry_run_collection`: a ``dask.bag.Bag`` of cases (request dicts as in a JSONL case file,
  or JSONL strings) or a ``dask.dataframe.DataFrame`` with the CSV columns (docs/cli.md), decided
  partition by partition where the data lives. A case's ``line`` is its position in the
  collection (1-based).

Workers load the exact ruleset: the client scatters a :class:`RulesetSnapshot` with the files'
bytes once to every worker, each worker loads it once (checking its sha256 and the nocert-rules
version, or refusing) and keeps one engine per ruleset. Dask is an optional extra:
``pip install 'nocert-rules[dask]'``.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any, Literal

from nocert_rules.errors import NocertError
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.policy.snapshot import RulesetSnapshot
from nocert_rules.tools.casefile import (
    CaseFileError,
    CaseReader,
    Format,
    RawCase,
    count_line_starts,
)
from nocert_rules.tools.dryrun import (
    CHUNK_SIZE,
    DryRunInterrupted,
    DryRunResult,
    ProgressCallback,
    Summary,
    _decide_chunk,
    _engine,
    _WorkerState,
)

_STATES: dict[tuple[str, str | None, bool, str], _WorkerState] = {}
_LOCK = threading.Lock()


def _state(snapshot: RulesetSnapshot, as_of: str | None, want_out: bool,
           engine_options: dict[str, Any] | None) -> _WorkerState:
    """This worker's ruleset and engine for the snapshot (loaded once per worker process)."""
    key = (snapshot.sha256, as_of, want_out, json.dumps(engine_options or {}, sort_keys=True, default=str))
    state = _STATES.get(key)
    if state is None:
        with _LOCK:
            state = _STATES.get(key)
            if state is None:
                ruleset = snapshot.load()
                state = _WorkerState(ruleset, _engine(ruleset, engine_options),
                                     datetime.fromisoformat(as_of) if as_of else None, want_out)
                _STATES[key] = state
    return state


def _decide_on_worker(snapshot: RulesetSnapshot, chunk: list[RawCase], as_of: str | None, want_out: bool,
                      engine_options: dict[str, Any] | None) -> tuple[Summary, list[str] | None]:
    return _decide_chunk(_state(snapshot, as_of, want_out, engine_options), chunk)


Reading = Literal["auto", "workers", "client"]
"""Who reads the case file under ``--dask``: the workers when they can (``auto``), the workers or
an error (``workers``), or this process (``client``)."""

BLOCK_BYTES = 4 << 20
"""Bytes of case file per block a worker reads and decides (about 16,000 cases of 250 bytes)."""

_PROBE_BYTES = 1 << 16


def file_fingerprint(path: str) -> tuple[int, str] | None:
    """``(size, sha256 of the first and last 64 KiB)`` of a file, or None if it cannot be read:
    what tells that a worker sees the same file as the client."""
    try:
        with open(path, "rb") as file:
            size = file.seek(0, os.SEEK_END)
            file.seek(0)
            head = file.read(_PROBE_BYTES)
            file.seek(max(size - _PROBE_BYTES, 0))
            tail = file.read(_PROBE_BYTES)
    except OSError:
        return None
    return size, hashlib.sha256(head + b"\0" + tail).hexdigest()


def workers_see(client: Any, path: str, expected: tuple[int, str] | None) -> bool:
    """Does every worker of ``client`` read the same file at ``path`` (size and fingerprint)?"""
    if expected is None:
        return False
    seen = client.run(file_fingerprint, path)
    return bool(seen) and all(v is not None and tuple(v) == tuple(expected) for v in seen.values())


class WorkersCannotRead(NocertError):
    """``reading="workers"`` (``--dask-read workers``) was asked for a file the workers cannot read."""

    exit_code = 2


def reading_plan(client: Any, cases_path: str, fmt: Format | None = None,
                 reading: Reading = "auto") -> tuple[Literal["workers", "client"], str]:
    """Who reads ``cases_path``: ``("workers", absolute path)`` or ``("client", why)``; raises
    :class:`WorkersCannotRead` when ``reading="workers"`` cannot be had."""
    if reading == "client":
        return "client", "asked for (reading='client')"
    problem: str | None = None
    path = os.path.abspath(cases_path) if cases_path != "-" else cases_path
    if cases_path == "-":
        problem = "standard input"
    elif not Path(cases_path).is_file():
        problem = "not a regular file"
    else:
        with CaseReader(cases_path, fmt) as reader:
            kind = reader.format
        if kind != "jsonl":
            problem = "CSV: a quoted cell may span lines, so the client reads it"
        elif not workers_see(client, path, file_fingerprint(path)):
            problem = f"the workers do not see the same file at {path}"
    if problem is None:
        return "workers", path
    if reading == "workers":
        raise WorkersCannotRead(f"Dask 工作进程无法读取案例文件 / the Dask workers cannot read the case file: {problem}")
    return "client", problem


def _count_block(path: str, start: int, end: int) -> int:
    try:
        return count_line_starts(path, start, end)
    except OSError as exc:
        raise CaseFileError(f"{path}: 工作进程无法读取 / a worker cannot read it: {exc.strerror or exc}") from None


def _decide_block(snapshot: RulesetSnapshot, path: str, start: int, end: int, first_line: int, as_of: str | None,
                  want_out: bool, engine_options: dict[str, Any] | None,
                  chunk_size: int) -> tuple[Summary, list[str] | None, int]:
    """On a worker: read the lines that start in ``[start, end)`` (numbered from ``first_line``)
    and decide them; the block's summary, result lines (with ``--out``) and blank lines."""
    state = _state(snapshot, as_of, want_out, engine_options)
    summary = Summary()
    lines: list[str] | None = [] if want_out else None
    try:
        with CaseReader(path, "jsonl", byte_range=(start, end), first_line=first_line) as reader:
            for chunk in reader.chunks(chunk_size):
                part, out = _decide_chunk(state, chunk)
                summary.merge(part)
                if lines is not None and out:
                    lines.extend(out)
            return summary, lines, reader.blank_lines
    except OSError as exc:
        raise CaseFileError(f"{path}: 工作进程无法读取 / a worker cannot read it: {exc.strerror or exc}") from None


class DaskUnavailable(NocertError):
    """dask.distributed is not installed, or the scheduler cannot be reached."""

    exit_code = 2


def _client(client_or_address: Any) -> tuple[Any, bool]:
    """A ``distributed.Client`` (and whether we made it, so must close it)."""
    try:
        from distributed import Client
    except ImportError:
        raise DaskUnavailable(
            "需要 dask.distributed / dask.distributed is not installed: pip install 'nocert-rules[dask]'"
        ) from None
    if isinstance(client_or_address, Client):
        return client_or_address, False
    if client_or_address is None:
        from distributed import get_client

        return get_client(), False
    try:
        return Client(client_or_address, timeout="20s"), True
    except (OSError, TimeoutError, ValueError) as exc:
        raise DaskUnavailable(
            f"无法连接 Dask 调度器 / cannot reach the Dask scheduler at {client_or_address}: {exc}"
        ) from None


def run_dry_run_dask(
    ruleset: Ruleset,
    cases_path: str,
    client_or_address: Any,
    *,
    fmt: Format | None = None,
    as_of: datetime | None = None,
    out: IO[str] | None = None,
    chunk_size: int = CHUNK_SIZE,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    engine_options: dict[str, Any] | None = None,
    reading: Reading = "auto",
    block_bytes: int = BLOCK_BYTES,
) -> DryRunResult:
    """Like :func:`~nocert_rules.tools.dryrun.run_dry_run`, the cases decided on a Dask cluster
    (a ``distributed.Client`` or a scheduler address such as ``tcp://10.0.0.5:8786``); who reads
    the file: ``reading`` (see the module doc and :func:`reading_plan`)."""
    started = time.perf_counter()
    client, owned = _client(client_or_address)
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        who, path = reading_plan(client, cases_path, fmt, reading)
        snapshot = client.scatter(RulesetSnapshot.of(ruleset, with_bytes=True), broadcast=True, hash=False)
        iso = as_of.isoformat() if as_of else None
        summary = Summary()
        if who == "workers":
            line_counts = _run_on_workers(client, snapshot, path, summary, iso, out, chunk_size, block_bytes,
                                          progress, stop, engine_options, workers)
            return DryRunResult(summary, ruleset, time.perf_counter() - started, cases_path, as_of, workers,
                                line_counts)
        in_flight: deque[Any] = deque()
        with CaseReader(cases_path, fmt) as reader:
            chunks = reader.chunks(chunk_size)
            first = list(islice(chunks, 1))  # header problems surface here, in this process
            chunks = chain(first, chunks)

            def fold(future: Any) -> None:
                part, lines = future.result()
                summary.merge(part)
                if out is not None and lines:
                    out.write("\n".join(lines))
                    out.write("\n")
                if progress is not None:
                    progress(reader.bytes_read, reader.total_bytes, summary.rows)

            try:
                for chunk in chunks:
                    if stop is not None and stop.is_set():
                        raise DryRunInterrupted(summary.rows)
                    in_flight.append(client.submit(_decide_on_worker, snapshot, chunk, iso, out is not None,
                                                   engine_options, pure=False))
                    while len(in_flight) >= 4 * workers:
                        fold(in_flight.popleft())
                while in_flight:
                    if stop is not None and stop.is_set():
                        raise DryRunInterrupted(summary.rows)
                    fold(in_flight.popleft())
            finally:
                for future in in_flight:
                    future.cancel()
            line_counts = reader.line_counts(summary.rows)
        return DryRunResult(summary, ruleset, time.perf_counter() - started, cases_path, as_of, workers,
                            line_counts)
    finally:
        if owned:
            client.close()


def _run_on_workers(client: Any, snapshot: Any, path: str, summary: Summary, iso: str | None, out: IO[str] | None,
                    chunk_size: int, block_bytes: int, progress: ProgressCallback | None,
                    stop: threading.Event | None, engine_options: dict[str, Any] | None,
                    workers: int) -> dict[str, int]:
    """The workers read: count each block's lines, then decide the blocks, folded in file order
    into ``summary``; where the file's lines went (as ``CaseReader.line_counts``)."""
    size = os.path.getsize(path)
    starts = list(range(0, size, max(1, block_bytes)))
    ends = [*starts[1:], size]
    counts = client.gather(client.map(_count_block, [path] * len(starts), starts, ends, pure=False))
    firsts = []
    line = 1
    for count in counts:
        firsts.append(line)
        line += count
    blank = 0
    done = 0
    in_flight: deque[tuple[Any, int]] = deque()

    def fold(future: Any, nbytes: int) -> None:
        nonlocal blank, done
        part, lines, blanks = future.result()
        summary.merge(part)
        blank += blanks
        done += nbytes
        if out is not None and lines:
            out.write("\n".join(lines))
            out.write("\n")
        if progress is not None:
            progress(done, size, summary.rows)

    try:
        for start, end, first, count in zip(starts, ends, firsts, counts, strict=True):
            if stop is not None and stop.is_set():
                raise DryRunInterrupted(summary.rows)
            if count == 0:  # a block inside one long line: nothing starts there
                done += end - start
                continue
            future = client.submit(_decide_block, snapshot, path, start, end, first, iso, out is not None,
                                   engine_options, chunk_size, pure=False)
            in_flight.append((future, end - start))
            while len(in_flight) >= 4 * workers:
                fold(*in_flight.popleft())
        while in_flight:
            if stop is not None and stop.is_set():
                raise DryRunInterrupted(summary.rows)
            fold(*in_flight.popleft())
    finally:
        for future, _ in in_flight:
            future.cancel()
    return {"total": sum(counts), "header": 0, "cases": summary.rows, "blank": blank, "continued": 0,
            "swallowed": 0}


def _raw_records(partition: Iterable[Any]) -> list[RawCase]:
    """A partition's cases as raw records, numbered from 1 within the partition."""
    records: list[RawCase] = []
    for i, item in enumerate(partition, start=1):
        if isinstance(item, str):
            records.append(RawCase(i, item))
        elif isinstance(item, dict):
            try:
                records.append(RawCase(i, json.dumps(item, ensure_ascii=False, default=str)))
            except (TypeError, ValueError) as exc:
                records.append(RawCase(i, "", f"无法读取的案例 / unreadable case: {type(exc).__name__}"))
        else:
            records.append(RawCase(i, "", f"应为对象 / expected a mapping, got {type(item).__name__}"))
    return records


def _frame_records(frame: Any) -> list[RawCase]:
    """A pandas partition with the CSV columns: each row as CSV cells (strings, empty = not given)."""
    import pandas

    columns = [str(c) for c in frame.columns]
    records: list[RawCase] = []
    for i, values in enumerate(frame.itertuples(index=False, name=None), start=1):
        cells: dict[str | None, Any] = {}
        for name, value in zip(columns, values, strict=True):
            cells[name] = None if value is None or pandas.isna(value) else str(value)  # None, NaN, NA
        records.append(RawCase(i, cells))
    return records


def _decide_partition(partition: Any, snapshot: RulesetSnapshot, as_of: str | None,
                      engine_options: dict[str, Any] | None, is_frame: bool) -> list[tuple[Summary, int]]:
    records = _frame_records(partition) if is_frame else _raw_records(partition)
    summary, _ = _decide_chunk(_state(snapshot, as_of, False, engine_options), records)
    return [(summary, len(records))]


def dry_run_collection(
    ruleset: Ruleset,
    cases: Any,
    *,
    client: Any = None,
    as_of: datetime | None = None,
    engine_options: dict[str, Any] | None = None,
) -> DryRunResult:
    """Decide a ``dask.bag.Bag`` or ``dask.dataframe.DataFrame`` of cases on the cluster of
    ``client`` (default: the current ``distributed`` client); the merged summary.

    Example::

        import dask.bag as db
        from distributed import Client
        from nocert_rules import load_ruleset
        from nocert_rules.tools.distributed import dry_run_collection

        client = Client("tcp://scheduler:8786")
        cases = db.read_text("s3://bucket/cases-*.jsonl").map(json.loads)
        result = dry_run_collection(load_ruleset("rulesets/zibo"), cases, client=client)
        print(result.to_dict()["methods"])
    """
    started = time.perf_counter()
    dask_client, owned = _client(client)
    try:
        is_frame = hasattr(cases, "columns") and hasattr(cases, "to_delayed")
        snapshot = dask_client.scatter(RulesetSnapshot.of(ruleset, with_bytes=True), broadcast=True,
                                       hash=False)
        iso = as_of.isoformat() if as_of else None
        parts = cases.to_delayed()
        futures = [dask_client.submit(_decide_partition, part, snapshot, iso, engine_options, is_frame, pure=False)
                   for part in dask_client.compute(parts)]
        summary = Summary()
        offset = 0
        for future in futures:  # in partition order: samples and their lines as one run
            part, length = future.result()[0]
            part.shift_lines(offset)
            summary.merge(part)
            offset += length
        workers = max(1, len(dask_client.scheduler_info().get("workers", {})))
        return DryRunResult(summary, ruleset, time.perf_counter() - started, f"<{type(cases).__name__}>", as_of,
                            workers)
    finally:
        if owned:
            dask_client.close()


__all__ = ["BLOCK_BYTES", "DaskUnavailable", "Reading", "WorkersCannotRead", "dry_run_collection", "file_fingerprint",
           "reading_plan", "run_dry_run_dask", "workers_see"]
