"""durable_rules used safely (issue #2 §4): many sequential decisions, concurrent threads.

A leaked session would hit durable_rules' cap of 1024 live sessions per ruleset long before
the end of these runs (a MemoryError at the 1025th).
"""

from __future__ import annotations

import itertools
import os
import threading
from typing import Any

import pytest
from conftest import PERSON_ID

from nocert_rules import Engine, Ruleset

SEQUENTIAL = int(os.environ.get("NOCERT_SEQUENTIAL_N", "100000"))
THREADS, PER_THREAD = 8, int(os.environ.get("NOCERT_THREAD_N", "5000"))


def request_mix(ruleset: Ruleset) -> list[dict[str, Any]]:
    """Every row of the list under a few applicant/flag combinations, plus unlisted ones."""
    variants = [
        {},
        {"sharing_online": False},
        {"sharing_online": False, "wants_pledge": False, "proxy_authorized": False},
        {"provides_certificate": True},
        {"applicant": {"kind": "person", "id_number": PERSON_ID, "credit": "untrustworthy"}},
    ]
    out = []
    for row, extra in itertools.product(ruleset.rows, variants):
        req: dict[str, Any] = {
            "service_item": row.service_item_code,
            "certificate": row.certificate_id,
            "applicant": {"kind": "organization", "id_number": "91370300MA3C1234XY"},
            "requested_at": "2021-06-01T09:30:00",
        }
        req.update(extra)
        out.append(req)
    out.append({**out[0], "certificate": "ZM-NOT-LISTED"})
    return out


def reference(engine: Engine, requests: list[dict[str, Any]]) -> list[tuple[str, bool, str]]:
    return [key(engine.decide(r)) for r in requests]


def key(decision: Any) -> tuple[str, bool, str]:
    return (decision.method.value, decision.applicant_must_submit, decision.model_dump_json())


def test_sequential_decisions_all_right(zibo_engine: Engine) -> None:
    requests = request_mix(zibo_engine.ruleset)
    expected = reference(zibo_engine, requests)
    methods = {e[0] for e in expected}
    assert len(methods) == 6, methods  # the mix reaches every method
    wrong = 0
    for i in range(SEQUENTIAL):
        j = i % len(requests)
        if key(zibo_engine.decide(requests[j])) != expected[j]:
            wrong += 1
    assert wrong == 0


def test_threads_decide_concurrently_and_every_answer_is_right(zibo_engine: Engine) -> None:
    requests = request_mix(zibo_engine.ruleset)
    expected = reference(zibo_engine, requests)
    errors: list[BaseException] = []
    wrong = [0] * THREADS
    start = threading.Barrier(THREADS)

    def work(t: int) -> None:
        try:
            start.wait()
            for i in range(PER_THREAD):
                j = (i * 7 + t) % len(requests)
                if key(zibo_engine.decide(requests[j])) != expected[j]:
                    wrong[t] += 1
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert wrong == [0] * THREADS


def test_engine_starts_no_background_threads(zibo: Ruleset) -> None:
    before = threading.active_count()
    engines = [Engine(zibo) for _ in range(3)]
    assert threading.active_count() == before
    for e in engines:
        e.close()


def test_two_engines_on_different_rulesets_do_not_interfere(zibo_engine: Engine, tiny_engine: Engine) -> None:
    z = request_mix(zibo_engine.ruleset)[:50]
    t = request_mix(tiny_engine.ruleset)
    ze, te = reference(zibo_engine, z), reference(tiny_engine, t)
    for _ in range(20):
        assert reference(tiny_engine, t) == te
        assert reference(zibo_engine, z) == ze


def test_closed_engine_raises_a_typed_error_and_engines_are_freed(zibo: Ruleset) -> None:
    import gc
    import weakref

    from nocert_rules import EngineClosedError
    from nocert_rules.engine.backend import durable_available

    request = request_mix(zibo)[0]
    with Engine(zibo) as engine:
        assert engine.decide(request).method
    with pytest.raises(EngineClosedError):
        engine.decide(request)
    engine.close()  # closing twice is harmless

    if not durable_available()[0]:
        pytest.skip("durable_rules does not import here: no C ruleset to free")
    dropped = Engine(zibo, backend="durable")
    compiled = weakref.ref(dropped._compiled)
    finalizer = dropped._compiled._finalizer
    del dropped
    gc.collect()
    assert compiled() is None and not finalizer.alive  # the C ruleset was freed
