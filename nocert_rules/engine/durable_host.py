"""durable_rules, used safely: one compiled rule set on a private host.

durable-rules 2.0.28 is old C code with hazards this module contains in one place:

- every ``durable.engine.Host`` starts background timer threads: ``_PrivateHost`` never does;
- the global ``durable.lang`` host registers rulesets lazily and races under threads: unused;
- the C core caps live sessions at 1024 per ruleset: each ``fire`` uses one short-lived
  session, deleted in every case, even when the engine raised;
- deleting the session of a fact that matched no rule aborts the process (double free):
  when nothing matched, a no-op "sweep" fact is asserted first (only then: it costs nothing
  on the common path, where an always-matching rule would cost ~9 µs a decision);
- an exception in a rule action is swallowed by durable's ``Promise`` into the session state,
  so a rule would silently not have fired: ``_StrictPromise`` lets it propagate instead;
- the C core is not known to be thread-safe across rulesets: one process-wide lock, and the
  closed check sits inside it (``close`` racing ``fire`` gives ``EngineClosedError``, never a
  C error about a ruleset that is gone);
- the C core reports failures as bare exceptions (``error code: 113``): they become
  ``BackendError``;
- an ``$or`` whose alternatives both hold fires its rule once per alternative: ``fire`` reports
  each rule once (a rule fired or it did not);
- its fixed-size tables (512-entry hash sets per node, 256-entry beta lists, 32-expression
  sequences) hang, crash or abort past their size: ``nocert_rules.engine.budget`` keeps rule sets
  well inside them, and only rule sets within that budget are compiled here.

Callers compile ``(rule id, condition)`` pairs (see ``nocert_rules.policy.conditions``) and get back,
for each set of facts, the ids of the rules that fired, in priority (file) order.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from durable import engine as durable_engine

from nocert_rules.errors import BackendError, EngineClosedError
from nocert_rules.policy import conditions

__all__ = ["ENGINE_LOCK", "BackendError", "CompiledRules", "EngineClosedError"]

ENGINE_LOCK = threading.RLock()
"""One lock for every call into durable_rules' C core, whatever the ruleset."""

_IDS = itertools.count(1)
_SWEEP = "_nocert_sweep"  # rule ids may not start with "_": no clash


class _PrivateHost(durable_engine.Host):
    """A durable_rules host that never starts its dispatch/timer threads (no timers are used)."""

    def _run(self) -> None:
        return None


class _StrictPromise(durable_engine.Promise):
    """A synchronous action whose exceptions propagate out of ``assert_fact``.

    durable's own ``Promise.run`` catches them and records them in the session state only.
    """

    def run(self, c: Any, complete: Any) -> None:
        self._func(c)
        complete(None)


class CompiledRules:
    """Rules compiled into one durable_rules ruleset; ``fire(facts)`` -> ids of the rules that fired."""

    kind = "durable"

    def __init__(self, label: str, rules: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        self.name = f"nocert_{label}_{next(_IDS)}"
        self._keys: dict[str, str] = {}
        for _, when in rules:
            for fact in conditions.facts_named(when):
                self._keys[fact] = conditions.durable_key(fact)
        self._fired: list[str] = []
        self._sid = itertools.count(1)
        definition: dict[str, Any] = {}
        for priority, (rule_id, when) in enumerate(rules, start=1):
            definition[rule_id] = {
                "all": [{"m": conditions.to_durable(when)}],
                "pri": priority,
                "run": _StrictPromise(self._recorder(rule_id)),
            }
        definition[_SWEEP] = {
            "all": [{"m": {_SWEEP: True}}],
            "pri": len(definition) + 1,
            "run": _StrictPromise(_noop),
        }
        with ENGINE_LOCK:
            try:
                self._host = _PrivateHost({self.name: definition})
            except Exception as exc:  # the C core raises bare Exception("... error code: N")
                raise BackendError(f"durable_rules could not compile the rules / 规则编译失败: {exc}") from None
        # Free the C ruleset when this object is collected, if close() was never called.
        self._finalizer = weakref.finalize(self, _free, self._host, self.name)
        self._finalizer.atexit = False  # no C calls while the interpreter shuts down

    def _recorder(self, rule_id: str) -> Any:
        fired = self._fired

        def record(_closure: Any) -> None:
            fired.append(rule_id)

        return record

    def fire(self, facts: Mapping[str, Any]) -> list[str]:
        """Assert ``facts`` (dotted names) in a fresh session; the rules that fired, in order.

        Facts no rule reads are not sent; an absent fact matches no condition on it.
        """
        # Only the facts some rule reads: less JSON for durable_rules to parse and match.
        payload = {key: facts[fact] for fact, key in self._keys.items() if fact in facts}
        with ENGINE_LOCK:
            # Inside the lock: close() (which takes it too) cannot free the ruleset under us.
            if not self._finalizer.alive:
                raise EngineClosedError(f"{self.name} is closed / 引擎已关闭")
            sid = str(next(self._sid))
            payload["sid"] = sid
            self._fired.clear()
            try:
                try:
                    self._host.assert_fact(self.name, payload)
                except durable_engine.MessageNotHandledException:
                    # Nothing matched: make the session deletable without aborting the process.
                    self._host.assert_fact(self.name, {_SWEEP: True, "sid": sid})
                # dict: each rule once, in the order it first fired (an $or fires once per
                # alternative that holds).
                fired = list(dict.fromkeys(self._fired))
            except durable_engine.durable_rules_engine.error as exc:
                self._fired.clear()
                with contextlib.suppress(Exception):
                    self._host.delete_state(self.name, sid)
                raise BackendError(f"durable_rules failed on a fact / 规则引擎执行失败: {exc}") from None
            except BaseException:
                self._fired.clear()
                # The session may not exist (the failure came first): never mask the cause.
                with contextlib.suppress(Exception):
                    self._host.delete_state(self.name, sid)
                raise
            self._fired.clear()
            self._host.delete_state(self.name, sid)
            return fired

    def close(self) -> None:
        """Free the C ruleset now; ``fire`` raises ``EngineClosedError`` afterwards."""
        self._finalizer()


def _free(host: _PrivateHost, name: str) -> None:
    with ENGINE_LOCK:
        compiled = host._ruleset_directory.pop(name, None)
        if compiled is not None:
            durable_engine.durable_rules_engine.delete_ruleset(compiled._handle)


def _noop(_closure: Any) -> None:
    return None
