"""Verification channels, the secrecy exception (附件2 第三条) and the on-site check when verification
cannot obtain the certificate (附件2 第八条) — issue 13, finding 11."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import PERSON_ID, ZIBO

from nocert_rules import Decision, Engine, load_ruleset
from nocert_rules.models import SHANGHAI
from nocert_rules.records import RecordProblem, TransitionError
from nocert_rules.records.verification import (
    ChannelError,
    OfficerMissing,
    VerificationRequest,
    VerificationState,
    accept,
    answer,
    cannot_verify,
    check_use,
    conclude_on_site_check,
    open_verification,
    return_not_our_duty,
    start_on_site_check,
)

ITEM, CERT = "370300-QR-0002", "ZM-ZJ-0003"
UNIT = "淄博市行政审批服务局"
WHEN = "2021-05-06T10:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def decide(engine: Engine, **kw: Any) -> Decision:
    return engine.decide({
        "service_item": ITEM, "certificate": CERT, "requested_at": WHEN, "request_id": "case-1",
        "applicant": {"kind": "person", "id_number": PERSON_ID}, **kw,
    })


def opened(engine: Engine, **kw: Any) -> VerificationRequest:
    return open_verification(decide(engine), requesting_unit=UNIT, record_id="v-1", ruleset=engine.ruleset, **kw)


def copy_zibo(tmp_path: Path) -> Path:
    target = tmp_path / "zibo"
    shutil.copytree(ZIBO, target, ignore=shutil.ignore_patterns("tests"))
    return target


# ---------------------------------------------------------------- channels: 附件2 第三条


def test_the_request_records_its_channel_and_clause(zibo_engine: Engine) -> None:
    record = opened(zibo_engine)
    assert record.channel == "application_system" and record.channel_clause == "附件2 第三条"
    assert record.channel_label is not None and "无证明城市应用系统" in record.channel_label
    assert record.channel_note is not None and "附件2 第三条" in record.channel_note
    assert record.involves_secret is False
    assert VerificationRequest.model_validate_json(record.model_dump_json()) == record


def test_an_interim_channel_serves_an_ordinary_item(zibo_engine: Engine) -> None:
    record = opened(zibo_engine, channel="fax")
    assert record.channel == "fax" and record.channel_label == "传真 / fax"


def test_items_involving_secrets_never_use_an_interim_channel(zibo_engine: Engine) -> None:
    for channel in ("office_system", "fax", "official_email"):
        with pytest.raises(ChannelError) as info:
            opened(zibo_engine, channel=channel, involves_secret=True)
        assert "附件2 第三条" in str(info.value) and "application_system" in str(info.value)
    ok = opened(zibo_engine, involves_secret=True)
    assert ok.involves_secret and ok.channel == "application_system"
    assert ok.channel_note is not None and "秘密" in ok.channel_note
    site = opened(zibo_engine, channel="on_site", involves_secret=True)
    assert site.channel == "on_site"


def test_a_row_marked_as_involving_state_secrets_is_handled_so(tmp_path: Path) -> None:
    folder = copy_zibo(tmp_path)
    path = folder / "certificates.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    row = next(r for r in data["rows"] if (r["service_item_code"], r["certificate_id"]) == (ITEM, CERT))
    row["risk_categories"] = ["state_secrets"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    engine = Engine(load_ruleset(folder), backend="compiled")
    with pytest.raises(ChannelError):
        opened(engine, channel="official_email")
    record = opened(engine)
    assert record.involves_secret is True and record.channel == "application_system"


def test_interim_channels_end_when_the_ruleset_says_the_system_runs(tmp_path: Path) -> None:
    folder = copy_zibo(tmp_path)
    manifest = folder / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace("  default_channel: application_system\n",
                                     "  default_channel: application_system\n  interim_until: 2021-03-01\n", 1),
                        encoding="utf-8")
    engine = Engine(load_ruleset(folder), backend="compiled")
    with pytest.raises(ChannelError) as info:
        opened(engine, channel="fax")
    assert "2021-03-01" in str(info.value)
    assert opened(engine).channel == "application_system"


def test_unknown_channels_and_rulesets_without_channels(zibo_engine: Engine, tiny_engine: Engine) -> None:
    with pytest.raises(ChannelError):
        opened(zibo_engine, channel="carrier_pigeon")
    d = tiny_engine.decide({"service_item": "S1", "certificate": "verify", "requested_at": "2024-05-06T10:00",
                            "applicant": {"kind": "person", "id_number": PERSON_ID}})
    plain = open_verification(d, requesting_unit="某单位", ruleset=tiny_engine.ruleset)
    assert plain.channel is None and plain.channel_clause is None
    with pytest.raises(ChannelError):
        open_verification(d, requesting_unit="某单位", ruleset=tiny_engine.ruleset, channel="fax")


# ---------------------------------------------------------------- on-site check: 附件2 第八条


def test_on_site_check_after_a_return_cites_the_clause(zibo_engine: Engine) -> None:
    rs = zibo_engine.ruleset
    returned = return_not_our_duty(opened(zibo_engine), at("2021-05-06T10:10"), "不属于本单位职责 / not our duty")
    started = start_on_site_check(returned, "2021-05-07T09:00", method="site_inspection", ruleset=rs,
                                  officer_id="zb-u01-p1")
    assert started.state is VerificationState.ON_SITE_CHECK
    assert started.on_site is not None and started.on_site.clause == "附件2 第八条"
    assert started.on_site.method_label == "实地核查 / on-site inspection" and started.on_site.officer_id == "zb-u01-p1"
    assert started.events[-1].note is not None and "附件2 第八条" in started.events[-1].note
    with pytest.raises(RecordProblem):  # no facts yet
        check_use(started, ITEM)
    done = conclude_on_site_check(started, "2021-05-07T15:00", confirmed=True, note="现场核实一致")
    assert done.state is VerificationState.ON_SITE_CHECKED and done.on_site is not None
    assert done.on_site.outcome == "confirmed" and done.on_site.concluded_at == at("2021-05-07T15:00")
    check_use(done, ITEM)  # the facts found on site serve this service item only
    with pytest.raises(RecordProblem):
        check_use(done, "370300-XK-0001")
    assert VerificationRequest.model_validate_json(done.model_dump_json()) == done


def test_cannot_verify_needs_a_reason_and_opens_the_on_site_check(zibo_engine: Engine) -> None:
    accepted = accept(opened(zibo_engine), at("2021-05-06T10:05"))
    with pytest.raises(RecordProblem):
        cannot_verify(accepted, at("2021-05-06T11:00"), "  ")
    failed = cannot_verify(accepted, at("2021-05-06T11:00"), "档案遗失 / archive lost")
    assert failed.state is VerificationState.UNVERIFIABLE and failed.answered_late is False
    visit = start_on_site_check(failed, at("2021-05-06T14:00"), method="home_visit", ruleset=zibo_engine.ruleset)
    not_ok = conclude_on_site_check(visit, at("2021-05-06T16:00"), confirmed=False)
    assert not_ok.on_site is not None and not_ok.on_site.outcome == "not_confirmed"


def test_on_site_check_is_refused_where_the_clause_does_not_apply(zibo_engine: Engine) -> None:
    rs = zibo_engine.ruleset
    record = opened(zibo_engine)
    with pytest.raises(TransitionError):  # verification still under way
        start_on_site_check(record, at("2021-05-06T10:30"), method="home_visit", ruleset=rs)
    mismatched = answer(accept(record, at("2021-05-06T10:05")), at("2021-05-06T10:20"), matches=False)
    with pytest.raises(RecordProblem) as info:  # a mismatch is met with supplementary material
        start_on_site_check(mismatched, at("2021-05-06T10:30"), method="home_visit", ruleset=rs)
    assert "request_supplement" in str(info.value) and "附件2 第八条" in str(info.value)
    returned = return_not_our_duty(record, at("2021-05-06T10:10"), "不属于本单位职责")
    with pytest.raises(RecordProblem):
        start_on_site_check(returned, at("2021-05-06T10:30"), method="phone_call", ruleset=rs)
    with pytest.raises(OfficerMissing):
        start_on_site_check(returned, at("2021-05-06T10:30"), method="home_visit", ruleset=rs, officer_id="zb-u02-l1")


def test_a_stored_record_edited_into_nonsense_fails(zibo_engine: Engine) -> None:
    data = opened(zibo_engine).model_dump(mode="json")
    data["state"] = "on_site_checked"
    with pytest.raises(RecordProblem):
        VerificationRequest.model_validate(data)


def test_an_overdue_request_checked_on_site_stays_a_late_case(zibo_engine: Engine) -> None:
    from nocert_rules.records.accountability import cases_from_records
    from nocert_rules.records.verification import mark_overdue

    rs = zibo_engine.ruleset
    record = opened(zibo_engine)
    overdue = mark_overdue(record, at("2021-05-10T09:00"), rs)
    checked = conclude_on_site_check(
        start_on_site_check(overdue, at("2021-05-10T10:00"), method="home_visit", ruleset=rs),
        at("2021-05-10T15:00"), confirmed=True,
    )
    [case] = cases_from_records(rs, [("VerificationRequest", checked.model_dump(mode="json"))])
    assert case.kind == "late_verification" and case.unit == record.issuing_unit
    # a request returned in time and then checked on site is no case
    returned = return_not_our_duty(record, at("2021-05-06T10:10"), "不属于本单位职责")
    fine = start_on_site_check(returned, at("2021-05-06T11:00"), method="home_visit", ruleset=rs)
    assert cases_from_records(rs, [("VerificationRequest", fine.model_dump(mode="json"))]) == []


def test_a_district_inherits_its_citys_officers() -> None:
    district = load_ruleset(ZIBO.parent / "zibo-zhangdian")
    assert district.officers is not None and UNIT in district.officers.units
    engine = Engine(district, backend="compiled")
    assert opened(engine).started_by is not None
