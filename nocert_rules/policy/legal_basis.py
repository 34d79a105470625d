"""Typed legal bases (设定依据) of list rows, and which ranks of law suffice.

A row's ``legal_basis`` may be a plain string (an *unranked* basis, as older lists give it), a
mapping, or a list of either::

    legal_basis:
      - {instrument: 《中华人民共和国契税法》, rank: 法律, effective_from: 2021-09-01}
      - {instrument: 《不动产登记暂行条例》, article: 第十六条, rank: 行政法规}

The manifest's ``legal_basis_policy`` names the ranks that suffice to keep a certificate (in
Zibo 法律、行政法规、地方性法规: "凡是无法律法规依据的证明事项一律取消"). A row none of whose
bases has such a rank is *below rank*; the ruleset's rules decide what follows (the fact
``row.legal_basis_sufficient``), and lint lists it. An instrument cited by a row in force
before the instrument's ``effective_from`` is a lint error (unless another basis of the row is
in force until then: the later instrument succeeds it).

Law over time: a basis may carry ``repealed_on``, the day from which the instrument is no longer in
force (废止、失效之日, e.g. 《个体工商户条例》 repealed on 2022-11-01 by 《促进个体工商户发展条例》).
:func:`bases_on` gives the bases in force on a day, and the ruleset decides each day with those
(``Ruleset.find_row``): a row whose only basis was repealed has no basis from that day, and the
rules on ``row.has_legal_basis`` abolish it (法无规定一律取消). Lint warns (``basis-repealed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

_STRICT = ConfigDict(extra="forbid", frozen=True)


class LegalRank(StrEnum):
    """效力层级 of a legal instrument (《立法法》's ranks, plus normative documents)."""

    LAW = "法律"
    ADMINISTRATIVE_REGULATION = "行政法规"
    LOCAL_REGULATION = "地方性法规"
    DEPARTMENTAL_RULE = "部门规章"
    LOCAL_GOVERNMENT_RULE = "地方政府规章"
    NORMATIVE_DOCUMENT = "规范性文件"


class LegalBasis(BaseModel):
    """One instrument (and article) a row rests on."""

    model_config = _STRICT
    instrument: str = Field(min_length=1, description="文件名称，如《中华人民共和国契税法》")
    article: str | None = Field(default=None, description="条款，如 第十六条")
    rank: LegalRank | None = Field(default=None, description="效力层级; unset = unranked")
    effective_from: date | None = Field(default=None, description="施行日期")
    repealed_on: date | None = Field(
        default=None, description="废止（失效）之日: not in force from this day on"
    )
    note: str | None = None

    @field_validator("repealed_on")
    @classmethod
    def _after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("effective_from")
        if value is not None and start is not None and value <= start:
            raise ValueError(f"repealed_on {value} is not after effective_from {start} / 废止日期不晚于施行日期")
        return value

    @field_validator("instrument", "article", "note")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return value.strip() or None if isinstance(value, str) else value

    @property
    def text(self) -> str:
        return f"{self.instrument}{self.article or ''}"


LegalBasisInput = str | LegalBasis | list[str | LegalBasis]
"""What ``ListRow.legal_basis`` accepts (besides null)."""


class LegalBasisPolicy(BaseModel):
    """Which ranks of law suffice to keep a certificate on the list (manifest ``legal_basis_policy``)."""

    model_config = _STRICT
    sufficient_ranks: list[LegalRank] = Field(min_length=1)
    clause: str = Field(description="the clause that requires these ranks (二(一) in Zibo)")
    unranked_sufficient: bool = Field(
        default=True, description="whether a plain-string basis (no rank given) counts; lint warns either way"
    )


def as_bases(value: LegalBasisInput | None) -> tuple[LegalBasis, ...]:
    """The bases of a row's ``legal_basis`` field, whatever its shape."""
    if value is None:
        return ()
    items: Sequence[str | LegalBasis] = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, LegalBasis):
            out.append(item)
        elif item.strip():
            out.append(LegalBasis(instrument=item.strip()))
    return tuple(out)


def bases_text(bases: Sequence[LegalBasis]) -> str:
    """The bases as one line, as a published list prints them."""
    return "；".join(b.text for b in bases)


def counts_on(basis: LegalBasis, day: date, row_start: date) -> bool:
    """Whether ``basis`` counts for a row on ``day``: not repealed by then, and in force by then
    unless it took effect on or before the row's own start ``row_start`` (lint checks that case:
    ``basis-not-in-force``)."""
    if basis.repealed_on is not None and day >= basis.repealed_on:
        return False
    return basis.effective_from is None or basis.effective_from <= row_start or basis.effective_from <= day


def dated(bases: Sequence[LegalBasis], row_start: date) -> bool:
    """Whether the bases that count for a row may differ from day to day (:func:`counts_on`)."""
    return any(
        b.repealed_on is not None or (b.effective_from is not None and b.effective_from > row_start) for b in bases
    )


def bases_on(bases: Sequence[LegalBasis], day: date, row_start: date) -> tuple[LegalBasis, ...]:
    """The bases that count on ``day`` (:func:`counts_on`)."""
    return tuple(b for b in bases if counts_on(b, day, row_start))


def sufficient(bases: Sequence[LegalBasis], policy: LegalBasisPolicy | None) -> bool:
    """Whether some basis has a sufficient rank (no policy: any basis suffices)."""
    if not bases:
        return False
    if policy is None:
        return True
    ranks = set(policy.sufficient_ranks)
    return any(b.rank in ranks if b.rank is not None else policy.unranked_sufficient for b in bases)


__all__ = [
    "LegalBasis",
    "LegalBasisInput",
    "LegalBasisPolicy",
    "LegalRank",
    "as_bases",
    "bases_on",
    "bases_text",
    "counts_on",
    "dated",
    "sufficient",
]
