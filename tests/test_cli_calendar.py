"""`nocert-rules calendar`: working days and the plan's deadlines (调休 included)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from ruleset_factory import MANIFEST, write_ruleset

from nocert_rules.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
ZIBO = str(ROOT / "rulesets" / "zibo")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["calendar", *args])
    return result.exit_code, result.stdout, result.stderr


def test_is_working_day_knows_tiaoxiu_and_holidays() -> None:
    code, out, _ = run("is-working-day", "2021-10-09")
    assert code == 0 and "是工作日" in out and "调休" in out
    code, out, _ = run("is-working-day", "2021-10-04")
    assert code == 0 and "不是工作日" in out and "国庆节" in out
    code, out, _ = run("is-working-day", "2021-10-09", "--json")
    assert json.loads(out)["working_day"] is True


def test_unknown_year_prints_a_warning() -> None:
    code, out, _ = run("is-working-day", "2031-03-03")
    assert code == 0 and "2031" in out and "known_years" in out


def test_add_days_does_not_count_the_start_day() -> None:
    code, out, _ = run("add-days", "2021-09-30", "3", "--json")
    assert code == 0 and json.loads(out)["date"] == "2021-10-11"  # 10-08, 10-09 (Sat, 调休), 10-11
    code, out, _ = run("add-days", "2021-09-30", "3")
    assert "= 2021-10-11" in out


def test_deadlines_of_each_kind() -> None:
    code, out, _ = run("deadline", "verification", "2021-09-30T16:45", "--ruleset", ZIBO, "--json")
    assert code == 0 and json.loads(out)["due_at"] == "2021-10-08T09:15:00+08:00"  # 15 + 15 working minutes
    code, out, _ = run("deadline", "verification", "2021-09-30T10:00", "--ruleset", ZIBO, "--records", "incomplete_archive", "--json")
    assert json.loads(out)["due_at"] == "2021-10-09T17:00:00+08:00"
    code, out, _ = run("deadline", "complaint", "2021-09-30", "--extension-days", "5", "--ruleset", ZIBO, "--json")
    data = json.loads(out)
    assert data["due_at"] == "2021-10-20T17:00:00+08:00" and data["clause"] == "附件4 第十条"
    code, out, _ = run("deadline", "adjustment", "2021-09-30", "--ruleset", ZIBO, "--json")
    assert json.loads(out)["due_at"] == "2021-10-15T17:00:00+08:00"
    code, out, _ = run("deadline", "post-check", "2021-09-30T15:30", "--ruleset", ZIBO)
    assert code == 0 and "2021-11-03 17:00" in out and "三(三)2" in out
    code, out, _ = run("deadline", "post-check", "2021-09-30", "--ruleset", ZIBO, "--credit", "trustworthy")
    assert code == 0 and "免予核查" in out


def test_ruleset_calendar_overrides_and_limits_are_used(tmp_path: Path) -> None:
    manifest = {**MANIFEST, "deadlines": {**MANIFEST["deadlines"], "overrides_file": "cal.yaml",
                                          "complaint_working_days": 3}}
    rs = write_ruleset(tmp_path / "rs", manifest=manifest)
    (rs / "cal.yaml").write_text(
        "days_off:\n  - {date: 2024-05-07, reason: 本地假日, source: 测试通知}\n", encoding="utf-8")
    code, out, _ = run("is-working-day", "2024-05-07", "--ruleset", str(rs))
    assert code == 0 and "不是工作日" in out and "本地假日" in out
    assert "是工作日" in run("is-working-day", "2024-05-07")[1]  # the default calendar
    code, out, _ = run("deadline", "complaint", "2024-05-06", "--ruleset", str(rs), "--json")
    assert json.loads(out)["due_at"] == "2024-05-10T17:00:00+08:00"  # 3 working days, 05-07 off


def test_usage_errors_exit_2() -> None:
    code, _, err = run("deadline", "complaint", "2021-09-30", "--extension-days", "6", "--ruleset", ZIBO)
    assert code == 2 and "附件4 第十条" in err and "Traceback" not in err
    assert run("deadline", "post-check", "2021-09-30")[0] == 2  # no ruleset: no figures, no clauses
    assert run("is-working-day", "someday")[0] == 2
    assert run("deadline", "lunch", "2021-09-30")[0] == 2


def test_add_days_counts_back_with_a_negative_number() -> None:
    """`add-days 2021-05-06 -1`: the working day before (05-01..05 was the Labour Day holiday)."""
    code, out, _ = run("add-days", "2021-05-06", "-1", "--json")
    assert code == 0 and json.loads(out)["date"] == "2021-04-30"
    code, out, _ = run("add-days", "2021-05-06", "-5")
    assert code == 0 and "2021-04-26" in out and "- 5" in out
    assert run("add-days", "2021-05-06", "1")[1].count("2021-05-07") == 1
