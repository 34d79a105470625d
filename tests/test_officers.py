"""Officers and roles (issue 13, finding 6): the officers file, its minimums in lint, the officer who
starts a verification request, and the proxy role (and officer on duty) of a PROXY decision."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import PERSON_ID, ZIBO

from nocert_rules import Decision, Engine, Method, Ruleset, RulesetError, load_ruleset
from nocert_rules.models import SHANGHAI
from nocert_rules.policy.officers import OfficerError
from nocert_rules.records.verification import OfficerMissing, open_verification
from nocert_rules.tools.lint import lint_ruleset

UNIT = "淄博市行政审批服务局"  # officers.yaml: liaison A absent 2021-05-10..14, proxy A absent 2021-05-10..11
VERIFY = ("370300-QR-0002", "ZM-ZJ-0003")
PROXY = ("370300-JF-0006", "ZM-FY-0002")


def sh(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def decide(engine: Engine, key: tuple[str, str], when: str = "2021-05-06T10:00", **kw: Any) -> Decision:
    request: dict[str, Any] = {
        "service_item": key[0],
        "certificate": key[1],
        "applicant": {"kind": "person", "id_number": PERSON_ID},
        "requested_at": when,
        **kw,
    }
    return engine.decide(request)


def copy_zibo(tmp_path: Path) -> Path:
    target = tmp_path / "zibo"
    shutil.copytree(ZIBO, target, ignore=shutil.ignore_patterns("tests"))
    return target


def edit_officers(folder: Path, text_from: str, text_to: str) -> None:
    path = folder / "officers.yaml"
    text = path.read_text(encoding="utf-8")
    assert text_from in text
    path.write_text(text.replace(text_from, text_to, 1), encoding="utf-8")


# ---------------------------------------------------------------- the file


def test_zibo_officers_file_is_loaded_by_convention_and_hashed(zibo: Ruleset) -> None:
    assert zibo.officers is not None and "officers.yaml" in zibo.files
    unit = zibo.officers.units[UNIT]
    assert {o.role for o in unit.officers} == {"liaison", "proxy"}
    req = zibo.officers.content.requirements
    assert req.clause == "附件2 第六条" and req.minimums == {"liaison": 1, "proxy": 2}
    # every issuing unit of a row that allows verification is in the file
    issuers = {r.issuer for r in zibo.rows if any(m.value == "verification" for m in r.methods)}
    assert issuers <= set(zibo.officers.units)


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("{id: zb-u02-l1, role: liaison, ab: A}", "{id: zb-u02-l1, name: 李四, role: liaison, ab: A}", "name"),
        ("{id: zb-u02-l1, role: liaison, ab: A}", "{id: 李四, role: liaison, ab: A}", "id"),
        ("{id: zb-u02-l1, role: liaison, ab: A}", "{id: '370399199001011231', role: liaison, ab: A}", "ID number"),
        ("{id: zb-u02-l1, role: liaison, ab: A}", "{id: zb-u02-l1, role: liaison, ab: C}", "ab"),
        ("{id: zb-u02-l1, role: liaison, ab: A}", "{id: zb-u02-l1, role: clerk, ab: A}", "unknown role"),
        ("{id: zb-u02-l1, role: liaison, ab: A}", "{id: zb-u01-l1, role: liaison, ab: A}", "duplicate officer id"),
        ("  clause: 附件2 第六条", "  clause: 附件2 第六十条", "unknown clause"),
    ],
)
def test_the_loader_refuses_names_id_numbers_and_bad_entries_at_file_line(
    tmp_path: Path, old: str, new: str, says: str
) -> None:
    folder = copy_zibo(tmp_path)
    edit_officers(folder, old, new)
    line = next(i for i, text in enumerate((folder / "officers.yaml").read_text(encoding="utf-8").splitlines(), 1)
                if new.strip() in text)
    with pytest.raises(RulesetError) as info:
        load_ruleset(folder)
    problem = info.value.problems[0]
    assert problem.file == "officers.yaml" and problem.line == line, info.value
    assert says.lower() in str(info.value).lower()
    assert "370399199001011231" not in str(info.value) and "李四" not in str(info.value)


# ---------------------------------------------------------------- lint: 附件2 第六条


def test_lint_reports_each_shortfall_with_unit_clause_and_line(tmp_path: Path) -> None:
    folder = copy_zibo(tmp_path)
    police = "淄博市公安局"
    text = (folder / "officers.yaml").read_text(encoding="utf-8")
    block_line = next(i for i, t in enumerate(text.splitlines(), 1) if t == f"  - unit: {police}")
    code = text.splitlines()[block_line + 1].split("zb-")[1].split("-")[0]  # that unit's officer prefix
    edit_officers(folder, f"      - {{id: zb-{code}-p2, role: proxy, ab: B}}\n", "")
    result = lint_ruleset(folder)
    gaps = [f for f in result.errors if f.code.startswith("officers-")]
    assert {f.code for f in gaps} == {"officers-below-minimum", "officers-no-ab-role"}
    for finding in gaps:
        assert police in finding.message and "附件2 第六条" in finding.message
        assert finding.file.endswith("officers.yaml") and finding.line == block_line


def test_lint_warns_about_an_issuing_unit_missing_from_the_file(tmp_path: Path) -> None:
    folder = copy_zibo(tmp_path)
    data = yaml.safe_load((folder / "officers.yaml").read_text(encoding="utf-8"))
    data["units"] = [u for u in data["units"] if u["unit"] != "淄博市律师协会"]
    (folder / "officers.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = lint_ruleset(folder)
    missing = [f for f in result.warnings if f.code == "officers-unit-missing"]
    assert len(missing) == 1 and "淄博市律师协会" in missing[0].message and "附件2 第六条" in missing[0].message
    assert not [f for f in result.errors if f.code.startswith("officers-")]


def test_zibo_lints_without_officer_findings() -> None:
    assert not [f for f in lint_ruleset(ZIBO).findings if f.code.startswith("officers-")]


# ---------------------------------------------------------------- verification: 附件2 第五条


def test_verification_request_carries_the_liaison_on_duty(zibo_engine: Engine) -> None:
    record = open_verification(decide(zibo_engine, VERIFY), requesting_unit=UNIT, ruleset=zibo_engine.ruleset)
    officer = record.started_by
    assert officer is not None and officer.unit == UNIT and officer.role == "liaison"
    assert (officer.officer_id, officer.ab) == ("zb-u01-l1", "A") and officer.note is None
    assert officer.role_label == "联络员 / liaison officer"
    assert officer.citation is not None and officer.citation.clause_id == "附件2 第五条"
    assert officer.duties is not None and officer.duties.clause_id == "附件2 第十条"
    assert record.warnings == ()


def test_the_b_role_stands_in_when_a_is_away(zibo_engine: Engine) -> None:
    away = decide(zibo_engine, VERIFY, when="2021-05-11T10:00")  # liaison A absent 2021-05-10..14
    record = open_verification(away, requesting_unit=UNIT, ruleset=zibo_engine.ruleset)
    assert record.started_by is not None and (record.started_by.officer_id, record.started_by.ab) == ("zb-u01-l2", "B")
    assert record.started_by.note and "B" in record.started_by.note
    # both liaisons away: a proxy officer starts it (联络员、代办员等工作人员)
    both = open_verification(away, requesting_unit=UNIT, ruleset=zibo_engine.ruleset, unavailable=["zb-u01-l2"])
    assert both.started_by is not None and both.started_by.role == "proxy"
    assert both.started_by.officer_id == "zb-u01-p2"  # proxy A absent 2021-05-10..11


def test_an_officer_may_be_named_and_is_checked(zibo_engine: Engine) -> None:
    d = decide(zibo_engine, VERIFY)
    named = open_verification(d, requesting_unit=UNIT, ruleset=zibo_engine.ruleset, started_by="zb-u01-p3")
    assert named.started_by is not None and named.started_by.officer_id == "zb-u01-p3"
    with pytest.raises(OfficerMissing):
        open_verification(d, requesting_unit=UNIT, ruleset=zibo_engine.ruleset, started_by="zb-u02-l1")
    with pytest.raises(OfficerMissing):  # away that day
        open_verification(decide(zibo_engine, VERIFY, when="2021-05-11T10:00"), requesting_unit=UNIT,
                          ruleset=zibo_engine.ruleset, started_by="zb-u01-l1")


def test_a_unit_without_officers_is_refused(zibo_engine: Engine) -> None:
    d = decide(zibo_engine, VERIFY)
    with pytest.raises(OfficerMissing) as info:
        open_verification(d, requesting_unit="淄博市某局", ruleset=zibo_engine.ruleset)
    assert "officers.yaml" in str(info.value)
    everyone = [o.id for o in zibo_engine.ruleset.officers.units[UNIT].officers]
    with pytest.raises(OfficerMissing):
        open_verification(d, requesting_unit=UNIT, ruleset=zibo_engine.ruleset, unavailable=everyone)


def test_without_an_officers_file_the_request_opens_with_a_warning(tiny_engine: Engine, zibo_engine: Engine) -> None:
    assert tiny_engine.ruleset.officers is None
    d = tiny_engine.decide({"service_item": "S1", "certificate": "verify",
                            "applicant": {"kind": "person", "id_number": PERSON_ID},
                            "requested_at": "2024-05-06T10:00"})
    assert d.method is Method.VERIFICATION
    record = open_verification(d, requesting_unit="某单位", ruleset=tiny_engine.ruleset)
    assert record.started_by is None and record.warnings and "officers" in record.warnings[0]
    # and without a ruleset at all, as before
    plain = open_verification(decide(zibo_engine, VERIFY), requesting_unit="某单位")
    assert plain.started_by is None and plain.warnings


# ---------------------------------------------------------------- PROXY: the role, and the officer on duty


def test_a_proxy_decision_names_the_role_from_the_ruleset(zibo_engine: Engine) -> None:
    d = decide(zibo_engine, PROXY, requesting_unit=UNIT)
    assert d.method is Method.PROXY and d.proxy_officer is not None
    assert d.proxy_officer.role == "proxy" and d.proxy_officer.role_label == "代办员 / proxy officer"
    assert d.proxy_officer.unit == UNIT and d.proxy_officer.officer_id is None  # not asked
    assert d.proxy_officer.citation is not None and d.proxy_officer.citation.clause_id == "三(三)3"
    assert Decision.model_validate_json(d.model_dump_json()) == d
    # other methods name no proxy officer
    assert decide(zibo_engine, VERIFY).proxy_officer is None


def test_the_host_asks_for_the_officer_on_duty_a_or_b(zibo_engine: Engine) -> None:
    d = decide(zibo_engine, PROXY, requesting_unit=UNIT)
    on_duty = zibo_engine.officer_on_duty(d).proxy_officer
    assert on_duty is not None and (on_duty.officer_id, on_duty.ab) == ("zb-u01-p1", "A")
    later = zibo_engine.officer_on_duty(d, sh("2021-05-11T09:30")).proxy_officer  # A absent: B
    assert later is not None and (later.officer_id, later.ab) == ("zb-u01-p2", "B")
    assert later.on_duty_at == sh("2021-05-11T09:30")
    marked = zibo_engine.officer_on_duty(d, unavailable=["zb-u01-p1", "zb-u01-p2"]).proxy_officer
    assert marked is not None and marked.officer_id == "zb-u01-p3"
    with pytest.raises(OfficerError):
        zibo_engine.officer_on_duty(d, unavailable=["zb-u01-p1", "zb-u01-p2", "zb-u01-p3"])
    with pytest.raises(OfficerError):  # the request named no unit
        zibo_engine.officer_on_duty(decide(zibo_engine, PROXY))
    other = zibo_engine.officer_on_duty(decide(zibo_engine, PROXY), unit="淄博市公安局").proxy_officer
    assert other is not None and other.unit == "淄博市公安局" and other.ab == "A"
    with pytest.raises(OfficerError):  # not a PROXY decision
        zibo_engine.officer_on_duty(decide(zibo_engine, VERIFY))


# ---------------------------------------------------------------- 附件2 第十条: duties, and accountability


def test_the_issuers_officer_is_recorded_and_named_in_a_late_case(zibo_engine: Engine) -> None:
    from nocert_rules.records.accountability import cases_from_records
    from nocert_rules.records.verification import accept, answer

    rs = zibo_engine.ruleset
    record = open_verification(decide(zibo_engine, VERIFY), requesting_unit=UNIT, record_id="v-9", ruleset=rs)
    issuer_officer = rs.officers.units[record.issuing_unit].officers[0].id
    with pytest.raises(OfficerMissing):  # an officer of another unit
        accept(record, sh("2021-05-06T10:05"), officer_id="zb-u01-l1", ruleset=rs)
    accepted = accept(record, sh("2021-05-06T10:05"), officer_id=issuer_officer, ruleset=rs)
    assert accepted.accepted_by == issuer_officer
    late = answer(accepted, sh("2021-05-12T10:00"), matches=True)
    assert late.answered_late
    [case] = cases_from_records(rs, [("VerificationRequest", late.model_dump(mode="json"))])
    assert case.kind == "late_verification" and case.unit == record.issuing_unit
    assert case.officers == [issuer_officer]
    assert case.duties is not None and case.duties.clause_id == "附件2 第十条"
    on_time = answer(accepted, sh("2021-05-06T11:00"), matches=True)
    assert cases_from_records(rs, [("VerificationRequest", on_time.model_dump(mode="json"))]) == []


def test_the_skeleton_ships_an_officers_file_that_works(tmp_path: Path) -> None:
    from nocert_rules.tools.init import init_ruleset

    folder = tmp_path / "new"
    init_ruleset(folder)
    rs = load_ruleset(folder)
    assert rs.officers is not None and "officers.yaml" in rs.files
    with Engine(rs, backend="compiled") as engine:
        d = engine.decide({"service_item": "EX-0001", "certificate": "EX-ZM-01", "requested_at": "2025-03-03T10:00",
                           "applicant": {"kind": "person", "id_number": PERSON_ID}, "wants_pledge": False})
    assert d.method is Method.VERIFICATION
    record = open_verification(d, requesting_unit="示例区行政审批服务局", ruleset=rs)
    assert record.started_by is not None and record.started_by.officer_id == "sl-01-l1"
    assert record.started_by.citation is not None and record.started_by.citation.clause_id == "第十七条"
    with pytest.raises(OfficerMissing):
        open_verification(d, requesting_unit="示例区行政审批服务局", ruleset=rs,
                          unavailable=["sl-01-l1", "sl-01-p1", "sl-01-p2"])
    text = (folder / "officers.yaml").read_text(encoding="utf-8")
    (folder / "officers.yaml").write_text(text.replace("      - {id: sl-02-p2, role: proxy, ab: B}\n", ""),
                                          encoding="utf-8")
    gaps = [f for f in lint_ruleset(folder).errors if f.code == "officers-below-minimum"]
    assert len(gaps) == 1 and "示例区住房和城乡建设局" in gaps[0].message and "第十七条" in gaps[0].message


def test_the_cli_summary_names_the_proxy_role(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from nocert_rules.cli.main import main

    path = tmp_path / "request.json"
    path.write_text(json.dumps({"service_item": PROXY[0], "certificate": PROXY[1], "requested_at": "2021-05-06T10:00",
                                "applicant": {"kind": "person", "id_number": PERSON_ID},
                                "requesting_unit": UNIT}), encoding="utf-8")
    result = CliRunner().invoke(main, ["decide", str(ZIBO), "--request", str(path)])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("代办人员 / Proxy officer"))
    assert UNIT in line and "代办员 / proxy officer" in line and "三(三)3" in line
