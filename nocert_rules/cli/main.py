"""The ``nocert-rules`` command line (also ``python -m nocert_rules``). See docs/cli.md.

Output is rich (tables, colour) on a terminal and plain text when piped; ``--json`` gives
machine-readable output. Errors go to stderr (a ruleset error lists every problem, one per line), never a
traceback; with ``--json`` an error is one JSON object on stdout (``{"error": {...}}``).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from nocert_rules.errors import CalendarError, NocertError, RequestError, RulesetError
from nocert_rules.privacy import mask_text, printable
from nocert_rules.tools.casefile import CaseFileError, parse_as_of, read_request_file, redact

EXIT_OK = 0
EXIT_FAIL = 1  # policy findings: mismatches, malformed rows, lint errors, forbidden materials, failed tests
EXIT_USAGE = 2  # bad usage, a file or ruleset that cannot be read
EXIT_INTERNAL = 3  # a bug: please report it

EXIT_CODES_HELP = (
    "\b\n退出码 / Exit codes:\n"
    "  0  成功 / OK\n"
    "  1  发现问题 / findings: expected-method mismatches or malformed rows (dry-run), lint errors,\n"
    "     forbidden materials (check-guide), failed tests (test), differences (diff --exit-code)\n"
    "  2  用法错误或文件、规则集无法读取 / usage error, or an unreadable file or ruleset\n"
    "  3  内部错误 / internal error (a bug; set NOCERT_DEBUG=1 for the traceback)"
)


class CliFailure(Exception):
    """An expected failure: print ``message`` and exit with ``code``; ``problems`` for --json."""

    def __init__(self, message: str, code: int = EXIT_USAGE, problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.problems = problems


def _fail(message: str, code: int, *, as_json: bool = False, problems: list[dict[str, Any]] | None = None) -> NoReturn:
    """Report an error: text on stderr, or with ``--json`` one JSON object on stdout.

    Whatever the message quotes, ID-shaped runs are masked and control characters escaped; a
    message of several lines (every problem of a ruleset) keeps one problem per line.
    """
    if as_json:
        error: dict[str, Any] = {"exit_code": code, "message": mask_text(message)}
        if problems is not None:
            error["problems"] = [
                {k: mask_text(v) if isinstance(v, str) else v for k, v in q.items()} for q in problems
            ]
        click.echo(json.dumps({"error": error}, ensure_ascii=False, indent=2))
    else:
        text = "\n".join(printable(mask_text(line)) for line in message.split("\n"))
        click.echo(f"错误 / error: {text}", err=True)
    raise click.exceptions.Exit(code)


def _wants_json(ctx: click.Context) -> bool:
    """Whether the command line (before ``--``) asks for ``--json``."""
    args = [*getattr(ctx, "_protected_args", []), *ctx.args]
    if "--" in args:
        args = args[: args.index("--")]
    return "--json" in args


class NocertGroup(click.Group):
    """A click group whose commands never end in a traceback (see ``EXIT_CODES_HELP``).

    With ``--json`` every error, usage errors included, is one JSON object on stdout:
    ``{"error": {"exit_code": …, "message": …, "problems": […]}}`` (problems for a ruleset error).
    """

    def invoke(self, ctx: click.Context) -> Any:
        as_json = _wants_json(ctx)
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except click.exceptions.ClickException as exc:
            if not as_json:
                raise
            _fail(exc.format_message(), exc.exit_code, as_json=True)
        except CliFailure as exc:
            _fail(exc.message, exc.code, as_json=as_json, problems=exc.problems)
        except RulesetError as exc:
            _fail(str(exc), EXIT_USAGE, as_json=as_json, problems=[q.to_dict() for q in exc.problems])
        except (CaseFileError, RequestError, CalendarError, NocertError) as exc:
            _fail(str(exc), getattr(exc, "exit_code", EXIT_USAGE), as_json=as_json)
        except BrokenPipeError:
            sys.stderr.close()
            raise click.exceptions.Exit(EXIT_OK) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{exc.strerror or exc}", EXIT_USAGE, as_json=as_json)
        except KeyboardInterrupt:
            click.echo("已中断 / interrupted", err=True)
            raise click.exceptions.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - the last resort: one line, not a traceback
            if os.environ.get("NOCERT_DEBUG"):
                # the traceback, but through the same masking and escaping as every other output
                import traceback

                click.echo(printable(mask_text(traceback.format_exc()), keep_newlines=True), err=True)
                raise click.exceptions.Exit(EXIT_INTERNAL) from None
            text = redact(str(exc))  # never echo an ID number, even from a bug
            text = text if len(text) <= 500 else text[:499] + "…"
            _fail(f"内部错误 / internal error: {type(exc).__name__}: {text} (NOCERT_DEBUG=1 shows the traceback)",
                  EXIT_INTERNAL, as_json=as_json)


def _console(stderr: bool = False) -> Any:
    """A rich console: colour on a terminal, plain and 120 columns wide when piped."""
    from rich.console import Console

    console = Console(highlight=False, stderr=stderr)
    if not console.is_terminal:
        width = int(os.environ.get("COLUMNS") or 0) or 120
        console = Console(highlight=False, stderr=stderr, width=max(width, 80), no_color=True)
    return console


def _load_ruleset(path: str) -> Any:
    """Load a ruleset; a RulesetError becomes one line naming the file inside the ruleset."""
    from nocert_rules.policy.ruleset import load_ruleset
    from nocert_rules.tools.lint import ruleset_problems

    if not Path(path).exists():
        raise CliFailure(f"{path}: 规则集不存在 / ruleset not found")
    try:
        return load_ruleset(path)
    except RulesetError as exc:
        problems = ruleset_problems(path, exc)
        if len(problems) == 1:
            text = str(problems[0])
        else:
            text = f"{len(problems)} 个问题 problems:\n" + "\n".join(f"  {q}" for q in problems)
        raise CliFailure(f"规则集错误 / ruleset error: {text}", problems=[q.to_dict() for q in problems]) from None


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_as_of(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--as-of") from None


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


AS_OF_HELP = ("申请时间 / requested_at for every case: a date (that day 10:00 Asia/Shanghai) or a full "
              "datetime (naive = Asia/Shanghai)")


@click.group(cls=NocertGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nocert-rules", prog_name="nocert-rules")
def main() -> None:
    """nocert-rules：“无证明城市”证明事项免提交规则引擎 / rules engine for no-certificate cities.

    每个命令的 --help 有详细说明 / see each command's --help; docs/cli.md has the full manual.
    """


# ====================================================================== decide

_EFFECT_LABELS = {"offer": "提供 offer", "block": "阻止 block", "choose": "采用 choose",
                  "fallback": "兜底 fallback"}


def render_decision(console: Any, decision: Any) -> None:
    """A decision as a readable Chinese summary (English beside it)."""
    from nocert_rules.tools.dryrun import deadline_label, shorten
    from nocert_rules.tools.safe_text import SafeText as Text

    d = decision
    line = Text()
    line.append("处理方式 / Method: ", style="bold")
    line.append(f"{d.method.label_zh} {d.method.value}", style="bold cyan")
    console.print(line)
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
    a = d.applicant
    flags = "".join([
        "，在虚假承诺黑名单内 on the false-pledge blacklist" if a.on_blacklist else "",
        "，有严重不良信用记录 serious bad record" if a.serious_bad_record else "",
    ])
    kind = {"person": "自然人 person", "organization": "组织 organization"}[a.kind.value]
    credit = {"trustworthy": "守信 trustworthy", "normal": "一般 normal", "untrustworthy": "失信 untrustworthy"}
    rows.append(("申请人 / Applicant", f"{kind} {a.id_masked}{' ' + a.name_masked if a.name_masked else ''}，"
                 f"信用 {credit[a.credit.value]}{flags}"))
    rows.append(("申请时间 / Requested at", f"{d.requested_at:%Y-%m-%d %H:%M}（{_weekday(d.requested_at.date())}，Asia/Shanghai）"))
    if d.deadline:
        kinds = {"verification_reply": "核验回复 verification reply", "post_check": "事后核查 post-check"}
        due = d.deadline.due_at
        rows.append(("期限 / Deadline", f"{kinds[d.deadline.kind]} 至 due {due:%Y-%m-%d %H:%M}（{_weekday(due.date())}）"))
        rows.append(("期限规则 / Deadline rule", f"{deadline_label(d.deadline.rule)}（{d.deadline.clause}）"))
    if d.approval_clock:  # 即办件: the ruleset's rule and clause (manifest on_the_spot)
        ac = d.approval_clock
        limit = f"，时限 {ac.working_minutes} 个工作分钟 limit {ac.working_minutes} working minutes" if ac.working_minutes else ""
        rows.append(("即办件 / On-the-spot item", f"{ac.rule}（{ac.clause}）{limit}"))
    if d.proxy_officer:  # PROXY: the role from the ruleset's officers file (and the officer, if asked)
        po = d.proxy_officer
        who = f"，{po.officer_id}（{po.ab}角）" if po.officer_id else ""
        cited = f"（{po.citation.clause_id}）" if po.citation else ""
        rows.append(("代办人员 / Proxy officer", f"{po.unit + ' ' if po.unit else ''}{po.role_label}{who}{cited}"))
    if d.post_check:
        pc = d.post_check
        due = f"，至 due {pc.due_at:%Y-%m-%d %H:%M}" if pc.due_at else ""
        rows.append(("事后核查 / Post-check", f"{'免予核查 waived' if pc.waived else '核查 check'}{due}：{pc.description}"))
    for label, value in rows:
        t = Text()
        t.append(f"{label}: ", style="bold")
        t.append(value)
        console.print(t)
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
    if d.warnings:
        console.print(Text("提示 / Warnings:", style="bold yellow"))
        for w in d.warnings:
            console.print(Text(f"  ! {w}", style="yellow"))
    console.print(Text(f"规则集 / Ruleset: {d.ruleset.name} {d.ruleset.version} (sha256 {d.ruleset.sha256[:12]}…)",
                       style="dim"))


@main.command(epilog=EXIT_CODES_HELP)
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
    from nocert_rules.tools.casefile import apply_as_of

    moment = _as_of(as_of)
    rs = _load_ruleset(ruleset)
    case = read_request_file(request_file)
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
        render_decision(_console(), decision)


# ====================================================================== dry-run


@main.command("dry-run", epilog=EXIT_CODES_HELP)
@click.argument("ruleset", metavar="RULESET")
@click.argument("cases", metavar="CASES")
@click.option("--format", "fmt", type=click.Choice(["auto", "jsonl", "csv"]), default="auto", show_default=True,
              help="案例文件格式 / case file format (auto: by extension, else by content)")
@click.option("--as-of", help=AS_OF_HELP)
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=1, show_default=True,
              help="工作进程数，0 为 CPU 数 / worker processes (0: one per CPU)")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="逐案结果写入 JSONL / write per-case results (JSONL, personal data masked)")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True), metavar="FILE.html",
              help="生成独立 HTML 报告 / write a self-contained HTML report")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出摘要 / print the summary as JSON")
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True,
              help="终端上列出的出具单位数 / issuing units listed on the terminal")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="终端上显示进度条 / progress bar (only when stdout is a terminal)")
@click.option("--chunk-size", type=click.IntRange(min=1), default=500, show_default=True, hidden=True)
@click.option("--backend", type=click.Choice(["auto", "durable", "compiled"]), default="auto", show_default=True,
              help="规则后端 / rule backend (see `nocert-rules info`)")
@click.option("--keep-partial", is_flag=True,
              help="中断时保留已写部分为 FILE.partial / if the run is interrupted, keep what --out got as FILE.partial")
@click.option("--dask", "dask_address", metavar="ADDRESS",
              help="在 Dask 集群上决定 / decide on the Dask cluster at ADDRESS (tcp://host:8786; "
                   "needs pip install 'nocert-rules[dask]'); --jobs is then ignored")
@click.option("--dask-read", type=click.Choice(["auto", "workers", "client"]), default="auto", show_default=True,
              help="--dask 时谁读案例文件 / who reads CASES under --dask: auto = the workers when every one sees "
                   "the same JSONL file at the same absolute path (shared file system), else this process; "
                   "CSV is always read here")
@click.option("--dask-block-bytes", type=click.IntRange(min=1), default=4 << 20, show_default=True, hidden=True)
def dry_run(ruleset: str, cases: str, fmt: str, as_of: str | None, jobs: int, out_path: str | None,
            report_path: str | None, as_json: bool, top: int, progress: bool, chunk_size: int,
            backend: str, keep_partial: bool, dask_address: str | None, dask_read: str,
            dask_block_bytes: int) -> None:
    """试运行：对案例文件逐一决定并汇总 / Decide every case of CASES (JSONL or CSV, - for stdin)
    and summarise: methods, issuing unit x method, pledges blocked and why, deadline spread,
    warnings, malformed rows, expected-method mismatches. Streams: memory stays flat.

    --out appears only when the run completes (written to a temporary file beside it, then
    renamed). Ctrl-C (SIGINT) or SIGTERM stops the run cleanly: exit 130 / 143, one line.

    \b
    例 / Example:
      nocert-rules dry-run rulesets/zibo examples/cases.jsonl
      nocert-rules dry-run rulesets/zibo cases.csv --jobs 4 --out results.jsonl --report report.html
    """
    from nocert_rules.cli.atomic import AtomicOutput
    from nocert_rules.tools.dryrun import DryRunInterrupted, render_summary, run_dry_run

    rs = _load_ruleset(ruleset)
    moment = _as_of(as_of)
    workers = jobs or (os.cpu_count() or 1)
    options = {"backend": backend} if backend != "auto" else None
    if options:
        from nocert_rules.engine.backend import ruleset_choices

        ruleset_choices(rs, backend)  # a backend that cannot be had is a usage error, before any case
    console = _console()
    output = AtomicOutput(out_path, keep_partial=keep_partial) if out_path else None
    out_file = None
    if output is not None:
        try:
            out_file = output.open()
        except OSError as exc:
            raise CliFailure(f"{out_path}: 无法写入 / cannot write: {exc.strerror}") from None

    def run(callback: Callable[[int, int | None, int], None] | None) -> Any:
        if dask_address:
            from nocert_rules.tools.distributed import run_dry_run_dask

            return run_dry_run_dask(rs, cases, dask_address, fmt=None if fmt == "auto" else fmt,  # type: ignore[arg-type]
                                    as_of=moment, out=out_file, chunk_size=chunk_size, progress=callback,
                                    stop=stop, engine_options=options, reading=dask_read,  # type: ignore[arg-type]
                                    block_bytes=dask_block_bytes)
        return run_dry_run(rs, cases, fmt=None if fmt == "auto" else fmt,  # type: ignore[arg-type]
                           as_of=moment, jobs=workers, out=out_file, chunk_size=chunk_size,
                           progress=callback, stop=stop, engine_options=options)

    stop, received, restore = _stop_on_signals()
    try:
        if progress and not as_json and console.is_terminal:
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            bar = Progress(TextColumn("试运行 dry-run"), BarColumn(), TaskProgressColumn(),
                           TextColumn("{task.fields[rows]:>12,} 件 cases"), TimeElapsedColumn(),
                           TimeRemainingColumn(), console=console, transient=True)
            with bar:
                size = Path(cases).stat().st_size if cases != "-" and Path(cases).is_file() else None
                task = bar.add_task("dry-run", total=size, rows=0)

                def callback(done: int, total: int | None, rows: int) -> None:
                    bar.update(task, completed=done, total=total, rows=rows)

                result = run(callback)
        else:
            result = run(None)
        if output is not None:
            output.commit()
    except DryRunInterrupted as exc:
        signame = "SIGTERM" if received and received[-1] == signal.SIGTERM else "SIGINT"
        code = 143 if signame == "SIGTERM" else 130
        kept = ""
        if output is not None:
            output.abort()
            kept = (f"; 已写部分 / partial output: {output.partial_path}" if output.partial_path
                    else f"; 未写入 / {out_path} not written")
        _fail(f"已中断 / interrupted ({signame}) after {exc.rows:,} cases{kept}", code)
    finally:
        restore()
        if output is not None:
            output.abort()  # a failure: nothing half-written under the name asked for
    data = result.to_dict()
    if report_path:
        from nocert_rules.tools.report import render_html

        try:
            with AtomicOutput(report_path) as report:
                report.write(render_html(data))
        except OSError as exc:
            raise CliFailure(f"{report_path}: 无法写入 / cannot write: {exc.strerror}") from None
    if as_json:
        _print_json(data)
    else:
        render_summary(console, data, top=top)
        if out_path:
            console.print(f"逐案结果 / per-case results: {out_path}")
        if report_path:
            console.print(f"报告 / report: {report_path}")
    if data["expected"]["mismatched"] or data["errors"]["count"]:
        raise click.exceptions.Exit(EXIT_FAIL)


def _stop_on_signals() -> tuple[Any, list[int], Callable[[], None]]:
    """SIGINT and SIGTERM set an event that the run checks between chunks (never raising inside
    the rules engine); a second signal interrupts at once. Returns (event, signals received,
    restore the previous handlers)."""
    import threading

    stop = threading.Event()
    received: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        received.append(signum)
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous: dict[int, Any] = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handler)
    except ValueError:  # not the main thread (e.g. a test runner's worker): leave them alone
        pass

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return stop, received, restore


# ====================================================================== lint


@main.command(epilog=EXIT_CODES_HELP)
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
    from nocert_rules.tools.safe_text import SafeText as Text

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
        data = {"ruleset": ruleset, "loaded": result.loaded,
                "errors": [f.to_dict() for f in errors], "warnings": [f.to_dict() for f in warnings],
                "case_mismatches": [f.to_dict() for f in cases]}
        if result.changes:  # a district over its city: its changes, each with its basis
            data["changes"] = result.changes
        _print_json(data)
    else:
        console = _console()
        for file, choice in (_backend_choices(ruleset) if result.loaded else {}).items():
            console.print(Text(f"规则后端 / backend for {file}: {choice['backend']} — {choice['reason']}"))
        if result.changes:
            labels = {"add": "新增 add", "override": "覆盖 override", "withdraw": "撤回 withdraw",
                      "rule": "规则 rule", "clause": "条款 clause"}
            console.print(Text(f"区县级调整 / changes to the parent ruleset ({len(result.changes)})", style="bold"))
            for c in result.changes:
                where = f"{c['file']}:{c['line']}" if c["line"] else c["file"]
                basis = f" — 依据 basis: {c['basis']}" if c["basis"] else ""
                console.print(Text(f"  {where}: [{labels[c['kind']]}] {c['key']}{basis}"))
        for title, items, style in (("错误 / Errors", errors, "red"), ("警告 / Warnings", warnings, "yellow"),
                                    ("仅大小写不同 / Case-only mismatches", cases, "yellow")):
            if not items:
                continue
            console.print(Text(f"{title} ({len(items)})", style=f"bold {style}"))
            for f in items:
                t = Text("  ")
                t.append(f"{f.where}: ", style="bold")
                t.append(f"[{f.code}] ", style=style)
                t.append(f.message)
                console.print(t)
        verdict = "失败 FAILED" if errors or (strict and (warnings or cases)) else "通过 OK"
        extra = f", {len(cases)} 个大小写不一致 case-only mismatches" if cases else ""
        console.print(Text(f"lint {ruleset}: {len(errors)} 个错误 errors, {len(warnings)} 个警告 warnings{extra} — "
                           f"{verdict}", style="bold"))
    if errors or (strict and (warnings or cases)):
        raise click.exceptions.Exit(EXIT_FAIL)


def _backend_choices(path: str) -> dict[str, dict[str, str]]:
    """Which rule backend each rule file of the ruleset gets under ``auto``, and why."""
    from nocert_rules.engine.backend import ruleset_choices

    rs = _load_ruleset(path)
    return {file: {"backend": c.backend, "reason": c.reason} for file, c in ruleset_choices(rs).items()}


# ====================================================================== info


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("ruleset", metavar="RULESET")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print as JSON")
def info(ruleset: str, as_json: bool) -> None:
    """规则集概况 / What a ruleset is and how it will be run: name, version, sha256, rows, rules,
    and which rule backend (durable_rules or compiled) each rule file gets under ``auto``, and why.
    """
    from nocert_rules.engine import budget

    rs = _load_ruleset(ruleset)
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
        _print_json(data)
        return
    click.echo(f"规则集 / Ruleset: {rs.name} {rs.version} (sha256 {rs.sha256})")
    click.echo(f"清单行 / rows: {len(rs.rows)}; 规则 / rules: {len(rs.rules)}")
    click.echo(f"durable_rules 预算 / budget: {data['durable_budget']['used']}")
    for file, choice in data["backend"].items():
        click.echo(f"规则后端 / backend for {file}: {choice['backend']} — {choice['reason']}")


# ====================================================================== diff


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@main.command(epilog=EXIT_CODES_HELP)
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
    from nocert_rules.tools.safe_text import SafeText as Text

    old_rs, new_rs = _load_ruleset(old), _load_ruleset(new)
    result = diff_rulesets(old_rs, new_rs, old_date.date() if old_date else None,
                           new_date.date() if new_date else None)
    if cases:
        diff_cases(result, cases, as_of=_as_of(as_of))
    if as_json:
        _print_json(result.to_dict())
    else:
        console = _console()

        def say(text: str, style: str = "") -> None:
            console.print(Text(text, style=style))

        say(f"比较 / Diff: {old_rs.name} {old_rs.version} ({old}) → {new_rs.name} {new_rs.version} ({new})", "bold")
        if result.manifest:
            say("清单总则 / Manifest:", "bold")
            for f, o, n in result.manifest:
                say(f"  ~ {f}: {_show(o)} → {_show(n)}")
        r = result.rows
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
        for title, ch in (("规则 / Rules", result.rules), ("条款 / Clauses", result.clauses)):
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
        if result.cases is not None:
            c = result.cases
            say(f"案例 / Cases ({cases}): {c.cases:,} 件已决定 decided，{c.changed:,} 件决定改变 changed"
                + (f"，{c.malformed:,} 行格式错误 malformed" if c.malformed else ""), "bold")
            for (o, n), k in sorted(c.transitions.items(), key=lambda kv: (-kv[1], kv[0])):
                sample = ", ".join(c.samples.get((o, n), []))
                say(f"  {o} → {n}: {k:,}  (例 e.g. {sample})")
        if not result.has_differences:
            say("无差异 / no differences", "green")
    if exit_code and result.has_differences:
        raise click.exceptions.Exit(EXIT_FAIL)


# ====================================================================== check-guide


@main.command("check-guide", epilog=EXIT_CODES_HELP)
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

    rs = _load_ruleset(ruleset)
    at = _as_of(as_of) or datetime.now(SHANGHAI).replace(second=0, microsecond=0)
    try:
        result = run_check(rs, guide, at)
    except GuideError as exc:
        raise CliFailure(str(exc)) from None
    if as_json:
        _print_json({**result.to_dict(), "as_of": at.isoformat()})
    else:
        console = _console()
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


@main.command("accountability", epilog=EXIT_CODES_HELP)
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

    rs = _load_ruleset(ruleset)
    try:
        pairs = [pair for path in records for pair in read_records(path)]
        cases = cases_from_records(rs, pairs)
        at = _as_of(as_of) or datetime.now(SHANGHAI).replace(second=0, microsecond=0)
        for guide in guides:
            result = run_check(rs, guide, at)
            cases += guide_cases(rs, [c.to_dict() for c in result.checks], unit=guide_unit or result.title)
    except (AccountabilityError, GuideError, OSError) as exc:
        raise CliFailure(str(exc)) from None
    if as_json:
        _print_json({"cases": [c.model_dump(mode="json") for c in cases], "count": len(cases)})
    else:
        console = _console()
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


# ====================================================================== calendar

_WEEKDAYS = ["一", "二", "三", "四", "五", "六", "日"]
_WEEKDAYS_EN = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _weekday(d: date) -> str:
    return f"星期{_WEEKDAYS[d.weekday()]} {_WEEKDAYS_EN[d.weekday()]}"


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
        rs = _load_ruleset(ruleset)
        return rs.calendar, rs
    from nocert_rules.worktime.calendar import WorkCalendar

    return WorkCalendar(), None


_RULESET_OPTION = click.option("--ruleset", metavar="RULESET",
                               help="使用规则集的日历与期限参数 / use the ruleset's calendar and limits")
_JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print as JSON")


def _print_warnings(warnings: list[str]) -> None:
    from nocert_rules.tools.safe_text import SafeText as Text

    console = _console()
    for w in warnings:
        console.print(Text(f"! {w}", style="yellow"))


@main.group("calendar", cls=NocertGroup, epilog=EXIT_CODES_HELP)
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
        _print_json({"date": d.isoformat(), "working_day": working, "reason": why or None, "warnings": warnings})
        return
    verdict = "是工作日 / is a working day" if working else "不是工作日 / is not a working day"
    click.echo(f"{d.isoformat()}（{_weekday(d)}）{verdict}" + (f"（{why}）" if why else ""))
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
        _print_json({"start": start.isoformat(), "working_days": n, "date": result.isoformat(), "warnings": warnings})
        return
    s = start.date() if isinstance(start, datetime) else start
    sign = "+" if n >= 0 else "-"
    click.echo(f"{s.isoformat()} {sign} {abs(n)} 个工作日 working days = {result.isoformat()}（{_weekday(result)}）")
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
                    _print_json({"kind": kind, "waived": True, "description": plan_pc.description,
                                 "clause": plan_pc.clause})
                else:
                    click.echo(f"免予核查 / waived: {plan_pc.description}（{plan_pc.clause}）")
                return
            days = plan_pc.within_working_days
        assert days is not None
        result = dl.post_check_due(moment, days, cal, clause=plan_pc.clause if plan_pc else None)
    if as_json:
        _print_json({"kind": kind, **result.model_dump(mode="json")})
        return
    due = result.due_at
    click.echo(f"到期 / Due: {due:%Y-%m-%d %H:%M}（{_weekday(due.date())}，Asia/Shanghai）")
    click.echo(f"规则 / Rule: {result.rule}")
    click.echo(f"条款 / Clause: {result.clause or '—'}")
    _print_warnings(result.warnings)


# ====================================================================== init


@main.command("init", epilog=EXIT_CODES_HELP)
@click.argument("directory", metavar="DIR")
@click.option("--from", "source", metavar="RULESET",
              help="从已有规则集复制（加载的文件和 tests/） / copy an existing ruleset (its loaded files and tests/)")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print as JSON")
def init_command(directory: str, source: str | None, as_json: bool) -> None:
    """新建规则集目录 / Write a new ruleset folder DIR: a commented skeleton (中英文注释 / comments
    in Chinese and English) that loads, lints clean and decides; or, with --from, a copy of another
    ruleset. DIR must not exist or be empty.

    \b
    例 / Example:
      nocert-rules init rulesets/my-district
      nocert-rules init rulesets/my-district --from rulesets/zibo
    """
    from nocert_rules.tools.init import InitError, init_ruleset

    if source is not None:
        _load_ruleset(source)  # every problem of the source, as for any command
    try:
        written = init_ruleset(directory, source)
    except InitError as exc:
        raise CliFailure(str(exc)) from None
    if as_json:
        _print_json({"directory": directory, "from": source, "files": written})
        return
    for name in written:
        click.echo(f"  + {Path(directory) / name}")
    click.echo(f"已写入 {len(written)} 个文件 / wrote {len(written)} files. 下一步 / next: "
               f"nocert-rules lint {directory} && nocert-rules test {directory}")


# ====================================================================== test


@main.command("test", epilog=EXIT_CODES_HELP)
@click.argument("ruleset", metavar="RULESET")
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("-k", "keyword", metavar="TEXT", help="只运行名称含 TEXT 的用例 / only cases whose name contains TEXT")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print results as JSON")
def test_command(ruleset: str, files: tuple[str, ...], keyword: str | None, as_json: bool) -> None:
    """运行规则集的 YAML 测试用例 / Run the YAML test cases in RULESET/tests/ (or FILEs):
    each case is a request and what the decision must be. Failures are shown like pytest does.
    """
    from nocert_rules.tools.rule_tests import find_test_files, run_tests
    from nocert_rules.tools.safe_text import SafeText as Text

    rs = _load_ruleset(ruleset)
    paths = [Path(f) for f in files] if files else find_test_files(rs)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise CliFailure(f"{missing[0]}: 测试文件不存在 / test file not found")
    if not paths:
        raise CliFailure(f"{rs.directory / 'tests'}: 没有测试文件 / no test files (*.yaml)")
    run = run_tests(rs, paths, keyword)
    if as_json:
        _print_json({"passed": run.passed, "failed": run.failed, "results": [r.to_dict() for r in run.results]})
    else:
        console = _console()
        for file in run.files:
            marks = "".join("." if r.passed else ("E" if r.error else "F") for r in run.results if r.file == file)
            console.print(Text(f"{file} {marks}"))
        failures = [r for r in run.results if not r.passed]
        if failures:
            console.print(Text(" 失败 FAILURES ".center(70, "="), style="bold red"))
            for r in failures:
                console.print(Text(f" {r.name} ".center(70, "_"), style="bold"))
                console.print(Text(f"{r.where}", style="bold"))
                if r.error:
                    console.print(Text(f"E   错误 error: {r.error}", style="red"))
                for f in r.failures:
                    console.print(Text(f"E   {f}", style="red"))
        summary = f" {run.passed} passed, {run.failed} failed in {run.elapsed:.2f}s "
        console.print(Text(summary.center(70, "="), style="bold red" if run.failed else "bold green"))
    if run.failed:
        raise click.exceptions.Exit(EXIT_FAIL)
    if not run.results:
        raise CliFailure(f"没有匹配的用例 / no test cases matched{' -k ' + keyword if keyword else ''}")


# ====================================================================== audit (another module)

try:
    from nocert_rules.cli.audit import audit  # type: ignore[import-not-found]

    main.add_command(audit)
except ImportError:
    pass

from nocert_rules.cli.serve import serve as _serve  # noqa: E402  (the HTTP service, another module)

main.add_command(_serve)
from nocert_rules.cli.listio import export_list_command, import_list_command  # noqa: E402  (Excel/CSV list)

main.add_command(import_list_command)
main.add_command(export_list_command)
from nocert_rules.cli.vectors import export_vectors_command  # noqa: E402  (conformance vectors)

main.add_command(export_vectors_command)
from nocert_rules.cli.publication import publication  # noqa: E402  (list publications, 清单公布)

main.add_command(publication)
from nocert_rules.cli.credit import credit_record_command  # noqa: E402  (the credit record of pledges)

main.add_command(credit_record_command)

if __name__ == "__main__":  # pragma: no cover
    main()
