#!/usr/bin/env python3
"""Verification of the HMAC-authenticated audit log: is it O(n) and flat in memory?

Builds logs of N entries, each a real decision record (``audit_decision`` on the Zibo ruleset,
classified as ``AuditLog.append`` writes it; the request id varies), written with
``records.audit.entry_line`` (the bytes ``AuditLog.append`` writes, without its per-append
fsync, which would make a 1,000,000-entry log take hours). Then ``verify_log(path, key=KEY)``
runs in a fresh child process per log, and the wrapper reports wall time, entries per second and
the child's peak resident set size (``RUSAGE_CHILDREN``). At the middle size it also verifies the
same log with its first entry moved to the end (the reorder that used to take O(n²) time and
exhaust the recursion limit) and reports the time ratio against the intact log.

    python benchmarks/bench_audit_verify.py            # 10,000 and 100,000 entries
    python benchmarks/bench_audit_verify.py --big      # and 1,000,000
    python benchmarks/bench_audit_verify.py --sizes 1000 20000

The last lines print the ratios: peak RSS largest/smallest (close to 1.0: flat memory) and
time per entry largest/smallest (close to 1.0: linear time).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KEY = b"benchmark-host-key-0123456789abcdef"

_WRAPPER = """
import resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
elapsed = time.perf_counter() - started
print(done.returncode, elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.stdout.strip().replace(" ", "_") or "-")
"""

_VERIFY = """
import sys
from nocert_rules.records.audit import verify_log
r = verify_log(sys.argv[1], key=sys.argv[2].encode())
print(f"ok={r.ok},records={r.records},problems={[(p.line, p.kind) for p in r.problems][:3]}")
"""


def template_record() -> dict[str, Any]:
    from datetime import datetime

    from nocert_rules import Engine, load_ruleset
    from nocert_rules.models import SHANGHAI
    from nocert_rules.records.audit import audit_decision, classify_record

    engine = Engine(load_ruleset(ROOT / "rulesets" / "zibo"), key=KEY)
    request = {
        "service_item": "370300-XK-0013",
        "certificate": "ZM-CW-0008",
        "applicant": {"kind": "person", "id_number": "370399199001011231", "name": "张三丰"},
        "requested_at": "2021-05-06T10:00:00",
        "request_id": "case-0",
    }
    record = audit_decision(request, engine.decide(request), KEY, at=datetime(2021, 5, 6, 10, 1, tzinfo=SHANGHAI))
    engine.close()
    return classify_record(record.model_dump(mode="json"), KEY)


def build(path: Path, n: int, record: dict[str, Any]) -> float:
    from nocert_rules.records.audit import GENESIS, audit_mac_key, entry_line

    mac_key = audit_mac_key(KEY)
    started = time.perf_counter()
    prev = GENESIS
    with path.open("wb", buffering=1 << 20) as f:
        for seq in range(1, n + 1):
            record["request_id"] = f"case-{seq}"
            line, prev, _ = entry_line(seq, prev, record, mac_key)
            f.write(line)
    return time.perf_counter() - started


def verify(path: Path) -> tuple[float, int, str]:
    out = subprocess.run(
        [sys.executable, "-c", _WRAPPER, sys.executable, "-c", _VERIFY, str(path), KEY.decode()],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ).stdout.split()
    code, elapsed, rss_kib, result = int(out[0]), float(out[1]), int(out[2]), out[3]
    if code != 0:
        raise SystemExit(f"verification failed (exit {code})")
    return elapsed, rss_kib, result


def move_first_to_end(src: Path, dst: Path) -> None:
    with src.open("rb") as f, dst.open("wb", buffering=1 << 20) as out:
        first = f.readline()
        for line in f:
            out.write(line)
        out.write(first)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="also 1,000,000 entries")
    parser.add_argument("--sizes", type=int, nargs="+", help="log sizes (entries)")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([10_000, 100_000, 1_000_000] if args.big else [10_000, 100_000])
    record = template_record()
    print(f"entry: one decision record, {len(json.dumps(record, ensure_ascii=False).encode()):,} bytes of JSON")
    print(f"{'entries':>10} {'file MB':>9} {'build s':>8} {'verify s':>9} {'entries/s':>11} {'peak RSS MB':>12}  result")
    rows = []
    with tempfile.TemporaryDirectory(prefix="nocert-audit-bench-") as tmp:
        for n in sizes:
            path = Path(tmp) / f"audit-{n}.jsonl"
            built = build(path, n, record)
            size_mb = path.stat().st_size / 1e6
            elapsed, rss, result = verify(path)
            rows.append((n, elapsed, rss))
            print(f"{n:>10,} {size_mb:>9,.1f} {built:>8.1f} {elapsed:>9.1f} {n / elapsed:>11,.0f} {rss / 1024:>12,.1f}  {result}")
            if n == sizes[min(1, len(sizes) - 1)]:
                moved = Path(tmp) / f"moved-{n}.jsonl"
                move_first_to_end(path, moved)
                m_elapsed, m_rss, m_result = verify(moved)
                print(
                    f"{'':>10} first entry moved to the end: verify {m_elapsed:.1f} s, peak RSS "
                    f"{m_rss / 1024:,.1f} MB, {m_result}; reordered / intact time ratio {m_elapsed / elapsed:.2f}x"
                )
                moved.unlink()
            path.unlink()
    (n0, t0, r0), (n1, t1, r1) = rows[0], rows[-1]
    print(f"ratio peak RSS {n1:,} / {n0:,} entries: {r1 / r0:.2f}x (1.0 = flat memory)")
    print(f"ratio time per entry {n1:,} / {n0:,} entries: {(t1 / n1) / (t0 / n0):.2f}x (1.0 = linear time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
