"""Published list adjustments as dated row versions (附件3 第五条、第九条).

A ruleset may keep the adjustments the joint-meeting office has published in
``adjustments.yaml`` (or the file ``files.adjustments`` names)::

    adjustments:
      - id: TJ-2021-001
        type: change                 # add | change | cancel (新增 / 变更 / 取消)
        cause_on: 2021-06-21         # 调整事由发生之日: the pending window opens
        published_on: 2021-07-01     # 公布实施: the new version applies from this day
        basis: 《…》第…条 / the reason
        row: {…a whole list row…}    # add / change: the row as it applies from published_on
      - id: TJ-2021-002
        type: cancel
        service_item_code: "370300-GG-0009"
        certificate_id: ZM-CW-0007
        cause_on: …
        published_on: …
        basis: …

The loader turns each into row versions: the version in force on ``published_on`` ends the day
before, and the adjusted row (for ``cancel``: the same row marked abolished) applies from
``published_on``. Between ``cause_on`` and publication the adjustment is *pending*: decisions
for that row get the fact ``request.adjustment_pending`` (the ruleset's rule for 附件3 第九条 then
has the unit verify, never the applicant provide). ``records.adjustments.as_list_adjustment``
writes an approved application as such an entry.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nocert_rules.enums import RowStatus
from nocert_rules.policy import versions
from nocert_rules.policy.certificate_list import ListRow
from nocert_rules.policy.yaml_source import LocatedYaml

_STRICT = ConfigDict(extra="forbid", frozen=True)

ADJUSTMENTS_NAME = "adjustments.yaml"


class ListAdjustment(BaseModel):
    """One published adjustment of the list."""

    model_config = _STRICT
    id: str = Field(min_length=1)
    type: Literal["add", "change", "cancel"]
    cause_on: date = Field(description="调整事由发生之日：待公布期间由此开始 / the pending window opens")
    published_on: date = Field(description="公布实施之日")
    basis: str = Field(min_length=1, description="调整依据")
    service_item_code: str | None = None
    certificate_id: str | None = None
    row: ListRow | None = None

    @model_validator(mode="after")
    def _complete(self) -> ListAdjustment:
        if self.published_on < self.cause_on:
            raise ValueError("published_on is before cause_on / 公布日期早于调整事由发生之日")
        if self.type != "cancel" and self.row is None:
            raise ValueError(f"a {self.type} adjustment needs the row as it applies from published_on")
        if self.row is None and not (self.service_item_code and self.certificate_id):
            raise ValueError("name the row: service_item_code and certificate_id (or row)")
        if self.row is not None and (self.row.valid_from or self.row.valid_until):
            raise ValueError("the row's dates come from published_on: leave valid_from / valid_until unset")
        if self.row is not None and self.service_item_code and (
            (self.service_item_code, self.certificate_id) != self.row.key
        ):
            raise ValueError("service_item_code / certificate_id differ from the row's")
        return self

    @property
    def key(self) -> tuple[str, str]:
        if self.row is not None:
            return self.row.key
        assert self.service_item_code and self.certificate_id
        return (self.service_item_code, self.certificate_id)

    def pending_on(self, day: date) -> bool:
        """Between the cause and publication (附件3 第九条 第二款)."""
        return self.cause_on <= day < self.published_on


class AdjustmentFile(BaseModel):
    model_config = _STRICT
    adjustments: list[ListAdjustment] = Field(default_factory=list)


def _check_applies(doc: LocatedYaml, i: int, adj: ListAdjustment, out: list[ListRow], at: int | None) -> None:
    """The adjustment fits the list as it stands on its day: no later version of the row, an added
    row not yet listed, a changed or cancelled row in force."""
    day = adj.published_on
    later = [r for r in out if r.key == adj.key and r.valid_from is not None and r.valid_from > day]
    if later:
        raise doc.error(("adjustments", i), f"{adj.id}: the row already has a version from {later[0].valid_from}")
    if adj.type == "add" and at is not None:
        raise doc.error(("adjustments", i), f"{adj.id}: {adj.key[0]} / {adj.key[1]} is already listed on {day}; "
                                            "use type change / 已在清单中，应为变更")
    if adj.type != "add" and at is None:
        raise doc.error(("adjustments", i), f"{adj.id}: no row {adj.key[0]} / {adj.key[1]} in force on {day} "
                                            "to change or cancel / 清单中没有该行")


def apply_adjustments(rows: list[ListRow], adjustments: list[ListAdjustment], doc: LocatedYaml) -> list[ListRow]:
    """The rows with each adjustment applied as a dated version (file order of ``rows`` kept;
    the new versions follow). Raises ``RulesetError`` at the adjustment's line."""
    out = list(rows)
    order = sorted(range(len(adjustments)), key=lambda i: adjustments[i].published_on)
    for i in order:
        adj = adjustments[i]
        day = adj.published_on
        at = next((j for j, r in enumerate(out) if r.key == adj.key and versions.in_force(r, day)), None)
        _check_applies(doc, i, adj, out, at)
        until = None
        if at is not None:
            old = out[at]
            if old.valid_from is not None and old.valid_from >= day:
                raise doc.error(("adjustments", i), f"{adj.id}: the version in force starts on {old.valid_from}")
            until = old.valid_until
            out[at] = old.model_copy(update={"valid_until": day - timedelta(days=1)})
        if adj.type == "cancel":
            assert at is not None
            base = rows[at] if at < len(rows) else out[at]
            new = base.model_copy(update={"status": RowStatus.ABOLISHED, "methods": [], "valid_from": day,
                                          "valid_until": until, "note": f"{adj.id} 取消：{adj.basis}"})
        else:
            assert adj.row is not None
            new = adj.row.model_copy(update={"valid_from": day, "valid_until": until})
        out.append(new)
    return out


__all__ = ["ADJUSTMENTS_NAME", "AdjustmentFile", "ListAdjustment", "apply_adjustments"]
