"""Strict request types (issue 11): times are text or datetimes, codes have length limits, and the
records API takes what decide() takes."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import PERSON_ID

from nocert_rules import Engine, RequestError
from nocert_rules.models import MAX_CERTIFICATE, MAX_CODE
from nocert_rules.records.verification import accept, open_verification

BASE: dict[str, Any] = {
    "service_item": "370300-QR-0002",
    "certificate": "ZM-ZJ-0003",
    "applicant": {"kind": "person", "id_number": PERSON_ID},
    "requested_at": "2021-05-06T10:00",
    "wants_pledge": False,
}


@pytest.mark.parametrize("value", [1620266400, 1620266400000, 1620266400.5, True])
def test_requested_at_as_a_number_is_refused_not_read_as_a_timestamp(zibo_engine: Engine, value: object) -> None:
    with pytest.raises(RequestError) as err:
        zibo_engine.decide({**BASE, "requested_at": value})
    assert [path for path, _ in err.value.errors] == ["requested_at"]
    assert str(value) not in str(err.value)


def test_requested_at_text_and_datetime_still_work(zibo_engine: Engine) -> None:
    from datetime import datetime

    by_text = zibo_engine.decide(BASE)
    by_datetime = zibo_engine.decide({**BASE, "requested_at": datetime(2021, 5, 6, 10, 0)})
    assert by_text.requested_at == by_datetime.requested_at


@pytest.mark.parametrize(("field", "limit"), [("service_item", MAX_CODE), ("certificate", MAX_CERTIFICATE)])
def test_codes_longer_than_the_limit_are_refused_and_not_echoed(zibo_engine: Engine, field: str, limit: int) -> None:
    zibo_engine.decide({**BASE, field: "Q" * limit})  # at the limit: decided (unknown code, abolished)
    huge = "Q" * (10 * 2**20)
    with pytest.raises(RequestError) as err:
        zibo_engine.decide({**BASE, field: huge})
    assert [path for path, _ in err.value.errors] == [field]
    assert "QQQQ" not in str(err.value)


def test_records_take_iso_text_like_decide(zibo_engine: Engine) -> None:
    decision = zibo_engine.decide({**BASE, "certificate": "ZM-ZJ-0003"})
    record = open_verification(decision, requesting_unit="淄博市行政审批服务局", record_id="v-1", ruleset=zibo_engine.ruleset)
    accepted = accept(record, "2021-05-06T10:05")
    assert accepted.accepted_at is not None and accepted.accepted_at.isoformat() == "2021-05-06T10:05:00+08:00"
    with pytest.raises(RequestError):
        accept(record, 1620266700)
    with pytest.raises(RequestError):
        accept(record, "2021-05-06")
