"""``certificates.yaml``: the list (《证明事项免提交清单》), one row per (service item, certificate).

The schema only; dated versions of a row are ``policy/versions.py``, legal bases ``policy/legal_basis.py``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from nocert_rules.enums import RecordKind, ReplacementMethod, RowStatus
from nocert_rules.policy import versions
from nocert_rules.policy.legal_basis import LegalBasis, LegalBasisInput, as_bases, bases_text
from nocert_rules.policy.manifest import TimeLimit
from nocert_rules.policy.strict import STRICT as _STRICT

# ---------------------------------------------------------------- certificates.yaml


class RowLimit(TimeLimit):
    """A statutory procedure's own time limit for this certificate (三(三)3), with its basis,
    in force from ``valid_from`` to ``valid_until`` (inclusive; open when unset)."""

    basis: str = Field(min_length=1)
    valid_from: date | None = None
    valid_until: date | None = None

    @model_validator(mode="after")
    def _window(self) -> RowLimit:
        versions.check_window(self.valid_from, self.valid_until)
        return self


class ListRow(BaseModel):
    """One row of 《证明事项免提交清单》: a certificate a service item needs (三(一)1-2)."""

    model_config = _STRICT
    service_item_code: str = Field(min_length=1)
    service_item_name: str = Field(min_length=1)
    certificate_id: str = Field(min_length=1)
    certificate_name: str = Field(min_length=1)
    legal_basis: LegalBasisInput | None = None
    issuer: str = Field(min_length=1)
    issuer_department: str = Field(min_length=1)
    methods: list[ReplacementMethod] = Field(default_factory=list)
    sharing_source: str | None = None
    records: RecordKind
    risk_categories: list[str] = Field(default_factory=list)
    status: RowStatus
    verification_limit: RowLimit | list[RowLimit] | None = None
    valid_from: date | None = Field(default=None, description="this version is in force from (inclusive)")
    valid_until: date | None = Field(default=None, description="this version is in force until (inclusive)")
    note: str | None = None
    on_the_spot: bool = Field(
        default=False, description="即办件: the service item is decided at the counter (manifest on_the_spot)"
    )

    @field_validator("legal_basis", "sharing_source", "note")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, list):
            return value or None
        return value.strip() or None if isinstance(value, str) else value

    @model_validator(mode="after")
    def _windows(self) -> ListRow:
        versions.check_window(self.valid_from, self.valid_until)
        clash = versions.first_overlap(self.limits)
        if clash is not None:
            raise ValueError(
                f"verification_limit[{clash[0]}] and verification_limit[{clash[1]}] are in force on the "
                "same day / 两个法定时限的有效期重叠"
            )
        return self

    @field_validator("methods")
    @classmethod
    def _no_repeats(cls, value: list[ReplacementMethod]) -> list[ReplacementMethod]:
        if len(set(value)) != len(value):
            raise ValueError("a method is listed twice")
        return value

    @model_validator(mode="after")
    def _sharing_needs_source(self) -> ListRow:
        if ReplacementMethod.DATA_SHARING in self.methods and not self.sharing_source:
            raise ValueError("data_sharing is allowed but sharing_source is empty")
        return self

    @property
    def key(self) -> tuple[str, str]:
        return (self.service_item_code, self.certificate_id)

    @property
    def bases(self) -> tuple[LegalBasis, ...]:
        """The row's legal bases, typed (a plain string is one unranked basis)."""
        return as_bases(self.legal_basis)

    @property
    def legal_basis_text(self) -> str | None:
        """The bases as one line (``None`` when there is none)."""
        return bases_text(self.bases) or None

    @property
    def has_legal_basis(self) -> bool:
        return bool(self.bases)

    @property
    def limits(self) -> tuple[RowLimit, ...]:
        value = self.verification_limit
        return () if value is None else tuple(value) if isinstance(value, list) else (value,)

    def limit_at(self, day: date | None) -> RowLimit | None:
        """The statutory limit in force on ``day`` (without a day: the latest one)."""
        limits = self.limits
        if not limits:
            return None
        if day is None:
            return versions.latest(limits)
        return versions.at(limits, day)

    @property
    def version(self) -> str:
        """This version's window, ``2021-09-01..`` (``always`` when undated)."""
        return versions.window_text(self)


class CertificateList(BaseModel):
    model_config = _STRICT
    rows: list[ListRow]

