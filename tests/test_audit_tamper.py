"""The tamper table of docs/records.md: every way of changing a log is detected (with the key).

Each case builds a six-entry log with ``AuditLog``, changes the file the way an attacker without
the key could, and checks that ``verify_log(key=...)`` and ``nocert-rules audit verify`` (exit 1)
report it at the right line. Also: torn tails, key rotation, stale checkpoint temp files, and a
reorder that used to exhaust the recursion limit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import PERSON_ID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nocert_rules import Engine
from nocert_rules.cli.audit import audit
from nocert_rules.models import SHANGHAI
from nocert_rules.records.audit import (
    AuditLog,
    AuditLogError,
    AuditRecord,
    audit_mac_key,
    canonical_json,
    entry_hash,
    entry_line,
    read_head_file,
    verify_log,
)

KEY = b"tamper-test-key-0123456789abcdef"
AT = datetime(2021, 5, 6, 10, 1, tzinfo=SHANGHAI)
N = 6

Lines = list[bytes]


def record(i: int) -> AuditRecord:
    return AuditRecord(kind="test", at=AT, request_id=f"case-{i}", outcome={"method": "PLEDGE", "i": i})


def forged(seq: int, prev: str, rec: dict[str, Any]) -> bytes:
    """What an attacker without the key can write: a well-formed entry under a guessed key."""
    line, _, _ = entry_line(seq, prev, rec, b"attacker-key-without-the-secret!")
    entry = json.loads(line)
    entry["kid"] = json.loads(GOOD[0])["kid"]  # claim the real key's id
    entry["hash"] = entry_hash(seq, prev, rec, entry["kid"])
    return canonical_json(entry) + b"\n"


def write(path: Path, n: int = N) -> Lines:
    log = AuditLog(path, KEY)
    for i in range(n):
        log.append(record(i))
    return path.read_bytes().splitlines(keepends=True)


GOOD: Lines = []


def _obj(line: bytes) -> dict[str, Any]:
    return json.loads(line)


def edit(lines: Lines) -> Lines:
    e = _obj(lines[2])
    e["record"]["outcome"]["method"] = "ABOLISH"
    return lines[:2] + [canonical_json(e) + b"\n"] + lines[3:]


def edit_rehashed(lines: Lines) -> Lines:
    e = _obj(lines[2])
    e["record"]["outcome"]["method"] = "ABOLISH"
    return lines[:2] + [forged(e["seq"], e["prev"], e["record"])] + lines[3:]


def delete_first(lines: Lines) -> Lines:
    return lines[1:]


def delete_middle(lines: Lines) -> Lines:
    return lines[:2] + lines[3:]


def delete_last(lines: Lines) -> Lines:
    return lines[:-1]


def insert(lines: Lines) -> Lines:
    e = _obj(lines[1])
    return lines[:2] + [forged(3, e["hash"], {"kind": "forged", "outcome": {}})] + lines[2:]


def append_forged(lines: Lines) -> Lines:
    e = _obj(lines[-1])
    return lines + [forged(e["seq"] + 1, e["hash"], {"kind": "forged", "outcome": {"method": "PLEDGE"}})]


def reorder(lines: Lines) -> Lines:
    return lines[:2] + [lines[3], lines[2]] + lines[4:]


def duplicate(lines: Lines) -> Lines:
    return lines[:4] + [lines[1]] + lines[4:]


def duplicate_json_key(lines: Lines) -> Lines:
    # a first-key-wins reader sees "ABOLISH", a last-key-wins reader the signed "PLEDGE"
    text = lines[2].decode()
    text = text.replace('"method":"PLEDGE"', '"method":"ABOLISH","method":"PLEDGE"', 1)
    return lines[:2] + [text.encode()] + lines[3:]


def whitespace(lines: Lines) -> Lines:
    return lines[:2] + [lines[2].replace(b'","', b'", "', 1)] + lines[3:]


def reordered_keys(lines: Lines) -> Lines:
    e = _obj(lines[2])
    text = json.dumps(dict(reversed(list(e.items()))), separators=(",", ":"), ensure_ascii=False)
    return lines[:2] + [text.encode() + b"\n"] + lines[3:]


def rewrite_chain(lines: Lines) -> Lines:
    out: Lines = []
    prev = "0" * 64
    for i, line in enumerate(lines):
        e = _obj(line)
        if i == 2:
            e["record"]["outcome"]["method"] = "ABOLISH"
        new = forged(e["seq"], prev, e["record"])
        prev = _obj(new)["hash"]
        out.append(new)
    return out


def truncate(lines: Lines) -> Lines:
    return lines[:3]


def torn_tail(lines: Lines) -> Lines:
    return lines + [lines[-1][:40]]


# (case, tamper, anchored, expected problems as (line, kind); "torn" for a torn tail)
TAMPER_TABLE: list[tuple[str, Callable[[Lines], Lines], bool, list[tuple[int, str]] | str]] = [
    ("edit", edit, False, [(3, "edited")]),
    ("edit and re-hash", edit_rehashed, False, [(3, "forged")]),
    ("delete first", delete_first, False, [(1, "removed")]),
    ("delete middle", delete_middle, False, [(3, "removed")]),
    ("delete last", delete_last, True, [(5, "truncated")]),
    ("insert", insert, False, [(3, "forged")]),
    ("append forged", append_forged, True, [(7, "forged")]),
    ("reorder", reorder, False, [(4, "reordered")]),
    ("duplicate", duplicate, False, [(5, "duplicate")]),
    ("duplicate JSON key", duplicate_json_key, False, [(3, "noncanonical")]),
    ("whitespace", whitespace, False, [(3, "noncanonical")]),
    ("reordered keys", reordered_keys, False, [(3, "noncanonical")]),
    ("rewrite with recomputed chain", rewrite_chain, False, [(i, "forged") for i in range(1, N + 1)]),
    ("truncate", truncate, True, [(3, "truncated")]),
    ("torn tail", torn_tail, False, "torn"),
]


@pytest.fixture
def log_lines(tmp_path: Path) -> tuple[Path, Lines]:
    path = tmp_path / "audit.jsonl"
    lines = write(path)
    GOOD[:] = lines
    return path, lines


@pytest.mark.parametrize(("case", "tamper", "anchored", "expected"), TAMPER_TABLE, ids=[c[0] for c in TAMPER_TABLE])
def test_tamper_table(
    tmp_path: Path,
    log_lines: tuple[Path, Lines],
    case: str,
    tamper: Callable[[Lines], Lines],
    anchored: bool,
    expected: list[tuple[int, str]] | str,
) -> None:
    path, lines = log_lines
    assert verify_log(path, key=KEY).authenticated
    head = verify_log(path).head
    assert head is not None
    path.write_bytes(b"".join(tamper(lines)))
    anchor: dict[str, Any] = {"expect_head": head, "min_records": N} if anchored else {}

    result = verify_log(path, key=KEY, **anchor)
    assert not result.ok and not result.authenticated
    if expected == "torn":
        assert result.torn_tail and result.torn_line == N + 1 and result.problems == []
    else:
        assert [(p.line, p.kind) for p in result.problems] == expected

    key_file = tmp_path / "host.key"
    key_file.write_bytes(KEY + b"\n")
    args = ["verify", "--key-file", str(key_file), str(path)]
    if anchored:
        args[1:1] = ["--expect-head", head, "--min-records", str(N)]
    out = CliRunner().invoke(audit, args)
    assert out.exit_code == 1, out.output
    assert out.exception is None or isinstance(out.exception, SystemExit)
    if expected != "torn":
        line, kind = expected[0]
        assert f"line {line}: {kind}" in out.output


def test_forged_append_after_an_anchored_head_is_found(log_lines: tuple[Path, Lines]) -> None:
    path, lines = log_lines
    head = verify_log(path).head
    path.write_bytes(b"".join(append_forged(lines)))
    chain_only = verify_log(path, expect_head=head, min_records=N)
    assert chain_only.ok  # a chain and an anchor alone cannot tell
    assert [p.kind for p in verify_log(path, expect_head=head, min_records=N, key=KEY).problems] == ["forged"]
    with pytest.raises(AuditLogError, match="MAC"):
        AuditLog(path, KEY)  # and no one appends after it


def test_an_auditor_verifies_with_the_mac_key_only(tmp_path: Path, log_lines: tuple[Path, Lines]) -> None:
    path, lines = log_lines
    key_file = tmp_path / "host.key"
    key_file.write_bytes(KEY)
    exported = CliRunner().invoke(audit, ["mac-key", "--key-file", str(key_file)])
    assert exported.exit_code == 0
    mac_file = tmp_path / "auditor.mac"
    mac_file.write_text(exported.stdout.strip() + "\n", encoding="ascii")
    assert bytes.fromhex(exported.stdout.strip()) == audit_mac_key(KEY) != KEY
    out = CliRunner().invoke(audit, ["verify", "--mac-key-file", str(mac_file), str(path)])
    assert out.exit_code == 0 and "authenticated" in out.output
    path.write_bytes(b"".join(rewrite_chain(lines)))
    assert CliRunner().invoke(audit, ["verify", str(path)]).exit_code == 0  # no key: the chain only
    out = CliRunner().invoke(audit, ["verify", "--mac-key-file", str(mac_file), str(path)])
    assert out.exit_code == 1 and "forged" in out.output


def test_key_rotation(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write(path, 2)
    new_key = b"the-next-host-key-0123456789abcd"
    with pytest.raises(AuditLogError, match="previous_keys"):
        AuditLog(path, new_key)
    rotated = AuditLog(path, new_key, previous_keys=[KEY])
    rotated.append(record(9))
    assert verify_log(path, keys=[KEY, new_key]).authenticated
    partial = verify_log(path, key=new_key)
    assert [(p.line, p.kind) for p in partial.problems] == [(1, "unknown-key"), (2, "unknown-key")]
    assert AuditLog(path, new_key).head[0] == 3  # the last entry is under the new key


def test_moving_the_first_of_many_entries_to_the_end(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    mac_key = audit_mac_key(KEY)
    prev, lines = "0" * 64, []
    for seq in range(1, 1201):
        line, prev, _ = entry_line(seq, prev, {"kind": "t", "outcome": {"i": seq}}, mac_key)
        lines.append(line)
    path.write_bytes(b"".join(lines[1:] + lines[:1]))
    result = verify_log(path, key=KEY)
    assert [(p.line, p.kind) for p in result.problems] == [(1200, "reordered")]
    out = CliRunner().invoke(audit, ["verify", str(path)])
    assert out.exit_code == 1 and "line 1200: reordered" in out.output


# ---------------------------------------------------------------- torn tail


def test_an_intact_entry_missing_its_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    lines = write(path, 3)
    path.write_bytes(b"".join(lines)[:-1])  # only the final newline removed
    result = verify_log(path, key=KEY)
    assert result.ok and result.records == 3 and result.missing_newline and not result.torn_tail
    for repair in (False, True):
        log = AuditLog(path, KEY, repair_torn_tail=repair)  # the newline is added, nothing is cut
        assert path.read_bytes() == b"".join(lines) and log.head[0] == 3
    log.append(record(7))
    assert verify_log(path, key=KEY).records == 4


def test_the_checkpoint_is_checked_before_any_repair(tmp_path: Path) -> None:
    path, checkpoint = tmp_path / "audit.jsonl", tmp_path / "audit.head.json"
    log = AuditLog(path, KEY, head_file=checkpoint)
    for i in range(3):
        log.append(record(i))
    data = path.read_bytes()
    damaged = data[:-30]  # the acknowledged last entry cut mid-line
    path.write_bytes(damaged)
    assert verify_log(path).torn_tail
    with pytest.raises(AuditLogError, match="truncated"):
        AuditLog(path, KEY, head_file=checkpoint, repair_torn_tail=True)
    assert path.read_bytes() == damaged  # nothing cut: the checkpoint says seq 3 was written
    assert read_head_file(checkpoint)[0] == 3


def test_stale_checkpoint_temp_files_are_removed_on_open(tmp_path: Path) -> None:
    path, checkpoint = tmp_path / "audit.jsonl", tmp_path / "audit.head.json"
    AuditLog(path, KEY, head_file=checkpoint).append(record(0))
    stale = [tmp_path / ".audit.head.json.abc123.tmp", tmp_path / ".audit.head.json.x.tmp"]
    other = tmp_path / ".other.json.abc.tmp"
    for p in [*stale, other]:
        p.write_text("{", encoding="utf-8")  # what kill -9 between mkstemp and os.replace leaves
    AuditLog(path, KEY, head_file=checkpoint)
    assert not any(p.exists() for p in stale) and other.exists()


# ---------------------------------------------------------------- what the log holds


def test_no_id_number_or_name_in_clear_whatever_a_host_passes(tmp_path: Path, zibo_engine: Engine) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, KEY)
    hidden = ["370399199001011234", "C370399199001011234", "370399 19900101 1234", "３７０３９９１９９００１０１１２３４"]
    for text in hidden:
        log.append(
            AuditRecord(
                kind="host",
                at=AT,
                request_id=text,
                inputs={"applicant": {"id_number": PERSON_ID, "name": "张三丰"}, text: 1},
                outcome={"summary": f"投诉人 {text}", "received_by": "李四", "units": [text], "note": text},
            )
        )
    raw = path.read_text(encoding="utf-8")
    for needle in (PERSON_ID, "19900101", "１９９０", "张三丰", "李四"):
        assert needle not in raw
    entries = [json.loads(line) for line in raw.splitlines()]
    assert entries[0]["record"]["outcome"]["received_by"].startswith("hmac-sha256:")
    assert entries[0]["record"]["inputs"]["applicant"]["id_number"].startswith("hmac-sha256:")
    assert verify_log(path, key=KEY).authenticated


@pytest.mark.parametrize(
    "bad",
    [
        b"[" * 200_000 + b"\n",  # nesting deeper than the recursion limit
        b'{"hash":' + b"9" * 5000 + b"}\n",  # a huge number
        b"\xff\xfe not utf-8\n",
        b'{"hash":NaN}\n',
        b"\x00" * 100 + b"\n",
    ],
    ids=["deep", "huge-number", "not-utf8", "nan", "nul"],
)
def test_any_bad_line_is_exit_1_never_3(tmp_path: Path, bad: bytes) -> None:
    path = tmp_path / "audit.jsonl"
    lines = write(path, 3)
    path.write_bytes(b"".join(lines[:1]) + bad + b"".join(lines[1:]))
    result = verify_log(path, key=KEY)
    assert [p.kind for p in result.problems] == ["malformed"]
    out = CliRunner().invoke(audit, ["verify", str(path)])
    assert out.exit_code == 1 and out.exception is None or isinstance(out.exception, SystemExit)
    assert out.exit_code == 1


def test_an_overlong_line_is_malformed_and_read_in_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nocert_rules.records.audit import entry as audit_module  # where lines are read

    monkeypatch.setattr(audit_module, "MAX_LINE_BYTES", 4096)
    path = tmp_path / "audit.jsonl"
    lines = write(path, 3)
    path.write_bytes(lines[0] + b"x" * 20_000 + b"\n" + b"".join(lines[1:]))
    result = verify_log(path, key=KEY)
    assert [(p.line, p.kind) for p in result.problems] == [(2, "malformed")] and result.records == 3


# ---------------------------------------------------------------- any change, at random

_BASE: dict[str, Any] = {}


def _base_log(tmp: Path) -> tuple[Lines, str]:
    if not _BASE:
        path = tmp / "base.jsonl"
        lines = write(path, 5)
        _BASE["lines"], _BASE["head"] = lines, verify_log(path).head
    return _BASE["lines"], _BASE["head"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.tuples(st.sampled_from(["flip", "delete", "duplicate", "swap", "cut"]), st.integers(0, 10**6),
                              st.integers(0, 10**6)), min_size=1, max_size=3))
def test_any_change_is_found_and_never_crashes(tmp_path: Path, ops: list[tuple[str, int, int]]) -> None:
    lines, head = _base_log(tmp_path)
    changed = list(lines)
    for op, a, b in ops:
        if not any(changed):  # nothing left (a cut can leave b"")
            break
        i, j = a % len(changed), b % len(changed)
        if op == "flip":
            line = bytearray(changed[i])
            pos = b % max(1, len(line) - 1)  # never the newline itself
            line[pos] = (line[pos] + 1 + a % 200) % 256
            changed[i] = bytes(line)
        elif op == "delete":
            del changed[i]
        elif op == "duplicate":
            changed.insert(j, changed[i])
        elif op == "swap":
            changed[i], changed[j] = changed[j], changed[i]
        else:  # cut the file's end anywhere
            data = b"".join(changed)
            changed = [data[: len(data) - 1 - a % len(data)]]
    path = tmp_path / "changed.jsonl"
    data = b"".join(changed)
    path.write_bytes(data)
    result = verify_log(path, key=KEY, expect_head=head, min_records=5)  # never raises
    if data.splitlines() != b"".join(lines).splitlines():
        assert not result.ok
    else:
        assert result.ok
