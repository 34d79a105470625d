"""nocert_rules: decide how each certificate is replaced (无证明城市), clause by clause.

    from nocert_rules import Engine, load_ruleset

    engine = Engine(load_ruleset("rulesets/zibo"))
    decision = engine.decide({...})   # a DecisionRequest or a plain dict
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nocert_rules.enums import (
    ApplicantKind,
    CreditLevel,
    Method,
    RecordKind,
    ReplacementMethod,
    RowStatus,
)
from nocert_rules.errors import (
    BackendError,
    CalendarError,
    EngineClosedError,
    NocertError,
    RecordError,
    RequestError,
    RulesetError,
)
from nocert_rules.models import Applicant, Decision, DecisionRequest, TraceStep
from nocert_rules.policy.ruleset import Ruleset, load_ruleset

if TYPE_CHECKING:
    from nocert_rules.engine.core import Engine
    from nocert_rules.worktime.calendar import WorkCalendar

__all__ = [
    "Applicant",
    "BackendError",
    "EngineClosedError",
    "ApplicantKind",
    "CalendarError",
    "CreditLevel",
    "Decision",
    "DecisionRequest",
    "Engine",
    "Method",
    "NocertError",
    "RecordError",
    "RecordKind",
    "ReplacementMethod",
    "RequestError",
    "RowStatus",
    "Ruleset",
    "RulesetError",
    "TraceStep",
    "WorkCalendar",
    "load_ruleset",
]


def __getattr__(name: str) -> Any:
    # The engine (durable_rules) and calendar (holidays) load only when first used.
    if name == "Engine":
        from nocert_rules.engine.core import Engine

        return Engine
    if name == "WorkCalendar":
        from nocert_rules.worktime.calendar import WorkCalendar

        return WorkCalendar
    raise AttributeError(name)
