"""``nocert-rules test``: the YAML test cases kept in ``RULESET/tests/`` (``nocert_rules.tools.rule_tests``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from nocert_rules.cli.common import (
    EXIT_CODES_HELP,
    EXIT_FAIL,
    CliFailure,
    make_console,
    open_ruleset,
    print_json,
)


@click.command("test", epilog=EXIT_CODES_HELP)
@click.argument("ruleset", metavar="RULESET")
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("-k", "keyword", metavar="TEXT", help="只运行名称含 TEXT 的用例 / only cases whose name contains TEXT")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print results as JSON")
def test_command(ruleset: str, files: tuple[str, ...], keyword: str | None, as_json: bool) -> None:
    """运行规则集的 YAML 测试用例 / Run the YAML test cases in RULESET/tests/ (or FILEs):
    each case is a request and what the decision must be. Failures are shown like pytest does.
    """
    from nocert_rules.tools.rule_tests import find_test_files, run_tests

    rs = open_ruleset(ruleset)
    paths = [Path(f) for f in files] if files else find_test_files(rs)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise CliFailure(f"{missing[0]}: 测试文件不存在 / test file not found")
    if not paths:
        raise CliFailure(f"{rs.directory / 'tests'}: 没有测试文件 / no test files (*.yaml)")
    run = run_tests(rs, paths, keyword)
    if as_json:
        print_json({"passed": run.passed, "failed": run.failed, "results": [r.to_dict() for r in run.results]})
    else:
        _print_run(run)
    if run.failed:
        raise click.exceptions.Exit(EXIT_FAIL)
    if not run.results:
        raise CliFailure(f"没有匹配的用例 / no test cases matched{' -k ' + keyword if keyword else ''}")


def _print_run(run: Any) -> None:
    """Like pytest: a mark per case and file, then each failure, then the counts."""
    from nocert_rules.tools.safe_text import SafeText as Text

    console = make_console()
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
