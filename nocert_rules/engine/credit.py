"""The applicant's credit facts: pledge bars and credit repair (三(五)3; 国办发〔2020〕42号).

A host may give the engine a *false-pledge lookup* (``Engine(rs, blacklist=store)``): any
object with ``false_pledge_status(id_number) -> FalsePledgeStatus``. The library's stores
(:mod:`nocert_rules.records.blacklist`, in memory or SQLite) keep only keyed hashes; the
lookup hashes the ID number it is given and never keeps it.

A credit repair counts from the day after its date, or from its date, as the ruleset's
``pledge_policy.credit_repair_counts_from`` says (and its ``credit_repair_clause`` explains).
Which bars a repair lifts is policy: the rules in ``rules.yaml`` test ``applicant.credit_repaired``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from nocert_rules.models import Applicant
    from nocert_rules.policy.ruleset import Ruleset


@dataclass(frozen=True)
class FalsePledgeStatus:
    """What a blacklist store knows of one applicant: when false pledges were found, last repair."""

    found_at: Sequence[datetime] = field(default_factory=tuple)
    repaired_on: date | None = None


class FalsePledgeLookup(Protocol):
    """A store of false pledges found (虚假承诺黑名单, 三(五)3), keyed by keyed hash."""

    def false_pledge_status(self, id_number: str) -> FalsePledgeStatus:
        """The store's entries for this applicant (hashed with the store's key, never kept)."""
        ...


def _counts(repaired: date | None, day: date, same_day: bool) -> date | None:
    if repaired is None:
        return None
    return repaired if (repaired <= day if same_day else repaired < day) else None


def credit_facts(
    ruleset: Ruleset, applicant: Applicant, at: datetime, blacklist: FalsePledgeLookup | None = None
) -> dict[str, Any]:
    """``applicant.on_blacklist`` (the host's blacklist or the store's false pledges, unless
    repaired since), ``applicant.false_pledge_on_record`` (the store's part alone),
    ``applicant.credit_repaired`` and the host's raw credit facts, at ``at`` (Asia/Shanghai)."""
    status = blacklist.false_pledge_status(applicant.id_number) if blacklist is not None else None
    if status is None and applicant.blacklisted_since is None and applicant.credit_repaired_on is None:
        on_blacklist = on_record = repaired = False  # nothing dated: no bar, no repair
    else:
        on_blacklist, on_record, repaired = _dated_bars(ruleset, applicant, at, status)
    return {
        "applicant.kind": applicant.kind._value_,  # .value, without the enum property's call
        "applicant.credit": applicant.credit._value_,
        "applicant.on_blacklist": on_blacklist,
        "applicant.serious_bad_record": applicant.serious_bad_record,
        "applicant.bad_record": applicant.bad_record,
        "applicant.false_pledge_on_record": on_record,
        "applicant.credit_repaired": repaired,
    }


def _dated_bars(
    ruleset: Ruleset, applicant: Applicant, at: datetime, status: FalsePledgeStatus | None
) -> tuple[bool, bool, bool]:
    """On the blacklist, a false pledge on record, and credit repaired after every dated bar."""
    same_day = ruleset.manifest.pledge_policy.credit_repair_counts_from == "same_day"
    day = at.date()
    repairs = [
        r
        for r in (
            _counts(applicant.credit_repaired_on, day, same_day),
            _counts(status.repaired_on, day, same_day) if status is not None else None,
        )
        if r is not None
    ]
    repaired = max(repairs) if repairs else None
    listed = applicant.blacklisted_since if applicant.blacklisted_since is not None and applicant.blacklisted_since <= day else None
    found = [f.date() for f in status.found_at if f <= at] if status is not None else []
    last_found = max(found) if found else None

    permanent = ruleset.manifest.pledge_policy.false_pledge_bar == "permanent"  # the ruleset's reading

    def lifted(since: date | None) -> bool:  # a false pledge's bar, lifted by a later repair unless permanent
        return not permanent and repaired is not None and (since is None or repaired >= since)

    on_record = last_found is not None and not lifted(last_found)
    # The false-pledge blacklist, whoever keeps it: the host (blacklisted_since) or the store.
    on_blacklist = (listed is not None and not lifted(listed)) or on_record
    dated = [d for d in (listed, last_found) if d is not None]
    # Repaired after every dated bar; undated ones (records, credit level) as the host reports them.
    return on_blacklist, on_record, repaired is not None and all(repaired >= d for d in dated)
