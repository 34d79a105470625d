"""The `nocert-rules` group: help, version, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import nocert_rules.tools.lint
from nocert_rules.cli.main import main

ROOT = Path(__file__).resolve().parent.parent


def test_help_lists_commands_and_exit_codes() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("decide", "dry-run", "lint", "diff", "check-guide", "calendar", "test"):
        assert command in result.stdout
    assert "Exit codes" in result.stdout and "2  用法错误" in result.stdout
    sub = CliRunner().invoke(main, ["dry-run", "--help"])
    assert sub.exit_code == 0 and "--jobs" in sub.stdout and "Exit codes" in sub.stdout


def test_version_and_usage_errors() -> None:
    assert CliRunner().invoke(main, ["--version"]).exit_code == 0
    assert CliRunner().invoke(main, ["no-such-command"]).exit_code == 2
    assert CliRunner().invoke(main, ["dry-run", "rulesets/zibo"]).exit_code == 2  # CASES missing


def test_unexpected_error_is_one_line_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(path: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(nocert_rules.tools.lint, "lint_ruleset", boom)
    result = CliRunner().invoke(main, ["lint", str(ROOT / "rulesets" / "zibo")])
    assert result.exit_code == 3
    assert result.stderr.strip() == ("错误 / error: 内部错误 / internal error: RuntimeError: kaput "
                                     "(NOCERT_DEBUG=1 shows the traceback)")


def test_audit_group_is_added_when_available() -> None:
    try:
        from nocert_rules.cli.audit import audit  # noqa: F401
    except ImportError:
        pytest.skip("nocert_rules.cli.audit is not there")
    assert "audit" in main.commands


def test_python_dash_m_help_and_missing_ruleset(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "nocert_rules", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "nocert-rules" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "nocert_rules", "dry-run", str(tmp_path / "none"), "x.jsonl"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "ruleset not found" in proc.stderr and "Traceback" not in proc.stderr
