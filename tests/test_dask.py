"""Dry-runs on Dask workers (issue 14): the same summary and --out as the single-process run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed")

import dask.bag as db  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

from nocert_rules.cli.main import main  # noqa: E402
from nocert_rules.policy.ruleset import load_ruleset  # noqa: E402
from nocert_rules.tools.distributed import dry_run_collection  # noqa: E402
from nocert_rules.tools.dryrun import run_dry_run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ZIBO = ROOT / "rulesets" / "zibo"
CASES = ROOT / "examples" / "cases.jsonl"
RUN_FIELDS = ("elapsed_seconds", "cases_per_second", "jobs", "cases_file", "lines")


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as dask_client:
        yield dask_client


def comparable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in RUN_FIELDS}


def case_lines() -> list[str]:
    lines = CASES.read_text(encoding="utf-8").splitlines()[:600]
    lines[10] = "{not json"  # malformed rows keep their lines
    lines[400] = json.dumps({"case_id": "X", "service_item": "370300-XK-0001"})
    return lines


def test_cli_dask_gives_the_single_process_summary_and_out(client: Client, tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(case_lines()) + "\n", encoding="utf-8")
    runner = CliRunner()
    local = runner.invoke(main, ["dry-run", str(ZIBO), str(cases), "--json", "--out", str(tmp_path / "a.jsonl"),
                                 "--chunk-size", "50"])
    remote = runner.invoke(main, ["dry-run", str(ZIBO), str(cases), "--json", "--out", str(tmp_path / "b.jsonl"),
                                  "--chunk-size", "50", "--dask", client.scheduler.address])
    assert local.exit_code == remote.exit_code == 1, remote.output  # the malformed rows
    one, two = json.loads(local.stdout), json.loads(remote.stdout)
    assert comparable(one) == comparable(two) and one["lines"] == two["lines"]
    assert two["jobs"] == 2 and one["errors"]["count"] == 2
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_a_bag_of_cases_gives_the_single_process_summary(client: Client, tmp_path: Path) -> None:
    lines = case_lines()
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ruleset = load_ruleset(ZIBO)
    expected = comparable(run_dry_run(ruleset, str(cases)).to_dict())
    items: list[Any] = [json.loads(x) if x.startswith("{\"") else x for x in lines]
    bag = db.from_sequence(items, npartitions=7)
    got = comparable(dry_run_collection(ruleset, bag, client=client).to_dict())
    assert got == expected
    assert [e["line"] for e in got["errors"]["rows"]] == [11, 401]


def test_a_dataframe_with_the_csv_columns(client: Client, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    rows = []
    for line in CASES.read_text(encoding="utf-8").splitlines()[:300]:
        case = json.loads(line)
        applicant = case.pop("applicant")
        rows.append({"case_id": case.get("case_id"), "service_item": case["service_item"],
                     "certificate": case["certificate"], "applicant_kind": applicant["kind"],
                     "applicant_id_number": applicant["id_number"], "applicant_credit": applicant.get("credit"),
                     "requested_at": case["requested_at"], "expected_method": case.get("expected_method")})
    frame = pd.DataFrame(rows)
    csv_path = tmp_path / "cases.csv"
    frame.to_csv(csv_path, index=False)
    ruleset = load_ruleset(ZIBO)
    single = run_dry_run(ruleset, str(csv_path))
    single.summary.shift_lines(-1)  # a frame's rows count from 1; the CSV file's from its header
    expected = comparable(single.to_dict())
    got = comparable(dry_run_collection(ruleset, dd.from_pandas(frame, npartitions=3), client=client).to_dict())
    assert got == expected and got["decided"] == 300 and got["expected"]["mismatches"]


def test_workers_refuse_a_ruleset_they_cannot_reproduce(client: Client, tmp_path: Path) -> None:
    import dataclasses

    from nocert_rules.policy.snapshot import RulesetMismatch, RulesetSnapshot
    from nocert_rules.tools import distributed as dist

    ruleset = load_ruleset(ZIBO)
    bad = dataclasses.replace(RulesetSnapshot.of(ruleset, with_bytes=True), sha256="f" * 64)
    future = client.submit(dist._decide_on_worker, bad, [], None, False, None, pure=False)
    with pytest.raises(RulesetMismatch, match="refuses to start"):
        future.result()


def test_runs_one_after_another_on_one_client(client: Client, tmp_path: Path) -> None:
    """Each run ships its own copy of the ruleset: the previous run's copy, released when its
    future is dropped, is not one the next run depends on (it was: 'lost dependencies')."""
    from nocert_rules.tools.distributed import run_dry_run_dask

    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(case_lines()[:200]) + "\n", encoding="utf-8")
    ruleset = load_ruleset(ZIBO)
    results = [comparable(run_dry_run_dask(ruleset, str(cases), client, chunk_size=10).to_dict()) for _ in range(4)]
    assert all(r == results[0] for r in results) and results[0]["rows"] == 200
