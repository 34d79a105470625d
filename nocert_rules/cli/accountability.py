"""``nocert-rules accountability``: the cases of the ruleset's accountability clause that records
and service guides show (``nocert_rules.records.accountability``, docs/cli.md)."""

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


@click.command("accountability", epilog=EXIT_CODES_HELP)
@click.argument("ruleset", metavar="RULESET")
@click.argument("records", metavar="RECORDS", nargs=-1, required=True)
@click.option("--guide", "guides", multiple=True, help="办事指南，按 check-guide 核对 / a service guide to check too")
@click.option("--guide-unit", help="办事指南的编制单位 / the unit whose guide it is")
@click.option("--as-of", help="核对指南的时间 / decide guides as of (default: now)")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print as JSON")
def accountability(ruleset: str, records: tuple[str, ...], guides: tuple[str, ...], guide_unit: str | None,
                   as_of: str | None, as_json: bool) -> None:
    """责任追究报告 / Accountability report: the cases of the ruleset's accountability clause
    that audit logs or records exports (JSON lines) show — late replies,
    late post-checks, late complaint conclusions, late adjustments, methods the list does not
    allow — and forbidden certificates a guide asks for. Exit 1 when there is any case.
    """
    from nocert_rules.models import SHANGHAI
    from nocert_rules.records.accountability import (
        AccountabilityError,
        cases_from_records,
        guide_cases,
        read_records,
    )
    from nocert_rules.tools.guide import GuideError
    from nocert_rules.tools.guide import check_guide as run_check
    from nocert_rules.tools.safe_text import SafeText as Text

    rs = open_ruleset(ruleset)
    try:
        pairs = [pair for path in records for pair in read_records(path)]
        cases = cases_from_records(rs, pairs)
        at = as_of_moment(as_of) or datetime.now(SHANGHAI).replace(second=0, microsecond=0)
        for guide in guides:
            result = run_check(rs, guide, at)
            cases += guide_cases(rs, [c.to_dict() for c in result.checks], unit=guide_unit or result.title)
    except (AccountabilityError, GuideError, OSError) as exc:
        raise CliFailure(str(exc)) from None
    if as_json:
        print_json({"cases": [c.model_dump(mode="json") for c in cases], "count": len(cases)})
    else:
        console = make_console()
        for c in cases:
            t = Text(f"{c.citation.clause_id}{c.item}", style="bold red" if not c.candidate else "bold yellow")
            t.append(f"  {c.unit}  ")
            t.append(c.detail)
            t.append(f"（{c.source}）", style="dim")
            if c.candidate:
                t.append(" 待认定 / to be assessed", style="yellow")
            console.print(t)
        console.print(Text(f"共 {len(cases)} 件 / {len(cases)} case(s)", style="bold"))
    if cases:
        raise click.exceptions.Exit(EXIT_FAIL)
