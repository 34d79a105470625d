"""docs/clause-matrix.md stays true: every clause of the policy digest is a row, and every rule,
function and test a row names exists (issue 13, item 8)."""

from __future__ import annotations

import importlib
import re

from conftest import ROOT

from nocert_rules import Ruleset

MATRIX = ROOT / "docs" / "clause-matrix.md"
DIGEST = ROOT / "rulesets" / "zibo" / "sources" / "digest.md"
"""A copy of shared/policy/digest.md (as sources/zibo-2021-plan.md is of the plan)."""
SHARED = [ROOT.parent / "shared" / "policy" / "digest.md", ROOT.parent.parent / "shared" / "policy" / "digest.md"]


def rows() -> list[dict[str, str]]:
    out = []
    for line in MATRIX.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("clause", "---"):
            out.append(dict(zip(("clause", "status", "reading", "impl", "tests"), cells, strict=True)))
    return out


def digest_clauses(text: str) -> set[str]:
    """The clause ids the digest names: annex articles, main-plan items, the national and civil-law ones."""
    ids: set[str] = set()
    for m in re.finditer(r"附件(\d) ((?:第[一二三四五六七八九十]+条(?:\([一二三四五六]\))?(?:, | / |、)?)+)", text):
        ids.update(f"附件{m.group(1)} {a}" for a in re.findall(r"第[一二三四五六七八九十]+条", m.group(2)))
    for m in re.finditer(r"(?<![\u4e00-\u9fff0-9])([一二三])(\([一二三四五六]\))(\d)?", text):
        ids.add(m.group(1) + m.group(2) + (m.group(3) or ""))
    if re.search(r"\(一;", text):
        ids.add("一")
    for national in ("国办发〔2020〕42号", "民法典 第二百条", "行政许可法 第八十二条"):
        if national.split(" ")[0] in text:
            ids.add(national)
    return ids


def test_every_digest_clause_is_a_row() -> None:
    text = DIGEST.read_text(encoding="utf-8")
    shared = next((p for p in SHARED if p.is_file()), None)
    if shared is not None:
        assert shared.read_text(encoding="utf-8") == text, "refresh rulesets/zibo/sources/digest.md"
    listed = [r["clause"] for r in rows()]
    wanted = digest_clauses(text)
    assert len(wanted) > 25  # the extraction itself works
    missing = sorted(c for c in wanted if not any(row == c or row.startswith(c) for row in listed))
    assert missing == []


def test_every_rule_function_and_test_exists(zibo: Ruleset) -> None:
    rule_ids = {r.id for r in zibo.rules}
    problems = []
    for row in rows():
        assert row["status"].split(":")[0] in ("done", "partial", "gap"), row
        if row["status"] != "gap" and row["status"].split(":")[0] != "gap":
            assert row["impl"] != "—" and row["tests"] != "—", f"{row['clause']}: a row that is not a gap names both"
        for item in re.findall(r"rule:([a-z0-9_.-]+)", row["impl"]):
            if item not in rule_ids:
                problems.append(f"{row['clause']}: no rule {item}")
        for module, attr in re.findall(r"fn:([a-z_.]+):([A-Za-z_.]+)", row["impl"]):
            obj = importlib.import_module(module)
            for part in attr.split("."):
                obj = getattr(obj, part, None)
                if obj is None:
                    problems.append(f"{row['clause']}: no {module}:{attr}")
                    break
        for test in re.findall(r"([\w/]+\.(?:py|yaml))(?:::(\w+))?", row["tests"]):
            path, name = ROOT / test[0], test[1]
            if not path.is_file():
                problems.append(f"{row['clause']}: no file {test[0]}")
            elif name and not re.search(rf"^def {name}\(", path.read_text(encoding="utf-8"), re.M):
                problems.append(f"{row['clause']}: no test {test[0]}::{name}")
    assert problems == []


def test_every_rule_of_the_sample_is_named_in_a_row(zibo: Ruleset) -> None:
    """A rule no row names is a rule whose deletion no test the matrix names would catch (issue 24)."""
    named = {r for row in rows() for r in re.findall(r"rule:([a-z0-9_.-]+)", row["impl"])}
    assert sorted({r.id for r in zibo.rules} - named) == []


def test_every_reading_the_ruleset_takes_is_named_in_its_clauses_row(zibo: Ruleset) -> None:
    """The "reading" column names each choice lint lists (issue 24, item 3)."""
    from nocert_rules.policy.readings import readings

    by_clause = {row["clause"]: row["reading"] for row in rows()}
    found = readings(zibo)
    assert len(found) >= 5
    missing = [f"{r.of}: {r.field}: {r.value}" for r in found if f"`{r.field}: {r.value}`" not in by_clause.get(r.of or "", "")]
    assert missing == []


def test_a_wrong_name_would_be_caught(zibo: Ruleset) -> None:
    assert "rule:no.such-rule" not in MATRIX.read_text(encoding="utf-8")
    assert "abolish.not-listed" in {r.id for r in zibo.rules}
    assert len(rows()) >= 30
