"""District overlays (policy/overlay.py): a district ruleset ``extends`` its city's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from nocert_rules import Engine, load_ruleset
from nocert_rules.cli.main import main
from nocert_rules.enums import Method
from nocert_rules.errors import RulesetError

ROOT = Path(__file__).resolve().parent.parent
ZIBO = ROOT / "rulesets" / "zibo"
DISTRICT = ROOT / "rulesets" / "zibo-zhangdian"
PERSON = {"kind": "person", "id_number": "37039919900101001X"}


def request(item: str, cert: str, **extra: Any) -> dict[str, Any]:
    return {"service_item": item, "certificate": cert, "applicant": PERSON, "requested_at": "2021-05-06T10:00", **extra}


@pytest.fixture()
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """Copies of the city and the district, side by side (the district extends ../zibo)."""
    city = shutil.copytree(ZIBO, tmp_path / "zibo")
    district = shutil.copytree(DISTRICT, tmp_path / "zibo-zhangdian")
    return city, district


def dump(path: Path, data: Any) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_the_district_inherits_overrides_adds_and_withdraws() -> None:
    city, district = load_ruleset(ZIBO), load_ruleset(DISTRICT)
    assert district.name == "zibo-zhangdian" and district.parent is not None and district.parent.name == "zibo"
    # one override, one added, one withdrawn; one row has a second version from adjustments.yaml
    assert len(district.rows) == len(city.rows) + 1
    assert district.find_row("370300-GG-0009", "ZM-CW-0007") is None
    assert district.find_row("370303-GG-0001", "ZM-GA-0002") is not None
    assert [r.id for r in district.rules] == [r.id for r in city.rules]
    assert {(c.kind, c.key) for c in district.overlay_changes} == {
        ("override", "370300-GG-0006 / ZM-ZR-0001"), ("add", "370303-GG-0001 / ZM-GA-0002"),
        ("withdraw", "370300-GG-0009 / ZM-CW-0007"),
    }
    assert all(c.basis and c.line for c in district.overlay_changes)
    with Engine(city) as c, Engine(district) as d:
        offline = request("370300-GG-0006", "ZM-ZR-0001", sharing_online=False)
        at_city, at_district = c.decide(offline), d.decide(offline)
        inherited = d.decide(request("370300-XK-0001", "ZM-SJ-0001"))
    assert at_city.method is Method.VERIFICATION and at_city.row_source == "zibo"
    assert at_district.method is Method.PROXY and at_district.row_source == "zibo-zhangdian"
    step = next(s for s in at_district.trace if s.rule_id == "engine.row-source")
    assert "zibo-zhangdian" in step.conclusion and "this level" in step.conclusion
    assert inherited.row_source == "zibo"
    assert "inherited" in next(s for s in inherited.trace if s.rule_id == "engine.row-source").conclusion
    assert not any(s.rule_id == "engine.row-source" for s in at_city.trace)  # no overlay, no step


def test_the_district_hash_covers_the_city_files(pair: tuple[Path, Path]) -> None:
    city, district = pair
    before = load_ruleset(district)
    assert any(name.startswith("../zibo/") for name in before.files)
    text = (city / "clauses.yaml").read_text(encoding="utf-8")
    (city / "clauses.yaml").write_text(text + "\n# a comment changes the bytes\n", encoding="utf-8")
    assert load_ruleset(district).sha256 != before.sha256


def test_a_rule_and_a_clause_are_overridden_by_id(pair: tuple[Path, Path]) -> None:
    _, district = pair
    dump(district / "clauses.yaml", {"clauses": [
        {"id": "区 第一条", "source": "zhangdian-list-sample", "text": "示例条款。", "quoted": False},
    ]})
    dump(district / "rules.yaml", {"rules": [
        {"id": "sharing.channel-offline", "method": "DATA_SHARING", "effect": "block",
         "when": {"request.sharing_online": False}, "clause": "区 第一条", "reason": "区级：共享通道不可用"},
        {"id": "district.extra", "method": "PROXY", "effect": "block", "when": {"applicant.kind": "organization"},
         "clause": "区 第一条", "reason": "示例"},
    ]})
    rs = load_ruleset(district)
    ids = [r.id for r in rs.rules]
    assert ids.count("sharing.channel-offline") == 1 and ids[-1] == "district.extra"
    assert next(r for r in rs.rules if r.id == "sharing.channel-offline").reason == "区级：共享通道不可用"
    with Engine(rs) as engine:
        decision = engine.decide(request("370300-XK-0001", "ZM-SJ-0001", sharing_online=False))
    blocks = [s for s in decision.trace if s.rule_id == "sharing.channel-offline"]
    assert blocks and blocks[0].citation is not None and blocks[0].citation.clause_id == "区 第一条"
    assert {c.kind for c in rs.overlay_changes} >= {"rule", "clause"}


def test_a_district_rule_citing_an_unknown_clause_is_refused(pair: tuple[Path, Path]) -> None:
    _, district = pair
    dump(district / "rules.yaml", {"rules": [
        {"id": "x", "method": "PROXY", "effect": "block", "when": {"applicant.kind": "organization"},
         "clause": "没有这条", "reason": "示例"},
    ]})
    with pytest.raises(RulesetError, match="unknown clause") as info:
        load_ruleset(district)
    line = (district / "rules.yaml").read_text(encoding="utf-8").splitlines()[info.value.line - 1]
    assert info.value.file == "rules.yaml" and line.strip().startswith("clause:")


def test_withdrawing_a_row_the_city_lacks_is_an_error_at_its_line(pair: tuple[Path, Path]) -> None:
    _, district = pair
    data = yaml.safe_load((district / "certificates.yaml").read_text(encoding="utf-8"))
    data["withdrawn"].append({"service_item_code": "370300-GG-9999", "certificate_id": "ZM-X", "basis": "示例"})
    dump(district / "certificates.yaml", data)
    with pytest.raises(RulesetError, match="does not have") as info:
        load_ruleset(district)
    assert info.value.file == "certificates.yaml" and info.value.line is not None


def test_a_change_without_its_basis_is_refused(pair: tuple[Path, Path]) -> None:
    _, district = pair
    data = yaml.safe_load((district / "certificates.yaml").read_text(encoding="utf-8"))
    del data["rows"][0]["change_basis"]
    dump(district / "certificates.yaml", data)
    with pytest.raises(RulesetError) as info:
        load_ruleset(district)
    assert info.value.field == "rows[0].change_basis"


def test_extends_loops_and_missing_parents_are_errors(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    city, district = pair
    manifest = yaml.safe_load((city / "manifest.yaml").read_text(encoding="utf-8"))
    manifest["extends"] = "../zibo-zhangdian"
    dump(city / "manifest.yaml", manifest)
    with pytest.raises(RulesetError, match="loops"):
        load_ruleset(district)
    lonely = shutil.copytree(DISTRICT, tmp_path / "alone" / "zibo-zhangdian")
    with pytest.raises(RulesetError, match="no ruleset at ../zibo") as info:
        load_ruleset(lonely)
    assert info.value.file == "manifest.yaml" and info.value.line == 5


def test_lint_lists_the_changes_and_locates_inherited_rows_in_the_city_file() -> None:
    result = CliRunner().invoke(main, ["lint", str(DISTRICT), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["errors"] == []
    changes = {(c["kind"], c["key"]): c for c in data["changes"]}
    override = changes[("override", "370300-GG-0006 / ZM-ZR-0001")]
    assert override["file"].endswith("zibo-zhangdian/certificates.yaml") and "三(一)1" in override["basis"]
    below = [w for w in data["warnings"] if w["code"] == "basis-below-rank"]
    assert len(below) == 7 and all(w["file"].endswith("zibo/certificates.yaml") for w in below)
    city_text = (ZIBO / "certificates.yaml").read_text(encoding="utf-8").splitlines()
    assert all("legal_basis:" in city_text[w["line"] - 1] for w in below)


def test_diff_city_to_district_lists_the_district_changes() -> None:
    result = CliRunner().invoke(main, ["diff", str(ZIBO), str(DISTRICT), "--json"])
    assert result.exit_code in (0, 1), result.output
    rows = json.loads(result.stdout)["rows"]
    assert [r["service_item_code"] for r in rows["added"]] == ["370303-GG-0001"]
    assert [(r["service_item_code"], r["certificate_id"]) for r in rows["cancelled"]] == [("370300-GG-0009", "ZM-CW-0007")]
    changed = {r["service_item_code"]: r for r in rows["changed"]}
    assert set(changed) == {"370300-GG-0006", "370300-JF-0010"}  # the override; the adjusted row's latest version
    assert "methods" in json.dumps(changed["370300-GG-0006"])


def test_the_district_yaml_tests_pass() -> None:
    result = CliRunner().invoke(main, ["test", str(DISTRICT)])
    assert result.exit_code == 0, result.output
    assert "10 passed" in result.output
