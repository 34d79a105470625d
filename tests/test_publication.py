"""清单公布 (附件3 第五条 in Zibo): publications recorded in a log, the next one due by the manifest's
schedule, and ``lint`` warning when the list is overdue (issue 13, finding 9)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import ZIBO
from ruleset_factory import MANIFEST, write_ruleset

from nocert_rules import Ruleset, load_ruleset
from nocert_rules.cli.main import main
from nocert_rules.policy.publication import check_schedule, next_publication_due
from nocert_rules.records import RecordProblem
from nocert_rules.records.publication import ListPublication, PublicationLog, record_publication
from nocert_rules.tools.lint import lint_ruleset


def test_the_next_publication_is_due_by_the_end_of_the_next_half(zibo: Ruleset) -> None:
    # Zibo: calendar_halves over 06-30 and 12-31 (deadlines.publication_schedule, publication_month_days)
    assert zibo.manifest.deadlines.publication_schedule == "calendar_halves"
    assert next_publication_due(zibo, date(2021, 2, 10)) == date(2021, 12, 31)  # the first half's is done
    assert next_publication_due(zibo, date(2021, 6, 29)) == date(2021, 12, 31)  # issue 24: not 06-30
    assert next_publication_due(zibo, date(2021, 6, 30)) == date(2021, 12, 31)
    assert next_publication_due(zibo, date(2021, 7, 1)) == date(2022, 6, 30)
    assert next_publication_due(zibo, date(2021, 12, 31)) == date(2022, 6, 30)
    pub = record_publication(zibo, date(2021, 2, 10), record_id="p-1")
    assert pub.next_due_on == date(2021, 12, 31)
    assert (pub.ruleset_name, pub.ruleset_version, pub.ruleset_sha256) == (zibo.name, zibo.version, zibo.sha256)
    assert pub.clause == zibo.manifest.deadlines.publication_clause and pub.schedule == ("06-30", "12-31")
    assert pub.rows_in_force == len(zibo.rows_at(date(2021, 2, 10))) > 0
    assert pub.published_by == zibo.manifest.deadlines.adjustment_office.name  # type: ignore[union-attr]
    assert pub.events[0].action == "publish"


def test_published_on_06_29_is_not_overdue_on_07_01(zibo: Ruleset) -> None:
    """Issue 24, item 2: 原则上每半年公布一次 cannot mean one day."""
    check = check_schedule(zibo, [record_publication(zibo, date(2021, 6, 29)).published], date(2021, 7, 1))
    assert not check.overdue and check.due_on == date(2021, 12, 31)
    assert check.schedule_kind == "calendar_halves"
    assert check.schedule_reading is not None and check.schedule_reading.clause_id == "公布周期"
    assert "每半年公布一次" in check.schedule_reading.text


def test_a_configured_schedule_is_what_counts(tmp_path: Path) -> None:
    manifest = {**MANIFEST, "deadlines": {**MANIFEST["deadlines"], "publication_month_days": ["03-31", "09-30"]}}
    rs = load_ruleset(write_ruleset(tmp_path / "rs", manifest=manifest))
    assert next_publication_due(rs, date(2024, 4, 1)) == date(2025, 3, 31)  # in the period ending 09-30
    assert record_publication(rs, date(2024, 10, 1)).next_due_on == date(2025, 9, 30)
    months = {**manifest, "deadlines": {**manifest["deadlines"], "publication_schedule": "months_after_last"}}
    six = load_ruleset(write_ruleset(tmp_path / "six", manifest=months))
    assert next_publication_due(six, date(2024, 6, 29)) == date(2024, 12, 29)
    assert next_publication_due(six, date(2024, 8, 31)) == date(2025, 2, 28)  # no 31st: the month's last day
    assert check_schedule(six, [], date(2024, 7, 2)).due_on == date(2024, 7, 1)  # effective_from 2024-01-01 + 6
    four = {**months, "deadlines": {**months["deadlines"], "publication_months": 4}}
    assert next_publication_due(load_ruleset(write_ruleset(tmp_path / "four", manifest=four)), date(2024, 6, 29)) == \
        date(2024, 10, 29)


def test_schedule_check_from_the_last_publication_or_effective_from(zibo: Ruleset) -> None:
    none = check_schedule(zibo, [], date(2021, 7, 1))
    assert none.last is None and none.counted_from == date(2021, 2, 10) and none.due_on == date(2021, 6, 30)
    assert none.overdue and none.citation.clause_id == "附件3 第五条" and "每半年公布一次" in none.citation.text
    assert not check_schedule(zibo, [], date(2021, 6, 30)).overdue  # due *by* the day
    on_time = record_publication(zibo, date(2021, 6, 30)).published
    check = check_schedule(zibo, [on_time], date(2021, 7, 1))
    assert not check.overdue and check.due_on == date(2021, 12, 31) and check.current is True
    # a publication after as_of does not count; another ruleset's does not either
    later = record_publication(zibo, date(2021, 8, 1)).published
    other = later.model_copy(update={"ruleset_name": "elsewhere", "published_on": date(2021, 6, 1)})
    assert check_schedule(zibo, [later, other], date(2021, 7, 1)).overdue
    # not in force (after effective_until): nothing is due
    assert not check_schedule(zibo, [], date(2026, 12, 1)).overdue


def test_the_log_round_trips_and_refuses_duplicates_and_torn_lines(zibo: Ruleset, tmp_path: Path) -> None:
    log = PublicationLog(tmp_path / "publications.jsonl")
    assert log.read() == []
    first = record_publication(zibo, date(2021, 2, 10), record_id="p-1")
    log.append(first)
    log.append(record_publication(zibo, date(2021, 6, 30), record_id="p-2"))
    assert [p.id for p in log.read()] == ["p-1", "p-2"] and log.read()[0] == first
    with pytest.raises(RecordProblem, match="p-1"):
        log.append(record_publication(zibo, date(2021, 12, 31), record_id="p-1"))
    before = log.path.read_bytes()
    log.path.write_bytes(before + b'{"id": "torn", "record_type": "ListPub')
    torn = log.path.read_bytes()
    with pytest.raises(RecordProblem, match=r"publications\.jsonl:3"):
        log.append(record_publication(zibo, date(2021, 12, 31), record_id="p-3"))
    assert log.path.read_bytes() == torn  # nothing written
    edited = json.loads(before.splitlines()[0])
    edited["ruleset_sha256"] = "not a hash"
    log.path.write_text(json.dumps(edited) + "\n", encoding="utf-8")
    with pytest.raises(RecordProblem, match=r"publications\.jsonl:1: .*ruleset_sha256"):
        log.read()


def _lint(path: Path, *extra: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["lint", str(path), "--json", *extra])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def _pub(warnings: list[dict[str, Any]]) -> list[str]:
    return [w["code"] for w in warnings if w["code"].startswith("publication")]


def test_lint_warns_when_the_list_is_overdue_citing_the_clause_and_due_day(tmp_path: Path) -> None:
    rs_dir = tmp_path / "z"
    shutil.copytree(ZIBO, rs_dir)
    rs = load_ruleset(rs_dir)
    PublicationLog(rs_dir / "publications.jsonl").append(record_publication(rs, date(2021, 2, 10)))
    assert _pub(_lint(rs_dir, "--as-of", "2021-07-01")["warnings"]) == []  # the first half's is done
    data = _lint(rs_dir, "--as-of", "2022-01-01")
    overdue = [w for w in data["warnings"] if w["code"] == "publication-overdue"]
    assert len(overdue) == 1 and overdue[0]["severity"] == "warning" and data["errors"] == []
    message = overdue[0]["message"]
    assert "2021-12-31" in message and "附件3 第五条" in message and "原则上每半年公布一次" in message
    assert overdue[0]["file"].endswith("manifest.yaml") and overdue[0]["line"]
    line = (rs_dir / "manifest.yaml").read_text(encoding="utf-8").splitlines()[overdue[0]["line"] - 1]
    assert "publication_month_days" in line
    # on schedule up to the due day; --strict makes the warning fail; a later publication clears it
    assert _pub(_lint(rs_dir, "--as-of", "2021-12-31")["warnings"]) == []
    strict = CliRunner().invoke(main, ["lint", str(rs_dir), "--as-of", "2022-01-01", "--strict"])
    assert strict.exit_code == 1 and "publication-overdue" in strict.stdout
    PublicationLog(rs_dir / "publications.jsonl").append(record_publication(rs, date(2021, 12, 31)))
    assert _pub(_lint(rs_dir, "--as-of", "2022-01-01")["warnings"]) == []


def test_lint_without_a_log_checks_no_schedule_and_an_explicit_log_is_used(tmp_path: Path) -> None:
    rs_dir = write_ruleset(tmp_path / "rs")  # in force 2024-01-01 .. 2030-12-31
    assert _pub(_lint(rs_dir, "--as-of", "2026-12-01")["warnings"]) == []
    log = tmp_path / "elsewhere.jsonl"
    log.write_text("", encoding="utf-8")  # a log that has no publication of this ruleset
    found = lint_ruleset(rs_dir, as_of=date(2026, 12, 1), publications=[])
    overdue = [f for f in found.warnings if f.code.startswith("publication")]
    assert [f.code for f in overdue] == ["publication-overdue"]
    assert "2024-06-30" in overdue[0].message and "2024-01-01" in overdue[0].message
    assert _pub(_lint(rs_dir, "--as-of", "2026-12-01", "--publications", str(log))["warnings"]) == [
        "publication-overdue"]
    missing = CliRunner().invoke(main, ["lint", str(rs_dir), "--publications", str(tmp_path / "none.jsonl")])
    assert missing.exit_code == 2 and "none.jsonl" in missing.output


def test_lint_says_when_the_ruleset_is_not_the_version_published(tmp_path: Path) -> None:
    rs_dir = write_ruleset(tmp_path / "rs")
    rs = load_ruleset(rs_dir)
    PublicationLog(rs_dir / "publications.jsonl").append(record_publication(rs, date(2026, 6, 30)))
    assert _pub(_lint(rs_dir, "--as-of", "2026-12-01")["warnings"]) == []
    manifest = yaml.safe_load((rs_dir / "manifest.yaml").read_text(encoding="utf-8"))
    manifest["version"] = "t2"
    (rs_dir / "manifest.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
    warnings = [w for w in _lint(rs_dir, "--as-of", "2026-12-01")["warnings"] if w["code"].startswith("publication")]
    assert [w["code"] for w in warnings] == ["publication-not-current"]
    assert "2026-06-30" in warnings[0]["message"] and "2026-12-31" in warnings[0]["message"]


def test_cli_records_a_publication_and_reports_the_schedule(tmp_path: Path) -> None:
    rs_dir = tmp_path / "z"
    shutil.copytree(ZIBO, rs_dir)
    runner = CliRunner()
    status = runner.invoke(main, ["publication", "status", str(rs_dir), "--as-of", "2021-07-01", "--json"])
    assert status.exit_code == 1 and json.loads(status.stdout)["due_on"] == "2021-06-30"
    rec = runner.invoke(main, ["publication", "record", str(rs_dir), "--on", "2021-06-30", "--json"])
    assert rec.exit_code == 0, rec.output
    entry = json.loads(rec.stdout)["publication"]
    assert entry["next_due_on"] == "2021-12-31" and entry["clause"] == "附件3 第五条"
    assert [p.published_on for p in PublicationLog(rs_dir / "publications.jsonl").read()] == [date(2021, 6, 30)]
    ok = runner.invoke(main, ["publication", "status", str(rs_dir), "--as-of", "2021-07-01"])
    assert ok.exit_code == 0 and "2021-12-31" in ok.stdout and "附件3 第五条" in ok.stdout
    assert isinstance(ListPublication.model_validate_json((rs_dir / "publications.jsonl").read_text().strip()),
                      ListPublication)


def test_a_broken_log_is_an_error_naming_its_line(tmp_path: Path) -> None:
    rs_dir = write_ruleset(tmp_path / "rs")
    (rs_dir / "publications.jsonl").write_text('{"id": "x"\n', encoding="utf-8")
    for args in (["publication", "status", str(rs_dir)], ["lint", str(rs_dir)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and "publications.jsonl:1" in result.output, args
