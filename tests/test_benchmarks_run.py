"""Benchmarks cannot rot: every script in ``benchmarks/`` runs at tiny sizes and must exit 0.

Not timings (the figures at these sizes mean nothing): a benchmark that raises, asserts or
no longer parses its own flags fails here. A script is skipped only where an optional
dependency it needs is absent, with the reason. A new script without an entry in ``TINY``
fails ``test_every_script_has_a_tiny_run``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"

TINY: dict[str, list[str]] = {
    "bench_audit_verify.py": ["--sizes", "200", "300"],
    "bench_calendar.py": ["--quick"],
    "bench_dask.py": ["--cases", "2000"],  # prints "skipped" itself without dask.distributed
    "bench_decide.py": ["--quick"],
    "bench_dryrun_memory.py": ["--sizes", "500"],
    "bench_list_import.py": ["--rows", "100"],
    "bench_load.py": ["--sizes", "100", "200", "--repeat", "1"],
    "bench_read_cases.py": ["--cases", "2000", "--rounds", "1", "--check", "2000"],
    "bench_service.py": ["--tiny"],
    "bench_worktime.py": ["--n", "100"],
    "casegen.py": [],  # a module of the others: importing it is its run
    "compare_release.py": ["--cases", "500", "--rows", "100", "--repeat", "1", "--with-out", "--decide", "50", "--from-source"],
    "durable_limits.py": ["--quick"],
    "ifchain.py": [],
    "listgen.py": [],
    "zen_table.py": [],
    # The two that run the others: each child is run above; here their flags and imports
    # (their whole quick runs are slow tests: tests/test_benchmarks_issue14.py, run_all --quick).
    "issue14.py": ["--help"],
    "issue21.py": ["--help"],
    "run_all.py": ["--help"],
}

NEEDS: dict[str, str] = {
    "bench_decide.py": "durable",  # the durable backend and its bare floor (no durable_rules on 3.13)
    "durable_limits.py": "durable",
    "bench_service.py": "fastapi",  # the extra serve
    "bench_list_import.py": "openpyxl",  # the extra excel
}


def test_every_script_has_a_tiny_run() -> None:
    scripts = sorted(p.name for p in BENCH.glob("*.py"))
    assert scripts == sorted(TINY), "give each benchmark script a tiny run in TINY"


def _durable_imports() -> bool:
    done = subprocess.run([sys.executable, "-c", "from durable import engine"], capture_output=True)
    return done.returncode == 0


@pytest.mark.parametrize("script", sorted(TINY))
def test_the_script_runs_at_tiny_sizes(script: str) -> None:
    need = NEEDS.get(script)
    if need == "durable" and not _durable_imports():  # in a child: a broken import may abort
        pytest.skip("durable_rules does not import here")
    elif need and need != "durable" and importlib.util.find_spec(need) is None:
        pytest.skip(f"{need} is not installed")
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *TINY[script]], cwd=ROOT, capture_output=True, text=True,
        timeout=240,
    )
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def test_the_service_bench_says_an_fsync_per_decision_only_of_405bd9c() -> None:
    """bench_service's baseline rows name 405bd9c's commit policy (an fsync per decision) only
    for 405bd9c; a later baseline (``--baseline e89b100``) has group commit too."""
    pytest.importorskip("httpx")
    pytest.importorskip("psutil")
    spec = importlib.util.spec_from_file_location("bench_service", BENCH / "bench_service.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    tree = bench.Tree
    assert bench.keyed_policy(tree("405bd9c", (), ROOT)) == "an fsync per decision"
    assert bench.keyed_policy(tree("405bd9cfe", (), ROOT)) == "an fsync per decision"
    assert bench.keyed_policy(tree("e89b100", (), ROOT)) == "its own commit policy"
    assert bench.keyed_policy(None) == "its own commit policy"
