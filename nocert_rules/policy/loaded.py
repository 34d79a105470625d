"""The loaded ruleset: a plain data object, the loading pipeline's result (``policy/loader.py``).

It holds the validated manifest, the list indexed for lookup, the rules and clauses; it imports
none of the loaders (the side files' loaders take a ``Ruleset``).
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nocert_rules.models import Citation
from nocert_rules.policy import versions
from nocert_rules.policy.certificate_list import ListRow
from nocert_rules.policy.index import index_rows
from nocert_rules.policy.legal_basis import counts_on
from nocert_rules.policy.manifest import Manifest
from nocert_rules.policy.rules import Clause, PolicyRule
from nocert_rules.worktime.deadlines import DeadlinePolicy, WorkingLimit

if TYPE_CHECKING:
    from nocert_rules.worktime.calendar import WorkCalendar

# ---------------------------------------------------------------- the loaded ruleset


class Ruleset:
    """A validated ruleset: the manifest, the list indexed for lookup, rules and clauses."""

    manifest_path: Path | None = None
    """The manifest file it was loaded from (``load_ruleset`` sets it; see policy/snapshot.py)."""
    parent: Ruleset | None = None
    """The ruleset this one extends (a district's city), see policy/overlay.py."""
    overlay_changes: list[Any] = []
    """A district's changes to what it inherits (``policy.overlay.OverlayChange``)."""
    own_rows: list[ListRow] | None = None
    """A district's own rows, as its certificates file lists them (None: ``rows``)."""
    adjustments: list[Any] = []
    """Published list adjustments applied as row versions (``policy.list_adjustments``)."""
    own_rules: list[PolicyRule] | None = None
    """A district's own rules (added or replacing the parent's, by id)."""
    officers: Any = None
    """The officers file (``policy.officers.LoadedOfficers``), or None when the ruleset has none."""

    def __init__(
        self,
        directory: Path,
        manifest: Manifest,
        rows: list[ListRow],
        rules: list[PolicyRule],
        clauses: list[Clause],
        sha256: str,
        files: dict[str, bytes],
        calendar_overrides: dict[str, Any] | None = None,
    ) -> None:
        self.directory = directory
        self.manifest = manifest
        self.rows = rows
        self.rules = rules
        self.clauses = {c.id: c for c in clauses}
        self.sources = {s.id: s for s in manifest.sources}
        self.sha256 = sha256
        self.files = files
        self.calendar_overrides = calendar_overrides
        lookup = index_rows(rows, manifest)  # loading stage 6 (policy/index.py)
        self.service_items: frozenset[str] = lookup.service_items
        self._index = lookup.index
        self.row_sources: dict[int, str] = {}
        """``id(row)`` -> the ruleset a row was inherited from (overlays, ``policy.merge``)."""
        self._rows_on: dict[tuple[int, tuple[bool, ...]], ListRow] = {}
        """(``id(row)``, which bases count) -> the row with those bases (``find_row``); rows are kept
        alive by ``rows``, so their ids are not reused."""
        self._dated_bases = lookup.dated_bases
        """The rows some of whose bases count on some days only (repealed, or in force later)."""

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version

    def find_row(self, service_item: str, certificate: str, at: date | None = None) -> ListRow | None:
        """The row for a certificate id or its exact name under a service item, if listed:
        the version in force on ``at`` (without ``at``: the latest version).

        On a day some basis of the row does not count (repealed, or not yet in force:
        ``legal_basis.counts_on``), the row comes with the bases that count on that day only
        (none: ``has_legal_basis`` is false and the rules abolish it); same window, same source."""
        row = self._index.find(service_item, certificate, at)
        if row is None or at is None:
            return row
        return self._row_on(row, at)

    def _row_on(self, row: ListRow, day: date) -> ListRow:
        """``row`` with the legal bases that count on ``day`` (``row`` itself when all do)."""
        if id(row) not in self._dated_bases:
            return row
        bases = row.bases
        start = row.valid_from or self.manifest.effective_from
        mask = tuple(counts_on(b, day, start) for b in bases)
        if all(mask):
            return row
        key = (id(row), mask)
        derived = self._rows_on.get(key)
        if derived is None:
            kept = [b for b, keep in zip(bases, mask, strict=True) if keep]
            candidate = row.model_copy(update={"legal_basis": kept or None})
            derived = self._rows_on.setdefault(key, candidate)
            if id(row) in self.row_sources:
                self.row_sources[id(derived)] = self.row_sources[id(row)]
        return derived

    def row_versions(self, service_item: str, certificate: str) -> list[ListRow]:
        """Every dated version of a row, in file order."""
        return self._index.versions(service_item, certificate)

    def rows_at(self, day: date) -> list[ListRow]:
        """The list as in force on ``day``."""
        return [row for row in self.rows if versions.in_force(row, day)]

    @property
    def versioned(self) -> bool:
        """Whether some row or limit carries dates."""
        return self._index.versioned or any(
            limit.valid_from or limit.valid_until for row in self.rows for limit in row.limits
        )

    def source_of(self, row: ListRow) -> str:
        """The name of the ruleset (the level: city, district) the row comes from."""
        return self.row_sources.get(id(row), self.name)

    def adjustment_pending(self, service_item: str, certificate: str, day: date) -> bool:
        """Whether a published adjustment of this row was pending on ``day`` (附件3 第九条)."""
        return any(a.key == (service_item, certificate) and a.pending_on(day) for a in self.adjustments)

    def basis_sufficient(self, row: ListRow) -> bool:
        """Whether the row rests on a basis of a rank the manifest accepts (二(一) in Zibo)."""
        from nocert_rules.policy.legal_basis import sufficient

        return sufficient(row.bases, self.manifest.legal_basis_policy)

    def citation(self, clause_id: str) -> Citation:
        clause = self.clauses[clause_id]
        source = self.sources[clause.source]
        return Citation(
            clause_id=clause.id, source_id=source.id, source_title=source.title, text=clause.text
        )

    @cached_property
    def calendar(self) -> WorkCalendar:
        """The working-time calendar this ruleset configures (office hours, local overrides)."""
        from nocert_rules.worktime.calendar import CalendarOverrides, OfficeHours, WorkCalendar

        hours = self.manifest.deadlines.office_hours
        return WorkCalendar(
            office_hours=OfficeHours.model_validate(hours) if hours else None,
            overrides=CalendarOverrides.model_validate(self.calendar_overrides)
            if self.calendar_overrides
            else None,
        )

    @cached_property
    def deadline_policy(self) -> DeadlinePolicy:
        """The manifest's deadline figures and clause ids, for ``nocert_rules.worktime.deadlines``."""
        d = self.manifest.deadlines
        return DeadlinePolicy(
            verification={
                kind: WorkingLimit(working_days=limit.working_days, working_minutes=limit.working_minutes)
                for kind, limit in d.verification.items()
            },
            verification_clause=d.verification_clause,
            statutory_limit_clause=d.statutory_limit_clause,
            escalation=d.escalation,
            complaint_working_days=d.complaint_working_days,
            complaint_max_extension_days=d.complaint_max_extension_days,
            complaint_clause=d.complaint_clause,
            adjustment_working_days=d.adjustment_working_days,
            adjustment_clause=d.adjustment_clause,
            adjustment_office=d.adjustment_office,
            publication_month_days=tuple(d.publication_month_days),
            publication_clause=d.publication_clause,
            minutes_unit=d.minutes_unit,
            wording=d.wording,
        )

    def in_force(self, at: date) -> bool:
        m = self.manifest
        return m.effective_from <= at and (m.effective_until is None or at <= m.effective_until)

