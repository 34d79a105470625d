"""The compiled backend: conditions compiled to plain Python predicates (closures).

Each rule's ``when`` (the condition language of ``nocert_rules.policy.conditions``) becomes one
function ``facts -> bool`` built from closures over the ruleset's values; nothing of the
ruleset is ever ``eval``-ed or ``exec``-ed. ``fire(facts)`` returns the ids of the rules whose
predicate holds, in file order, each once: what the durable backend returns
(``nocert_rules.engine.durable_host``), proven equal on every ruleset by ``tests/test_agreement.py``.

Semantics, those of durable_rules (the reference):

- a fact that is absent, or ``None``, satisfies no test on it (``not`` and ``not_in`` included):
  an unlisted certificate has no ``row.*`` facts, and ``row.status: {not: abolished}`` does
  not hold for it;
- equality is typed: ``True`` is not ``1``;
- ``any``: at least one alternative holds; ``all`` and the keys of one mapping: every one.

No size limits apart from the loader's: no C tables, no recursion at decision time beyond the
nesting the loader allows. Thread-safe: no state is shared between calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nocert_rules.errors import EngineClosedError

Facts = Mapping[str, Any]
Predicate = Callable[[Facts], bool]


def _same(value: Any, expected: Any) -> bool:
    return value is not None and type(value) is type(expected) and value == expected


def _equals(fact: str, expected: Any) -> Predicate:
    if isinstance(expected, bool):  # True/False are singletons: identity is typed equality
        return lambda f: f.get(fact) is expected
    if isinstance(expected, str):
        kind = str
        return lambda f: type(v := f.get(fact)) is kind and v == expected
    return lambda f: _same(f.get(fact), expected)


def _one_of(fact: str, options: Sequence[Any]) -> Predicate:
    """The fact holds one of ``options`` (typed)."""
    if all(isinstance(o, str) for o in options):
        strings = frozenset(options)
        kind = str
        return lambda f: type(v := f.get(fact)) is kind and v in strings
    if all(isinstance(o, bool) for o in options):
        bools = tuple(options)
        return lambda f: any(f.get(fact) is b for b in bools)
    items = tuple(options)
    return lambda f: any(_same(f.get(fact), o) for o in items)


def _term(fact: str, expected: Any) -> Predicate:
    if not isinstance(expected, Mapping):
        return _equals(fact, expected)
    op, operand = next(iter(expected.items()))
    if op == "in":
        return _one_of(fact, operand)
    if op == "not":
        equal = _equals(fact, operand)
        return lambda f: f.get(fact) is not None and not equal(f)
    if op == "not_in":
        member = _one_of(fact, operand)
        return lambda f: f.get(fact) is not None and not member(f)
    raise ValueError(f"unknown operator {op!r}")  # the loader refuses it first


def _all(predicates: Sequence[Predicate]) -> Predicate:
    if len(predicates) == 1:
        return predicates[0]
    if len(predicates) == 2:
        a, b = predicates
        return lambda f: a(f) and b(f)
    items = tuple(predicates)
    return lambda f: all(p(f) for p in items)


def _any(predicates: Sequence[Predicate]) -> Predicate:
    if len(predicates) == 1:
        return predicates[0]
    items = tuple(predicates)
    return lambda f: any(p(f) for p in items)


def compile_condition(when: Mapping[str, Any]) -> Predicate:
    """A validated condition as a predicate over dotted fact names."""
    parts: list[Predicate] = []
    for key, expected in when.items():
        if key == "all":
            parts.append(_all([compile_condition(sub) for sub in expected]))
        elif key == "any":
            parts.append(_any([compile_condition(sub) for sub in expected]))
        else:
            parts.append(_term(key, expected))
    return _all(parts)


Specialised = Predicate | bool
"""A condition with some facts known: a constant when they settle it, else a predicate on the rest."""


def specialise(when: Mapping[str, Any], known: Facts) -> Specialised:
    """``when`` with the facts named in ``known`` (present or ``None``: absent) fixed: ``True`` or
    ``False`` when those decide it whatever the other facts are, else a predicate over the others
    that holds exactly when ``compile_condition(when)`` holds on them and ``known``
    (``engine.plan`` compiles each list row's rules this way)."""
    parts: list[Predicate] = []
    for key, expected in when.items():
        if key in ("all", "any"):
            subs = [specialise(sub, known) for sub in expected]
            if key == "all":
                if any(sub is False for sub in subs):
                    return False
                preds = [sub for sub in subs if sub is not True]
                if preds:
                    parts.append(_all(preds))  # type: ignore[arg-type]
                continue
            if any(sub is True for sub in subs):
                continue
            preds = [sub for sub in subs if sub is not False]
            if not preds:
                return False
            parts.append(_any(preds))  # type: ignore[arg-type]
        elif key in known:
            if not _term(key, expected)(known):
                return False
        else:
            parts.append(_term(key, expected))
    return _all(parts) if parts else True


class CompiledPredicates:
    """Rules compiled to predicates; ``fire(facts)`` -> ids of the rules that fired, in order."""

    kind = "compiled"

    def __init__(self, label: str, rules: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        self.name = f"compiled_{label}"
        self._rules: tuple[tuple[str, Predicate], ...] | None = tuple(
            (rule_id, compile_condition(when)) for rule_id, when in rules
        )

    def fire(self, facts: Facts) -> list[str]:
        """The ids of the rules whose condition holds for ``facts``, in file order."""
        rules = self._rules
        if rules is None:
            raise EngineClosedError(f"{self.name} is closed / 引擎已关闭")
        return [rule_id for rule_id, holds in rules if holds(facts)]

    def close(self) -> None:
        """Drop the predicates; ``fire`` raises ``EngineClosedError`` afterwards."""
        self._rules = None
