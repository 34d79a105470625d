"""``nocert-rules init``: a new ruleset folder, from the skeleton or a copy (``nocert_rules.tools.init``)."""

from __future__ import annotations

from pathlib import Path

import click

from nocert_rules.cli.common import EXIT_CODES_HELP, CliFailure, open_ruleset, print_json


@click.command("init", epilog=EXIT_CODES_HELP)
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
        open_ruleset(source)  # every problem of the source, as for any command
    try:
        written = init_ruleset(directory, source)
    except InitError as exc:
        raise CliFailure(str(exc)) from None
    if as_json:
        print_json({"directory": directory, "from": source, "files": written})
        return
    for name in written:
        click.echo(f"  + {Path(directory) / name}")
    click.echo(f"已写入 {len(written)} 个文件 / wrote {len(written)} files. 下一步 / next: "
               f"nocert-rules lint {directory} && nocert-rules test {directory}")
