"""Soak: resident memory stays flat over many decisions, sequential and in threads.

(The issue-2 correctness runs, 100k sequential and 8 x 5000 threads, are in
test_concurrency.py; here the angle is memory growth and a long, varied soak.)

Every request is different (request id, ID number, name, minute of ``requested_at``, flags),
so a cache or a durable_rules session keyed on per-request data would show up as growth.
Resident memory (``VmRSS`` from /proc/self/status) is read after a warm-up and at the end;
it must grow by less than 10%. A sample of answers, or in the threaded run every answer, is
checked against a single-threaded reference.

Sizes: ``NOCERT_STRESS_N`` decisions (default 20,000) in the normal run, and the threaded run
does 8 x N/20. The ``slow`` variants do 1,000,000 (run them with ``pytest -m slow``).
"""

from __future__ import annotations

import gc
import itertools
import os
import random
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from nocert_rules import Engine, RequestError, Ruleset
from nocert_rules.cache import CachedEngine

STRESS_N = int(os.environ.get("NOCERT_STRESS_N", "20000"))
BIG_N = 1_000_000
THREADS = 8
MAX_GROWTH = 0.10
FLAGS = ("wants_pledge", "provides_certificate", "sharing_online", "proxy_authorized", "adjustment_pending")
STATUS = Path("/proc/self/status")

sizes = pytest.mark.parametrize(
    "n", [pytest.param(STRESS_N, id="ci"), pytest.param(BIG_N, id="1M", marks=pytest.mark.slow)]
)


def rss_kb() -> int:
    for line in STATUS.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.fixture(autouse=True)
def _needs_proc() -> None:
    if not STATUS.exists():
        pytest.skip("resident memory is read from /proc/self/status (Linux)")


def varied_requests(ruleset: Ruleset, seed: int) -> Iterator[dict[str, Any]]:
    """An endless stream of distinct requests over every row, flag and credit level."""
    rng = random.Random(seed)
    start = datetime(2021, 1, 4, 8, 0)
    minutes = 60 * 24 * 500  # 2021-01 .. 2022-05: before, in and after the ruleset's validity
    for i in itertools.count():
        row = ruleset.rows[i % len(ruleset.rows)]
        at = start + timedelta(minutes=rng.randrange(minutes))
        applicant: dict[str, Any] = {
            "kind": "person" if i % 3 else "organization",
            "id_number": f"37030{rng.randrange(10**12):012d}{i % 10}",
            "credit": ("trustworthy", "normal", "untrustworthy")[i % 3],
            "serious_bad_record": i % 17 == 0,
        }
        if i % 2:
            applicant["name"] = f"张{i % 1000}"
        if i % 11 == 0:
            applicant["blacklisted_since"] = (at - timedelta(days=rng.randrange(-10, 300))).date().isoformat()
        yield {
            "service_item": row.service_item_code,
            "certificate": row.certificate_id if i % 23 else f"ZM-NONE-{i}",
            "applicant": applicant,
            "requested_at": at.isoformat(),
            "request_id": f"soak-{seed}-{i}",
            **{flag: bool((i >> k) & 1) for k, flag in enumerate(FLAGS)},
        }


def settled_rss() -> int:
    gc.collect()
    return rss_kb()


@sizes
def test_sequential_decisions_keep_memory_flat(zibo: Ruleset, n: int) -> None:
    engine, reference = Engine(zibo), Engine(zibo)
    try:
        stream = varied_requests(zibo, seed=n)
        for request in itertools.islice(stream, max(2_000, n // 20)):  # warm-up: caches, years
            engine.decide(request)
        before = settled_rss()
        checked = 0
        for i, request in enumerate(itertools.islice(stream, n)):
            decision = engine.decide(request)
            if i % 97 == 0:
                assert decision == reference.decide(request), request
                checked += 1
        after = settled_rss()
    finally:
        engine.close()
        reference.close()
    assert checked > n // 100
    growth = (after - before) / before
    assert growth < MAX_GROWTH, f"VmRSS {before} kB -> {after} kB (+{growth:.1%}) over {n} decisions"


@sizes
def test_threads_deciding_concurrently_keep_memory_flat_and_answer_right(zibo: Ruleset, n: int) -> None:
    """8 threads on one engine, half of them through a shared CachedEngine, with malformed
    requests mixed in; every answer is checked against a single-threaded reference."""
    engine = Engine(zibo)
    cached = CachedEngine(engine, maxsize=4_096)
    per_thread = max(1_000, n // 20) if n < BIG_N else n // THREADS
    try:
        cases = list(itertools.islice(varied_requests(zibo, seed=7), 3_000))
        expected = [engine.decide(c).model_dump_json() for c in cases]
        malformed = [{**c, "requested_at": "2021-02-30T10:00"} for c in cases[:50]]
        for c in cases:  # warm the cache too
            cached.decide(c)
        before = settled_rss()
        wrong = [0] * THREADS
        errors: list[BaseException] = []
        decided = [0] * THREADS
        barrier = threading.Barrier(THREADS)

        def work(t: int) -> None:
            decide = engine.decide if t % 2 == 0 else cached.decide
            rng = random.Random(t)
            try:
                barrier.wait()
                for k in range(per_thread):
                    if k % 50 == 49:
                        with pytest.raises(RequestError):
                            decide(malformed[rng.randrange(len(malformed))])
                        continue
                    j = rng.randrange(len(cases))
                    if decide(cases[j]).model_dump_json() != expected[j]:
                        wrong[t] += 1
                    decided[t] += 1
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        after = settled_rss()
        assert errors == []
        assert wrong == [0] * THREADS
        assert sum(decided) >= THREADS * per_thread * 0.97
        assert engine.decide(cases[0]).model_dump_json() == expected[0]  # still right afterwards
    finally:
        cached.close()
    growth = (after - before) / before
    assert growth < MAX_GROWTH, f"VmRSS {before} kB -> {after} kB (+{growth:.1%}) over {THREADS} x {per_thread}"


def test_the_memory_probe_sees_growth() -> None:
    """The probe above can fail: holding on to 40 MB (written, so resident) shows as growth."""
    before = settled_rss()
    hoard = b"x" * 40_000_000
    after = settled_rss()
    assert after - before > 30_000
    del hoard
