"""The audit log's line format and canonical bytes (the package doc has the format).

One entry per line: the canonical JSON (:func:`canonical_json`) of ``{"hash", "kid", "mac",
"prev", "record", "seq"}``. Its *body* is the canonical JSON of ``{"kid", "prev", "record",
"seq"}``; ``hash`` is its sha256, ``mac`` its HMAC-SHA256 under the MAC key that ``kid`` names
(:func:`key_id`). Reading is streamed and bounded (:func:`read_lines`, ``MAX_LINE_BYTES``); a line
is an entry only when its bytes *are* its canonical form (:func:`parse_line`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

from nocert_rules.errors import NocertError
from nocert_rules.privacy import mask_text

GENESIS = "0" * 64
MAX_LINE_BYTES = 16 * 1024 * 1024
"""A longer line is malformed (and read in bounded pieces, never whole)."""

KID_PREFIX = b"kid:"
"""``kid = sha256(KID_PREFIX + mac_key)``, first 16 hex digits (docs/records.md, "Key ids")."""


class AuditLogError(NocertError):
    """The audit log cannot be appended to (torn tail, tampered last entry, truncated log, bad
    key), or a head checkpoint file is not one."""


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, check_circular=False)
"""``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` made once:
``json.dumps`` with any argument builds a new encoder per call (about 2 µs, several times a
record). No circular check: what is written is JSON data, a tree."""
_ENCODE = (
    json.encoder.c_make_encoder(None, _CANONICAL.default, json.encoder.encode_basestring, _CANONICAL.indent,
                                _CANONICAL.key_separator, _CANONICAL.item_separator, _CANONICAL.sort_keys,
                                _CANONICAL.skipkeys, _CANONICAL.allow_nan)
    if json.encoder.c_make_encoder is not None else None
)
"""The C encoder ``_CANONICAL.encode`` builds on each call, built once (the same function, the same
arguments: ``JSONEncoder.iterencode`` with ``_one_shot``); None where Python has no C encoder."""


def canonical_json(obj: Any) -> bytes:
    """The bytes hashed and written: sorted keys, no spaces, UTF-8 (ensure_ascii=False)."""
    if _ENCODE is None or isinstance(obj, str):
        return _CANONICAL.encode(obj).encode("utf-8")
    return "".join(_ENCODE(obj, 0)).encode("utf-8")


def key_id(mac_key: bytes) -> str:
    """The ``kid`` of entries written under ``mac_key``: the first 16 hex digits of
    ``sha256(b"kid:" + mac_key)`` (docs/records.md)."""
    return hashlib.sha256(KID_PREFIX + mac_key).hexdigest()[:16]


def entry_body(seq: int, prev: str, record: Any, kid: str) -> bytes:
    """The bytes hashed and MAC'd: canonical JSON of ``{"kid", "prev", "record", "seq"}``."""
    return body_of(seq, prev, canonical_json(record), kid)


def body_of(seq: int, prev: str, record_json: bytes, kid: str) -> bytes:
    """:func:`entry_body` from the record's canonical JSON (``record_json``): the entry's members in
    sorted order (kid, prev, record, seq), the record's bytes as they are, since canonical JSON
    writes a nested object exactly as it writes that object alone."""
    return b'{"kid":%s,"prev":%s,"record":%s,"seq":%d}' % (
        canonical_json(kid), canonical_json(prev), record_json, seq)


def entry_hash(seq: int, prev: str, record: Any, kid: str) -> str:
    """sha256 hex of the entry's body."""
    return hashlib.sha256(entry_body(seq, prev, record, kid)).hexdigest()


def entry_line(seq: int, prev: str, record: Any, mac_key: bytes) -> tuple[bytes, str, str]:
    """The stored line (with its newline) of an entry, its hash and its MAC."""
    return chained_line(seq, prev, canonical_json(record), mac_key, key_id(mac_key))


def chained_line(seq: int, prev: str, record_json: bytes, mac_key: bytes, kid: str) -> tuple[bytes, str, str]:
    """:func:`entry_line` from the record's canonical JSON (``record_json``) and ``kid`` (the key id
    of ``mac_key``): what ``AuditLog`` writes, the record serialised once, before the lock."""
    body = body_of(seq, prev, record_json, kid)
    digest = hashlib.sha256(body).hexdigest()
    mac = hmac.digest(mac_key, body, "sha256").hex()  # one-shot: hmac.new(...).hexdigest(), faster
    # The canonical line is the body with "hash" first and "mac" after "kid" (sorted keys): built
    # from the body's bytes rather than serialising the record a second time (parse_line inverts it).
    kid_end = 1 + len(b'"kid":') + len(canonical_json(kid))
    line = b'{"hash":"%s",%s,"mac":"%s"%s' % (digest.encode(), body[1:kid_end], mac.encode(), body[kid_end:])
    return line + b"\n", digest, mac


class Written(NamedTuple):
    """An entry as :class:`~nocert_rules.records.audit.AuditLog` appended it: its place in the
    chain, its MAC and its stored line (with its newline)."""

    seq: int
    prev: str
    hash: str
    mac: str
    line: bytes


class LogEntry(BaseModel):
    """One line of the log as read: its line number and fields."""

    model_config = ConfigDict(frozen=True)

    line: int
    seq: int
    prev: str
    hash: str
    kid: str
    mac: str
    record: dict[str, Any]

    def body(self) -> bytes:
        return entry_body(self.seq, self.prev, self.record, self.kid)

    @property
    def intact(self) -> bool:
        """The entry's own hash matches its content."""
        return hashlib.sha256(self.body()).hexdigest() == self.hash

    def authentic(self, mac_keys: dict[str, bytes]) -> bool | None:
        """The MAC matches under the key its ``kid`` names; None when that key is not given."""
        mk = mac_keys.get(self.kid)
        if mk is None:
            return None
        return hmac.compare_digest(hmac.new(mk, self.body(), hashlib.sha256).hexdigest(), self.mac)


_HEX = frozenset("0123456789abcdef")


def is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


_ENTRY_KEYS = frozenset({"seq", "prev", "record", "hash", "kid", "mac"})


class RawEntry(NamedTuple):
    """A parsed, canonical line (the verifier's light form of :class:`LogEntry`)."""

    line: int
    seq: int
    prev: str
    hash: str
    kid: str
    mac: str
    record: dict[str, Any]
    body: bytes  # the stored bytes without "hash" and "mac": what was hashed and MAC'd
    intact: bool

    def authentic(self, mac_keys: dict[str, bytes]) -> bool | None:
        mk = mac_keys.get(self.kid)
        if mk is None:
            return None
        return hmac.compare_digest(hmac.new(mk, self.body, hashlib.sha256).hexdigest(), self.mac)

    def entry(self) -> LogEntry:
        return LogEntry(
            line=self.line, seq=self.seq, prev=self.prev, hash=self.hash, kid=self.kid, mac=self.mac, record=self.record
        )


_HASH_PREFIX = len(b'{"hash":"') + 64 + len(b'",')
_MAC_PART = len(b',"mac":"') + 64 + len(b'"')


def parse_line(raw: bytes, line: int) -> RawEntry | tuple[Literal["malformed", "noncanonical"], str]:
    """A parsed line, or the problem's kind and words."""
    if len(raw) > MAX_LINE_BYTES:
        return "malformed", f"行过长 / line longer than {MAX_LINE_BYTES} bytes"
    try:
        text = raw.decode("utf-8")
        obj = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return "malformed", f"不是有效的 JSON / not valid JSON ({type(exc).__name__})"
    if not isinstance(obj, dict) or set(obj) != _ENTRY_KEYS:
        return "malformed", (
            "不是日志条目（须恰有 hash, kid, mac, prev, record, seq） / not a log entry (needs exactly "
            "hash, kid, mac, prev, record, seq)"
        )
    seq, prev, digest, record, kid, mac = (obj[k] for k in ("seq", "prev", "hash", "record", "kid", "mac"))
    if (
        type(seq) is not int
        or seq < 1
        or not is_hash(prev)
        or not is_hash(digest)
        or not is_hash(mac)
        or not isinstance(kid, str)
        or not isinstance(record, dict)
    ):
        return "malformed", "字段类型错误 / a field has the wrong type"
    try:
        canonical = canonical_json(obj)
    except (ValueError, RecursionError):
        return "malformed", "无法规范化 / cannot be put in canonical form"
    if canonical != raw:
        try:
            json.loads(text, object_pairs_hook=_no_duplicates)
        except _DuplicateKey as dup:
            return "noncanonical", (
                f"重复的 JSON 键 {mask_text(str(dup))[:40]!r}：不同的读取方会取不同的值 / a duplicate JSON key "
                "(readers disagree on which value counts)"
            )
        except (ValueError, RecursionError):
            pass
        return "noncanonical", (
            "不是规范形式（键序、空白或转义不同）：所存字节与所签字节不一致 / not in canonical form "
            "(key order, whitespace or escapes differ): the stored bytes are not the signed bytes"
        )
    # canonical, so the body is the stored bytes less the "hash" and "mac" members (sorted keys:
    # hash, kid, mac, prev, record, seq)
    kid_part = b'"kid":' + json.dumps(kid, ensure_ascii=False).encode("utf-8")
    rest = raw[_HASH_PREFIX + len(kid_part) + _MAC_PART :]
    body = b"{" + kid_part + rest
    return RawEntry(line, seq, prev, digest, kid, mac, record, body, hashlib.sha256(body).hexdigest() == digest)


def read_lines(f: BinaryIO) -> Iterator[tuple[int, bytes, bool]]:
    """``(line number, bytes without the newline, terminated)``, reading at most
    ``MAX_LINE_BYTES + 1`` bytes of any line into memory."""
    number = 0
    while True:
        raw = f.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if raw.endswith(b"\n"):
            yield number, raw[:-1], True
            continue
        if len(raw) <= MAX_LINE_BYTES:
            yield number, raw, False  # the file's last bytes, unterminated
            return
        # an overlong line: skip the rest of it
        terminated = False
        while chunk := f.readline(MAX_LINE_BYTES):
            if chunk.endswith(b"\n"):
                terminated = True
                break
        yield number, raw, terminated
        if not terminated:
            return


def read_entries(path: str | Path) -> Iterator[LogEntry | tuple[int, str]]:
    """Each line of a log, streamed: a LogEntry, or ``(line, problem)`` for a line that is not one.

    Raises ``OSError`` when the file cannot be read.
    """
    with Path(path).open("rb") as f:
        for i, raw, _terminated in read_lines(f):
            parsed = parse_line(raw, i)
            yield parsed.entry() if isinstance(parsed, RawEntry) else (i, parsed[1])
