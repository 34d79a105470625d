"""Fault containment: a failure inside the engine during one decision stays in that decision.

After an exception anywhere in ``decide`` (in durable_rules' assert, in a rule action, in the
Decision's deadline computation) no durable_rules session is left behind, the engine lock is
free, and the next decision is right. Leaks are checked two ways: the session of the failed
decision is gone from the durable ruleset (``get_state`` fails for its sid), and more failed
decisions than durable_rules' cap of 1024 live sessions per ruleset are followed by a good one
(a leak would raise MemoryError at the 1025th).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PERSON_ID
from ruleset_factory import RULES, write_ruleset

from nocert_rules import Engine, Method, Ruleset

# Faults are injected into durable_rules' host: without durable_rules there is nothing to test.
durable_engine = pytest.importorskip("durable.engine", reason="durable_rules does not import here")

SESSION_CAP = 1024


class Boom(RuntimeError):
    pass


class HardBoom(BaseException):
    """Not an Exception: like KeyboardInterrupt, it must still not leave a session behind."""


def request(row_index: int, ruleset: Ruleset, **extra: Any) -> dict[str, Any]:
    row = ruleset.rows[row_index]
    req: dict[str, Any] = {
        "service_item": row.service_item_code,
        "certificate": row.certificate_id,
        "applicant": {"kind": "person", "id_number": PERSON_ID},
        "requested_at": "2021-06-01T10:00:00",
    }
    req.update(extra)
    return req


def sharing_row(ruleset: Ruleset) -> int:
    """A row decided by data sharing (so a rule fires that a fault can drop)."""
    for i, row in enumerate(ruleset.rows):
        if row.methods and row.methods[0].value == "data_sharing" and ruleset.basis_sufficient(row) and row.status.value == "retained":
            return i
    raise AssertionError("the Zibo sample has a data-sharing row")


def verification_row(ruleset: Ruleset) -> int:
    for i, row in enumerate(ruleset.rows):
        if row.methods and row.methods[0].value == "verification" and ruleset.basis_sufficient(row) and row.status.value == "retained":
            return i
    raise AssertionError("the Zibo sample has a verification row")


def durable_of(engine: Engine) -> tuple[Any, str]:
    """The durable_rules host and ruleset name behind ``engine`` (``Engine`` keeps them as
    ``_host``/``_name``; a helper object holding ``_host`` and ``name`` is found too)."""
    if hasattr(engine, "_host"):
        return engine._host, engine._name
    for value in vars(engine).values():
        if hasattr(value, "_host") and isinstance(getattr(value, "name", None), str):
            return value._host, value.name
    raise LookupError("cannot find the durable_rules host of the engine")


@pytest.fixture
def engine(zibo: Ruleset) -> Iterator[Engine]:
    """A fresh engine per test: faults are injected into its host (no memo of firings: every
    decision reaches durable_rules)."""
    e = Engine(zibo, fired_memo=0)
    yield e
    e.close()


class SidSpy:
    """Wraps ``host.assert_fact`` to remember the sid of every session the engine opens."""

    def __init__(self, engine: Engine, fault: Callable[[int], BaseException | None] | None = None, before: bool = False) -> None:
        self.sids: list[str] = []
        self.calls = 0
        self._real = durable_of(engine)[0].assert_fact
        self._fault = fault
        self._before = before

    def __call__(self, name: str, payload: dict[str, Any], complete: Any = None) -> Any:
        self.calls += 1
        self.sids.append(payload["sid"])
        exc = self._fault(self.calls) if self._fault else None
        if exc is not None and self._before:
            raise exc
        result = self._real(name, payload, complete)
        if exc is not None:
            raise exc  # after the C engine created the session and ran the actions
        return result


def session_exists(engine: Engine, sid: str) -> bool:
    host, name = durable_of(engine)
    try:
        state = host.get_state(name, sid)
    except durable_engine.durable_rules_engine.error:
        return False
    return bool(state)


def test_session_probe_sees_a_live_session(engine: Engine) -> None:
    """The probe used below does see a session that was not deleted (it can fail)."""
    host, name = durable_of(engine)
    host.assert_fact(name, {"request__listed": False, "sid": "probe"})
    assert session_exists(engine, "probe")
    host.delete_state(name, "probe")
    assert not session_exists(engine, "probe")




@pytest.mark.parametrize(
    "before", [True, False], ids=["before-assert", "after-assert"]
)
@pytest.mark.parametrize("exc_type", [Boom, MemoryError, HardBoom])
def test_assert_fact_raising_once_leaves_no_session(
    engine: Engine, zibo: Ruleset, before: bool, exc_type: type[BaseException], monkeypatch: pytest.MonkeyPatch
) -> None:
    req = request(sharing_row(zibo), zibo)
    expected = engine.decide(req)
    spy = SidSpy(engine, fault=lambda n: exc_type("injected") if n == 1 else None, before=before)
    monkeypatch.setattr(durable_of(engine)[0], "assert_fact", spy)
    with pytest.raises(exc_type):
        engine.decide(req)
    assert not session_exists(engine, spy.sids[0])
    assert engine.decide(req) == expected  # next decision right
    assert not session_exists(engine, spy.sids[1])


def test_more_failed_decisions_than_the_session_cap_then_a_good_one(
    engine: Engine, zibo: Ruleset, monkeypatch: pytest.MonkeyPatch
) -> None:
    req = request(sharing_row(zibo), zibo)
    expected = engine.decide(req)
    failures = SESSION_CAP + 100
    spy = SidSpy(engine, fault=lambda n: Boom("injected") if n <= failures else None)
    monkeypatch.setattr(durable_of(engine)[0], "assert_fact", spy)
    for _ in range(failures):
        with pytest.raises(Boom):
            engine.decide(req)
    assert spy.calls == failures  # every one reached durable_rules and opened a session
    assert engine.decide(req) == expected


def test_sessions_are_capped_without_the_engine_cleanup(engine: Engine) -> None:
    """Why the test above proves something: undeleted sessions do hit the cap."""
    host, name = durable_of(engine)
    opened = 0
    try:
        with pytest.raises(MemoryError):
            for i in range(SESSION_CAP + 10):
                host.assert_fact(name, {"request__listed": False, "sid": f"leak{i}"})
                opened += 1
        assert opened == SESSION_CAP
    finally:
        for i in range(opened):
            host.delete_state(name, f"leak{i}")


def test_the_lock_is_free_after_a_fault(engine: Engine, zibo: Ruleset, monkeypatch: pytest.MonkeyPatch) -> None:
    req = request(sharing_row(zibo), zibo)
    expected = engine.decide(req)
    spy = SidSpy(engine, fault=lambda n: Boom("injected") if n == 1 else None)
    monkeypatch.setattr(durable_of(engine)[0], "assert_fact", spy)
    with pytest.raises(Boom):
        engine.decide(req)
    got: list[Any] = []
    t = threading.Thread(target=lambda: got.append(engine.decide(req)), daemon=True)
    t.start()
    t.join(timeout=30)
    assert not t.is_alive(), "another thread could not decide: the engine lock was kept"
    assert got == [expected]


def test_fault_while_building_the_decision(engine: Engine, zibo: Ruleset, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure after the rules ran (the deadline computation) leaves no session either."""
    req = request(verification_row(zibo), zibo)
    expected = engine.decide(req)
    assert expected.method is Method.VERIFICATION and expected.deadline is not None
    real = engine._verification_deadline
    calls = [0]

    def flaky(*args: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:
            raise Boom("injected")
        return real(*args)

    monkeypatch.setattr(engine, "_verification_deadline", flaky)
    spy = SidSpy(engine)
    monkeypatch.setattr(durable_of(engine)[0], "assert_fact", spy)
    with pytest.raises(Boom):
        engine.decide(req)
    assert not session_exists(engine, spy.sids[0])
    assert engine.decide(req) == expected


def _raise_once_in_action(engine: Engine, rule_id: str) -> list[int]:
    """Make the action of ``rule_id`` raise the first time it runs; returns its call count."""
    host, name = durable_of(engine)
    promise = host.get_ruleset(name)._actions[rule_id]
    real = promise._func
    calls = [0]

    def action(c: Any) -> None:
        calls[0] += 1
        if calls[0] == 1:
            raise Boom("injected in a rule action")
        real(c)

    promise._func = action
    return calls


def test_rule_action_raising_leaves_no_session_and_next_decision_right(
    engine: Engine, zibo: Ruleset, monkeypatch: pytest.MonkeyPatch
) -> None:
    req = request(sharing_row(zibo), zibo)
    expected = engine.decide(req)
    assert expected.method is Method.DATA_SHARING
    calls = _raise_once_in_action(engine, "sharing.allowed")
    spy = SidSpy(engine)
    monkeypatch.setattr(durable_of(engine)[0], "assert_fact", spy)
    try:
        engine.decide(req)  # raises (see the next test): it must still clean up
    except Exception:  # noqa: BLE001 - raising is the fixed behaviour; both must clean up
        pass
    assert calls[0] == 1
    assert not session_exists(engine, spy.sids[0])
    assert engine.decide(req) == expected


def test_rule_action_raising_is_not_a_silently_wrong_decision(engine: Engine, zibo: Ruleset) -> None:
    req = request(sharing_row(zibo), zibo)
    expected = engine.decide(req)
    _raise_once_in_action(engine, "sharing.allowed")
    try:
        got = engine.decide(req)
    except Exception:  # noqa: BLE001 - any error is acceptable; a wrong answer is not
        return
    assert got == expected, f"silently answered {got.method} instead of {expected.method}"


NO_MATCH_SCRIPT = textwrap.dedent(
    """
    import sys
    from nocert_rules import Engine, load_ruleset

    engine = Engine(load_ruleset(sys.argv[1]), fired_memo=0)  # each decision asserts
    request = {
        "service_item": "S1", "certificate": "proxy-only",
        "applicant": {"kind": "person", "id_number": "370399199001011234"},
        "requested_at": "2024-06-03T10:00:00",
    }
    for _ in range(3):
        decision = engine.decide(request)
    print(decision.method.value, [step.rule_id for step in decision.trace])
    """
)


def test_a_decision_where_no_rule_matches_does_not_abort_the_process(tmp_path: Path) -> None:
    # The tiny ruleset without its catch-all PROXY rule: nothing matches a proxy-only row.
    rules = [r for r in RULES if r["id"] != "x.retained"]
    folder = write_ruleset(tmp_path / "no-catch-all", rules=rules)
    # In a child process: the failure mode is an abort that would take pytest down with it.
    done = subprocess.run(
        [sys.executable, "-c", NO_MATCH_SCRIPT, str(folder)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-500:]}"
    assert done.stdout.split()[0] == "APPLICANT_PROVIDED"  # the manifest's fallback
    assert "manifest.fallback" in done.stdout
