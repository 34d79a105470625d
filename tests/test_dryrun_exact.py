"""Parallel dry-runs decide with the exact ruleset given (issue 14): same bytes out, or refuse."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from ruleset_factory import MANIFEST, write_ruleset

from nocert_rules.cli.main import main
from nocert_rules.policy.ruleset import load_ruleset
from nocert_rules.policy.snapshot import RulesetMismatch, RulesetSnapshot
from nocert_rules.tools.dryrun import WorkerError, run_dry_run

ID = "37039919900101001X"


def cases(path: Path, n: int = 40) -> Path:
    lines = []
    for i in range(n):
        credit = ("normal", "untrustworthy", "trustworthy")[i % 3]
        cert = ("pledge", "share", "verify", "risky")[i % 4]
        lines.append(json.dumps({"case_id": f"C{i}", "service_item": "S1", "certificate": cert,
                                 "applicant": {"kind": "person", "id_number": ID, "credit": credit},
                                 "requested_at": f"2024-05-{6 + i % 20:02d}T10:00"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def two_manifests(tmp_path: Path) -> Path:
    """A folder whose manifest.yaml and manifest-2022.yaml differ in version and post-check days."""
    folder = write_ruleset(tmp_path / "rs")
    other: dict[str, Any] = copy.deepcopy(MANIFEST)
    other["version"] = "2022"
    other["pledge_policy"]["post_check"]["normal"]["within_working_days"] = 25
    (folder / "manifest-2022.yaml").write_text(yaml.safe_dump(other, allow_unicode=True, sort_keys=False),
                                               encoding="utf-8")
    return folder


def dry_run_out(ruleset: str, case_file: Path, out: Path, jobs: int) -> bytes:
    result = CliRunner().invoke(main, ["dry-run", ruleset, str(case_file), "--jobs", str(jobs),
                                       "--chunk-size", "3", "--out", str(out), "--json"])
    assert result.exit_code in (0, 1), result.output
    return out.read_bytes()


@pytest.mark.parametrize("manifest", ["manifest-2022.yaml", "manifest.yaml", ""])
def test_jobs_1_and_jobs_2_write_the_same_bytes(two_manifests: Path, tmp_path: Path, manifest: str) -> None:
    argument = str(two_manifests / manifest) if manifest else str(two_manifests)
    case_file = cases(tmp_path / "c.jsonl")
    one = dry_run_out(argument, case_file, tmp_path / "one.jsonl", 1)
    two = dry_run_out(argument, case_file, tmp_path / "two.jsonl", 2)
    assert one == two
    decisions = [json.loads(line)["decision"] for line in one.decode("utf-8").splitlines()]
    expected = load_ruleset(argument)
    assert {d["ruleset"]["sha256"] for d in decisions} == {expected.sha256}
    assert {d["ruleset"]["version"] for d in decisions} == {expected.version}
    days = {d["post_check"]["within_working_days"] for d in decisions
            if d["method"] == "PLEDGE" and d["applicant"]["credit"] == "normal"}
    assert days == ({25} if manifest == "manifest-2022.yaml" else {10})


def test_a_worker_refuses_a_ruleset_that_changed(tmp_path: Path) -> None:
    folder = write_ruleset(tmp_path / "rs")
    ruleset = load_ruleset(folder)
    with (folder / "clauses.yaml").open("a", encoding="utf-8") as f:
        f.write("# edited after the run started: valid YAML, other bytes\n")
    with pytest.raises(WorkerError, match="refuses to start") as info:
        run_dry_run(ruleset, str(cases(tmp_path / "c.jsonl")), jobs=2)
    assert info.value.exit_code == 2
    result = run_dry_run(ruleset, str(cases(tmp_path / "c.jsonl")), jobs=1)  # in process: the loaded one
    assert result.summary.decided == 40


def test_a_snapshot_with_bytes_needs_no_disk_and_checks_the_version(tmp_path: Path) -> None:
    folder = write_ruleset(tmp_path / "rs")
    ruleset = load_ruleset(folder)
    snapshot = RulesetSnapshot.of(ruleset, with_bytes=True)
    (folder / "clauses.yaml").write_text("clauses: [\n", encoding="utf-8")  # broken on disk now
    loaded = snapshot.load()
    assert loaded.sha256 == ruleset.sha256 and loaded.clauses.keys() == ruleset.clauses.keys()
    with pytest.raises(RulesetMismatch, match="refuses to start"):
        dataclasses.replace(snapshot, sha256="0" * 64).load()
    with pytest.raises(RulesetMismatch, match="version"):
        dataclasses.replace(snapshot, version="0.0.0-elsewhere").load()
    with pytest.raises(RulesetMismatch, match="outside"):
        dataclasses.replace(snapshot, files={"../x.yaml": b""}).load()
