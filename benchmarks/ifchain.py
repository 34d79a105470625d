"""The ruleset's policy rules as a plain-Python if-chain (for comparison only).

``ifchain_source(ruleset)`` writes one ``if`` per policy rule, in file order, over the facts
dict ``Engine.fire`` takes (dotted names); ``compile_ifchain(ruleset)`` returns it as a
function ``fire(facts) -> list[rule ids]``. It is generated from ``rules.yaml`` rather than
typed by hand so that it cannot drift from the ruleset; run ``python benchmarks/ifchain.py``
to read it.

Semantics are the engine's (``conditions.evaluate``): equality is typed (``True`` is not
``1``), and an absent fact (an unlisted certificate has no ``row.*`` facts) matches nothing,
``not``/``not_in`` included.

It is the floor of what any rules engine can cost in Python: no engine, no JSON, no session.
It has none of what the engine is for (rules as data, validation, file:line errors).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nocert_rules.policy.ruleset import Ruleset, load_ruleset

FireFn = Callable[[Mapping[str, Any]], list[str]]


def _equals(var: str, value: Any) -> str:
    if isinstance(value, bool):
        return f"{var} is {value!r}"
    return f"{var} == {value!r}"


def _test(fact: str, expected: Any) -> str:
    var = f"f.get({fact!r})"
    if not isinstance(expected, Mapping):
        return _equals(var, expected)
    op, operand = next(iter(expected.items()))
    if op == "not":
        return f"({var} is not None and not ({_equals(var, operand)}))"
    if op == "in":
        if all(isinstance(v, str) for v in operand):
            return f"{var} in {tuple(operand)!r}"
        return "(" + " or ".join(_equals(var, v) for v in operand) + ")"
    # not_in
    return f"({var} is not None and not (" + " or ".join(_equals(var, v) for v in operand) + "))"


def _condition(when: Mapping[str, Any]) -> str:
    terms: list[str] = []
    for key, expected in when.items():
        if key == "all":
            terms.extend(f"({_condition(sub)})" for sub in expected)
        elif key == "any":
            terms.append("(" + " or ".join(f"({_condition(sub)})" for sub in expected) + ")")
        else:
            terms.append(_test(key, expected))
    return " and ".join(terms)


def ifchain_source(ruleset: Ruleset) -> str:
    """Python source of ``fire(f)`` for ``ruleset`` (see the module doc)."""
    lines = [
        f"# generated from the {ruleset.name} ruleset {ruleset.version} (sha256 {ruleset.sha256[:12]})",
        "def fire(f):",
        "    fired = []",
    ]
    for rule in ruleset.rules:
        lines.append(f"    if {_condition(rule.when)}:")
        lines.append(f"        fired.append({rule.id!r})")
    lines.append("    return fired")
    return "\n".join(lines) + "\n"


def compile_ifchain(ruleset: Ruleset) -> FireFn:
    namespace: dict[str, Any] = {}
    exec(compile(ifchain_source(ruleset), f"<ifchain {ruleset.name}>", "exec"), namespace)  # noqa: S102
    fire: FireFn = namespace["fire"]
    return fire


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "rulesets" / "zibo"
    print(ifchain_source(load_ruleset(path)), end="")


if __name__ == "__main__":
    main(sys.argv[1:])
