"""Conformance vectors (`nocert-rules export-vectors`): every vector decided again gives the same answer."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from live_server import LiveServer, live_server

from nocert_rules import Engine, load_ruleset
from nocert_rules.cli.main import main
from nocert_rules.tools.rule_tests import find_test_files, run_tests
from nocert_rules.tools.vectors import check_vectors, export_vectors

ROOT = Path(__file__).resolve().parent.parent
ZIBO = ROOT / "rulesets" / "zibo"


@pytest.fixture(scope="module")
def vectors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("vectors") / "vectors.json"
    result = CliRunner().invoke(main, ["export-vectors", str(ZIBO), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8"))


def test_every_vector_decided_again_gives_the_same_answer(vectors: dict[str, Any], zibo_engine: Engine) -> None:
    assert vectors["format"] == "nocert-rules/conformance-vectors" and vectors["format_version"] == 1
    assert vectors["ruleset"]["sha256"] == zibo_engine.ruleset.sha256
    assert len(vectors["vectors"]) > 100
    assert check_vectors(zibo_engine, vectors) == []


def test_vectors_hold_every_yaml_test_case_every_row_and_every_rule(vectors: dict[str, Any], zibo_engine: Engine) -> None:
    rs = zibo_engine.ruleset
    cases = run_tests(rs, find_test_files(rs)).results
    tests = [v for v in vectors["vectors"] if v["source"] == "test"]
    assert [v["name"] for v in tests] == [c.name for c in cases]
    rows = {(v["input"]["service_item"], v["input"]["certificate"]) for v in vectors["vectors"] if v["source"] == "row"}
    assert {row.key for row in rs.rows} <= rows
    covered = {r for v in vectors["vectors"] for r in v["expected"]["fired"]}
    assert covered == {rule.id for rule in rs.rules}
    assert vectors["uncovered_rules"] == []
    shown = {r for v in vectors["vectors"] for r in v["expected"]["offered"] + v["expected"]["blocked"]}
    assert shown == {rule.id for rule in rs.rules}  # each rule seen deciding, not only firing
    with_deadline = [v for v in vectors["vectors"] if v["expected"]["deadline"]]
    assert {v["expected"]["deadline"]["kind"] for v in with_deadline} == {"verification_reply", "post_check"}


def test_no_personal_data_beyond_the_synthetic_ids(vectors: dict[str, Any]) -> None:
    names = {v["input"]["applicant"].get("name") for v in vectors["vectors"]}
    assert names <= {None}


def test_export_is_reproducible(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for out in (a, b):
        assert CliRunner().invoke(main, ["export-vectors", str(ZIBO), "--out", str(out)]).exit_code == 0
    assert a.read_bytes() == b.read_bytes()


def test_a_changed_ruleset_disagrees_with_the_vectors(vectors: dict[str, Any], tmp_path: Path) -> None:
    folder = tmp_path / "rs"
    shutil.copytree(ZIBO, folder)
    rules = folder / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert "id: pledge.untrustworthy" in text
    rules.write_text(text.replace("id: pledge.untrustworthy", "id: pledge.untrustworthy-renamed"), encoding="utf-8")
    with Engine(load_ruleset(folder)) as engine:
        problems = check_vectors(engine, vectors)
    assert problems and all("pledge.untrustworthy" in p for _, p in problems)
    path = tmp_path / "v.json"
    path.write_text(json.dumps(vectors, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["export-vectors", str(folder), "--check", str(path)])
    assert result.exit_code == 1
    assert "failed" in result.stdout and "not this version" in result.stderr


def test_a_failing_yaml_test_case_stops_the_export(tmp_path: Path) -> None:
    folder = tmp_path / "rs"
    shutil.copytree(ZIBO, folder)
    case = folder / "tests" / "methods.yaml"
    case.write_text(case.read_text(encoding="utf-8").replace("method: DATA_SHARING", "method: PROXY", 1), encoding="utf-8")
    out = tmp_path / "v.json"
    result = CliRunner().invoke(main, ["export-vectors", str(folder), "--out", str(out)])
    assert result.exit_code == 1 and "methods.yaml:" in result.stderr
    assert not out.exists()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(ZIBO, tmp_path_factory.mktemp("vsrv")) as srv:
        yield srv


def test_the_http_service_agrees_with_every_vector(vectors: dict[str, Any], server: LiveServer) -> None:
    """What a host does with the vectors: send each input, compare the answer (fired rules are not in a
    Decision; the trace's offers and blocks are)."""
    items = vectors["vectors"]
    with server.client() as client:
        results = client.post("/v1/decide/batch", json={"requests": [v["input"] for v in items]}).json()["results"]
    for vector, result in zip(items, results, strict=True):
        d = result["decision"]
        got = {
            "method": d["method"], "applicant_must_submit": d["applicant_must_submit"], "listed": d["listed"],
            "issuer": d["issuer"],
            "offered": [s["rule_id"] for s in d["trace"] if s["effect"] == "offer"],
            "blocked": [s["rule_id"] for s in d["trace"] if s["effect"] == "block"],
            "deadline": {"kind": d["deadline"]["kind"], "due_at": d["deadline"]["due_at"]} if d["deadline"] else None,
            "post_check_waived": d["post_check"]["waived"] if d["post_check"] else None,
        }
        want = {k: v for k, v in vector["expected"].items() if k != "fired"}
        assert got == want, vector["id"]


def test_export_vectors_api_matches_cli(vectors: dict[str, Any], zibo_engine: Engine) -> None:
    assert export_vectors(zibo_engine.ruleset, zibo_engine) == vectors


def test_json_output_of_export_and_check(tmp_path: Path) -> None:
    out = tmp_path / "v.json"
    result = CliRunner().invoke(main, ["export-vectors", str(ZIBO), "--out", str(out), "--json"])
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    assert summary["vectors"] == len(json.loads(out.read_text(encoding="utf-8"))["vectors"])
    checked = CliRunner().invoke(main, ["export-vectors", str(ZIBO), "--check", str(out), "--json"])
    assert checked.exit_code == 0
    assert json.loads(checked.stdout) == {"passed": summary["vectors"], "failed": 0, "same_version": True, "problems": []}
