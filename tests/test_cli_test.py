"""`nocert-rules test`: the YAML test cases kept with a ruleset, reported like pytest."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from nocert_rules.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
ZIBO = ROOT / "rulesets" / "zibo"


def test_zibo_cases_pass_and_cover_every_method() -> None:
    result = CliRunner().invoke(main, ["test", str(ZIBO), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["failed"] == 0 and data["passed"] >= 15
    import yaml

    methods = set()
    blocked = set()
    for path in (ZIBO / "tests").glob("*.yaml"):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            methods.add(case["expect"].get("method"))
            blocked |= set(case["expect"].get("blocked") or [])
    assert {"ABOLISH", "APPLICANT_PROVIDED", "DATA_SHARING", "PLEDGE", "VERIFICATION", "PROXY"} <= methods
    assert {"pledge.barred-by-risk", "pledge.blacklisted", "pledge.untrustworthy", "pledge.applicant-declines",
            "pledge.serious-bad-record", "sharing.channel-offline", "proxy.not-authorised"} <= blocked


def test_failures_are_reported_with_file_line_expected_and_got(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "- name: 应为承诺\n"
        "  request: {service_item: '370300-XK-0001', certificate: ZM-SJ-0001,\n"
        "            applicant: {kind: person, id_number: '37039919900101001X'}, requested_at: '2021-05-06T10:00'}\n"
        "  expect: {method: PLEDGE, blocked: [pledge.blacklisted]}\n"
        "- name: 未知字段\n"
        "  request: {service_item: a}\n"
        "  expect: {methd: PLEDGE}\n"
        "- name: 请求不完整\n"
        "  request: {service_item: a}\n"
        "  expect: {method: PLEDGE}\n",
        encoding="utf-8")
    result = CliRunner().invoke(main, ["test", str(ZIBO), str(bad)])
    assert result.exit_code == 1
    out = result.stdout
    assert f"{bad} FEE" in out
    assert f"{bad}:1" in out and "method: 预期 expected 'PLEDGE', 实际 got 'DATA_SHARING'" in out
    assert "expected pledge.blacklisted as a block" in out
    assert f"{bad}:7" in out and "methd" in out
    assert f"{bad}:9" in out and "requested_at" in out
    assert "0 passed, 3 failed" in out


def test_keyword_filter_and_no_tests(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["test", str(ZIBO), "-k", "黑名单", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["passed"] == 1
    copy = tmp_path / "zibo"
    shutil.copytree(ZIBO, copy, ignore=shutil.ignore_patterns("tests"))
    result = CliRunner().invoke(main, ["test", str(copy)])
    assert result.exit_code == 2 and "no test files" in result.stderr


def test_yaml_error_in_a_test_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("- name: x\n  request: {a: [1, 2}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["test", str(ZIBO), str(bad)])
    assert result.exit_code == 1 and f"{bad}:2" in result.stdout and "bad YAML" in result.stdout


def test_subprocess_python_dash_m() -> None:
    proc = subprocess.run([sys.executable, "-m", "nocert_rules", "test", "rulesets/zibo"], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed, 0 failed" in proc.stdout
