"""A name as outputs show it: Chinese first, English beside it (roles, channels, ...)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BilingualLabel"]


class BilingualLabel(BaseModel):
    """``label`` / ``label_en`` from the ruleset; ``text`` is how outputs show them."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str = Field(min_length=1, description="中文名称 / the Chinese name, e.g. 联络员")
    label_en: str = Field(min_length=1, description="English name, e.g. liaison officer")

    @property
    def text(self) -> str:
        return f"{self.label} / {self.label_en}"
