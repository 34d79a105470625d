"""What ``nocert-rules serve`` was asked to do, passed to every worker process as JSON."""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CONFIG_ENV = "NOCERT_SERVE_CONFIG"
"""Worker processes (``--workers N``) read their configuration from this environment variable."""

DEFAULT_MAX_BATCH = 1000
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_HEADER_TIMEOUT = 10.0
"""Seconds a request's headers may take, from the connection or the request's first byte."""
DEFAULT_BODY_TIMEOUT = 30.0
"""Seconds a request's body may take after its headers."""
DEFAULT_WRITE_TIMEOUT = 60.0
"""Seconds an answer may wait for the client to read it (the connection's write buffer full);
then the connection is dropped."""
DEFAULT_MAX_CONNECTIONS = 1000
"""Open connections one process keeps; one more is closed at once."""
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
"""Bytes a request's headers may take (read after the read that began them); beyond, the
connection is answered 400 and closed (httptools sets no limit of its own; h11's was 16 KiB)."""
DEFAULT_COMMIT_DELAY = 0.0
"""Seconds the decision log waits for more appends before one fsync (beyond those that arrive
while the previous fsync runs, which always join the next one)."""
DEFAULT_COMMIT_MAX = 1024
"""Most decision log entries made durable by one fsync (1: an fsync per decision)."""
CPU_AFFINITY = ("auto", "off")
"""``auto``: each serving process on a CPU of its own while there are free ones (``affinity``)."""


@dataclass(frozen=True)
class Limits:
    """What a connection may take (seconds, connections): ``service.guard`` enforces them."""

    header_timeout: float
    body_timeout: float
    max_connections: int
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    write_timeout: float = DEFAULT_WRITE_TIMEOUT


@dataclass(frozen=True)
class ServeConfig:
    """The service's settings. The token is never in here: only the file it is read from."""

    ruleset: str
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    token_file: str | None = None
    insecure: bool = False
    decision_log: str | None = None
    key_file: str | None = None
    """The host key file: the decision log is then an audit log (HMAC-SHA256, records.audit)."""
    previous_key_files: tuple[str, ...] = ()
    head_file: str | None = None
    max_batch: int = DEFAULT_MAX_BATCH
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    backend: str = "auto"
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    write_timeout: float = DEFAULT_WRITE_TIMEOUT
    commit_delay: float = DEFAULT_COMMIT_DELAY
    commit_max: int = DEFAULT_COMMIT_MAX
    cpu_affinity: str = "auto"
    """``auto`` (each serving process pinned to a CPU of its own: ``service.affinity``) or ``off``."""

    def pin_cpu(self) -> Any:
        """(In a serving process.) Pin it to a free CPU when ``cpu_affinity`` is ``auto``
        (``affinity.pin_to_a_free_cpu``: None, or the event that stops its trying again)."""
        if self.cpu_affinity != "auto":
            return None
        from nocert_rules.service.affinity import pin_to_a_free_cpu

        return pin_to_a_free_cpu()

    def limits(self) -> Limits:
        """The connection limits (for ``guard.protocol_class``) this configuration asks for."""
        return Limits(self.header_timeout, self.body_timeout, self.max_connections, self.max_header_bytes,
                      self.write_timeout)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeConfig:
        data = json.loads(text)
        data["previous_key_files"] = tuple(data.get("previous_key_files") or ())
        return cls(**data)

    @classmethod
    def from_environment(cls) -> ServeConfig:
        text = os.environ.get(CONFIG_ENV)
        if not text:
            raise RuntimeError(f"{CONFIG_ENV} is not set (start the service with `nocert-rules serve`)")
        return cls.from_json(text)

    def read_token(self) -> str | None:
        """The bearer token from ``token_file`` (surrounding whitespace stripped), or None."""
        if self.token_file is None:
            return None
        token = Path(self.token_file).read_text(encoding="utf-8").strip()
        if len(token) < 16:
            raise ValueError(
                f"{self.token_file}: 令牌过短 / the token must have at least 16 characters"
            )
        return token


    def open_decision_log(self) -> Any:
        """The decision log this configuration asks for: an audit log when a key file is given
        (``AuditedDecisionLog``), else the masked JSONL log; None when the log is off."""
        if self.decision_log is None:
            return None
        from nocert_rules.service.decision_log import AuditedDecisionLog, DecisionLog

        if self.key_file is None:
            return DecisionLog(self.decision_log, commit_delay=self.commit_delay, commit_max=self.commit_max)
        from nocert_rules.records.audit import load_key_file

        return AuditedDecisionLog(
            self.decision_log,
            load_key_file(self.key_file),
            head_file=self.head_file,
            previous_keys=tuple(load_key_file(p) for p in self.previous_key_files),
            commit_delay=self.commit_delay,
            commit_max=self.commit_max,
        )


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and addresses in 127.0.0.0/8 or ::1 (nothing else can reach them)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
