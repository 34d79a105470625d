#!/usr/bin/env python3
"""Loading a large list: ``load_ruleset`` against PyYAML's C loader, time and peak memory.

Generates rulesets whose ``certificates.yaml`` has N rows (``listgen.py``: the Zibo sample's rows
repeated under new service item codes) and measures, each in a fresh child process:

- ``yaml.load(certificates.yaml bytes, Loader=yaml.CSafeLoader)``: parsing alone, no checks;
- ``nocert_rules.load_ruleset(folder)``: everything (parse, validate, cross-check, hash).

Each measurement is repeated (``--repeat``, interleaved so that the shared machine's load hits
both alike); the figures are the fastest run of each (the least disturbed), the median beside it.
Peak RSS is the child's ``ru_maxrss`` (interpreter and imports included).

    python benchmarks/bench_load.py                      # 10,000 and 100,000 rows
    python benchmarks/bench_load.py --sizes 10000 --repeat 5
    python benchmarks/bench_load.py --keys               # 20,000 vs 80,000 keys (issue 25 row 5)
    python benchmarks/bench_load.py --keys --tiny        # 500 vs 2,000 keys (the test suite runs it)

Targets (issue 14): 10,000 rows in at most 2x the C loader's time; 100,000 rows in at most 600 MB.

``--keys``: a ``clauses.yaml`` of N unknown top-level keys (N problems, each with its line) in a
copy of the Zibo ruleset, at N and 4N keys; the time ratio is printed beside the size ratio (4):
a loader linear in the keys gives about 4, a quadratic one about 16 (at 405bd9c, 20,000 / 40,000
keys took 12.4 / 54.2 s on the shared machine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import listgen  # noqa: E402

CHILD = r"""
import json, resource, sys, time
mode, folder, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "yaml":
    import yaml
    data = open(folder + "/certificates.yaml", "rb").read()
    started = time.perf_counter()
    rows = yaml.load(data, Loader=yaml.CSafeLoader)["rows"]
else:
    from nocert_rules import load_ruleset
    started = time.perf_counter()
    rows = load_ruleset(folder).rows
seconds = time.perf_counter() - started
assert len(rows) == expected, len(rows)
print(json.dumps({"seconds": seconds, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(python: str | list[str], mode: str, folder: Path, rows: int, cwd: Path | None = None) -> dict[str, float]:
    """One load in a fresh ``python`` process (a command: ``[python, "-I"]`` isolates it): seconds
    (the load alone) and peak RSS in MiB. ``cwd``: where it runs (``python -c`` puts the working
    directory first on ``sys.path``)."""
    command = [python] if isinstance(python, str) else list(python)
    done = subprocess.run([*command, "-c", CHILD, mode, str(folder), str(rows)], capture_output=True,
                          text=True, check=False, cwd=cwd)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} load failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    """Fastest run's seconds, the median seconds, and the largest peak RSS of the runs."""
    seconds = [r["seconds"] for r in runs]
    return {"seconds": min(seconds), "median_seconds": statistics.median(seconds),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in runs)}


def run(sizes: list[int], repeat: int, python: str = sys.executable, verbose: bool = True) -> dict[int, Any]:
    results: dict[int, Any] = {}
    with tempfile.TemporaryDirectory(prefix="nocert-load-") as tmp:
        for n in sizes:
            folder = listgen.make_ruleset(n, Path(tmp) / f"rs{n}")
            size_mib = (folder / "certificates.yaml").stat().st_size / 2**20
            times = repeat if n <= 20_000 else max(1, repeat // 2)
            runs: dict[str, list[dict[str, float]]] = {"yaml": [], "nocert": []}
            for _ in range(times):
                for mode in runs:
                    runs[mode].append(measure(python, mode, folder, n))
            fig = {mode: best(r) for mode, r in runs.items()}
            fig["file_mib"] = size_mib
            fig["ratio"] = fig["nocert"]["seconds"] / fig["yaml"]["seconds"]
            fig["ratio_median"] = fig["nocert"]["median_seconds"] / fig["yaml"]["median_seconds"]
            results[n] = fig
            if verbose:
                print_size(n, fig, times)
    return results


def print_size(n: int, fig: dict[str, Any], times: int) -> None:
    y, r = fig["yaml"], fig["nocert"]
    print(f"{n:>9,} rows ({fig['file_mib']:.1f} MiB), best of {times}:  "
          f"yaml.load CSafeLoader {y['seconds']:6.2f} s (median {y['median_seconds']:.2f}), {y['peak_rss_mib']:6.0f} MiB;  "
          f"load_ruleset {r['seconds']:6.2f} s (median {r['median_seconds']:.2f}), {r['peak_rss_mib']:6.0f} MiB;  "
          f"ratio {fig['ratio']:.2f}x (median {fig['ratio_median']:.2f}x)", flush=True)


def verdicts(results: dict[int, Any]) -> list[str]:
    out = []
    if 10_000 in results:
        ratio = results[10_000]["ratio"]
        out.append(f"load 10,000 rows: {ratio:.2f}x the time of yaml.load(CSafeLoader) (target <= 2x) "
                   f"{'MET' if ratio <= 2 else 'MISSED'}")
    if 100_000 in results:
        rss = results[100_000]["nocert"]["peak_rss_mib"]
        mb = rss * 2**20 / 1e6
        out.append(f"load 100,000 rows: peak RSS {rss:.0f} MiB = {mb:.0f} MB (target <= 600 MB) "
                   f"{'MET' if mb <= 600 else 'MISSED'}; yaml.load(CSafeLoader) alone "
                   f"{results[100_000]['yaml']['peak_rss_mib']:.0f} MiB")
    return out


KEYS_CHILD = r"""
import json, sys, time
from nocert_rules import RulesetError, load_ruleset
started = time.perf_counter()
try:
    load_ruleset(sys.argv[1])
    problems = 0
except RulesetError as exc:
    problems = len(exc.problems)
print(json.dumps({"seconds": time.perf_counter() - started, "problems": problems}))
"""


def run_keys(small: int, repeat: int, python: str = sys.executable) -> dict[str, Any]:
    """Load rulesets whose clauses.yaml has ``small`` and ``4 * small`` unknown keys; the time ratio."""
    import shutil

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="nocert-keys-") as tmp:
        for n in (small, 4 * small):
            folder = Path(tmp) / f"keys{n}"
            shutil.copytree(HERE.parent / "rulesets" / "zibo", folder)
            (folder / "clauses.yaml").write_text("".join(f"k{i}: {i}\n" for i in range(n)), encoding="utf-8")
            runs = []
            for _ in range(repeat):
                done = subprocess.run([python, "-c", KEYS_CHILD, str(folder)], capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise RuntimeError(f"keys load failed: {done.stderr.strip()[-2000:]}")
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            assert all(r["problems"] == n + 1 for r in runs), runs  # every key, and "clauses" missing
            out[str(n)] = {"seconds": min(r["seconds"] for r in runs), "problems": runs[0]["problems"]}
    a, b = out[str(small)]["seconds"], out[str(4 * small)]["seconds"]
    out["ratio"] = b / a if a > 0 else float("inf")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", action="store_true", help="N vs 4N unknown keys in clauses.yaml: the time ratio")
    parser.add_argument("--tiny", action="store_true", help="with --keys: 500 vs 2,000 keys, one run (a smoke run)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each loader per size (interleaved)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead")
    parser.add_argument("--json-out", metavar="FILE", help="also write the figures as JSON to FILE (run_all.py --issue14)")
    args = parser.parse_args(argv)
    if args.keys:
        small, repeat = (500, 1) if args.tiny else (20_000, args.repeat)
        keys = run_keys(small, repeat)
        print(json.dumps(keys, indent=2) if args.json else
              f"{small:,} keys {keys[str(small)]['seconds']:.2f} s, {4 * small:,} keys "
              f"{keys[str(4 * small)]['seconds']:.2f} s: time ratio {keys['ratio']:.2f} for 4x the keys "
              "(linear ~4, quadratic ~16)")
        return 0
    results = run(sorted(set(args.sizes)), args.repeat, verbose=not args.json)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for line in verdicts(results):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
