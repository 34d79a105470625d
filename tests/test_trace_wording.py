"""The trace's and the records' words come from the ruleset (manifest ``wording``), not from Python.

1. Both bundled rulesets word every trace conclusion and record sentence exactly as the library
   did when the words were in Python: ``tests/data/trace_record_wording_758c72f.json`` was written
   once by running the same calls (``texts`` below, in the signatures of then) on main at 758c72f,
   before the move: every step the engine can build (each rule offered/blocked, each method chosen,
   the fallback, each row source, each awaited choice) and the trace and warnings of every bundled
   sample case (``examples/cases.jsonl``), with the records' texts and the complaint engine's
   steps (every rule of complaint_rules.yaml, the two defaults), and the warnings of requests
   the sample cases do not make (before the ruleset's validity, unknown service items, unknown
   certificates with and without near codes).
2. Each template and method label flows to what the engine shows: a copy of Zibo with every one
   marked shows each mark where it is used, and no conclusion without a mark.
3. A bad ``wording`` section is a ``RulesetError`` at manifest.yaml's line.
4. A ruleset without ``wording`` (release 0.1.0's Zibo among them) gets the bundled
   ``nocert_rules/policy/default_ruleset_wording.yaml``: the same words as 758c72f's Python gave.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import tarfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import PERSON_ID, ROOT, ZIBO
from sample_cases import load_cases

from nocert_rules import Engine, Method, load_ruleset
from nocert_rules.engine.plan import Plans
from nocert_rules.errors import RulesetError
from nocert_rules.models import SHANGHAI
from nocert_rules.policy.loaded import Ruleset
from nocert_rules.policy.wording import (
    COMPLAINT_PLACEHOLDERS,
    DEFAULT_RULESET_WORDING_FILE,
    RECORD_PLACEHOLDERS,
    TRACE_PLACEHOLDERS,
    WARNING_PLACEHOLDERS,
    ComplaintWording,
    RecordWording,
    RulesetWording,
    TraceWording,
    WarningWording,
    default_ruleset_wording,
)
from nocert_rules.records.adjustments import adjustment_warnings, submit_adjustment
from nocert_rules.records.complaints import ComplaintEngine
from nocert_rules.records.exemptions import request_review
from nocert_rules.records.pledge import pledge_values, render_pledge_text
from nocert_rules.records.verification import (
    LedgerEntry,
    accept,
    answer,
    open_verification,
    request_supplement,
)
from nocert_rules.worktime.wording import Both, Wording, say, template_problem

GOLDEN = json.loads((ROOT / "tests" / "data" / "trace_record_wording_758c72f.json").read_text(encoding="utf-8"))
RELEASE = "64ce47b"  # 0.1.0: its manifest has no wording section


def steps(rs: Ruleset) -> dict[str, str]:
    """Every step the engine can build for ``rs``, by kind and key."""
    plans, engine = Plans(rs), Engine(rs)
    out = {f"rule:{rule.id}": plans.rule_step(rule).conclusion for rule in rs.rules}
    out["fallback"] = plans.final_step(None)[2].conclusion
    for m in Method:
        out[f"choose:{m.value}"] = plans.final_step(m)[2].conclusion
        out[f"await:{m.value}"] = engine._await_step(m).conclusion
        for src in sorted({rs.name, *(rs.source_of(r) for r in rs.rows)}):
            out[f"source:{src}:{m.value}"] = plans.source_step(src, m).conclusion
    return out


def cases(rs: Ruleset) -> dict[str, Any]:
    """The trace conclusions and warnings of every sample case (each distinct text once, in the
    order met, and per case its indexes), and the pledge forms' default content."""
    engine = Engine(rs)
    texts: dict[str, int] = {}
    warns: dict[str, int] = {}
    trace_ix, warn_ix, pledge = [], [], {}
    out: dict[str, Any] = {}
    for req in load_cases():
        d = engine.decide(req)
        concl = [s.conclusion for s in d.trace] + ([s.conclusion for s in d.if_declined.trace] if d.if_declined else [])
        trace_ix.append([texts.setdefault(c, len(texts)) for c in concl])
        warn_ix.append([warns.setdefault(w, len(warns)) for w in d.warnings])
        if d.awaiting_choice:
            d = engine.decide({**req, "wants_pledge": True})
        if d.method is Method.PLEDGE and not d.awaiting_choice:
            key = f"{d.service_item}|{d.certificate}"
            if key not in pledge:
                pledge[key] = pledge_values(rs, d)["content"]
                if len(pledge) == 1:
                    out["pledge_text.first"] = render_pledge_text(rs, d)
                    out["pledge_content.blank"] = pledge_values(rs, d, content="  ")["content"]
    return out | {"conclusions": list(texts), "trace": trace_ix, "warnings": list(warns), "case_warnings": warn_ix,
                  "pledge_content": pledge}


ADJUSTMENT = {"unit": "淄博市民政局", "service_item": "370300-JF-0006", "certificate": "ZM-FY-0002", "type": "change",
              "method": "verification", "basis": "《某条例》修订", "cause": "change.method",
              "cause_on": date(2021, 5, 6), "record_id": "adj-1"}
REVIEW = {"case_source": "VerificationRequest v-1", "decision": "通报批评", "unit": "淄博市公安局",
          "reason": "系统故障所致", "at": "2021-07-01T10:00:00", "record_id": "r-1"}


def records(rs: Ruleset) -> dict[str, Any]:
    """The records' sentences: a list-adjustment application on time and late, a review's note."""
    on_time = submit_adjustment(rs, applied_on=date(2021, 5, 10), **ADJUSTMENT)
    late = submit_adjustment(rs, applied_on=date(2021, 5, 17), **ADJUSTMENT)
    return {
        "adjustment.on_time.warnings": adjustment_warnings(rs, on_time), "adjustment.on_time.note": on_time.events[0].note,
        "adjustment.late.warnings": adjustment_warnings(rs, late), "adjustment.late.note": late.events[0].note,
        "adjustment.late.no_clause.warnings": adjustment_warnings(rs, late.model_copy(update={"due_clause": None})),
        "review.note": request_review(rs, **REVIEW).events[0].note,
    }


def complaint_steps(rs: Ruleset) -> dict[str, str]:
    """The conclusion of every complaint rule's step and of the two defaults (with a ground and without)."""
    with ComplaintEngine(rs) as ce:
        out = {f"rule:{r.id}": ce._step(r).conclusion for r in ce.rules.content.rules}
        out["default:acceptance"] = ce._default("acceptance").conclusion
        out["default:acceptance:ground"] = ce._default("acceptance", "要求提供已取消的证明").conclusion
        out["default:handling"] = ce._default("handling").conclusion
    return out


WARNED = {
    "not_yet_in_force": {"service_item": "370300-XK-0005", "certificate": "ZM-SF-0001", "requested_at": "2021-01-05T10:00"},
    "unknown_item.near": {"service_item": "370300-XK-9999", "certificate": "ZM-SF-0001", "requested_at": "2021-05-06T10:00"},
    "unknown_item.none": {"service_item": "ZZZZ", "certificate": "ZM-SF-0001", "requested_at": "2021-05-06T10:00"},
    "unknown_certificate.near": {"service_item": "370300-XK-0005", "certificate": "ZM-SF-0009",
                                 "requested_at": "2021-05-06T10:00"},
    "unknown_certificate.none": {"service_item": "370300-XK-0005", "certificate": "无", "requested_at": "2021-05-06T10:00"},
}


def warnings(rs: Ruleset) -> dict[str, list[str]]:
    """The warnings of requests the sample cases do not make (as 758c72f's gen_warnings did)."""
    engine = Engine(rs)
    applicant = {"kind": "person", "id_number": "370399199001011234"}
    return {k: engine.decide({**r, "applicant": applicant}).warnings for k, r in WARNED.items()}


def texts(rs: Ruleset) -> dict[str, Any]:
    return {"steps": steps(rs), "cases": cases(rs), "records": records(rs), "complaints": complaint_steps(rs),
            "warnings": warnings(rs)}


@pytest.mark.parametrize("name", ["zibo", "zibo-zhangdian"])
def test_the_bundled_rulesets_word_every_trace_and_record_as_before(name: str) -> None:
    expected = dict(GOLDEN[name])
    expected["records"] = {k: v for k, v in expected["records"].items() if k != "review.note.no_clause"}
    got = texts(load_ruleset(ROOT / "rulesets" / name))
    assert got["steps"] == expected["steps"]
    assert got["cases"] == expected["cases"]
    assert got["records"] == expected["records"]
    assert got["complaints"] == expected["complaints"]
    assert got["warnings"] == expected["warnings"]


def test_the_golden_file_covers_every_kind_of_step() -> None:
    """Not a vacuous golden: it holds offered and blocked rules, a fallback, each row source and an
    awaited choice, in the sample cases as well as in the step map."""
    city, district = GOLDEN["zibo"]["cases"]["conclusions"], GOLDEN["zibo-zhangdian"]["cases"]["conclusions"]
    for start in ("可采用", "不采用", "采用", "申请人尚未选择是否承诺", "申请人提供 / APPLICANT_PROVIDED: "):
        assert any(c.startswith(start) for c in city), start
    assert any(c.startswith("本级清单行") for c in district) and any(c.startswith("沿用上级清单行") for c in district)
    assert len(GOLDEN["zibo"]["cases"]["trace"]) == len(load_cases()) == 2001


def test_the_district_inherits_the_citys_wording() -> None:
    city, district = load_ruleset(ZIBO), load_ruleset(ROOT / "rulesets" / "zibo-zhangdian")
    assert district.manifest.wording == city.manifest.wording
    assert "wording" not in yaml.safe_load((ROOT / "rulesets" / "zibo-zhangdian" / "manifest.yaml").read_text("utf-8"))


def test_steps_are_worded_once_per_ruleset() -> None:
    """The words are rendered when a step is first built, then shared: not on decide()'s hot path."""
    engine = Engine(load_ruleset(ZIBO))
    req = load_cases()[0]
    first, again = engine.decide(req), engine.decide(req)
    assert first.trace and all(a is b for a, b in zip(first.trace, again.trace, strict=True))


# ---------------------------------------------------------------- the words flow from the ruleset


def _copy(tmp_path: Path, name: str = "zibo") -> tuple[Path, dict[str, Any]]:
    folder = tmp_path / name
    shutil.copytree(ZIBO, folder, ignore=shutil.ignore_patterns("tests"))
    return folder, yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))


def _write(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False), "utf-8")


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> Ruleset:
    """Zibo with every trace and record template marked 【name】 / [name] at its end, every method
    label 【label:M】 / [label:M]."""
    folder, manifest = _copy(tmp_path_factory.mktemp("marked"))
    wording = manifest["wording"]
    for section, names in (("trace", TRACE_PLACEHOLDERS), ("records", RECORD_PLACEHOLDERS),
                           ("complaints", COMPLAINT_PLACEHOLDERS), ("warnings", WARNING_PLACEHOLDERS)):
        for name in names:
            wording[section][name]["zh"] += f"【{name}】"
            wording[section][name]["en"] += f"[{name}]"
    for labels in (wording["methods"]["labels"], wording["complaints"]["effects"]):
        for key, label in labels.items():
            label["zh"] += f"【label:{key}】"
            label["en"] += f"[label:{key}]"
    _write(folder, manifest)
    return load_ruleset(folder)


def test_every_trace_template_is_read_from_the_ruleset(marked: Ruleset) -> None:
    got = steps(marked)
    assert set(got) == set(GOLDEN["zibo"]["steps"])
    for key, text in got.items():
        assert text != GOLDEN["zibo"]["steps"][key], key
    got["source:elsewhere:PLEDGE"] = Plans(marked).source_step("elsewhere", Method.PLEDGE).conclusion
    rule = next(r for r in marked.rules if r.effect == "offer")
    blocker = next(r for r in marked.rules if r.effect == "block")
    for key, name, method in [
        (f"rule:{rule.id}", "offered", rule.method), (f"rule:{blocker.id}", "blocked", blocker.method),
        ("choose:PLEDGE", "chosen", Method.PLEDGE), ("fallback", "fallback", marked.manifest.fallback.method),
        (f"source:{marked.name}:PLEDGE", "row_own", None), ("source:elsewhere:PLEDGE", "row_inherited", None),
        ("await:VERIFICATION", "awaiting_choice", Method.VERIFICATION),
    ]:
        text = got[key]
        assert f"【{name}】" in text and f"[{name}]" in text, key
        if method is not None:
            assert f"【label:{method.value}】" in text and f"[label:{method.value}]" in text, key


def test_every_sample_conclusion_is_the_rulesets(marked: Ruleset) -> None:
    """Over the 2,001 sample cases no conclusion is worded without the (marked) ruleset."""
    engine = Engine(marked)
    seen = set()
    for req in load_cases():
        d = engine.decide(req)
        for step in [*d.trace, *(d.if_declined.trace if d.if_declined else [])]:
            marks = re.findall(r"【(\w+)】", step.conclusion)
            assert marks and marks[-1] in TRACE_PLACEHOLDERS, step.conclusion
            seen.add(marks[-1])
    assert seen >= {"offered", "blocked", "chosen", "fallback", "awaiting_choice"}


def test_every_record_template_is_read_from_the_ruleset(marked: Ruleset, tmp_path: Path) -> None:
    got = records(marked)
    pledge = cases(marked)["pledge_content"]
    for key, name in [
        ("adjustment.late.warnings", "adjustment_late"), ("adjustment.late.no_clause.warnings", "adjustment_late_no_clause"),
        ("adjustment.late.note", "adjustment_late_note"), ("review.note", "review_enforced"),
    ]:
        text = got[key][0] if isinstance(got[key], list) else got[key]
        assert f"【{name}】" in text and f"[{name}]" in text, key
    assert got["adjustment.on_time.warnings"] == [] and got["adjustment.on_time.note"] is None
    assert pledge and all("【pledge_content】" in t and "[pledge_content]" in t for t in pledge.values())
    no_clause = _without_review_clause(tmp_path, marked.directory)
    assert "【review_enforced_no_clause】" in (request_review(no_clause, **REVIEW).events[0].note or "")
    assert "【ledger_note】" in (ledger(marked).note or "") and "[ledger_note]" in (ledger(marked).note or "")


def test_the_ledger_note_keeps_the_words_it_had(zibo: Ruleset) -> None:
    """Before the note moved into the ruleset, ``LedgerEntry.note`` was Python's 留存备查 / kept for
    inspection: Zibo's words, and the bundled default's, are the same."""
    assert ledger(zibo).note == "留存备查 / kept for inspection"
    assert say(default_ruleset_wording().records.ledger_note) == "留存备查 / kept for inspection"


def ledger(rs: Ruleset) -> LedgerEntry:
    """The ledger entry of a supplementary request after a mismatched verification (附件2 第八条)."""
    decision = Engine(rs).decide({"service_item": "370300-QR-0002", "certificate": "ZM-ZJ-0003",  # 部门核验
                                  "applicant": {"kind": "person", "id_number": PERSON_ID},
                                  "requested_at": "2021-05-06T10:00"})
    request = open_verification(decision, requesting_unit="淄博市行政审批服务局", ruleset=rs)
    request = answer(accept(request, datetime(2021, 5, 6, 10, 5, tzinfo=SHANGHAI)),
                     datetime(2021, 5, 6, 11, 0, tzinfo=SHANGHAI), matches=False, note="不符")
    return request_supplement(request, datetime(2021, 5, 6, 11, 30, tzinfo=SHANGHAI), materials=["合同"],
                              purpose="核实")[1]


def test_every_complaint_template_is_read_from_the_ruleset(marked: Ruleset) -> None:
    got = complaint_steps(marked)
    assert set(got) == set(GOLDEN["zibo"]["complaints"])
    with ComplaintEngine(marked) as ce:
        effects = {r.effect for r in ce.rules.content.rules}
        for rule in ce.rules.content.rules:
            text = got[f"rule:{rule.id}"]
            assert "【rule】" in text and "[rule]" in text and f"【label:{rule.effect}】" in text, rule.id
    assert effects >= {"reject", "supplement", "terminate"}  # Zibo has no accept rule (its default accepts)
    assert "【default_ground】" in got["default:acceptance:ground"] and "[default_ground]" in got["default:acceptance:ground"]
    # without a ground the default's step is its reason alone, as complaint_rules.yaml writes it
    assert got["default:handling"] == GOLDEN["zibo"]["complaints"]["default:handling"]


def test_every_warning_template_is_read_from_the_ruleset(marked: Ruleset) -> None:
    got = warnings(marked)
    for key, names in [
        ("not_yet_in_force", ["not_yet_in_force"]), ("unknown_item.near", ["unknown_service_item", "nearest_service_items"]),
        ("unknown_item.none", ["unknown_service_item"]),
        ("unknown_certificate.near", ["unknown_certificate", "nearest_certificates"]),
        ("unknown_certificate.none", ["unknown_certificate"]),
    ]:
        text = next(w for w in got[key] if f"【{names[0]}】" in w)
        assert all(f"【{n}】" in text for n in names) and f"[{names[0]}]" in text, key
    assert "nearest_service_items" not in got["unknown_item.none"][0]
    within = Engine(marked).decide(load_cases()[1]).warnings  # 2021-08-04: within the validity
    late = Engine(marked).decide({**load_cases()[1], "requested_at": "2022-03-01T10:00"}).warnings
    assert not any("【expired】" in w for w in within) and any("【expired】" in w and "[expired]" in w for w in late)


def _without_review_clause(tmp_path: Path, source: Path) -> Ruleset:
    folder = tmp_path / "no-review-clause"
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("tests"))
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    del manifest["accountability"]["review_clause"]
    _write(folder, manifest)
    return load_ruleset(folder)


def test_a_review_without_a_review_clause_is_worded_as_before(tmp_path: Path) -> None:
    rs = _without_review_clause(tmp_path, ZIBO)
    assert request_review(rs, **REVIEW).events[0].note == GOLDEN["zibo"]["records"]["review.note.no_clause"]


# ---------------------------------------------------------------- the loader's errors, with file:line


def _error(folder: Path, manifest: dict[str, Any]) -> RulesetError:
    _write(folder, manifest)
    with pytest.raises(RulesetError) as info:
        load_ruleset(folder)
    return info.value


def _line_of(folder: Path, text: str) -> int:
    lines = (folder / "manifest.yaml").read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


@pytest.mark.parametrize(("template", "problem"), [
    ("可采用{methods}", "unknown placeholder {methods}"),
    ("可采用{method", "malformed template"),
    ("可采用{}", "is not a name"),
    ("可采用{method!r}", "format spec or conversion"),
    ("可采用{source}", "unknown placeholder {source}"),
])
def test_a_bad_trace_template_is_refused_at_its_line(tmp_path: Path, template: str, problem: str) -> None:
    folder, manifest = _copy(tmp_path)
    manifest["wording"]["trace"]["offered"]["zh"] = template
    err = _error(folder, manifest)
    assert (err.file, err.field) == ("manifest.yaml", "wording.trace")
    assert problem in err.problem and "offered.zh" in err.problem
    assert err.line == _line_of(folder, "  trace:")


def test_a_missing_trace_template_is_refused_at_its_line(tmp_path: Path) -> None:
    folder, manifest = _copy(tmp_path)
    del manifest["wording"]["trace"]["row_inherited"]
    err = _error(folder, manifest)
    assert (err.file, err.field) == ("manifest.yaml", "wording.trace.row_inherited")
    assert "field required" in err.problem and err.line == _line_of(folder, "  trace:")


def test_a_bad_record_template_is_refused_at_its_line(tmp_path: Path) -> None:
    folder, manifest = _copy(tmp_path)
    manifest["wording"]["records"]["pledge_content"]["en"] = "The applicant {name} meets what the {certificate} proves"
    err = _error(folder, manifest)
    assert (err.file, err.field) == ("manifest.yaml", "wording.records")
    assert "pledge_content.en" in err.problem and "unknown placeholder {name}" in err.problem
    assert err.line == _line_of(folder, "  records:")
    manifest["wording"]["records"]["pledge_content"]["en"] = "x"
    manifest["wording"]["records"]["adjustment_late_note"]["zh"] = "逾期 {due}"
    err = _error(folder, manifest)
    assert "adjustment_late_note.zh" in err.problem and "it may use none" in err.problem


def test_a_missing_complaint_effect_label_is_refused_at_its_line(tmp_path: Path) -> None:
    folder, manifest = _copy(tmp_path)
    del manifest["wording"]["complaints"]["effects"]["supplement"]
    err = _error(folder, manifest)
    assert err.field == "wording.complaints.effects" and "supplement" in err.problem
    assert err.line == _line_of(folder, "    effects:")
    manifest["wording"]["complaints"]["effects"]["supplement"] = {"zh": "请补正", "en": "supplement"}
    manifest["wording"]["complaints"]["rule"]["en"] = "{effect} ({clause}): {reason} {ground}"
    err = _error(folder, manifest)
    assert err.field == "wording.complaints" and "rule.en" in err.problem and "unknown placeholder {ground}" in err.problem
    assert err.line == _line_of(folder, "  complaints:")


def test_a_missing_method_label_is_refused_at_its_line(tmp_path: Path) -> None:
    folder, manifest = _copy(tmp_path)
    del manifest["wording"]["methods"]["labels"]["PROXY"]
    err = _error(folder, manifest)
    assert err.field == "wording.methods.labels" and "PROXY" in err.problem
    assert err.line == _line_of(folder, "    labels:")


def test_a_trace_wordings_clause_must_be_in_the_clauses_file(tmp_path: Path) -> None:
    folder, manifest = _copy(tmp_path)
    manifest["wording"]["trace"]["chosen"]["clause"] = "附件3 第三十条"
    err = _error(folder, manifest)
    assert err.field == "wording.trace.chosen.clause" and "unknown clause" in err.problem
    assert err.line == _line_of(folder, "clause: 附件3 第三十条")
    manifest["wording"]["trace"]["chosen"]["clause"] = "附件3 第三条"
    manifest["wording"]["methods"]["clause"] = "二(九)"
    err = _error(folder, manifest)
    assert err.field == "wording.methods.clause" and err.line == _line_of(folder, "clause: 二(九)")


# ---------------------------------------------------------------- the bundled default


def test_a_ruleset_without_wording_gets_the_bundled_default(tmp_path: Path) -> None:
    """The default file words the trace as the library's Python did (Zibo's texts, no clause)."""
    folder, manifest = _copy(tmp_path)
    del manifest["wording"]
    _write(folder, manifest)
    rs = load_ruleset(folder)
    assert rs.manifest.wording == default_ruleset_wording()
    assert steps(rs) == GOLDEN["zibo"]["steps"]
    assert cases(rs)["conclusions"] == GOLDEN["zibo"]["cases"]["conclusions"]
    assert records(rs) == {k: v for k, v in GOLDEN["zibo"]["records"].items() if k != "review.note.no_clause"}
    assert complaint_steps(rs) == GOLDEN["zibo"]["complaints"]
    assert warnings(rs) == GOLDEN["zibo"]["warnings"]
    assert default_ruleset_wording().methods.clause is None
    assert all(getattr(default_ruleset_wording().trace, n).clause is None for n in TRACE_PLACEHOLDERS)
    assert all(getattr(default_ruleset_wording().records, n).clause is None for n in RECORD_PLACEHOLDERS)
    assert all(getattr(default_ruleset_wording().complaints, n).clause is None for n in COMPLAINT_PLACEHOLDERS)
    assert all(getattr(default_ruleset_wording().warnings, n).clause is None for n in WARNING_PLACEHOLDERS)


def test_the_default_wording_is_the_bundled_file() -> None:
    from importlib import resources

    raw = resources.files("nocert_rules.policy").joinpath(DEFAULT_RULESET_WORDING_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(raw)
    assert RulesetWording.model_validate(data) == default_ruleset_wording()
    assert set(data) == set(RulesetWording.model_fields)
    assert set(data["trace"]) == set(TraceWording.model_fields) == set(TRACE_PLACEHOLDERS)
    assert set(data["records"]) == set(RecordWording.model_fields) == set(RECORD_PLACEHOLDERS)
    assert set(data["complaints"]) == set(ComplaintWording.model_fields) == {*COMPLAINT_PLACEHOLDERS, "effects"}
    assert set(data["warnings"]) == set(WarningWording.model_fields) == set(WARNING_PLACEHOLDERS)


def test_a_district_that_sets_wording_replaces_the_citys(tmp_path: Path) -> None:
    _city, manifest = _copy(tmp_path)
    wording = manifest["wording"]
    wording["trace"]["row_own"] = {"zh": "区级清单行：{source}", "en": "district row ({source})"}
    district = tmp_path / "district"
    district.mkdir()
    (district / "manifest.yaml").write_text(yaml.safe_dump(
        {"extends": "../zibo", "name": "district", "wording": wording}, allow_unicode=True), "utf-8")
    rs = load_ruleset(district)
    assert Plans(rs).source_step("district", Method.PLEDGE).conclusion == "区级清单行：district / district row (district)"


def _release_ruleset(tmp_path: Path) -> Path:
    """Release 0.1.0's Zibo ruleset, from git (skipped where the history is not at hand)."""
    try:
        tar = subprocess.run(["git", "-C", str(ROOT), "archive", RELEASE, "rulesets/zibo"],
                             capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"git history with {RELEASE} not available")
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(tmp_path, filter="data")
    return tmp_path / "rulesets" / "zibo"


def test_the_release_ruleset_loads_with_the_default_wording(tmp_path: Path) -> None:
    """benchmarks/compare_release.py loads 0.1.0's ruleset: it has no wording and reads as before."""
    folder = _release_ruleset(tmp_path)
    assert "wording" not in yaml.safe_load((folder / "manifest.yaml").read_text("utf-8"))
    rs = load_ruleset(folder)
    assert rs.manifest.wording == default_ruleset_wording()
    d = Engine(rs).decide(load_cases()[0])
    assert d.trace[-1].conclusion == say(rs.manifest.wording.trace.chosen, method=rs.manifest.wording.method(d.method))


def test_every_placeholder_renders_and_no_other_is_accepted() -> None:
    for name, allowed in (TRACE_PLACEHOLDERS | RECORD_PLACEHOLDERS | COMPLAINT_PLACEHOLDERS | WARNING_PLACEHOLDERS).items():
        template = "x" + "".join(f"{{{a}}}" for a in allowed)
        assert template_problem(template, allowed) is None, name
        assert template_problem("{rule}", allowed) is not None, name
        text = say(Wording(zh=template, en=template), **{a: Both(f"<{a}>", f"[{a}]") for a in allowed})
        assert all(f"<{a}>" in text and f"[{a}]" in text for a in allowed)
