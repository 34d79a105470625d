"""Typed errors. Every error says where (file:line, or a field path) and what."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


class NocertError(Exception):
    """Base class of every error this library raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem of a ruleset file: ``file:line: field.path: problem``."""

    file: str
    line: int | None
    field: str | None
    problem: str

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
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem
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
        self.errors = errors
        detail = "; ".join(f"{path}: {problem}" for path, problem in errors)
        super().__init__(f"invalid decision request: {detail}")


class CalendarError(NocertError, ValueError):
    """A working-time computation was asked something impossible."""


class RecordError(NocertError, ValueError):
    """A record or a transition between record states is not allowed."""


class EngineClosedError(NocertError, RuntimeError):
    """The engine was closed; its compiled rules are freed."""


class BackendError(NocertError, RuntimeError):
    """The rule backend (durable_rules' C core) refused or failed a rule set or a fact."""
