"""信用记录 the credit record of every pledge outcome (三(五)3: 履行承诺情况全面纳入信用记录).

Every outcome of a pledge's post-check becomes a :class:`CreditRecordEntry`: kept (``passed``:
the check or a random inspection found it true), ``found_false``, and ``waived`` (the plan waived
the check; a later random inspection adds its own entry). A false pledge also yields the
:class:`~nocert_rules.records.pledge.FalsePledgeEntry` for the blacklist store, as before.

The applicant appears only as the pledge record's keyed hash (``applicant_ref``), never an ID
number or a name. The clause (manifest ``records.credit_record_clause``) and the outcome's words
(``records.credit_outcomes``) come from the ruleset.

* :func:`credit_entry` — one outcome of one pledge (``record_post_check(..., ruleset=)`` returns it
  as ``PostCheckResult.credit_record``);
* :func:`credit_entries` — every outcome in a pledge record's history;
* :func:`read_pledge_records` — the ``PledgeRecord`` lines of a records export (JSON lines, each
  with ``record_type: PledgeRecord``, as ``nocert-rules accountability`` reads them);
* :func:`write_credit_record` — entries as JSON lines or CSV, written whole or not at all
  (``nocert-rules credit-record RULESET RECORDS… --out FILE``).

An entry's id is derived from the pledge id and the outcome, so exporting the same pledges again
gives the same ids (a host's credit system can de-duplicate by id).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from nocert_rules.enums import ApplicantKind
from nocert_rules.fileio import JsonLineError, csv_cell, json_lines, replace_atomically
from nocert_rules.models import RulesetStamp, ShanghaiDatetime
from nocert_rules.policy.ruleset import RecordClauses, Ruleset
from nocert_rules.records import HashedRef, Record, RecordEvent, RecordProblem
from nocert_rules.records.pledge_record import PledgeRecord

__all__ = [
    "CSV_COLUMNS",
    "CreditOutcome",
    "CreditRecordEntry",
    "credit_entries",
    "credit_entry",
    "read_pledge_records",
    "write_credit_record",
]

CreditOutcome = Literal["passed", "found_false", "waived"]
_OUTCOMES: tuple[CreditOutcome, ...] = ("passed", "found_false", "waived")
_LABEL = "信用记录 / credit record"


class CreditRecordEntry(Record):
    """One pledge outcome for the credit record (三(五)3); the applicant by keyed hash only."""

    record_label: ClassVar[str] = "信用记录条目 / credit-record entry"

    applicant_ref: HashedRef
    applicant_kind: ApplicantKind
    pledge_id: str = Field(min_length=1)
    request_id: str | None = None
    service_item: str = Field(min_length=1)
    certificate: str = Field(min_length=1)
    certificate_name: str | None = None
    signed_at: ShanghaiDatetime
    outcome: CreditOutcome
    outcome_label: str = Field(min_length=1)  # the ruleset's words (records.credit_outcomes)
    at: ShanghaiDatetime
    by_random_inspection: bool = False
    checked_late: bool | None = None
    finding: str | None = None  # a false pledge's finding (masked like every record text)
    false_pledge_blacklist: bool = False  # found false: the blacklist entry goes to the store too
    clause: str | None = None  # the ruleset's records.credit_record_clause
    ruleset: RulesetStamp


def _entry_id(pledge_id: str, outcome: str) -> str:
    digest = hashlib.sha256(f"{pledge_id}\0{outcome}".encode()).hexdigest()
    return f"credit-{digest[:32]}"


def _policy(pledge: PledgeRecord, ruleset: Ruleset | None) -> tuple[RecordClauses, str | None]:
    if ruleset is None:
        return RecordClauses(), pledge.credit_record_clause
    if ruleset.name != pledge.ruleset.name:
        raise pledge.problem(
            f"告知承诺记录属于规则集 {pledge.ruleset.name}，不是 {ruleset.name} / the pledge was decided under "
            f"ruleset {pledge.ruleset.name}, not {ruleset.name}"
        )
    records = ruleset.manifest.records
    return records, records.credit_record_clause


def credit_entry(
    pledge: PledgeRecord,
    outcome: CreditOutcome | str,
    at: datetime,
    *,
    ruleset: Ruleset | None = None,
    finding: str | None = None,
    by_random_inspection: bool = False,
    checked_late: bool | None = None,
) -> CreditRecordEntry:
    """The credit-record entry of one outcome of ``pledge`` (at ``at``).

    With ``ruleset`` (the pledge's, by name) the entry cites its ``records.credit_record_clause``
    and uses its words; without, the clause copied into the pledge when it was opened and the
    default words.
    """
    if outcome not in _OUTCOMES:
        raise pledge.problem(f"未知核查结果 {outcome!r} / unknown outcome; expected one of {', '.join(_OUTCOMES)}")
    records, clause = _policy(pledge, ruleset)
    label = getattr(records.credit_outcomes, outcome)
    return CreditRecordEntry(
        id=_entry_id(pledge.id, outcome),
        applicant_ref=pledge.applicant_ref,
        applicant_kind=pledge.applicant_kind,
        pledge_id=pledge.id,
        request_id=pledge.request_id,
        service_item=pledge.service_item,
        certificate=pledge.certificate_id or pledge.certificate,
        certificate_name=pledge.certificate_name,
        signed_at=pledge.signed_at,
        outcome=outcome,  # type: ignore[arg-type]  # checked above
        outcome_label=label,
        at=at,
        by_random_inspection=by_random_inspection,
        checked_late=checked_late,
        finding=finding if outcome == "found_false" else None,
        false_pledge_blacklist=outcome == "found_false",
        clause=clause,
        ruleset=pledge.ruleset,
        events=(RecordEvent(at=at, action="record", state=outcome, note=clause),),
    )


def credit_entries(pledge: PledgeRecord, ruleset: Ruleset | None = None) -> list[CreditRecordEntry]:
    """Every outcome in ``pledge``'s history, oldest first (none while it awaits its check).

    A waived check and a later random inspection give two entries.
    """
    out: list[CreditRecordEntry] = []
    for event in pledge.events:
        if event.action not in _OUTCOMES:
            continue
        final = event.action != "waived"
        out.append(credit_entry(
            pledge, event.action, event.at, ruleset=ruleset,
            finding=event.note if event.action == "found_false" else None,
            by_random_inspection=pledge.by_random_inspection if final else False,
            checked_late=pledge.checked_late if final else None,
        ))
    return out


def read_pledge_records(path: str | Path) -> list[PledgeRecord]:
    """The ``PledgeRecord`` lines of a records export (JSON lines; ``record_type`` or ``kind`` names
    each line's class, other kinds are skipped). The latest version of each pledge counts (the
    one with the most events). A line that is not JSON, or a pledge record that does not
    validate, is a :class:`RecordProblem` naming ``file:line``."""
    p = Path(path)
    latest: dict[str, PledgeRecord] = {}
    try:
        for n, doc in json_lines(p):
            if not isinstance(doc, dict) or (doc.get("record_type") or doc.get("kind")) != "PledgeRecord":
                continue
            fields = {k: v for k, v in doc.items() if k not in ("record_type", "kind")}
            try:
                pledge = PledgeRecord.model_validate(fields)
            except RecordProblem as exc:
                raise RecordProblem(_LABEL, None, f"{p}:{n}: {exc.problem}") from None
            known = latest.get(pledge.id)
            if known is None or len(pledge.events) >= len(known.events):
                latest[pledge.id] = pledge
    except JsonLineError as exc:
        raise RecordProblem(_LABEL, None, str(exc)) from None
    return sorted(latest.values(), key=lambda r: (r.signed_at, r.id))


CSV_COLUMNS: tuple[str, ...] = (
    "id", "pledge_id", "applicant_ref", "applicant_kind", "outcome", "outcome_label", "at", "signed_at",
    "request_id", "service_item", "certificate", "certificate_name", "by_random_inspection", "checked_late",
    "false_pledge_blacklist", "finding", "clause", "ruleset_name", "ruleset_version", "ruleset_sha256",
)
"""The CSV columns of :func:`write_credit_record`, in order."""

def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return csv_cell(str(value))  # a spreadsheet must not read host text as a formula


def _csv_row(entry: CreditRecordEntry) -> list[str]:
    values = entry.model_dump()
    stamp = entry.ruleset
    values.update(ruleset_name=stamp.name, ruleset_version=stamp.version, ruleset_sha256=stamp.sha256)
    return [_cell(values.get(c)) for c in CSV_COLUMNS]


def write_credit_record(
    entries: Sequence[CreditRecordEntry] | Iterable[CreditRecordEntry],
    out: str | Path | None,
    fmt: Literal["jsonl", "csv"] = "jsonl",
) -> str | int:
    """``entries`` as JSON lines (``record_type: CreditRecordEntry``) or CSV (``CSV_COLUMNS``, UTF-8
    with a BOM for Excel). With ``out`` the file is written whole or not at all and the number of
    entries is returned; with ``out=None`` the text is returned."""
    items = list(entries)
    if fmt == "jsonl":
        text = "".join(
            json.dumps({"record_type": "CreditRecordEntry", **e.model_dump(mode="json")}, ensure_ascii=False) + "\n"
            for e in items
        )
        data = text.encode("utf-8")
    elif fmt == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(_csv_row(e) for e in items)
        text = buffer.getvalue()
        data = ("\ufeff" + text).encode("utf-8")
    else:
        raise ValueError(f"format must be jsonl or csv, not {fmt!r}")
    if out is None:
        return text
    replace_atomically(Path(out), data)
    return len(items)
