"""Probing durable_rules' C core in a child process: does a rule set compile, fire, and free?

durable-rules 2.0.28 segfaults, aborts or spins for ever on some rule sets a ruleset file may
well contain (issue #9: 495 ``in`` values, ``any`` over 495 alternatives, 250 rules with a
2-value ``in``, ``any`` nested 20 deep). Such a probe must never run in the process that
asks: :func:`probe` runs :func:`_child` with ``python -m nocert_rules.engine.durable_probe`` in a
fresh interpreter, with a timeout, and classifies the outcome. The measured budget
(``nocert_rules.engine.budget``) and its tests use it; ``benchmarks/durable_limits.py`` sweeps it.

The shapes (``SHAPES``) build ``(rule id, condition)`` lists in the condition language of
``nocert_rules.policy.conditions`` from one size parameter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Rules = list[tuple[str, dict[str, Any]]]


def in_values(n: int) -> Rules:
    """One rule: ``row.certificate_id: {in: [n ids]}``."""
    return [("probe.in", {"row.certificate_id": {"in": [f"ZM-{i:05d}" for i in range(n)]}})]


def any_alternatives(n: int) -> Rules:
    """One rule: ``any:`` over ``n`` one-fact alternatives."""
    return [("probe.any", {"any": [{"row.certificate_id": f"ZM-{i:05d}"} for i in range(n)]})]


def rules_with_in2(n: int) -> Rules:
    """``n`` rules, each ``row.certificate_id: {in: [2 ids]}``."""
    return [
        (f"probe.r{i}", {"row.certificate_id": {"in": [f"ZM-{2 * i:05d}", f"ZM-{2 * i + 1:05d}"]}})
        for i in range(n)
    ]


def plain_rules(n: int) -> Rules:
    """``n`` rules of two equality tests each (no alternatives)."""
    return [
        (f"probe.r{i}", {"row.certificate_id": f"ZM-{i:05d}", "request.listed": True}) for i in range(n)
    ]


def any_depth(n: int) -> Rules:
    """One rule: ``any:`` nested ``n`` deep around one test."""
    when: dict[str, Any] = {"request.listed": True}
    for _ in range(n):
        when = {"any": [when]}
    return [("probe.deep", when)]


def any_depth2(n: int) -> Rules:
    """One rule: ``any:`` nested ``n`` deep, two alternatives at each level."""
    when: dict[str, Any] = {"request.listed": True}
    for i in range(n):
        when = {"any": [when, {"row.certificate_id": f"ZM-{i:05d}"}]}
    return [("probe.deep2", when)]


def in_product(n: int) -> Rules:
    """One rule: two facts, each ``in`` ``n`` values (``n * n`` combinations)."""
    return [
        (
            "probe.product",
            {
                "row.certificate_id": {"in": [f"ZM-{i:05d}" for i in range(n)]},
                "row.service_item_code": {"in": [f"S-{i:05d}" for i in range(n)]},
            },
        )
    ]


def conjunction(n: int) -> Rules:
    """One rule: ``all:`` of ``n`` tests on one fact (no alternatives)."""
    return [("probe.and", {"all": [{"row.certificate_id": {"not": f"ZM-{i + 2:05d}"}} for i in range(n)]})]


def same_condition(n: int) -> Rules:
    """``n`` rules with the same condition (their paths end at one shared node)."""
    return [(f"probe.r{i}", {"request.listed": True}) for i in range(n)]


SHAPES: dict[str, Callable[[int], Rules]] = {
    "in_values": in_values,
    "any_alternatives": any_alternatives,
    "rules_with_in2": rules_with_in2,
    "plain_rules": plain_rules,
    "any_depth": any_depth,
    "any_depth2": any_depth2,
    "in_product": in_product,
    "conjunction": conjunction,
    "same_condition": same_condition,
}

PROBE_FACTS = {"row.certificate_id": "ZM-00001", "row.service_item_code": "S-00001", "request.listed": True}


@dataclass(frozen=True)
class ProbeResult:
    """How a child fared: ``ok`` (compiled, fired, freed), ``error`` (a Python exception),
    ``crash`` (killed by a signal or a non-zero exit), ``timeout`` (killed after the time)."""

    outcome: str
    detail: str
    seconds: float

    @property
    def survived(self) -> bool:
        return self.outcome == "ok"


def probe(rules: Rules, facts: dict[str, Any] | None = None, *, timeout: float = 20.0) -> ProbeResult:
    """Compile ``rules`` on durable_rules and fire ``facts`` in a fresh child process."""
    import time

    spec = json.dumps({"rules": rules, "facts": facts if facts is not None else PROBE_FACTS})
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "nocert_rules.engine.durable_probe"],
            input=spec,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return ProbeResult("timeout", f"no answer in {timeout:.0f} s", time.monotonic() - started)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        how = f"signal {-done.returncode}" if done.returncode < 0 else f"exit {done.returncode}"
        tail = (done.stderr.strip().splitlines() or [""])[-1][:200]
        return ProbeResult("crash", f"{how} {tail}".strip(), seconds)
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return ProbeResult("crash", f"no answer: {done.stdout[-200:]!r}", seconds)
    if "error" in answer:
        return ProbeResult("error", answer["error"], seconds)
    return ProbeResult("ok", json.dumps(answer["fired"]), seconds)


def _child() -> None:
    """Read ``{"rules": [...], "facts": {...}}`` on stdin; print ``{"fired": [...]}`` or ``{"error": ...}``."""
    spec = json.loads(sys.stdin.read())
    from nocert_rules.engine.durable_host import CompiledRules

    try:
        compiled = CompiledRules("probe", [(rule_id, when) for rule_id, when in spec["rules"]])
        fired = compiled.fire(spec["facts"])
        compiled.close()
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which classifies it
        print(json.dumps({"error": f"{type(exc).__name__}: {str(exc)[:200]}"}))
        return
    print(json.dumps({"fired": fired}))


if __name__ == "__main__":
    _child()
