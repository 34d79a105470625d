#!/usr/bin/env python3
"""This working tree against a released revision, side by side: dry-run throughput and loading.

    python benchmarks/compare_release.py                    # against 64ce47b, the 0.1.0 release
    python benchmarks/compare_release.py --rev v0.1.0 --cases 200000 --repeat 2

The revision is exported with ``git archive`` (the repository's work trees are not touched) into a
temporary folder and installed (not editable) into a temporary venv; the working tree is what this
interpreter imports (``pip install -e .``). Both are driven through their public surface only, the
CLI (``python -m nocert_rules dry-run``) and ``nocert_rules.load_ruleset``, since module paths changed
after 0.1.0. Runs are interleaved (old, new, old, new, ...) so the shared machine's load hits both
alike; each figure is the best run, the median beside it.

- **dry-run**: the same case file (``examples/generate_cases.py``, ``--cases`` cases, fixed seed) on each
  version's own bundled Zibo ruleset (the manifest format grew since 0.1.0), ``--jobs`` as given;
  cases per second, process start included.
- **load**: ``load_ruleset`` on one generated list of ``--rows`` rows (``listgen.py`` from the
  revision's own Zibo ruleset, which both versions read), in a fresh process each: seconds and peak RSS.

Targets (issue 14): dry-run throughput >= 2x the release's; load >= 2.5x faster with <= half the peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import bench_load  # noqa: E402
import casegen  # noqa: E402
import listgen  # noqa: E402

DEFAULT_REV = "64ce47b"

_TIMED = """
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(code, time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def install_release(rev: str, folder: Path) -> tuple[str, Path]:
    """``git archive`` ``rev`` into ``folder/src`` and install it into ``folder/venv``; (python, src)."""
    src = folder / "src"
    src.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    venv.EnvBuilder(with_pip=True).create(folder / "venv")
    python = str(folder / "venv" / "bin" / "python")
    done = subprocess.run([python, "-m", "pip", "install", "-q", str(src)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"installing {rev} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return python, src


def release_from_source(rev: str, folder: Path) -> tuple[list[str], Path]:
    """``git archive`` ``rev`` into ``folder/src``, run by this interpreter with the source first on
    ``sys.path`` (``--from-source``: no venv, no install; the release then runs on this tree's
    dependency versions). A quick check of the wiring (tests/test_benchmarks_run.py), not the
    figures: those come from an installed release."""
    src = folder / "src"
    src.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    return ["env", f"PYTHONPATH={src}", sys.executable], src


def version_of(python: list[str], cwd: Path) -> str:
    code = ("import importlib.metadata as m, nocert_rules; "
            "print(m.version('nocert-rules'), 'from', nocert_rules.__file__)")
    return subprocess.run([*python, "-c", code], capture_output=True, text=True, check=True, cwd=cwd).stdout.strip()


def generate_cases(n: int, path: Path, ruleset: Path, seed: int = 20210210) -> None:
    casegen.write(n, path, ruleset, seed)


_DECIDE = """
import json, statistics, sys, time
from nocert_rules import Engine, load_ruleset
engine = Engine(load_ruleset(sys.argv[1]))
keep = ("case_id", "expected_method")
requests = [{k: v for k, v in json.loads(line).items() if k not in keep} for line in open(sys.argv[2], encoding="utf-8")]
ok = []
for r in requests[: int(sys.argv[3])]:
    try:
        engine.decide(r)
        ok.append(r)
    except Exception:  # a case this version refuses is not timed
        pass
requests = ok
clock = time.perf_counter_ns
samples = []
for _ in range(3):
    for r in requests:
        t0 = clock()
        engine.decide(r)
        samples.append(clock() - t0)
print(statistics.median(samples) / 1000, getattr(engine.decide(requests[0]).ruleset, "backend", None) or "durable")
"""


def decide_us(python: list[str], ruleset: Path, cases: Path, n: int, cwd: Path) -> tuple[float, str]:
    """Median µs of one ``Engine(ruleset).decide(request)`` (the default backend) over the first
    ``n`` cases, three passes after a warm-up, in a fresh process of ``python``."""
    done = subprocess.run([*python, "-c", _DECIDE, str(ruleset), str(cases), str(n)], capture_output=True,
                          text=True, check=True, cwd=cwd)
    median, backend = done.stdout.split()
    return float(median), backend


def dry_run(python: list[str], ruleset: Path, cases: Path, jobs: int, cwd: Path,
            out: Path | None = None) -> dict[str, float]:
    command = [*python, "-m", "nocert_rules", "dry-run", str(ruleset), str(cases), "--json", "--no-progress",
               "--jobs", str(jobs), *(["--out", str(out)] if out is not None else [])]
    done = subprocess.run([sys.executable, "-c", _TIMED, *command], capture_output=True, text=True, check=True,
                          cwd=cwd)
    code, seconds, rss = done.stdout.split()
    if int(code) not in (0, 1):
        raise RuntimeError(f"dry-run with {python} exited {code}")
    return {"seconds": float(seconds), "peak_rss_mib": int(rss) / 1024}


def summarise(runs: list[dict[str, float]], count: int) -> dict[str, float]:
    seconds = [r["seconds"] for r in runs]
    return {"cases_per_second": count / min(seconds), "median_cases_per_second": count / statistics.median(seconds),
            "seconds": min(seconds), "peak_rss_mib": max(r["peak_rss_mib"] for r in runs)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", default=DEFAULT_REV, help=f"the release to compare with (default {DEFAULT_REV})")
    parser.add_argument("--cases", type=int, default=1_000_000, help="dry-run cases (default 1,000,000)")
    parser.add_argument("--rows", type=int, default=10_000, help="rows of the generated list (default 10,000)")
    parser.add_argument("--jobs", type=int, default=1, help="dry-run --jobs for both (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="load runs per version (dry-runs: 1 + repeat // 3)")
    parser.add_argument("--with-out", action="store_true", help="also the dry-runs with --out (issue 21)")
    parser.add_argument("--decide", type=int, default=0, metavar="N",
                        help="also decide() per call, median over the first N cases (issue 21)")
    parser.add_argument("--from-source", action="store_true",
                        help="run the release from its exported source on this interpreter instead of installing "
                             "it into a venv (seconds instead of tens; a check of the script, not figures)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--json-out", metavar="FILE", help="also write the figures as JSON to FILE (run_all.py --issue14)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    new_python = [sys.executable]
    with tempfile.TemporaryDirectory(prefix="nocert-compare-") as tmp:
        folder = Path(tmp)
        if args.from_source:
            old_python, old_src = release_from_source(args.rev, folder / "release")
        else:
            print(f"installing {args.rev} into a temporary venv ...", flush=True)
            old_bin, old_src = install_release(args.rev, folder / "release")
            old_python = [old_bin, "-I"]  # isolated: no PYTHONPATH, no working directory on sys.path
        # children run in the temporary folder: a working directory on sys.path must not shadow the install
        versions = {"release": version_of(old_python, folder), "tree": version_of(new_python, folder)}
        if str(old_src) not in versions["release"] and "site-packages" not in versions["release"]:
            raise SystemExit(f"the release venv imports the wrong package: {versions['release']}")
        print(f"release {args.rev}: nocert-rules {versions['release']}")
        print(f"tree    {bench_load_tree()}: nocert-rules {versions['tree']}", flush=True)
        rulesets = {"release": old_src / "rulesets" / "zibo", "tree": ROOT / "rulesets" / "zibo"}
        pythons = {"release": old_python, "tree": new_python}

        # ---- load
        listing = listgen.make_ruleset(args.rows, folder / f"list{args.rows}", source=old_src / "rulesets" / "zibo")
        load_runs: dict[str, list[dict[str, float]]] = {"release": [], "tree": []}
        for _ in range(args.repeat):
            for name in ("release", "tree"):
                load_runs[name].append(bench_load.measure(pythons[name], "nocert", listing, args.rows, cwd=folder))
        load = {name: bench_load.best(runs) for name, runs in load_runs.items()}
        for name in ("release", "tree"):
            r = load[name]
            print(f"load {args.rows:,} rows  {name:<8} best {r['seconds']:6.2f} s (median {r['median_seconds']:.2f})  "
                  f"peak RSS {r['peak_rss_mib']:6.0f} MiB", flush=True)

        # ---- dry-run
        cases = folder / "cases.jsonl"
        generate_cases(args.cases, cases, rulesets["tree"])
        dry_runs: dict[str, list[dict[str, float]]] = {"release": [], "tree": []}
        for _ in range(1 + args.repeat // 3):
            for name in ("release", "tree"):
                dry_runs[name].append(dry_run(pythons[name], rulesets[name], cases, args.jobs, folder))
        dry = {name: summarise(runs, args.cases) for name, runs in dry_runs.items()}
        for name in ("release", "tree"):
            r = dry[name]
            print(f"dry-run {args.cases:,} cases --jobs {args.jobs}  {name:<8} {r['cases_per_second']:>9,.0f} cases/s "
                  f"(median {r['median_cases_per_second']:,.0f})  peak RSS {r['peak_rss_mib']:6.0f} MiB", flush=True)
        dry_out: dict[str, dict[str, float]] = {}
        if args.with_out:
            out_runs: dict[str, list[dict[str, float]]] = {"release": [], "tree": []}
            for _ in range(1 + args.repeat // 3):
                for name in ("release", "tree"):
                    out_runs[name].append(dry_run(pythons[name], rulesets[name], cases, args.jobs, folder,
                                                  folder / f"out-{name}.jsonl"))
            dry_out = {name: summarise(runs, args.cases) for name, runs in out_runs.items()}
            for name in ("release", "tree"):
                print(f"dry-run --out {args.cases:,} cases  {name:<8} {dry_out[name]['cases_per_second']:>9,.0f} "
                      f"cases/s  peak RSS {dry_out[name]['peak_rss_mib']:6.0f} MiB", flush=True)
        decide: dict[str, tuple[float, str]] = {}
        if args.decide:
            sample = {name: [] for name in ("release", "tree")}  # type: dict[str, list[float]]
            for _ in range(2):
                for name in ("release", "tree"):
                    us, backend = decide_us(pythons[name], rulesets[name], cases, args.decide, folder)
                    sample[name].append(us)
                    decide[name] = (min(sample[name]), backend)
            for name in ("release", "tree"):
                print(f"decide() {name:<8} median {decide[name][0]:7.1f} µs ({decide[name][1]} backend)", flush=True)

    speed = load["release"]["seconds"] / load["tree"]["seconds"]
    memory = load["tree"]["peak_rss_mib"] / load["release"]["peak_rss_mib"]
    throughput = dry["tree"]["cases_per_second"] / dry["release"]["cases_per_second"]
    lines = [
        f"compare {args.rev}: dry-run {args.cases:,} cases throughput tree/release {throughput:.2f}x "
        f"(target >= 2x) {'MET' if throughput >= 2 else 'MISSED'}",
        f"compare {args.rev}: load {args.rows:,} rows {speed:.2f}x faster (target >= 2.5x) "
        f"{'MET' if speed >= 2.5 else 'MISSED'}; peak RSS tree/release {memory:.2f} (target <= 0.5) "
        f"{'MET' if memory <= 0.5 else 'MISSED'}",
    ]
    ratios = {"dry_run_throughput": throughput, "load_speed": speed, "load_rss": memory}
    if dry_out:
        ratios["dry_run_out_throughput"] = dry_out["tree"]["cases_per_second"] / dry_out["release"]["cases_per_second"]
        lines.append(f"compare {args.rev}: dry-run --out {args.cases:,} cases throughput tree/release "
                     f"{ratios['dry_run_out_throughput']:.2f}x (target >= 2x)")
    if decide:
        ratios["decide_release_over_tree"] = decide["release"][0] / decide["tree"][0]
        lines.append(f"compare {args.rev}: decide() median release/tree {ratios['decide_release_over_tree']:.2f}x "
                     f"({decide['release'][0]:.1f} vs {decide['tree'][0]:.1f} µs; > 1: the tree is faster)")
    figures = {"rev": args.rev, "cases": args.cases, "rows": args.rows, "jobs": args.jobs, "versions": versions,
               "load": load, "dry_run": dry, "dry_run_out": dry_out,
               "decide_us": {k: v[0] for k, v in decide.items()}, "ratios": ratios}
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(figures, indent=2))
    print("\n".join(lines))
    load_avg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"(compare_release: {time.perf_counter() - started:.0f} s; load average at the end {load_avg})")
    return 0


def bench_load_tree() -> str:
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True)
    return done.stdout.strip() + (" (uncommitted changes)" if dirty.stdout.strip() else "")


if __name__ == "__main__":
    sys.exit(main())
