"""``close()`` racing ``decide()``: every call either decides or raises ``EngineClosedError`` (issue #9).

Before, the closed check sat outside the engine lock: about 10 rounds in 200 raised a bare
``Exception: Ruleset with name nocert_zibo_N not found`` from durable_rules' C core.
"""

from __future__ import annotations

import random
import sys
import threading
import time

import pytest

from nocert_rules import Decision, Engine, EngineClosedError, Ruleset
from nocert_rules.engine import backend as backends

ROUNDS = 200
THREADS = 3
REQUEST = {"service_item": "370300-QR-0001", "certificate": "ZM-JY-0001", "requested_at": "2021-06-01T10:00:00",
           "applicant": {"kind": "person", "id_number": "370399199001011234"}}


@pytest.mark.parametrize(
    "backend",
    ["compiled", pytest.param("durable", marks=pytest.mark.skipif(
        not backends.durable_available()[0], reason="durable_rules does not import here"))],
)
def test_close_racing_decide_raises_only_engine_closed(zibo: Ruleset, backend: str) -> None:
    unexpected: list[BaseException] = []
    outcomes = {"decided": 0, "closed": 0}
    lock = threading.Lock()
    rng = random.Random(9)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads every few bytecodes: the race window opens
    try:
        _rounds(zibo, backend, rng, unexpected, outcomes, lock)
    finally:
        sys.setswitchinterval(interval)
    assert unexpected == []
    assert outcomes["closed"] > 0 and outcomes["decided"] > 0  # both sides of the race were run


def _rounds(zibo: Ruleset, backend: str, rng: random.Random, unexpected: list[BaseException],
            outcomes: dict[str, int], lock: threading.Lock) -> None:
    for _ in range(ROUNDS):
        engine = Engine(zibo, backend=backend)
        start = threading.Barrier(THREADS + 1)

        def decide(engine: Engine = engine, start: threading.Barrier = start) -> None:
            start.wait()
            for _ in range(5):
                try:
                    assert isinstance(engine.decide(REQUEST), Decision)
                    key = "decided"
                except EngineClosedError:
                    key = "closed"
                except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                    unexpected.append(exc)
                    return
                with lock:
                    outcomes[key] += 1

        threads = [threading.Thread(target=decide) for _ in range(THREADS)]
        for t in threads:
            t.start()
        start.wait()
        time.sleep(rng.random() * 0.002)  # close lands before, between or during decisions
        engine.close()
        for t in threads:
            t.join()
        with pytest.raises(EngineClosedError):
            engine.decide(REQUEST)
