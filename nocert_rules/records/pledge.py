"""告知承诺书 pledges: the text from the ruleset's template, and the post-check (三(三)2, 三(五)3).

The template is a file of the ruleset (``manifest.files.pledge_template``, by default
``templates/pledge.md``): plain text with ``$placeholders`` (:class:`string.Template`; ``$$`` is
a dollar sign). It states the obligation, the content to be proved and the legal consequences
of a false pledge (三(三)2); the placeholders (``PLACEHOLDERS``) fill in the certificate, the
content and the post-check plan. Unknown placeholders, a malformed ``$`` or a missing required
placeholder are a ``RulesetError`` naming the file and line.

Rendering: ``render_pledge_text`` gives the text; ``render_pledge_html`` a printable,
self-contained HTML page where *everything* (template text and values) is escaped. The HTML
understands a tiny subset of Markdown: ``# `` title, ``## `` heading, ``- `` list item, blank
line between paragraphs.

Post-check (三(三)2)::

    awaiting_check ──passed | found_false──▶ (final)          plan not waived
    awaiting_check ──waived──▶ waived ──passed | found_false (random inspection)──▶ (final)

Every outcome (passed, found_false, waived) produces a
:class:`~nocert_rules.records.credit.CreditRecordEntry` for the credit record (三(五)3:
履行承诺情况全面纳入信用记录), and a pledge found false also a :class:`FalsePledgeEntry` for the
credit system's false-pledge blacklist (三(五)3); the applicant appears only as a keyed hash
(:func:`nocert_rules.privacy.keyed_hash`, with the host's key), never in clear.
"""

from __future__ import annotations

import hashlib
import html
import re
import string
from datetime import datetime
from uuid import uuid4

from pydantic import BaseModel, ConfigDict

from nocert_rules.enums import Method
from nocert_rules.models import (
    Applicant,
    Decision,
    PostCheckPlan,
    as_shanghai,
)
from nocert_rules.policy.pledge_template import (
    DEFAULT_TEMPLATE,
    PLACEHOLDERS,
    REQUIRED_PLACEHOLDERS,
    PledgeTemplate,
    load_pledge_template,
)
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.privacy import keyed_hash, mask_known, mask_text, same_person
from nocert_rules.records import (
    RecordEvent,
    RecordProblem,
    decision_ref,
    require_method,
    require_text,
)
from nocert_rules.records.credit import CreditRecordEntry, credit_entry
from nocert_rules.records.pledge_record import (
    FINAL_STATES,
    FalsePledgeEntry,
    PledgeRecord,
    PledgeState,
    PostCheckOutcome,
)
from nocert_rules.worktime.wording import Both, DeadlineWording, plural, say

__all__ = [
    "DEFAULT_TEMPLATE",
    "PLACEHOLDERS",
    "REQUIRED_PLACEHOLDERS",
    "FalsePledgeEntry",
    "PledgeRecord",
    "PledgeState",
    "PledgeTemplate",
    "PostCheckOutcome",
    "PostCheckResult",
    "load_pledge_template",
    "open_pledge",
    "pledge_values",
    "record_post_check",
    "render_pledge_html",
    "render_pledge_text",
]

def _require_pledge(decision: Decision, label: str, rid: str | None, ruleset: Ruleset | None) -> PostCheckPlan:
    require_method(decision, Method.PLEDGE, label, rid, ruleset)
    if decision.awaiting_choice:
        raise RecordProblem(
            label,
            rid,
            "申请人尚未选择是否承诺：先请申请人选择，再以 wants_pledge: true 重新决定 / the applicant has "
            "not chosen yet: decide again with wants_pledge true once they choose to pledge",
        )
    if decision.post_check is None:
        raise RecordProblem(label, rid, "决定没有核查安排 / the decision has no post-check plan")
    return decision.post_check


def _day(value: datetime) -> str:
    local = as_shanghai(value)
    return f"{local.year}年{local.month}月{local.day}日"


def _post_check_due(wording: DeadlineWording, plan: PostCheckPlan) -> str:
    """The form's post-check due, in the ruleset's words: waived, by a time, or within N days."""
    if plan.waived:
        return say(wording.pledge_due_waived)
    if plan.due_at is not None:
        local = as_shanghai(plan.due_at)
        return say(wording.pledge_due_by, date=Both(_day(local), f"{local:%Y-%m-%d}"), time=f"{local:%H:%M}")
    days = plan.within_working_days or 0
    return say(wording.pledge_due_within, days=days, s=plural(days))


def pledge_values(ruleset: Ruleset, decision: Decision, *, content: str | None = None) -> dict[str, str]:
    """The placeholder values for a PLEDGE decision (personal data masked); without ``content``, the
    ruleset's default statement (``wording.records.pledge_content``)."""
    plan = _require_pledge(decision, "告知承诺书 / pledge", decision.request_id, ruleset)
    row = ruleset.find_row(decision.service_item, decision.certificate, decision.ruleset.effective_date)
    cert_name = decision.certificate_name or decision.certificate
    item_name = decision.service_item_name or decision.service_item
    if content is None or not content.strip():
        content = say(ruleset.manifest.wording.records.pledge_content, certificate=cert_name, service_item=item_name)
    return {
        "jurisdiction": ruleset.manifest.jurisdiction,
        "ruleset_name": ruleset.name,
        "ruleset_version": ruleset.version,
        "request_id": decision.request_id or "—",
        "service_item": decision.service_item,
        "service_item_name": item_name,
        "certificate_id": decision.certificate_id or decision.certificate,
        "certificate_name": cert_name,
        "legal_basis": (row.legal_basis_text if row and row.legal_basis_text else "—"),
        "issuer": decision.issuer or "—",
        "content": mask_text(content.strip()),  # the host's free text: ID numbers masked
        "post_check": plan.description,
        "post_check_due": _post_check_due(ruleset.deadline_policy.wording, plan),
        "applicant_name_masked": decision.applicant.name_masked or "________",
        "applicant_id_masked": decision.applicant.id_masked,
        "date": _day(decision.requested_at),
    }


def render_pledge_text(ruleset: Ruleset, decision: Decision, *, content: str | None = None) -> str:
    """The 告知承诺书 as text, from the ruleset's template (三(三)2)."""
    template = load_pledge_template(ruleset)
    return template.render(pledge_values(ruleset, decision, content=content))


_CSS = """
@page { size: A4; margin: 20mm; }
body { font-family: "Songti SC", "SimSun", "Noto Serif CJK SC", serif; font-size: 12pt;
       line-height: 1.7; color: #000; background: #fff; max-width: 180mm; margin: 0 auto; }
h1 { font-size: 20pt; text-align: center; margin: 0 0 1em; letter-spacing: 0.1em; }
h2 { font-size: 13pt; margin: 1.2em 0 0.4em; border-bottom: 1px solid #999; }
p { margin: 0.4em 0; text-indent: 2em; }
ul { margin: 0.4em 0; padding-left: 2em; }
li { margin: 0.2em 0; }
footer { margin-top: 2em; font-size: 9pt; color: #555; border-top: 1px solid #ccc; }
@media print { footer { position: fixed; bottom: 0; } }
""".strip()

_BLOCK = re.compile(r"^(#{1,2}) (.*)$")


def _blocks(text: str) -> list[tuple[str, list[str]]]:
    """Template lines -> blocks (h1, h2, ul, p); each with its template text lines."""
    blocks: list[tuple[str, list[str]]] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        heading = _BLOCK.match(line)
        if not line.strip():
            blocks.append(("", []))
        elif heading:
            blocks.append(("h1" if heading.group(1) == "#" else "h2", [heading.group(2)]))
        elif line.startswith("- "):
            if blocks and blocks[-1][0] == "ul":
                blocks[-1][1].append(line[2:])
            else:
                blocks.append(("ul", [line[2:]]))
        elif blocks and blocks[-1][0] == "p":
            blocks[-1][1].append(line)
        else:
            blocks.append(("p", [line]))
    return [b for b in blocks if b[0]]


def _html_text(template_text: str, values: dict[str, str]) -> str:
    filled = string.Template(template_text).substitute(values)
    return "<br>".join(html.escape(part, quote=True) for part in filled.split("\n"))


def render_pledge_html(ruleset: Ruleset, decision: Decision, *, content: str | None = None) -> str:
    """The 告知承诺书 as a printable, self-contained HTML page; every text is escaped."""
    template = load_pledge_template(ruleset)
    values = pledge_values(ruleset, decision, content=content)
    title = "证明事项告知承诺书"
    body: list[str] = []
    for kind, lines in _blocks(template.text):
        if kind == "h1":
            title = string.Template(lines[0]).substitute(values)
            body.append(f"<h1>{_html_text(lines[0], values)}</h1>")
        elif kind == "h2":
            body.append(f"<h2>{_html_text(lines[0], values)}</h2>")
        elif kind == "ul":
            items = "".join(f"<li>{_html_text(item, values)}</li>" for item in lines)
            body.append(f"<ul>{items}</ul>")
        else:
            body.append(f"<p>{_html_text(chr(10).join(lines), values)}</p>")
    footer = html.escape(
        f"{ruleset.manifest.title} {ruleset.version}（规则集 sha256 {ruleset.sha256[:12]}…）"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + f"\n<footer>{footer}</footer>\n</body>\n</html>\n"
    )


class PostCheckResult(BaseModel):
    """What ``record_post_check`` returns: the new pledge record, the outcome's credit-record
    entry and, if false, the blacklist entry."""

    model_config = ConfigDict(frozen=True)

    pledge: PledgeRecord
    blacklist: FalsePledgeEntry | None = None
    credit_record: CreditRecordEntry | None = None


def open_pledge(
    decision: Decision,
    applicant: Applicant,
    key: bytes,
    *,
    signed_at: datetime | None = None,
    text: str | None = None,
    record_id: str | None = None,
    ruleset: Ruleset | None = None,
) -> PledgeRecord:
    """The pledge record for a PLEDGE decision; ``applicant`` is kept only as ``keyed_hash(id, key)``.

    ``applicant`` must be the decision's: the decision must carry ``applicant.ref`` (decide with
    ``Engine(ruleset, key=key)``) and ``keyed_hash(applicant.id_number, key)`` must equal it, a
    comparison of keyed hashes, never of masks (two ID numbers can share a mask). ``text``, the
    rendered pledge as signed, is kept as its sha256. ``ruleset`` (the decision's) gives the
    clauses the record and a later blacklist entry cite (manifest ``records.pledge_clause``,
    ``records.blacklist_clause``).
    """
    # The id masked also where it repeats the applicant's name or ID number (the record holds them).
    rid = mask_known(record_id, [v for v in (applicant.name, applicant.id_number) if v]) if record_id else uuid4().hex
    label = PledgeRecord.record_label
    plan = _require_pledge(decision, label, rid, ruleset)
    if not key:
        raise RecordProblem(label, rid, "须提供密钥 / a non-empty key is required")
    ref = decision.applicant.ref
    if ref is None:
        raise RecordProblem(
            label,
            rid,
            "决定未带申请人的密钥哈希，无法核对申请人；请用 Engine(ruleset, key=...) 作出决定 / the decision "
            "carries no keyed hash of the applicant (applicant.ref): decide with Engine(ruleset, key=...)",
        )
    if not same_person(applicant.id_number, ref, key) or applicant.kind != decision.applicant.kind:
        raise RecordProblem(label, rid, "申请人与决定不符 / the applicant is not the decision's")
    at = as_shanghai(signed_at) if signed_at is not None else as_shanghai(decision.requested_at)
    if at < as_shanghai(decision.requested_at):
        raise RecordProblem(label, rid, "签署时间早于决定 / signed before the decision")
    clauses = ruleset.manifest.records if ruleset is not None else None
    clause = clauses.pledge_clause if clauses else None
    return PledgeRecord(
        id=rid,
        **decision_ref(decision),
        applicant_ref=keyed_hash(applicant.id_number, key),
        applicant_kind=applicant.kind,
        signed_at=at,
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None,
        post_check=plan,
        ruleset=decision.ruleset,
        clause=clauses.pledge_clause if clauses else None,
        blacklist_clause=clauses.blacklist_clause if clauses else None,
        credit_record_clause=clauses.credit_record_clause if clauses else None,
        events=(RecordEvent(at=at, action="sign", state=PledgeState.AWAITING_CHECK.value, note=clause),),
    )


def record_post_check(
    pledge: PledgeRecord,
    outcome: PostCheckOutcome | str,
    at: datetime,
    *,
    note: str | None = None,
    by_random_inspection: bool = False,
    blacklist_id: str | None = None,
    ruleset: Ruleset | None = None,
) -> PostCheckResult:
    """Record a post-check outcome (三(三)2): every outcome yields its credit-record entry, a false
    pledge also a blacklist entry (三(五)3).

    ``ruleset`` (the pledge's) gives the credit record's clause and words (manifest
    ``records.credit_record_clause``, ``records.credit_outcomes``); without it the entry cites
    the clause copied into the pledge when it was opened, in the default words.

    * ``waived`` only when the plan waives the check (守信 applicants), and only once;
    * ``passed`` / ``found_false`` from ``awaiting_check``; under a waived plan only as the result
      of a random inspection (``by_random_inspection=True``, or after ``waived``);
    * ``found_false`` needs ``note`` (the finding); a final outcome cannot change.
    """
    try:
        result = PostCheckOutcome(outcome)
    except ValueError:
        raise pledge.problem(
            f"未知核查结果 {outcome!r} / unknown outcome; expected one of "
            f"{', '.join(o.value for o in PostCheckOutcome)}"
        ) from None
    state = pledge.state
    if state in FINAL_STATES:
        raise pledge.refuse(result.value, state, [PledgeState.AWAITING_CHECK, PledgeState.WAIVED])
    waived_plan = pledge.post_check.waived
    if result is PostCheckOutcome.WAIVED:
        if state is not PledgeState.AWAITING_CHECK:
            raise pledge.refuse(result.value, state, [PledgeState.AWAITING_CHECK])
        if not waived_plan:
            raise pledge.problem(
                "核查安排要求核查，不得免予核查 / the post-check plan requires a check; it cannot be "
                f"waived ({pledge.post_check.description})"
            )
    elif state is PledgeState.WAIVED:
        by_random_inspection = True
    elif waived_plan and not by_random_inspection:
        raise pledge.problem(
            "核查安排为免予核查：先记录 waived，或以“双随机”抽查结果记录 (by_random_inspection=True) / "
            "the plan waives the check: record 'waived', or record a random inspection's result"
        )
    at = pledge.check_time(at, result.value)
    new_state = PledgeState(result.value)
    if result is PostCheckOutcome.FOUND_FALSE:
        note = require_text(pledge.record_label, pledge.id, "note (核查发现 / finding)", note)
    changes: dict[str, object] = {"state": new_state}
    if new_state in FINAL_STATES:
        due = pledge.post_check.due_at
        changes.update(
            outcome_at=at,
            outcome_note=note,
            by_random_inspection=by_random_inspection,
            checked_late=bool(due is not None and at > due),
        )
    updated = pledge.evolve(action=result.value, at=at, note=note, **changes)
    entry = None
    if new_state is PledgeState.FOUND_FALSE:
        assert note is not None
        entry = FalsePledgeEntry(
            id=blacklist_id or uuid4().hex,
            applicant_ref=pledge.applicant_ref,
            applicant_kind=pledge.applicant_kind,
            pledge_id=pledge.id,
            request_id=pledge.request_id,
            service_item=pledge.service_item,
            certificate=pledge.certificate_id or pledge.certificate,
            certificate_name=pledge.certificate_name,
            found_at=at,
            finding=note,
            clause=pledge.blacklist_clause,
            ruleset=pledge.ruleset,
            events=(RecordEvent(at=at, action="list", state="listed", note=pledge.blacklist_clause),),
        )
    final = new_state in FINAL_STATES
    credit = credit_entry(
        updated, result.value, at, ruleset=ruleset, finding=note if new_state is PledgeState.FOUND_FALSE else None,
        by_random_inspection=updated.by_random_inspection if final else False,
        checked_late=updated.checked_late if final else None,
    )
    return PostCheckResult(pledge=updated, blacklist=entry, credit_record=credit)
