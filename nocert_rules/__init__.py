"""nocert_rules: decide how each certificate is replaced (无证明城市), clause by clause.

    from nocert_rules import Engine, load_ruleset

    engine = Engine(load_ruleset("rulesets/zibo"))
    decision = engine.decide({...})   # a DecisionRequest or a plain dict
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .enums import ApplicantKind, CreditLevel, Method, RecordKind, ReplacementMethod, RowStatus
from .errors import CalendarError, NocertError, RecordError, RequestError, RulesetError
from .models import Applicant, Decision, DecisionRequest, TraceStep
from .ruleset import Ruleset, load_ruleset

if TYPE_CHECKING:
    from .cache import CachedEngine
    from .calendar import WorkCalendar
    from .engine import Engine

__all__ = [
    "Applicant",
    "CachedEngine",
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
        from .engine import Engine

        return Engine
    if name == "CachedEngine":
        from .cache import CachedEngine

        return CachedEngine
    if name == "WorkCalendar":
        from .calendar import WorkCalendar

        return WorkCalendar
    raise AttributeError(name)
