"""The words of the deadline rules, as the ruleset gives them (manifest ``deadlines.wording``).

The library holds no wording of its own: each sentence a ``Deadline.rule`` shows is a template
of the ruleset, Chinese (``zh``) and English (``en``), beside the clause it words; shown as
``zh / en``. A template names its figures as ``{placeholders}``; ``PLACEHOLDERS`` lists the ones
each template may use. Templates are checked when the ruleset loads (an unknown placeholder, a
positional ``{}``, a format spec or conversion, an unbalanced brace: a ``ValueError`` the loader
reports with file:line), so rendering one never fails.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import ClassVar, NamedTuple, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nocert_rules.enums import RecordKind

__all__ = [
    "PLACEHOLDERS",
    "Both",
    "DeadlineWording",
    "KindLabel",
    "RecordKindWording",
    "Wording",
    "adjustment_problem",
    "check_templates",
    "missing_kinds",
    "placeholders_of",
    "plural",
    "say",
    "template_problem",
]

_COUNT = ("days", "s")
"""A working-day count and ``{s}``: ``"s"`` unless the count is 1 (an English plural), else empty."""

PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "verification_days": ("records", *_COUNT),
    "verification_minutes": ("records", "minutes"),
    "verification_elapsed_minutes": ("records", "minutes"),
    "statutory_days": (*_COUNT, "basis"),
    "statutory_minutes": ("minutes", "basis"),
    "complaint": _COUNT,
    "complaint_extended": (*_COUNT, "extension_days", "max_extension_days"),
    "adjustment": (*_COUNT, "office"),
    "adjustment_no_office": _COUNT,
    "post_check": _COUNT,
    "pledge_due_waived": (),
    "pledge_due_by": ("date", "time"),
    "pledge_due_within": _COUNT,
    "approval_due": ("rule", "working_minutes", "paused"),
    "approval_clock": (),
}
"""Template -> the placeholders it may use. ``records``: the record kind's label; ``basis``: the
row's legal basis; ``office``: the office's name (``name_en`` in English, else the name);
``rule``: the ruleset's on-the-spot rule; ``paused``: the paused working minutes; ``date`` and
``time``: a due time (``2021年6月2日`` in Chinese, ``2021-06-02`` in English; ``17:00``)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Templates(_Frozen):
    """A section of templates: each ``Wording`` entry named in ``placeholders`` may use only its
    placeholders, checked at load (:func:`check_templates`, errors at the section's file:line)."""

    placeholders: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    @model_validator(mode="after")
    def _placeholders(self) -> Self:
        check_templates(self, self.placeholders)
        return self


class Wording(_Frozen):
    """One sentence of a deadline rule: its clause, and its template in Chinese and in English."""

    clause: str | None = Field(default=None, min_length=1, description="the clause the sentence words")
    zh: str = Field(min_length=1, max_length=2000, description="the template in Chinese")
    en: str = Field(min_length=1, max_length=2000, description="the template in English")


class KindLabel(_Frozen):
    """How the ruleset names one kind of thing, in Chinese and in English: a record kind (附件2
    第七条 in Zibo), a method (``policy.wording.MethodLabels``)."""

    zh: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)


class RecordKindWording(_Frozen):
    """The label of every record kind (``{records}`` in the verification templates)."""

    clause: str | None = Field(default=None, min_length=1)
    labels: dict[RecordKind, KindLabel]

    @field_validator("labels")
    @classmethod
    def _every_kind(cls, value: dict[RecordKind, KindLabel]) -> dict[RecordKind, KindLabel]:
        if missing := missing_kinds(value):
            raise ValueError(f"missing labels for record kinds: {missing}")
        return value


def missing_kinds(mapping: Mapping[RecordKind, object]) -> list[str]:
    """The record kinds a per-kind mapping (limits, labels) leaves out, by value."""
    return [k.value for k in RecordKind if k not in mapping]


class DeadlineWording(Templates):
    """Every template a deadline rule is worded from (``PLACEHOLDERS`` names them).

    All are required but ``adjustment_no_office``, which words the adjustment rule of a ruleset
    without ``adjustment_office`` and is required there (``adjustment_problem``)."""

    record_kinds: RecordKindWording
    verification_days: Wording
    verification_minutes: Wording
    verification_elapsed_minutes: Wording
    statutory_days: Wording
    statutory_minutes: Wording
    complaint: Wording
    complaint_extended: Wording
    adjustment: Wording
    adjustment_no_office: Wording | None = None
    post_check: Wording
    pledge_due_waived: Wording
    pledge_due_by: Wording
    pledge_due_within: Wording
    approval_due: Wording
    approval_clock: Wording

    placeholders = PLACEHOLDERS


def check_templates(section: BaseModel, placeholders: Mapping[str, tuple[str, ...]]) -> None:
    """Each ``Wording`` of ``section`` named in ``placeholders`` uses only its placeholders, in
    both languages (``template_problem``); ``ValueError`` naming the entry and language, which
    the loader reports at the section's file:line."""
    for name, allowed in placeholders.items():
        text: Wording | None = getattr(section, name)
        if text is None:
            continue
        for lang in ("zh", "en"):
            problem = template_problem(getattr(text, lang), allowed)
            if problem:
                raise ValueError(f"{name}.{lang}: {problem}")


def placeholders_of(template: str) -> set[str]:
    """The named placeholders of a template (one that ``template_problem`` accepts)."""
    return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}


def template_problem(template: str, allowed: tuple[str, ...]) -> str | None:
    """What is wrong with a template, or None: only ``{name}`` of ``allowed``, braces balanced."""
    try:
        fields = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        return f"malformed template: {exc} (a literal brace is written {{{{ or }}}})"
    for name, spec, conv in fields:
        if not name.isidentifier():
            return f"placeholder {{{name}}} is not a name; it may use {_named(allowed)}"
        if spec or conv:
            return f"placeholder {{{name}}} may not carry a format spec or conversion"
        if name not in allowed:
            return f"unknown placeholder {{{name}}}; it may use {_named(allowed)}"
    return None


def _named(allowed: tuple[str, ...]) -> str:
    return ", ".join(f"{{{a}}}" for a in allowed) if allowed else "none"


def adjustment_problem(wording: DeadlineWording, has_office: bool) -> str | None:
    """A ruleset without an adjustment office words its adjustment rule in ``adjustment_no_office``."""
    if not has_office and wording.adjustment_no_office is None:
        return ("adjustment_no_office is required: deadlines.adjustment_office is not set, so the "
                "adjustment rule names no office")
    return None


class Both(NamedTuple):
    """A placeholder's value in each language (an office: its Chinese and its English name)."""

    zh: str
    en: str


def say(text: Wording | Both, **values: object) -> str:
    """The sentence ``zh / en``, each template (``text.zh``, ``text.en``) filled with ``values`` (a
    ``Both`` gives a value per language)."""
    zh = {k: v.zh if isinstance(v, Both) else v for k, v in values.items()}
    en = {k: v.en if isinstance(v, Both) else v for k, v in values.items()}
    return f"{text.zh.format_map(zh)} / {text.en.format_map(en)}"


def plural(count: int) -> str:
    """``{s}``: ``"s"`` unless ``count`` is 1."""
    return "" if count == 1 else "s"
