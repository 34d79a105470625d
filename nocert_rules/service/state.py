"""The ruleset a service decides with, and its reload: load, lint, then swap atomically.

A request takes the current ``Loaded`` once and decides with it to the end, so a reload never
changes a decision half-way, and every decision names (in its ``ruleset`` stamp) the version
that made it. The engine a reload replaces is not closed: requests still holding it finish, and
it is freed when the last of them lets go (``Engine`` frees its compiled rules when collected).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nocert_rules.engine.core import Engine
from nocert_rules.errors import NocertError, RulesetError
from nocert_rules.policy.ruleset import Ruleset, load_ruleset
from nocert_rules.tools.lint import Finding, lint_loaded, ruleset_error_message


class ReloadRefused(Exception):
    """The new ruleset did not load, or linted with errors: the running version stays."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Loaded:
    """One loaded version: the ruleset, its engine and when it was put into service."""

    ruleset: Ruleset
    engine: Engine
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def describe(self) -> dict[str, Any]:
        """What ``GET /v1/ruleset`` shows."""
        rs = self.ruleset
        m = rs.manifest
        info: dict[str, Any] = {
            "name": rs.name,
            "title": m.title,
            "version": rs.version,
            "sha256": rs.sha256,
            "jurisdiction": m.jurisdiction,
            "effective_from": m.effective_from.isoformat(),
            "effective_until": m.effective_until.isoformat() if m.effective_until else None,
            "rows": len(rs.rows),
            "rules": len(rs.rules),
            "loaded_at": self.loaded_at.isoformat(),
            "as_of_supported": _supports_as_of(self.engine),
        }
        backend = getattr(self.engine, "backend", None)
        if backend is not None:
            info["backend"] = str(getattr(backend, "name", backend))
            reason = getattr(self.engine, "backend_reason", None)
            if reason:
                info["backend_reason"] = str(reason)
        return info


def _supports_as_of(engine: Engine) -> bool:
    """Whether ``Engine.decide`` takes an ``as_of`` (dated rows); older engines do not."""
    import inspect

    return "as_of" in inspect.signature(engine.decide).parameters


def load_checked(path: str | Path, backend: str = "auto") -> Loaded:
    """Load and lint ``path``; raise ``ReloadRefused`` with every problem if it is not fit to serve.

    ``backend`` is passed to ``Engine`` (``auto``, ``durable`` or ``compiled``)."""
    try:
        rs = load_ruleset(path)
    except RulesetError as exc:
        raise ReloadRefused([f"规则集无法加载 / ruleset does not load: {ruleset_error_message(path, exc)}"]) from None
    errors: list[Finding] = [f for f in lint_loaded(rs) if f.severity == "error"]
    if errors:
        raise ReloadRefused([f"{f.where}: [{f.code}] {f.message}" for f in errors])
    try:
        engine = Engine(rs, backend=backend)
    except NocertError as exc:
        raise ReloadRefused([f"引擎无法编译规则 / the engine cannot compile the rules: {exc}"]) from None
    return Loaded(rs, engine)


class RulesetHolder:
    """The current version; ``reload()`` replaces it only by one that loads and lints clean."""

    def __init__(self, path: str | Path, loaded: Loaded | None = None, backend: str = "auto") -> None:
        self.path = Path(path)
        self.backend = backend
        self._current = loaded if loaded is not None else load_checked(self.path, backend)
        self._reload_lock = threading.Lock()
        self.reloads = 0
        self.refused_reloads = 0

    @property
    def current(self) -> Loaded:
        return self._current

    def reload(self) -> Loaded:
        """Load the folder again; swap if it is fit, else raise ``ReloadRefused`` (old one stays)."""
        with self._reload_lock:
            try:
                new = load_checked(self.path, self.backend)
            except ReloadRefused:
                self.refused_reloads += 1
                raise
            self._current = new  # one reference assignment: atomic for every reader
            self.reloads += 1
            return new
