"""The deadline rules' words come from the ruleset (manifest ``deadlines.wording``), not from Python.

1. Both bundled rulesets word every deadline exactly as the library did when the words were in
   Python: ``tests/data/deadline_wording_5225420.json`` was written once by running the same
   calls (``texts`` below, in the signatures of then) on main at 5225420, before the move (the
   ``pledge_form.*`` texts on main at 8a23afd, whose ``records/pledge.py`` was 5225420's).
2. Each template flows to what the functions, the engine and the records show: a copy of Zibo
   with every template marked shows each mark where that template is used.
3. A bad wording section is a ``RulesetError`` at manifest.yaml's line (unknown placeholder,
   missing template, malformed template, no office and no ``adjustment_no_office``).
4. A ruleset without ``deadlines.wording`` gets the bundled ``nocert_rules/policy/default_wording.yaml``:
   the same words as 5225420's Python gave.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import PERSON_ID, ROOT, ZIBO
from hypothesis import given, settings
from hypothesis import strategies as st

from nocert_rules import Engine, Method, load_ruleset
from nocert_rules.enums import RecordKind
from nocert_rules.errors import RulesetError
from nocert_rules.policy.loaded import Ruleset
from nocert_rules.policy.wording import DEFAULT_WORDING_FILE, default_wording
from nocert_rules.records.on_the_spot import on_the_spot_clock
from nocert_rules.records.pledge import pledge_values
from nocert_rules.worktime import deadlines as dl
from nocert_rules.worktime.wording import (
    PLACEHOLDERS,
    Both,
    DeadlineWording,
    Wording,
    placeholders_of,
    say,
    template_problem,
)

GOLDEN = json.loads((ROOT / "tests" / "data" / "deadline_wording_5225420.json").read_text(encoding="utf-8"))
START = datetime(2025, 6, 16, 10, 0)
LATE = datetime(2025, 7, 1, 10, 0)
LIMITS = {
    "days1": dl.StatutoryLimit(working_days=1, basis="《示例条例》第十条"),
    "days3": dl.StatutoryLimit(working_days=3, basis="《示例条例》第十条"),
    "minutes45": dl.StatutoryLimit(working_minutes=45, basis="《示例办法》第五条"),
}
PAUSES = [(datetime(2025, 6, 16, 10, 10), datetime(2025, 6, 16, 10, 40, 30))]


def _verification_texts(rs: Ruleset, out: dict[str, str | None]) -> None:
    p, cal = rs.deadline_policy, rs.calendar
    for prefix, pol in {"": p, "elapsed.": p.model_copy(update={"minutes_unit": "elapsed_minutes"})}.items():
        for kind in RecordKind:
            out[f"{prefix}verification_due.{kind.value}"] = dl.verification_due(START, kind, cal, policy=pol).rule
    for name, limit in LIMITS.items():
        out[f"verification_due.statutory.{name}"] = dl.verification_due(START, "paper", cal, limit, policy=p).rule
    assert p.escalation is not None
    for name, pol in {"ruleset": p, "none": p.model_copy(update={"escalation": None})}.items():
        esc = dl.verification_status(START, "paper", LATE, cal, policy=pol).escalation
        assert esc is not None
        out |= {f"escalation.{name}.action": esc.action, f"escalation.{name}.to": esc.to,
                f"escalation.{name}.clause": esc.clause}


def texts(rs: Ruleset) -> dict[str, str | None]:
    """Every deadline function's rule (and escalation) text for ``rs``, by case."""
    p, cal = rs.deadline_policy, rs.calendar
    out: dict[str, str | None] = {}
    _verification_texts(rs, out)
    for ext in (0, 1, p.complaint_max_extension_days):
        out[f"complaint_due.ext{ext}"] = dl.complaint_due(date(2025, 6, 16), cal, ext, policy=p).rule
    assert p.adjustment_office is not None
    no_en = p.model_copy(update={"adjustment_office": p.adjustment_office.model_copy(update={"name_en": None})})
    for name, pol in {"ruleset": p, "office_no_en": no_en}.items():
        out[f"adjustment_due.{name}"] = dl.adjustment_due(date(2025, 6, 16), cal, policy=pol).rule
    for days in (1, 5, 20):
        out[f"post_check_due.{days}"] = dl.post_check_due(START, days, cal, clause="三(三)2", policy=p).rule
    ots = rs.manifest.on_the_spot
    assert ots is not None and ots.working_minutes is not None
    for name, pauses in {"no_pause": [], "paused": PAUSES}.items():
        out[f"approval_due.{name}"] = dl.approval_due(
            START, ots.working_minutes, pauses, cal, rule=ots.rule, clause=ots.clause, policy=p).rule
    out["approval_clock"] = dl.approval_clock(
        START, datetime(2025, 6, 16, 15, 0), PAUSES, cal, clause=p.verification_clause, policy=p).rule
    return out | _pledge_form_texts(rs)


def _pledge_form_texts(rs: Ruleset) -> dict[str, str | None]:
    """``$post_check_due`` on the pledge form: waived, due by a time, due within N days."""
    engine, out = Engine(rs), {}
    for credit in ("trustworthy", "normal"):
        d = engine.decide({"service_item": "370300-XK-0013", "certificate": "ZM-CW-0008", "wants_pledge": True,
                           "applicant": {"kind": "person", "id_number": PERSON_ID, "credit": credit},
                           "requested_at": "2021-05-06T10:00"})
        assert d.method is Method.PLEDGE and d.post_check is not None
        out[f"pledge_form.post_check_due.{credit}"] = pledge_values(rs, d)["post_check_due"]
    for days in (1, 20):
        plan = d.post_check.model_copy(update={"due_at": None, "within_working_days": days})
        out[f"pledge_form.post_check_due.within{days}"] = pledge_values(
            rs, d.model_copy(update={"post_check": plan}))["post_check_due"]
    return out


@pytest.mark.parametrize("name", ["zibo", "zibo-zhangdian"])
def test_the_bundled_rulesets_word_every_deadline_as_before(name: str) -> None:
    assert texts(load_ruleset(ROOT / "rulesets" / name)) == GOLDEN[name]


def test_the_district_inherits_the_citys_wording() -> None:
    city, district = load_ruleset(ZIBO), load_ruleset(ROOT / "rulesets" / "zibo-zhangdian")
    assert district.deadline_policy.wording == city.deadline_policy.wording
    assert "wording" not in yaml.safe_load((ROOT / "rulesets" / "zibo-zhangdian" / "manifest.yaml").read_text("utf-8"))


# ---------------------------------------------------------------- the words flow from the ruleset


def _copy(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path / "zibo"
    shutil.copytree(ZIBO, folder, ignore=shutil.ignore_patterns("tests"))
    return folder, yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))


def _write(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False), "utf-8")


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> Ruleset:
    """Zibo with every template (and record-kind label) marked 【name】 / [name] at its end."""
    folder, manifest = _copy(tmp_path_factory.mktemp("marked"))
    wording = manifest["deadlines"]["wording"]
    for name in (n for n in PLACEHOLDERS if n in wording):
        wording[name]["zh"] += f"【{name}】"
        wording[name]["en"] += f"[{name}]"
    for kind, label in wording["record_kinds"]["labels"].items():
        label["zh"] += f"【{kind}】"
    _write(folder, manifest)
    return load_ruleset(folder)


def test_every_template_is_read_from_the_ruleset(marked: Ruleset) -> None:
    got = texts(marked)
    changed = {k for k in GOLDEN["zibo"] if got[k] != GOLDEN["zibo"][k]}
    for key, name in [
        ("verification_due.paper", "verification_days"), ("verification_due.electronic", "verification_minutes"),
        ("elapsed.verification_due.electronic", "verification_elapsed_minutes"),
        ("verification_due.statutory.days3", "statutory_days"), ("verification_due.statutory.minutes45", "statutory_minutes"),
        ("complaint_due.ext0", "complaint"), ("complaint_due.ext1", "complaint_extended"),
        ("adjustment_due.ruleset", "adjustment"), ("post_check_due.5", "post_check"),
        ("approval_due.paused", "approval_due"), ("approval_clock", "approval_clock"),
        ("pledge_form.post_check_due.trustworthy", "pledge_due_waived"),
        ("pledge_form.post_check_due.normal", "pledge_due_by"), ("pledge_form.post_check_due.within20", "pledge_due_within"),
    ]:
        text = got[key]
        assert text is not None and f"【{name}】" in text and f"[{name}]" in text, key
        assert changed >= {key}
    assert "【paper】" in (got["verification_due.paper"] or "")
    assert "【incomplete_archive】" in (got["verification_due.incomplete_archive"] or "")


def test_the_engine_and_the_records_show_the_rulesets_words(marked: Ruleset) -> None:
    engine = Engine(marked)
    applicant = {"kind": "person", "id_number": PERSON_ID, "credit": "normal"}
    verified = engine.decide({"service_item": "370300-QR-0002", "certificate": "ZM-ZJ-0003", "applicant": applicant,
                              "requested_at": "2021-05-06T10:00", "wants_pledge": False})
    assert verified.method is Method.VERIFICATION and verified.deadline is not None
    assert re.search(r"【(verification_days|verification_minutes|statutory_days|statutory_minutes)】",
                     verified.deadline.rule)
    pledged = engine.decide({"service_item": "370300-XK-0013", "certificate": "ZM-CW-0008", "applicant": applicant,
                             "requested_at": "2021-05-06T10:00", "wants_pledge": True})
    assert pledged.method is Method.PLEDGE
    assert pledged.deadline is not None and "【post_check】" in pledged.deadline.rule
    clock = on_the_spot_clock("2021-05-06T10:00", [], marked, now="2021-05-06T11:00",
                              service_item=_on_the_spot_item(marked))
    assert clock.due is not None and "【approval_due】" in clock.due.rule
    assert clock.clock is not None and "【approval_clock】" in clock.clock.rule


def _on_the_spot_item(rs: Ruleset) -> str:
    return next(r.service_item_code for r in rs.rows if r.on_the_spot)


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
    ("{records}：{weeks} 个工作周", "unknown placeholder {weeks}"),
    ("{records}：{days 个工作日", "malformed template"),
    ("{records}：{} 个工作日", "is not a name"),
    ("{records}：{0} 个工作日", "is not a name"),
    ("{records}：{days:>3} 个工作日", "format spec or conversion"),
    ("{records}：{days!r} 个工作日", "format spec or conversion"),
    ("{records.zh}：{days} 个工作日", "is not a name"),
])
def test_a_bad_template_is_refused_at_its_line(tmp_path: Path, template: str, problem: str) -> None:
    folder, manifest = _copy(tmp_path)
    manifest["deadlines"]["wording"]["verification_days"]["zh"] = template
    err = _error(folder, manifest)
    assert err.file == "manifest.yaml" and err.field == "deadlines.wording"
    assert problem in err.problem and "verification_days.zh" in err.problem
    assert err.line == _line_of(folder, "  wording:")


def test_a_missing_template_is_refused_at_its_line(tmp_path: Path) -> None:
    folder, manifest = _copy(tmp_path)
    del manifest["deadlines"]["wording"]["post_check"]
    err = _error(folder, manifest)
    assert (err.file, err.field) == ("manifest.yaml", "deadlines.wording.post_check")
    assert "field required" in err.problem and err.line == _line_of(folder, "  wording:")


def test_a_template_without_english_is_refused_at_its_line(tmp_path: Path) -> None:
    folder, manifest = _copy(tmp_path)
    del manifest["deadlines"]["wording"]["complaint"]["en"]
    err = _error(folder, manifest)
    assert (err.field, err.line) == ("deadlines.wording.complaint.en", _line_of(folder, "    complaint:"))


def test_a_missing_record_kind_label_is_refused(tmp_path: Path) -> None:
    folder, manifest = _copy(tmp_path)
    del manifest["deadlines"]["wording"]["record_kinds"]["labels"]["paper"]
    err = _error(folder, manifest)
    assert err.field == "deadlines.wording.record_kinds.labels" and "paper" in err.problem
    assert err.line == _line_of(folder, "      labels:")


def test_a_ruleset_without_wording_gets_the_bundled_default(tmp_path: Path) -> None:
    """The default file words every deadline as the library's Python did (Zibo's texts, no clause)."""
    folder, manifest = _copy(tmp_path)
    del manifest["deadlines"]["wording"]
    _write(folder, manifest)
    rs = load_ruleset(folder)
    assert rs.deadline_policy.wording == default_wording()
    assert texts(rs) == GOLDEN["zibo"]
    assert default_wording().record_kinds.clause is None and default_wording().complaint.clause is None
    no_office = {k: v for k, v in manifest["deadlines"].items() if k != "adjustment_office"}
    _write(folder, {**manifest, "deadlines": no_office})
    plain = load_ruleset(folder)
    assert dl.adjustment_due(date(2025, 6, 16), plain.calendar, policy=plain.deadline_policy).rule == (
        "调整事由发生之日起 7 个工作日内提出书面申请 / written application within 7 working days of the cause")


def test_the_default_wording_is_the_bundled_file() -> None:
    """Read from the package's data file, each entry validated as a ruleset's would be."""
    from importlib import resources

    raw = resources.files("nocert_rules.policy").joinpath(DEFAULT_WORDING_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(raw)
    assert DeadlineWording.model_validate(data) == default_wording()
    assert set(data) == set(DeadlineWording.model_fields)


def test_no_adjustment_office_needs_the_wording_without_one(tmp_path: Path) -> None:
    folder, manifest = _copy(tmp_path)
    del manifest["deadlines"]["adjustment_office"]
    err = _error(folder, manifest)
    assert err.field == "deadlines.wording" and "adjustment_no_office is required" in err.problem
    assert err.line == _line_of(folder, "  wording:")
    manifest["deadlines"]["wording"]["adjustment_no_office"] = {
        "zh": "调整事由发生之日起 {days} 个工作日内提出书面申请", "en": "written application within {days} day{s}"}
    _write(folder, manifest)
    rs = load_ruleset(folder)
    rule = dl.adjustment_due(date(2025, 6, 16), rs.calendar, policy=rs.deadline_policy).rule
    assert rule == "调整事由发生之日起 7 个工作日内提出书面申请 / written application within 7 days"


def test_a_wordings_clause_must_be_in_the_clauses_file(tmp_path: Path) -> None:
    folder, manifest = _copy(tmp_path)
    manifest["deadlines"]["wording"]["complaint"]["clause"] = "附件4 第九十条"
    err = _error(folder, manifest)
    assert err.field == "deadlines.wording.complaint.clause" and "unknown clause" in err.problem
    assert err.line == _line_of(folder, "clause: 附件4 第九十条")


def _district(tmp_path: Path, deadlines: dict[str, Any]) -> Path:
    district = tmp_path / "district"
    district.mkdir(exist_ok=True)
    (district / "manifest.yaml").write_text(yaml.safe_dump(
        {"extends": "../zibo", "name": "district", "deadlines": deadlines}, allow_unicode=True), "utf-8")
    return district


def test_a_district_that_replaces_the_deadlines_replaces_their_wording(tmp_path: Path) -> None:
    _city, manifest = _copy(tmp_path)
    deadlines = {k: v for k, v in manifest["deadlines"].items() if k != "wording"}
    assert load_ruleset(_district(tmp_path, deadlines)).deadline_policy.wording == default_wording()
    deadlines["wording"] = manifest["deadlines"]["wording"] | {"post_check": {"zh": "{days} 日内核查", "en": "{dayz}"}}
    with pytest.raises(RulesetError) as info:
        load_ruleset(_district(tmp_path, deadlines))
    err = info.value
    assert err.file == "manifest.yaml" and err.field == "deadlines.wording" and "unknown placeholder {dayz}" in err.problem
    assert err.line == _line_of(tmp_path / "district", "  wording:")


def test_every_placeholder_renders_and_no_other_is_accepted() -> None:
    """``template_problem`` accepts exactly the names ``PLACEHOLDERS`` gives each template."""
    for name, allowed in PLACEHOLDERS.items():
        assert template_problem("".join(f"{{{a}}}" for a in allowed), allowed) is None, name
        assert template_problem("{nope}", allowed) is not None
    assert set(PLACEHOLDERS) | {"record_kinds"} == set(DeadlineWording.model_fields)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(PLACEHOLDERS)), st.lists(
    st.sampled_from(["{", "}", "days", "s", "office", "rule", "x", "0", ":", "!r", ".", "[", "]", "日", " "]),
    max_size=12).map("".join))
def test_a_template_the_checks_accept_always_renders(name: str, template: str) -> None:
    """No template the loader accepts can fail when a deadline is worded (it renders with its values)."""
    allowed = PLACEHOLDERS[name]
    if template_problem(template, allowed) is not None:
        return
    values = {a: Both(f"<{a}>", f"[{a}]") for a in allowed}
    text = say(Wording(zh=template or "x", en=template or "x"), **values)
    assert all(f"<{a}>" in text and f"[{a}]" in text for a in placeholders_of(template))
