"""Typed errors. Every error says where (file:line, or a field path) and what.

What an error quotes may be input (a key, a value, a path): personal data in it is masked once,
here, as the error is built (``privacy.mask_text``), so ``str(exc)``, its fields and every
output made from them (``lint``, the CLI, HTTP problem details, logs) are masked alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from nocert_rules.privacy import mask_text


class NocertError(Exception):
    """Base class of every error this library raises on purpose. Its message is masked
    (``privacy.mask_text``): whatever a subclass quotes, ``str(exc)`` shows no personal data."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(mask_text(a) if isinstance(a, str) else a for a in args))


@dataclass(frozen=True)
class Problem:
    """One problem of a ruleset file: ``file:line: field.path: problem``."""

    file: str
    line: int | None
    field: str | None
    problem: str

    def __post_init__(self) -> None:
        for name in ("file", "field", "problem"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, mask_text(value))

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.problem}" if self.field else f"{where}: {self.problem}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RulesetError(NocertError):
    """A ruleset is malformed. ``problems`` lists every problem found (file, line, field path).

    ``file``, ``line``, ``field`` and ``problem`` are the first one's; the message reads
    ``file:line: field.path: problem`` and, when there are more, ``(and N more problems)``.
    """

    def __init__(
        self, file: str, line: int | None, field: str | None, problem: str, *, more: Sequence[Problem] = ()
    ) -> None:
        first = Problem(file, line, field, problem)
        self.problems: list[Problem] = [first, *more]
        self.file = first.file
        self.line = line
        self.field = first.field
        self.problem = first.problem
        n = len(more)
        super().__init__(f"{first} (and {n} more problem{'s' if n > 1 else ''})" if n else str(first))

    @classmethod
    def of(cls, problems: Sequence[Problem]) -> RulesetError:
        """One error carrying ``problems`` (at least one), in order, repeats dropped."""
        unique = list(dict.fromkeys(problems))
        first = unique[0]
        return cls(first.file, first.line, first.field, first.problem, more=unique[1:])


class RequestError(NocertError, ValueError):
    """A decision request is malformed. ``errors`` lists (field path, problem)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = [(mask_text(path), mask_text(problem)) for path, problem in errors]
        detail = "; ".join(f"{path}: {problem}" for path, problem in self.errors)
        super().__init__(f"invalid decision request: {detail}")


class CalendarError(NocertError, ValueError):
    """A working-time computation was asked something impossible."""


class RecordError(NocertError, ValueError):
    """A record or a transition between record states is not allowed."""


class EngineClosedError(NocertError, RuntimeError):
    """The engine was closed; its compiled rules are freed."""


class BackendError(NocertError, RuntimeError):
    """The rule backend (durable_rules' C core) refused or failed a rule set or a fact."""
