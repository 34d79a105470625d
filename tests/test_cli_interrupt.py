"""Interrupted dry-runs (issue 14): --out appears whole or not at all; SIGINT/SIGTERM end with
one line and exit 130/143, no worker or durable_rules traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ZIBO = ROOT / "rulesets" / "zibo"
CASES = ROOT / "examples" / "cases.jsonl"


@pytest.fixture(scope="module")
def many_cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cases") / "many.jsonl"
    path.write_text(CASES.read_text(encoding="utf-8") * 40, encoding="utf-8")  # 80,000 cases
    return path


def start(folder: Path, cases: Path, jobs: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "nocert_rules", "dry-run", str(ZIBO), str(cases), "--jobs", str(jobs),
         "--out", str(folder / "out.jsonl"), "--no-progress", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, cwd=ROOT)


def wait_for_output(folder: Path, proc: subprocess.Popen[str]) -> None:
    """Until the run has written some results (to its temporary file)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if any(p.name.endswith(".tmp") and p.stat().st_size > 0 for p in folder.iterdir()):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("no output within 90 s")


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


@pytest.mark.parametrize(("jobs", "sig", "group", "code"), [
    (2, signal.SIGINT, True, 130),    # Ctrl-C: the whole process group gets it
    (2, signal.SIGTERM, False, 143),  # kill PID
    (2, signal.SIGTERM, True, 143),   # kill -TERM -PGID
    (1, signal.SIGINT, True, 130),
])
def test_signal_ends_the_run_with_one_line_and_no_output(tmp_path: Path, many_cases: Path, jobs: int,
                                                         sig: signal.Signals, group: bool, code: int) -> None:
    proc = start(tmp_path, many_cases, jobs)
    wait_for_output(tmp_path, proc)
    (os.killpg if group else os.kill)(proc.pid, sig)
    returncode, err = finish(proc)
    assert returncode == code, err
    assert len(err.strip().splitlines()) == 1, err
    assert "interrupted" in err and sig.name in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no out.jsonl, no temporary file left


def test_keep_partial_keeps_whole_lines_under_a_clear_name(tmp_path: Path, many_cases: Path) -> None:
    proc = start(tmp_path, many_cases, 1, "--keep-partial")
    wait_for_output(tmp_path, proc)
    os.killpg(proc.pid, signal.SIGINT)
    returncode, err = finish(proc)
    assert returncode == 130 and "out.jsonl.partial" in err
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl.partial"]
    lines = (tmp_path / "out.jsonl.partial").read_text(encoding="utf-8").splitlines()
    assert lines and [json.loads(line)["line"] for line in lines] == list(range(1, len(lines) + 1))


def test_sigkill_never_leaves_a_half_written_out_file(tmp_path: Path, many_cases: Path) -> None:
    (tmp_path / "out.jsonl").write_text('{"previous": "run"}\n', encoding="utf-8")
    proc = start(tmp_path, many_cases, 2)
    wait_for_output(tmp_path, proc)
    os.kill(proc.pid, signal.SIGKILL)
    returncode, err = finish(proc)
    assert returncode == -signal.SIGKILL
    assert "Traceback" not in err  # the orphaned workers die quietly with their parent
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == '{"previous": "run"}\n'


def test_a_finished_run_renames_its_output_into_place(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "nocert_rules", "dry-run", str(ZIBO), str(CASES), "--jobs", "2",
                           "--out", str(tmp_path / "out.jsonl"), "--report", str(tmp_path / "r.html")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "r.html"]
    assert len((tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()) == 2001
