"""``nocert-rules audit``: verify and show HMAC-authenticated, hash-chained audit logs
(:mod:`nocert_rules.records.audit`).

``audit verify LOG`` exits 0 when the log is intact, 1 when any entry is malformed or not in
canonical form, edited, forged (its MAC does not match the key), removed, inserted, duplicated or
reordered, the last line is torn, or the log does not match its anchor (``--expect-head``,
``--min-records``, ``--head-file``: truncated, or head mismatch), and 2 when the log, the
checkpoint or a key file is missing or unreadable. The key comes from ``--key-file`` (the host
key; default ``$NOCERT_AUDIT_KEY_FILE``) or ``--mac-key-file`` (the auditor's MAC key from
``audit mac-key``); without one only the chain is checked, and a rewrite with a recomputed chain
cannot be detected. Output is rich on a terminal, plain text when piped, JSON with ``--json``.
"""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path
from typing import Any, NoReturn

import click

from nocert_rules.privacy import mask_text, printable
from nocert_rules.records.audit import (
    AuditLogError,
    LogEntry,
    LogVerification,
    audit_mac_key,
    key_id,
    load_key_file,
    read_entries,
    verify_log,
)

EXIT_INTACT = 0
EXIT_TAMPERED = 1
EXIT_UNREADABLE = 2

_EXIT_HELP = (
    "\b\n退出码 / Exit codes:\n"
    "  0  完整 / intact\n"
    "  1  条目格式错误、非规范、被改动、伪造、删除、插入、重复、调序，末行不完整，或与链头锚点不符 /\n"
    "     malformed, non-canonical, edited, forged, removed, inserted, duplicate, reordered entries,\n"
    "     a torn last line, or truncated / head mismatch\n"
    "  2  日志、检查点或密钥文件不存在或无法读取 / the log, checkpoint or a key file is missing or unreadable"
)

_KIND_ZH = {
    "malformed": "格式错误",
    "noncanonical": "非规范形式",
    "edited": "被改动",
    "forged": "伪造（MAC 不符）",
    "unknown-key": "未知密钥",
    "duplicate": "重复",
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
    elif "key" in str(exc):
        message = f"密钥无效 / bad key: {exc}"
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
@click.option(
    "--key-file",
    "key_files",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="主机密钥文件（可多次：轮换前后的密钥）；默认 $NOCERT_AUDIT_KEY_FILE / the host key file "
    "(repeat for keys before a rotation); default $NOCERT_AUDIT_KEY_FILE",
)
@click.option(
    "--mac-key-file",
    "mac_key_files",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="审计员的 MAC 密钥文件（audit mac-key 的输出，十六进制） / the auditor's MAC key file (hex, from audit mac-key)",
)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print the result as JSON")
def verify(
    log: Path,
    expect_head: str | None,
    min_records: int | None,
    head_file: Path | None,
    key_files: tuple[Path, ...],
    mac_key_files: tuple[Path, ...],
    as_json: bool,
) -> None:
    """校验审计日志的格式、哈希链与 MAC / verify an audit log's form, hash chain and MACs, naming each
    broken line.

    Without a key only the chain is checked (a rewrite with a recomputed chain passes); without
    --expect-head, --min-records or --head-file, entries removed from the end cannot be detected.
    """
    if not key_files and not mac_key_files and os.environ.get("NOCERT_AUDIT_KEY_FILE"):
        key_files = (Path(os.environ["NOCERT_AUDIT_KEY_FILE"]),)
    try:
        keys = [load_key_file(p) for p in key_files]
        mac_keys = [_load_mac_key(p) for p in mac_key_files]
        result = verify_log(log, expect_head, min_records, head_file=head_file, keys=keys, mac_keys=mac_keys)
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


def _load_mac_key(path: Path) -> bytes:
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise AuditLogError(f"{path}: MAC 密钥须为十六进制 / the MAC key file must hold hex (audit mac-key)") from None


def _summary(result: LogVerification) -> str:
    if result.ok:
        anchor = (
            "；与锚点相符 / matches the anchor"
            if result.anchored
            else "；未核对链头，末尾删除无法发现 / head not anchored: removal at the end is undetectable"
        )
        auth = (
            "；MAC 已核验 / authenticated"
            if result.authenticated
            else "；未用密钥核验，重算整条链无法发现 / not authenticated (no key): a rewrite with a recomputed chain is undetectable"
        )
        if result.records == 0:
            auth = ""
        return f"完整 / intact: {result.records} 条记录 / records, head {result.head or '-'}{anchor}{auth}"
    parts = []
    if result.problems:
        parts.append(f"{len(result.problems)} 处问题 / problems")
    if result.torn_tail:
        parts.append(f"第 {result.torn_line} 行末行不完整 / torn last line {result.torn_line}")
    if result.problems_omitted:
        parts.append(f"另有 {result.problems_omitted} 处未列出 / {result.problems_omitted} more not listed")
    return f"不完整 / NOT intact: {result.records} 条记录 / records; " + "; ".join(parts)


def _print_plain(result: LogVerification) -> None:
    click.echo(f"{printable(result.path)}: {_summary(result)}")
    for p in result.problems:
        click.echo(f"  line {p.line}: {p.kind} ({_KIND_ZH[p.kind]}): {printable(p.message)}")
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
        rows = list(collections.deque(read_entries(log), maxlen=limit))  # --limit: the last N, streamed
    except OSError as exc:
        _unreadable(log, exc, as_json)
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


@audit.command("mac-key", epilog=_EXIT_HELP)
@click.option(
    "--key-file",
    required=True,
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="主机密钥文件 / the host key file",
)
def mac_key(key_file: Path) -> None:
    """输出交给审计员的 MAC 密钥（十六进制）及其 kid / print the MAC key to hand to an auditor (hex) and its kid.

    The MAC key verifies the log's entries; it cannot recompute the keyed hashes that
    pseudonymise people (those need the host key, which the auditor never gets).
    """
    try:
        mk = audit_mac_key(load_key_file(key_file))
    except (OSError, AuditLogError) as exc:
        _unreadable(key_file, exc, False)
    click.echo(mk.hex())
    click.echo(f"kid {key_id(mk)}", err=True)
