"""``nocert-rules accountability``: the cases of the ruleset's accountability clause that records
and service guides show, as of a day (``nocert_rules.records.accountability``, docs/cli.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

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

ACCOUNTABILITY_EXIT = (
    "\b\n退出码 / Exit status: 0 没有案件 / no case; 1 有案件（含待认定、已免责的）/ one case or more\n"
    "(candidates and exempted ones included); 2 用法错误或记录无法读取 / usage error or an unreadable line"
)


@click.command("accountability", epilog=ACCOUNTABILITY_EXIT + "\n\n" + EXIT_CODES_HELP)
@click.argument("ruleset", metavar="RULESET")
@click.argument("records", metavar="RECORDS", nargs=-1, required=True)
@click.option("--guide", "guides", multiple=True, help="办事指南，按 check-guide 核对 / a service guide to check too")
@click.option("--guide-unit", help="办事指南的编制单位 / the unit whose guide it is")
@click.option("--as-of", metavar="DAY|DATETIME",
              help="按此日（日终）或时刻核对期限与指南 / deadlines passed by the end of this day (or this moment), "
                   "guides decided as of it (default: now)")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print as JSON")
def accountability(ruleset: str, records: tuple[str, ...], guides: tuple[str, ...], guide_unit: str | None,
                   as_of: str | None, as_json: bool) -> None:
    """责任追究报告 / Accountability report: the cases of the ruleset's accountability clause
    that audit logs or records exports (JSON lines) show as of a day — replies, post-checks,
    complaint conclusions, adjustment applications and publications late or still not done,
    methods the list does not allow — and forbidden certificates a guide asks for. Exemption
    applications in the records (``nocert-rules exemption``) mark their cases exempt once granted.
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

    rs = open_ruleset(ruleset)
    now = datetime.now(SHANGHAI).replace(second=0, microsecond=0)
    day = _day_or_moment(as_of) or now
    try:
        pairs = [pair for path in records for pair in read_records(path)]
        cases = cases_from_records(rs, pairs, as_of=day)
        at = as_of_moment(as_of) or now
        for guide in guides:
            result = run_check(rs, guide, at)
            cases += guide_cases(rs, [c.to_dict() for c in result.checks], unit=guide_unit or result.title)
    except (AccountabilityError, GuideError, OSError) as exc:
        raise CliFailure(str(exc)) from None
    moment = _end_of(day)
    if as_json:
        print_json({"as_of": moment.isoformat(), "cases": [c.model_dump(mode="json") for c in cases],
                    "count": len(cases)})
    else:
        _print_cases(cases, moment)
    if cases:
        raise click.exceptions.Exit(EXIT_FAIL)


def _day_or_moment(value: str | None) -> date | datetime | None:
    """A day (``YYYY-MM-DD``: its end counts) or a moment (as ``--as-of`` elsewhere)."""
    if value is None:
        return None
    text = value.strip()
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise click.BadParameter(f"{text!r} 不是日期 / not a date (YYYY-MM-DD)", param_hint="--as-of") from None
    return as_of_moment(text)


def _end_of(day: date | datetime) -> datetime:
    from nocert_rules.records.accountability import as_of_moment as end

    moment = end(day)
    assert moment is not None  # a day or a moment was given
    return moment


def _print_cases(cases: list[Any], moment: datetime) -> None:
    from nocert_rules.tools.safe_text import SafeText as Text

    console = make_console()
    for c in cases:
        t = Text(f"{c.citation.clause_id}{c.item}", style="bold red" if not c.candidate else "bold yellow")
        t.append(f"  {c.unit}  ")
        t.append(c.detail)
        if c.deadline is not None:
            t.append(f"（期限依据 deadline: {c.deadline.clause_id}）")
        t.append(f"（{c.source}）", style="dim")
        if c.act_missing:
            t.append(" 未记录办理 / act not recorded", style="yellow")
        if c.candidate:
            t.append(" 待认定 / to be assessed", style="yellow")
        if c.exemption is not None:
            t.append(f" 已免责 / exempt {c.exemption.citation.clause_id}{c.exemption.ground}"
                     f"{'，已备案 / filed' if c.exemption.filed else ''}", style="green")
        console.print(t)
    console.print(Text(f"截至 / as of {moment.isoformat()}：共 {len(cases)} 件 / {len(cases)} case(s)", style="bold"))
