"""Dry-runs past one machine: cases decided on Dask workers (``dask.distributed``).

Two entry points, both giving the summary of the single-process run (same counts, same samples,
in case order):

* :func:`run_dry_run_dask` (``nocert-rules dry-run --dask ADDRESS``): this process reads the case
  file and sends chunks of raw records to the cluster, at most ``4 x workers`` in flight; results
  come back in order, so ``--out`` is the same file as with ``--jobs 1``.
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

import json
import threading
import time
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from itertools import chain, islice
from typing import IO, Any

from nocert_rules.errors import NocertError
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.policy.snapshot import RulesetSnapshot
from nocert_rules.tools.casefile import CaseReader, Format, RawCase, chunked
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
) -> DryRunResult:
    """Like :func:`~nocert_rules.tools.dryrun.run_dry_run`, the chunks decided on a Dask cluster
    (a ``distributed.Client`` or a scheduler address such as ``tcp://10.0.0.5:8786``)."""
    started = time.perf_counter()
    client, owned = _client(client_or_address)
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        snapshot = client.scatter(RulesetSnapshot.of(ruleset, with_bytes=True), broadcast=True, hash=False)
        iso = as_of.isoformat() if as_of else None
        summary = Summary()
        in_flight: deque[Any] = deque()
        with CaseReader(cases_path, fmt) as reader:
            records = iter(reader)
            first = list(islice(records, 1))  # header problems surface here, in this process
            chunks = chunked(chain(first, records), chunk_size)

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


__all__ = ["DaskUnavailable", "dry_run_collection", "run_dry_run_dask"]
