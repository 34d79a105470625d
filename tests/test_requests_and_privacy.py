"""Issue #2 h (no personal data in clear) and i (typed validation errors), plus the Decision contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import ORG_ID, PERSON_ID, VALID_PERSON_ID

from nocert_rules import Decision, DecisionRequest, Engine, Method, RequestError

GOOD: dict[str, Any] = {
    "service_item": "370300-QR-0002",
    "certificate": "ZM-ZJ-0003",
    "applicant": {"kind": "person", "id_number": PERSON_ID, "name": "张三丰", "credit": "normal"},
    "requested_at": "2021-05-06T10:00:00",
}


def with_(path: str, value: Any) -> dict[str, Any]:
    import copy

    data = copy.deepcopy(GOOD)
    target = data
    *parents, last = path.split(".")
    for p in parents:
        target = target[p]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return data


# ---------------------------------------------------------------- i. malformed requests


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (with_("applicant", KeyError), "applicant"),
        (with_("service_item", KeyError), "service_item"),
        (with_("requested_at", KeyError), "requested_at"),
        (with_("wants_pledge", "maybe"), "wants_pledge"),
        (with_("applicant.credit", "excellent"), "applicant.credit"),
        (with_("applicant.kind", "robot"), "applicant.kind"),
        (with_("requested_at", "next tuesday"), "requested_at"),
        (with_("requested_at", "2021-02-30T10:00"), "requested_at"),
        (with_("applicant.blacklisted_since", "yesterday"), "applicant.blacklisted_since"),
        (with_("applicant", "someone"), "applicant"),
        (with_("applicant.id_number", 12345), "applicant.id_number"),
        (with_("applicant.id_number", "   "), "applicant.id_number"),
        (with_("certificat", "typo"), "certificat"),
        (with_("service_item", None), "service_item"),
    ],
)
def test_i_malformed_request_names_the_field(zibo_engine: Engine, data: dict[str, Any], field: str) -> None:
    with pytest.raises(RequestError) as info:
        zibo_engine.decide(data)
    assert field in [path for path, _ in info.value.errors]
    assert field in str(info.value)


@pytest.mark.parametrize("data", [None, [], "request", 42])
def test_i_non_object_request_is_a_request_error(zibo_engine: Engine, data: Any) -> None:
    with pytest.raises(RequestError):
        zibo_engine.decide(data)


def test_i_error_message_never_echoes_the_id_number(zibo_engine: Engine) -> None:
    with pytest.raises(RequestError) as info:
        zibo_engine.decide(with_("applicant.kind", PERSON_ID))
    assert PERSON_ID not in str(info.value)


def test_request_accepts_model_and_dict_alike(zibo_engine: Engine) -> None:
    model = DecisionRequest.model_validate(GOOD)
    assert zibo_engine.decide(model) == zibo_engine.decide(GOOD)


def test_naive_time_means_shanghai_and_aware_is_converted(zibo_engine: Engine) -> None:
    naive = zibo_engine.decide(GOOD)
    utc = zibo_engine.decide(with_("requested_at", "2021-05-06T02:00:00Z"))
    assert naive.requested_at == utc.requested_at
    assert naive.requested_at.utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]
    assert naive.deadline == utc.deadline


# ---------------------------------------------------------------- h. no personal data in clear


@pytest.mark.parametrize("kind,id_number", [("person", PERSON_ID), ("organization", ORG_ID)])
def test_h_id_number_is_masked_everywhere(zibo_engine: Engine, kind: str, id_number: str) -> None:
    data = with_("applicant", {"kind": kind, "id_number": id_number, "name": "张三丰"})
    for extra in ({}, {"provides_certificate": True}, {"certificate": "ZM-XX-0000"}):
        decision = zibo_engine.decide({**data, **extra})
        dumped = decision.model_dump_json()
        assert id_number not in dumped
        assert id_number not in repr(decision) and id_number not in str(decision)
        assert "张三丰" not in dumped
        assert decision.applicant.id_masked.startswith(id_number[:3])
        assert decision.applicant.id_masked.endswith(id_number[-2:])
        assert "*" * 10 in decision.applicant.id_masked
    assert id_number not in repr(DecisionRequest.model_validate(data))


# ---------------------------------------------------------------- the Decision contract


def test_decision_round_trips_through_json(zibo_engine: Engine) -> None:
    for extra in ({}, {"certificate": "ZM-CW-0008", "service_item": "370300-XK-0013"}):
        decision = zibo_engine.decide({**GOOD, **extra})
        again = Decision.model_validate_json(decision.model_dump_json())
        assert again == decision


def test_decision_records_the_ruleset_hash(zibo_engine: Engine) -> None:
    decision = zibo_engine.decide(GOOD)
    assert decision.ruleset.sha256 == zibo_engine.ruleset.sha256
    assert decision.ruleset.name == "zibo" and decision.ruleset.version == zibo_engine.ruleset.version
    assert len(decision.ruleset.sha256) == 64


def test_expired_ruleset_still_decides_with_a_warning(zibo_engine: Engine) -> None:
    before = zibo_engine.decide(GOOD)
    after = zibo_engine.decide(with_("requested_at", "2023-03-01T10:00"))
    assert not any("expired" in w for w in before.warnings)
    assert after.method is Method.VERIFICATION
    assert any("expired ruleset" in w and "2022-02-01" in w for w in after.warnings)


def test_ruleset_not_yet_in_force_warns(zibo_engine: Engine) -> None:
    decision = zibo_engine.decide(with_("requested_at", "2020-12-01T10:00"))
    assert any("not yet in force" in w for w in decision.warnings)


def test_unknown_calendar_year_warning_reaches_the_decision(zibo_engine: Engine) -> None:
    decision = zibo_engine.decide(with_("requested_at", "2027-03-01T10:00"))
    assert decision.deadline is not None
    assert any("2027" in w for w in decision.deadline.warnings)
    assert any("2027" in w for w in decision.warnings)


def test_adjustment_pending_never_asks_the_applicant(zibo_engine: Engine) -> None:
    data = {**GOOD, "service_item": "370300-JF-0006", "certificate": "ZM-FY-0002", "proxy_authorized": False}
    assert zibo_engine.decide(data).applicant_must_submit is True
    pending = zibo_engine.decide({**data, "adjustment_pending": True})
    assert pending.applicant_must_submit is False
    assert pending.method is Method.VERIFICATION
    assert "adjustment.pending-unit-verifies" in [s.rule_id for s in pending.trace]


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59", "0001-01-01T00:00:00+14:00", "1900-01-01T10:00"])
def test_i_implausible_request_time_is_a_request_error(zibo_engine: Engine, when: str) -> None:
    with pytest.raises(RequestError) as info:
        zibo_engine.decide(with_("requested_at", when))
    assert [path for path, _ in info.value.errors] == ["requested_at"]


HIDDEN_VALID = [
    VALID_PERSON_ID,
    f"case-{VALID_PERSON_ID}",
    f"C{VALID_PERSON_ID}",
    "370399 19900101 1231",
    "３７０３９９１９９００１０１１２３１",
    "".join(chr(0x0660 + int(c)) for c in VALID_PERSON_ID),  # Arabic-Indic digits
    "3703\u200b9919900101\u200d1231",
    "370399900101123",  # the old 15-digit form
]


@pytest.mark.parametrize("field", ["request_id", "requesting_unit", "service_item", "certificate"])
@pytest.mark.parametrize("value", HIDDEN_VALID)
def test_h_host_references_may_not_smuggle_an_id_number(zibo_engine: Engine, field: str, value: str) -> None:
    with pytest.raises(RequestError) as info:
        zibo_engine.decide({**GOOD, field: value})
    assert [path for path, _ in info.value.errors] == [field]
    assert value not in str(info.value) and VALID_PERSON_ID not in str(info.value)


@pytest.mark.parametrize("field", ["request_id", "requesting_unit"])
@pytest.mark.parametrize(
    "value",
    [PERSON_ID, f"C{PERSON_ID}", "370399 19900101 1234", "３７０３９９１９９００１０１１２３４", "3703\u200b99199001011234"],
)
def test_h_a_wrong_check_digit_is_not_refused_but_masked(zibo_engine: Engine, field: str, value: str) -> None:
    decision = zibo_engine.decide({**GOOD, field: value})
    dumped = decision.model_dump_json()
    assert PERSON_ID not in dumped and "19900101" not in dumped and "１９９０" not in dumped
    if field == "request_id":
        assert decision.request_id is not None and "370*" in decision.request_id


@pytest.mark.parametrize("field", ["request_id", "requesting_unit"])
@pytest.mark.parametrize("value", [ORG_ID, "91370300MA3C12346N", "123711199001012109"])
def test_h_credit_codes_are_never_refused(zibo_engine: Engine, field: str, value: str) -> None:
    # 123711199001012109 is both a valid credit code and ID-shaped with a valid check: a credit code wins.
    zibo_engine.decide({**GOOD, field: value})


def test_h_ordinary_host_references_pass_through(zibo_engine: Engine) -> None:
    decision = zibo_engine.decide({**GOOD, "request_id": "2021-000123", "requesting_unit": "张店区行政审批服务局"})
    assert decision.request_id == "2021-000123"


def test_unknown_service_item_warns_and_codes_are_stripped(zibo_engine: Engine) -> None:
    padded = zibo_engine.decide({**GOOD, "service_item": " 370300-QR-0002 "})
    assert padded.method is Method.VERIFICATION and padded.service_item == "370300-QR-0002"
    typo = zibo_engine.decide({**GOOD, "service_item": "370300-QR-9999"})
    assert typo.method is Method.ABOLISH
    assert any("370300-QR-9999" in w and "no row in the list" in w for w in typo.warnings)
    unlisted = zibo_engine.decide({**GOOD, "certificate": "ZM-XX-0000"})
    assert not any("no row in the list" in w for w in unlisted.warnings)
    with pytest.raises(RequestError):
        zibo_engine.decide({**GOOD, "service_item": "   "})


@pytest.mark.parametrize("field", ["certificate", "service_item"])
def test_h_codes_may_not_carry_an_id_number(zibo_engine: Engine, field: str) -> None:
    with pytest.raises(RequestError) as info:
        zibo_engine.decide({**GOOD, field: VALID_PERSON_ID})
    assert VALID_PERSON_ID not in str(info.value)
    masked = zibo_engine.decide({**GOOD, field: PERSON_ID})  # wrong check digit: masked, not refused
    assert PERSON_ID not in masked.model_dump_json()


IMPLEMENTATION_CODE = "11370300004188209X4370111001001000"  # credit code + item code (实施编码)


def test_national_implementation_code_and_credit_code_certificate_are_decided(tmp_path: Path) -> None:
    from ruleset_factory import row, write_ruleset

    from nocert_rules import load_ruleset

    rows = [
        row(IMPLEMENTATION_CODE, "share", methods=["data_sharing"], sharing_source="库"),
        row("S1", "91370300MA3C12346N", methods=["verification"]),
        row("S1", "123711199001012109", methods=["verification"]),
    ]
    engine = Engine(load_ruleset(write_ruleset(tmp_path / "rs", rows=rows)))
    try:
        base = {"applicant": {"kind": "person", "id_number": PERSON_ID}, "requested_at": "2024-06-03T10:00:00"}
        d = engine.decide({**base, "service_item": IMPLEMENTATION_CODE, "certificate": "share"})
        assert d.listed and d.method is Method.DATA_SHARING and d.service_item == IMPLEMENTATION_CODE
        for cert in ("91370300MA3C12346N", "123711199001012109"):
            d = engine.decide({**base, "service_item": "S1", "certificate": cert})
            assert d.listed and d.method is Method.VERIFICATION and d.certificate == cert
    finally:
        engine.close()


def test_h_unknown_key_that_is_an_id_number_is_masked_in_the_error(zibo_engine: Engine) -> None:
    bad = {**GOOD, "applicant": {**GOOD["applicant"], PERSON_ID: 1}, "370399850101123": 2}
    with pytest.raises(RequestError) as info:
        zibo_engine.decide(bad)
    assert PERSON_ID not in str(info.value) and "370399850101123" not in str(info.value)
    assert len(info.value.errors) == 2
