"""Typed errors. Every error says where (file:line, or a field path) and what."""

from __future__ import annotations


class NocertError(Exception):
    """Base class of every error this library raises on purpose."""


class RulesetError(NocertError):
    """A ruleset file is malformed. The message reads ``file:line: field.path: problem``."""

    def __init__(self, file: str, line: int | None, field: str | None, problem: str) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {field}: {problem}" if field else f"{where}: {problem}")


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
