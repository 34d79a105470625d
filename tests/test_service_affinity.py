"""Each serving process on a CPU of its own (``serve --cpu-affinity auto``, ``service.affinity``).

Pinning is only ever tried in child processes here (a server, or a small script), never in the
test process; each test gives its children a folder of its own to claim CPUs in (``TMPDIR``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from live_server import ROOT, live_server

from nocert_rules.service.app import create_app
from nocert_rules.service.config import ServeConfig

ZIBO = ROOT / "rulesets" / "zibo"
CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
pytestmark = pytest.mark.skipif(len(CPUS) < 2, reason="needs Linux and at least 2 allowed CPUs")

CLAIM = """
import json, os, sys, time, threading
from pathlib import Path
from nocert_rules.service import affinity
affinity.RETRY_SECONDS = 0.1
threading.Thread(target=time.sleep, args=(60,), daemon=True).start()  # a thread started before pinning
stop = affinity.pin_to_a_free_cpu(Path(sys.argv[1]))
print(json.dumps({"retrying": stop is not None}), flush=True)
sys.stdin.readline()  # hold the CPU until told
masks = {tid: sorted(os.sched_getaffinity(int(tid))) for tid in os.listdir("/proc/self/task")}
print(json.dumps(sorted(set(map(tuple, masks.values())))), flush=True)
"""


def _claimer(folder: Path) -> tuple[subprocess.Popen[str], bool]:
    child = subprocess.Popen([sys.executable, "-c", CLAIM, str(folder)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert child.stdout is not None
    first = child.stdout.readline()
    assert first, child.stderr.read() if child.stderr else ""
    return child, json.loads(first)["retrying"]


def _masks(child: subprocess.Popen[str]) -> list[list[int]]:
    out, err = child.communicate("go\n", timeout=30)
    assert child.returncode == 0, err
    return json.loads(out.splitlines()[-1])


def test_processes_claim_different_cpus_and_pin_every_thread(tmp_path: Path) -> None:
    children = [_claimer(tmp_path) for _ in CPUS]
    assert not any(retrying for _, retrying in children)
    masks = [_masks(child) for child, _ in children]
    # each process: all its threads (one started before pinning) on one CPU; no two on the same
    assert all(len(m) == 1 and len(m[0]) == 1 for m in masks), masks
    assert sorted(m[0][0] for m in masks) == CPUS


def test_with_every_cpu_taken_a_process_runs_unpinned_then_takes_the_first_freed(tmp_path: Path) -> None:
    holders = [_claimer(tmp_path) for _ in CPUS]
    late, retrying = _claimer(tmp_path)
    assert retrying
    freed = _masks(holders[0][0])[0][0]  # the first holder exits: its lock is released
    time.sleep(1.0)  # the late one tries every 0.1 s
    assert _masks(late) == [[freed]]
    for child, _ in holders[1:]:
        _masks(child)


def test_a_folder_not_the_users_own_is_not_used(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # others may write in it: someone else's lock files could be planted
    child, retrying = _claimer(shared)
    assert not retrying
    assert _masks(child) == [CPUS]  # left as it was
    assert not list(shared.iterdir())
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir()
    child, _ = _claimer(link)
    assert _masks(child) == [CPUS]


def _server_masks(pid: int) -> set[tuple[int, ...]]:
    return {tuple(sorted(os.sched_getaffinity(int(tid)))) for tid in os.listdir(f"/proc/{pid}/task")}


def test_serve_pins_its_process_by_default_and_not_with_off(tmp_path: Path) -> None:
    env = {"TMPDIR": str(tmp_path)}
    with live_server(ZIBO, tmp_path, env=env) as server:
        server.client().get("/healthz")
        assert _server_masks(server.process.pid) == {(CPUS[0],)}
        assert "pinned to CPU" in server.output()
    with live_server(ZIBO, tmp_path, "--cpu-affinity", "off", env=env) as server:
        assert _server_masks(server.process.pid) == {tuple(CPUS)}
        assert "pinned" not in server.output()


def test_workers_each_take_a_cpu_of_their_own(tmp_path: Path) -> None:
    import psutil

    with live_server(ZIBO, tmp_path, "--workers", "2", env={"TMPDIR": str(tmp_path)}) as server:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            workers = [p.pid for p in psutil.Process(server.process.pid).children() if "spawn_main" in " ".join(p.cmdline())]
            masks = [_server_masks(pid) for pid in workers]
            if len(workers) == 2 and all(len(m) == 1 and len(next(iter(m))) == 1 for m in masks):
                break
            time.sleep(0.2)
        assert sorted(next(iter(m))[0] for m in masks) == CPUS[:2]
        assert _server_masks(server.process.pid) == {tuple(CPUS)}  # the supervisor is not pinned


def test_an_app_made_in_a_host_process_never_pins_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    before = os.sched_getaffinity(0)
    with TestClient(create_app(ServeConfig(ruleset=str(ZIBO)))) as client:
        assert client.get("/healthz").status_code == 200
    assert os.sched_getaffinity(0) == before
    assert not list(tmp_path.glob("nocert-rules-cpus-*"))
