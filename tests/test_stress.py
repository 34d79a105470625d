"""Soak: memory stays flat over many decisions, sequential and in threads.

(The issue-2 correctness runs, 100k sequential and 8 x 5000 threads, are in
test_concurrency.py; here the angle is memory growth and a long, varied soak.)

Every request is different (request id, ID number, name, minute of ``requested_at``, flags),
so a cache or a durable_rules session keyed on per-request data would show up as growth.
Each soak runs in a fresh child process, so that its resident memory is its own and not the
test process's free heap: its resident set (``psutil``) after a warm-up and at the end must
differ by less than 10%; Python's allocated blocks (``sys.getallocatedblocks``) must not grow
by one per hundred decisions. A sample of answers, or in the threaded run every answer, is
checked against a single-threaded reference.

Sizes: ``NOCERT_STRESS_N`` decisions (default 20,000) in the normal run; the threaded run does
8 x N/20. The ``slow`` variants do 1,000,000 (``pytest -m slow``). Run one by hand with
``python tests/test_stress.py sequential|threads N``.
"""

from __future__ import annotations

import gc
import itertools
import json
import mmap
import os
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest

from nocert_rules import Engine, RequestError, Ruleset, load_ruleset
from nocert_rules.engine import unknown

STRESS_N = int(os.environ.get("NOCERT_STRESS_N", "20000"))
BIG_N = 1_000_000
THREADS = 8
MAX_RSS_GROWTH = 0.10
ZIBO = Path(__file__).resolve().parent.parent / "rulesets" / "zibo"
FLAGS = ("wants_pledge", "provides_certificate", "sharing_online", "proxy_authorized", "adjustment_pending")

sizes = pytest.mark.parametrize(
    "n", [pytest.param(STRESS_N, id="ci"), pytest.param(BIG_N, id="1M", marks=pytest.mark.slow)]
)


def rss_kb() -> int:
    """This process's resident set size, in kB."""
    return psutil.Process().memory_info().rss // 1024


def settled() -> tuple[int, int]:
    """(RSS in kB, Python allocated blocks) after a full collection."""
    gc.collect()
    return rss_kb(), sys.getallocatedblocks()


def varied_requests(ruleset: Ruleset, seed: int) -> Iterator[dict[str, Any]]:
    """An endless stream of distinct requests over every row, flag and credit level."""
    rng = random.Random(seed)
    start = datetime(2021, 1, 4, 8, 0)
    minutes = 60 * 24 * 500  # 2021-01 .. 2022-05: in and after the ruleset's validity
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


# ---------------------------------------------------------------- the soaks (child processes)


def soak_sequential(n: int) -> dict[str, Any]:
    ruleset = load_ruleset(ZIBO)
    engine, reference = Engine(ruleset), Engine(ruleset)
    stream = varied_requests(ruleset, seed=n)
    # Warm-up: caches, calendar years, and the unknown codes' memo full (every 23rd code is new).
    for request in itertools.islice(stream, max(2_000, n // 20, 24 * unknown._MEMO)):
        engine.decide(request)
        reference.decide(request)
    rss0, blocks0 = settled()
    checked = wrong = 0
    for i, request in enumerate(itertools.islice(stream, n)):
        decision = engine.decide(request)
        if i % 97 == 0:
            checked += 1
            wrong += decision != reference.decide(request)
    rss1, blocks1 = settled()
    return {"rss": [rss0, rss1], "blocks": [blocks0, blocks1], "checked": checked, "wrong": wrong, "decided": n}


def soak_threads(n: int) -> dict[str, Any]:
    """8 threads on one engine, half of them through ``decide_many``, with malformed requests
    mixed in; every answer is checked against a single-threaded reference."""
    ruleset = load_ruleset(ZIBO)
    engine = Engine(ruleset)

    def batched(request: dict[str, Any]) -> Any:
        result = engine.decide_many([request])[0]
        if isinstance(result, Exception):
            raise result
        return result

    per_thread = max(1_000, n // 20) if n < BIG_N else n // THREADS
    cases = list(itertools.islice(varied_requests(ruleset, seed=7), 3_000))
    expected = [engine.decide(c).model_dump_json() for c in cases]
    malformed = [{**c, "requested_at": "2021-02-30T10:00"} for c in cases[:50]]
    for c in cases:  # warm the memo tables too
        engine.decide(c)
    rss0, blocks0 = settled()
    wrong = [0] * THREADS
    decided = [0] * THREADS
    errors: list[str] = []
    barrier = threading.Barrier(THREADS)

    def work(t: int) -> None:
        decide = engine.decide if t % 2 == 0 else batched
        rng = random.Random(t)
        try:
            barrier.wait()
            for k in range(per_thread):
                if k % 50 == 49:
                    try:
                        decide(malformed[rng.randrange(len(malformed))])
                        errors.append("a malformed request was decided")
                    except RequestError:
                        pass
                    continue
                j = rng.randrange(len(cases))
                wrong[t] += decide(cases[j]).model_dump_json() != expected[j]
                decided[t] += 1
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    rss1, blocks1 = settled()
    still_right = engine.decide(cases[0]).model_dump_json() == expected[0]
    return {
        "rss": [rss0, rss1],
        "blocks": [blocks0, blocks1],
        "wrong": sum(wrong),
        "decided": sum(decided),
        "expected_decided": THREADS * (per_thread - per_thread // 50),
        "errors": errors[:5],
        "still_right": still_right,
    }


def run_child(kind: str, n: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, kind, str(n)], capture_output=True, text=True, timeout=3_600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    rss0, rss1 = result["rss"]
    blocks0, blocks1 = result["blocks"]
    print(
        f"{kind} x {n}: RSS {rss0} kB after warm-up -> {rss1} kB ({(rss1 - rss0) / rss0:+.2%}); "
        f"allocated blocks {blocks0} -> {blocks1} ({blocks1 - blocks0:+d})"
    )
    return result


def assert_flat(result: dict[str, Any], n: int) -> None:
    rss0, rss1 = result["rss"]
    blocks0, blocks1 = result["blocks"]
    assert (rss1 - rss0) / rss0 < MAX_RSS_GROWTH, f"RSS {rss0} kB -> {rss1} kB over {n} decisions"
    assert blocks1 - blocks0 < max(1_000, n // 100), f"allocated blocks {blocks0} -> {blocks1} over {n} decisions"


# ---------------------------------------------------------------- the tests


@sizes
def test_sequential_decisions_keep_memory_flat(n: int) -> None:
    result = run_child("sequential", n)
    assert result["checked"] > n // 100
    assert result["wrong"] == 0
    assert_flat(result, n)


@sizes
def test_threads_deciding_concurrently_keep_memory_flat_and_answer_right(n: int) -> None:
    result = run_child("threads", n)
    assert result["errors"] == []
    assert result["wrong"] == 0
    assert result["decided"] == result["expected_decided"]
    assert result["still_right"]
    assert_flat(result, result["decided"])


def test_the_memory_probes_see_growth() -> None:
    """The probes can fail: 40 MB of fresh written pages show in the RSS, 100k objects in the
    allocated blocks."""
    rss0, blocks0 = settled()
    size = 40 * 2**20
    with mmap.mmap(-1, size) as hoard:
        for offset in range(0, size, mmap.PAGESIZE):
            hoard[offset] = 1
        rss1, _ = settled()
        assert rss1 - rss0 > 30_000
    objects = [object() for _ in range(100_000)]
    _, blocks1 = settled()
    assert blocks1 - blocks0 > 90_000
    del objects


if __name__ == "__main__":
    kind, size = sys.argv[1], int(sys.argv[2])
    print(json.dumps(soak_sequential(size) if kind == "sequential" else soak_threads(size)))
