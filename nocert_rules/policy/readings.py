"""The ruleset's readings: where the plan leaves a choice or the library must read it, the value
the manifest chose and the clause (or ruleset note) behind it (issue 24; ``lint`` lists them,
docs/clause-matrix.md names them in its "reading" column).

Each :class:`Reading` names the manifest field (a dotted path), its value, the clause it reads
(``of``) and the clause that says why (``basis``, None when the manifest cites none). Which
fields are readings is mechanism (this table); their values and clauses are the ruleset's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nocert_rules.policy.loaded import Ruleset

__all__ = ["Reading", "readings"]


@dataclass(frozen=True)
class Reading:
    field: str
    value: str
    of: str | None
    basis: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "of": self.of, "basis": self.basis}


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return str(getattr(value, "value", value))


# field, value, the clause it reads, the clause behind the choice; None when the section is unset
_TABLE: tuple[tuple[str, Callable[[Any], Any], Callable[[Any], str | None], Callable[[Any], str | None]], ...] = (
    ("deadlines.publication_schedule", lambda m: m.deadlines.publication_schedule,
     lambda m: m.deadlines.publication_clause, lambda m: m.deadlines.publication_schedule_clause),
    ("deadlines.minutes_unit", lambda m: m.deadlines.minutes_unit,
     lambda m: m.deadlines.verification_clause, lambda m: m.deadlines.minutes_unit_clause),
    ("pledge_policy.false_pledge_bar", lambda m: m.pledge_policy.false_pledge_bar,
     lambda m: m.records.blacklist_clause, lambda m: m.pledge_policy.false_pledge_bar_clause),
    ("pledge_policy.credit_repair_counts_from", lambda m: m.pledge_policy.credit_repair_counts_from,
     lambda m: m.records.blacklist_clause, lambda m: m.pledge_policy.credit_repair_clause),
    ("pending_adjustment.methods", lambda m: m.pending_adjustment and m.pending_adjustment.methods,
     lambda m: m.pending_adjustment.clause, lambda m: m.pending_adjustment.reading_clause),
    ("on_the_spot.working_minutes", lambda m: m.on_the_spot and m.on_the_spot.working_minutes,
     lambda m: m.on_the_spot.clause, lambda m: m.on_the_spot.limit_clause),
    ("legal_basis_policy.sufficient_ranks", lambda m: m.legal_basis_policy and m.legal_basis_policy.sufficient_ranks,
     lambda m: m.legal_basis_policy.clause, lambda m: m.legal_basis_policy.clause),
)


def readings(ruleset: Ruleset) -> list[Reading]:
    """The manifest's readings, in a fixed order; a section the manifest leaves unset is left out."""
    m = ruleset.manifest
    out = []
    for field, value_of, of, basis in _TABLE:
        value = value_of(m)
        if value is None:
            continue
        out.append(Reading(field=field, value=_text(value), of=of(m), basis=basis(m)))
    return out
