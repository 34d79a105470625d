"""No ruleset the loader accepts kills, hangs or aborts the process (issue #9).

Each case of the issue runs in a child process with a timeout (a failure would be a SIGSEGV,
a SIGABRT or a spin that Ctrl-C cannot stop: it must never happen in the test process). The
child loads a copy of the Zibo ruleset with ``abolish.not-listed`` widened as the issue did,
builds ``Engine(rs)`` (auto), decides, then tries ``backend="durable"``, and prints what
happened; the test asserts it exited 0 with the expected typed outcome.

The probes at the end measure durable_rules itself (``nocert_rules.engine.durable_probe``, also
in child processes): what the budget allows survives, and the C core does fail just past the
limits the budget is derived from, so the margin is real.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nocert_rules.engine import backend as backends
from nocert_rules.engine import budget
from nocert_rules.engine.durable_probe import SHAPES, probe

ROOT = Path(__file__).resolve().parent.parent
ZIBO = ROOT / "rulesets" / "zibo"
DURABLE = backends.durable_available()[0]
needs_durable = pytest.mark.skipif(not DURABLE, reason="durable_rules does not import here")
NOT_LISTED = "when: {request.listed: false}"

CHILD = r"""
import json, sys
from nocert_rules import Engine, NocertError, load_ruleset
out = {}
try:
    rs = load_ruleset(sys.argv[1])
except NocertError as exc:
    print(json.dumps({"load": type(exc).__name__, "message": str(exc)}))
    sys.exit(0)
engine = Engine(rs)
out["backend"] = engine.backend
out["reason"] = engine.backend_reason
request = {"service_item": "370300-QR-0001", "certificate": "ZM-JY-0001",
           "requested_at": "2021-06-01T10:00:00",
           "applicant": {"kind": "person", "id_number": "370399199001011234"}}
decision = engine.decide(request)
out["method"] = decision.method.value
out["trace"] = [s.rule_id for s in decision.trace]
try:
    Engine(rs, backend="durable")
    out["durable"] = "built"
except NocertError as exc:
    out["durable"] = type(exc).__name__
    out["durable_message"] = str(exc)
print(json.dumps(out))
"""


def _nested_any(depth: int) -> dict[str, Any]:
    when: dict[str, Any] = {"row.certificate_id": "ZM-JY-0001"}
    for _ in range(depth):
        when = {"any": [when]}
    return when


def _flow(when: Any) -> str:
    """``when`` as one line of flow YAML (iterative enough for 2000 levels: built by hand)."""
    if isinstance(when, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in when.items()) + "}"
    if isinstance(when, list):
        return "[" + ", ".join(_flow(v) for v in when) + "]"
    return json.dumps(when, ensure_ascii=False)


def _flow_nested_any(depth: int) -> str:
    return "{any: [" * depth + "{row.certificate_id: ZM-JY-0001}" + "]}" * depth


def widened(tmp_path: Path, when: dict[str, Any] | str | None = None, extra_rules: int = 0) -> Path:
    """A copy of the Zibo ruleset with ``abolish.not-listed``'s condition replaced (flow YAML)."""
    target = tmp_path / "zibo"
    shutil.copytree(ZIBO, target)
    rules = target / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert NOT_LISTED in text
    if when is not None:
        flow = when if isinstance(when, str) else _flow(when)
        text = text.replace(NOT_LISTED, f"when: {flow}", 1)
    for i in range(extra_rules):
        text += (
            f"\n  - id: extra.r{i}\n    method: PROXY\n    effect: block\n"
            f"    when: {{row.certificate_id: {{in: [ZM-{2 * i:05d}, ZM-{2 * i + 1:05d}]}}}}\n"
            "    clause: 三(一)1\n    reason: 测试 / test\n"
        )
    rules.write_text(text, encoding="utf-8")
    return target


def run_child(folder: Path, timeout: float = 60) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder)], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ids(n: int) -> list[str]:
    return [f"ZM-XX-{i:04d}" for i in range(n - 1)] + ["ZM-JY-0001"]


@pytest.mark.parametrize(
    "case",
    ["in-495", "in-800", "any-495", "rules-250-in2", "any-nested-20"],
)
def test_the_issues_rulesets_decide_on_compiled_and_refuse_durable_typed(tmp_path: Path, case: str) -> None:
    if case.startswith("in-"):
        folder = widened(tmp_path, {"row.certificate_id": {"in": _ids(int(case[3:]))}})
    elif case == "any-495":
        folder = widened(tmp_path, {"any": [{"row.certificate_id": i} for i in _ids(495)]})
    elif case == "rules-250-in2":
        folder = widened(tmp_path, extra_rules=250)
    else:
        folder = widened(tmp_path, _nested_any(20))
    out = run_child(folder)
    assert out["backend"] == "compiled", out
    assert out["durable"] in ("RulesetError",), out
    assert "rules.yaml:" in out["durable_message"]
    if DURABLE:
        assert "budget" in out["reason"] and "budget" in out["durable_message"]
    else:
        assert "does not import" in out["reason"]
    if case == "rules-250-in2":  # the data-sharing row is decided as in the Zibo ruleset
        assert out["method"] == "DATA_SHARING", out
    else:  # the widened rule matches the listed certificate (its id is among the alternatives)
        assert out["method"] == "ABOLISH" and out["trace"][0] == "abolish.not-listed", out


@pytest.mark.parametrize("depth", [100, 200, 400, 2000])
def test_deeper_nesting_is_a_ruleset_error_at_its_line(tmp_path: Path, depth: int) -> None:
    out = run_child(widened(tmp_path, _flow_nested_any(depth)))
    assert out["load"] == "RulesetError", out
    assert out["message"].startswith("rules.yaml:"), out
    assert "nest" in out["message"]


@needs_durable
def test_within_budget_the_zibo_ruleset_stays_on_durable(tmp_path: Path) -> None:
    out = run_child(widened(tmp_path, {"row.certificate_id": {"in": _ids(budget.MAX_PATHS - 20)}}))
    assert out["backend"] == "durable" and out["durable"] == "built", out
    assert out["method"] == "ABOLISH" and out["trace"][0] == "abolish.not-listed"


# ---------------------------------------------------------------- the C core's limits, measured


@needs_durable
@pytest.mark.parametrize(
    ("shape", "n"),
    [
        ("in_values", budget.MAX_PATHS),
        ("any_alternatives", budget.MAX_PATHS),
        ("rules_with_in2", budget.MAX_PATHS // 2),
        ("same_condition", budget.MAX_PATHS),
        ("plain_rules", budget.MAX_PATHS),
        ("any_depth", budget.MAX_DEPTH),
        ("any_depth2", budget.MAX_DEPTH),
    ],
)
def test_durable_survives_what_the_budget_allows(shape: str, n: int) -> None:
    rules = SHAPES[shape](n)
    assert budget.check(rules) is None
    result = probe(rules, timeout=60)
    assert result.survived, result


@needs_durable
@pytest.mark.parametrize(
    ("shape", "n", "outcomes"),
    [
        ("any_depth", 16, {"error"}),  # error 113: 32-expression sequence
        ("same_condition", 260, {"error", "crash"}),  # error 108: 256-entry beta list
        ("in_values", 511, {"error", "crash", "timeout"}),  # 512-entry hash set full
    ],
)
def test_durable_fails_past_the_measured_limits(shape: str, n: int, outcomes: set[str]) -> None:
    rules = SHAPES[shape](n)
    assert budget.check(rules) is not None  # the budget keeps well away
    result = probe(rules, timeout=20)
    assert result.outcome in outcomes, result
    if result.outcome == "error":  # a typed error, never the C core's bare exception
        # Past the hash set the C core's failure varies with the process's memory layout (compile
        # or assert); either way it must arrive as a typed BackendError.
        assert result.detail.startswith(("BackendError: durable_rules could not compile",
                                         "BackendError: durable_rules failed on a fact")), result


@needs_durable
@pytest.mark.slow
@pytest.mark.parametrize(("shape", "n"), [("in_values", 512), ("rules_with_in2", 260), ("plain_rules", 600)])
def test_durable_spins_for_ever_past_the_hash_set(shape: str, n: int) -> None:
    assert probe(SHAPES[shape](n), timeout=10).outcome == "timeout"


def test_loader_limits_are_ruleset_errors_with_the_line_in_process(tmp_path: Path) -> None:
    # The loader is pure Python: safe to run here. 33 levels of any: the condition limit;
    # 60 levels: the YAML nesting limit comes first (two YAML levels per any).
    from nocert_rules import RulesetError, load_ruleset
    from nocert_rules.policy import conditions
    from nocert_rules.policy.yaml_source import MAX_NESTING

    for depth, needle in [(conditions.MAX_NESTING + 1, "any/all nest more than"), (MAX_NESTING // 2 + 10, "levels deep")]:
        folder = widened(tmp_path / str(depth), _flow_nested_any(depth))
        with pytest.raises(RulesetError) as info:
            load_ruleset(folder)
        err = info.value
        assert err.file == "rules.yaml" and err.line == 11, str(err)  # abolish.not-listed's when
        assert needle in str(err)
    load_ruleset(widened(tmp_path / "ok", _flow_nested_any(conditions.MAX_NESTING)))


def test_dry_run_with_two_workers_on_a_wide_ruleset_finishes(tmp_path: Path) -> None:
    # The issue: `dry-run --jobs 2` on such a ruleset hung with both workers at 99% CPU.
    folder = widened(tmp_path, {"row.certificate_id": {"in": _ids(495)}})
    done = subprocess.run(
        [sys.executable, "-m", "nocert_rules", "dry-run", str(folder), "examples/cases.jsonl", "--jobs", "2",
         "--json"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]  # 1: the widened rule changes expected methods
    summary = json.loads(done.stdout)
    assert summary["errors"]["count"] == 0
    assert summary["expected"]["checked"] > 0
