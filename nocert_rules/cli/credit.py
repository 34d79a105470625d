"""``nocert-rules credit-record``: every pledge outcome as credit-record entries
(``nocert_rules.records.credit``; docs/records.md)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("credit-record")
@click.argument("ruleset", metavar="RULESET")
@click.argument("records", metavar="RECORDS", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out", metavar="FILE", type=click.Path(dir_okay=False),
              help="写出的文件（默认输出到标准输出） / the file to write (default: standard output)")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="jsonl（默认）或 csv；未给时按 --out 的扩展名 / jsonl (default) or csv; else from --out's suffix")
@click.option("--json", "as_json", is_flag=True,
              help="以 JSON 输出摘要（无 --out 时输出全部条目） / print the summary as JSON (without --out: every entry)")
def credit_record_command(ruleset: str, records: tuple[str, ...], out: str | None, fmt: str | None,
                          as_json: bool) -> None:
    """信用记录导出 / Export the credit record of every pledge outcome — kept (post-check passed),
    found false, check waived — from records exports (JSON lines with record_type PledgeRecord).
    Applicants appear as keyed hashes only; each entry cites the ruleset's credit-record clause.
    Exit 2 on an unreadable line (file:line); nothing is written then.

    \b
    例 / Example:
      nocert-rules credit-record rulesets/zibo pledges.jsonl --out credit.csv
    """
    from nocert_rules.cli.common import CliFailure, open_ruleset, print_json
    from nocert_rules.records import RecordProblem
    from nocert_rules.records.credit import credit_entries, read_pledge_records, write_credit_record

    rs = open_ruleset(ruleset)
    chosen = fmt or ("csv" if out and Path(out).suffix.lower() == ".csv" else "jsonl")
    if out is not None and not Path(out).parent.is_dir():
        raise CliFailure(f"{Path(out).parent}: 目录不存在 / no such directory")
    try:
        pledges = [p for path in records for p in read_pledge_records(path)]
        entries = [e for p in pledges for e in credit_entries(p, rs)]
    except (RecordProblem, OSError) as exc:
        raise CliFailure(str(exc)) from None
    if as_json and out is None:
        print_json({"entries": [e.model_dump(mode="json") for e in entries], "count": len(entries),
                     "pledges": len(pledges)})
        return
    result = write_credit_record(entries, out, chosen)  # type: ignore[arg-type]
    if as_json:
        print_json({"written": out, "format": chosen, "count": len(entries), "pledges": len(pledges)})
    elif out is None:
        click.echo(str(result), nl=False)
    else:
        click.echo(f"已写出 {len(entries)} 条信用记录 / wrote {len(entries)} credit-record entries "
                   f"({len(pledges)} pledges) -> {out}", err=True)
