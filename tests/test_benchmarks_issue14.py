"""``run_all.py --issue14`` (benchmarks/issue14.py): one table of every issue-14 ratio, with its
target and verdict, the machine, and the same as JSON. Not timings: the wiring and the verdicts."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
KEYS = ["load_vs_csafeloader", "load_peak_rss", "release_load_speed", "release_load_rss", "release_dry_run",
        "dask_2_vs_1", "dask_same_summary"]


def issue14() -> Any:
    spec = importlib.util.spec_from_file_location("issue14", ROOT / "benchmarks" / "issue14.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def steps(load_ratio: float, rss_mib: float, speed: float, memory: float, dry: float, two: float,
          same: bool) -> tuple[dict[str, Any], ...]:
    load = {"script": "bench_load.py", "exit_code": 0, "figures": {
        "10000": {"ratio": load_ratio}, "100000": {"nocert": {"peak_rss_mib": rss_mib}}}}
    release = {"script": "compare_release.py", "exit_code": 0, "figures": {
        "rev": "64ce47b", "ratios": {"load_speed": speed, "load_rss": memory, "dry_run_throughput": dry}}}
    dask = {"script": "bench_dask.py", "exit_code": 0, "figures": {
        "ratio_2_vs_1": two, "cases_per_second": {"1": 1000.0, "2": 1000.0 * two}, "same_summary": same,
        "checked_cases": 20_000}}
    return load, release, dask


def test_the_verdicts_follow_the_issue_targets() -> None:
    mod = issue14()
    sizes = {"load_sizes": [10_000, 100_000], "rows": 10_000, "cases": 1_000_000}
    met = mod.table(*steps(2.0, 572.0, 2.5, 0.5, 2.0, 1.2, True), sizes)  # 572 MiB = 599.8 MB
    assert [r["key"] for r in met] == KEYS
    assert [r["verdict"] for r in met] == ["MET"] * 7 and all(r["full_size"] for r in met)
    missed = mod.table(*steps(2.01, 573.0, 2.49, 0.51, 1.99, 0.9, False), sizes)  # 573 MiB = 600.8 MB
    assert [r["verdict"] for r in missed] == ["MISSED"] * 7
    rss = next(r for r in missed if r["key"] == "load_peak_rss")
    assert rss["shown"] == "601 MB (573 MiB)"


def test_a_failed_step_fails_its_rows_and_small_sizes_are_marked() -> None:
    mod = issue14()
    load, release, dask = steps(1.0, 100.0, 3.0, 0.3, 1.0, 1.5, True)
    release = {"script": "compare_release.py", "exit_code": 1, "figures": None}
    dask = {"script": "bench_dask.py", "exit_code": 0, "figures": {"skipped": "dask.distributed is not installed"}}
    load["figures"] = {"300": {"ratio": 1.0}, "1000": {"nocert": {"peak_rss_mib": 40.0}}}
    rows = mod.table(load, release, dask, {"load_sizes": [300, 1_000], "rows": 300, "cases": 3_000})
    verdicts = {r["key"]: r["verdict"] for r in rows}
    assert verdicts == {"load_vs_csafeloader": "MET", "load_peak_rss": "MET", "release_load_speed": "FAILED",
                        "release_load_rss": "FAILED", "release_dry_run": "FAILED", "dask_2_vs_1": "FAILED",
                        "dask_same_summary": "FAILED"}
    assert not any(r["full_size"] for r in rows if r["key"] != "dask_same_summary")
    assert "not installed" in next(r for r in rows if r["key"] == "dask_2_vs_1")["shown"]


@pytest.mark.slow
def test_one_quick_run_prints_and_writes_every_row(tmp_path: Path) -> None:
    """The whole command at tiny sizes (a temporary venv of 0.1.0, a LocalCluster: ~30 s)."""
    pytest.importorskip("distributed")
    out = tmp_path / "issue14.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--issue14", "--quick",
                           "--json-out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [r["key"] for r in data["rows"]] == KEYS
    assert all(r["verdict"] in ("MET", "MISSED") for r in data["rows"]), data["rows"]
    assert {"cpu_model", "logical_cpus", "python", "load_average_start", "load_average_end"} <= set(data["machine"])
    table = done.stdout.split("=== issue 14: the ratios", 1)[1]
    for row in data["rows"]:
        assert row["measure"] in table and row["verdict"] in table
    assert "logical CPUs" in table and "at the end" in table


def test_benchmarks_md_records_the_committed_run() -> None:
    """BENCHMARKS.md's issue-14 table is the committed run's (benchmarks/results/issue14.json), verbatim."""
    path = ROOT / "benchmarks" / "results" / "issue14.json"
    if not path.exists():
        pytest.skip("no issue-14 run committed yet (python benchmarks/run_all.py --issue14)")
    result = json.loads(path.read_text(encoding="utf-8"))
    assert [r["key"] for r in result["rows"]] == KEYS
    text = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
    assert issue14().markdown(result) in text
