"""``nocert-rules diff``: two rulesets compared row by row, rule by rule, and over a case file
(``nocert_rules.tools.diff``, docs/cli.md)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from nocert_rules.cli.common import (
    AS_OF_HELP,
    EXIT_CODES_HELP,
    EXIT_FAIL,
    as_of_moment,
    make_console,
    open_ruleset,
    print_json,
)


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@click.option("--cases", metavar="CASES", help="在案例上比较决定 / compare decisions over a case file")
@click.option("--as-of", help=AS_OF_HELP)
@click.option("--old-date", type=click.DateTime(["%Y-%m-%d"]),
              help="旧规则集按此日的清单 / compare OLD's list as in force on this date (YYYY-MM-DD)")
@click.option("--new-date", type=click.DateTime(["%Y-%m-%d"]),
              help="新规则集按此日的清单 / compare NEW's list as in force on this date; "
                   "diff RS RS --old-date D1 --new-date D2 lists what changed between two dates")
@click.option("--exit-code", is_flag=True, help="有差异时退出码为 1 / exit 1 when there are differences")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print as JSON")
def diff(old: str, new: str, cases: str | None, as_of: str | None, old_date: datetime | None,
         new_date: datetime | None, exit_code: bool, as_json: bool) -> None:
    """比较两个规则集 / Compare two rulesets: list rows 新增/变更/取消 (added/changed/cancelled,
    the list-adjustment types) field by field, rules and clauses added/removed/changed, manifest changes;
    with --cases, how many decisions change (old method -> new method) and sample case ids.
    Exits 0 unless an error, or 1 with --exit-code when anything differs.
    """
    from nocert_rules.tools.diff import diff_cases, diff_rulesets

    old_rs, new_rs = open_ruleset(old), open_ruleset(new)
    result = diff_rulesets(old_rs, new_rs, old_date.date() if old_date else None,
                           new_date.date() if new_date else None)
    if cases:
        diff_cases(result, cases, as_of=as_of_moment(as_of))
    if as_json:
        print_json(result.to_dict())
    else:
        _print_diff(_Say(make_console()), result, f"{old_rs.name} {old_rs.version} ({old})",
                    f"{new_rs.name} {new_rs.version} ({new})", cases)
    if exit_code and result.has_differences:
        raise click.exceptions.Exit(EXIT_FAIL)


class _Say:
    """One line of the diff on the console, in a style."""

    def __init__(self, console: Any) -> None:
        self.console = console

    def __call__(self, text: str, style: str = "") -> None:
        from nocert_rules.tools.safe_text import SafeText as Text

        self.console.print(Text(text, style=style))


def _print_diff(say: _Say, result: Any, old: str, new: str, cases: str | None) -> None:
    say(f"比较 / Diff: {old} → {new}", "bold")
    if result.manifest:
        say("清单总则 / Manifest:", "bold")
        for f, o, n in result.manifest:
            say(f"  ~ {f}: {_show(o)} → {_show(n)}")
    _print_rows(say, result.rows)
    for title, ch in (("规则 / Rules", result.rules), ("条款 / Clauses", result.clauses)):
        _print_changes(say, title, ch)
    if result.cases is not None:
        _print_cases(say, result.cases, cases)
    if not result.has_differences:
        say("无差异 / no differences", "green")


def _print_rows(say: _Say, r: Any) -> None:
    """List rows 新增 / 变更 / 取消, field by field."""
    say(f"清单行 / List rows: 新增 added {len(r.added)}，变更 changed {len(r.changed)}，"
        f"取消 cancelled {len(r.removed)}", "bold")
    for row in r.added:
        say(f"  + 新增 {row['service_item_code']} / {row['certificate_id']} {row['certificate_name']} "
            f"({row['status']}, methods {_show(row['methods'])})", "green")
    for (item, cert), fields in r.changed:
        say(f"  ~ 变更 {item} / {cert}", "yellow")
        for f, o, n in fields:
            say(f"      {f}: {_show(o)} → {_show(n)}")
    for row in r.removed:
        say(f"  - 取消 {row['service_item_code']} / {row['certificate_id']} {row['certificate_name']}", "red")


def _print_changes(say: _Say, title: str, ch: Any) -> None:
    """Rules or clauses added, changed (field by field) and removed."""
    say(f"{title}: 新增 added {len(ch.added)}，变更 changed {len(ch.changed)}，删除 removed {len(ch.removed)}",
        "bold")
    for item in ch.added:
        say(f"  + {item['id']}", "green")
    for key, fields in ch.changed:
        say(f"  ~ {key}", "yellow")
        for f, o, n in fields:
            say(f"      {f}: {_show(o)} → {_show(n)}")
    for item in ch.removed:
        say(f"  - {item['id']}", "red")


def _print_cases(say: _Say, c: Any, cases: str | None) -> None:
    """How many decisions of the case file change, by transition, with sample case ids."""
    say(f"案例 / Cases ({cases}): {c.cases:,} 件已决定 decided，{c.changed:,} 件决定改变 changed"
        + (f"，{c.malformed:,} 行格式错误 malformed" if c.malformed else ""), "bold")
    for (o, n), k in sorted(c.transitions.items(), key=lambda kv: (-kv[1], kv[0])):
        sample = ", ".join(c.samples.get((o, n), []))
        say(f"  {o} → {n}: {k:,}  (例 e.g. {sample})")
