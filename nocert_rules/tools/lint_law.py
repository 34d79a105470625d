"""Lint checks of the law over time: ranks of legal bases and dates (``nocert_rules.tools.lint``).

Errors:

* ``basis-not-in-force``: a row in force before an instrument it cites takes effect (the row's
  ``valid_from``, or the manifest's ``effective_from`` for an undated row, is earlier than the
  basis's ``effective_from``): date the row, or cite what was in force;
  A later instrument is not an error when another basis of the row counts until it takes effect
  (it succeeds a repealed one);
* ``retained-below-rank-kept``: a retained row whose bases are all below the ranks the manifest
  accepts (``legal_basis_policy``), and no ABOLISH rule abolishes it;
* ``retained-basis-repealed-kept``: a retained row left with no basis in force on some day (every
  basis repealed, ``repealed_on``), and no ABOLISH rule abolishes it then.

Warnings:

* ``basis-below-rank``: such a row, abolished by the named rule: the published list should
  mark it abolished (or cite a basis of sufficient rank);
* ``basis-repealed``: a retained row in force on a day from which none of its bases is (each
  repealed), or, where the manifest ranks bases, only bases below rank remain: from that day the
  named rule abolishes it; the list should be adjusted (cite the
  instrument now in force, or mark the row abolished);
* ``basis-unranked``: the manifest ranks bases but this one has no rank (a plain string);
* ``limit-not-in-force``: a row's statutory limit is dated outside every day the row is in force.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from nocert_rules.enums import Method, RowStatus
from nocert_rules.policy import conditions, versions
from nocert_rules.policy.legal_basis import LegalBasis, bases_on, counts_on, sufficient
from nocert_rules.policy.ruleset import ListRow, Ruleset
from nocert_rules.tools.lint_facts import free_combinations

Add = Callable[[str, str, str, int | None, str], None]
Line = Callable[[int, tuple[str | int, ...]], int | None]


def _label(row: ListRow) -> str:
    return f"{row.service_item_code} / {row.certificate_id} {row.certificate_name}"


def _basis_path(row: ListRow, j: int) -> tuple[str | int, ...]:
    return ("legal_basis", j) if isinstance(row.legal_basis, list) else ("legal_basis",)


@dataclass(frozen=True)
class _Context:
    """What every row's checks share: the ruleset, its legal-basis policy and ABOLISH rules, and
    how to name and report a finding."""

    rs: Ruleset
    abolish_rules: list[Any]
    row_file: Callable[[int], str]
    line: Line
    add: Add


def check_law(
    rs: Ruleset, row_facts: list[dict[str, Any]], row_file: Callable[[int], str], line: Line, add: Add,
    rows: list[ListRow] | None = None,
) -> None:
    """Add the findings of the module doc for each row (``row_facts[i]`` are row i's facts)."""
    abolish_rules = [r for r in rs.rules if r.method is Method.ABOLISH and r.effect == "offer"]
    ctx = _Context(rs, abolish_rules, row_file, line, add)
    for i, row in enumerate(rs.rows if rows is None else rows):
        start: date = row.valid_from or rs.manifest.effective_from
        _check_bases(ctx, row, i, start)
        _check_limits(ctx, row, i)
        if row.status is RowStatus.RETAINED and row.bases:
            _check_repealed(rs, row, i, start, row_facts[i], abolish_rules, row_file, line, add)
            if not sufficient(row.bases, rs.manifest.legal_basis_policy):
                _check_rank(ctx, row, i, row_facts[i])


def _check_bases(ctx: _Context, row: ListRow, i: int, start: date) -> None:
    """``basis-not-in-force`` and ``basis-unranked``, basis by basis."""
    policy = ctx.rs.manifest.legal_basis_policy
    label = _label(row)
    for j, basis in enumerate(row.bases):
        if basis.effective_from is not None and start < basis.effective_from and not _succeeds(
            row.bases, j, start
        ):
            ctx.add("error", "basis-not-in-force", ctx.row_file(i), ctx.line(i, _basis_path(row, j)),
                    f"{label}: 引用的{basis.instrument}自 {basis.effective_from} 起施行，但该行自 {start} "
                    f"起适用 / cites {basis.instrument}, in force from {basis.effective_from}, in a row in "
                    f"force from {start}: date the row (valid_from) or cite the instrument then in force")
        if policy is not None and basis.rank is None:
            ctx.add("warning", "basis-unranked", ctx.row_file(i), ctx.line(i, _basis_path(row, j)),
                    f"{label}: 设定依据 {basis.text} 未注明效力层级 / basis {basis.text} has no rank "
                    f"(one of {', '.join(r.value for r in policy.sufficient_ranks)} keeps a certificate)")


def _check_limits(ctx: _Context, row: ListRow, i: int) -> None:
    """``limit-not-in-force``: a statutory limit dated outside the row's own window."""
    for k, limit in enumerate(row.limits):
        if versions.overlap(limit, row):
            continue
        path: tuple[str | int, ...] = (
            ("verification_limit", k) if isinstance(row.verification_limit, list) else ("verification_limit",)
        )
        ctx.add("warning", "limit-not-in-force", ctx.row_file(i), ctx.line(i, path),
                f"{_label(row)}: 法定时限有效期 {versions.window_text(limit)} 与该行有效期 {row.version} 无交集 / "
                f"the limit's window {versions.window_text(limit)} lies outside the row's {row.version}")


def _check_rank(ctx: _Context, row: ListRow, i: int, facts: dict[str, Any]) -> None:
    """A retained row whose bases are all below rank: ``basis-below-rank`` when a rule abolishes
    it, else ``retained-below-rank-kept``."""
    policy = ctx.rs.manifest.legal_basis_policy
    assert policy is not None  # no policy: any basis is sufficient
    label = _label(row)
    ranks = "、".join(sorted({b.rank.value for b in row.bases if b.rank is not None}))
    rules = ctx.abolish_rules
    names = set().union(*(conditions.facts_named(r.when) for r in rules)) if rules else set()
    by = sorted({
        r.id for r in rules
        for combo in free_combinations(names)
        if conditions.evaluate(r.when, {**facts, **combo})
        and "row.legal_basis_sufficient" in conditions.facts_named(r.when)
    })
    accepted = "、".join(r.value for r in policy.sufficient_ranks)
    if by:
        ctx.add("warning", "basis-below-rank", ctx.row_file(i), ctx.line(i, ("legal_basis",)),
                f"{label}: 设定依据仅为{ranks or '未定级文件'}，不是{accepted}，由规则 {', '.join(by)} 取消"
                f"（{policy.clause}），清单应标注取消或补充依据 / rests only on {ranks or 'unranked'} "
                f"instruments, below {accepted}: abolished by rule {', '.join(by)}; mark it abolished "
                "or cite a sufficient basis")
    else:
        ctx.add("error", "retained-below-rank-kept", ctx.row_file(i), ctx.line(i, ("legal_basis",)),
                f"{label}: 设定依据仅为{ranks or '未定级文件'}，不是{accepted}（{policy.clause}），但没有规则取消它 / "
                f"rests only on {ranks or 'unranked'} instruments, below {accepted}, yet no rule abolishes it "
                "(add a rule on row.legal_basis_sufficient)")


def _succeeds(bases: tuple[LegalBasis, ...], j: int, start: date) -> bool:
    """Whether, from the row's ``start`` until ``bases[j]`` takes effect, another basis counts
    every day (it is in force from ``start`` and not repealed before ``bases[j]`` begins)."""
    later = bases[j].effective_from
    assert later is not None
    return any(
        k != j and counts_on(b, start, start) and (b.repealed_on is None or b.repealed_on >= later)
        for k, b in enumerate(bases)
    )


def _check_repealed(
    rs: Ruleset, row: ListRow, i: int, start: date, facts: dict[str, Any], abolish_rules: list[Any],
    row_file: Callable[[int], str], line: Line, add: Add,
) -> None:
    """``basis-repealed`` / ``retained-basis-repealed-kept`` for row ``i`` (see the module doc)."""
    repeals = sorted({b.repealed_on for b in row.bases if b.repealed_on is not None})
    if row.valid_until is not None:
        repeals = [d for d in repeals if d <= row.valid_until]
    gone = next((d for d in repeals if not bases_on(row.bases, d, start)), None)
    if gone is None:
        _check_repealed_rank(rs, row, i, start, facts, abolish_rules, repeals, row_file, line, add)
        return
    label = _label(row)
    names = "、".join(b.text for b in row.bases)
    day_facts = {**facts, "row.has_legal_basis": False, "row.legal_basis_sufficient": False}
    by = [r.id for r in abolish_rules if conditions.evaluate(r.when, {**day_facts, "request.listed": True})]
    where = line(i, ("legal_basis",))
    if by:
        add("warning", "basis-repealed", row_file(i), where,
            f"{label}: 设定依据 {names} 自 {gone} 起均已废止，此后该行无有效依据，由规则 {', '.join(by)} 取消；"
            f"清单应予调整（引用现行依据或标注取消） / every basis ({names}) is repealed from {gone}: from then "
            f"the row has no basis in force and rule {', '.join(by)} abolishes it; adjust the list (cite the "
            "instrument in force, or mark it abolished)")
    else:
        add("error", "retained-basis-repealed-kept", row_file(i), where,
            f"{label}: 设定依据 {names} 自 {gone} 起均已废止，但没有规则取消它 / every basis is repealed from "
            f"{gone}, yet no rule abolishes the row (add a rule on row.has_legal_basis)")


def _check_repealed_rank(
    rs: Ruleset, row: ListRow, i: int, start: date, facts: dict[str, Any], abolish_rules: list[Any],
    repeals: list[date], row_file: Callable[[int], str], line: Line, add: Add,
) -> None:
    """A repeal that leaves only bases below the manifest's ranks (``legal_basis_policy``)."""
    policy = rs.manifest.legal_basis_policy
    if policy is None or not sufficient(row.bases, policy):
        return  # below rank on every day: basis-below-rank / retained-below-rank-kept say so
    low = next((d for d in repeals if not sufficient(bases_on(row.bases, d, start), policy)), None)
    if low is None:
        return
    label, left = _label(row), "、".join(b.text for b in bases_on(row.bases, low, start))
    day_facts = {**facts, "row.has_legal_basis": True, "row.legal_basis_sufficient": False, "request.listed": True}
    by = [r.id for r in abolish_rules if conditions.evaluate(r.when, day_facts)]
    where = line(i, ("legal_basis",))
    if by:
        add("warning", "basis-repealed", row_file(i), where,
            f"{label}: 自 {low} 起仅余 {left}，不是{'、'.join(r.value for r in policy.sufficient_ranks)}，由规则 "
            f"{', '.join(by)} 取消（{policy.clause}）；清单应予调整 / from {low} (a repeal) only {left} remains, "
            f"below the ranks that keep a certificate: rule {', '.join(by)} abolishes it; adjust the list")
    else:
        add("error", "retained-basis-repealed-kept", row_file(i), where,
            f"{label}: 自 {low} 起仅余低于所需层级的依据 {left}，但没有规则取消它 / from {low} only {left} "
            "remains, below rank, yet no rule abolishes the row (add a rule on row.legal_basis_sufficient)")


__all__ = ["check_law"]
