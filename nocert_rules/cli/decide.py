"""``nocert-rules decide``: one request decided, explained rule by rule and clause by clause
(docs/cli.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from nocert_rules.cli.common import (
    AS_OF_HELP,
    EXIT_CODES_HELP,
    CliFailure,
    as_of_moment,
    make_console,
    open_ruleset,
    weekday,
)
from nocert_rules.errors import CalendarError, RequestError
from nocert_rules.tools.casefile import read_request_file, redact

if TYPE_CHECKING:
    from nocert_rules.policy.wording import RulesetWording

_EFFECT_LABELS = {"offer": "提供 offer", "block": "阻止 block", "choose": "采用 choose",
                  "fallback": "兜底 fallback"}


def _item_rows(d: Any) -> list[tuple[str, str]]:
    """What was asked and who issues it: the first rows of the summary."""
    rows: list[tuple[str, str]] = [
        ("申请人须自行提交 / Applicant must submit", "是 yes" if d.applicant_must_submit else "否 no"),
        ("事项 / Service item", f"{d.service_item} {d.service_item_name or ''}".strip()),
        ("证明 / Certificate", f"{d.certificate_id or d.certificate} {d.certificate_name or ''}".strip()
         + ("（在清单内 / listed）" if d.listed else "（不在本事项清单内 / not on the list for this item）")),
        ("出具单位 / Issuer", d.issuer or "—"),
    ]
    if d.sharing_source:
        rows.append(("共享来源 / Sharing source", d.sharing_source))
    if d.records:
        rows.append(("档案形态 / Records", d.records.value))
    return rows


def _applicant_row(d: Any) -> tuple[str, str]:
    a = d.applicant
    flags = "".join([
        "，在虚假承诺黑名单内 on the false-pledge blacklist" if a.on_blacklist else "",
        "，有严重不良信用记录 serious bad record" if a.serious_bad_record else "",
    ])
    kind = {"person": "自然人 person", "organization": "组织 organization"}[a.kind.value]
    credit = {"trustworthy": "守信 trustworthy", "normal": "一般 normal", "untrustworthy": "失信 untrustworthy"}
    return ("申请人 / Applicant", f"{kind} {a.id_masked}{' ' + a.name_masked if a.name_masked else ''}，"
            f"信用 {credit[a.credit.value]}{flags}")


def _deadline_rows(d: Any) -> list[tuple[str, str]]:
    from nocert_rules.tools.dryrun import deadline_label

    if not d.deadline:
        return []
    kinds = {"verification_reply": "核验回复 verification reply", "post_check": "事后核查 post-check"}
    due = d.deadline.due_at
    return [("期限 / Deadline", f"{kinds[d.deadline.kind]} 至 due {due:%Y-%m-%d %H:%M}（{weekday(due.date())}）"),
            ("期限规则 / Deadline rule", f"{deadline_label(d.deadline.rule)}（{d.deadline.clause}）")]


def _follow_up_rows(d: Any) -> list[tuple[str, str]]:
    """即办件 clock, proxy officer and post-check: each from the ruleset (manifest on_the_spot,
    the officers file, the pledge policy)."""
    rows: list[tuple[str, str]] = []
    if d.approval_clock:
        ac = d.approval_clock
        limit = f"，时限 {ac.working_minutes} 个工作分钟 limit {ac.working_minutes} working minutes" if ac.working_minutes else ""
        rows.append(("即办件 / On-the-spot item", f"{ac.rule}（{ac.clause}）{limit}"))
    if d.proxy_officer:
        po = d.proxy_officer
        who = f"，{po.officer_id}（{po.ab}角）" if po.officer_id else ""
        cited = f"（{po.citation.clause_id}）" if po.citation else ""
        rows.append(("代办人员 / Proxy officer", f"{po.unit + ' ' if po.unit else ''}{po.role_label}{who}{cited}"))
    if d.post_check:
        pc = d.post_check
        due = f"，至 due {pc.due_at:%Y-%m-%d %H:%M}" if pc.due_at else ""
        rows.append(("事后核查 / Post-check", f"{'免予核查 waived' if pc.waived else '核查 check'}{due}：{pc.description}"))
    return rows


def _print_trace(console: Any, d: Any) -> None:
    from nocert_rules.tools.dryrun import shorten
    from nocert_rules.tools.safe_text import SafeText as Text

    console.print(Text("理由 / Trace:", style="bold"))
    for i, step in enumerate(d.trace, start=1):
        t = Text(f"  {i}. ")
        style = {"block": "red", "choose": "green", "fallback": "yellow"}.get(step.effect, "")
        t.append(f"{_EFFECT_LABELS.get(step.effect, step.effect)}  ", style=style)
        t.append(f"{step.rule_id}  ", style="bold")
        t.append(step.conclusion)
        console.print(t)
        if step.citation:
            c = step.citation
            text = shorten("".join(c.text.split()), 36)
            console.print(Text(f"     依据 clause {c.clause_id}：“{text}”", style="dim"), no_wrap=True,
                          overflow="ellipsis")


def render_decision(console: Any, decision: Any, wording: RulesetWording) -> None:
    """A decision as a readable Chinese summary (English beside it); ``wording``: the manifest
    ``wording`` of the decision's ruleset, which names the method."""
    from nocert_rules.tools.safe_text import SafeText as Text

    d = decision
    line = Text()
    line.append("处理方式 / Method: ", style="bold")
    line.append(f"{wording.method(d.method).zh} {d.method.value}", style="bold cyan")
    console.print(line)
    requested = ("申请时间 / Requested at",
                 f"{d.requested_at:%Y-%m-%d %H:%M}（{weekday(d.requested_at.date())}，Asia/Shanghai）")
    rows = [*_item_rows(d), _applicant_row(d), requested, *_deadline_rows(d), *_follow_up_rows(d)]
    for label, value in rows:
        t = Text()
        t.append(f"{label}: ", style="bold")
        t.append(value)
        console.print(t)
    _print_trace(console, d)
    if d.warnings:
        console.print(Text("提示 / Warnings:", style="bold yellow"))
        for w in d.warnings:
            console.print(Text(f"  ! {w}", style="yellow"))
    console.print(Text(f"规则集 / Ruleset: {d.ruleset.name} {d.ruleset.version} (sha256 {d.ruleset.sha256[:12]}…)",
                       style="dim"))


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("ruleset", metavar="RULESET")
@click.option("--request", "request_file", required=True, metavar="FILE|-",
              help="决定请求 JSON 文件，- 为标准输入 / the request as a JSON file, - for stdin")
@click.option("--as-of", help=AS_OF_HELP)
@click.option("--json", "as_json", is_flag=True, help="输出 Decision JSON / print the Decision as JSON")
@click.option("--backend", type=click.Choice(["auto", "durable", "compiled"]), default="auto", show_default=True,
              help="规则后端 / rule backend (see `nocert-rules info`)")
def decide(ruleset: str, request_file: str, as_of: str | None, as_json: bool, backend: str) -> None:
    """对一个请求作出决定 / Decide one request: method, issuer, deadline, and the trace of rules
    and the clauses the ruleset cites.

    \b
    例 / Example:
      nocert-rules decide rulesets/zibo --request examples/requests/pledge.json
    """
    from nocert_rules.engine.core import Engine
    from nocert_rules.tools.casefile import apply_as_of, method_names

    moment = as_of_moment(as_of)
    rs = open_ruleset(ruleset)
    case = read_request_file(request_file, method_names(rs.manifest.wording))
    if case.error is not None or case.request is None:
        raise CliFailure(f"{request_file}:{case.line}: {redact(case.error or 'empty request')}")
    engine = Engine(rs, backend=backend)
    try:
        decision = engine.decide(apply_as_of(case.request, moment))
    except (RequestError, CalendarError) as exc:
        # as dry-run does: a message may echo a key or value of the request (an ID number)
        raise CliFailure(f"{request_file}: {redact(str(exc))}") from None
    finally:
        engine.close()
    if as_json:
        click.echo(decision.model_dump_json())
    else:
        render_decision(make_console(), decision, rs.manifest.wording)
