"""Where the plan leaves a choice or the library reads it, the ruleset says so (issue 24, item 3):
``pledge_policy.false_pledge_bar``, ``pending_adjustment``, ``deadlines.minutes_unit`` and
``deadlines.publication_schedule``, each with the clause behind the value, and each followed."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ZIBO
from test_pledge_bars import blocks, request

from nocert_rules import Engine, Method, Ruleset, RulesetError, load_ruleset
from nocert_rules.cli.main import main
from nocert_rules.models import SHANGHAI
from nocert_rules.worktime.deadlines import verification_due


def zibo_with(tmp_path: Path, old: str, new: str, file: str = "manifest.yaml") -> Path:
    folder = tmp_path / "zibo"
    if not folder.exists():
        shutil.copytree(ZIBO, folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return folder


def test_the_sample_states_each_reading_with_its_clause(zibo: Ruleset) -> None:
    m = zibo.manifest
    assert m.pledge_policy.false_pledge_bar == "until_credit_repair"
    assert "在信用修复前" in zibo.citation(m.pledge_policy.false_pledge_bar_clause or "").text  # 国办发〔2020〕42号
    assert m.pending_adjustment is not None and m.pending_adjustment.methods == [Method.VERIFICATION]
    assert "自行选择" in zibo.citation(m.pending_adjustment.clause).text
    assert "自行选择" in zibo.citation(m.pending_adjustment.reading_clause or "").text
    assert m.deadlines.minutes_unit == "working_minutes"
    assert "30分钟" in zibo.citation(m.deadlines.minutes_unit_clause or "").text
    assert m.deadlines.publication_schedule == "calendar_halves"
    assert "每半年公布一次" in zibo.citation(m.deadlines.publication_schedule_clause or "").text


def test_a_permanent_false_pledge_bar_survives_a_credit_repair(zibo_engine: Engine, tmp_path: Path) -> None:
    listed = {"blacklisted_since": "2021-01-05", "credit_repaired_on": "2021-03-01"}
    assert zibo_engine.decide(request(**listed)).method is Method.PLEDGE  # until_credit_repair (the sample)
    folder = zibo_with(tmp_path, "false_pledge_bar: until_credit_repair\n  false_pledge_bar_clause: 国办发〔2020〕42号 信用修复",
                       "false_pledge_bar: permanent\n  false_pledge_bar_clause: 三(五)3")
    with Engine(load_ruleset(folder)) as permanent:
        barred = permanent.decide(request(**listed))
        assert barred.method is Method.PROXY and "pledge.blacklisted" in blocks(barred)
        # other credit bars are still lifted by a repair: only the false pledge's is for good
        assert permanent.decide(request(bad_record=True, credit_repaired_on="2021-03-01")).method is Method.PLEDGE


def test_elapsed_minutes_count_through_lunch_and_after_hours(zibo: Ruleset, tmp_path: Path) -> None:
    at = datetime(2021, 5, 6, 11, 50, tzinfo=SHANGHAI)  # Thursday; lunch 12:00-13:00
    office = verification_due(at, "electronic", zibo.calendar, policy=zibo.deadline_policy)
    assert office.due_at == datetime(2021, 5, 6, 13, 20, tzinfo=SHANGHAI) and "工作分钟" in office.rule
    folder = zibo_with(tmp_path, "minutes_unit: working_minutes", "minutes_unit: elapsed_minutes")
    elapsed = load_ruleset(folder)
    due = verification_due(at, "electronic", elapsed.calendar, policy=elapsed.deadline_policy)
    assert due.due_at == datetime(2021, 5, 6, 12, 20, tzinfo=SHANGHAI) and "自收到申请起 30 分钟" in due.rule
    # day limits are unchanged by the minutes' unit
    paper = verification_due(at, "paper", elapsed.calendar, policy=elapsed.deadline_policy)
    assert paper.due_at == verification_due(at, "paper", zibo.calendar, policy=zibo.deadline_policy).due_at


def test_pending_methods_the_rules_do_not_offer_are_refused_at_the_manifest_line(tmp_path: Path) -> None:
    folder = zibo_with(tmp_path, "methods: [VERIFICATION]\n  clause: 附件3 第九条", "methods: [DATA_SHARING]\n  clause: 附件3 第九条")
    with pytest.raises(RulesetError) as info:
        load_ruleset(folder)
    problem = next(p for p in info.value.problems if "pending_adjustment" in p.problem)
    assert problem.file == "manifest.yaml" and problem.line is not None
    assert "['DATA_SHARING']" in problem.problem and "['VERIFICATION']" in problem.problem
    lines = (folder / "manifest.yaml").read_text(encoding="utf-8").splitlines()
    assert "methods: [DATA_SHARING]" in lines[problem.line - 1]


def test_pending_methods_may_not_ask_the_applicant(tmp_path: Path) -> None:
    folder = zibo_with(tmp_path, "methods: [VERIFICATION]\n  clause: 附件3 第九条",
                       "methods: [APPLICANT_PROVIDED]\n  clause: 附件3 第九条")
    with pytest.raises(RulesetError, match="APPLICANT_PROVIDED"):
        load_ruleset(folder)


def test_lint_lists_each_reading_with_its_clause() -> None:
    result = CliRunner().invoke(main, ["lint", str(ZIBO), "--json"])
    found = {r["field"]: r for r in json.loads(result.stdout)["readings"]}
    assert found["pledge_policy.false_pledge_bar"] == {"field": "pledge_policy.false_pledge_bar", "value": "until_credit_repair",
                                                        "of": "三(五)3", "basis": "国办发〔2020〕42号 信用修复"}
    assert found["pending_adjustment.methods"]["value"] == "[VERIFICATION]"
    assert found["deadlines.minutes_unit"]["basis"] == "核验时限 工作分钟"
    human = CliRunner().invoke(main, ["lint", str(ZIBO)])
    assert "deadlines.publication_schedule = calendar_halves（附件3 第五条，依据 basis: 公布周期）" in human.stdout
