"""Issue 21's figures in one run, each a ratio with its target, as a table and as JSON.

    python benchmarks/run_all.py --issue21            # the figures (about 10 minutes on a quiet machine)
    python benchmarks/run_all.py --issue21 --quick    # tiny sizes: a check of the wiring, not figures

Rows (issue 21, "Targets"): compiled ``decide()`` median against ``json.loads`` of the same case
line (<= 4x) and the plain-Python if-chain (<= 10x), durable ``decide()`` against the bare
durable_rules post (<= 1.3x; ``bench_decide.py``, in this process, interleaved); durable
``decide()`` against v0.1.0's (faster), ``dry-run --out`` and summary-only of 100,000 generated cases
against v0.1.0 (>= 2x, >= 3x; ``compare_release.py``, the release in its own venv); the peak RSS
of a 1,000,000-case dry-run (<= 100 MB; ``bench_dryrun_memory.py``); lines of
``nocert_rules/tools`` + ``nocert_rules/engine`` (< 7,323). The service rows are
``bench_service.py``'s (run by ``run_all.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

DEFAULT_JSON = HERE / "results" / "issue21.json"
LINES_BEFORE = 7_323


def child_json(script: str, *args: str) -> tuple[int, Any, str]:
    """Run ``benchmarks/<script>`` writing JSON to a file; (exit code, figures or None, output)."""
    out = HERE / "results" / f".{script}.json"
    done = subprocess.run([sys.executable, str(HERE / script), *args, "--json-out", str(out)], cwd=ROOT,
                          capture_output=True, text=True)
    figures = json.loads(out.read_text(encoding="utf-8")) if done.returncode == 0 and out.exists() else None
    out.unlink(missing_ok=True)
    return done.returncode, figures, (done.stdout + done.stderr).rstrip()


def memory(cases: int) -> tuple[int, Any, str]:
    done = subprocess.run([sys.executable, str(HERE / "bench_dryrun_memory.py"), "--sizes", str(cases), "--json"],
                          cwd=ROOT, capture_output=True, text=True)
    figures = json.loads(done.stdout) if done.returncode == 0 else None
    return done.returncode, figures, (done.stdout + done.stderr).rstrip()


def line_count() -> int:
    files = [*(ROOT / "nocert_rules" / "tools").glob("*.py"), *(ROOT / "nocert_rules" / "engine").glob("*.py")]
    return sum(len(f.read_text(encoding="utf-8").splitlines()) for f in files)


def row(key: str, what: str, value: float | None, shown: str, target: str, met: bool | None) -> dict[str, Any]:
    verdict = "FAILED" if value is None else ("MET" if met else "MISSED")
    return {"key": key, "what": what, "value": value, "shown": shown if value is not None else "did not run",
            "target": target, "verdict": verdict}


def table(decide: dict[str, Any] | None, release: dict[str, Any] | None, mem: dict[str, Any] | None,
          lines: int) -> list[dict[str, Any]]:
    vs = (decide or {}).get("vs", {})
    ratios = (release or {}).get("ratios", {})
    rss = mem["runs"][-1]["peak_rss_mib"] * 1.048576 if mem else None  # MiB -> MB

    def r(d: dict[str, Any], k: str, sub: str | None = "median") -> float | None:
        v = d.get(k)
        return None if v is None else (v[sub] if sub else v)

    rows = [
        ("compiled_vs_json", "compiled decide() median / json.loads of the case line", r(vs, "compiled/json.loads"),
         "<= 4x", lambda v: v <= 4, "{:.2f}x"),
        ("compiled_vs_ifchain", "compiled decide() median / plain-Python if-chain", r(vs, "compiled/ifchain"),
         "<= 10x", lambda v: v <= 10, "{:.2f}x"),
        ("durable_vs_bare", "durable decide() median / bare durable_rules post", r(vs, "decide/bare"),
         "<= 1.3x", lambda v: v <= 1.3, "{:.2f}x"),
        ("durable_vs_release", "v0.1.0 decide() median / this tree's (durable)", r(ratios, "decide_release_over_tree", None),
         "> 1x", lambda v: v > 1, "{:.2f}x"),
        ("dry_run_out", "dry-run --out throughput / v0.1.0's", r(ratios, "dry_run_out_throughput", None),
         ">= 2x", lambda v: v >= 2, "{:.2f}x"),
        ("dry_run_summary", "dry-run summary-only throughput / v0.1.0's", r(ratios, "dry_run_throughput", None),
         ">= 3x", lambda v: v >= 3, "{:.2f}x"),
        ("dry_run_1m_rss", "dry-run peak RSS (MB)", rss, "<= 100 MB", lambda v: v <= 100, "{:.0f} MB"),
        ("lines", "lines of nocert_rules/tools + nocert_rules/engine", float(lines), f"< {LINES_BEFORE:,}",
         lambda v: v < LINES_BEFORE, "{:,.0f}"),
    ]
    return [row(k, w, v, f.format(v) if v is not None else "", t, ok(v) if v is not None else None)
            for k, w, v, t, ok, f in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: the wiring, not figures")
    parser.add_argument("--json-out", type=Path, default=DEFAULT_JSON, metavar="FILE")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    load0 = os.getloadavg()
    n, cases, release_cases, big = (300, 100, 500, 2_000) if args.quick else (20_000, 5_000, 100_000, 1_000_000)
    import bench_decide

    decide = None
    try:
        decide = bench_decide.run(n, cases, "generated", verbose=True)
    except ImportError as exc:  # no durable_rules here (Python 3.13+)
        print(f"bench_decide.py skipped: {exc}")
    code, release, out = child_json("compare_release.py", "--cases", str(release_cases), "--rows", "1000",
                                    "--repeat", "1" if args.quick else "3", "--with-out", "--decide",
                                    "200" if args.quick else "2000")
    print(out if code == 0 else f"compare_release.py failed (exit {code}):\n{out}")
    code, mem, out = memory(big)
    print(out if code == 0 else f"bench_dryrun_memory.py failed (exit {code}):\n{out}")
    rows = table(decide, release, mem, line_count())
    tree = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    data = {"tree": tree, "quick": args.quick, "python": platform.python_version(),
            "load_average_start": load0, "load_average_end": os.getloadavg(),
            "seconds": round(time.perf_counter() - started), "rows": rows,
            "sizes": {"decide_calls": n, "decide_cases": cases, "release_cases": release_cases, "memory_cases": big}}
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\n=== issue 21: the ratios (tree {tree}{', tiny sizes' if args.quick else ''}) ===")
    print("| figure | measured | target | verdict |\n| --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['what']} | {r['shown']} | {r['target']} | {r['verdict']} |")
    print(f"(issue 21: {data['seconds']} s; load average {load0[0]:.2f} -> {os.getloadavg()[0]:.2f}; "
          f"JSON in {args.json_out})")
    return 0 if all(r["verdict"] != "FAILED" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
