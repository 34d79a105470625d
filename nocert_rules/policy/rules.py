"""``rules.yaml`` and ``clauses.yaml``: the policy rules and the clauses they cite.

The schemas only; the conditions' language is ``policy/conditions.py``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from nocert_rules.enums import Method
from nocert_rules.policy.strict import STRICT as _STRICT

# ---------------------------------------------------------------- rules.yaml


class PolicyRule(BaseModel):
    """One policy rule: when the condition holds, offer or block a method, per a clause."""

    model_config = _STRICT
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    method: Method
    effect: Literal["offer", "block"]
    when: dict[str, Any]
    clause: str
    see_also: list[str] = Field(default_factory=list, description="further clauses the rule rests on")
    reason: str = Field(min_length=1, description="中文理由 / English reason")
    note: str | None = None


class RuleFile(BaseModel):
    model_config = _STRICT
    rules: list[PolicyRule] = Field(min_length=1)


# ---------------------------------------------------------------- clauses.yaml


class Clause(BaseModel):
    model_config = _STRICT
    id: str = Field(min_length=1)
    source: str
    title: str | None = None
    text: str = Field(min_length=1)
    quoted: bool = Field(default=True, description="false when the text is a summary, not a quotation")


class ClauseFile(BaseModel):
    model_config = _STRICT
    clauses: list[Clause] = Field(min_length=1)

