"""Benchmark: the decision service over HTTP against in-process ``Engine.decide()``.

Run: ``python benchmarks/bench_service.py [--n 2000] [--batches 40] [--seconds 10] [--rounds 1]
[--baseline 405bd9c] [--baseline-dir DIR]`` (not a test; prints a table; ``--tiny`` for a
seconds-long smoke run, without the baseline). ``benchmarks/run_all.py`` runs it as a child
process. Needs the ``serve`` extra (and httpx).

It starts ``nocert-rules serve rulesets/zibo`` (one worker) on free 127.0.0.1 ports and measures,
in one run, on the requests of ``examples/cases.jsonl``:

- single request latency, p50 and p99: ``POST /v1/decide`` over one keep-alive connection
  (client's JSON encoding and decoding included) against ``Engine.decide(dict)`` in this process;
- throughput under load: ``POST /v1/decide`` from 20 concurrent keep-alive clients of a load
  generator in another process (``wrk`` when on PATH, else this script's own asyncio generator in
  a child process): requests/s, p50, p99; target >= 2,000 req/s with p99 <= 20 ms;
- the same with ``--backend compiled`` (the default ``auto`` picks durable_rules where it imports);
- the same on asyncio's own event loop (uvloop blocked in the server process), to show what the
  ``serve`` extra's uvloop gives;
- the keyed decision log (``--decision-log --key-file``) under 50 clients: group commit (the
  default) against an fsync per decision (``--commit-max 1``, the policy before group commit),
  requests/s, p50, p99; target >= 5x the baseline's req/s with p99 <= 50 ms; and the same with
  ``--cpu-affinity off`` (the process left to the kernel, not on a CPU of its own);
- the baseline (``--baseline``, default ``405bd9c``, the tree issue 25 measured: 379 req/s on its
  day), exported with ``git archive`` and installed with its own ``serve`` extra into its own venv
  (``compare_release.install_release``; ``--baseline-dir`` keeps it for the next run), serving its
  own ``rulesets/zibo``, measured in the same run, interleaved with this tree: no log under 20
  clients and the keyed log under 50. ``--rounds N`` repeats every load run N times (each figure
  the round with the most requests/s);
- batch throughput: decisions per second through ``POST /v1/decide/batch`` with 100 requests per
  batch, against in-process ``decide()`` over the same requests; target >= 0.8x.

Every answer is checked against in-process decide() before timing (same JSON), and every load
answer must be a 200. The client and the server share the machine's cores, as a sidecar would.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from nocert_rules import Engine, load_ruleset  # noqa: E402
from nocert_rules.tools.casefile import iter_cases  # noqa: E402

BATCH = 100
BASELINE = "405bd9c"
"""The tree issue 25 row 9 measured (379 req/s under 50 clients with the keyed log, on its day)."""
NO_UVLOOP = ("import sys; sys.modules['uvloop'] = None; from nocert_rules.cli.main import main; "
             "sys.exit(main())")
"""The server's command with uvloop blocked: uvicorn's ``loop="auto"`` then takes asyncio's."""
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open(os.getenv("NOCERT_BODY"), "r"):read("*a")
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("NOCERT %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status + e.connect + e.read + e.write + e.timeout))
end
"""


def cases() -> list[dict[str, Any]]:
    """The bundled sample cases as requests, read as ``dry-run`` reads them (without ``case_id``
    and ``expected_method``)."""
    return [c.request for c in iter_cases(str(ROOT / "examples" / "cases.jsonl")) if c.request is not None]


class Tree(NamedTuple):
    """A tree to serve: the command that starts its ``nocert-rules`` and the folder of its rulesets."""

    name: str
    command: tuple[str, ...]
    root: Path


THIS = Tree("this tree", (str(Path(sys.executable).parent / "nocert-rules"),), ROOT)


def baseline_tree(rev: str, folder: Path | None, tmp: Path) -> Tree:
    """``rev`` exported and installed with its ``serve`` extra in its own venv (kept in ``folder``
    when given: built there once, reused after)."""
    from compare_release import install_release

    where = folder if folder is not None else tmp / "baseline"
    python, src = where / "venv" / "bin" / "python", where / "src"
    if not python.exists():
        python_s, src = install_release(rev, where)
        done = subprocess.run([python_s, "-m", "pip", "install", "-q", f"{src}[serve]"], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"installing {rev}[serve] failed:\n{done.stderr[-3000:]}")
    return Tree(rev, (str(where / "venv" / "bin" / "nocert-rules"),), src)


def start_server(*args: str, tree: Tree = THIS) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([*tree.command, "serve", str(tree.root / "rulesets" / "zibo"), "--port", str(port),
                                *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tree.root)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.1)


def processes(pid: int) -> list[psutil.Process]:
    """Process ``pid`` and its descendants (a ``--workers`` supervisor's workers)."""
    with contextlib.suppress(psutil.NoSuchProcess):
        top = psutil.Process(pid)
        return [top, *top.children(recursive=True)]
    return []


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its descendants."""
    total = 0.0
    for p in processes(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = p.cpu_times()
            total += times.user + times.system
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` and its descendants, MiB."""
    total = 0
    for p in processes(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total / 2**20 if total else float("nan")


def load(base: str, body: Path, clients: int, seconds: float) -> dict[str, Any]:
    """``POST /v1/decide`` of ``body`` from ``clients`` keep-alive connections for ``seconds``,
    from another process: requests/s, p50 and p99 in ms. Fails on any answer but a 200."""
    if shutil.which("wrk"):
        script = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_service_{os.getpid()}.lua"
        script.write_text(WRK_SCRIPT, encoding="utf-8")
        try:
            done = subprocess.run(
                ["wrk", "-t2", f"-c{clients}", f"-d{max(1, round(seconds))}s", "-s", str(script), base + "/v1/decide"],
                capture_output=True, text=True, env={**os.environ, "NOCERT_BODY": str(body)}, timeout=seconds + 60)
        finally:
            script.unlink()
        line = next((x for x in done.stdout.splitlines() if x.startswith("NOCERT ")), None)
        if line is None:
            raise SystemExit(f"wrk gave no figures:\n{done.stdout}{done.stderr}")
        requests, duration_us, p50_us, p99_us, errors = (int(x) for x in line.split()[1:])
        figures = {"generator": "wrk", "requests": requests, "rps": requests / (duration_us / 1e6),
                   "p50": p50_us / 1000, "p99": p99_us / 1000, "errors": errors}
    else:
        done = subprocess.run([sys.executable, __file__, "--load-child", base, str(body), str(clients), str(seconds)],
                              capture_output=True, text=True, timeout=seconds + 60)
        if done.returncode != 0:
            raise SystemExit(f"the load generator failed:\n{done.stderr}")
        figures = json.loads(done.stdout)
    if figures["errors"]:
        raise SystemExit(f"{figures['errors']} answers under load were not 200 ({figures})")
    return figures


def load_child(base: str, body_path: str, clients: int, seconds: float) -> None:
    """The load generator without wrk: asyncio keep-alive connections, one request at a time each."""
    host, port = base.removeprefix("http://").split(":")
    body = Path(body_path).read_bytes()
    head = (f"POST /v1/decide HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    latencies: list[float] = []
    errors = 0

    async def client(deadline: float) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            writer.write(head + body)
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            errors += not status.startswith(b"HTTP/1.1 200")
        writer.close()

    async def main() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(client(started + seconds) for _ in range(clients)))
        return time.perf_counter() - started

    elapsed = asyncio.run(main())
    print(json.dumps({"generator": "asyncio", "requests": len(latencies), "rps": len(latencies) / elapsed,
                      "p50": percentile(latencies, 0.5) * 1000, "p99": percentile(latencies, 0.99) * 1000,
                      "errors": errors}))


def serve_and_load(body: Path, clients: int, seconds: float, *args: str, tree: Tree = THIS) -> dict[str, Any]:
    """A fresh server (``serve *args``), warmed up, then :func:`load`; with its RSS after."""
    process, base = start_server(*args, tree=tree)
    try:
        load(base, body, clients, min(1.0, seconds))  # warm-up
        cpu = process_cpu(process.pid)
        figures = load(base, body, clients, seconds)
        figures["cpu_us"] = (process_cpu(process.pid) - cpu) / figures["requests"] * 1e6
        figures["rss_mib"] = rss_mib(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    return figures


def keyed_policy(tree: Tree | None) -> str:
    """How the baseline's keyed log commits, for its rows' labels: 405bd9c (issue 25's tree)
    fsyncs once per decision; a later baseline has group commit too, so its label says only that
    it is the baseline's own policy."""
    if tree is not None and (BASELINE.startswith(tree.name) or tree.name.startswith(BASELINE)):
        return "an fsync per decision"
    return "its own commit policy"


def load_runs(tmp: Path, baseline: Tree | None) -> list[tuple[str, str, int, Tree, tuple[str, ...]]]:
    """``(name, what, clients, tree, serve args)`` of each load run, this tree's and the baseline's
    interleaved (keyed logs are written under ``tmp``)."""
    key = tmp / "host.key"
    key.write_bytes(b"bench-service-host-key-0123456789")
    no_uvloop = Tree(THIS.name, (sys.executable, "-c", NO_UVLOOP), ROOT)

    def keyed(name: str) -> tuple[str, ...]:
        return "--decision-log", str(tmp / f"{name}.jsonl"), "--key-file", str(key)

    policy = keyed_policy(baseline)
    runs = [("plain", "no decision log", 20, THIS, ()),
            ("base_plain", "no decision log", 20, baseline, ()),
            ("asyncio", "no decision log, asyncio loop (no uvloop)", 20, no_uvloop, ()),
            ("compiled", "no decision log, --backend compiled", 20, THIS, ("--backend", "compiled")),
            ("group", "keyed log, group commit", 50, THIS, keyed("group")),
            ("base_keyed", f"keyed log, {policy}", 50, baseline, keyed("base_keyed")),
            ("single", "keyed log, --commit-max 1", 50, THIS, (*keyed("single"), "--commit-max", "1")),
            ("unpinned", "keyed log, --cpu-affinity off", 50, THIS, (*keyed("unpinned"), "--cpu-affinity", "off")),
            # the same deployment on both sides: two worker processes appending to one log (flock)
            ("group_w2", "keyed log, group commit, --workers 2", 50, THIS, (*keyed("group_w2"), "--workers", "2")),
            ("base_keyed_w2", f"keyed log, {policy}, --workers 2", 50, baseline,
             (*keyed("base_keyed_w2"), "--workers", "2"))]
    return [r for r in runs if r[3] is not None]  # type: ignore[misc]


def run_load(seconds: float, tmp: Path, baseline: Tree | None = None, rounds: int = 1) -> dict[str, Any]:
    """Every load run ``rounds`` times; each figure the round with the most requests/s. The keyed
    logs must hold at least as many entries as answers were acknowledged."""
    body = tmp / "request.json"
    body.write_text(json.dumps(cases()[0], ensure_ascii=False), encoding="utf-8")
    runs = load_runs(tmp, baseline)
    best: dict[str, dict[str, Any]] = {}
    for _ in range(rounds):
        for name, what, clients, tree, args in runs:
            log = tmp / f"{name}.jsonl"
            log.unlink(missing_ok=True)
            fig = serve_and_load(body, clients, seconds, *args, tree=tree)
            if log.exists():
                lines = sum(1 for _ in log.open("rb"))
                if lines < fig["requests"]:
                    raise SystemExit(f"{name}: {fig['requests']} answered but only {lines} entries logged")
                fig["logged"] = lines
            fig.update(what=what, clients=clients, tree=tree.name)
            if name not in best or fig["rps"] > best[name]["rps"]:
                best[name] = fig
    return best


def run(n: int, batches: int, checked: int = 200) -> dict[str, Any]:
    engine = Engine(load_ruleset(ROOT / "rulesets" / "zibo"))
    work = cases()
    process, base = start_server()
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            # correctness first: every answer equals in-process decide()
            for case in work[:checked]:
                assert client.post("/v1/decide", json=case).json() == json.loads(engine.decide(case).model_dump_json())
                batch = client.post("/v1/decide/batch", json={"requests": [case]}).json()
                assert batch["results"][0]["decision"] == json.loads(engine.decide(case).model_dump_json())
            # warm-up
            for case in work[:checked]:
                client.post("/v1/decide", json=case)
                engine.decide(case)

            http_us: list[float] = []
            local_us: list[float] = []
            for i in range(n):  # interleaved, so that drift hits both alike
                case = work[i % len(work)]
                t0 = time.perf_counter_ns()
                response = client.post("/v1/decide", json=case)
                response.json()
                t1 = time.perf_counter_ns()
                engine.decide(case)
                t2 = time.perf_counter_ns()
                assert response.status_code == 200
                http_us.append((t1 - t0) / 1000)
                local_us.append((t2 - t1) / 1000)

            chunks = [work[(k * BATCH) % len(work):][:BATCH] for k in range(batches)]
            chunks = [c if len(c) == BATCH else work[:BATCH] for c in chunks]
            http_s = 0.0
            local_s = 0.0
            http_cpu = 0.0
            local_cpu = 0.0
            for chunk in chunks:
                server_cpu0, client_cpu0 = process_cpu(process.pid), time.thread_time()
                t0 = time.perf_counter()
                response = client.post("/v1/decide/batch", json={"requests": chunk})
                results = response.json()["results"]
                t1 = time.perf_counter()
                server_cpu1, client_cpu1 = process_cpu(process.pid), time.thread_time()
                for case in chunk:
                    engine.decide(case)
                t2 = time.perf_counter()
                local_cpu1 = time.thread_time()
                assert len(results) == BATCH and all("decision" in r for r in results)
                http_s += t1 - t0
                local_s += t2 - t1
                http_cpu += (server_cpu1 - server_cpu0) + (client_cpu1 - client_cpu0)
                local_cpu += local_cpu1 - client_cpu1
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        engine.close()
    decisions = batches * BATCH
    return {
        "n": n,
        "http_p50": statistics.median(http_us), "http_p99": percentile(http_us, 0.99),
        "local_p50": statistics.median(local_us), "local_p99": percentile(local_us, 0.99),
        "batch_http_per_s": decisions / http_s, "batch_local_per_s": decisions / local_s,
        "batch_ratio": (decisions / http_s) / (decisions / local_s), "decisions": decisions,
        "load": load,
        "cpu_ratio": local_cpu / http_cpu,
    }


def report(fig: dict[str, Any]) -> None:
    print(f"single request, {fig['n']} calls (µs)        p50        p99")
    print(f"  POST /v1/decide over HTTP          {fig['http_p50']:>9.1f}  {fig['http_p99']:>9.1f}")
    print(f"  Engine.decide() in process         {fig['local_p50']:>9.1f}  {fig['local_p99']:>9.1f}")
    print(f"  HTTP / in-process                  {fig['http_p50'] / fig['local_p50']:>8.2f}x  "
          f"{fig['http_p99'] / fig['local_p99']:>8.2f}x")
    verdict = "MET" if fig["batch_ratio"] >= 0.8 else "MISSED"
    print(f"batch of {BATCH}, {fig['decisions']} decisions: HTTP {fig['batch_http_per_s']:,.0f}/s, "
          f"in-process {fig['batch_local_per_s']:,.0f}/s, ratio {fig['batch_ratio']:.2f}x (target >= 0.8x) {verdict}")
    print(f"  CPU: in-process decide() CPU time / (server process + client thread CPU time) = "
          f"{fig['cpu_ratio']:.2f}x (what the HTTP path costs the machine, whatever the load)")
    print(f"(load average at end {fig['load']})")


def report_load(fig: dict[str, Any], seconds: float, rounds: int) -> None:
    plain, group = fig["plain"], fig["group"]
    print(f"under load ({plain['generator']} in another process, {seconds:g} s each, best of {rounds} round(s), "
          "one worker unless said, 127.0.0.1):")
    print("  POST /v1/decide                                 tree        clients     req/s    p50 ms    p99 ms"
          "   RSS MiB  server CPU µs/req")
    for f in fig.values():
        print(f"  {f['what']:<46} {f['tree']:<12} {f['clients']:>5} {f['rps']:>9,.0f} {f['p50']:>9.1f}"
              f" {f['p99']:>9.1f} {f['rss_mib']:>9.0f} {f['cpu_us']:>18,.0f}")
    verdict = "MET" if plain["rps"] >= 2000 and plain["p99"] <= 20 else "MISSED"
    print(f"  no log, 20 clients: {plain['rps']:,.0f} req/s, p99 {plain['p99']:.1f} ms "
          f"(target >= 2,000 req/s, p99 <= 20 ms) {verdict}")
    if "base_plain" in fig:
        print(f"  no log, 20 clients: {plain['rps'] / fig['base_plain']['rps']:.2f}x {fig['base_plain']['tree']} "
              "in this run")
    if "asyncio" in fig:
        print(f"  no log, 20 clients: uvloop {plain['cpu_us']:,.0f} µs of server CPU per request, asyncio's loop "
              f"{fig['asyncio']['cpu_us']:,.0f} µs; req/s {plain['rps'] / fig['asyncio']['rps']:.2f}x asyncio's")
    print(f"  keyed log, 50 clients: group commit {group['rps'] / fig['single']['rps']:.2f}x an fsync per decision "
          "(--commit-max 1) in this run")
    if "unpinned" in fig:
        off = fig["unpinned"]
        print(f"  keyed log, 50 clients: on a CPU of its own (the default) {group['rps'] / off['rps']:.2f}x "
              f"--cpu-affinity off in this run, {group['cpu_us']:,.0f} vs {off['cpu_us']:,.0f} µs of server CPU "
              "per request")
    if "base_keyed" in fig:
        base = fig["base_keyed"]
        ratio = group["rps"] / base["rps"]
        verdict = "MET" if ratio >= 5 and group["p99"] <= 50 else "MISSED"
        print(f"  keyed log, 50 clients: {ratio:.2f}x {base['tree']} in this run ({group['rps']:,.0f} vs "
              f"{base['rps']:,.0f} req/s), p99 {group['p99']:.1f} ms vs {base['p99']:.1f} ms "
              f"(target >= 5x, p99 <= 50 ms) {verdict}")
    if "base_keyed_w2" in fig:
        w2, base = fig["group_w2"], fig["base_keyed_w2"]
        print(f"  keyed log, 50 clients, --workers 2 on both: {w2['rps'] / base['rps']:.2f}x {base['tree']} "
              f"({w2['rps']:,.0f} vs {base['rps']:,.0f} req/s), p99 {w2['p99']:.1f} ms vs {base['p99']:.1f} ms")
    for name in ("group", "single", "unpinned", "base_keyed", "group_w2", "base_keyed_w2"):
        if name in fig:
            print(f"  entries logged, {fig[name]['what']} ({fig[name]['tree']}): {fig[name]['logged']:,} "
                  f"for {fig[name]['requests']:,} answered")


def machine() -> str:
    """The machine, for the record: CPU model and count, and the fsync policy's file system."""
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({model}), Python {sys.version.split()[0]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="single requests timed")
    parser.add_argument("--batches", type=int, default=40, help="batches of 100 timed")
    parser.add_argument("--seconds", type=float, default=10, help="seconds of each load run (0: skip them)")
    parser.add_argument("--rounds", type=int, default=1, help="each load run this many times (the best kept)")
    parser.add_argument("--baseline", default=BASELINE, help="revision measured beside this tree ('none': skip)")
    parser.add_argument("--baseline-dir", type=Path, help="where the baseline's tree and venv are kept (reused)")
    parser.add_argument("--tiny", action="store_true", help="a smoke run of a few seconds (tiny sizes, no baseline)")
    parser.add_argument("--load-child", nargs=4, metavar=("URL", "BODY", "CLIENTS", "SECONDS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.load_child:
        url, body, clients, seconds = args.load_child
        load_child(url, body, int(clients), float(seconds))
        return 0
    if args.tiny:
        args.n, args.batches, args.seconds, args.rounds, args.baseline = 20, 2, 1, 1, "none"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"(machine: {machine()}; load average at start {load})")
    report(run(args.n, args.batches, checked=20 if args.tiny else 200))
    if args.seconds > 0:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            baseline = None if args.baseline == "none" else baseline_tree(args.baseline, args.baseline_dir, Path(tmp))
            figures = run_load(args.seconds, Path(tmp), baseline, args.rounds)
        report_load(figures, args.seconds, args.rounds)
        print(f"(load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
