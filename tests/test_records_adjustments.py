"""清单动态调整 applications (附件3 第六条–第九条) and the pending-adjustment flag."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from conftest import PERSON_ID

from nocert_rules import Engine, Method, Ruleset
from nocert_rules.models import SHANGHAI
from nocert_rules.records import RecordProblem, TransitionError
from nocert_rules.records.adjustments import (
    AdjustmentApplication,
    AdjustmentState,
    AdjustmentType,
    adjustment_warnings,
    pending_adjustment_for,
    publish,
    reject,
    submit_adjustment,
)
from nocert_rules.worktime.deadlines import adjustment_due

CAUSE_ON = date(2021, 5, 6)  # Thursday; 2021-05-08 (Saturday) was a 调休 working day
ITEM, CERT = "370300-JF-0006", "ZM-FY-0002"  # a row with no replacement method: only 干部代办


def submit(zibo: Ruleset, **kw: Any) -> AdjustmentApplication:
    args: dict[str, Any] = {
        "unit": "淄博市民政局",
        "applied_on": date(2021, 5, 10),
        "service_item": ITEM,
        "certificate": CERT,
        "type": "change",
        "method": "verification",
        "basis": "《某条例》修订",
        "cause": "change.method",
        "cause_on": CAUSE_ON,
        "record_id": "adj-1",
    }
    args.update(kw)
    return submit_adjustment(zibo, **args)


# ---------------------------------------------------------------- causes (第六条–第八条)


@pytest.mark.parametrize(
    ("cause", "clause", "kind"),
    [
        ("add.law", "附件3 第六条（一）", AdjustmentType.ADD),
        ("add.other", "附件3 第六条（五）", AdjustmentType.ADD),
        ("change.method", "附件3 第七条（四）", AdjustmentType.CHANGE),
        ("cancel.government_decision", "附件3 第八条（二）", AdjustmentType.CANCEL),
        ("cancel.other", "附件3 第八条（四）", AdjustmentType.CANCEL),
    ],
)
def test_causes_carry_article_and_item(zibo: Ruleset, cause: str, clause: str, kind: AdjustmentType) -> None:
    """The causes are the manifest's (records.adjustment_causes); the record keeps clause and label."""
    method = None if kind is AdjustmentType.CANCEL else "verification"
    app = submit(zibo, type=kind.value, cause=cause, method=method, cause_detail="说明")
    assert app.cause_clause == clause and app.cause_type is kind and app.cause_label


def test_each_article_has_its_items(zibo: Ruleset) -> None:
    causes = zibo.manifest.records.adjustment_causes
    items = {t: [c.item for c in causes if c.type == t] for t in ("add", "change", "cancel")}
    assert len(items["add"]) == 5 and len(items["change"]) == 5 and len(items["cancel"]) == 4
    assert [c.other for c in causes if c.type == "cancel"] == [False, False, False, True]


# ---------------------------------------------------------------- applications (第九条)


def test_valid_application(zibo: Ruleset) -> None:
    app = submit(zibo)
    assert app.state is AdjustmentState.SUBMITTED
    assert app.due_at == adjustment_due(CAUSE_ON, zibo.calendar, policy=zibo.deadline_policy).due_at
    assert app.due_clause == "附件3 第九条" and "市联席会议办公室" in app.due_rule
    assert app.due_at == datetime(2021, 5, 14, 17, 0, tzinfo=SHANGHAI)
    assert app.late is False and adjustment_warnings(zibo, app) == []


def test_last_day_is_on_time_and_the_next_is_late(zibo: Ruleset) -> None:
    assert submit(zibo, applied_on=date(2021, 5, 14)).late is False
    late = submit(zibo, applied_on=date(2021, 5, 17))
    assert late.late is True
    warnings = adjustment_warnings(zibo, late)
    assert len(warnings) == 1 and "附件3 第九条" in warnings[0] and "2021-05-14 17:00" in warnings[0]
    assert late.state is AdjustmentState.SUBMITTED  # flagged, not refused


@pytest.mark.parametrize(
    ("kw", "problem"),
    [
        ({"type": "add", "cause": "change.method"}, "第七条"),
        ({"type": "cancel", "cause": "add.law"}, "第六条"),
        ({"type": "change", "cause": "cancel.law"}, "第八条"),
        ({"cause": "change.other"}, "cause_detail"),
        ({"type": "add", "cause": "add.law", "method": None}, "method"),
        ({"method": "other"}, "method_detail"),
        ({"basis": "  "}, "basis"),
        ({"applied_on": date(2021, 5, 5)}, "before the cause"),
        ({"type": "swap"}, "type"),
        ({"cause": "add.whim"}, "cause"),
        ({"unit": ""}, "unit"),
    ],
)
def test_invalid_application_is_refused(zibo: Ruleset, kw: dict[str, Any], problem: str) -> None:
    with pytest.raises(RecordProblem, match=problem) as info:
        submit(zibo, **kw)
    assert "adj-1" in str(info.value)


def test_other_cause_with_detail_and_cancel_without_method(zibo: Ruleset) -> None:
    assert submit(zibo, cause="change.other", cause_detail="证明名称表述调整").cause_detail
    cancel = submit(zibo, type="cancel", cause="cancel.government_decision", method=None)
    assert cancel.method is None


def test_publish_and_reject(zibo: Ruleset) -> None:
    app = submit(zibo)
    published = publish(app, date(2021, 6, 30))
    assert published.state is AdjustmentState.PUBLISHED and published.published_on == date(2021, 6, 30)
    with pytest.raises(TransitionError):
        publish(published, date(2021, 7, 1))
    with pytest.raises(TransitionError):
        reject(published, date(2021, 7, 1), "不符合")
    with pytest.raises(RecordProblem, match="reason"):
        reject(app, date(2021, 6, 1), " ")
    rejected = reject(app, date(2021, 6, 1), "缺少法律依据")
    assert rejected.state is AdjustmentState.REJECTED
    with pytest.raises(TransitionError):
        publish(rejected, date(2021, 6, 30))
    with pytest.raises(RecordProblem, match="before the application"):
        publish(app, date(2021, 5, 9))


# ---------------------------------------------------------------- pending between cause and publication


def test_pending_window(zibo: Ruleset) -> None:
    apps = [publish(submit(zibo), date(2021, 6, 30))]
    assert not pending_adjustment_for(apps, ITEM, CERT, date(2021, 5, 5))
    assert pending_adjustment_for(apps, ITEM, CERT, date(2021, 5, 6))  # the cause's own day
    assert pending_adjustment_for(apps, ITEM, CERT, datetime(2021, 6, 29, 23, 0, tzinfo=SHANGHAI))
    assert not pending_adjustment_for(apps, ITEM, CERT, date(2021, 6, 30))  # published: the new list applies
    assert not pending_adjustment_for(apps, ITEM, "ZM-XX-0000", date(2021, 5, 20))
    assert not pending_adjustment_for(apps, "370300-XK-0001", CERT, date(2021, 5, 20))
    # a datetime is read in Asia/Shanghai: 2021-05-05 17:00 UTC is already 05-06 in Zibo
    assert pending_adjustment_for(apps, ITEM, CERT, datetime.fromisoformat("2021-05-05T17:00:00+00:00"))


def test_pending_ends_when_rejected_and_matches_by_name(zibo: Ruleset) -> None:
    apps = [reject(submit(zibo, certificate_name="诉讼情况证明"), date(2021, 6, 1), "不予调整")]
    assert pending_adjustment_for(apps, ITEM, "诉讼情况证明", date(2021, 5, 20))
    assert not pending_adjustment_for(apps, ITEM, CERT, date(2021, 6, 1))


def _request(row_item: str, row_cert: str, **kw: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "service_item": row_item,
        "certificate": row_cert,
        "applicant": {"kind": "person", "id_number": PERSON_ID, "credit": "untrustworthy"},
        "requested_at": "2021-05-20T10:00:00",
        "proxy_authorized": False,
        "sharing_online": False,
        "wants_pledge": False,
    }
    request.update(kw)
    return request


def test_pending_flag_never_lets_the_unit_ask_for_the_certificate(zibo: Ruleset, zibo_engine: Engine) -> None:
    """附件3 第九条 第二款: with adjustment_pending, applicant_must_submit is never True (proxy refused)."""
    asked_without_flag = 0
    for row in zibo.rows:
        without = zibo_engine.decide(_request(row.service_item_code, row.certificate_id))
        asked_without_flag += without.applicant_must_submit
        with_flag = zibo_engine.decide(_request(row.service_item_code, row.certificate_id, adjustment_pending=True))
        assert with_flag.applicant_must_submit is False, (row.service_item_code, row.certificate_id)
    assert asked_without_flag > 0  # the flag is what makes the difference


def test_helper_sets_the_flag_and_the_unit_verifies(zibo: Ruleset, zibo_engine: Engine) -> None:
    apps = [submit(zibo)]
    when = datetime(2021, 5, 20, 10, 0, tzinfo=SHANGHAI)
    flag = pending_adjustment_for(apps, ITEM, CERT, when)
    assert flag is True
    decision = zibo_engine.decide(_request(ITEM, CERT, adjustment_pending=flag))
    assert decision.method is Method.VERIFICATION and decision.applicant_must_submit is False
    assert any(s.rule_id == "adjustment.pending-unit-verifies" for s in decision.trace)


def test_a_noted_cause_owes_its_application_and_is_pending_until_applied(zibo: Ruleset) -> None:
    from nocert_rules.records.adjustments import CauseState, mark_applied, note_cause

    notice = note_cause(zibo, unit="淄博市民政局", service_item=ITEM, certificate=CERT, type="change",
                        cause="change.method", cause_on=CAUSE_ON, record_id="cause-1")
    expected = adjustment_due(CAUSE_ON, zibo.calendar, policy=zibo.deadline_policy)
    assert notice.state is CauseState.NOTED and notice.due_at == expected.due_at and notice.due_clause == "附件3 第九条"
    assert notice.cause_clause == "附件3 第七条（四）"
    assert pending_adjustment_for([notice], ITEM, CERT, CAUSE_ON)
    assert not pending_adjustment_for([notice], ITEM, CERT, date(2021, 5, 5))
    with pytest.raises(RecordProblem, match="not for this cause"):
        mark_applied(notice, submit(zibo, unit="淄博市卫生健康委员会"))
    applied = mark_applied(notice, submit(zibo))
    assert applied.state is CauseState.APPLIED and applied.application_id == "adj-1" and applied.late is False
    assert not pending_adjustment_for([applied], ITEM, CERT, date(2021, 5, 10))
    with pytest.raises(TransitionError):
        mark_applied(applied, submit(zibo))
    with pytest.raises(RecordProblem, match="unknown cause"):
        note_cause(zibo, unit="u", service_item=ITEM, certificate=CERT, type="change", cause="no.such", cause_on=CAUSE_ON)
