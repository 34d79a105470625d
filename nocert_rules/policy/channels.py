"""How a verification request travels, and the check a unit makes itself when it fails
(附件2 第三条 and 第八条 in Zibo): the manifest's ``verification`` section.

::

    verification:
      channels_clause: 附件2 第三条
      channels:                               # ids are the mechanism, labels the ruleset's words
        - {id: application_system, label: “无证明城市应用系统”, label_en: the application system}
        - {id: on_site, label: 实地调查核验, label_en: on-site investigation}
        - {id: office_system, label: 协同办公系统, label_en: the office system, interim: true}
      default_channel: application_system
      interim_until: null                     # 在系统尚未完全运行前: last day interim channels may be used
      secret_risk_categories: [state_secrets, work_secrets]   # rows whose items involve secrets
      on_site_check:
        clause: 附件2 第八条
        methods:                              # the ways a unit checks for itself
          home_visit: 上门调查 / home visit
          site_inspection: 实地核查 / on-site inspection

An *interim* channel serves only until the system runs fully (``interim_until``; unset: no date
given, so allowed) and never for an item that involves secrets: a row with one of the
``secret_risk_categories``, or a request the host marks ``involves_secret``.
:func:`choose_channel` applies both and says why when it refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nocert_rules.policy.labels import BilingualLabel

__all__ = ["Channel", "ChannelChoice", "ChannelRefused", "OnSiteCheckPolicy", "VerificationPolicy", "choose_channel"]

_STRICT = ConfigDict(extra="forbid", frozen=True)


class Channel(BilingualLabel):
    """One way of exchanging a verification request and its answer."""

    model_config = _STRICT
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    interim: bool = Field(
        default=False, description="used only until the system runs fully, and never for items involving secrets"
    )


class OnSiteCheckPolicy(BaseModel):
    """The unit's own check when verification cannot obtain the certificate."""

    model_config = _STRICT
    clause: str
    methods: dict[str, str] = Field(min_length=1, description="method id -> 中文 / English label")


class VerificationPolicy(BaseModel):
    """Channels of verification, the secrecy exception, and the unit's own on-site check."""

    model_config = _STRICT
    channels_clause: str
    channels: list[Channel] = Field(min_length=1)
    default_channel: str
    interim_until: date | None = Field(
        default=None, description="last day interim channels may be used; unset: until further notice"
    )
    secret_risk_categories: list[str] = Field(
        default_factory=list, description="row risk categories that mean the item involves secrets"
    )
    on_site_check: OnSiteCheckPolicy | None = None

    @model_validator(mode="after")
    def _consistent(self) -> VerificationPolicy:
        ids = [c.id for c in self.channels]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"duplicate channel ids: {repeated}")
        if self.default_channel not in ids:
            raise ValueError(f"default_channel {self.default_channel!r} is not a channel id: {ids}")
        return self

    def channel(self, channel_id: str) -> Channel | None:
        return next((c for c in self.channels if c.id == channel_id), None)


@dataclass(frozen=True)
class ChannelChoice:
    channel: Channel
    involves_secret: bool
    note: str


class ChannelRefused(ValueError):
    """The channel may not carry this request (unknown, interim after the system runs, or an
    item involving secrets); the message says which and cites the clause."""


def choose_channel(
    policy: VerificationPolicy, channel_id: str | None, *, day: date, involves_secret: bool
) -> ChannelChoice:
    """The channel for a request on ``day`` (default: the policy's), or :class:`ChannelRefused`."""
    wanted = channel_id or policy.default_channel
    channel = policy.channel(wanted)
    clause = policy.channels_clause
    allowed = [c.id for c in policy.channels if not c.interim or not involves_secret]
    if channel is None:
        raise ChannelRefused(f"未知的核验渠道 {wanted!r}；可用 / unknown channel {wanted!r}; known: "
                             f"{[c.id for c in policy.channels]}")
    if channel.interim and involves_secret:
        raise ChannelRefused(
            f"涉及秘密事项，不得通过{channel.label}交换（{clause}）；可用：{allowed} / the item involves secrets: "
            f"{channel.label_en} may not carry it ({clause}); allowed: {allowed}"
        )
    if channel.interim and policy.interim_until is not None and day > policy.interim_until:
        raise ChannelRefused(
            f"{channel.label}仅在系统完全运行前使用（至 {policy.interim_until}）（{clause}） / {channel.label_en} "
            f"served only until {policy.interim_until} ({clause})"
        )
    if involves_secret:
        note = (f"涉及秘密事项：不采用过渡渠道，经{channel.label}核验（{clause}） / involves secrets: no interim "
                f"channel; verified through {channel.label_en} ({clause})")
    else:
        note = f"经{channel.label}核验（{clause}） / verified through {channel.label_en} ({clause})"
    return ChannelChoice(channel, involves_secret, note)
