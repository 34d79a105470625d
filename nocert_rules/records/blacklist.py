"""虚假承诺黑名单 store: false pledges found, fed back into decisions (三(五)3).

``record_post_check`` yields a :class:`~nocert_rules.records.pledge.FalsePledgeEntry` when a
pledge is found false. Put it in a store and give the store to the engine
(``Engine(ruleset, blacklist=store)``): later requests of that applicant get no pledge until
their credit is repaired (``record_repair``, or ``credit_repaired_on`` in the request).

A store keeps keyed hashes only (:func:`nocert_rules.privacy.keyed_hash` with the host's key,
the same key the pledge records use); an ID number passed to a lookup is hashed and dropped.
Two implementations: :class:`MemoryBlacklist` and :class:`SqliteBlacklist` (one file, safe
across threads). A host with its own database implements :class:`BlacklistStore`'s three
methods, or just ``false_pledge_status`` (``nocert_rules.engine.credit.FalsePledgeLookup``).
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from datetime import date, datetime
from pathlib import Path

from nocert_rules.engine.credit import FalsePledgeStatus
from nocert_rules.models import as_shanghai
from nocert_rules.privacy import keyed_hash
from nocert_rules.records import RecordProblem
from nocert_rules.records.pledge import FalsePledgeEntry

__all__ = ["BlacklistStore", "FalsePledgeStatus", "MemoryBlacklist", "SqliteBlacklist"]

_LABEL = "虚假承诺黑名单 / false-pledge blacklist store"


class BlacklistStore(ABC):
    """False pledges and credit repairs by applicant (keyed hash). Subclass for a host database."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise RecordProblem(_LABEL, None, "须提供密钥 / a non-empty key is required")
        self._key = key

    def ref(self, id_number: str) -> str:
        """The applicant's keyed hash under this store's key."""
        return keyed_hash(id_number, self._key)

    def false_pledge_status(self, id_number: str) -> FalsePledgeStatus:
        """What the engine asks (``FalsePledgeLookup``): the ID is hashed, never kept."""
        return self.status(self.ref(id_number))

    @abstractmethod
    def add(self, entry: FalsePledgeEntry) -> None:
        """Keep an entry (adding the same entry id twice keeps it once)."""

    @abstractmethod
    def record_repair(self, applicant_ref: str, on: date) -> None:
        """The applicant's credit was repaired on ``on`` (信用修复; the latest repair counts)."""

    @abstractmethod
    def status(self, applicant_ref: str) -> FalsePledgeStatus:
        """Times false pledges were found for ``applicant_ref``, and the latest repair."""

    @abstractmethod
    def entries(self) -> list[FalsePledgeEntry]:
        """Every entry, oldest first (for export)."""

    @staticmethod
    def _check_ref(applicant_ref: str) -> str:
        if not applicant_ref.startswith("hmac-sha256:") or len(applicant_ref) != 76:
            raise RecordProblem(_LABEL, None, "须为 keyed_hash 结果，不得为明文 / a keyed hash, never in clear")
        return applicant_ref


class MemoryBlacklist(BlacklistStore):
    """In-memory store (tests, a single process)."""

    def __init__(self, key: bytes) -> None:
        super().__init__(key)
        self._entries: dict[str, FalsePledgeEntry] = {}
        self._repairs: dict[str, date] = {}
        self._lock = threading.Lock()

    def add(self, entry: FalsePledgeEntry) -> None:
        with self._lock:
            self._entries.setdefault(entry.id, entry)

    def record_repair(self, applicant_ref: str, on: date) -> None:
        ref = self._check_ref(applicant_ref)
        with self._lock:
            if ref not in self._repairs or self._repairs[ref] < on:
                self._repairs[ref] = on

    def status(self, applicant_ref: str) -> FalsePledgeStatus:
        with self._lock:
            found = tuple(sorted(e.found_at for e in self._entries.values() if e.applicant_ref == applicant_ref))
            return FalsePledgeStatus(found_at=found, repaired_on=self._repairs.get(applicant_ref))

    def entries(self) -> list[FalsePledgeEntry]:
        with self._lock:
            return sorted(self._entries.values(), key=lambda e: (e.found_at, e.id))


class SqliteBlacklist(BlacklistStore):
    """SQLite store in one file; entries are kept as their JSON (no clear personal data)."""

    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS false_pledge (id TEXT PRIMARY KEY, applicant_ref TEXT NOT NULL, "
        "found_at TEXT NOT NULL, entry TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS false_pledge_ref ON false_pledge (applicant_ref)",
        "CREATE TABLE IF NOT EXISTS credit_repair (applicant_ref TEXT PRIMARY KEY, repaired_on TEXT NOT NULL)",
    )

    def __init__(self, path: str | Path, key: bytes) -> None:
        super().__init__(key)
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        with self._lock:
            for statement in self._SCHEMA:
                self._db.execute(statement)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, entry: FalsePledgeEntry) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO false_pledge VALUES (?, ?, ?, ?)",
                (entry.id, entry.applicant_ref, as_shanghai(entry.found_at).isoformat(), entry.model_dump_json()),
            )

    def record_repair(self, applicant_ref: str, on: date) -> None:
        ref = self._check_ref(applicant_ref)
        with self._lock:
            self._db.execute(
                "INSERT INTO credit_repair VALUES (?, ?) ON CONFLICT(applicant_ref) DO UPDATE SET "
                "repaired_on = max(repaired_on, excluded.repaired_on)",
                (ref, on.isoformat()),
            )

    def status(self, applicant_ref: str) -> FalsePledgeStatus:
        with self._lock:
            found = [
                datetime.fromisoformat(row[0])
                for row in self._db.execute(
                    "SELECT found_at FROM false_pledge WHERE applicant_ref = ? ORDER BY found_at", (applicant_ref,)
                )
            ]
            repair = self._db.execute(
                "SELECT repaired_on FROM credit_repair WHERE applicant_ref = ?", (applicant_ref,)
            ).fetchone()
        return FalsePledgeStatus(
            found_at=tuple(found), repaired_on=date.fromisoformat(repair[0]) if repair else None
        )

    def entries(self) -> list[FalsePledgeEntry]:
        with self._lock:
            rows = self._db.execute("SELECT entry FROM false_pledge ORDER BY found_at, id").fetchall()
        return [FalsePledgeEntry.model_validate_json(row[0]) for row in rows]
