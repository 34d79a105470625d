"""``nocert-rules exemption apply|decide|file`` and ``nocert-rules review request|conclude``: the
容错免责 procedure and the 复核 of an accountability decision as records
(``nocert_rules.records.exemptions``; 附件5 第六条–第八条、第十一条 in Zibo; docs/cli.md).

Each command appends the record's new version to a JSON-lines log (``--log``; written whole or
not at all). The latest version of each record counts; pass the log to ``nocert-rules
accountability`` with the other records and a granted exemption marks its case exempt.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from nocert_rules.cli.common import (
    EXIT_CODES_HELP,
    CliFailure,
    NocertGroup,
    as_of_moment,
    open_ruleset,
    print_json,
)

_LOG = click.option("--log", "log", required=True, metavar="LOG", type=click.Path(dir_okay=False),
                    help="记录文件（JSON lines，追加新版本） / the records log (JSON lines; each change appends a version)")
_AT = click.option("--at", "at", metavar="DATETIME", help="时间（默认现在） / when (default: now)")
_JSON = click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 / print the record as JSON")


def _when(value: str | None) -> datetime:
    from nocert_rules.models import SHANGHAI

    return as_of_moment(value) or datetime.now(SHANGHAI).replace(microsecond=0)


def _read(log: str, kind: str, record_id: str) -> dict[str, Any]:
    """The latest version of record ``record_id`` of ``kind`` in the log."""
    from nocert_rules.fileio import JsonLineError, json_lines

    path = Path(log)
    if not path.is_file():
        raise CliFailure(f"{path}: 记录文件不存在 / log not found")
    found: dict[str, Any] | None = None
    try:
        for _, doc in json_lines(path):
            if isinstance(doc, dict) and doc.get("record_type") == kind and doc.get("id") == record_id:
                found = {k: v for k, v in doc.items() if k != "record_type"}
    except JsonLineError as exc:
        raise CliFailure(str(exc)) from None
    if found is None:
        raise CliFailure(f"{path}: 没有记录 {record_id} / no {kind} {record_id}")
    return found


def _append(log: str, record: Any, as_json: bool) -> None:
    """Append the record's new version (``record_type`` first) and print it."""
    from nocert_rules.fileio import replace_atomically

    path = Path(log)
    line = json.dumps({"record_type": type(record).__name__, **record.model_dump(mode="json")}, ensure_ascii=False)
    try:
        before = path.read_bytes() if path.is_file() else b""
        if before and not before.endswith(b"\n"):
            raise CliFailure(f"{path}: 最后一行不完整 / the last line is torn; nothing written")
        replace_atomically(path, before + line.encode("utf-8") + b"\n")
    except OSError as exc:
        raise CliFailure(f"{path}: 无法写入 / cannot write: {exc}") from None
    if as_json:
        print_json({"log": str(path), "record": record.model_dump(mode="json")})
    else:
        click.echo(f"{record.record_label} {record.id}: {record.state} -> {path}")


def _records_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    from nocert_rules.records import RecordProblem

    try:
        return fn(*args, **kwargs)
    except RecordProblem as exc:
        raise CliFailure(str(exc)) from None


@click.group("exemption", cls=NocertGroup, epilog=EXIT_CODES_HELP)
def exemption() -> None:
    """容错免责 / Exemptions: apply (the exemption clause's grounds), decide, file."""


@exemption.command("apply")
@click.argument("ruleset", metavar="RULESET")
@_LOG
@click.option("--case", "case_source", required=True, metavar="SOURCE", help="案件来源（accountability 输出的 source） / the case's source")
@click.option("--kind", "case_kind", required=True, help="案件种类 / the case's kind, e.g. late_verification")
@click.option("--unit", required=True, help="申请单位 / the applying unit")
@click.option("--ground", required=True, help="免责情形（如 （四）） / the exemption clause's item")
@click.option("--reason", required=True, help="理由 / the reasons")
@click.option("--to", "submitted_to", required=True, help="决定机关 / the body that decides")
@click.option("--officer", "officer_id", help="申请人员编号（化名） / the applying officer's id")
@click.option("--id", "record_id", help="记录编号 / the record id")
@_AT
@_JSON
def apply_command(ruleset: str, log: str, case_source: str, case_kind: str, unit: str, ground: str, reason: str,
                  submitted_to: str, officer_id: str | None, record_id: str | None, at: str | None,
                  as_json: bool) -> None:
    """提出免责申请 / Apply for an exemption of one case."""
    from nocert_rules.records.exemptions import apply_for_exemption

    rs = open_ruleset(ruleset)
    record = _records_call(apply_for_exemption, rs, case_source=case_source, case_kind=case_kind, unit=unit,
                           ground=ground, reason=reason, submitted_to=submitted_to, at=_when(at),
                           officer_id=officer_id, record_id=record_id)
    _append(log, record, as_json)


@exemption.command("decide")
@_LOG
@click.argument("record_id", metavar="ID")
@click.option("--grant/--refuse", "granted", required=True, help="决定免责或不予免责 / grant or refuse")
@click.option("--by", "decided_by", required=True, help="决定机关 / the deciding body")
@click.option("--note", help="决定说明 / a note")
@_AT
@_JSON
def decide_command(log: str, record_id: str, granted: bool, decided_by: str, note: str | None, at: str | None,
                   as_json: bool) -> None:
    """研究决定 / Grant or refuse an exemption applied for."""
    from nocert_rules.records.exemptions import ExemptionApplication, decide_exemption

    app = _records_call(ExemptionApplication.model_validate, _read(log, "ExemptionApplication", record_id))
    _append(log, _records_call(decide_exemption, app, _when(at), granted=granted, decided_by=decided_by, note=note),
            as_json)


@exemption.command("file")
@click.argument("ruleset", metavar="RULESET")
@_LOG
@click.argument("record_id", metavar="ID")
@click.option("--by", "filed_by", required=True, help="备案单位 / the unit that files it")
@_AT
@_JSON
def file_command(ruleset: str, log: str, record_id: str, filed_by: str, at: str | None, as_json: bool) -> None:
    """免责备案 / File a granted exemption."""
    from nocert_rules.records.exemptions import ExemptionApplication, file_exemption

    rs = open_ruleset(ruleset)
    app = _records_call(ExemptionApplication.model_validate, _read(log, "ExemptionApplication", record_id))
    _append(log, _records_call(file_exemption, app, rs, _when(at), filed_by=filed_by), as_json)


@click.group("review", cls=NocertGroup, epilog=EXIT_CODES_HELP)
def review() -> None:
    """复核(申诉) / Reviews of accountability decisions (the decision is enforced meanwhile)."""


@review.command("request")
@click.argument("ruleset", metavar="RULESET")
@_LOG
@click.option("--case", "case_source", required=True, metavar="SOURCE", help="案件来源 / the case's source")
@click.option("--decision", required=True, help="被复核的责任追究决定 / the decision disputed")
@click.option("--unit", required=True, help="申请单位 / the unit asking")
@click.option("--reason", required=True, help="理由 / the reasons")
@click.option("--id", "record_id", help="记录编号 / the record id")
@_AT
@_JSON
def request_command(ruleset: str, log: str, case_source: str, decision: str, unit: str, reason: str,
                    record_id: str | None, at: str | None, as_json: bool) -> None:
    """申请复核 / Ask for a review (the decision is not suspended)."""
    from nocert_rules.records.exemptions import request_review

    rs = open_ruleset(ruleset)
    _append(log, _records_call(request_review, rs, case_source=case_source, decision=decision, unit=unit,
                               reason=reason, at=_when(at), record_id=record_id), as_json)


@review.command("conclude")
@_LOG
@click.argument("record_id", metavar="ID")
@click.option("--outcome", type=click.Choice(["upheld", "changed"]), required=True, help="维持或变更 / upheld or changed")
@click.option("--note", help="说明 / a note")
@_AT
@_JSON
def conclude_command(log: str, record_id: str, outcome: str, note: str | None, at: str | None, as_json: bool) -> None:
    """复核办结 / Conclude a review."""
    from nocert_rules.records.exemptions import AccountabilityReview, conclude_review

    rev = _records_call(AccountabilityReview.model_validate, _read(log, "AccountabilityReview", record_id))
    _append(log, _records_call(conclude_review, rev, _when(at), outcome=outcome, note=note), as_json)
