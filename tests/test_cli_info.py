"""`nocert-rules info` and the backend lines of `lint`; `--backend` of decide and dry-run (issue #9)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from click.testing import CliRunner
from ruleset_factory import RULES, write_ruleset

from nocert_rules.cli.main import main
from nocert_rules.engine import backend as backends
from nocert_rules.engine import budget

ROOT = Path(__file__).resolve().parent.parent
ZIBO = str(ROOT / "rulesets" / "zibo")
DURABLE = backends.durable_available()[0]


def wide(tmp_path: Path) -> Path:
    rules = copy.deepcopy(RULES)
    rules[0]["when"] = {"row.certificate_id": {"in": [f"ZM-{i:05d}" for i in range(495)] + ["gone"]}}
    return write_ruleset(tmp_path / "wide", rules=rules)


def test_info_names_the_backend_of_each_rule_file_and_why() -> None:
    result = CliRunner().invoke(main, ["info", ZIBO, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["name"] == "zibo" and data["rules"] == 19 and data["rows"] == 91  # 90 pairs; 契税完税凭证 has 2 versions
    assert set(data["backend"]) == {"rules.yaml", "complaint_rules.yaml"}
    expected = "durable" if DURABLE else "compiled"
    assert {c["backend"] for c in data["backend"].values()} == {expected}
    assert data["durable_budget"]["paths"] == budget.MAX_PATHS
    text = CliRunner().invoke(main, ["info", ZIBO]).stdout
    assert f"backend for rules.yaml: {expected} — auto:" in text


def test_info_and_lint_on_a_ruleset_over_budget_say_compiled_and_where(tmp_path: Path) -> None:
    folder = wide(tmp_path)
    data = json.loads(CliRunner().invoke(main, ["info", str(folder), "--json"]).stdout)
    choice = data["backend"]["rules.yaml"]
    assert choice["backend"] == "compiled"
    if DURABLE:
        assert "over durable_rules' budget at rules.yaml:" in choice["reason"]
    plain = CliRunner().invoke(main, ["lint", str(folder)])
    assert "backend for rules.yaml: compiled" in plain.stdout


def test_decide_backend_option_is_stamped_and_durable_over_budget_is_a_usage_error(tmp_path: Path) -> None:
    request = str(ROOT / "examples" / "requests" / "sharing.json")
    result = CliRunner().invoke(main, ["decide", ZIBO, "--request", request, "--json", "--backend", "compiled"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ruleset"]["backend"] == "compiled"
    refused = CliRunner().invoke(main, ["decide", str(wide(tmp_path)), "--request", request, "--backend", "durable"])
    assert refused.exit_code == 2
    assert "rules.yaml:" in refused.stderr and ("budget" in refused.stderr or "does not import" in refused.stderr)
    dry = CliRunner().invoke(main, ["dry-run", str(wide(tmp_path)), str(ROOT / "examples" / "cases.jsonl"),
                                    "--backend", "durable"])
    assert dry.exit_code == 2 and "rules.yaml:" in dry.stderr
