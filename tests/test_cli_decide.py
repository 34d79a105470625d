"""`nocert-rules decide`: one decision, readable by default, JSON with --json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from nocert_rules.cli.main import main
from nocert_rules.models import Decision

ROOT = Path(__file__).resolve().parent.parent
ZIBO = str(ROOT / "rulesets" / "zibo")
ID = "37039919900101001X"


def write_request(tmp_path: Path, **fields: object) -> str:
    request = {
        "service_item": "370300-XK-0011",
        "certificate": "ZM-ZJ-0002",
        "applicant": {"kind": "organization", "id_number": ID, "credit": "trustworthy"},
        "requested_at": "2021-04-30T16:45",
        **fields,
    }
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_readable_summary_names_method_issuer_deadline_and_trace(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["decide", ZIBO, "--request", write_request(tmp_path)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "部门核验 VERIFICATION" in out
    assert "淄博市住房和城乡建设局" in out  # issuer
    assert "2021-05-06 17:00" in out  # paper records: 1 working day after the May Day break
    assert "pledge.barred-by-risk" in out and "阻止 block" in out
    assert "国办发〔2020〕42号 不适用情形" in out  # clause id of the blocking rule
    assert "附件2 第七条" in out
    assert ID not in out and "370*************1X" in out


def test_json_is_the_decision_and_round_trips(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["decide", ZIBO, "--request", write_request(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    decision = Decision.model_validate_json(result.stdout)
    assert decision.method.value == "VERIFICATION"
    assert [s.rule_id for s in decision.trace if s.effect == "block"] == ["pledge.barred-by-risk"]
    assert ID not in result.stdout


def test_request_from_stdin_and_as_of(tmp_path: Path) -> None:
    text = Path(write_request(tmp_path, service_item="370300-XK-0001", certificate="ZM-SJ-0001")).read_text()
    result = CliRunner().invoke(main, ["decide", ZIBO, "--request", "-", "--as-of", "2022-03-01", "--json"],
                                input=text)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["requested_at"] == "2022-03-01T10:00:00+08:00"
    assert any("已过有效期" in w for w in data["warnings"])


def test_bad_json_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"service_item": "x",\n "certificate": }', encoding="utf-8")
    result = CliRunner().invoke(main, ["decide", ZIBO, "--request", str(bad)])
    assert result.exit_code == 2
    assert "bad JSON" in result.stderr and f"{bad}:2" in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_request_missing_a_field_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"service_item": "370300-XK-0001", "certificate": "ZM-SJ-0001",
                                "applicant": {"kind": "person", "id_number": ID}}), encoding="utf-8")
    result = CliRunner().invoke(main, ["decide", ZIBO, "--request", str(path)])
    assert result.exit_code == 2
    assert "requested_at" in result.stderr and "Traceback" not in result.output


def test_missing_request_file_and_missing_ruleset(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["decide", ZIBO, "--request", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "not found" in result.stderr
    result = CliRunner().invoke(main, ["decide", str(tmp_path / "no-ruleset"), "--request", "-"], input="{}")
    assert result.exit_code == 2 and "ruleset not found" in result.stderr


def test_sample_requests_all_decide() -> None:
    for path in sorted((ROOT / "examples" / "requests").glob("*.json")):
        result = CliRunner().invoke(main, ["decide", ZIBO, "--request", str(path), "--json"])
        assert result.exit_code == 0, (path, result.output)
        request_id = json.loads(path.read_text(encoding="utf-8"))["applicant"]["id_number"]
        assert request_id not in result.stdout


def test_python_dash_m_subprocess(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "nocert_rules", "decide", ZIBO, "--request",
                           write_request(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "部门核验 VERIFICATION" in proc.stdout
    assert "\x1b[" not in proc.stdout  # piped: no colour codes
