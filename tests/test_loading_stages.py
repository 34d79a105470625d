"""The loading stages (policy/loader.py): each merge rule of an ``extends:`` chain, the
cross-reference table, the index, and line lookups linear in the number of keys (issue 25 row 5)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from array import array
from pathlib import Path
from typing import Any

import pytest
import yaml
from ruleset_factory import row

from nocert_rules import RulesetError, load_ruleset
from nocert_rules.policy import cross_references
from nocert_rules.policy.certificate_list import ListRow
from nocert_rules.policy.cross_references import MANIFEST_CITATIONS, manifest_citations
from nocert_rules.policy.merge import merge_manifest, merge_rows, merge_rules
from nocert_rules.policy.overlay import DistrictRow, OverlayChange
from nocert_rules.policy.yaml_source import LocatedYaml, load_located_text

ROOT = Path(__file__).resolve().parent.parent
ZIBO = ROOT / "rulesets" / "zibo"
DISTRICT = ROOT / "rulesets" / "zibo-zhangdian"


def dump(path: Path, data: Any) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="module")
def city() -> Any:
    return load_ruleset(ZIBO)


@pytest.fixture()
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return shutil.copytree(ZIBO, tmp_path / "zibo"), shutil.copytree(DISTRICT, tmp_path / "zibo-zhangdian")


# ------------------------------------------------------------------ stage 3, merge: one test per rule


def test_merge_manifest_a_key_replaces_the_parents_whole_value_and_sources_merge_by_id(city: Any) -> None:
    deadlines = city.manifest.deadlines.model_dump(mode="json", exclude_none=True)
    deadlines["complaint_working_days"] = 3
    deadlines.pop("office_hours", None)
    deadlines.pop("escalation")
    replaced_source = dict(city.manifest.sources[0].model_dump(mode="json"), title="区里的新标题")
    own = {"extends": "../zibo", "name": "d", "deadlines": deadlines,
           "sources": [replaced_source, {"id": "new-one", "title": "区文件", "issuer": "区", "date": "2021-01-01"}]}
    merged = merge_manifest(city.manifest, LocatedYaml("manifest.yaml", own, {(): 1}))
    assert merged.name == "d" and merged.title == city.manifest.title and merged.extends == "../zibo"
    assert merged.deadlines.complaint_working_days == 3
    assert merged.deadlines.escalation is None  # not merged key by key: the district's deadlines only
    ids = [s.id for s in merged.sources]
    assert ids == [s.id for s in city.manifest.sources[1:]] + [city.manifest.sources[0].id, "new-one"]
    assert merged.sources[-2].title == "区里的新标题"


def test_merge_clauses_by_id_a_district_clause_replaces_and_others_are_added(pair: tuple[Path, Path]) -> None:
    city_dir, district = pair
    city = load_ruleset(city_dir)
    first = next(iter(city.clauses.values()))
    dump(district / "clauses.yaml", {"clauses": [
        {"id": first.id, "source": first.source, "text": "区里改写的条文"},
        {"id": "区-新条款", "source": "zhangdian-list-sample", "text": "新增条文"},
    ]})
    loaded = load_ruleset(district)
    assert list(loaded.clauses) == [*city.clauses, "区-新条款"]
    assert loaded.clauses[first.id].text == "区里改写的条文"
    assert [(c.kind, c.key) for c in loaded.overlay_changes if c.kind == "clause"] == [
        ("clause", first.id), ("clause", "区-新条款")]
    dump(district / "clauses.yaml", {"clauses": [{"id": "x", "source": "nowhere", "text": "t"}]})
    with pytest.raises(RulesetError) as caught:
        load_ruleset(district)
    assert (caught.value.file, caught.value.field, caught.value.problem) == (
        "clauses.yaml", "clauses[0].source", "unknown source 'nowhere'")


def test_merge_rules_by_id_in_place_and_new_rules_after(city: Any) -> None:
    second = city.rules[1].model_dump(mode="json")
    second["reason"] = "区里的理由 / the district's reason"
    new = dict(second, id="district.new-rule")
    doc = load_located_text(yaml.safe_dump({"rules": [new, second]}, allow_unicode=True), "rules.yaml")
    changes: list[OverlayChange] = []
    rules = merge_rules(city.rules, doc, city.clauses, changes)
    assert [r.id for r in rules] == [r.id for r in city.rules] + ["district.new-rule"]
    assert rules[1].reason == "区里的理由 / the district's reason" and rules[0] is city.rules[0]
    assert [(c.key, c.line) for c in changes] == [("district.new-rule", 2), (second["id"], doc.line_of(("rules", 1)))]
    unknown = load_located_text(yaml.safe_dump({"rules": [dict(new, clause="无此条")]}, allow_unicode=True), "rules.yaml")
    with pytest.raises(RulesetError, match="not in the clauses of this or the parent ruleset"):
        merge_rules(city.rules, unknown, city.clauses, [])


def _row(item: str, cert: str, **fields: Any) -> ListRow:
    return ListRow.model_validate(row(item, cert, **fields))


def _district_row(item: str, cert: str, **fields: Any) -> DistrictRow:
    return DistrictRow.model_validate(dict(row(item, cert, **fields), change_basis="依据"))


def test_merge_rows_parent_order_withdrawn_dropped_versions_in_place_new_rows_last() -> None:
    a, b, c = _row("S1", "a"), _row("S1", "b"), _row("S1", "c")
    b1 = _district_row("S1", "b", valid_until="2024-06-30")
    b2 = _district_row("S1", "b", valid_from="2024-07-01")
    added = _district_row("S2", "new")
    merged = merge_rows([a, b, c], [added, b1, b2], gone={("S1", "c")})
    assert merged == [a, b1, b2, added]
    assert merged[0] is a and merged[1] is b1


def test_inherit_side_files_and_officers_own_file_wins_else_the_parents(pair: tuple[Path, Path]) -> None:
    city_dir, district = pair
    city = load_ruleset(city_dir)
    template = city.manifest.files.pledge_template
    assert template is not None and city.officers is not None
    inherited = load_ruleset(district)
    assert inherited.files[template] == city.files[template]
    assert inherited.parent is not None and inherited.officers is inherited.parent.officers
    assert inherited.calendar_overrides == city.calendar_overrides  # a district has none of its own
    (district / template).parent.mkdir(parents=True, exist_ok=True)
    own = city.files[template] + "\n区里补充的一句。\n".encode()
    (district / template).write_bytes(own)
    shutil.copy(city_dir / (city.manifest.files.officers or "officers.yaml"), district / "officers.yaml")
    overridden = load_ruleset(district)
    assert overridden.files[template] == own
    assert overridden.parent is not None and overridden.officers is not overridden.parent.officers
    assert overridden.officers is not None and "officers.yaml" in overridden.files
    assert overridden.sha256 != inherited.sha256


# ------------------------------------------------------------------ stage 5, check: the table


def test_every_manifest_citation_path_is_checked_with_its_own_path(pair: tuple[Path, Path]) -> None:
    city_dir, _ = pair
    city = load_ruleset(city_dir)
    cited = list(manifest_citations(city.manifest))
    assert len({p[:2] for p, _ in cited}) >= len(MANIFEST_CITATIONS) - 2  # the bundled ruleset sets nearly all
    data = yaml.safe_load((city_dir / "manifest.yaml").read_text(encoding="utf-8"))
    data["accountability"]["exemption_clause"] = "无此条款"
    data["pledge_policy"]["post_check"]["normal"]["clause"] = "也无此条"
    dump(city_dir / "manifest.yaml", data)
    with pytest.raises(RulesetError) as caught:
        load_ruleset(city_dir)
    found = [(p.field, p.problem.split(" (")[0]) for p in caught.value.problems]
    assert found == [("pledge_policy.post_check.normal.clause", "cites unknown clause '也无此条'"),
                     ("accountability.exemption_clause", "cites unknown clause '无此条款'")]
    assert all(p.line for p in caught.value.problems)


def test_the_checks_run_in_order_clauses_first() -> None:
    assert cross_references.CHECKS[0] is cross_references.check_clauses
    assert len(set(cross_references.CHECKS)) == len(cross_references.CHECKS)


# ------------------------------------------------------------------ line lookups: linear in keys


class _CountingDict(dict):  # type: ignore[type-arg]
    """A mapping that counts the keys handed out by iterating over it."""

    handed_out = 0

    def __iter__(self) -> Any:
        for key in super().__iter__():
            _CountingDict.handed_out += 1
            yield key


def test_line_of_every_key_of_a_mapping_walks_its_keys_once_not_once_per_key() -> None:
    n = 3000
    data = _CountingDict((f"k{i}", i) for i in range(n))
    doc = LocatedYaml("big.yaml", data, root_line=1, child_lines={id(data): array("I", range(1, n + 1))})
    _CountingDict.handed_out = 0
    lines = [doc.line_of((f"k{i}",)) for i in range(n)]
    assert lines == list(range(1, n + 1))
    assert _CountingDict.handed_out <= 2 * n  # today's list(node).index(part): n * (n + 1) / 2


def test_every_problem_of_a_file_of_many_keys_is_at_its_line() -> None:
    n = 5000
    doc = load_located_text("".join(f"k{i}: {i}\n" for i in range(n)), "clauses.yaml")
    assert [doc.line_of((f"k{i}",)) for i in (0, 1, n // 2, n - 1)] == [1, 2, n // 2 + 1, n]
    assert doc.line_of(("absent",)) == 1


def test_the_quadratic_benchmark_runs_at_its_tiny_size() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_load.py"), "--keys", "--tiny"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "keys" in done.stdout and "ratio" in done.stdout
