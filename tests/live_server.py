"""Start ``nocert-rules serve`` as a real subprocess on a free 127.0.0.1 port (for the service tests)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
NOCERT = str(Path(sys.executable).parent / "nocert-rules")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30, **kwargs)  # type: ignore[arg-type]

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def hup(self) -> None:
        self.process.send_signal(signal.SIGHUP)


@contextmanager
def live_server(
    ruleset: str | Path, tmp_path: Path, *args: str, ready_timeout: float = 60, env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """Run the server until the block ends; fail with its output if it does not become ready.
    ``env``: variables set for the server beside the test's own."""
    port = free_port()
    log_path = tmp_path / f"serve-{port}.log"
    log = log_path.open("wb")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    process = subprocess.Popen(
        [NOCERT, "serve", str(ruleset), "--host", "127.0.0.1", "--port", str(port), *args],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
    )
    server = LiveServer(process, f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"server exited with {process.returncode}:\n{server.output()}")
            try:
                if httpx.get(server.base_url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"server not ready in {ready_timeout}s:\n{server.output()}")
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
