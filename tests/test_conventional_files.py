"""Conventional files are found by their usual names; pledge rows need a template that renders."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from ruleset_factory import ROWS, row, write_ruleset

from nocert_rules import RulesetError, load_ruleset


def test_calendar_overrides_found_by_convention_and_hashed(tmp_path: Path) -> None:
    rs_dir = write_ruleset(tmp_path / "rs")
    before = load_ruleset(rs_dir)
    assert before.calendar.is_working_day(date(2024, 5, 7))
    (rs_dir / "calendar_overrides.yaml").write_text(
        "days_off:\n  - {date: 2024-05-07, reason: 本地假日, source: 区政府通知}\n", encoding="utf-8"
    )
    after = load_ruleset(rs_dir)
    assert not after.calendar.is_working_day(date(2024, 5, 7))
    assert "calendar_overrides.yaml" in after.files and after.sha256 != before.sha256


def test_bad_conventional_overrides_are_a_load_error(tmp_path: Path) -> None:
    rs_dir = write_ruleset(tmp_path / "rs")
    (rs_dir / "calendar_overrides.yaml").write_text("days_off:\n  - {date: 2024-05-07}\n", encoding="utf-8")
    with pytest.raises(RulesetError) as info:
        load_ruleset(rs_dir)
    assert info.value.file == "calendar_overrides.yaml" and info.value.line == 2


def test_pledge_rows_need_a_template(tmp_path: Path) -> None:
    rs_dir = write_ruleset(tmp_path / "rs")
    (rs_dir / "templates" / "pledge.md").unlink()
    with pytest.raises(RulesetError) as info:
        load_ruleset(rs_dir)
    assert info.value.field == "files.pledge_template" and "templates/pledge.md" in info.value.problem
    # without pledge rows no template is needed
    no_pledge = [r for r in ROWS if "pledge" not in r["methods"]] + [row("S9", "v", methods=["verification"])]
    rs_dir2 = write_ruleset(tmp_path / "rs2", rows=no_pledge)
    (rs_dir2 / "templates" / "pledge.md").unlink()
    assert load_ruleset(rs_dir2).name == "tiny"


def test_template_found_by_convention_is_checked_and_hashed(tmp_path: Path) -> None:
    rs_dir = write_ruleset(tmp_path / "rs")
    rs = load_ruleset(rs_dir)
    assert "templates/pledge.md" in rs.files
    (rs_dir / "templates" / "pledge.md").write_text("$certificate_name $content $post_check $nonsense\n", encoding="utf-8")
    with pytest.raises(RulesetError) as info:
        load_ruleset(rs_dir)
    assert info.value.file == "templates/pledge.md" and "$nonsense" in info.value.problem


def test_lint_warns_about_files_the_ruleset_does_not_load(tmp_path: Path) -> None:
    from nocert_rules.tools.lint import lint_ruleset

    rs_dir = write_ruleset(tmp_path / "rs")
    assert not [f for f in lint_ruleset(rs_dir).warnings if f.code == "unloaded-file"]
    (rs_dir / "holidays.yaml").write_text("days_off: []\n", encoding="utf-8")  # not the usual name
    (rs_dir / "tests").mkdir()
    (rs_dir / "tests" / "cases.yaml").write_text("[]\n", encoding="utf-8")  # tests/ are not ruleset files
    unloaded = [f for f in lint_ruleset(rs_dir).warnings if f.code == "unloaded-file"]
    assert [f.file.endswith("holidays.yaml") for f in unloaded] == [True]
    assert "sha256" in unloaded[0].message
