#!/usr/bin/env python3
"""Memory and throughput of ``nocert-rules dry-run``: is memory flat in the number of cases?

Generates N cases (examples/generate_cases.py, fixed seed) to a temporary file, runs the
dry-run in a fresh subprocess, and reports wall time, cases per second and the peak resident
set size (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a wrapper process, so each size
is measured alone; with ``--jobs`` it is the largest single process, workers included).

    python benchmarks/bench_dryrun_memory.py                  # 10,000 cases
    python benchmarks/bench_dryrun_memory.py --big            # and 1,000,000
    python benchmarks/bench_dryrun_memory.py --sizes 10000 100000 --jobs 4 --with-out

The last line prints the ratio of peak RSS between the largest and the smallest size: close to
1.0 means memory does not grow with the number of cases.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import casegen  # noqa: E402

RULESET = ROOT / "rulesets" / "zibo"

_WRAPPER = """
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
elapsed = time.perf_counter() - started
print(code, elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def generate(n: int, path: Path, seed: int) -> float:
    """Write ``n`` cases to ``path``; the seconds it took."""
    started = time.perf_counter()
    casegen.write(n, path, RULESET, seed)
    return time.perf_counter() - started


def measure(path: Path, jobs: int, with_out: bool) -> dict[str, Any]:
    """Run the dry-run on ``path`` in a wrapper; exit code, seconds, peak RSS in MiB."""
    command = [sys.executable, "-m", "nocert_rules", "dry-run", str(RULESET), str(path), "--json",
               "--no-progress", "--jobs", str(jobs)]
    if with_out:
        command += ["--out", os.devnull]
    result = subprocess.run([sys.executable, "-c", _WRAPPER, *command], capture_output=True, text=True, check=True)
    code, elapsed, maxrss_kib = result.stdout.split()
    return {"exit_code": int(code), "seconds": float(elapsed), "peak_rss_mib": int(maxrss_kib) / 1024}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000], help="case counts (default 10000)")
    parser.add_argument("--big", action="store_true", help="also 1,000,000 cases")
    parser.add_argument("--jobs", type=int, default=1, help="dry-run --jobs (default 1)")
    parser.add_argument("--with-out", action="store_true", help="also write per-case results (to /dev/null)")
    parser.add_argument("--seed", type=int, default=20210210)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    sizes = sorted(set(args.sizes + ([1_000_000] if args.big else [])))
    rows = []
    with tempfile.TemporaryDirectory(prefix="nocert-bench-") as tmp:
        for n in sizes:
            path = Path(tmp) / f"cases-{n}.jsonl"
            gen_s = generate(n, path, args.seed)
            m = measure(path, args.jobs, args.with_out)
            rows.append({"cases": n, "file_mib": path.stat().st_size / 2**20, "generate_seconds": gen_s, **m,
                         "cases_per_second": n / m["seconds"]})
            path.unlink()
            if not args.json:
                r = rows[-1]
                print(f"{n:>10,} cases  {r['file_mib']:8.1f} MiB file  {r['seconds']:8.1f} s  "
                      f"{r['cases_per_second']:>9,.0f} cases/s  peak RSS {r['peak_rss_mib']:7.1f} MiB  "
                      f"(exit {r['exit_code']}, jobs {args.jobs})", flush=True)
    ratio = rows[-1]["peak_rss_mib"] / rows[0]["peak_rss_mib"] if len(rows) > 1 else 1.0
    if args.json:
        print(json.dumps({"jobs": args.jobs, "with_out": args.with_out, "runs": rows, "rss_ratio": ratio}, indent=2))
    elif len(rows) > 1:
        print(f"peak RSS ratio {rows[-1]['cases']:,} / {rows[0]['cases']:,} cases: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
