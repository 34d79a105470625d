"""``nocert-rules dry-run``: decide a whole case file and summarise it (``nocert_rules.tools.dryrun``,
docs/cli.md); SIGINT/SIGTERM stop it between chunks."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from nocert_rules.cli.common import (
    AS_OF_HELP,
    EXIT_CODES_HELP,
    EXIT_FAIL,
    CliFailure,
    as_of_moment,
    fail,
    make_console,
    open_ruleset,
    print_json,
)

if TYPE_CHECKING:
    from nocert_rules.policy.wording import RulesetWording


@click.command("dry-run", epilog=EXIT_CODES_HELP)
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
    from nocert_rules.tools.dryrun import DryRunInterrupted, run_dry_run

    rs = open_ruleset(ruleset)
    moment = as_of_moment(as_of)
    workers = jobs or (os.cpu_count() or 1)
    options = _engine_options(rs, backend)
    console = make_console()
    output, out_file = _open_output(out_path, keep_partial)

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
            result = _run_with_progress(console, cases, run)
        else:
            result = run(None)
        if output is not None:
            output.commit()
    except DryRunInterrupted as exc:
        _interrupted(exc.rows, received, output, out_path)
    finally:
        restore()
        if output is not None:
            output.abort()  # a failure: nothing half-written under the name asked for
    data = result.to_dict()
    if report_path:
        _write_report(report_path, data, rs.manifest.wording)
    if as_json:
        print_json(data)
    else:
        _print_summary(console, data, rs.manifest.wording, top, out_path, report_path)
    if data["expected"]["mismatched"] or data["errors"]["count"]:
        raise click.exceptions.Exit(EXIT_FAIL)


def _engine_options(rs: Any, backend: str) -> dict[str, str] | None:
    """The engine options of ``--backend``; a backend that cannot be had is a usage error, before any case."""
    if backend == "auto":
        return None
    from nocert_rules.engine.backend import ruleset_choices

    ruleset_choices(rs, backend)
    return {"backend": backend}


def _open_output(out_path: str | None, keep_partial: bool) -> tuple[Any, Any]:
    """``(AtomicOutput, its open file)`` for ``--out``, or ``(None, None)``."""
    from nocert_rules.cli.atomic import AtomicOutput

    if not out_path:
        return None, None
    output = AtomicOutput(out_path, keep_partial=keep_partial)
    try:
        return output, output.open()
    except OSError as exc:
        raise CliFailure(f"{out_path}: 无法写入 / cannot write: {exc.strerror}") from None


def _run_with_progress(console: Any, cases: str, run: Callable[[Any], Any]) -> Any:
    """``run(callback)`` under a rich progress bar (bytes read of CASES, cases decided)."""
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

        return run(callback)


def _interrupted(rows: int, received: list[int], output: Any, out_path: str | None) -> NoReturn:
    """One line and exit 130 (SIGINT) or 143 (SIGTERM); --out is never left half-written."""
    signame = "SIGTERM" if received and received[-1] == signal.SIGTERM else "SIGINT"
    code = 143 if signame == "SIGTERM" else 130
    kept = ""
    if output is not None:
        output.abort()
        kept = (f"; 已写部分 / partial output: {output.partial_path}" if output.partial_path
                else f"; 未写入 / {out_path} not written")
    fail(f"已中断 / interrupted ({signame}) after {rows:,} cases{kept}", code)


def _write_report(report_path: str, data: dict[str, Any], wording: RulesetWording) -> None:
    from nocert_rules.cli.atomic import AtomicOutput
    from nocert_rules.tools.report import render_html

    try:
        with AtomicOutput(report_path) as report:
            report.write(render_html(data, wording))
    except OSError as exc:
        raise CliFailure(f"{report_path}: 无法写入 / cannot write: {exc.strerror}") from None


def _print_summary(console: Any, data: dict[str, Any], wording: RulesetWording, top: int, out_path: str | None,
                   report_path: str | None) -> None:
    from nocert_rules.cli.dryrun_summary import render_summary

    render_summary(console, data, wording, top=top)
    if out_path:
        console.print(f"逐案结果 / per-case results: {out_path}")
    if report_path:
        console.print(f"报告 / report: {report_path}")


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
