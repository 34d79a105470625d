"""The model configuration every ruleset file schema shares: unknown keys are errors."""

from pydantic import ConfigDict

STRICT = ConfigDict(extra="forbid", frozen=True)
"""Unknown keys are errors; loaded values are immutable."""
