"""``nocert-rules calendar is-working-day | add-days | deadline``: Chinese working time and the
plan's deadlines (``nocert_rules.worktime``, docs/calendar.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click

from nocert_rules.cli.common import (
    EXIT_CODES_HELP,
    CliFailure,
    NocertGroup,
    make_console,
    open_ruleset,
    print_json,
    weekday,
)


def _parse_moment(value: str, name: str) -> date | datetime:
    from nocert_rules.models import SHANGHAI

    text = value.strip()
    if text == "today":
        return datetime.now(SHANGHAI).date()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"不是日期或时间 / not a date or datetime: {value!r} (2021-10-09 or "
                                 "2021-10-09T14:30)", param_hint=name) from None


def _calendar_for(ruleset: str | None) -> tuple[Any, Any]:
    """(WorkCalendar, Ruleset or None): the ruleset's calendar, else the default one."""
    if ruleset:
        rs = open_ruleset(ruleset)
        return rs.calendar, rs
    from nocert_rules.worktime.calendar import WorkCalendar

    return WorkCalendar(), None


_RULESET_OPTION = click.option("--ruleset", metavar="RULESET",
                               help="使用规则集的日历与期限参数 / use the ruleset's calendar and limits")
_JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print as JSON")


def _print_warnings(warnings: list[str]) -> None:
    from nocert_rules.tools.safe_text import SafeText as Text

    console = make_console()
    for w in warnings:
        console.print(Text(f"! {w}", style="yellow"))


@click.group("calendar", cls=NocertGroup, epilog=EXIT_CODES_HELP)
def calendar_group() -> None:
    """工作日与期限 / Working days and deadlines, in Chinese working time (State Council notices,
    调休 included; 民法典 第二百零一条至第二百零三条)."""


@calendar_group.command("is-working-day")
@click.argument("day", metavar="DATE")
@_RULESET_OPTION
@_JSON_OPTION
def is_working_day(day: str, ruleset: str | None, as_json: bool) -> None:
    """DATE 是否为工作日 / Whether DATE is a working day."""
    import holidays

    cal, _ = _calendar_for(ruleset)
    moment = _parse_moment(day, "DATE")
    d = moment.date() if isinstance(moment, datetime) else moment
    working = cal.is_working_day(d)
    try:
        name = holidays.China(years=d.year, language="zh_CN").get(d)
    except Exception:  # noqa: BLE001 - a name is a nicety; an old holidays release may lack zh_CN
        name = None
    override = next((o for o in [*cal.overrides.days_off, *cal.overrides.working_days] if o.date == d), None)
    weekend = d.weekday() >= 5
    if override is not None:
        why = f"规则集日历覆盖 / ruleset override: {override.reason}（{override.source}）"
    elif working and weekend:
        why = "调休上班 / a 调休 working weekend day"
    elif not working and (name or not weekend):
        why = f"节假日 / holiday{('：' + name) if name else ''}"
    else:
        why = ""
    warnings = cal.warnings_for(d, d)
    if as_json:
        print_json({"date": d.isoformat(), "working_day": working, "reason": why or None, "warnings": warnings})
        return
    verdict = "是工作日 / is a working day" if working else "不是工作日 / is not a working day"
    click.echo(f"{d.isoformat()}（{weekday(d)}）{verdict}" + (f"（{why}）" if why else ""))
    _print_warnings(warnings)


@calendar_group.command("add-days", context_settings={"ignore_unknown_options": True})
@click.argument("day", metavar="DATE")
@click.argument("n", metavar="N", type=click.IntRange(min=-100_000, max=100_000))
@_RULESET_OPTION
@_JSON_OPTION
def add_days(day: str, n: int, ruleset: str | None, as_json: bool) -> None:
    """DATE 之后第 N 个工作日（起始日不计）；N 为负数时为之前第 |N| 个工作日 / The N-th working day
    after DATE (民法典 第二百零一条: the start day is not counted); a negative N counts back."""
    cal, _ = _calendar_for(ruleset)
    start = _parse_moment(day, "DATE")
    if n >= 0:
        result = cal.add_working_days(start, n)
    else:
        result = start.date() if isinstance(start, datetime) else start
        left = -n
        while left:
            result = date.fromordinal(result.toordinal() - 1)
            if result.year < 1900:
                raise CliFailure("日期超出范围 / date out of range")
            left -= cal.is_working_day(result)
    low, high = sorted([start.date() if isinstance(start, datetime) else start, result])
    warnings = cal.warnings_for(low, high)
    if as_json:
        print_json({"start": start.isoformat(), "working_days": n, "date": result.isoformat(), "warnings": warnings})
        return
    s = start.date() if isinstance(start, datetime) else start
    sign = "+" if n >= 0 else "-"
    click.echo(f"{s.isoformat()} {sign} {abs(n)} 个工作日 working days = {result.isoformat()}（{weekday(result)}）")
    _print_warnings(warnings)


@calendar_group.command("deadline")
@click.argument("kind", metavar="KIND", type=click.Choice(["verification", "complaint", "adjustment", "post-check"]))
@click.argument("start", metavar="START")
@click.option("--records", type=click.Choice(["electronic", "paper", "incomplete_archive"]), default="electronic",
              show_default=True, help="核验：出具单位档案形态 / verification: how the issuer keeps records")
@click.option("--extension-days", type=click.IntRange(min=0), default=0, show_default=True,
              help="投诉：延期工作日数 / complaint: extension in working days")
@click.option("--credit", type=click.Choice(["trustworthy", "normal", "untrustworthy"]), default="normal",
              show_default=True, help="事后核查：申请人信用 / post-check: credit level")
@click.option("--days", type=click.IntRange(min=1), help="事后核查：工作日数（替代规则集的核查安排） / post-check: "
              "working days (instead of the ruleset's plan)")
@click.option("--ruleset", metavar="RULESET", required=True,
              help="规则集：日历、期限和条款 / the ruleset: calendar, limits and clauses")
@_JSON_OPTION
def deadline(kind: str, start: str, records: str, extension_days: int, credit: str, days: int | None,
             ruleset: str, as_json: bool) -> None:
    """期限 / A deadline, with the ruleset's figures and clauses. KIND: verification (核验反馈),
    complaint (投诉办结), adjustment (清单调整申请), post-check (告知承诺事后核查).
    START: a date or a datetime (Asia/Shanghai).

    \b
    例 / Example:
      nocert-rules calendar deadline verification 2021-09-30T16:00 --records paper --ruleset rulesets/zibo
    """
    from nocert_rules.enums import CreditLevel, RecordKind
    from nocert_rules.worktime import deadlines as dl

    cal, rs = _calendar_for(ruleset)
    moment = _parse_moment(start, "START")
    policy = rs.deadline_policy
    if kind == "verification":
        result = dl.verification_due(moment, RecordKind(records), cal, policy=policy)
    elif kind == "complaint":
        result = dl.complaint_due(moment, cal, extension_days, policy=policy)
    elif kind == "adjustment":
        result = dl.adjustment_due(moment, cal, policy=policy)
    else:
        plan_pc = rs.manifest.pledge_policy.post_check.get(CreditLevel(credit))
        if days is None:
            if plan_pc is None:
                raise CliFailure(f"规则集没有 {credit} 的核查安排 / the ruleset has no post-check plan for {credit}")
            if plan_pc.waived:
                if as_json:
                    print_json({"kind": kind, "waived": True, "description": plan_pc.description,
                                 "clause": plan_pc.clause})
                else:
                    click.echo(f"免予核查 / waived: {plan_pc.description}（{plan_pc.clause}）")
                return
            days = plan_pc.within_working_days
        assert days is not None
        result = dl.post_check_due(moment, days, cal, clause=plan_pc.clause if plan_pc else None, policy=policy)
    if as_json:
        print_json({"kind": kind, **result.model_dump(mode="json")})
        return
    due = result.due_at
    click.echo(f"到期 / Due: {due:%Y-%m-%d %H:%M}（{weekday(due.date())}，Asia/Shanghai）")
    click.echo(f"规则 / Rule: {result.rule}")
    click.echo(f"条款 / Clause: {result.clause or '—'}")
    _print_warnings(result.warnings)
