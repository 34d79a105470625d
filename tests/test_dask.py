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


# ------------------------------------------------------------------ the workers read the file


def jsonl_in_blocks(path: Path) -> list[int]:
    """600 cases with malformed, blank and not-UTF-8 lines spread over the file (block size 4 KiB:
    about 40 blocks); the lines expected as errors."""
    lines = CASES.read_text(encoding="utf-8").splitlines()[:600]
    bad = {}
    for n in (3, 57, 58, 190, 333, 421, 599):
        bad[n] = "{not json" if n % 2 else json.dumps({"case_id": f"X{n}", "service_item": "370300-XK-0001"})
    data = []
    for i, line in enumerate(lines, start=1):
        data.append((bad.get(i, line)).encode())
        if i % 97 == 0:
            data.append(b"   ")  # blank lines keep the numbering
    data[250] = b"\xff\xfe not UTF-8"
    path.write_bytes(b"\n".join(data))  # no newline at the end
    text = b"\n".join(data).split(b"\n")
    return [i for i, raw in enumerate(text, start=1) if raw.strip() and (raw.startswith(b"\xff") or
                                                                         raw.startswith(b"{not") or b'"X' in raw)]


def test_workers_read_a_jsonl_file_in_blocks_same_summary_and_lines(client: Client, tmp_path: Path) -> None:
    from distributed import get_task_stream

    from nocert_rules.tools import distributed as dist

    cases = tmp_path / "cases.jsonl"
    errors = jsonl_in_blocks(cases)
    ruleset = load_ruleset(ZIBO)
    single = run_dry_run(ruleset, str(cases)).to_dict()
    assert dist.reading_plan(client, str(cases)) == ("workers", str(cases.resolve()))
    with get_task_stream(client) as stream:
        got = dist.run_dry_run_dask(ruleset, str(cases), client, chunk_size=7, block_bytes=4096).to_dict()
    names = [task["key"].split("-")[0] for task in stream.data]
    blocks = -(-cases.stat().st_size // 4096)
    assert names.count("_count_block") == blocks and names.count("_decide_block") == blocks > 20  # on the workers
    assert comparable(got) == comparable(single) and got["lines"] == single["lines"]
    assert [e["line"] for e in got["errors"]["rows"]] == errors and len(errors) == 8  # 7 bad, 1 not UTF-8
    assert got["lines"]["blank"] == 6 and got["jobs"] == 2


def test_cli_workers_read_gives_the_same_out(client: Client, tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    jsonl_in_blocks(cases)
    runner = CliRunner()
    local = runner.invoke(main, ["dry-run", str(ZIBO), str(cases), "--json", "--out", str(tmp_path / "a.jsonl")])
    remote = runner.invoke(main, ["dry-run", str(ZIBO), str(cases), "--json", "--out", str(tmp_path / "b.jsonl"),
                                  "--dask", client.scheduler.address, "--dask-read", "workers",
                                  "--dask-block-bytes", "5000"])
    assert local.exit_code == remote.exit_code == 1, remote.output
    one, two = json.loads(local.stdout), json.loads(remote.stdout)
    assert comparable(one) == comparable(two) and one["lines"] == two["lines"]
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_csv_is_read_by_the_client_even_with_quotes_across_blocks(client: Client, tmp_path: Path) -> None:
    """CSV stays client-side: a quoted cell may hold line breaks (and a stray quote swallows
    lines), so no byte block can be cut without reading from the header."""
    from nocert_rules.tools import distributed as dist

    header = "case_id,service_item,certificate,applicant_kind,applicant_id_number,applicant_name,requested_at"
    rows = [f"C{i},370300-XK-0001,ZM-SJ-0001,person,37039919900101001X,张三,2021-05-06T10:00" for i in range(300)]
    rows[40] = rows[40].replace("张三", '"张\n三\n四"')  # a name with line breaks: one case, three lines
    rows[120] = rows[120].replace("张三", '"张三')  # a stray quote ...
    rows[160] = rows[160].replace("张三", '李四"')  # ... closed 40 lines later
    path = tmp_path / "cases.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    ruleset = load_ruleset(ZIBO)
    assert dist.reading_plan(client, str(path))[0] == "client"
    with pytest.raises(dist.WorkersCannotRead, match="CSV"):
        dist.reading_plan(client, str(path), reading="workers")
    single = run_dry_run(ruleset, str(path)).to_dict()
    got = dist.run_dry_run_dask(ruleset, str(path), client, chunk_size=9, block_bytes=512).to_dict()
    assert comparable(got) == comparable(single) and got["lines"] == single["lines"]
    assert single["lines"]["continued"] == 2 and single["lines"]["swallowed"] == 40


def test_a_file_the_workers_do_not_see_is_read_by_the_client(client: Client, tmp_path: Path) -> None:
    from nocert_rules.tools import distributed as dist

    cases = tmp_path / "cases.jsonl"
    jsonl_in_blocks(cases)
    size, digest = dist.file_fingerprint(str(cases)) or (0, "")
    assert dist.workers_see(client, str(cases), (size, digest))
    assert not dist.workers_see(client, str(cases), (size, "0" * 64))  # another file under that path
    assert not dist.workers_see(client, str(tmp_path / "absent.jsonl"), dist.file_fingerprint(str(tmp_path / "absent.jsonl")))
    assert dist.reading_plan(client, "-")[0] == "client"
    with pytest.raises(dist.WorkersCannotRead, match="standard input"):
        dist.reading_plan(client, "-", reading="workers")
    assert dist.reading_plan(client, str(cases), reading="client")[0] == "client"


def test_cli_dask_read_workers_refuses_csv_with_exit_2(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("service_item,certificate,applicant_kind,applicant_id_number,requested_at\n"
                    "370300-XK-0001,ZM-SJ-0001,person,37039919900101001X,2021-05-06T10:00\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["dry-run", str(ZIBO), str(path), "--dask", client.scheduler.address,
                                       "--dask-read", "workers"])
    assert result.exit_code == 2 and "cannot read the case file: CSV" in result.output
    auto = CliRunner().invoke(main, ["dry-run", str(ZIBO), str(path), "--json", "--dask", client.scheduler.address])
    assert auto.exit_code == 0 and json.loads(auto.stdout)["decided"] == 1
