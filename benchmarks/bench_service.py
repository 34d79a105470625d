"""Benchmark: the decision service over HTTP against in-process ``Engine.decide()``.

Run: ``python benchmarks/bench_service.py [--n 2000] [--batches 40]`` (not a test; prints a table).
``benchmarks/run_all.py`` runs it as a child process. Needs the ``serve`` extra (and httpx).

It starts ``nocert-rules serve rulesets/zibo`` (one worker) on a free 127.0.0.1 port and measures,
in one run, on the requests of ``examples/cases.jsonl``:

- single request latency, p50 and p99: ``POST /v1/decide`` over one keep-alive connection
  (client's JSON encoding and decoding included) against ``Engine.decide(dict)`` in this process;
- batch throughput: decisions per second through ``POST /v1/decide/batch`` with 100 requests per
  batch, against in-process ``decide()`` over the same requests; target >= 0.8x.

Every answer is checked against in-process decide() before timing (same JSON).
The client and the server share the machine's cores, as a sidecar would.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nocert_rules import Engine, load_ruleset  # noqa: E402

BATCH = 100


def cases() -> list[dict[str, Any]]:
    out = []
    for line in (ROOT / "examples" / "cases.jsonl").read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        case.pop("case_id", None)
        case.pop("expected_method", None)
        out.append(case)
    return out


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = str(Path(sys.executable).parent / "nocert-rules")
    process = subprocess.Popen([exe, "serve", str(ROOT / "rulesets" / "zibo"), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
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


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_timing(header: str, name: str) -> float:
    """Seconds of the ``name`` entry of a Server-Timing header (``total;dur=12.3``)."""
    for part in header.split(","):
        label, _, dur = part.strip().partition(";dur=")
        if label == name:
            return float(dur) / 1000
    raise ValueError(header)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(n: int, batches: int) -> dict[str, Any]:
    engine = Engine(load_ruleset(ROOT / "rulesets" / "zibo"))
    work = cases()
    process, base = start_server()
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            # correctness first: every answer equals in-process decide()
            for case in work[:200]:
                assert client.post("/v1/decide", json=case).json() == json.loads(engine.decide(case).model_dump_json())
            # warm-up
            for case in work[:200]:
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
            server_s = 0.0
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
                server_s += server_timing(response.headers["server-timing"], "total")
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
        "server_ratio": local_s / server_s, "load": load,
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
    print(f"  of which inside the server (Server-Timing total, body parsed to response built): "
          f"{fig['server_ratio']:.2f}x in-process throughput; the rest is HTTP, client JSON and scheduling")
    print(f"  CPU: in-process decide() CPU time / (server process + client thread CPU time) = "
          f"{fig['cpu_ratio']:.2f}x (what the HTTP path costs the machine, whatever the load)")
    print(f"(load average at end {fig['load']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="single requests timed")
    parser.add_argument("--batches", type=int, default=40, help="batches of 100 timed")
    args = parser.parse_args(argv)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"(load average at start {load})")
    report(run(args.n, args.batches))
    return 0


if __name__ == "__main__":
    sys.exit(main())
