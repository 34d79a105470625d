"""Loading errors name file, line and field (issue #2 §2)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import ZIBO
from ruleset_factory import MANIFEST, RULES, write_ruleset

from nocert_rules import RulesetError, load_ruleset


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing ``needle``."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    return write_ruleset(tmp_path / "rs")


def edit(path: Path, old: str, new: str, count: int = 1) -> str:
    text = path.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, count)
    path.write_text(text, encoding="utf-8")
    return text


def load_error(directory: Path) -> RulesetError:
    with pytest.raises(RulesetError) as info:
        load_ruleset(directory)
    return info.value


def test_missing_field(tiny_dir: Path) -> None:
    certs = tiny_dir / "certificates.yaml"
    text = certs.read_text(encoding="utf-8")
    third_row = line_of(text, "- service_item_code:", 3)
    lines = text.splitlines()
    issuer_line = next(i for i in range(third_row, len(lines)) if lines[i].strip().startswith("issuer:"))
    del lines[issuer_line]
    certs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = load_error(tiny_dir)
    assert str(err).startswith(f"certificates.yaml:{third_row}: rows[2].issuer: field required")
    assert (err.file, err.line, err.field) == ("certificates.yaml", third_row, "rows[2].issuer")


def test_unknown_key(tiny_dir: Path) -> None:
    text = edit(tiny_dir / "certificates.yaml", "  records: paper\n", "  records: paper\n  recrods: paper\n")
    err = load_error(tiny_dir)
    assert err.line == line_of(text, "recrods:")
    assert "rows[2].recrods" in str(err) and "unknown key" in str(err)


def test_wrong_type(tiny_dir: Path) -> None:
    text = edit(tiny_dir / "manifest.yaml", "complaint_working_days: 5", "complaint_working_days: five")
    err = load_error(tiny_dir)
    assert str(err).startswith(f"manifest.yaml:{line_of(text, 'complaint_working_days')}: deadlines.complaint_working_days:")


def test_wrong_enum_value(tiny_dir: Path) -> None:
    text = edit(tiny_dir / "certificates.yaml", "records: incomplete_archive", "records: microfilm")
    err = load_error(tiny_dir)
    assert err.line == line_of(text, "records: microfilm")
    assert err.field is not None and err.field.endswith(".records")


def test_bad_yaml(tiny_dir: Path) -> None:
    text = edit(tiny_dir / "rules.yaml", "  effect: block\n", "  effect: [block\n")
    err = load_error(tiny_dir)
    assert err.file == "rules.yaml" and "bad YAML" in str(err)
    assert err.line is not None and abs(err.line - line_of(text, "effect: [block")) <= 1
    assert re.match(r"rules\.yaml:\d+: ", str(err))


def test_python_tag_is_refused_not_executed(tiny_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = edit(
        tiny_dir / "certificates.yaml",
        "  issuer: 测试局\n",
        f"  issuer: !!python/object/apply:os.system ['touch {marker}']\n",
    )
    err = load_error(tiny_dir)
    assert not marker.exists()
    assert err.line == line_of(text, "python/object")
    assert "not allowed" in str(err)


def test_duplicate_row(tiny_dir: Path) -> None:
    certs = tiny_dir / "certificates.yaml"
    text = certs.read_text(encoding="utf-8")
    first = text.split("- service_item_code:")[1]
    certs.write_text(text + "- service_item_code:" + first, encoding="utf-8")
    text = certs.read_text(encoding="utf-8")
    err = load_error(tiny_dir)
    last_row = text.count("- service_item_code:")
    assert err.line == line_of(text, "- service_item_code:", last_row)
    assert "duplicate row" in str(err) and "first at line 2" in str(err)


def test_duplicate_yaml_key(tiny_dir: Path) -> None:
    text = edit(tiny_dir / "manifest.yaml", "version: t1\n", "version: t1\nversion: t2\n")
    err = load_error(tiny_dir)
    assert err.line == line_of(text, "version: t2") and "duplicate key" in str(err)


def test_unknown_clause_citation(tiny_dir: Path) -> None:
    text = edit(tiny_dir / "rules.yaml", "clause: C-share", "clause: C-nowhere")
    err = load_error(tiny_dir)
    assert err.file == "rules.yaml" and err.line == line_of(text, "C-nowhere")
    assert "unknown clause" in str(err)


def test_unknown_fact_in_condition(tiny_dir: Path) -> None:
    text = edit(tiny_dir / "rules.yaml", "request.sharing_online: false", "request.sharing_on: false")
    err = load_error(tiny_dir)
    assert err.line == line_of(text, "request.sharing_on:")
    assert "unknown fact 'request.sharing_on'" in str(err)


def test_condition_value_of_wrong_type(tiny_dir: Path) -> None:
    text = edit(tiny_dir / "rules.yaml", "applicant.credit: untrustworthy", "applicant.credit: bad")
    err = load_error(tiny_dir)
    assert err.line == line_of(text, "applicant.credit: bad") and "expects one of" in str(err)


def test_data_sharing_without_source(tiny_dir: Path) -> None:
    text = edit(tiny_dir / "certificates.yaml", "  sharing_source: 库\n", "")
    err = load_error(tiny_dir)
    assert err.line == line_of(text, "- service_item_code:", 1)
    assert "sharing_source" in str(err)


def test_missing_ruleset_and_missing_file(tmp_path: Path, tiny_dir: Path) -> None:
    assert "not found" in str(load_error(tmp_path / "absent"))
    (tiny_dir / "clauses.yaml").unlink()
    err = load_error(tiny_dir)
    assert err.file == "clauses.yaml" and "not found" in str(err)


def test_hash_covers_every_file(tmp_path: Path) -> None:
    copy = tmp_path / "zibo"
    shutil.copytree(ZIBO, copy)
    before = load_ruleset(copy).sha256
    assert before == load_ruleset(ZIBO).sha256
    with (copy / "clauses.yaml").open("a", encoding="utf-8") as f:
        f.write("# a comment changes the bytes\n")
    assert load_ruleset(copy).sha256 != before


def test_quoted_clauses_are_verbatim_from_the_plan() -> None:
    """Every quoted clause paragraph appears word for word in the plan's text shipped with the ruleset."""
    plan = (ZIBO / "sources" / "zibo-2021-plan.md").read_text(encoding="utf-8")
    rs = load_ruleset(ZIBO)
    quoted = [c for c in rs.clauses.values() if c.quoted]
    assert len(quoted) >= 20
    for clause in quoted:
        for paragraph in clause.text.split("\n"):
            assert paragraph in plan, (clause.id, paragraph[:40])


def test_sample_list_meets_the_issue_minimums() -> None:
    rs = load_ruleset(ZIBO)
    rows = rs.rows
    assert len(rows) >= 40
    assert len({r.issuer_department for r in rows}) >= 8
    assert any(not r.legal_basis for r in rows)
    assert {m.value for r in rows for m in r.methods} == {"data_sharing", "pledge", "verification"}
    assert any(not r.methods and r.status.value == "retained" for r in rows)
    assert {r.records.value for r in rows} == {"electronic", "paper", "incomplete_archive"}
    barring = set(rs.manifest.pledge_policy.barring_risk_categories)
    assert any(barring & set(r.risk_categories) for r in rows)


def test_same_certificate_name_twice_under_one_item(tiny_dir: Path) -> None:
    text = edit(tiny_dir / "certificates.yaml", "certificate_name: 证明pledge", "certificate_name: 证明share")
    err = load_error(tiny_dir)
    assert err.line == line_of(text, "certificate_name: 证明share", 2)
    assert "ambiguous" in str(err)


def test_post_check_plan_for_every_credit_level(tiny_dir: Path) -> None:
    path = tiny_dir / "manifest.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "normal:")
    del lines[start : start + 5]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = load_error(tiny_dir)
    assert err.field == "pledge_policy.post_check.normal" and "normal" in str(err)
    assert err.line == line_of(path.read_text(encoding="utf-8"), "post_check:")


def test_no_untrustworthy_plan_needed_when_rules_always_block_it(tmp_path: Path) -> None:
    """g.bad-credit blocks PLEDGE for any untrustworthy applicant, so that plan may be left out."""
    post_check = {k: v for k, v in MANIFEST["pledge_policy"]["post_check"].items() if k != "untrustworthy"}
    manifest = {**MANIFEST, "pledge_policy": {**MANIFEST["pledge_policy"], "post_check": post_check}}
    rs = load_ruleset(write_ruleset(tmp_path / "ok", manifest=manifest))
    assert "untrustworthy" not in {level.value for level in rs.manifest.pledge_policy.post_check}
    rules = [r for r in RULES if r["id"] != "g.bad-credit"]
    err = load_error(write_ruleset(tmp_path / "bad", manifest=manifest, rules=rules))
    assert err.field == "pledge_policy.post_check.untrustworthy" and "block" in err.problem


def test_yaml_alias_cycle_is_a_ruleset_error(tiny_dir: Path) -> None:
    with (tiny_dir / "manifest.yaml").open("a", encoding="utf-8") as f:
        f.write("x: &a [*a]\n")
    err = load_error(tiny_dir)
    assert err.file == "manifest.yaml" and err.line is not None


def test_impossible_date_is_a_ruleset_error(tiny_dir: Path) -> None:
    text = edit(tiny_dir / "manifest.yaml", "effective_from: '2024-01-01'", "effective_from: 2024-02-30")
    err = load_error(tiny_dir)
    assert err.line == line_of(text, "effective_from") and err.field == "effective_from"


@pytest.mark.parametrize("target", ["../../etc/passwd", "/etc/hostname", "~/x.yaml"])
def test_files_must_stay_inside_the_ruleset_folder(tiny_dir: Path, target: str) -> None:
    path = tiny_dir / "manifest.yaml"
    with path.open("a", encoding="utf-8") as f:
        f.write(f"files:\n  pledge_template: {target}\n")
    err = load_error(tiny_dir)
    assert err.field == "files.pledge_template" and "inside the ruleset folder" in str(err)


def test_complaint_rules_and_pledge_template_are_checked_at_load(tmp_path: Path) -> None:
    copy = tmp_path / "zibo"
    shutil.copytree(ZIBO, copy)
    rules = copy / "complaint_rules.yaml"
    original = rules.read_text(encoding="utf-8")
    rules.write_text(original.replace("rules:\n", "rules:\n  - id: x\n    bogus: 1\n", 1), encoding="utf-8")
    err = load_error(copy)
    assert err.file == "complaint_rules.yaml" and err.line is not None
    rules.write_text(original, encoding="utf-8")
    with (copy / "templates" / "pledge.md").open("a", encoding="utf-8") as f:
        f.write("\n$unknown_placeholder\n")
    err = load_error(copy)
    assert err.file == "templates/pledge.md" and err.line is not None and "unknown" in str(err)
