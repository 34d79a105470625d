"""Measure the rule-set sizes durable_rules' C core survives, each probe in a child process.

Run: ``python benchmarks/durable_limits.py [--timeout 10]`` (not a test; a few minutes, since a
probe that spins for ever costs its timeout). ``run_all.py --limits`` runs it too. Each row is
one shape of ``nocert_rules.engine.durable_probe.SHAPES`` at one size: ``ok`` (compiled, fired,
freed), ``error`` (a Python exception from the C core), ``crash`` (a signal or non-zero exit)
or ``timeout`` (still spinning when killed). The budget in ``nocert_rules.engine.budget`` is
half the smallest size that failed; the verdict column says whether the budget admits it.
"""

from __future__ import annotations

import argparse
import sys

from nocert_rules.engine import budget
from nocert_rules.engine.durable_probe import SHAPES, probe

SWEEP: dict[str, list[int]] = {
    "in_values": [128, 256, 495, 510, 511, 512, 800],
    "any_alternatives": [128, 495, 600],
    "rules_with_in2": [64, 250, 260],
    "plain_rules": [128, 500, 600],
    "same_condition": [128, 256, 260],
    "in_product": [11, 23],
    "any_depth": [8, 15, 16, 20],
    "any_depth2": [8, 15, 16],
    "conjunction": [31, 32, 100],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a probe counts as a hang")
    parser.add_argument("--quick", action="store_true", help="the smallest size of each shape only (a check that it runs)")
    args = parser.parse_args(argv)
    print(f"{'shape':<18} {'size':>5}  {'outcome':<8} {'s':>6}  {'budget':<8} detail")
    wrong = 0
    for shape, sizes in SWEEP.items():
        for n in sizes[:1] if args.quick else sizes:
            rules = SHAPES[shape](n)
            admitted = budget.check(rules) is None
            r = probe(rules, timeout=args.timeout)
            if admitted and not r.survived:
                wrong += 1  # the budget let through something the C core does not survive
            detail = r.detail if not r.survived else ""
            print(f"{shape:<18} {n:>5}  {r.outcome:<8} {r.seconds:>6.2f}  {'admits' if admitted else 'refuses':<8} "
                  f"{detail[:70]}", flush=True)
    print(f"budget: {budget.MAX_PATHS} paths, nesting {budget.MAX_DEPTH}; "
          f"{'every admitted probe survived' if not wrong else f'{wrong} admitted probes FAILED'}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
