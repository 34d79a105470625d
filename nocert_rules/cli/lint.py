"""``nocert-rules lint`` and ``info``: what a ruleset is, how it will be run, and what the loader
accepts but the plan forbids (``nocert_rules.tools.lint``, docs/cli.md)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from nocert_rules.cli.common import (
    EXIT_CODES_HELP,
    EXIT_FAIL,
    CliFailure,
    make_console,
    open_ruleset,
    print_json,
)


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("ruleset", metavar="RULESET")
@click.option("--strict", is_flag=True, help="警告也视为失败 / warnings fail too")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print findings as JSON")
@click.option("--publications", "publications_log", metavar="LOG",
              help="清单公布记录（默认规则集目录下的 publications.jsonl，如有） / the publication log "
                   "(default: publications.jsonl in the ruleset folder, if there is one)")
@click.option("--as-of", "lint_as_of", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="按此日期检查公布周期（默认今天） / check the publication schedule as of this day (default: today)")
def lint(ruleset: str, strict: bool, as_json: bool, publications_log: str | None, lint_as_of: datetime | None) -> None:
    """检查规则集 / Lint a ruleset: retained rows without legal basis, data sharing without a
    source, pledges accepted on pledge-barring risks, malformed service item codes (errors);
    rules that never match or are always blocked, one id with several names, a list overdue
    for publication by the manifest's schedule (with a publication log) (warnings).
    Each finding names file:line.
    """
    from nocert_rules.tools.lint import lint_ruleset

    if not Path(ruleset).exists():
        raise CliFailure(f"{ruleset}: 规则集不存在 / ruleset not found")
    from nocert_rules.cli.publication import read_log

    published = read_log(ruleset, publications_log)
    schedule: dict[str, Any] = {}  # the publication-schedule check runs only with a publication log
    if published is not None:
        schedule["publications"] = [p.published for p in published]
    if lint_as_of is not None:
        schedule["as_of"] = lint_as_of.date()
    result = lint_ruleset(ruleset, **schedule)
    errors, warnings, cases = result.errors, result.warnings, result.case_mismatches
    if as_json:  # the backend: `nocert-rules info --json`
        print_json(_lint_json(ruleset, result))
    else:
        _print_lint(ruleset, result, strict)
    if errors or (strict and (warnings or cases)):
        raise click.exceptions.Exit(EXIT_FAIL)


def _lint_json(ruleset: str, result: Any) -> dict[str, Any]:
    data = {"ruleset": ruleset, "loaded": result.loaded,
            "errors": [f.to_dict() for f in result.errors], "warnings": [f.to_dict() for f in result.warnings],
            "case_mismatches": [f.to_dict() for f in result.case_mismatches]}
    if result.changes:  # a district over its city: its changes, each with its basis
        data["changes"] = result.changes
    data["readings"] = result.readings  # the manifest's readings of the plan (policy/readings.py)
    return data


def _print_changes(console: Any, changes: list[dict[str, Any]]) -> None:
    """A district's changes to the ruleset it extends, each with its file:line and basis."""
    from nocert_rules.tools.safe_text import SafeText as Text

    labels = {"add": "新增 add", "override": "覆盖 override", "withdraw": "撤回 withdraw",
              "rule": "规则 rule", "clause": "条款 clause"}
    console.print(Text(f"区县级调整 / changes to the parent ruleset ({len(changes)})", style="bold"))
    for c in changes:
        where = f"{c['file']}:{c['line']}" if c["line"] else c["file"]
        basis = f" — 依据 basis: {c['basis']}" if c["basis"] else ""
        console.print(Text(f"  {where}: [{labels[c['kind']]}] {c['key']}{basis}"))


def _print_findings(console: Any, title: str, items: list[Any], style: str) -> None:
    from nocert_rules.tools.safe_text import SafeText as Text

    if not items:
        return
    console.print(Text(f"{title} ({len(items)})", style=f"bold {style}"))
    for f in items:
        t = Text("  ")
        t.append(f"{f.where}: ", style="bold")
        t.append(f"[{f.code}] ", style=style)
        t.append(f.message)
        console.print(t)


def _print_lint(ruleset: str, result: Any, strict: bool) -> None:
    from nocert_rules.tools.safe_text import SafeText as Text

    errors, warnings, cases = result.errors, result.warnings, result.case_mismatches
    console = make_console()
    for file, choice in (_backend_choices(ruleset) if result.loaded else {}).items():
        console.print(Text(f"规则后端 / backend for {file}: {choice['backend']} — {choice['reason']}"))
    if result.changes:
        _print_changes(console, result.changes)
    _print_readings(console, result.readings)
    _print_findings(console, "错误 / Errors", errors, "red")
    _print_findings(console, "警告 / Warnings", warnings, "yellow")
    _print_findings(console, "仅大小写不同 / Case-only mismatches", cases, "yellow")
    verdict = "失败 FAILED" if errors or (strict and (warnings or cases)) else "通过 OK"
    extra = f", {len(cases)} 个大小写不一致 case-only mismatches" if cases else ""
    console.print(Text(f"lint {ruleset}: {len(errors)} 个错误 errors, {len(warnings)} 个警告 warnings{extra} — "
                       f"{verdict}", style="bold"))
def _print_readings(console: Any, readings: list[dict[str, Any]]) -> None:
    """The manifest's readings: field = value (the clause it reads; the clause behind the choice)."""
    from nocert_rules.tools.safe_text import SafeText as Text

    if readings:
        console.print(Text(f"解释与选择 / readings ({len(readings)})", style="bold"))
    for r in readings:
        basis = f"，依据 basis: {r['basis']}" if r["basis"] else "，未注明依据 / no basis cited"
        console.print(Text(f"  {r['field']} = {r['value']}（{r['of'] or '—'}{basis}）"))


def _backend_choices(path: str) -> dict[str, dict[str, str]]:
    """Which rule backend each rule file of the ruleset gets under ``auto``, and why."""
    from nocert_rules.engine.backend import ruleset_choices

    rs = open_ruleset(path)
    return {file: {"backend": c.backend, "reason": c.reason} for file, c in ruleset_choices(rs).items()}


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("ruleset", metavar="RULESET")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print as JSON")
def info(ruleset: str, as_json: bool) -> None:
    """规则集概况 / What a ruleset is and how it will be run: name, version, sha256, rows, rules,
    and which rule backend (durable_rules or compiled) each rule file gets under ``auto``, and why.
    """
    from nocert_rules.engine import budget

    rs = open_ruleset(ruleset)
    rules = [(r.id, r.when) for r in rs.rules]
    data = {
        "ruleset": ruleset,
        "name": rs.name,
        "version": rs.version,
        "sha256": rs.sha256,
        "rows": len(rs.rows),
        "rules": len(rs.rules),
        "durable_budget": {"paths": budget.MAX_PATHS, "depth": budget.MAX_DEPTH,
                           "used": budget.usage(rules).describe()},
        "backend": _backend_choices(ruleset),
    }
    if as_json:
        print_json(data)
        return
    click.echo(f"规则集 / Ruleset: {rs.name} {rs.version} (sha256 {rs.sha256})")
    click.echo(f"清单行 / rows: {len(rs.rows)}; 规则 / rules: {len(rs.rules)}")
    click.echo(f"durable_rules 预算 / budget: {data['durable_budget']['used']}")
    for file, choice in data["backend"].items():
        click.echo(f"规则后端 / backend for {file}: {choice['backend']} — {choice['reason']}")
