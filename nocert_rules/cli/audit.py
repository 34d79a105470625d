"""``nocert-rules audit``: verify and show hash-chained audit logs (:mod:`nocert_rules.records.audit`).

``audit verify LOG`` exits 0 when the log is intact, 1 when any entry was edited, removed,
inserted or reordered, the last line is torn, or the log does not match its anchor
(``--expect-head``, ``--min-records``, ``--head-file``: truncated, or head mismatch), and 2 when
the log or the checkpoint is missing or unreadable. Output is rich on a terminal, plain text
when piped, JSON with ``--json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NoReturn

import click

from nocert_rules.privacy import mask_text, printable
from nocert_rules.records.audit import (
    AuditLogError,
    LogEntry,
    LogVerification,
    read_entries,
    verify_log,
)

EXIT_INTACT = 0
EXIT_TAMPERED = 1
EXIT_UNREADABLE = 2

_EXIT_HELP = (
    "\b\n退出码 / Exit codes:\n"
    "  0  完整 / intact\n"
    "  1  条目被改动、删除、插入、调序，末行不完整，或与链头锚点不符 / edited, removed,\n"
    "     inserted, reordered entries, a torn last line, or truncated / head mismatch\n"
    "  2  文件不存在或无法读取 / the log or checkpoint is missing or unreadable"
)

_KIND_ZH = {
    "malformed": "格式错误",
    "edited": "被改动",
    "removed": "被删除",
    "inserted": "被插入",
    "reordered": "顺序错误",
    "truncated": "末尾被截断",
    "head-mismatch": "链头不符",
}


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _unreadable(log: Path, exc: OSError | AuditLogError, as_json: bool) -> NoReturn:
    if isinstance(exc, OSError):
        where = f"{exc.filename or log}: {exc.strerror or exc}"
        message = f"无法读取 / cannot read: {where}"
        if exc.filename is None or Path(exc.filename) == log:
            message = f"无法读取审计日志 / cannot read the audit log: {where}"
    else:
        message = f"无法读取链头检查点 / cannot read the head checkpoint: {exc}"
    if as_json:
        _echo_json({"path": str(log), "ok": False, "error": message})
    else:
        click.echo(f"错误 / error: {message}", err=True)
    raise click.exceptions.Exit(EXIT_UNREADABLE)


def _rich_console() -> Any:
    from rich.console import Console

    console = Console(highlight=False)
    return console if console.is_terminal else None


@click.group(name="audit", epilog=_EXIT_HELP)
def audit() -> None:
    """审计日志（哈希链 JSONL） / hash-chained JSONL audit logs."""


def _head_hash(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise click.BadParameter("须为 64 位十六进制 / must be 64 hex digits (a head hash)")
    return value


@audit.command("verify", epilog=_EXIT_HELP)
@click.argument("log", type=click.Path(path_type=Path))
@click.option(
    "--expect-head",
    metavar="HASH",
    callback=_head_hash,
    help="另存的链头哈希须在链中 / a head hash stored elsewhere; it must be in the chain",
)
@click.option(
    "--min-records",
    type=click.IntRange(min=0),
    metavar="N",
    help="日志须至少到序号 N / the log must reach seq N",
)
@click.option(
    "--head-file",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="与链头检查点比较 / compare with a head checkpoint (AuditLog head_file)",
)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print the result as JSON")
def verify(
    log: Path, expect_head: str | None, min_records: int | None, head_file: Path | None, as_json: bool
) -> None:
    """校验审计日志的哈希链 / verify an audit log's hash chain, naming each broken line.

    Without --expect-head, --min-records or --head-file, entries removed from the end of the
    log cannot be detected.
    """
    try:
        result = verify_log(log, expect_head, min_records, head_file=head_file)
    except (OSError, AuditLogError) as exc:
        _unreadable(log, exc, as_json)
    if as_json:
        _echo_json(result.model_dump(mode="json"))
    else:
        console = _rich_console()
        if console is not None:
            _print_rich(console, result)
        else:
            _print_plain(result)
    raise click.exceptions.Exit(EXIT_INTACT if result.ok else EXIT_TAMPERED)


def _summary(result: LogVerification) -> str:
    if result.ok:
        anchor = (
            "；与锚点相符 / matches the anchor"
            if result.anchored
            else "；未核对链头，末尾删除无法发现 / head not anchored: removal at the end is undetectable"
        )
        return f"完整 / intact: {result.records} 条记录 / records, head {result.head or '-'}{anchor}"
    parts = []
    if result.problems:
        parts.append(f"{len(result.problems)} 处问题 / problems")
    if result.torn_tail:
        parts.append(f"第 {result.torn_line} 行末行不完整 / torn last line {result.torn_line}")
    return f"不完整 / NOT intact: {result.records} 条记录 / records; " + "; ".join(parts)


def _print_plain(result: LogVerification) -> None:
    click.echo(f"{printable(result.path)}: {_summary(result)}")
    for p in result.problems:
        click.echo(f"  line {p.line}: {p.kind} ({_KIND_ZH[p.kind]}): {p.message}")
    if result.torn_tail:
        click.echo(
            f"  line {result.torn_line}: torn (写入中断): 之前的条目已校验；用 AuditLog(..., "
            "repair_torn_tail=True) 截去末行 / the prefix was verified; repair truncates the torn line"
        )


def _print_rich(console: Any, result: LogVerification) -> None:
    from rich.table import Table

    from nocert_rules.tools.safe_text import SafeText as Text

    console.print(Text(_summary(result), style="bold green" if result.ok else "bold red"))
    console.print(Text(result.path))
    if result.problems or result.torn_tail:
        table = Table("行 / line", "类型 / kind", "说明 / message")
        for p in result.problems:
            table.add_row(Text(str(p.line)), Text(f"{p.kind} {_KIND_ZH[p.kind]}"), Text(p.message))
        if result.torn_tail:
            table.add_row(
                Text(str(result.torn_line)),
                Text("torn 写入中断"),
                Text("末行不完整；之前的条目已校验 / torn last line; prefix verified"),
            )
        console.print(table)


@audit.command("show", epilog=_EXIT_HELP)
@click.argument("log", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出条目 / print the entries as JSON")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="只显示最后 N 条 / only the last N entries")
def show(log: Path, as_json: bool, limit: int | None) -> None:
    """列出审计日志条目（不校验；校验请用 verify） / list the entries (use verify to check them)."""
    try:
        rows = list(read_entries(log))
    except OSError as exc:
        _unreadable(log, exc, as_json)
    if limit is not None:
        rows = rows[-limit:]
    if as_json:
        _echo_json(
            [
                r.model_dump(mode="json") if isinstance(r, LogEntry) else {"line": r[0], "error": r[1]}
                for r in rows
            ]
        )
        return
    console = _rich_console()
    lines = [_row(r) for r in rows]
    if console is not None:
        from rich.table import Table

        from nocert_rules.tools.safe_text import SafeText as Text

        table = Table("行 / line", "序号 / seq", "时间 / at", "类型 / kind", "办件 / request", "结果 / outcome")
        for cells in lines:
            table.add_row(*(Text(c) for c in cells))  # log content is data, never markup
        console.print(table)
    else:
        for cells in lines:
            click.echo("\t".join(cells))


def _row(row: LogEntry | tuple[int, str]) -> list[str]:
    """The cells of one entry, each masked and with control characters escaped (log content is data)."""
    return [printable(mask_text(cell)) for cell in _cells(row)]


def _cells(row: LogEntry | tuple[int, str]) -> list[str]:
    if not isinstance(row, LogEntry):
        return [str(row[0]), "-", "-", "malformed", "-", row[1]]
    record = row.record
    outcome = record.get("outcome") if isinstance(record.get("outcome"), dict) else {}
    assert isinstance(outcome, dict)
    summary = outcome.get("method") or outcome.get("state") or outcome.get("status") or "-"
    return [
        str(row.line),
        str(row.seq),
        str(record.get("at", "-")),
        str(record.get("kind", "-")),
        str(record.get("request_id") or "-"),
        str(summary),
    ]
