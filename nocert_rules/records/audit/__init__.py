"""Audit records and an append-only, hash-chained, HMAC-authenticated JSONL audit log (数据留痕, 三(二)).

**Records.** :func:`audit_decision` turns a request and its :class:`~nocert_rules.models.Decision`
into an :class:`AuditRecord`; :func:`audit_state` records a state of any record of
:mod:`nocert_rules.records`. Every field of a record is classified (:data:`FIELD_CLASSES`):
*public* (kinds, times, methods, clause ids, ruleset stamps, hashes: written as is),
*pseudonymised* (``id_number``, ``name``, ``received_by`` …: written as
:func:`~nocert_rules.privacy.keyed_hash` under the host key) or *free text* (every other string:
scanned and masked with :func:`~nocert_rules.privacy.mask_text` at write time). The
classification is applied by :meth:`AuditLog.append` itself, so no ID number or name reaches the
log in clear whatever record a host passes.

**Log format.** One JSON object per line, UTF-8, ``\\n``-terminated, in canonical form
(``sort_keys=True, separators=(",", ":"), ensure_ascii=False``)::

    {"hash": H(n), "kid": K, "mac": M(n), "prev": H(n-1), "record": {...}, "seq": n}

The *body* of an entry is the canonical JSON of ``{"kid", "prev", "record", "seq"}``: ``hash``
is its sha256 and ``mac`` its HMAC-SHA256 under the log's MAC key (:func:`audit_mac_key`, derived
from the host key); ``kid`` names that key (:func:`key_id`). ``seq`` counts from 1; ``prev`` of the
first entry is 64 zeros. A line is accepted only when its bytes *are* the canonical form (a
duplicate JSON key, reordered keys, extra whitespace or another escape are refused as
``noncanonical``), so the hashed and MAC'd bytes are the stored bytes without ``hash`` and ``mac``.

**Verification** (:func:`verify_log`) streams the file once (O(n), flat memory, no recursion):
each line's form, hash, MAC (when a key is given), sequence and link. Without a key only the
chain is checked: whoever can write the file can recompute it; with the key a forged append,
an edited and re-hashed entry and a rewrite with a recomputed chain are all ``forged``.
Anchors (``expect_head``, ``min_records``, ``head_file``) detect removal at the end.

**Writes, torn tail, checkpoints.** See ``docs/records.md``: one fsynced line per append under a
thread lock and ``fcntl.flock``; only an unterminated last fragment that is not a chained entry is
torn (an intact last entry missing its newline is kept, and completed); the head checkpoint is
checked before any repair; stale checkpoint temp files are removed on open.

**Modules**, one job each (imports flow down this list): :mod:`.writer` (``AuditLog``),
:mod:`.verify` (``verify_log``), :mod:`.repair` (the end of the log before an append: torn tail,
missing newline, checkpoint), :mod:`.record` (``AuditRecord``, field classes), :mod:`.checkpoint`
(the head file), :mod:`.keys` (host key, MAC key, key files), :mod:`.entry` (line format,
canonical bytes, ``kid``, reading lines). Every name below stays importable from here.
"""

from __future__ import annotations

from nocert_rules.records.audit.checkpoint import glob_escape, read_head_file
from nocert_rules.records.audit.entry import (
    GENESIS,
    MAX_LINE_BYTES,
    AuditLogError,
    LogEntry,
    Written,
    canonical_json,
    entry_body,
    entry_hash,
    entry_line,
    key_id,
    read_entries,
)
from nocert_rules.records.audit.keys import MIN_KEY_BYTES, audit_mac_key, load_key_file
from nocert_rules.records.audit.record import (
    FIELD_CLASSES,
    UUID_TEXT,
    AuditRecord,
    FieldClass,
    audit_decision,
    audit_state,
    classify_record,
    decision_record_json,
    left_unmasked,
)
from nocert_rules.records.audit.verify import LogProblem, LogVerification, ProblemKind, verify_log
from nocert_rules.records.audit.writer import AuditLog, Prepared

__all__ = [
    "UUID_TEXT",
    "FIELD_CLASSES",
    "GENESIS",
    "MIN_KEY_BYTES",
    "MAX_LINE_BYTES",
    "AuditLog",
    "AuditLogError",
    "AuditRecord",
    "LogEntry",
    "Prepared",
    "Written",
    "LogProblem",
    "LogVerification",
    "FieldClass",
    "ProblemKind",
    "audit_decision",
    "audit_mac_key",
    "audit_state",
    "canonical_json",
    "classify_record",
    "decision_record_json",
    "entry_body",
    "entry_hash",
    "entry_line",
    "glob_escape",
    "key_id",
    "left_unmasked",
    "load_key_file",
    "read_entries",
    "read_head_file",
    "verify_log",
]

