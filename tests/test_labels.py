"""Roles and channels show their ruleset names one way (policy/labels.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nocert_rules.policy.channels import Channel
from nocert_rules.policy.officers import RoleLabel


@pytest.mark.parametrize("model, extra", [(RoleLabel, {"clause": "x"}), (Channel, {"id": "office-system"})])
def test_a_label_is_chinese_then_english_and_both_are_required(model: type, extra: dict[str, str]) -> None:
    assert model(label="联络员", label_en="liaison officer", **extra).text == "联络员 / liaison officer"
    with pytest.raises(ValidationError):
        model(label="联络员", label_en="", **extra)
    with pytest.raises(ValidationError):
        model(label="联络员", **extra)
