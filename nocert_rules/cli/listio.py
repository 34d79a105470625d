"""``nocert-rules import-list`` / ``export-list``: the list in Excel or CSV (``nocert_rules.tools.list_import``,
``list_export``; docs/spreadsheets.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

EXIT_FAIL = 1


@click.command("import-list")
@click.argument("file", metavar="FILE.xlsx|FILE.csv", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out", required=True, metavar="DIR/certificates.yaml", type=click.Path(dir_okay=False),
              help="写出的清单文件 / the certificates.yaml to write")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False), metavar="mapping.yaml",
              help="其他版式的列映射 / how to read another layout (sheet, header_row, columns, methods, defaults)")
@click.option("--partial", is_flag=True, help="有问题时仍写出可转换的行 / write the rows that convert even if some do not")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print the result as JSON")
def import_list_command(file: str, out: str, mapping: str | None, partial: bool, as_json: bool) -> None:
    """把已公布的清单表格转换为 certificates.yaml / Convert a published list (.xlsx or .csv) into
    certificates.yaml. Every problem is reported as sheet!cell; nothing is written unless the whole
    file converts (unless --partial). Exit 1 when there are problems, 2 when the file cannot be read.

    \b
    例 / Example:
      nocert-rules import-list 清单.xlsx --out rulesets/mycity/certificates.yaml
    """
    from nocert_rules.cli.common import CliFailure
    from nocert_rules.errors import RulesetError
    from nocert_rules.fileio import replace_atomically
    from nocert_rules.policy.units import UNITS_NAME
    from nocert_rules.tools.list_import import (
        ListImportError,
        dump_rows,
        import_list,
        load_mapping,
        units_text,
        write_atomically,
    )

    out_path = Path(out)
    if not out_path.parent.is_dir():
        raise CliFailure(f"{out_path.parent}: 目录不存在 / no such directory")
    try:
        rules = load_mapping(Path(mapping)) if mapping else None
        result = import_list(file, rules, ruleset=out_path.parent)
    except ListImportError as exc:
        raise CliFailure(str(exc)) from None
    except RulesetError as exc:
        raise CliFailure(f"映射文件错误 / mapping error: {exc}") from None
    written = bool(result.rows) and (result.ok or partial)
    if written:
        units = units_text(result, out_path.parent)
        write_atomically(out_path, dump_rows(result.rows, Path(file).name))
        if units is not None:
            replace_atomically(out_path.parent / UNITS_NAME, units.encode("utf-8"))
    if as_json:
        click.echo(json.dumps({"rows": len(result.rows), "sheet": result.sheet, "header_row": result.header_row,
                               "columns": result.columns, "written": str(out_path) if written else None,
                               "problems": [{"where": p.where, "message": p.message} for p in result.problems]},
                              ensure_ascii=False, indent=2))
    else:
        for problem in result.problems:
            click.echo(str(problem), err=True)
        where = f"{result.sheet}（表头第 {result.header_row} 行 / header row {result.header_row}）" if result.sheet else file
        if written:
            click.echo(f"已转换 {len(result.rows)} 行 / converted {len(result.rows)} rows from {where} -> {out_path}")
        if result.problems:
            click.echo(f"{len(result.problems)} 个问题 / problems" +
                       ("" if written else "；未写出任何文件 / nothing written"), err=True)
    if result.problems:
        raise click.exceptions.Exit(EXIT_FAIL)


@click.command("export-list")
@click.argument("ruleset", metavar="RULESET")
@click.option("--out", "out", required=True, metavar="FILE.xlsx|FILE.csv", type=click.Path(dir_okay=False),
              help="写出的表格 / the spreadsheet to write")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print the result as JSON")
def export_list_command(ruleset: str, out: str, as_json: bool) -> None:
    """把清单导出为表格 / Export the list as the list owner reads it: Chinese headers, one row per
    certificate, methods in Chinese; in .xlsx a second sheet 规则 with the rules and their clauses.
    import-list of the export gives back the same rows.
    """
    from nocert_rules.cli.common import CliFailure, open_ruleset
    from nocert_rules.tools.list_export import export_list

    out_path = Path(out)
    if not out_path.parent.is_dir():
        raise CliFailure(f"{out_path.parent}: 目录不存在 / no such directory")
    rs = open_ruleset(ruleset)
    try:
        n = export_list(rs, out_path)
    except (ImportError, ValueError) as exc:
        raise CliFailure(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"rows": n, "out": str(out_path), "ruleset": {"name": rs.name, "version": rs.version,
                                                                          "sha256": rs.sha256}}, ensure_ascii=False))
    else:
        click.echo(f"已导出 {n} 行 / exported {n} rows -> {out_path}")
