"""Every benchmark in one run, every figure as a ratio, with the machine described.

    python benchmarks/run_all.py            # decide() benches, calendar, dry-run memory at 10k
    python benchmarks/run_all.py --big      # ... and the dry-run memory bench at 1,000,000 too
    python benchmarks/run_all.py --n 5000   # fewer timed calls (quicker, noisier)
    python benchmarks/run_all.py --limits   # ... and durable_rules' limits (durable_limits.py, minutes)
    python benchmarks/run_all.py --issue14  # only issue 14's benchmarks, one table of its ratios (issue14.py)
    python benchmarks/run_all.py --issue14 --quick   # the same at tiny sizes (a check of the wiring)
    python benchmarks/run_all.py --issue21  # only issue 21's figures, one table of its ratios (issue21.py)

Runs, in this order:

1. ``bench_decide.py`` in this process, on the realistic workload (``examples/generate_cases.py``)
   and on the random one: ``decide()`` median and p99 against the bare durable_rules post of
   the same compiled rules (target <= 1.5x), the zen-engine decision table (target: faster),
   the plain-Python if-chain, the cached engine and the compiled backend (compiled decide()
   vs the if-chain, target <= 10x; durable decide() vs the bare post, target <= 1.3x; the
   non-matching parts alone).
2. ``bench_calendar.py`` (a child process): ``add_working_days`` against ``holidays`` and numpy;
   then ``bench_worktime.py`` (a child process): the calendar and deadline calls per call, this
   tree against ``cdcdf62`` (before the per-day tables), alternating in one process.
3. ``bench_dryrun_memory.py`` (a child process, if present): dry-run throughput and peak
   memory at 10,000 cases; with ``--big`` (passed on to it) at 10,000 and 1,000,000.
   Then ``bench_read_cases.py`` (a child process): reading the JSONL case file alone,
   ``CaseReader.chunks`` against the line-by-line reader of ``cdcdf62`` (200,000 generated
   cases; 1,000,000 with ``--big``).
4. ``bench_load.py`` (child processes): ``load_ruleset`` on generated lists of 10,000 and
   100,000 rows against ``yaml.load(..., CSafeLoader)``, time and peak RSS.
5. ``bench_service.py`` (a child process): the HTTP decision service against in-process
   ``decide()``: single-request p50/p99, batch-of-100 throughput ratio (target >= 0.8x).
6. ``bench_list_import.py`` (a child process): ``import-list`` of a 10,000-row .xlsx and CSV;
   reading cells with openpyxl vs python-calamine.
7. ``bench_audit_verify.py`` (child processes): ``verify_log`` of HMAC-authenticated audit logs
   of 10,000 and 100,000 decision entries (with ``--big`` also 1,000,000): time and peak RSS,
   and a reordered log against the intact one.
8. ``bench_dask.py`` (a child process): ``dry-run --dask`` on a local cluster, 2 workers vs 1
   (100,000 cases; 1,000,000 with ``--big``); skipped without dask.distributed.
9. ``compare_release.py`` (a child process): this tree against the 0.1.0 release (``64ce47b``),
   dry-run throughput (100,000 cases; 1,000,000 with ``--big``) and 10,000-row loading.
10. with ``--limits``, ``durable_limits.py`` (each probe a child process): the rule-set sizes
    durable_rules' C core survives, against the engine's budget.

Child processes keep their memory figures their own. Needs ``zen-engine`` for step 1.
"""

from __future__ import annotations

import argparse
import importlib.metadata
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

PACKAGES = ("nocert-rules", "durable_rules", "pydantic", "pydantic_core", "zen-engine", "holidays", "numpy", "PyYAML")


def machine() -> list[str]:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = " (uncommitted changes)" if _git("status", "--porcelain") else ""
    return [
        f"CPU      {cpu}, {os.cpu_count()} logical CPUs",
        f"RAM      {ram}",
        f"OS       {platform.platform()}",
        f"Python   {platform.python_implementation()} {platform.python_version()}",
        f"packages {', '.join(versions)}",
        f"tree     {commit or 'not a git checkout'}{dirty}; load average at start {load}",
    ]


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def child(script: str, *args: str) -> tuple[int, str]:
    """Run ``benchmarks/<script>`` in a child process; its exit code and output."""
    done = subprocess.run(
        [sys.executable, str(HERE / script), *args], cwd=ROOT, capture_output=True, text=True
    )
    return done.returncode, (done.stdout + done.stderr).rstrip()


BEGIN, END = "<!-- run_all:begin -->", "<!-- run_all:end -->"


class Transcript:
    """What the run prints, kept by section (``section`` starts one), for ``--record``."""

    def __init__(self) -> None:
        self.sections: list[tuple[str, list[str]]] = [("", [])]

    def start(self, title: str) -> None:
        self.sections.append((title, []))

    def add(self, text: str) -> None:
        self.sections[-1][1].append(text)

    def markdown(self, command: str) -> str:
        """The run as markdown: the command, then each section's output verbatim in a text block."""
        parts = [f"Recorded by `{command}`: every figure below is this one run's output, verbatim.\n"]
        for title, chunks in self.sections:
            body = "".join(chunks).strip("\n")
            if not body:
                continue
            fence = "````" if "```" in body else "```"
            parts.append(f"### {title or 'run'}\n\n{fence}text\n{body}\n{fence}\n")
        return "\n".join(parts)


TRANSCRIPT: Transcript | None = None


class _Tee:
    """This process's stdout, also kept in ``TRANSCRIPT``."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        if TRANSCRIPT is not None:
            TRANSCRIPT.add(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


def record_into(path: Path, block: str) -> None:
    """Put ``block`` between ``BEGIN`` and ``END`` in the file at ``path`` (appended, with the
    markers, when it has none; the file's other text is kept), written whole, then renamed."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in text and END in text.split(BEGIN, 1)[1]:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
    else:
        head, tail = (text.rstrip("\n") + "\n\n" if text else ""), "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{head}{BEGIN}\n{block.rstrip()}\n{END}{tail}", encoding="utf-8")
    os.replace(tmp, path)


def section(title: str) -> None:
    if TRANSCRIPT is not None:
        TRANSCRIPT.start(title)
    print(f"\n=== {title} " + "=" * max(0, 86 - len(title)))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--issue21" in argv:  # its own options: python benchmarks/run_all.py --issue21 --help
        import issue21

        return issue21.main([a for a in argv if a != "--issue21"])
    if "--issue14" in argv:  # its own options: python benchmarks/run_all.py --issue14 --help
        import issue14

        return issue14.main([a for a in argv if a != "--issue14"])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issue14", action="store_true",
                        help="only issue 14's benchmarks (load, release, Dask) and one table of their ratios; "
                             "see --issue14 --help")
    parser.add_argument("--big", action="store_true", help="also the 1,000,000-case dry-run memory bench")
    parser.add_argument("--limits", action="store_true", help="also durable_rules' limits (durable_limits.py)")
    parser.add_argument("--n", type=int, default=20_000, help="timed decide() calls per implementation")
    parser.add_argument("--cases", type=int, default=5_000, help="distinct cases in the decide() workload")
    parser.add_argument("--with-issue21", action="store_true",
                        help="end with issue 21's table (issue21.py in a child process, a few minutes; its --quick sizes when --n < 1000)")
    parser.add_argument("--record", type=Path, metavar="FILE",
                        help="write this run's output into FILE between the run_all markers (BENCHMARKS.md)")
    args = parser.parse_args(argv)
    if args.record is None:
        return run(args)
    global TRANSCRIPT
    TRANSCRIPT, stdout = Transcript(), sys.stdout
    sys.stdout = _Tee(stdout)
    try:
        code = run(args)
    finally:
        sys.stdout = stdout
    record_into(args.record, TRANSCRIPT.markdown(" ".join(["python benchmarks/run_all.py", *argv])))
    print(f"recorded into {args.record}")
    return code


def run(args: argparse.Namespace) -> int:
    """Every step, in the module doc's order."""
    started = time.perf_counter()

    section("machine")
    print("\n".join(machine()))

    import bench_decide

    results: dict[str, Any] = {}
    for workload in ("generated", "random"):
        section(f"decide() vs its floor and alternatives, {workload} workload")
        results[workload] = bench_decide.run(args.n, args.cases, workload)

    section("add_working_days vs holidays and numpy (bench_calendar.py)")
    code, calendar_out = child("bench_calendar.py")
    print(calendar_out if code == 0 else f"bench_calendar.py failed (exit {code}):\n{calendar_out}")
    section("calendar and deadlines, this tree vs cdcdf62 (bench_worktime.py)")
    code, worktime_out = child("bench_worktime.py")
    print(worktime_out if code == 0 else f"bench_worktime.py failed (exit {code}):\n{worktime_out}")

    memory_runs: list[tuple[str, int, str]] = []
    if (HERE / "bench_dryrun_memory.py").exists():
        label = "10,000 and 1,000,000 cases" if args.big else "10,000 cases"
        section(f"dry-run throughput and peak memory, {label} (bench_dryrun_memory.py)")
        code, out = child("bench_dryrun_memory.py", *(["--big"] if args.big else []))
        print(out if code == 0 else f"bench_dryrun_memory.py failed (exit {code}):\n{out}")
        memory_runs.append((label, code, out))
    else:
        section("dry-run throughput and peak memory")
        print("benchmarks/bench_dryrun_memory.py is not present: skipped")

    reads = "1000000" if args.big else "200000"
    section(f"reading a JSONL case file of {int(reads):,} cases into chunks, vs cdcdf62 (bench_read_cases.py)")
    code, out = child("bench_read_cases.py", "--cases", reads)
    print(out if code == 0 else f"bench_read_cases.py failed (exit {code}):\n{out}")

    section("loading generated lists of 10,000 and 100,000 rows (bench_load.py)")
    code, load_out = child("bench_load.py")
    print(load_out if code == 0 else f"bench_load.py failed (exit {code}):\n{load_out}")
    service_out = ""
    if (HERE / "bench_service.py").exists():
        section("decision service over HTTP vs in-process decide() (bench_service.py)")
        code, service_out = child("bench_service.py")
        print(service_out if code == 0 else f"bench_service.py failed (exit {code}):\n{service_out}")
        if code != 0:
            service_out = ""

    list_out = ""
    if (HERE / "bench_list_import.py").exists():
        section("import-list of a 10,000-row list, openpyxl vs python-calamine (bench_list_import.py)")
        code, list_out = child("bench_list_import.py")
        print(list_out if code == 0 else f"bench_list_import.py failed (exit {code}):\n{list_out}")
        if code != 0:
            list_out = ""
    audit_out = ""
    if (HERE / "bench_audit_verify.py").exists():
        label = "10,000, 100,000 and 1,000,000 entries" if args.big else "10,000 and 100,000 entries"
        section(f"audit log verification, {label} (bench_audit_verify.py)")
        code, audit_out = child("bench_audit_verify.py", *(["--big"] if args.big else []))
        print(audit_out if code == 0 else f"bench_audit_verify.py failed (exit {code}):\n{audit_out}")
        if code != 0:
            audit_out = ""
    big = "1000000" if args.big else "100000"
    section(f"dry-run --dask on a local cluster, 2 workers vs 1, {int(big):,} cases (bench_dask.py)")
    code, dask_out = child("bench_dask.py", "--cases", big)
    print(dask_out if code == 0 else f"bench_dask.py failed (exit {code}):\n{dask_out}")
    section(f"this tree vs the 0.1.0 release: dry-run {int(big):,} cases, load 10,000 rows (compare_release.py)")
    code, compare_out = child("compare_release.py", "--cases", big)
    print(compare_out if code == 0 else f"compare_release.py failed (exit {code}):\n{compare_out}")

    limits_out = ""
    if args.limits:
        section("durable_rules' limits against the engine's budget (durable_limits.py)")
        code, limits_out = child("durable_limits.py")
        print(limits_out)

    section("summary: ratios (x = decide() time / other time; < 1 means decide() is faster)")
    for workload, fig in results.items():
        vs = fig["decide_vs"]
        us = fig["us"]["decide"]
        print(f"[{workload} workload] decide() median {us['median']:.1f} µs, p99 {us['p99']:.1f} µs")
        rows = [
            ("bare durable_rules post (floor)", "bare", "target <= 1.5x"),
            ("zen-engine decision table", "zen", "target < 1x"),
            ("decide() with zen as matcher", "decide+zen", ""),
            ("plain-Python if-chain", "ifchain", ""),
            ("decide() with if-chain as matcher", "decide+ifchain", ""),
        ]
        for label, key, target in rows:
            if key not in vs:
                print(f"  vs {label:<34} skipped: {fig['skipped'].get(key.split('+')[-1], 'not run')}")
                continue
            r = vs[key]
            verdict = ""
            if key == "bare":
                verdict = "MET" if r["median"] <= 1.5 and r["p99"] <= 1.5 else "MISSED"
            elif key == "zen":
                verdict = "MET" if r["median"] < 1 and r["p99"] < 1 else "MISSED"
            print(f"  vs {label:<34} median {r['median']:>7.2f}x  p99 {r['p99']:>7.2f}x  {target} {verdict}".rstrip())
        for label, key, limit in (
            ("compiled decide() / if-chain", "compiled/ifchain", 10.0),
            ("durable decide() / bare durable post", "decide/bare", 1.3),
            ("compiled fire() / if-chain (matchers)", "compiled.fire/ifchain", None),
            ("compiled decide() / decide+if-chain", "compiled/decide+ifchain", None),
        ):
            r = fig["vs"][key]
            verdict = "" if limit is None else f"target <= {limit}x " + ("MET" if r["median"] <= limit else "MISSED")
            print(f"  {label:<40} median {r['median']:>7.2f}x  p99 {r['p99']:>7.2f}x  {verdict}".rstrip())
        u = fig["us"]
        print(f"  not matching (decide - bare, medians) {us['median'] - u['bare']['median']:.1f} µs; alone: validate "
              f"{u['validate']['median']:.1f}, facts {u['facts']['median']:.1f}, build {u['build']['median']:.1f} µs")
    calendar_summary = [line for line in calendar_out.splitlines() if line.startswith("all n")]
    print("add_working_days: " + (calendar_summary[0] if calendar_summary else "see above"))
    for label, code, out in memory_runs:
        if code != 0:
            print(f"dry-run memory, {label}: failed (exit {code})")
            continue
        for line in out.splitlines():
            if "cases/s" in line or "ratio" in line:
                print(f"dry-run memory: {' '.join(line.split())}")
    for line in (*load_out.splitlines(), *dask_out.splitlines(), *compare_out.splitlines()):
        if line.startswith(("load ", "dask ", "compare ")):
            print(line)
    for line in list_out.splitlines():
        if "calamine" in line and "faster" in line:
            print(f"import-list: {' '.join(line.split())}")
    for line in service_out.splitlines():
        if line.startswith(("  HTTP / in-process", "batch of", "  CPU:")):
            print(f"service: {' '.join(line.split())}")
    for line in audit_out.splitlines():
        if line.startswith("ratio") or "reordered / intact" in line:
            print(f"audit verify: {' '.join(line.split())}")
    if limits_out:
        print(f"durable_rules limits: {limits_out.splitlines()[-1]}")
    if args.with_issue21:
        section("issue 21: its ratios against their targets (issue21.py)")
        code, out = child("issue21.py", *(["--quick"] if args.n < 1000 else []))
        print(out if code == 0 else f"issue21.py failed (exit {code}):\n{out}")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"\n(all benchmarks: {time.perf_counter() - started:.0f} s; load average at the end {load})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
