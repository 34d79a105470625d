#!/usr/bin/env python3
"""Every issue-14 ratio in one run, one table, with the machine described (``run_all.py --issue14``).

    python benchmarks/run_all.py --issue14                    # the issue's sizes (about 15-25 minutes here)
    python benchmarks/run_all.py --issue14 --quick            # tiny sizes: checks the wiring, not the targets
    python benchmarks/run_all.py --issue14 --cases 100000 --load-sizes 10000 30000 --json-out /tmp/i14.json

Runs, one after another, each a child process of this one (so each keeps its memory figures its own):

1. ``bench_load.py --sizes A B``: ``load_ruleset`` against ``yaml.load(..., CSafeLoader)`` on generated
   lists of A (10,000) and B (100,000) rows: the time ratio at A, the peak RSS at B.
2. ``compare_release.py --cases N --rows R``: this tree against the 0.1.0 release (``64ce47b``) in a
   temporary venv: N-case (1,000,000) dry-run throughput, R-row (10,000) load time and peak RSS.
3. ``bench_dask.py --cases N``: ``dry-run --dask`` on a ``LocalCluster`` of 1 and then 2 workers, the
   2-vs-1 throughput ratio, and whether the Dask summary equals the single-process one.

Then prints one table, every ratio with its target and MET / MISSED (a row at sizes below the
issue's is marked ``small``: a check of the wiring, not a figure for #14), the machine (CPU model
and count, RAM, Python, load average at the start and the end) and writes the same as JSON
(``--json-out``, default ``benchmarks/results/issue14.json``), which BENCHMARKS.md's #14 table is
checked against (``tests/test_benchmarks_issue14.py``). Exit 0 when every step ran (whatever the
verdicts), 1 when a step failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_JSON = HERE / "results" / "issue14.json"

FULL = {"load_sizes": [10_000, 100_000], "rows": 10_000, "cases": 1_000_000}
"""The sizes issue 14 sets its targets at."""

QUICK = {"load_sizes": [300, 1_000], "rows": 300, "cases": 3_000, "repeat": 1}


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else []


def machine() -> dict[str, Any]:
    """CPU model and count, RAM, OS, Python, the tree, the load average now."""
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram_gib = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    return {
        "cpu_model": cpu,
        "logical_cpus": os.cpu_count(),
        "ram_gib": ram_gib,
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "tree": _git("rev-parse", "--short", "HEAD") or "not a git checkout",
        "uncommitted_changes": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def step(script: str, args: list[str], json_path: Path) -> dict[str, Any]:
    """Run ``benchmarks/<script>`` as a child (its output goes straight to ours), then read the
    figures it wrote to ``json_path``."""
    started = time.perf_counter()
    load_start = load_average()
    print(f"\n=== {script} {' '.join(args)} " + "=" * max(0, 70 - len(script) - len(' '.join(args))), flush=True)
    code = subprocess.run([sys.executable, str(HERE / script), *args, "--json-out", str(json_path)],
                          cwd=ROOT, check=False).returncode
    figures: dict[str, Any] | None = None
    if code == 0 and json_path.exists():
        figures = json.loads(json_path.read_text(encoding="utf-8"))
    return {"script": script, "args": args, "exit_code": code, "seconds": round(time.perf_counter() - started, 1),
            "load_average_start": load_start, "load_average_end": load_average(), "figures": figures}


# ------------------------------------------------------------------ the table


def _row(key: str, measure: str, value: float | bool | None, shown: str, target: str,
         met: Callable[[Any], bool], full_size: bool, failed: str | None = None) -> dict[str, Any]:
    if failed is not None or value is None:
        verdict = "FAILED"
    else:
        verdict = "MET" if met(value) else "MISSED"
    return {"key": key, "measure": measure, "value": value, "shown": shown if failed is None else failed,
            "target": target, "verdict": verdict, "full_size": full_size}


def table(load: dict[str, Any], release: dict[str, Any], dask: dict[str, Any], sizes: dict[str, Any]) -> list[dict[str, Any]]:
    """Every #14 ratio as a row (``key``, ``measure``, ``value``, ``shown``, ``target``, ``verdict``,
    ``full_size``) from the three steps' results (``step()``); a step that failed fails its rows."""
    small, big = sizes["load_sizes"]
    rows: list[dict[str, Any]] = []

    lf = load.get("figures")
    why = None if lf else f"{load['script']} exit {load['exit_code']}"
    at_small = (lf or {}).get(str(small), {})
    at_big = (lf or {}).get(str(big), {})
    ratio = at_small.get("ratio")
    rows.append(_row("load_vs_csafeloader", f"load {small:,} rows: load_ruleset time / yaml.load(CSafeLoader) time",
                     ratio, f"{ratio:.2f}x" if ratio is not None else "", "<= 2x", lambda v: v <= 2,
                     small == FULL["load_sizes"][0], why))
    rss = at_big.get("nocert", {}).get("peak_rss_mib")
    mb = rss * 2**20 / 1e6 if rss is not None else None
    rows.append(_row("load_peak_rss", f"load {big:,} rows: peak RSS of load_ruleset", mb,
                     f"{mb:.0f} MB ({rss:.0f} MiB)" if mb is not None and rss is not None else "", "<= 600 MB",
                     lambda v: v <= 600, big == FULL["load_sizes"][1], why))

    rf = release.get("figures")
    why = None if rf else f"{release['script']} exit {release['exit_code']}"
    ratios = (rf or {}).get("ratios", {})
    rev = (rf or {}).get("rev", "64ce47b")
    speed, memory, dry = ratios.get("load_speed"), ratios.get("load_rss"), ratios.get("dry_run_throughput")
    rows.append(_row("release_load_speed", f"load {sizes['rows']:,} rows vs {rev}: release time / tree time", speed,
                     f"{speed:.2f}x faster" if speed is not None else "", ">= 2.5x", lambda v: v >= 2.5,
                     sizes["rows"] == FULL["rows"], why))
    rows.append(_row("release_load_rss", f"load {sizes['rows']:,} rows vs {rev}: tree peak RSS / release peak RSS",
                     memory, f"{memory:.2f}" if memory is not None else "", "<= 0.5", lambda v: v <= 0.5,
                     sizes["rows"] == FULL["rows"], why))
    rows.append(_row("release_dry_run", f"dry-run {sizes['cases']:,} cases vs {rev}: tree / release cases per second",
                     dry, f"{dry:.2f}x" if dry is not None else "", ">= 2x", lambda v: v >= 2,
                     sizes["cases"] == FULL["cases"], why))

    df = dask.get("figures")
    why = None if df and "skipped" not in df else (
        f"{dask['script']}: {df['skipped']}" if df else f"{dask['script']} exit {dask['exit_code']}")
    fig = df if why is None and df is not None else {}
    two = fig.get("ratio_2_vs_1")
    per_s = fig.get("cases_per_second", {})
    shown = f"{two:.2f}x ({per_s.get('2', 0):,.0f} vs {per_s.get('1', 0):,.0f} cases/s)" if two is not None else ""
    rows.append(_row("dask_2_vs_1", f"dry-run --dask {sizes['cases']:,} cases: 2 workers / 1 worker cases per second",
                     two, shown, "> 1x (#14 sets no figure)", lambda v: v > 1, sizes["cases"] == FULL["cases"], why))
    same = fig.get("same_summary")
    rows.append(_row("dask_same_summary",
                     f"dry-run --dask {fig.get('checked_cases', 0):,} cases: summary equals the single-process run's",
                     same, str(same) if same is not None else "", "True", lambda v: v is True, True, why))
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    width = max(len(r["measure"]) for r in rows)
    print(f"{'issue 14':<{width}}  {'figure':<34} {'target':<26} verdict")
    for r in rows:
        size = "" if r["full_size"] else "  (small)"
        print(f"{r['measure']:<{width}}  {r['shown']:<34} {r['target']:<26} {r['verdict']}{size}")
    if not all(r["full_size"] for r in rows):
        print("(small): sizes below the issue's, a check of the wiring, not a figure for #14")


def print_machine(m: dict[str, Any]) -> None:
    print(f"CPU      {m['cpu_model']}, {m['logical_cpus']} logical CPUs; RAM {m['ram_gib']} GiB")
    print(f"OS       {m['os']}; Python {m['python']}")
    print(f"tree     {m['tree']}{' (uncommitted changes)' if m['uncommitted_changes'] else ''}")
    end = f", at the end {' '.join(map(str, m['load_average_end']))}" if "load_average_end" in m else ""
    print(f"load     average (1, 5, 15 min) at the start {' '.join(map(str, m['load_average_start']))}{end}",
          flush=True)


def markdown(result: dict[str, Any]) -> str:
    """The run as BENCHMARKS.md records it (the test checks that BENCHMARKS.md holds it verbatim)."""
    m = result["machine"]
    lines = [
        f"Run: `{result['command']}`, {result['started_at']} to {result['finished_at']} ({result['seconds']:.0f} s), "
        f"tree `{m['tree']}`{' (uncommitted changes)' if m['uncommitted_changes'] else ''}.",
        f"Machine: {m['cpu_model']}, {m['logical_cpus']} logical CPUs, {m['ram_gib']} GiB RAM, {m['python']}; "
        f"load average (1, 5, 15 min) {' '.join(map(str, m['load_average_start']))} at the start, "
        f"{' '.join(map(str, m['load_average_end']))} at the end.",
        "",
        "| issue 14 | figure | target | verdict |",
        "| --- | --- | --- | --- |",
    ]
    for r in result["rows"]:
        lines.append(f"| {r['measure']} | {r['shown']} | {r['target']} | **{r['verdict']}**"
                     f"{'' if r['full_size'] else ' (small)'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"tiny sizes (load {QUICK['load_sizes']}, rows {QUICK['rows']}, cases {QUICK['cases']}, "
                             "repeat 1) unless given")
    parser.add_argument("--load-sizes", type=int, nargs=2, metavar=("A", "B"),
                        help="bench_load.py: time ratio at A rows, peak RSS at B rows (default 10000 100000)")
    parser.add_argument("--rows", type=int, help="compare_release.py: rows of the loaded list (default 10000)")
    parser.add_argument("--cases", type=int, help="cases for the release dry-run and the Dask run (default 1000000)")
    parser.add_argument("--repeat", type=int, help="runs per measurement in bench_load / compare_release (default 3)")
    parser.add_argument("--rev", default="64ce47b", help="the release to compare with (default 64ce47b, 0.1.0)")
    parser.add_argument("--json-out", type=Path, default=DEFAULT_JSON, metavar="FILE",
                        help=f"where the table and the machine go as JSON (default {DEFAULT_JSON.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    base = {**FULL, "repeat": 3, **(QUICK if args.quick else {})}
    sizes = {
        "load_sizes": sorted(args.load_sizes) if args.load_sizes else base["load_sizes"],
        "rows": args.rows or base["rows"],
        "cases": args.cases or base["cases"],
        "repeat": args.repeat or base["repeat"],
    }
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    facts = machine()
    facts["load_average_start"] = load_average()
    print("=== issue 14: every ratio in one run " + "=" * 50)
    print_machine(facts)
    repeat = str(sizes["repeat"])
    with tempfile.TemporaryDirectory(prefix="nocert-issue14-") as tmp:
        folder = Path(tmp)
        load = step("bench_load.py", ["--sizes", *map(str, sizes["load_sizes"]), "--repeat", repeat],
                    folder / "load.json")
        release = step("compare_release.py", ["--rev", args.rev, "--cases", str(sizes["cases"]),
                                              "--rows", str(sizes["rows"]), "--repeat", repeat],
                       folder / "release.json")
        dask = step("bench_dask.py", ["--cases", str(sizes["cases"])], folder / "dask.json")
    rows = table(load, release, dask, sizes)
    facts["load_average_end"] = load_average()
    seconds = round(time.perf_counter() - started, 1)
    print("\n=== issue 14: the ratios " + "=" * 62)
    print_table(rows)
    print_machine(facts)
    print(f"(issue 14 run: {seconds:.0f} s, {started_at:%Y-%m-%d %H:%M} - {datetime.now(UTC):%H:%M} UTC)")
    result = {
        "issue": 14,
        "command": ("python benchmarks/run_all.py --issue14 " + shlex.join(sys.argv[1:] if argv is None else argv)).rstrip(),
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": seconds,
        "machine": facts,
        "sizes": sizes,
        "rows": rows,
        "steps": {"load": load, "release": release, "dask": dask},
    }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"JSON: {args.json_out}")
    print("\nfor BENCHMARKS.md:\n" + markdown(result))
    return 0 if all(s["exit_code"] == 0 for s in (load, release, dask)) else 1


if __name__ == "__main__":
    sys.exit(main())
