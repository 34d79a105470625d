"""Reading a JSONL case file: this tree's ``CaseReader.chunks`` against the reader of a git
revision (default ``cdcdf62``, the line-by-line reader before block reading), in one process,
alternating, several rounds; µs per line and the ratio.

    python benchmarks/bench_read_cases.py /tmp/perf/c1m.jsonl
    python benchmarks/bench_read_cases.py cases.jsonl --against REV --rounds 5
    python benchmarks/bench_read_cases.py --cases 200000     # a generated file (bench_dask.generate)

Both sides read the whole file into chunks of 1,000 records (what ``dry-run`` decides), nothing
else; the old side as ``dry-run`` did then, ``chunked(iter(reader), 1000)``. Before timing, both
must give the same chunks (checked on the first 200,000 lines of the file by default).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import types
from itertools import islice
from pathlib import Path
from typing import Any

from nocert_rules.tools import casefile

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))


def module_at(revision: str) -> types.ModuleType:
    """``nocert_rules/tools/casefile.py`` as it was at ``revision``, as a module of its own."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{revision}:nocert_rules/tools/casefile.py"],
                            check=True, capture_output=True, text=True).stdout
    module = types.ModuleType(f"casefile_{revision}")
    module.__file__ = f"{revision}:nocert_rules/tools/casefile.py"
    source = _without_removed_imports(source, module)
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102 - our own file
    return module


def _without_removed_imports(source: str, module: types.ModuleType) -> str:
    """An old revision's source importing what the package no longer has: ``METHOD_LABELS_ZH``
    (the method labels, now the ruleset's ``wording``) is given to it from the bundled default."""
    old = "from nocert_rules.enums import METHOD_LABELS_ZH, Method"
    if old not in source:
        return source
    from nocert_rules.enums import Method
    from nocert_rules.policy.wording import default_ruleset_wording

    module.__dict__["METHOD_LABELS_ZH"] = {m: default_ruleset_wording().method(m).zh for m in Method}
    return source.replace(old, "from nocert_rules.enums import Method")


def read_old(old: Any, path: str) -> int:
    with old.CaseReader(path, "jsonl") as reader:
        lines = sum(map(len, old.chunked(iter(reader), 1000)))
        return reader.lines if lines >= 0 else 0


def read_new(path: str) -> int:
    with casefile.CaseReader(path, "jsonl") as reader:
        lines = sum(map(len, reader.chunks(1000)))
        return reader.lines if lines >= 0 else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", help="a JSONL case file; without it, --cases generated ones")
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--against", default="cdcdf62")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--check", type=int, default=200_000, help="chunks compared over this many lines")
    args = parser.parse_args()
    if args.path is None:
        from bench_dask import generate

        with tempfile.TemporaryDirectory() as tmp:
            args.path = str(Path(tmp) / "cases.jsonl")
            generate(args.cases, Path(args.path))
            compare(args)
    else:
        compare(args)


def compare(args: argparse.Namespace) -> None:
    old = module_at(args.against)
    with old.CaseReader(args.path, "jsonl") as a, casefile.CaseReader(args.path, "jsonl") as b:
        chunks = args.check // 1000
        same = list(islice(old.chunked(iter(a), 1000), chunks)) == list(islice(b.chunks(1000), chunks))
    if not same:
        sys.exit("the two readers give different chunks")
    times: dict[str, list[float]] = {"old": [], "new": []}
    lines = 0
    for _ in range(args.rounds):
        for side in ("old", "new"):
            started = time.perf_counter()
            lines = read_old(old, args.path) if side == "old" else read_new(args.path)
            times[side].append(time.perf_counter() - started)
    best = {side: min(t) / lines * 1e6 for side, t in times.items()}
    print(f"{args.path}: {lines:,} lines, {args.rounds} rounds alternating, chunks equal on the first "
          f"{args.check:,} lines")
    for side in ("old", "new"):
        rounds = ", ".join(f"{t / lines * 1e6:.2f}" for t in times[side])
        label = f"{args.against} chunked(iter(reader))" if side == "old" else "this tree reader.chunks"
        print(f"  {label:40s} best {best[side]:.2f} µs/line (rounds: {rounds})")
    print(f"  ratio old/new: {best['old'] / best['new']:.2f}x")


if __name__ == "__main__":
    main()
