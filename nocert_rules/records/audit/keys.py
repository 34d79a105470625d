"""Keys of the audit log: the host key, the MAC key derived from it (what an auditor is given)
and key files. The ``kid`` that names a MAC key is part of the line format
(:func:`~nocert_rules.records.audit.entry.key_id`)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from pathlib import Path

from nocert_rules.records.audit.entry import AuditLogError, key_id

MIN_KEY_BYTES = 16
_MAC_KEY_LABEL = b"nocert-rules audit log MAC key v1"


def check_key(key: bytes) -> bytes:
    if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
        raise AuditLogError(
            f"密钥须为至少 {MIN_KEY_BYTES} 字节的 bytes / the key must be bytes, at least {MIN_KEY_BYTES} long"
        )
    return bytes(key)


def audit_mac_key(key: bytes) -> bytes:
    """The log's MAC key, derived from the host key (HMAC-SHA256 with a fixed label).

    An auditor is given this key, never the host key: it verifies (and could forge) log
    entries, but cannot recompute the keyed hashes that pseudonymise people.
    """
    return hmac.new(check_key(key), _MAC_KEY_LABEL, hashlib.sha256).digest()


def load_key_file(path: str | Path) -> bytes:
    """A key from a file: its bytes, one trailing newline dropped (e.g. ``openssl rand -hex 32``).

    Raises ``OSError`` when unreadable, :class:`AuditLogError` when shorter than 16 bytes.
    """
    data = Path(path).read_bytes()
    if data.endswith(b"\r\n"):
        data = data[:-2]
    elif data.endswith(b"\n"):
        data = data[:-1]
    return check_key(data)


def mac_keys_by_kid(keys: Iterable[bytes] = (), mac_keys: Iterable[bytes] = ()) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for k in keys:
        mk = audit_mac_key(k)
        out[key_id(mk)] = mk
    for mk in mac_keys:
        mk = check_key(mk)
        out[key_id(mk)] = mk
    return out
