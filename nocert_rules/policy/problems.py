"""The problems of one load, collected so that every problem in every file is reported at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nocert_rules.errors import Problem, RulesetError


class Problems:
    """Collects every problem of a load; ``attempt`` runs a step and keeps its problems."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, err: RulesetError) -> None:
        self.items.extend(err.problems)

    def attempt(self, step: Callable[[], Any]) -> Any:
        try:
            return step()
        except RulesetError as err:
            self.add(err)
            return None

    def raise_any(self) -> None:
        if self.items:
            raise RulesetError.of(self.items)
