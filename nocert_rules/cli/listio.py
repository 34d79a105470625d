"""``nocert-rules import-list`` / ``export-list``: the list in Excel or CSV (``nocert_rules.tools.list_import``,
``list_export``; docs/spreadsheets.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

EXIT_FAIL = 1


@click.command("import-list")
@click.argument("file", metavar="FILE.xlsx|FILE.csv", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out", required=True, metavar="DIR/certificates.yaml", type=click.Path(dir_okay=False),
              help="写出的清单文件 / the certificates.yaml to write")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False), metavar="mapping.yaml",
              help="其他版式的列映射 / how to read another layout (sheet, header_row, columns, methods, defaults)")
@click.option("--partial", is_flag=True, help="有问题时仍写出可转换的行 / write the rows that convert even if some do not")
@click.option("--report", "report", metavar="FILE.html|FILE.xlsx", type=click.Path(dir_okay=False),
              help="审核报告 / the review report (default: review.html beside --out; .xlsx for Excel)")
@click.option("--write-mapping", "write_mapping", metavar="mapping.yaml", type=click.Path(dir_okay=False),
              help="写出推断的列映射，供修改后 --mapping 重跑 / write the mapping inferred, to edit and re-run")
@click.option("--max-rows", type=click.IntRange(min=1), default=None,
              help="每个工作表的行数上限 / rows per sheet at most (default 200,000)")
@click.option("--max-unzipped-mb", type=click.IntRange(min=1), default=None,
              help="解压后大小上限 / unzipped size of an .xlsx at most, in MiB (default 256)")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print the result as JSON")
def import_list_command(file: str, out: str, mapping: str | None, partial: bool, report: str | None,
                        write_mapping: str | None, max_rows: int | None, max_unzipped_mb: int | None,
                        as_json: bool) -> None:
    """把已公布的清单表格转换为 certificates.yaml / Convert a published list (.xlsx or .csv) into
    certificates.yaml. Every problem is reported as sheet!cell; nothing is written unless the whole
    file converts (unless --partial). Exit 1 when there are problems, 2 when the file cannot be read.

    \b
    例 / Example:
      nocert-rules import-list 清单.xlsx --out rulesets/mycity/certificates.yaml
    """
    from nocert_rules.cli.common import CliFailure

    out_path = Path(out)
    if not out_path.parent.is_dir():
        raise CliFailure(f"{out_path.parent}: 目录不存在 / no such directory")
    result = _read(file, mapping, out_path.parent, max_rows, max_unzipped_mb)
    written = bool(result.rows) and (result.ok or partial)
    _write(result, file, out_path, written, write_mapping)
    report_path = Path(report) if report else out_path.parent / "review.html"
    _write_review(result, Path(file).name, report_path, out_path.parent if written else None)
    if as_json:
        click.echo(json.dumps({"rows": len(result.rows), "sheet": result.sheet, "header_row": result.header_row,
                               "columns": result.columns, "written": str(out_path) if written else None,
                               "report": str(report_path), "sheets": result.sheets,
                               "derived": len(result.derived), "to_review": sum(d.review for d in result.derived),
                               "problems": [{"where": p.where, "message": p.message} for p in result.problems]},
                              ensure_ascii=False, indent=2))
    else:
        _print(result, file, out_path, written, report_path)
    if result.problems:
        raise click.exceptions.Exit(EXIT_FAIL)


def _read(file: str, mapping: str | None, folder: Path, max_rows: int | None, max_unzipped_mb: int | None) -> Any:
    from dataclasses import replace

    from nocert_rules.cli.common import CliFailure
    from nocert_rules.errors import RulesetError
    from nocert_rules.tools.list_import import Limits, ListImportError, import_list, load_mapping

    try:
        rules = load_mapping(Path(mapping)) if mapping else None
        limits = Limits()
        if max_rows is not None:
            limits = replace(limits, max_rows=max_rows)
        if max_unzipped_mb is not None:
            limits = replace(limits, max_unzipped_bytes=max_unzipped_mb << 20)
        return import_list(file, rules, ruleset=folder, limits=limits)
    except ListImportError as exc:
        raise CliFailure(str(exc)) from None
    except RulesetError as exc:
        raise CliFailure(f"映射文件错误 / mapping error: {exc}") from None


def _write(result: Any, file: str, out_path: Path, written: bool, write_mapping: str | None) -> None:
    """certificates.yaml (checked, atomically), then units.yaml with the new units, then the mapping."""
    from nocert_rules.fileio import replace_atomically
    from nocert_rules.policy.units import UNITS_NAME
    from nocert_rules.tools.list_import import (
        dump_rows,
        inferred_mapping,
        units_text,
        write_atomically,
    )

    if written:
        units = units_text(result, out_path.parent)
        write_atomically(out_path, dump_rows(result.rows, Path(file).name))
        if units is not None:
            replace_atomically(out_path.parent / UNITS_NAME, units.encode("utf-8"))
    if write_mapping:
        replace_atomically(Path(write_mapping), inferred_mapping(result).encode("utf-8"))


def _print(result: Any, file: str, out_path: Path, written: bool, report_path: Path) -> None:
    for problem in result.problems:
        click.echo(str(problem), err=True)
    where = f"{result.sheet}（表头第 {result.header_row} 行 / header row {result.header_row}）" if result.sheet else file
    if written:
        click.echo(f"已转换 {len(result.rows)} 行 / converted {len(result.rows)} rows from {where} -> {out_path}")
    review = sum(d.review for d in result.derived)
    click.echo(f"推导值 {len(result.derived)} 个（待确认 {review}） / {len(result.derived)} derived values "
               f"({review} to review); 审核报告 / review report: {report_path}")
    if result.problems:
        click.echo(f"{len(result.problems)} 个问题 / problems" +
                   ("" if written else "；未写出任何文件 / nothing written"), err=True)


def _write_review(result: object, source: str, path: Path, folder: Path | None) -> None:
    """The review report; rows decided by the folder's ruleset when the list was written and it loads."""
    from nocert_rules.errors import RulesetError
    from nocert_rules.policy.ruleset import load_ruleset
    from nocert_rules.tools.list_review import build, write_report

    ruleset = None
    if folder is not None and (folder / "manifest.yaml").is_file():
        try:
            ruleset = load_ruleset(folder)
        except RulesetError:
            ruleset = None
    try:
        write_report(path, build(result, source, ruleset))  # type: ignore[arg-type]
    except ImportError as exc:  # an .xlsx report without openpyxl
        click.echo(str(exc), err=True)


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
