"""The ruleset's ``complaint_rules.yaml`` (附件4 第八条, 第十一条; intake: 第三条–第六条, 第九条): its
models, facts and loading.

The optional ``intake`` section names what a complaint is received with: its grounds (第四条's
cases), the channels and who receives each (第三条, 第五条), the contents a written complaint must
state (第五条（一）), oral and proxy complaints (第六条) and the first receiver's duty (第九条).

Loaded and checked with the ruleset (file:line errors); decided by
:class:`nocert_rules.records.complaints.ComplaintEngine`.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nocert_rules.policy import conditions
from nocert_rules.policy.conditions import Fact
from nocert_rules.policy.wording import ComplaintEffect
from nocert_rules.policy.yaml_source import load_ruleset_file, validate_located

if TYPE_CHECKING:
    from nocert_rules.policy.loaded import Ruleset

MAX_COMPLAINT_RULES = 400
"""As many as a ruleset's policy rules may have."""

COMPLAINT_RULES_FILE = "complaint_rules.yaml"

COMPLAINT_FACTS: dict[str, Fact] = {
    fact.name: fact
    for fact in [
        Fact("complaint.specific", bool, "投诉举报内容具体明确 / the complaint is specific (第八条(一))"),
        Fact("complaint.verifiable", bool, "投诉举报内容可以核实 / it can be verified (第八条(一))"),
        Fact("complaint.duplicate", bool, "事项已经受理或者正在办理 / already accepted or in progress (第八条(二))"),
        Fact("complaint.malicious", bool, "经核实为恶意举报 / verified as malicious (第八条(二))"),
        Fact(
            "complaint.belongs_to_litigation",
            bool,
            "依法应当通过诉讼、仲裁、复议等途径解决 / belongs to litigation, arbitration or review (第八条(三))",
        ),
        Fact("complaint.other_reject_ground", bool, "其他不予受理情形（须写明理由） / another ground to refuse (第八条(四))"),
        Fact("complaint.withdrawn", bool, "投诉举报人撤回 / withdrawn (第十一条(一))"),
        Fact(
            "complaint.filed_arbitration_or_litigation_meanwhile",
            bool,
            "办理期间又申请仲裁、提起复议、诉讼 / arbitration, review or litigation filed meanwhile (第十一条(二))",
        ),
        Fact("complaint.other_terminate_ground", bool, "其他应当终止的情形（须写明理由） / another ground to terminate (第十一条(三))"),
        Fact(
            "complaint.contents_missing",
            bool,
            "书面投诉举报未载明应当载明的内容 / a written complaint lacks contents it must state (第五条(一))",
        ),
        Fact("complaint.by_proxy", bool, "委托他人代为提出 / made by a proxy (第六条)"),
        Fact("complaint.proxy_authorised", bool, "代为提出者有委托 / the proxy shows the entrustment (第六条)"),
        Fact(
            "complaint.supplement_requested",
            bool,
            "已请投诉举报人补正过 / a supplement was already asked for",
        ),
    ]
}
"""The facts complaint rules may test."""


# ---------------------------------------------------------------- complaint_rules.yaml

_STRICT = ConfigDict(extra="forbid", frozen=True)

class ComplaintRule(BaseModel):
    """One complaint rule: when the condition holds, reject, accept or terminate, per a clause."""

    model_config = _STRICT
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    effect: ComplaintEffect
    when: dict[str, Any]
    clause: str
    item: str | None = Field(default=None, description="条款中的项，如 （一） / the item of the clause")
    reason: str = Field(min_length=1, description="中文理由 / English reason")
    note: str | None = None


class DefaultOutcome(BaseModel):
    model_config = _STRICT
    clause: str
    reason: str = Field(min_length=1)


class CatalogueItem(BaseModel):
    """One entry of an intake catalogue: an id, the item of its clause, its label."""

    model_config = _STRICT
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    item: str | None = Field(default=None, description="条款中的项，如 （一） / the item of the clause")
    label: str = Field(min_length=1)


class Ground(CatalogueItem):
    """一种可以投诉举报的情形 (附件4 第四条 in Zibo)."""

    other: bool = Field(default=False, description="a catch-all item: the complaint must describe the ground")


class GroundCatalogue(BaseModel):
    model_config = _STRICT
    clause: str
    items: list[Ground] = Field(min_length=1)


class Channel(CatalogueItem):
    """一种投诉举报方式 (附件4 第五条) and who receives it (第三条)."""

    receiver: str | None = Field(default=None, description="投诉举报接收单位 / the receiving unit")
    forms: list[Literal["oral", "written"]] = Field(
        min_length=1, description="口头/书面 / the forms this channel takes (第六条)"
    )
    contents_required: bool = Field(
        default=False, description="the written contents must be stated (written_contents)"
    )


class ChannelCatalogue(BaseModel):
    model_config = _STRICT
    clause: str
    receiver_clause: str | None = Field(default=None, description="the clause naming the receiving units")
    items: list[Channel] = Field(min_length=1)


class ContentItem(CatalogueItem):
    """一项应当载明的内容 (附件4 第五条（一）)."""

    personal: bool = Field(
        default=False, description="personal data (a name, a phone number): kept only as a keyed hash"
    )


class ContentsRule(BaseModel):
    model_config = _STRICT
    clause: str
    item: str | None = None
    items: list[ContentItem] = Field(min_length=1)


class FormsRule(BaseModel):
    """口头、书面、本人、委托 (附件4 第六条): what the record keeps for an oral or a proxy complaint."""

    model_config = _STRICT
    clause: str
    oral: str = Field(min_length=1, description="what the receiver records for an oral complaint")
    proxy: str = Field(min_length=1, description="what a proxy complaint needs (the entrustment)")


class FirstReceiverRule(BaseModel):
    """多个受理单位收到同一投诉举报 (附件4 第九条): the first receiver handles it first."""

    model_config = _STRICT
    clause: str
    duty: str = Field(min_length=1, description="the first receiver's duty, in words")
    others: str = Field(min_length=1, description="what the other receivers do")


class IntakeRules(BaseModel):
    """What a complaint is received with (the ``intake`` section of ``complaint_rules.yaml``)."""

    model_config = _STRICT
    grounds: GroundCatalogue
    channels: ChannelCatalogue
    written_contents: ContentsRule
    forms: FormsRule
    first_receiver: FirstReceiverRule | None = None


class ComplaintRuleFile(BaseModel):
    """The whole ``complaint_rules.yaml``."""

    model_config = _STRICT
    acceptance_default: DefaultOutcome
    handling_default: DefaultOutcome
    intake: IntakeRules | None = Field(
        default=None, description="grounds, channels, contents, forms, first receiver; unset: free text"
    )
    rules: list[ComplaintRule] = Field(min_length=1)


class LoadedComplaintRules(BaseModel):
    model_config = ConfigDict(frozen=True)
    file: str
    sha256: str
    content: ComplaintRuleFile


def load_complaint_rules(ruleset: Ruleset) -> LoadedComplaintRules:
    """Read and validate ``complaint_rules.yaml`` of ``ruleset``; errors are ``RulesetError`` file:line.

    Uses the bytes the ruleset hashed (``ruleset.files``) when it has them, else the file in
    ``ruleset.directory`` (then the file is not part of ``ruleset.sha256``; the decision's
    ``rules_sha256`` still identifies it).
    """
    # ``manifest.files.complaint_rules`` once the manifest has that field (see docs/records.md)
    name = getattr(ruleset.manifest.files, "complaint_rules", None) or COMPLAINT_RULES_FILE
    doc = load_ruleset_file(ruleset.files, ruleset.directory, name)
    content: ComplaintRuleFile = validate_located(ComplaintRuleFile, doc)

    def cited(path: tuple[str | int, ...], clause_id: str) -> None:
        if clause_id not in ruleset.clauses:
            raise doc.error(path, f"cites unknown clause {clause_id!r} (not in clauses file)")

    cited(("acceptance_default", "clause"), content.acceptance_default.clause)
    cited(("handling_default", "clause"), content.handling_default.clause)
    intake = content.intake
    if intake is not None:
        cited(("intake", "grounds", "clause"), intake.grounds.clause)
        cited(("intake", "channels", "clause"), intake.channels.clause)
        if intake.channels.receiver_clause:
            cited(("intake", "channels", "receiver_clause"), intake.channels.receiver_clause)
        cited(("intake", "written_contents", "clause"), intake.written_contents.clause)
        cited(("intake", "forms", "clause"), intake.forms.clause)
        if intake.first_receiver is not None:
            cited(("intake", "first_receiver", "clause"), intake.first_receiver.clause)
        for section, items in (("grounds", intake.grounds.items), ("channels", intake.channels.items),
                               ("written_contents", intake.written_contents.items)):
            ids: set[str] = set()
            for i, entry in enumerate(items):
                if entry.id in ids:
                    raise doc.error(("intake", section, "items", i, "id"), f"duplicate id {entry.id!r}")
                ids.add(entry.id)
    if len(content.rules) > MAX_COMPLAINT_RULES:
        raise doc.error(("rules",), f"{len(content.rules)} rules; durable_rules is unreliable past {MAX_COMPLAINT_RULES}")
    seen: set[str] = set()
    for i, rule in enumerate(content.rules):
        if rule.id in seen:
            raise doc.error(("rules", i, "id"), f"duplicate rule id {rule.id!r}")
        seen.add(rule.id)
        cited(("rules", i, "clause"), rule.clause)
        try:
            conditions.validate(rule.when, facts=COMPLAINT_FACTS)
        except conditions.ConditionError as exc:
            raise doc.error(("rules", i, "when", *exc.path), exc.problem) from None
    return LoadedComplaintRules(file=name, sha256=hashlib.sha256(doc.raw).hexdigest(), content=content)


