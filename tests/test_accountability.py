"""Issue 13, finding 5: 附件5 第四条 cases derived from records and findings, 第八条 exemptions."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import PERSON_ID, ZIBO

from nocert_rules import Applicant, Engine, Ruleset, load_ruleset
from nocert_rules.cli.main import main
from nocert_rules.errors import RulesetError
from nocert_rules.models import SHANGHAI
from nocert_rules.records.accountability import (
    AccountabilityError,
    applied_method_cases,
    cases_from_records,
    exempt,
    read_records,
)
from nocert_rules.records.pledge import open_pledge, record_post_check
from nocert_rules.records.verification import accept, answer, open_verification

KEY = b"accountability-test-key-012345678"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def late_verification(engine: Engine) -> object:
    d = engine.decide({"service_item": "370300-QR-0002", "certificate": "ZM-ZJ-0003", "requested_at": "2021-05-06T10:00:00",
                       "applicant": {"kind": "person", "id_number": PERSON_ID}})
    v = open_verification(d, requesting_unit="淄博市行政审批服务局", record_id="v-1", ruleset=engine.ruleset)
    v = accept(v, at("2021-05-06T10:05:00"))
    return answer(v, at("2021-05-20T10:00:00"), matches=True)


def late_pledge(zibo: Ruleset) -> object:
    with Engine(zibo, key=KEY) as keyed:
        d = keyed.decide({"service_item": "370300-XK-0013", "certificate": "ZM-CW-0008", "requested_at": "2021-05-06T10:00:00",
                          "applicant": {"kind": "person", "id_number": PERSON_ID}, "wants_pledge": True})
    p = open_pledge(d, Applicant(kind="person", id_number=PERSON_ID), KEY, record_id="p-1")
    return record_post_check(p, "passed", at("2021-12-01T10:00:00")).pledge


def test_late_records_become_cases_citing_the_clause(zibo: Ruleset, zibo_engine: Engine) -> None:
    v, p = late_verification(zibo_engine), late_pledge(zibo)
    pairs = [("VerificationRequest", v.model_dump(mode="json")), ("PledgeRecord", p.model_dump(mode="json")),
             ("Complaint", {"id": "c-1", "concluded_late": True, "units": ["市民政局"], "due_at": "2021-05-13T17:00:00+08:00"}),
             ("AdjustmentApplication", {"id": "a-1", "late": True, "unit": "市卫生健康委"})]
    cases = {c.kind: c for c in cases_from_records(zibo, pairs)}
    assert set(cases) == {"late_verification", "pledge_not_checked", "other_serious"}
    lv = cases["late_verification"]
    assert lv.item == "（三）" and lv.unit == v.issuing_unit and lv.citation.clause_id == "附件5 第四条"
    assert "未在规定时间内完成部门核验" in lv.citation.text
    assert cases["pledge_not_checked"].item == "（五）"
    assert cases["other_serious"].candidate is True
    # an on-time verification is no case
    assert cases_from_records(zibo, [("VerificationRequest", {**v.model_dump(mode="json"), "answered_late": False,
                                                              "state": "matched"})]) == []


def test_methods_the_list_does_not_allow(zibo: Ruleset) -> None:
    cases = applied_method_cases(zibo, [
        {"service_item": "370300-XK-0001", "certificate": "ZM-SJ-0001", "method": "PLEDGE", "unit": "市市场监管局"},
        {"service_item": "370300-XK-0001", "certificate": "ZM-SJ-0001", "method": "DATA_SHARING", "unit": "市市场监管局"},
        {"service_item": "370300-JF-0001", "certificate": "ZM-MZ-0001", "method": "PROXY", "unit": "市民政局"},
    ])
    assert [(c.kind, c.item) for c in cases] == [("method_changed", "（二）"), ("unauthorised_request", "（一）")]


def test_exemptions_cite_article_eight(zibo: Ruleset, zibo_engine: Engine) -> None:
    (case,) = cases_from_records(zibo, [("VerificationRequest", late_verification(zibo_engine).model_dump(mode="json"))])
    marked = exempt(zibo, case, "（四）", "主动挽回损失", at("2021-06-01T10:00:00"))
    assert marked.exemption is not None and marked.exemption.citation.clause_id == "附件5 第八条"
    assert "主动挽回损失" in marked.exemption.citation.text
    with pytest.raises(AccountabilityError, match="unknown exemption"):
        exempt(zibo, case, "（九）", "x", at("2021-06-01T10:00:00"))


def test_cli_report_over_a_records_export(tmp_path: Path, zibo_engine: Engine) -> None:
    export = tmp_path / "records.jsonl"
    v = late_verification(zibo_engine)
    lines = [{"record_type": "VerificationRequest", **v.model_dump(mode="json")},
             {"record": {"kind": "AppliedMethod", "outcome": {"service_item": "370300-XK-0001", "certificate": "ZM-SJ-0001",
                                                               "method": "PLEDGE", "unit": "窗口"}}}]
    export.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    assert len(list(read_records(export))) == 2
    result = CliRunner().invoke(main, ["accountability", str(ZIBO), str(export), "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["count"] == 2 and {c["kind"] for c in data["cases"]} == {"late_verification", "method_changed"}
    human = CliRunner().invoke(main, ["accountability", str(ZIBO), str(export)])
    assert "附件5 第四条（三）" in human.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{\n", encoding="utf-8")
    broken = CliRunner().invoke(main, ["accountability", str(ZIBO), str(bad)])
    assert broken.exit_code == 2 and "bad.jsonl:1" in broken.output


# ---------------------------------------------------------------- issue 24, item 1: as of a day


def unanswered_verification(engine: Engine) -> object:
    d = engine.decide({"service_item": "370300-QR-0002", "certificate": "ZM-ZJ-0003", "requested_at": "2021-05-06T10:00:00",
                       "applicant": {"kind": "person", "id_number": PERSON_ID}})
    v = open_verification(d, requesting_unit="淄博市行政审批服务局", record_id="v-open", ruleset=engine.ruleset)
    return accept(v, at("2021-05-06T10:05:00"))


def unchecked_pledge(zibo: Ruleset) -> object:
    with Engine(zibo, key=KEY) as keyed:
        d = keyed.decide({"service_item": "370300-XK-0013", "certificate": "ZM-CW-0008", "requested_at": "2021-05-06T10:00:00",
                          "applicant": {"kind": "person", "id_number": PERSON_ID}, "wants_pledge": True})
    return open_pledge(d, Applicant(kind="person", id_number=PERSON_ID), KEY, record_id="p-open")


def open_complaint(zibo: Ruleset) -> object:
    from nocert_rules.records.complaints import (
        ComplaintEngine,
        ComplaintFacts,
        decide_intake,
        register_complaint,
    )

    c = register_complaint(received_at=at("2021-05-06T09:00:00"), channel="hotline_12345", summary="仍要求提供证明",
                           units=["某区民政局"], record_id="c-open", ruleset=zibo, ground="still-requires-certificate",
                           receiver="市政府市民投诉中心")
    with ComplaintEngine(zibo) as eng:
        return decide_intake(c, eng, ComplaintFacts(specific=True, verifiable=True), at("2021-05-06T10:00:00"))


def unapplied_cause(zibo: Ruleset) -> object:
    from nocert_rules.records.adjustments import note_cause

    return note_cause(zibo, unit="淄博市民政局", service_item="370300-JF-0006", certificate="ZM-FY-0002", type="change",
                      cause="change.method", cause_on=datetime(2021, 5, 6).date(), record_id="cause-1")


def open_records(zibo: Ruleset, engine: Engine) -> list[tuple[str, dict[str, object]]]:
    recs = [unanswered_verification(engine), unchecked_pledge(zibo), open_complaint(zibo), unapplied_cause(zibo)]
    return [(type(r).__name__, r.model_dump(mode="json")) for r in recs]  # type: ignore[attr-defined]


def test_as_of_a_day_every_deadline_passed_without_its_act_is_a_case(zibo: Ruleset, zibo_engine: Engine) -> None:
    pairs = open_records(zibo, zibo_engine)
    kinds = dict(pairs)
    assert cases_from_records(zibo, pairs) == []  # nothing is flagged late: without a day, no case (as before)
    cases = {c.source.split(" ")[0]: c for c in cases_from_records(zibo, pairs, as_of=datetime(2021, 12, 1).date())}
    assert set(cases) == {"VerificationRequest", "PledgeRecord", "Complaint", "AdjustmentCause"}
    v = cases["VerificationRequest"]
    assert (v.kind, v.item, v.unit) == ("late_verification", "（三）", kinds["VerificationRequest"]["issuing_unit"])
    assert v.act_missing and v.candidate and v.due_at == datetime.fromisoformat(kinds["VerificationRequest"]["due_at"])
    assert v.deadline is not None and v.deadline.clause_id == "附件2 第七条" and "30分钟" in v.deadline.text
    assert v.citation.clause_id == "附件5 第四条" and "未在规定时间内完成部门核验" in v.citation.text
    p = cases["PledgeRecord"]
    assert (p.kind, p.item) == ("pledge_not_checked", "（五）") and p.act_missing
    assert p.due_at == datetime.fromisoformat(kinds["PledgeRecord"]["post_check"]["due_at"])
    c = cases["Complaint"]
    assert (c.kind, c.item, c.unit) == ("other_serious", "（六）", "某区民政局")
    assert c.deadline is not None and c.deadline.clause_id == "附件4 第十条"
    a = cases["AdjustmentCause"]
    assert (a.kind, a.unit) == ("other_serious", "淄博市民政局") and a.deadline.clause_id == "附件3 第九条"  # type: ignore[union-attr]


def test_as_of_before_a_deadline_there_is_no_case_and_after_it_there_is(zibo: Ruleset, zibo_engine: Engine) -> None:
    pairs = open_records(zibo, zibo_engine)
    due = {k: datetime.fromisoformat(d["due_at"] if k != "PledgeRecord" else d["post_check"]["due_at"])  # type: ignore[index]
           for k, d in pairs}
    for kind, moment in due.items():
        one = [(k, d) for k, d in pairs if k == kind]
        assert cases_from_records(zibo, one, as_of=moment) == [], kind  # exactly at the due time: on time
        assert len(cases_from_records(zibo, one, as_of=moment + timedelta(minutes=1))) == 1, kind
    # the act done (on time) ends the case: the latest state of a record counts
    v = answer(unanswered_verification(zibo_engine), at("2021-05-06T10:20:00"), matches=True)  # type: ignore[arg-type]
    both = [pairs[0], ("VerificationRequest", v.model_dump(mode="json"))]
    assert cases_from_records(zibo, both, as_of=datetime(2021, 12, 1).date()) == []


def test_flagged_late_records_count_once_their_deadline_passed(zibo: Ruleset, zibo_engine: Engine) -> None:
    v = late_verification(zibo_engine)
    pair = [("VerificationRequest", v.model_dump(mode="json"))]
    (case,) = cases_from_records(zibo, pair, as_of=datetime(2021, 12, 1).date())
    assert case.act_missing is False and case.candidate is False and case.due_at == v.due_at  # type: ignore[attr-defined]
    assert cases_from_records(zibo, pair, as_of=v.due_at - timedelta(minutes=1)) == []  # type: ignore[attr-defined]


def test_a_list_not_published_by_its_schedule_is_a_case(zibo: Ruleset) -> None:
    from nocert_rules.records.publication import record_publication

    first = record_publication(zibo, datetime(2021, 6, 29).date(), record_id="pub-1")
    pairs = [("ListPublication", first.model_dump(mode="json"))]
    assert cases_from_records(zibo, pairs, as_of=datetime(2021, 7, 1).date()) == []  # calendar halves: due 12-31
    assert cases_from_records(zibo, pairs, as_of=datetime(2021, 12, 31).date()) == []
    (case,) = cases_from_records(zibo, pairs, as_of=datetime(2022, 1, 1).date())
    assert case.kind == "other_serious" and case.act_missing and case.unit == "市联席会议办公室"
    assert case.deadline is not None and case.deadline.clause_id == "附件3 第五条"
    assert case.due_at == datetime(2022, 1, 1, tzinfo=SHANGHAI)  # the end of 2021-12-31
def test_cli_as_of_finds_the_open_overdue_cases_and_exits_1(tmp_path: Path, zibo: Ruleset, zibo_engine: Engine) -> None:
    export = tmp_path / "records.jsonl"
    export.write_text("".join(json.dumps({"record_type": k, **d}, ensure_ascii=False) + "\n"
                              for k, d in open_records(zibo, zibo_engine)), encoding="utf-8")
    early = CliRunner().invoke(main, ["accountability", str(ZIBO), str(export), "--as-of", "2021-05-06", "--json"])
    assert early.exit_code == 0, early.output
    assert json.loads(early.stdout)["count"] == 0
    late = CliRunner().invoke(main, ["accountability", str(ZIBO), str(export), "--as-of", "2021-12-01", "--json"])
    assert late.exit_code == 1, late.output
    data = json.loads(late.stdout)
    assert data["count"] == 4 and all(c["act_missing"] for c in data["cases"]) and data["as_of"].startswith("2021-12-02")
    human = CliRunner().invoke(main, ["accountability", str(ZIBO), str(export), "--as-of", "2021-12-01"])
    text = " ".join(human.stdout.split())  # rich wraps lines at spaces
    assert human.exit_code == 1 and "未记录办理 / act not recorded" in text
    assert "附件5 第四条（三）" in text and "期限依据 deadline: 附件2 第七条" in text
    now = CliRunner().invoke(main, ["accountability", str(ZIBO), str(export), "--json"])  # default: as of now
    assert now.exit_code == 1 and json.loads(now.stdout)["count"] == 4
    bad = CliRunner().invoke(main, ["accountability", str(ZIBO), str(export), "--as-of", "2021-13-01"])
    assert bad.exit_code == 2 and "--as-of" in bad.output


def test_the_sample_records_show_the_open_overdue_cases() -> None:
    """examples/records.jsonl (an unanswered verification, an unchecked pledge, an open complaint, an
    adjustment cause not applied for, a publication log line): issue 24's "done when"."""
    sample = ZIBO.parent.parent / "examples" / "records.jsonl"

    def sources(day: str) -> tuple[int, list[str]]:
        result = CliRunner().invoke(main, ["accountability", str(ZIBO), str(sample), "--as-of", day, "--json"])
        return result.exit_code, [c["source"].split(" ")[0] for c in json.loads(result.stdout)["cases"]]

    assert sources("2021-05-06") == (0, [])
    assert sources("2021-12-01") == (1, ["VerificationRequest", "PledgeRecord", "Complaint", "AdjustmentCause"])
    assert sources("2022-01-01") == (1, ["VerificationRequest", "PledgeRecord", "Complaint", "AdjustmentCause",
                                         "ListPublication"])


# ---------------------------------------------------------------- the words are the ruleset's

def _zibo_copy(tmp_path: Path, old: str, new: str) -> Path:
    import shutil

    folder = tmp_path / "zibo"
    shutil.copytree(ZIBO, folder)
    manifest = folder / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8")
    assert old in text
    manifest.write_text(text.replace(old, new), encoding="utf-8")
    return folder


def test_each_case_is_worded_by_the_manifest(tmp_path: Path) -> None:
    from nocert_rules import load_ruleset

    folder = _zibo_copy(
        tmp_path, "certificate_not_listed: '索要清单外的证明 {certificate}（{service_item}）",
        "certificate_not_listed: '本市措辞：清单外证明 {certificate}，事项 {service_item}（",
    )
    rs = load_ruleset(folder)
    applied = {"service_item": "370300-JF-0001", "certificate": "ZM-MZ-0001", "method": "PROXY"}
    (case,) = applied_method_cases(rs, [applied])
    assert case.detail.startswith("本市措辞：清单外证明 ZM-MZ-0001，事项 370300-JF-0001（")
    assert case.unit == rs.manifest.accountability.details["unit_not_recorded"]
    (shipped,) = applied_method_cases(load_ruleset(ZIBO), [applied])
    assert shipped.detail.startswith("索要清单外的证明 ZM-MZ-0001（370300-JF-0001）")


def test_a_detail_naming_a_placeholder_the_record_lacks_is_refused_at_its_line(tmp_path: Path) -> None:
    from nocert_rules import RulesetError, load_ruleset

    folder = _zibo_copy(tmp_path, "complaint_open: '投诉举报逾期未办结（应于 {due} 前）",
                        "complaint_open: '投诉举报逾期未办结（应于 {due} 前，投诉人 {complainant}）")
    with pytest.raises(RulesetError) as exc:
        load_ruleset(folder)
    text = str(exc.value)
    assert "manifest.yaml:" in text and "complaint_open" in text and "complainant" in text


def test_every_finding_must_be_worded(tmp_path: Path) -> None:
    from nocert_rules import RulesetError, load_ruleset

    folder = _zibo_copy(tmp_path, "    unit_not_recorded: '（未记录单位）/ unit not recorded'\n", "")
    with pytest.raises(RulesetError) as exc:
        load_ruleset(folder)
    assert "unit_not_recorded" in str(exc.value) and "manifest.yaml:" in str(exc.value)


# ---------------------------------------------------------------- the details' templates, checked at load


@pytest.mark.parametrize(("template", "problem"), [
    ("协查核验逾期（应于 {when} 前反馈）", "unknown placeholder {when}; it may use {due}"),
    ("协查核验逾期（应于 {due 前反馈）", "malformed template"),
    ("协查核验逾期（应于 {} 前反馈）", "is not a name"),
    ("协查核验逾期（应于 {due:%Y} 前反馈）", "format spec or conversion"),
])
def test_a_bad_detail_template_is_refused_at_its_line(tmp_path: Path, template: str, problem: str) -> None:
    """``accountability.details`` goes through the wording's check (``template_problem``): a detail
    the loader accepts always renders with the record's values."""
    folder = tmp_path / "zibo"
    shutil.copytree(ZIBO, folder, ignore=shutil.ignore_patterns("tests"))
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    manifest["accountability"]["details"]["verification_late"] = template
    (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False), "utf-8")
    with pytest.raises(RulesetError) as info:
        load_ruleset(folder)
    err = info.value
    assert (err.file, err.field) == ("manifest.yaml", "accountability.details")
    assert "details.verification_late" in err.problem and problem in err.problem
    lines = (folder / "manifest.yaml").read_text(encoding="utf-8").splitlines()
    assert err.line == next(i for i, line in enumerate(lines, 1) if line == "  details:")
