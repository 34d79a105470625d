#!/usr/bin/env python3
"""Dry-run on a Dask cluster (``--dask``): 2 workers against 1 worker on the same cases.

Starts a ``distributed.LocalCluster`` bound to 127.0.0.1 (worker processes, one thread each, no
dashboard) with 1 and then 2 workers, and runs :func:`nocert_rules.tools.distributed.run_dry_run_dask`
(what ``nocert-rules dry-run --dask ADDRESS`` does) on the same generated case file; prints cases per
second for each and the 2-vs-1 ratio. The Dask summary must equal the single-process run's (checked
on the first 20,000 cases).

    python benchmarks/bench_dask.py                 # 1,000,000 cases, the workers read (--read auto)
    python benchmarks/bench_dask.py --cases 100000 --read client   # this process reads and ships chunks

With ``--read auto`` (the default, as ``--dask-read``) the local workers see the file and read it
in blocks; with ``client`` this process reads and ships chunks of records, and on the 2-core
machine it and the scheduler share the cores with the workers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import casegen  # noqa: E402

RULESET = ROOT / "rulesets" / "zibo"
RUN_FIELDS = ("elapsed_seconds", "cases_per_second", "jobs", "cases_file")


def generate(n: int, path: Path, seed: int = 20210210) -> None:
    casegen.write(n, path, RULESET, seed)


def on_cluster(workers: int, cases: Path, reading: str = "auto",
               warm: Path | None = None) -> tuple[float, dict[str, Any], str, dict[str, Any]]:
    """One timed run on a fresh cluster of ``workers``, after an untimed run on ``warm`` (default:
    ``cases``) that makes every worker load the ruleset and build its engine: (seconds, the
    timed run's summary, who read the file, the warm run's summary)."""
    from distributed import Client, LocalCluster

    from nocert_rules import load_ruleset
    from nocert_rules.tools.distributed import reading_plan, run_dry_run_dask

    ruleset = load_ruleset(RULESET)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=40) as cluster, Client(cluster) as client:
        client.wait_for_workers(workers)
        who = reading_plan(client, str(cases), None, reading)[0]  # type: ignore[arg-type]
        warmed = run_dry_run_dask(ruleset, str(warm or cases), client, chunk_size=2000,  # type: ignore[arg-type]
                                  reading=reading, block_bytes=1 << 20)  # a few blocks: every worker gets one
        started = time.perf_counter()  # warm (engines built): timed from here
        result = run_dry_run_dask(ruleset, str(cases), client, chunk_size=2000, reading=reading)  # type: ignore[arg-type]
        return time.perf_counter() - started, result.to_dict(), who, warmed.to_dict()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--read", choices=["auto", "workers", "client"], default="auto",
                        help="who reads the case file (dry-run --dask-read; default auto: the workers here)")
    parser.add_argument("--json-out", metavar="FILE", help="also write the figures as JSON to FILE (run_all.py --issue14)")
    args = parser.parse_args(argv)
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("bench_dask.py: dask.distributed is not installed (pip install -e '.[dask]'): skipped")
        if args.json_out:
            Path(args.json_out).write_text(json.dumps({"skipped": "dask.distributed is not installed"}),
                                           encoding="utf-8")
        return 0
    from nocert_rules import load_ruleset
    from nocert_rules.tools.dryrun import run_dry_run

    with tempfile.TemporaryDirectory(prefix="nocert-dask-") as tmp:
        cases = Path(tmp) / "cases.jsonl"
        generate(args.cases, cases)
        check = Path(tmp) / "check.jsonl"
        checked = min(20_000, args.cases)
        with cases.open(encoding="utf-8") as source:
            check.write_text("".join(source.readline() for _ in range(checked)), encoding="utf-8")
        single = run_dry_run(load_ruleset(RULESET), str(check)).to_dict()
        seconds: dict[int, float] = {}
        rows: dict[int, int] = {}
        same = False
        for workers in (1, 2):
            seconds[workers], data, who, small = on_cluster(workers, cases, args.read, warm=check)
            rows[workers] = data["rows"]
            print(f"{args.cases:>10,} cases on {workers} Dask worker(s), read by the {who}: {seconds[workers]:7.1f} s, "
                  f"{args.cases / seconds[workers]:>9,.0f} cases/s (rows {data['rows']:,})", flush=True)
            if workers == 2:  # the warm-up run on 2 workers is the check: small blocks, both workers busy
                same = {k: v for k, v in small.items() if k not in RUN_FIELDS} == \
                    {k: v for k, v in single.items() if k not in RUN_FIELDS}
        print(f"{checked:,}-case check: the Dask summary (2 workers) equals the single-process run's: {same}", flush=True)
    ratio = seconds[1] / seconds[2]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"dask {args.cases:,} cases, read by the {who}: 2 workers / 1 worker throughput {ratio:.2f}x "
          f"(load average {load})")
    if args.json_out:
        figures = {"cases": args.cases, "read_by": who, "checked_cases": checked, "same_summary": same,
                   "seconds": {str(w): s for w, s in seconds.items()},
                   "cases_per_second": {str(w): args.cases / s for w, s in seconds.items()},
                   "rows": {str(w): r for w, r in rows.items()}, "ratio_2_vs_1": ratio,
                   "load_average_end": list(os.getloadavg())}
        Path(args.json_out).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
