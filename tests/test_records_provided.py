"""申请人自行提供 records (附件2 第九条): accepted and recorded, never refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from conftest import PERSON_ID

from nocert_rules import Decision, Engine, Method
from nocert_rules.models import SHANGHAI
from nocert_rules.records import RecordProblem
from nocert_rules.records.provided import ProvidedDocument, record_provided

WHEN = "2021-05-06T10:00:00"
LATER = datetime(2021, 5, 6, 10, 20, tzinfo=SHANGHAI)


def decide(engine: Engine, item: str, cert: str, **kw: Any) -> Decision:
    request: dict[str, Any] = {
        "service_item": item,
        "certificate": cert,
        "applicant": {"kind": "person", "id_number": PERSON_ID},
        "requested_at": WHEN,
        "request_id": "case-9",
    }
    request.update(kw)
    return engine.decide(request)


def test_voluntary_offer_is_recorded(zibo_engine: Engine) -> None:
    decision = decide(zibo_engine, "370300-QR-0002", "ZM-ZJ-0003", provides_certificate=True)
    assert decision.method is Method.APPLICANT_PROVIDED
    record = record_provided(decision, received_by="市行政审批服务局", at=LATER, description="不动产权证书原件")
    assert record.status == "accepted"
    assert record.voluntary is True
    assert record.basis is not None and record.basis.clause_id == "附件2 第九条"
    assert record.certificate_id == "ZM-ZJ-0003" and record.request_id == "case-9"
    assert PERSON_ID not in record.model_dump_json()


def test_fallback_submission_is_recorded_as_not_voluntary(zibo_engine: Engine) -> None:
    decision = decide(zibo_engine, "370300-JF-0006", "ZM-FY-0002", proxy_authorized=False)
    assert decision.method is Method.APPLICANT_PROVIDED and decision.applicant_must_submit is True
    record = record_provided(decision, received_by="市行政审批服务局", at=LATER)
    assert record.voluntary is False
    assert record.basis is not None and record.basis.clause_id == "三(三)3"


def test_only_from_an_applicant_provided_decision(zibo_engine: Engine) -> None:
    decision = decide(zibo_engine, "370300-QR-0002", "ZM-ZJ-0003")
    assert decision.method is Method.VERIFICATION
    with pytest.raises(RecordProblem, match="not APPLICANT_PROVIDED"):
        record_provided(decision, received_by="市行政审批服务局", at=LATER)


@pytest.mark.parametrize(
    ("kw", "problem"),
    [
        ({"received_by": " "}, "received_by"),
        ({"at": datetime(2021, 5, 6, 9, 0, tzinfo=SHANGHAI)}, "before the decision"),
    ],
)
def test_invalid_records_are_refused(zibo_engine: Engine, kw: dict[str, Any], problem: str) -> None:
    decision = decide(zibo_engine, "370300-QR-0002", "ZM-ZJ-0003", provides_certificate=True)
    args: dict[str, Any] = {"received_by": "市行政审批服务局", "at": LATER}
    args.update(kw)
    with pytest.raises(RecordProblem, match=problem):
        record_provided(decision, **args)


def test_there_is_no_refused_state(zibo_engine: Engine) -> None:
    decision = decide(zibo_engine, "370300-QR-0002", "ZM-ZJ-0003", provides_certificate=True)
    record = record_provided(decision, received_by="市行政审批服务局", at=LATER)
    data = record.model_dump(mode="json")
    data["status"] = "refused"
    with pytest.raises(RecordProblem, match="status"):
        ProvidedDocument.model_validate(data)
    assert ProvidedDocument.model_validate_json(record.model_dump_json()) == record
