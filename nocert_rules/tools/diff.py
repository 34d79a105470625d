"""Compare two rulesets: list rows added / changed / cancelled (新增 / 变更 / 取消, as 附件3
第九条 names the adjustment types), rules and clauses added / removed / changed, manifest fields
changed, and, over a case file, which decisions change and how.

Rows are keyed by (service_item_code, certificate_id); a changed row lists each field that
differs, old -> new. A row whose status turns to ``abolished`` is a change (变更) of its
``status`` field; a row that disappears from the list is cancelled (取消).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from nocert_rules.errors import NocertError
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.tools.casefile import Format, apply_as_of, iter_cases, method_names, safe_case_id

SAMPLE_IDS = 5

FieldChange = tuple[str, Any, Any]


def _dump(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json")


def _field_changes(old: dict[str, Any], new: dict[str, Any], skip: tuple[str, ...] = ()) -> list[FieldChange]:
    keys = list(dict.fromkeys([*old, *new]))
    return [(k, old.get(k), new.get(k)) for k in keys if k not in skip and old.get(k) != new.get(k)]


@dataclass
class KeyedChanges:
    """Added, removed and changed items of one kind (rows, rules, clauses)."""

    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[Any, list[FieldChange]]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.added) + len(self.removed) + len(self.changed)


def _compare(old: dict[Any, dict[str, Any]], new: dict[Any, dict[str, Any]]) -> KeyedChanges:
    out = KeyedChanges()
    for key, item in new.items():
        if key not in old:
            out.added.append(item)
        else:
            changes = _field_changes(old[key], item)
            if changes:
                out.changed.append((key, changes))
    out.removed = [item for key, item in old.items() if key not in new]
    return out


@dataclass
class CaseChanges:
    """Decisions over a case file under the old and the new ruleset."""

    cases: int = 0
    malformed: int = 0
    changed: int = 0
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    samples: dict[tuple[str, str], list[str]] = field(default_factory=dict)


@dataclass
class RulesetDiff:
    old: Ruleset
    new: Ruleset
    manifest: list[FieldChange]
    rows: KeyedChanges
    rules: KeyedChanges
    clauses: KeyedChanges
    cases: CaseChanges | None = None
    days: tuple[date | None, date | None] = (None, None)
    """The list dates compared (``--old-date`` / ``--new-date``), if any."""

    @property
    def has_differences(self) -> bool:
        return bool(self.manifest or self.rows.count or self.rules.count or self.clauses.count
                    or (self.cases is not None and self.cases.changed))

    def to_dict(self) -> dict[str, Any]:
        def stamp(rs: Ruleset) -> dict[str, str]:
            return {"name": rs.name, "version": rs.version, "sha256": rs.sha256}

        def changes(items: list[tuple[Any, list[FieldChange]]], key_names: tuple[str, ...]) -> list[dict[str, Any]]:
            out = []
            for key, fields in items:
                keys = dict(zip(key_names, key if isinstance(key, tuple) else (key,), strict=True))
                out.append({**keys, "fields": [{"field": f, "old": o, "new": n} for f, o, n in fields]})
            return out

        data: dict[str, Any] = {
            "old": stamp(self.old),
            "new": stamp(self.new),
            "manifest": [{"field": f, "old": o, "new": n} for f, o, n in self.manifest],
            "rows": {
                "added": self.rows.added,
                "changed": changes(self.rows.changed, ("service_item_code", "certificate_id")),
                "cancelled": self.rows.removed,
            },
            "rules": {
                "added": self.rules.added,
                "changed": changes(self.rules.changed, ("id",)),
                "removed": self.rules.removed,
            },
            "clauses": {
                "added": self.clauses.added,
                "changed": changes(self.clauses.changed, ("id",)),
                "removed": self.clauses.removed,
            },
            "has_differences": self.has_differences,
        }
        if self.cases is not None:
            c = self.cases
            data["cases"] = {
                "cases": c.cases,
                "malformed": c.malformed,
                "changed": c.changed,
                "transitions": [
                    {"old": o, "new": n, "count": k, "sample_case_ids": c.samples.get((o, n), [])}
                    for (o, n), k in sorted(c.transitions.items(), key=lambda kv: (-kv[1], kv[0]))
                ],
            }
        return data


def _rows_on(rs: Ruleset, day: date | None) -> dict[Any, dict[str, Any]]:
    """The rows by key: every version's latest (no day), or the list as in force on ``day``
    (windows left out, the statutory limit in force in place of the dated limits)."""
    if day is None:
        return {r.key: _dump(r) for r in rs.rows}
    out: dict[Any, dict[str, Any]] = {}
    for row in rs.rows_at(day):
        data = _dump(row)
        data.pop("valid_from", None)
        data.pop("valid_until", None)
        limit = row.limit_at(day)
        data["verification_limit"] = (
            limit.model_dump(mode="json", exclude={"valid_from", "valid_until"}) if limit else None
        )
        out[row.key] = data
    return out


def diff_rulesets(
    old: Ruleset, new: Ruleset, old_day: date | None = None, new_day: date | None = None
) -> RulesetDiff:
    """The differences of list, rules, clauses and manifest between two rulesets; with
    ``old_day`` / ``new_day``, between the lists in force on those days (one ruleset at two
    dates: ``diff RS RS --old-date D1 --new-date D2``)."""
    manifest = _field_changes(_dump(old.manifest), _dump(new.manifest))
    rows = _compare(_rows_on(old, old_day), _rows_on(new, new_day))
    rules = _compare({r.id: _dump(r) for r in old.rules}, {r.id: _dump(r) for r in new.rules})
    clauses = _compare({k: _dump(c) for k, c in old.clauses.items()},
                       {k: _dump(c) for k, c in new.clauses.items()})
    return RulesetDiff(old, new, manifest, rows, rules, clauses, days=(old_day, new_day))


def diff_cases(result: RulesetDiff, cases_path: str, *, fmt: Format | None = None,
               as_of: datetime | None = None) -> CaseChanges:
    """Decide every case under both rulesets (streamed); count (old method -> new method)."""
    from nocert_rules.engine.core import Engine

    out = CaseChanges()
    old_engine, new_engine = Engine(result.old), Engine(result.new)
    try:
        # a case may name its expected method in either ruleset's words (the new one's where they clash)
        names = {**method_names(result.old.manifest.wording), **method_names(result.new.manifest.wording)}
        for case in iter_cases(cases_path, fmt, names):
            if case.error is not None or case.request is None:
                out.malformed += 1
                continue
            request = apply_as_of(case.request, as_of)
            old_day, new_day = result.days
            try:
                before = old_engine.decide(request, as_of=old_day).method.value
                after = new_engine.decide(request, as_of=new_day).method.value
            except (NocertError, ValueError):
                out.malformed += 1
                continue
            out.cases += 1
            if before != after:
                out.changed += 1
                out.transitions[(before, after)] += 1
                sample = out.samples.setdefault((before, after), [])
                if len(sample) < SAMPLE_IDS:
                    sample.append(safe_case_id(case.case_id) or f"line {case.line}")
    finally:
        old_engine.close()
        new_engine.close()
    result.cases = out
    return out


__all__ = ["CaseChanges", "KeyedChanges", "RulesetDiff", "diff_cases", "diff_rulesets"]
