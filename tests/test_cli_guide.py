"""`nocert-rules check-guide`: materials a service guide may not ask for (附件5 第四条(一))."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from ruleset_factory import RULES, write_ruleset

from nocert_rules.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
ZIBO = str(ROOT / "rulesets" / "zibo")
GUIDE = str(ROOT / "examples" / "guide.yaml")


def check(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["check-guide", *args, "--json"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def verdicts(data: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {f"{m['service_item']}/{m['material']}": (m["verdict"], m["method"]) for m in data["materials"]}


def test_sample_guide_flags_forbidden_materials_with_their_method() -> None:
    code, data = check(ZIBO, GUIDE, "--as-of", "2021-06-01")
    assert code == 1
    v = verdicts(data)
    assert v["370300-XK-0001/营业执照"] == ("forbidden", "DATA_SHARING")
    assert v["370300-XK-0001/从业人员健康证明"] == ("forbidden", "DATA_SHARING")
    assert v["370300-XK-0001/无犯罪记录证明"] == ("forbidden", "ABOLISH")  # listed only for other items
    assert v["370300-GG-0006/居住证明（村居委会出具）"] == ("forbidden", "ABOLISH")
    assert v["370300-JF-0010/服役档案证明"] == ("forbidden", "PROXY")
    assert v["370300-QR-0004/生效法律文书及生效证明"] == ("forbidden", "VERIFICATION")
    assert v["370300-JF-0010/社区出具的生活困难证明"][0] == "suspicious"
    assert v["370300-XK-0001/食品经营许可申请书"] == ("ordinary", None)
    assert data["forbidden"] == 8 and data["suspicious"] == 2
    lines = {m["material"]: m["line"] for m in data["materials"]}
    assert lines["营业执照"] == 11  # file:line of the material in the guide


def test_human_output_names_file_line_and_method() -> None:
    result = CliRunner().invoke(main, ["check-guide", ZIBO, GUIDE, "--as-of", "2021-06-01"])
    assert result.exit_code == 1
    out = " ".join(result.stdout.split())  # lines wrap at 120 columns
    assert "examples/guide.yaml:11" in out and "✗ 不得索要 forbidden 营业执照 — 改为数据共享" in out
    assert "8 forbidden, 2 suspicious" in result.stdout


def test_clean_guide_passes_and_strict_fails_on_suspicious(tmp_path: Path) -> None:
    guide = tmp_path / "g.yaml"
    guide.write_text("items:\n  - service_item: '370300-XK-0001'\n    materials: [食品经营许可申请书, 法定代表人身份证]\n",
                     encoding="utf-8")
    assert check(ZIBO, str(guide), "--as-of", "2021-06-01")[0] == 0
    guide.write_text("items:\n  - service_item: '370300-XK-0001'\n    materials: [食品经营许可申请书, 在职证明]\n",
                     encoding="utf-8")
    code, data = check(ZIBO, str(guide), "--as-of", "2021-06-01")
    assert code == 0 and data["suspicious"] == 1
    assert check(ZIBO, str(guide), "--as-of", "2021-06-01", "--strict")[0] == 1


def test_csv_guide_and_a_proxy_only_certificate(tmp_path: Path) -> None:
    # 宣告死亡判决书 has no replacement method: the proxy officer fetches it, so the guide may not
    # ask the applicant for it either.
    guide = tmp_path / "g.csv"
    guide.write_text("service_item,material\n370300-JF-0006,宣告死亡判决书\n370300-JF-0006,ZM-GA-0003\n",
                     encoding="utf-8")
    code, data = check(ZIBO, str(guide), "--as-of", "2021-06-01")
    assert code == 1
    assert verdicts(data) == {"370300-JF-0006/宣告死亡判决书": ("forbidden", "PROXY"),
                              "370300-JF-0006/ZM-GA-0003": ("forbidden", "DATA_SHARING")}
    assert [m["line"] for m in data["materials"]] == [2, 3]


def test_certificate_left_to_the_applicant_is_allowed(tmp_path: Path) -> None:
    # 干部代办 blocked for everyone: the fallback (the applicant provides it) applies. (A rule still
    # fires: see the report about durable_rules crashing when no rule matches at all.)
    rules = [*RULES, {"id": "x.nobody", "method": "PROXY", "effect": "block", "when": {"row.status": "retained"},
                      "clause": "C-proxy", "reason": "无代办员"}]
    rs = write_ruleset(tmp_path / "rs", rules=rules)
    guide = tmp_path / "g.csv"
    guide.write_text("service_item,material\nS1,proxy-only\nS1,证明share\n", encoding="utf-8")
    code, data = check(str(rs), str(guide), "--as-of", "2024-06-03")
    assert code == 1
    assert verdicts(data) == {"S1/proxy-only": ("allowed", "APPLICANT_PROVIDED"),
                              "S1/证明share": ("forbidden", "DATA_SHARING")}


def test_expired_ruleset_warning_is_shown_once() -> None:
    result = CliRunner().invoke(main, ["check-guide", ZIBO, GUIDE, "--as-of", "2023-01-05"])
    assert result.exit_code == 1
    assert result.stdout.count("规则集已过有效期") == 1


def test_bad_guide_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check-guide", ZIBO, str(tmp_path / "none.yaml")])
    assert result.exit_code == 2 and "guide file not found" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("items:\n  - service_item: x\n    materials: [a, b\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check-guide", ZIBO, str(bad)])
    assert result.exit_code == 2 and f"{bad}:" in result.stderr and "Traceback" not in result.output
    bad.write_text("items:\n  - service_item: x\n    materials: [a, 3]\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check-guide", ZIBO, str(bad)])
    assert result.exit_code == 2 and "materials[1]" in result.stderr
