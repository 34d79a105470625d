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
before the instrument's ``effective_from`` is a lint error.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
    note: str | None = None

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
    "bases_text",
    "sufficient",
]
