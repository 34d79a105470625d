"""The decision log (as Open Policy Agent keeps one): one JSON line per decision.

With the host key (``serve --key-file``), the log is an audit log (:class:`AuditedDecisionLog`,
``records.audit.AuditLog``): each line a hash-chained entry MAC'd with HMAC-SHA256 under the key
(``kid``), its record the library's decision audit record (``audit_decision``: the applicant as
keyed hashes) with the service's ``decision_id``; ``nocert-rules audit verify --key-file`` checks
it. Without a key the lines below are written, masked but not authenticated:

Each line: ``decision_id``, ``time`` (UTC), ``ruleset`` (name, version, sha256), ``input`` (the
request as validated) and ``result`` (the Decision). Personal data in ``input`` is replaced by the
masked values the decision itself carries (``applicant.id_masked``, ``name_masked``), so the log
shows exactly what a decision shows and nothing more. Lines are appended with one ``write`` to a
file opened ``O_APPEND``, so several worker processes can share one log.

``GET /v1/explain/{decision_id}`` reads an entry back: from the recent entries kept in memory, or
else by scanning the file.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nocert_rules.models import Decision, DecisionRequest
from nocert_rules.records.audit import AuditLog, audit_decision, canonical_json

RECENT = 10_000
"""How many entries each process keeps in memory for ``explain``."""


def new_decision_id() -> str:
    return str(uuid.uuid4())


def masked_input(request: DecisionRequest, decision: Decision) -> dict[str, Any]:
    """The request as logged: ID number and name replaced by the decision's masked values."""
    data = request.model_dump(mode="json")
    applicant = data["applicant"]
    applicant["id_number"] = decision.applicant.id_masked
    if applicant.get("name") is not None:
        applicant["name"] = decision.applicant.name_masked
    return data


class DecisionLog:
    """Append-only JSONL decision log with a bounded in-memory index for ``explain``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._recent: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def record(self, decision_id: str, request: DecisionRequest, decision: Decision) -> None:
        """Append one entry (the decision's JSON is embedded as produced, not re-serialised)."""
        head = json.dumps(
            {
                "decision_id": decision_id,
                "time": datetime.now(UTC).isoformat(),
                "ruleset": decision.ruleset.model_dump(mode="json"),
                "input": masked_input(request, decision),
            },
            ensure_ascii=False,
        )
        line = head[:-1] + ', "result": ' + decision.model_dump_json() + "}"
        data = (line + "\n").encode("utf-8")
        with self._lock:
            os.write(self._fd, data)
            self._recent[decision_id] = line
            if len(self._recent) > RECENT:
                self._recent.popitem(last=False)

    def find(self, decision_id: str) -> dict[str, Any] | None:
        """The entry of ``decision_id``, or None."""
        with self._lock:
            line = self._recent.get(decision_id)
        if line is not None:
            return json.loads(line)
        needle = f'"decision_id": "{decision_id}"'
        with self.path.open(encoding="utf-8", errors="replace") as f:
            for text in f:
                if needle in text:
                    try:
                        entry = json.loads(text)
                    except ValueError:
                        continue  # a torn last line
                    if entry.get("decision_id") == decision_id:
                        return entry
        return None

    def close(self) -> None:
        os.close(self._fd)


class AuditedDecisionLog:
    """The decision log as an audit log (``records.audit.AuditLog``): the same interface as
    :class:`DecisionLog` (``record``, ``find``, ``close``).

    Each decision is ``audit_decision(request, decision, key)`` with ``decision_id`` added to its
    outcome, appended (classified, chained, MAC'd, fsynced) under the log's lock and ``flock``, so
    several worker processes may share one log and one ``head_file``. ``find`` returns the entry
    as ``{"decision_id", "seq", "hash", "kid", "record"}``.
    """

    def __init__(
        self,
        path: str | Path,
        key: bytes,
        *,
        head_file: str | Path | None = None,
        previous_keys: tuple[bytes, ...] = (),
    ) -> None:
        self.path = Path(path)
        self._key = key
        self._log = AuditLog(self.path, key, head_file=head_file, previous_keys=previous_keys)
        self._recent: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def key_id(self) -> str:
        return self._log.key_id

    def record(self, decision_id: str, request: DecisionRequest, decision: Decision) -> None:
        """Append the decision's audit record, carrying ``decision_id`` in its outcome."""
        record = audit_decision(request, decision, self._key)
        record = record.model_copy(update={"outcome": {**record.outcome, "decision_id": decision_id}})
        entry = self._log.append(record)
        view = {"decision_id": decision_id, "seq": entry.seq, "hash": entry.hash, "kid": entry.kid,
                "record": entry.record}
        with self._lock:
            self._recent[decision_id] = view
            if len(self._recent) > RECENT:
                self._recent.popitem(last=False)

    def find(self, decision_id: str) -> dict[str, Any] | None:
        """The entry of ``decision_id``, or None (recent ones from memory, else from the file)."""
        with self._lock:
            view = self._recent.get(decision_id)
        if view is not None:
            return view
        needle = canonical_json({"decision_id": decision_id})[1:-1].decode("utf-8")
        with self.path.open(encoding="utf-8", errors="replace") as f:
            for text in f:
                if needle not in text:
                    continue
                try:
                    entry = json.loads(text)
                    record = entry["record"]
                    if record["outcome"]["decision_id"] == decision_id:
                        return {"decision_id": decision_id, "seq": entry["seq"], "hash": entry["hash"],
                                "kid": entry["kid"], "record": record}
                except (ValueError, KeyError, TypeError):
                    continue
        return None

    def close(self) -> None:
        """Nothing to release: every append opens, locks and closes the file."""
