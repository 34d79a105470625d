"""The ruleset's words beyond the deadlines (manifest ``wording``), and the bundled defaults.

A decision's trace conclusions and the records' sentences are templates of the ruleset, Chinese
(``zh``) and English (``en``), each beside the clause it words, shown ``zh / en``, as the deadline
rules' are (``deadlines.wording``, ``worktime/wording.py``): ``methods`` names each method (the
trace's ``{method}``), ``trace`` words the engine's steps, ``warnings`` a decision's warnings,
``records`` the records' sentences, ``complaints`` the complaint engine's steps. The
``*_PLACEHOLDERS`` tables list what each template may use; the loader
checks them with ``worktime.wording.check_templates`` (file:line), so rendering never fails.

A manifest without a section gets the bundled default (docs/rulesets.md, "Deadline wording" and
"Trace and record wording"): ``default_wording.yaml`` for ``deadlines.wording``,
``default_ruleset_wording.yaml`` for ``wording``, the words the library used before they moved
into the rulesets, citing no clause. They are data, read and validated like a ruleset file (a
problem names the file and line), not Python strings.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nocert_rules.enums import Method
from nocert_rules.policy.yaml_source import LocatedYaml, load_located_bytes, validate_located
from nocert_rules.worktime.wording import Both, DeadlineWording, KindLabel, Templates, Wording

DEFAULT_WORDING_FILE = "default_wording.yaml"
DEFAULT_RULESET_WORDING_FILE = "default_ruleset_wording.yaml"

TRACE_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "offered": ("method", "reason"),
    "blocked": ("method", "reason"),
    "chosen": ("method",),
    "fallback": ("method", "reason"),
    "row_own": ("source",),
    "row_inherited": ("source",),
    "awaiting_choice": ("method",),
}
"""Trace template -> its placeholders. ``method``: the method's label (``methods``) in each
language; ``reason``: the rule's (or the fallback's) reason, as the ruleset writes it;
``source``: the name of the ruleset (level) whose list row decided."""

RECORD_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "adjustment_late": ("due", "clause"),
    "adjustment_late_no_clause": ("due",),
    "adjustment_late_note": (),
    "pledge_content": ("certificate", "service_item"),
    "review_enforced": ("clause",),
    "review_enforced_no_clause": (),
    "ledger_note": (),
}
"""Record template -> its placeholders. ``due``: a due time (``2021-05-14 17:00``); ``clause``:
the clause id the record keeps; ``certificate``, ``service_item``: their names (else codes)."""


WARNING_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "expired": ("name", "version", "effective_until"),
    "not_yet_in_force": ("name", "version", "effective_from"),
    "unknown_service_item": ("service_item", "nearest"),
    "nearest_service_items": ("codes",),
    "unknown_certificate": ("certificate", "service_item", "nearest"),
    "nearest_certificates": ("codes",),
}
"""Decision warning template -> its placeholders. ``name``, ``version``, ``effective_*``: the
ruleset's; ``service_item``, ``certificate``: the request's codes (masked where they hold personal
data); ``nearest``: the ``nearest_*`` sentence naming the nearest known ``codes``, or empty."""

ComplaintEffect = Literal["accept", "reject", "supplement", "terminate"]
"""What a complaint rule does (``policy.complaint_rules.ComplaintRule.effect``); ``complaints.effects``
labels each."""

COMPLAINT_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "rule": ("effect", "clause", "reason"),
    "default_ground": ("reason", "ground"),
}
"""Complaint trace template -> its placeholders. ``effect``: the rule's effect's label
(``complaints.effects``) in each language; ``clause``: the rule's clause and item; ``reason``: the
rule's (or the default's) reason, as complaint_rules.yaml writes it; ``ground``: the complaint's
ground."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MethodLabels(_Frozen):
    """The name of every method (二(二) in Zibo), in Chinese and in English: ``{method}``."""

    clause: str | None = Field(default=None, min_length=1, description="the clause naming the methods")
    labels: dict[Method, KindLabel]

    @field_validator("labels")
    @classmethod
    def _every_method(cls, value: dict[Method, KindLabel]) -> dict[Method, KindLabel]:
        missing = [m.value for m in Method if m not in value]
        if missing:
            raise ValueError(f"missing labels for methods: {missing}")
        return value


class TraceWording(Templates):
    """The engine's trace conclusions (``TRACE_PLACEHOLDERS`` names them)."""

    offered: Wording
    blocked: Wording
    chosen: Wording
    fallback: Wording
    row_own: Wording
    row_inherited: Wording
    awaiting_choice: Wording

    placeholders = TRACE_PLACEHOLDERS


class RecordWording(Templates):
    """The records' sentences (``RECORD_PLACEHOLDERS`` names them)."""

    adjustment_late: Wording
    adjustment_late_no_clause: Wording
    adjustment_late_note: Wording
    pledge_content: Wording
    review_enforced: Wording
    review_enforced_no_clause: Wording
    ledger_note: Wording

    placeholders = RECORD_PLACEHOLDERS


class WarningWording(Templates):
    """The warnings a decision carries (``WARNING_PLACEHOLDERS`` names them): the ruleset out of
    its validity, a code the list does not know (``unknown_*: abolish``)."""

    expired: Wording
    not_yet_in_force: Wording
    unknown_service_item: Wording
    nearest_service_items: Wording
    unknown_certificate: Wording
    nearest_certificates: Wording

    placeholders = WARNING_PLACEHOLDERS


class ComplaintWording(Templates):
    """The complaint engine's trace conclusions (``records.complaints``; ``COMPLAINT_PLACEHOLDERS``)."""

    effects: dict[ComplaintEffect, KindLabel] = Field(description="the label of each complaint rule's effect")
    rule: Wording
    default_ground: Wording

    @field_validator("effects")
    @classmethod
    def _every_effect(cls, value: dict[ComplaintEffect, KindLabel]) -> dict[ComplaintEffect, KindLabel]:
        missing = [e for e in get_args(ComplaintEffect) if e not in value]
        if missing:
            raise ValueError(f"missing labels for complaint effects: {missing}")
        return value

    placeholders = COMPLAINT_PLACEHOLDERS

    def effect(self, effect: ComplaintEffect) -> Both:
        """``{effect}``: the label of ``effect`` in each language."""
        label = self.effects[effect]
        return Both(label.zh, label.en)


class RulesetWording(_Frozen):
    """The manifest's ``wording``: the methods' names, the trace's and the warnings' sentences, the
    records' and the complaint engine's."""

    methods: MethodLabels
    trace: TraceWording
    warnings: WarningWording
    records: RecordWording
    complaints: ComplaintWording

    def method(self, method: Method) -> Both:
        """``{method}``: the label of ``method`` in each language (every method has one)."""
        label = self.methods.labels[method]
        return Both(label.zh, label.en)


def _bundled(name: str) -> LocatedYaml:
    raw = resources.files("nocert_rules.policy").joinpath(name).read_bytes()
    return load_located_bytes(raw, f"nocert_rules/policy/{name}")


@lru_cache(maxsize=1)
def default_wording() -> DeadlineWording:
    """The bundled default deadline wording, validated (once per process)."""
    return validate_located(DeadlineWording, _bundled(DEFAULT_WORDING_FILE))  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def default_ruleset_wording() -> RulesetWording:
    """The bundled default trace and record wording, validated (once per process)."""
    return validate_located(RulesetWording, _bundled(DEFAULT_RULESET_WORDING_FILE))  # type: ignore[no-any-return]


__all__ = [
    "COMPLAINT_PLACEHOLDERS",
    "ComplaintEffect",
    "DEFAULT_RULESET_WORDING_FILE",
    "DEFAULT_WORDING_FILE",
    "RECORD_PLACEHOLDERS",
    "TRACE_PLACEHOLDERS",
    "WARNING_PLACEHOLDERS",
    "ComplaintWording",
    "MethodLabels",
    "RecordWording",
    "RulesetWording",
    "TraceWording",
    "WarningWording",
    "default_ruleset_wording",
    "default_wording",
]
