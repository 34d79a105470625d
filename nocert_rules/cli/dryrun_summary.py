"""A dry-run summary (``Summary.to_dict``) on the terminal: rich tables, Chinese first.

One function per part of the summary, in the order printed; the numbers come from
``nocert_rules.tools.dryrun``, the wording of deadlines and times from its formatters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nocert_rules.enums import Method
from nocert_rules.tools.dryrun import deadline_label, format_hours, format_spread, shorten, zh_part
from nocert_rules.tools.safe_text import SafeText as Text

if TYPE_CHECKING:
    from nocert_rules.policy.wording import RulesetWording


def render_summary(console: Any, data: dict[str, Any], wording: RulesetWording, *, top: int = 20,
                   listing: int = 20) -> None:
    """Print a dry-run summary (``to_dict`` output) as rich tables, Chinese first; ``wording``:
    the manifest ``wording`` of the run's ruleset, which names the methods."""
    _heading(console, data)
    _methods(console, data, wording)
    _issuers(console, data, wording, top)
    _pledges_blocked(console, data)
    _deadlines(console, data)
    _warnings(console, data, listing)
    _expected(console, data, listing)
    _errors(console, data, listing)
    _result(console, data)


def _table(title: str, *columns: tuple[str, str]) -> Any:
    from rich import box
    from rich.table import Table

    t = Table(title=Text(title, style="bold"), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name, justify in columns:
        t.add_column(Text(name), justify=justify)  # type: ignore[arg-type]
    return t


def _heading(console: Any, data: dict[str, Any]) -> None:
    rs = data["ruleset"]
    console.print(Text("试运行摘要 / Dry-run summary", style="bold underline"))
    console.print(Text(f"规则集 ruleset: {rs['name']} {rs['version']} (sha256 {rs['sha256'][:12]}…)    "
                       f"案例文件 cases: {data['cases_file']}"
                       + (f"    申请时间统一为 as-of: {data['as_of']}" if data.get("as_of") else "")))
    console.print(Text(
        f"共 {data['rows']:,} 行 rows：已决定 {data['decided']:,} decided，格式错误 {data['malformed']:,} malformed；"
        f"在清单内 {data['listed']:,} listed，不在清单 {data['not_listed']:,} not listed"
        f"（未知事项编码 {data.get('unknown_service_items', 0):,} unknown service items，"
        f"已知事项下未列证明 {data.get('unknown_certificates', 0):,} unknown certificates）"))
    if data.get("lines"):
        console.print(Text(_line_counts(data["lines"])))
    speed = f"，{data['cases_per_second']:,.0f} 件/秒 cases/s" if data.get("cases_per_second") else ""
    console.print(Text(f"用时 elapsed {data['elapsed_seconds']:.1f} s{speed}（jobs {data['jobs']}）"))


def _line_counts(n: dict[str, int]) -> str:
    """Where the file's lines went: ``文件共 N 行 lines = 表头 header 1 + 案例 cases ...``."""
    parts = [f"表头 header {n['header']:,}"] if n["header"] else []
    parts.append(f"案例 cases {n['cases']:,}")
    parts += [f"{label} {n[key]:,}" for key, label in (("blank", "空行 blank"), ("continued", "单元格内换行 continued"),
                                                      ("swallowed", "被未闭合引号并入 swallowed")) if n[key]]
    return f"文件共 {n['total']:,} 行 lines = " + " + ".join(parts)


def _methods(console: Any, data: dict[str, Any], wording: RulesetWording) -> None:
    decided = data["decided"] or 1
    t = _table("处理方式 / Methods", ("方式 method", "left"), ("件数 cases", "right"), ("占比 share", "right"))
    for method, n in data["methods"].items():
        t.add_row(Text(f"{wording.method(Method(method)).zh} {method}"), Text(f"{n:,}"), Text(f"{100 * n / decided:.1f}%"))
    console.print(t)


def _count(n: int) -> Any:
    """A count in a cell; a dot for none."""
    return Text(f"{n:,}" if n else "·")


def _issuers(console: Any, data: dict[str, Any], wording: RulesetWording, top: int) -> None:
    shown = list(data["methods"])
    issuers = data["issuers"]
    title = "出具单位 × 处理方式 / Issuing unit × method"
    if len(issuers) > top:
        title += f"（前 {top} 个，共 {len(issuers)} 个 / top {top} of {len(issuers)}）"
    t = _table(title, ("出具单位 issuer", "left"), *[(wording.method(Method(m)).zh, "right") for m in shown],
               ("合计 total", "right"))
    for entry in issuers[:top]:
        t.add_row(Text(entry["issuer"]), *[_count(entry["methods"].get(m, 0)) for m in shown],
                  Text(f"{entry['total']:,}"))
    rest = issuers[top:]
    if rest:
        t.add_row(Text(f"其余 {len(rest)} 个单位 / {len(rest)} more"),
                  *[_count(sum(e["methods"].get(m, 0) for e in rest)) for m in shown],
                  Text(f"{sum(e['total'] for e in rest):,}"))
    console.print(t)


def _pledges_blocked(console: Any, data: dict[str, Any]) -> None:
    pb = data["pledge_blocked"]
    t = _table(f"告知承诺被阻止 / Pledges blocked: {pb['cases']:,} 件 cases",
               ("规则 rule", "left"), ("理由 reason", "left"), ("次数 times", "right"))
    for entry in pb["by_rule"]:
        t.add_row(Text(entry["rule"]), Text(shorten(zh_part(entry["reason"]), 50)), Text(f"{entry['count']:,}"))
    console.print(t)


def _deadlines(console: Any, data: dict[str, Any]) -> None:
    t = _table("期限分布：从申请到到期的时间 / Deadlines: time from request to due",
               ("期限规则 rule", "left"), ("条款 clause", "left"), ("件数 cases", "right"),
               ("工作时间 working 最短/中位/最长", "right"), ("日历最长 calendar", "right"))
    for column in t.columns[1:]:
        column.no_wrap = True
    t.columns[0].min_width = 30
    t.columns[0].overflow = "fold"
    for entry in data["deadlines"]:
        t.add_row(Text(deadline_label(entry["rule"])), Text(entry["clause"]), Text(f"{entry['count']:,}"),
                  Text(format_spread(entry["working_minutes"])), Text(format_hours(entry["calendar_hours"]["max"])))
    console.print(t)


def _warnings(console: Any, data: dict[str, Any], listing: int) -> None:
    if not data["warnings"]:
        return
    t = _table("提示 / Warnings", ("件数 cases", "right"), ("内容 text", "left"))
    for entry in data["warnings"][:listing]:
        t.add_row(Text(f"{entry['count']:,}"), Text(shorten(entry["text"], 220)))
    console.print(t)


def _more(console: Any, left: int, unit: str) -> None:
    """The line under a cut listing: how many more, and where they are (``--out``)."""
    if left > 0:
        console.print(Text(f"……另有 {left:,} {unit} / and {left:,} more (--out)"))


def _expected(console: Any, data: dict[str, Any], listing: int) -> None:
    exp = data["expected"]
    if not exp["checked"]:
        return
    console.print(Text(
        f"预期方式核对 / Expected methods: 核对 {exp['checked']:,} checked，一致 {exp['matched']:,} matched，"
        f"不符 {exp['mismatched']:,} mismatched", style="bold"))
    if not exp["mismatches"]:
        return
    t = _table("不符的案例 / Mismatches", ("案例 case", "left"), ("行 line", "right"),
               ("预期 expected", "left"), ("实际 got", "left"))
    for m in exp["mismatches"][:listing]:
        t.add_row(Text(m["case_id"] or "-"), Text(str(m["line"])), Text(m["expected"]), Text(m["got"]))
    console.print(t)
    _more(console, exp["mismatched"] - listing, "项")


def _errors(console: Any, data: dict[str, Any], listing: int) -> None:
    errs = data["errors"]
    if not errs["count"]:
        return
    t = _table(f"格式错误的行 / Malformed rows: {errs['count']:,}", ("行 line", "right"), ("案例 case", "left"),
               ("原因 reason", "left"))
    for e in errs["rows"][:listing]:
        t.add_row(Text(str(e["line"])), Text(e["case_id"] or "-"), Text(shorten(e["reason"], 200)))
    console.print(t)
    _more(console, errs["count"] - listing, "行")


def _result(console: Any, data: dict[str, Any]) -> None:
    mismatched, malformed = data["expected"]["mismatched"], data["errors"]["count"]
    if mismatched or malformed:
        console.print(Text(
            f"结论 / Result: 需要处理 — {mismatched:,} 项预期不符，{malformed:,} 行格式错误 / needs "
            f"attention: {mismatched:,} mismatches, {malformed:,} malformed rows (exit 1)",
            style="bold red"))
    else:
        console.print(Text("结论 / Result: 通过 OK", style="bold green"))
