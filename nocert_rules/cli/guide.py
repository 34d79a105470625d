"""``nocert-rules check-guide``: the materials a service guide may not ask for
(``nocert_rules.tools.guide``, docs/cli.md)."""

from __future__ import annotations

from datetime import datetime

import click

from nocert_rules.cli.common import (
    EXIT_CODES_HELP,
    EXIT_FAIL,
    CliFailure,
    as_of_moment,
    make_console,
    open_ruleset,
    print_json,
)


@click.command("check-guide", epilog=EXIT_CODES_HELP)
@click.argument("ruleset", metavar="RULESET")
@click.argument("guide", metavar="GUIDE")
@click.option("--as-of", help="按此时间决定 / decide as of (default: now)")
@click.option("--strict", is_flag=True, help="疑似证明也视为失败 / suspicious materials fail too")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print as JSON")
def check_guide(ruleset: str, guide: str, as_of: str | None, strict: bool, as_json: bool) -> None:
    """核对办事指南 / Check a service guide (YAML or CSV) against the list: every material an
    applicant must not be asked for is flagged with the method that replaces it (the ruleset's accountability clause).
    Decided for a default applicant: a person with normal credit. Exit 1 when any material is
    forbidden.
    """
    from nocert_rules.models import SHANGHAI
    from nocert_rules.tools.guide import GuideError
    from nocert_rules.tools.guide import check_guide as run_check
    from nocert_rules.tools.safe_text import SafeText as Text

    rs = open_ruleset(ruleset)
    at = as_of_moment(as_of) or datetime.now(SHANGHAI).replace(second=0, microsecond=0)
    try:
        result = run_check(rs, guide, at)
    except GuideError as exc:
        raise CliFailure(str(exc)) from None
    if as_json:
        print_json({**result.to_dict(), "as_of": at.isoformat()})
    else:
        console = make_console()
        console.print(Text(f"办事指南 / Guide: {result.title or guide}（{guide}）", style="bold"))
        console.print(Text(f"按 {at:%Y-%m-%d %H:%M} 为普通信用自然人决定 / decided for a person with normal credit "
                           f"as of {at:%Y-%m-%d %H:%M}"))
        for w in result.validity_warnings:
            console.print(Text(f"! {w}", style="yellow"))
        for item in result.unknown_items:
            console.print(Text(f"! 事项 {item} 不在清单中（其下任何证明都不得索要） / service item {item} has no "
                               "rows in the list (no certificate may be requested for it)", style="yellow"))
        labels = {"forbidden": ("✗ 不得索要 forbidden ", "red"), "suspicious": ("? 疑似证明 suspicious", "yellow"),
                  "allowed": ("✓ 可以要求 allowed   ", "green"), "ordinary": ("✓ 普通材料 ordinary  ", "green")}
        current = None
        pad = max((len(f"{c.material.file}:{c.material.line}") for c in result.checks), default=0)
        for c in result.checks:
            m = c.material
            if m.service_item != current:
                current = m.service_item
                console.print(Text(f"{m.service_item} {m.item_name or ''}".strip(), style="bold"))
            label, style = labels[c.verdict]
            t = Text("  ")
            t.append(f"{m.file}:{m.line}".ljust(pad) + "  ", style="dim")
            t.append(label, style=style)
            t.append(f"  {m.name}", style="bold" if c.verdict in ("forbidden", "suspicious") else "")
            if c.verdict != "ordinary":
                t.append(f" — {c.reason}")
                if c.rule_id:
                    t.append(f"（{c.rule_id}，{c.clause}）", style="dim")
            console.print(t)
        console.print(Text(
            f"共 {len(result.checks)} 项材料：不得索要 {len(result.forbidden)}，疑似证明 {len(result.suspicious)} / "
            f"{len(result.checks)} materials: {len(result.forbidden)} forbidden, {len(result.suspicious)} suspicious",
            style="bold"))
    if result.forbidden or (strict and result.suspicious):
        raise click.exceptions.Exit(EXIT_FAIL)
