"""Benchmark: ``Engine.decide()`` against its floor and against other ways to write the rules.

Run: ``python benchmarks/bench_decide.py [--n 20000]`` (not a test; prints a table).
``benchmarks/run_all.py`` runs it together with the other benchmarks.

Latency of one call, median and p99, of:

- ``decide``    ``Engine.decide(request dict)``: validation, facts, durable_rules, choice,
                Decision (trace, citations, deadlines).
- ``bare``      the engine's floor: the SAME compiled durable_rules definition (a copy of the
                one the engine registered) on a private host, asserting the payloads the engine
                asserts (precomputed) and deleting the session each time. No validation, no
                facts, no Decision.
- ``zen``       the same rules as a GoRules zen-engine decision table (``zen_table.py``),
                evaluated synchronously on precomputed facts: zen's floor.
- ``ifchain``   the same rules as a generated plain-Python if-chain (``ifchain.py``) on
                precomputed facts.
- ``decide+zen`` / ``decide+ifchain``: the whole ``decide()`` pipeline with the rule
                matching done by zen / the if-chain instead of durable_rules
                (``Engine.decide_with_fired``): the same Decision, other matcher.
- ``compiled``  ``Engine(ruleset, backend="compiled").decide``: the whole pipeline on the
                compiled backend (``nocert_rules.engine.compiled``); ``compiled.fire`` its
                matcher alone on precomputed facts.
- ``json.loads`` the stdlib reading the same request's JSON line: the floor of any JSON-in API.
- ``validate`` / ``facts`` / ``build``: the parts of ``decide`` that are not rule matching,
                each alone: ``parse_request``; ``find_row`` + ``facts_for``; ``decide_with_fired``
                (choice, trace, deadlines, the Decision) on precomputed fired rules.

Before timing, every case is checked: all matchers fire the same rules, and the zen,
if-chain and cached pipelines give a Decision equal to ``decide()``'s.

Workloads (``--workload``):

- ``generated`` (default when present): ``examples/generate_cases.py``, the project's
  realistic synthetic case mix (busy items weighted, dates mostly within the plan's validity);
- ``random``: ``make_requests`` below, seeded random requests spread evenly over every row,
  ~5% unlisted, every request flag, credit levels, blacklist states, dates before/in/after
  validity (more verification deadlines, so a little slower).
Timing: per call with ``perf_counter_ns``, implementations interleaved in blocks so that
drift (frequency, other load) hits all alike; GC on, as in production, with the harness's own
prepared data frozen (``gc.freeze``) so that full collections do not traverse it.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import platform
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from nocert_rules.engine.core import Engine, facts_for, list_day  # noqa: E402
from nocert_rules.engine.durable_host import _PrivateHost  # noqa: E402
from nocert_rules.models import DecisionRequest, parse_request  # noqa: E402
from nocert_rules.policy.ruleset import ListRow, Ruleset, load_ruleset  # noqa: E402

RULESET = HERE.parent / "rulesets" / "zibo"
SEED = 20250927


# ---------------------------------------------------------------- workload


def _id_number(rng: random.Random) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    return f"3703{rng.randrange(10, 99)}{born:%Y%m%d}{rng.randrange(1000):03d}{rng.choice('0123456789X')}"


def make_requests(ruleset: Ruleset, n: int, seed: int = SEED) -> list[dict[str, Any]]:
    """``n`` seeded random request dicts (as a host system would send them)."""
    rng = random.Random(seed)
    start = datetime(2020, 12, 1)
    span_minutes = int((datetime(2022, 6, 30) - start).total_seconds() // 60)
    out: list[dict[str, Any]] = []
    for i in range(n):
        row = rng.choice(ruleset.rows)
        if rng.random() < 0.05:
            item, cert = row.service_item_code, f"ZM-XX-{rng.randrange(10000):04d}"  # not listed
        else:
            item = row.service_item_code
            cert = row.certificate_name if rng.random() < 0.1 else row.certificate_id
        at = start + timedelta(minutes=rng.randrange(span_minutes))
        applicant: dict[str, Any] = {
            "kind": rng.choice(["person", "person", "organization"]),
            "id_number": _id_number(rng),
            "credit": rng.choice(["trustworthy", "normal", "normal", "untrustworthy"]),
            "serious_bad_record": rng.random() < 0.1,
        }
        if rng.random() < 0.5:
            applicant["name"] = rng.choice(["张三", "李四", "王某某", "欧阳娜娜", "Zhang San"])
        if rng.random() < 0.15:
            since = at.date() - timedelta(days=rng.randrange(-30, 400))
            applicant["blacklisted_since"] = since.isoformat()
            if rng.random() < 0.5:
                applicant["credit_repaired_on"] = (since + timedelta(days=rng.randrange(0, 200))).isoformat()
        request: dict[str, Any] = {
            "service_item": item,
            "certificate": cert,
            "applicant": applicant,
            "requested_at": at.isoformat(),
            "request_id": f"bench-{i}",
        }
        for flag in ("wants_pledge", "provides_certificate", "sharing_online", "proxy_authorized", "adjustment_pending"):
            if rng.random() < 0.6:
                request[flag] = rng.random() < 0.5
        out.append(request)
    return out


# ---------------------------------------------------------------- the floors


def durable_of(engine: Engine) -> tuple[Any, str]:
    """The durable_rules host and ruleset name behind ``engine``.

    ``Engine`` keeps them as ``_host``/``_name``; a helper object holding ``_host`` and
    ``name`` (such as ``durable_host.CompiledRules``) is found too.
    """
    if hasattr(engine, "_host"):
        return engine._host, engine._name
    for value in vars(engine).values():
        if hasattr(value, "_host") and isinstance(getattr(value, "name", None), str):
            return value._host, value.name
    raise LookupError("cannot find the durable_rules host of the engine")


def compiled_definition(engine: Engine, recorder: Callable[[str], Callable[[Any], None]]) -> dict[str, Any]:
    """The durable_rules definition the engine registered (a copy), with fresh actions.

    durable_rules keeps the definition minus the actions; every rule of the ruleset gets
    ``recorder(rule id)``, any rule the engine added for itself a no-op.
    """
    host, name = durable_of(engine)
    definition: dict[str, Any] = json.loads(json.dumps(host.get_ruleset(name).get_definition()))
    rule_ids = {rule.id for rule in engine.ruleset.rules}
    for rule_name, rule in definition.items():
        rule["run"] = recorder(rule_name) if rule_name in rule_ids else _no_op
    return definition


def _no_op(_c: Any) -> None:
    return None


def engine_payloads(engine: Engine, facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The payloads ``engine.fire`` hands to durable_rules for ``facts`` (sid left out)."""
    host, _ = durable_of(engine)
    real = host.assert_fact
    seen: list[dict[str, Any]] = []

    def spy(name: str, payload: dict[str, Any], complete: Any = None) -> Any:
        seen.append({k: v for k, v in payload.items() if k != "sid"})
        return real(name, payload, complete)

    host.assert_fact = spy
    try:
        out = []
        for f in facts:
            seen.clear()
            engine.fire(f)
            out.append(seen[0])  # the facts (a no-match clean-up, if any, comes after)
        return out
    finally:
        del host.assert_fact


class BareDurable:
    """The engine's floor: the same compiled rules, fed the payloads the engine asserts."""

    def __init__(self, engine: Engine) -> None:
        global MessageNotHandled
        from durable.engine import MessageNotHandledException as MessageNotHandled
        self.fired: list[str] = []
        fired = self.fired

        def recorder(rule_id: str) -> Callable[[Any], None]:
            def record(_c: Any) -> None:
                fired.append(rule_id)

            return record

        self.name = f"bare_{engine.ruleset.name}"
        self.host = _PrivateHost({self.name: compiled_definition(engine, recorder)})
        self._sid = itertools.count(1)

    def post(self, payload: dict[str, Any]) -> list[str]:
        sid = str(next(self._sid))
        payload["sid"] = sid
        self.fired.clear()
        try:
            self.host.assert_fact(self.name, payload)
        except MessageNotHandled:
            pass
        finally:
            self.host.delete_state(self.name, sid)
        return list(self.fired)


MessageNotHandled: type[Exception] = Exception  # durable_rules' own, once a BareDurable is built


def zen_missing() -> str | None:
    """Why the zen-engine rows cannot run here (``zen-engine`` is optional), else None."""
    try:
        import zen  # noqa: F401
    except ImportError as exc:
        return f"zen-engine is not installed ({exc})"
    return None


# ---------------------------------------------------------------- timing


@dataclass
class Stat:
    name: str
    samples_ns: list[int]

    @property
    def median_us(self) -> float:
        s = sorted(self.samples_ns)
        return s[len(s) // 2] / 1000

    @property
    def p99_us(self) -> float:
        s = sorted(self.samples_ns)
        return s[min(len(s) - 1, int(len(s) * 0.99))] / 1000

    @property
    def mean_us(self) -> float:
        return sum(self.samples_ns) / len(self.samples_ns) / 1000


def time_interleaved(
    calls: dict[str, tuple[Callable[[Any], Any], list[Any]]], n: int, block: int = 500
) -> dict[str, Stat]:
    """Time each ``fn(arg)`` per call, ``n`` calls each, in interleaved blocks of ``block``."""
    clock = time.perf_counter_ns
    samples: dict[str, list[int]] = {name: [] for name in calls}
    names = list(calls)
    for name in names:  # warm-up: caches, calendar years, zen's and durable's first calls
        fn, args = calls[name]
        for arg in args[: min(len(args), 2000)]:
            fn(arg)
    # The harness's own data (thousands of prepared cases in several forms) would otherwise be
    # traversed by every full collection and bill its pauses to whichever call triggers them.
    # Frozen, it is out of the collector's way; what the measured calls allocate is collected
    # as usual (GC stays on).
    gc.collect()
    gc.freeze()
    done = 0
    rounds = 0
    while done < n:
        size = min(block, n - done)
        order = names[rounds % len(names):] + names[: rounds % len(names)]
        for name in order:
            fn, args = calls[name]
            out = samples[name]
            start_index = done % len(args)
            for j in range(size):
                arg = args[(start_index + j) % len(args)]
                t0 = clock()
                fn(arg)
                out.append(clock() - t0)
        done += size
        rounds += 1
    gc.unfreeze()
    return {name: Stat(name, s) for name, s in samples.items()}


# ---------------------------------------------------------------- the benchmark


@dataclass
class Prepared:
    requests: list[dict[str, Any]]
    parsed: list[DecisionRequest]
    rows: list[ListRow | None]
    facts: list[dict[str, Any]]


def generated_requests(n: int, seed: int = SEED) -> list[dict[str, Any]] | None:
    """``n`` cases of ``examples/generate_cases.py`` as request dicts, or None if it is absent."""
    import casegen

    if not casegen.SCRIPT.exists():
        return None
    cases = casegen.load().generate(RULESET, n, seed)
    return [{k: v for k, v in case.items() if k not in ("case_id", "expected_method")} for case in cases]


def prepare(ruleset: Ruleset, n_cases: int, workload: str = "generated") -> Prepared:
    requests = generated_requests(n_cases) if workload == "generated" else None
    if requests is None:
        requests = make_requests(ruleset, n_cases)
    parsed = [parse_request(r) for r in requests]
    rows = [ruleset.find_row(p.service_item, p.certificate, list_day(p)) for p in parsed]
    facts = [facts_for(ruleset, p, row) for p, row in zip(parsed, rows, strict=True)]
    return Prepared(requests, parsed, rows, facts)


def run(n: int = 20_000, n_cases: int = 5_000, workload: str = "generated", verbose: bool = True) -> dict[str, Any]:
    """Run the benchmark; returns the figures (µs and ratios) for ``run_all.py``."""
    from ifchain import compile_ifchain

    no_zen = zen_missing()
    ruleset = load_ruleset(RULESET)
    engine = Engine(ruleset, backend="durable")
    compiled = Engine(ruleset, backend="compiled")
    bare = BareDurable(engine)
    ifchain = compile_ifchain(ruleset)
    prep = prepare(ruleset, n_cases, workload)
    payloads = engine_payloads(engine, prep.facts)
    zen_rules: Any = None
    contexts: list[Any] = []
    if no_zen is None:
        from zen_table import ZenRules, nest

        zen_rules = ZenRules(ruleset)
        contexts = [nest(f) for f in prep.facts]

    # -- correctness first: same rules fired by every matcher; same Decision by every pipeline
    for i, facts in enumerate(prep.facts):
        expected = engine.fire(facts)
        matchers = [
            ("bare durable", bare.post(dict(payloads[i]))),
            ("ifchain", ifchain(facts)),
            ("compiled", compiled.fire(facts)),
        ]
        if zen_rules is not None:
            matchers.append(("zen", zen_rules.rule_ids(zen_rules.evaluate(contexts[i]))))
        for label, got in matchers:
            assert got == expected, f"case {i}: {label} fired {got}, engine fired {expected}"

    def decide_zen(request: dict[str, Any]) -> Any:
        req = parse_request(request)
        row = engine.find_row(req)  # the row version in force on the request's day, as decide() takes it
        return engine.decide_with_fired(req, row, zen_rules.fire(engine.facts_for(req, row)))

    def decide_ifchain(request: dict[str, Any]) -> Any:
        req = parse_request(request)
        row = engine.find_row(req)
        return engine.decide_with_fired(req, row, ifchain(engine.facts_for(req, row)))

    for request in prep.requests:
        reference = engine.decide(request)
        if zen_rules is not None:
            assert decide_zen(request) == reference
        assert decide_ifchain(request) == reference
        on_compiled = compiled.decide(request)
        assert on_compiled.ruleset.backend == "compiled" and reference.ruleset.backend == "durable"
        assert on_compiled.model_dump(exclude={"ruleset"}) == reference.model_dump(exclude={"ruleset"})

    fired = [engine.fire(f) for f in prep.facts]
    staged = list(zip(prep.parsed, prep.rows, fired, strict=True))

    def facts_step(parsed: DecisionRequest) -> Any:
        return engine.facts_for(parsed, engine.find_row(parsed))

    def build_step(item: tuple[DecisionRequest, ListRow | None, list[str]]) -> Any:
        return engine.decide_with_fired(*item)

    calls: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {
        "decide": (engine.decide, prep.requests),
        "bare": (bare.post, payloads),
        "json.loads": (json.loads, [json.dumps(r, ensure_ascii=False) for r in prep.requests]),  # the case line
    }
    if zen_rules is not None:
        calls["zen"] = (zen_rules.evaluate, contexts)
        calls["decide+zen"] = (decide_zen, prep.requests)
    stats = time_interleaved(
        {
            **calls,
            "ifchain": (ifchain, prep.facts),
            "decide+ifchain": (decide_ifchain, prep.requests),
            "compiled": (compiled.decide, prep.requests),
            "compiled.fire": (compiled.fire, prep.facts),
            "validate": (parse_request, prep.requests),
            "facts": (facts_step, prep.parsed),
            "build": (build_step, staged),
        },
        n,
    )
    memo = len(engine._fired_memo)  # durable decide() keeps what durable_rules fired (Engine(fired_memo=))
    engine.close()
    compiled.close()
    d = stats["decide"]

    def ratio(other: str) -> dict[str, float]:
        o = stats[other]
        return {"median": d.median_us / o.median_us, "p99": d.p99_us / o.p99_us}

    figures: dict[str, Any] = {
        "workload": workload if workload == "random" or generated_requests(1) is not None else "random",
        "n_calls": n,
        "n_cases": n_cases,
        "rules": len(ruleset.rules),
        "rows": len(ruleset.rows),
        "us": {name: {"median": s.median_us, "p99": s.p99_us, "mean": s.mean_us} for name, s in stats.items()},
        "decide_vs": {name: ratio(name) for name in stats if name != "decide"},
        "vs": {
            "compiled/ifchain": _ratio(stats["compiled"], stats["ifchain"]),
            "compiled/json.loads": _ratio(stats["compiled"], stats["json.loads"]),
            "compiled.fire/ifchain": _ratio(stats["compiled.fire"], stats["ifchain"]),
            "compiled/decide+ifchain": _ratio(stats["compiled"], stats["decide+ifchain"]),
            "decide/bare": _ratio(d, stats["bare"]),
        },
        "skipped": {"zen": no_zen} if no_zen else {},
        "durable_fired_memo_entries": memo,
    }
    if verbose:
        print_report(figures)
    return figures


def _ratio(a: Stat, b: Stat) -> dict[str, float]:
    return {"median": a.median_us / b.median_us, "p99": a.p99_us / b.p99_us}


def print_report(fig: dict[str, Any]) -> None:
    print(
        f"decide(), {fig['workload']} workload: {fig['n_calls']} timed calls per implementation over "
        f"{fig['n_cases']} seeded cases; "
        f"{fig['rules']} rules, {fig['rows']} rows; Python {platform.python_version()}"
    )
    header = f"{'implementation':<16} | {'median µs':>9} | {'p99 µs':>8} | {'decide/this median':>18} | {'decide/this p99':>15}"
    print(header)
    print("-" * len(header))
    for name, us in fig["us"].items():
        if name == "decide":
            print(f"{name:<16} | {us['median']:>9.1f} | {us['p99']:>8.1f} | {'1.00':>18} | {'1.00':>15}")
            continue
        r = fig["decide_vs"][name]
        print(f"{name:<16} | {us['median']:>9.1f} | {us['p99']:>8.1f} | {r['median']:>17.2f}x | {r['p99']:>14.2f}x")
    bare = fig["decide_vs"]["bare"]
    print(
        f"target decide <= 1.5x bare durable_rules post: median {bare['median']:.2f}x, p99 {bare['p99']:.2f}x "
        f"-> {'MET' if bare['median'] <= 1.5 and bare['p99'] <= 1.5 else 'MISSED'}"
    )
    if "zen" in fig["decide_vs"]:
        zen = fig["decide_vs"]["zen"]
        print(
            f"target decide faster than the zen-engine table: median {zen['median']:.2f}x, p99 {zen['p99']:.2f}x "
            f"-> {'MET' if zen['median'] < 1 and zen['p99'] < 1 else 'MISSED'}"
        )
    for name, why in fig["skipped"].items():
        print(f"{name}: skipped, {why}")
    vs = fig["vs"]
    for key, target in (("compiled/json.loads", 4.0), ("compiled/ifchain", 10.0), ("decide/bare", 1.3)):
        r = vs[key]
        print(f"target {key} <= {target}x: median {r['median']:.2f}x, p99 {r['p99']:.2f}x "
              f"-> {'MET' if r['median'] <= target else 'MISSED'} (median)")
    for key in ("compiled.fire/ifchain", "compiled/decide+ifchain"):
        r = vs[key]
        print(f"{key}: median {r['median']:.2f}x, p99 {r['p99']:.2f}x")
    us = fig["us"]
    outside = us["decide"]["median"] - us["bare"]["median"]
    print(f"decide - bare (the non-matching part, medians): {outside:.1f} µs; alone: validate "
          f"{us['validate']['median']:.1f}, facts {us['facts']['median']:.1f}, build {us['build']['median']:.1f} µs")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="timed calls per implementation")
    parser.add_argument("--cases", type=int, default=5_000, help="distinct seeded cases")
    parser.add_argument("--workload", choices=["generated", "random"], default="generated")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a check that it runs, not figures)")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.cases = 200, 100
    run(args.n, args.cases, args.workload)


if __name__ == "__main__":
    main()
