"""One interface, two rule backends, and the choice between them.

A backend compiles ``(rule id, condition)`` pairs once and then, for each set of facts, returns
the ids of the rules that fired, in file order, each once (``RuleBackend``):

- ``durable``: durable_rules 2.0.28 (``nocert_rules.engine.durable_host``), the reference engine;
  only for rule sets within its measured budget (``nocert_rules.engine.budget``) and where it
  imports (it does not on Python 3.13+ unless built with the workaround in the README);
- ``compiled``: the same conditions as Python closures (``nocert_rules.engine.compiled``), no
  size limits; proven to fire the same rules (``tests/test_agreement.py``);
- ``auto`` (the default): durable where it imports and the rule set is within budget, else
  compiled. ``choose`` says which and why (``Choice.reason``; ``nocert-rules info`` prints it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from nocert_rules.engine import budget
from nocert_rules.errors import RulesetError

BackendName = Literal["auto", "durable", "compiled"]
BACKENDS: tuple[str, ...] = ("auto", "durable", "compiled")

Rules = Sequence[tuple[str, Mapping[str, Any]]]
Locate = Callable[[int | None], tuple[str, int | None]]
"""Where rule ``i`` is written: (file, line); ``None``: the rules file itself."""


class RuleBackend(Protocol):
    kind: str

    def fire(self, facts: Mapping[str, Any]) -> list[str]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Choice:
    """The backend a rule set gets (``durable`` or ``compiled``) and why."""

    backend: Literal["durable", "compiled"]
    reason: str


@functools.cache
def durable_available() -> tuple[bool, str]:
    """Whether durable_rules imports here, and if not, why (one line)."""
    try:
        from durable import engine  # noqa: F401
    except (ImportError, OSError) as exc:
        return False, f"durable_rules does not import here ({type(exc).__name__}: {str(exc)[:160]})"
    return True, "durable_rules imports"


def choose(rules: Rules, requested: str = "auto", locate: Locate | None = None) -> Choice:
    """The backend for ``rules``; ``RulesetError`` if ``durable`` is asked for and cannot be had."""
    if requested not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {requested!r}")
    if requested == "compiled":
        return Choice("compiled", "asked for / 指定 compiled")
    over = budget.check(rules)
    if requested == "durable":
        available, why = durable_available()
        if not available:
            file, line = (locate or _nowhere)(None)
            raise RulesetError(file, line, None, f"backend 'durable' asked for, but {why}")
        if over is not None:
            file, line = (locate or _nowhere)(over.index)
            raise RulesetError(file, line, None, f"over durable_rules' budget: {over.problem}")
        return Choice("durable", f"asked for / 指定 durable; within budget ({budget.usage(rules).describe()})")
    available, why = durable_available()
    if not available:
        return Choice("compiled", f"auto: {why}")
    if over is not None:
        file, line = (locate or _nowhere)(over.index)
        where = f"{file}:{line}" if line is not None else file
        return Choice("compiled", f"auto: over durable_rules' budget at {where}: {over.problem}")
    return Choice("durable", f"auto: durable_rules within budget ({budget.usage(rules).describe()})")


def build(label: str, rules: Rules, choice: Choice) -> RuleBackend:
    """Compile ``rules`` on the chosen backend."""
    if choice.backend == "durable":
        from nocert_rules.engine.durable_host import CompiledRules

        return CompiledRules(label, rules)
    from nocert_rules.engine.compiled import CompiledPredicates

    return CompiledPredicates(label, rules)


def _nowhere(_index: int | None) -> tuple[str, int | None]:
    return "(rules)", None


def rule_locator(file: str, data: bytes | None, key: str = "rules") -> Locate:
    """``Locate`` for rules listed under ``key`` in ``file`` (re-read only when asked)."""

    def locate(index: int | None) -> tuple[str, int | None]:
        if data is None:
            return file, None
        from nocert_rules.policy.yaml_source import load_located_text

        try:
            doc = load_located_text(data.decode("utf-8"), file)
        except Exception:  # noqa: BLE001 - it loaded once; only the line is lost
            return file, None
        path: tuple[str | int, ...] = (key,) if index is None else (key, index, "when")
        return file, doc.line_of(path)

    return locate


def ruleset_choices(ruleset: Any, requested: str = "auto") -> dict[str, Choice]:
    """The backend of each rule file of a loaded ruleset (policy rules; complaint rules if any),
    as ``Engine`` / ``ComplaintEngine`` would choose it. ``RulesetError`` as ``choose``."""
    rules_file = ruleset.manifest.files.rules
    out = {
        rules_file: choose(
            [(r.id, r.when) for r in ruleset.rules],
            requested,
            rule_locator(rules_file, ruleset.files.get(rules_file)),
        )
    }
    name = getattr(ruleset.manifest.files, "complaint_rules", None)
    if name or (ruleset.directory / "complaint_rules.yaml").is_file():
        from nocert_rules.policy.complaint_rules import load_complaint_rules

        loaded = load_complaint_rules(ruleset)
        data = ruleset.files.get(loaded.file)
        if data is None and (ruleset.directory / loaded.file).is_file():
            data = (ruleset.directory / loaded.file).read_bytes()
        out[loaded.file] = choose(
            [(r.id, r.when) for r in loaded.content.rules], requested, rule_locator(loaded.file, data)
        )
    return out
