"""``nocert-rules publication record|status``: the list's publications and its schedule
(:mod:`nocert_rules.records.publication`; the clause and days come from the ruleset's manifest).

``record RULESET --on DAY`` appends the publication of the ruleset as it is now (name, version,
sha256) to the log; ``status RULESET [--as-of DAY]`` says when it was last published and when
the next publication is due. The log defaults to ``publications.jsonl`` in the ruleset folder.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from nocert_rules.records import RecordProblem
from nocert_rules.records.publication import (
    DEFAULT_LOG_NAME,
    ListPublication,
    PublicationLog,
    check_schedule,
    record_publication,
)

EXIT_FAIL = 1

_DAY = click.DateTime(["%Y-%m-%d"])


def log_path(ruleset: str, log: str | None) -> Path:
    """The log named, else ``publications.jsonl`` beside the ruleset's manifest."""
    if log is not None:
        return Path(log)
    p = Path(ruleset)
    return (p if p.is_dir() else p.parent) / DEFAULT_LOG_NAME


def read_log(ruleset: str, log: str | None) -> list[ListPublication] | None:
    """The publications of the log (``None`` when no log is named and the default one is absent)."""
    from nocert_rules.cli.common import CliFailure

    path = log_path(ruleset, log)
    if log is None and not path.is_file():
        return None
    if not path.is_file():
        raise CliFailure(f"{path}: 公布记录不存在 / publication log not found")
    try:
        return PublicationLog(path).read()
    except RecordProblem as exc:
        raise CliFailure(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliFailure(f"{path}: 无法读取 / cannot read: {exc}") from None


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.group("publication")
def publication() -> None:
    """清单公布 / The list's publications and its publication schedule (the manifest's
    deadlines.publication_month_days and publication_clause)."""


@publication.command("record")
@click.argument("ruleset", metavar="RULESET")
@click.option("--on", "on", type=_DAY, required=True, metavar="YYYY-MM-DD", help="公布日期 / the day it was published")
@click.option("--by", "by", help="公布单位（默认清单调整受理单位） / the publishing office (default: the manifest's adjustment office)")
@click.option("--log", "log", metavar="LOG", help=f"公布记录（默认规则集目录下的 {DEFAULT_LOG_NAME}） / the log")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print the record as JSON")
def record(ruleset: str, on: datetime, by: str | None, log: str | None, as_json: bool) -> None:
    """记录一次清单公布 / Record that the ruleset's list, as it is now, was published on a day."""
    from nocert_rules.cli.common import CliFailure, open_ruleset

    rs = open_ruleset(ruleset)
    path = log_path(ruleset, log)
    try:
        entry = record_publication(rs, on.date(), published_by=by)
        PublicationLog(path).append(entry)
    except RecordProblem as exc:
        raise CliFailure(str(exc)) from None
    except OSError as exc:
        raise CliFailure(f"{path}: 无法写入 / cannot write: {exc}") from None
    if as_json:
        _echo_json({"log": str(path), "publication": entry.model_dump(mode="json")})
        return
    click.echo(
        f"已记录 / recorded: {entry.ruleset_name} {entry.ruleset_version} 公布于 published on {entry.published_on}"
        f"（{entry.rows_in_force} 行 rows）；下次公布期限 next due {entry.next_due_on}"
        f"{f'（{entry.clause}）' if entry.clause else ''} -> {path}"
    )


@publication.command("status")
@click.argument("ruleset", metavar="RULESET")
@click.option("--as-of", "as_of", type=_DAY, metavar="YYYY-MM-DD", help="按此日期 / as of this day (default: today)")
@click.option("--log", "log", metavar="LOG", help=f"公布记录（默认规则集目录下的 {DEFAULT_LOG_NAME}） / the log")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print as JSON")
def status(ruleset: str, as_of: datetime | None, log: str | None, as_json: bool) -> None:
    """公布周期 / When the list was last published and when the next publication is due.
    Exit 1 when it is overdue."""
    from nocert_rules.cli.common import open_ruleset
    from nocert_rules.models import SHANGHAI

    rs = open_ruleset(ruleset)
    published = read_log(ruleset, log) or []
    day = as_of.date() if as_of else datetime.now(SHANGHAI).date()
    check = check_schedule(rs, [p.published for p in published], day)
    if as_json:
        _echo_json(check.model_dump(mode="json"))
    else:
        last = (f"上次公布 last published {check.last.published_on}（{check.last.ruleset_version}）"
                if check.last else f"未记录公布，自施行日起算 / none recorded, counted from {check.counted_from}")
        state = ("已逾期 OVERDUE" if check.overdue else "未逾期 on schedule") if check.in_force else \
            "规则集不在施行期内 / ruleset not in force"
        click.echo(f"{rs.name} {rs.version}: {last}; 下次公布期限 next due {check.due_on} — {state}")
        click.echo(f"  {check.citation.clause_id}：{check.citation.text}")
        if check.current is False:
            click.echo("  本规则集不是上次公布的版本 / this ruleset is not the version last published")
    if check.overdue:
        raise click.exceptions.Exit(EXIT_FAIL)
