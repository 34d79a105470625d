"""Audit records and the hash-chained, HMAC-authenticated JSONL log: tampering is found and named,
torn tails too. The full tamper table of docs/records.md is tests/test_audit_tamper.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import ORG_ID, PERSON_ID

from nocert_rules import Engine, Ruleset
from nocert_rules.cli.audit import audit
from nocert_rules.models import SHANGHAI
from nocert_rules.privacy import keyed_hash
from nocert_rules.records.audit import (
    GENESIS,
    AuditLog,
    AuditLogError,
    audit_decision,
    audit_mac_key,
    audit_state,
    canonical_json,
    entry_hash,
    read_head_file,
    verify_log,
)
from nocert_rules.records.pledge import open_pledge

KEY = b"audit-test-key-0123456789abcdef!"
NAME = "张三丰"
AT = datetime(2021, 5, 6, 10, 1, tzinfo=SHANGHAI)


def request(i: int = 0, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "service_item": "370300-XK-0013",
        "certificate": "ZM-CW-0008",
        "applicant": {"kind": "person", "id_number": PERSON_ID, "name": NAME},
        "requested_at": "2021-05-06T10:00:00",
        "request_id": f"case-{i}",
    }
    data.update(kw)
    return data


def write_log(path: Path, engine: Engine, n: int = 6) -> list[str]:
    log = AuditLog(path, KEY)
    for i in range(n):
        req = request(i)
        log.append_decision(req, engine.decide(req), at=AT)
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def rewrite(entry_line: str, mutate: Callable[[dict[str, Any]], None], rehash: bool) -> str:
    """An entry changed by someone without the key: the hash can be recomputed, the MAC cannot."""
    entry = json.loads(entry_line)
    mutate(entry)
    if rehash:
        entry["hash"] = entry_hash(entry["seq"], entry["prev"], entry["record"], entry["kid"])
    return canonical_json(entry).decode("utf-8") + "\n"


# ---------------------------------------------------------------- audit records


def test_decision_record_pseudonymises_the_applicant(zibo_engine: Engine) -> None:
    req = request()
    decision = zibo_engine.decide(req)
    record = audit_decision(req, decision, KEY, at=AT)
    assert record.kind == "decision" and record.request_id == "case-0"
    assert record.inputs is not None
    assert record.inputs["applicant"]["id_number"] == keyed_hash(PERSON_ID, KEY)
    assert record.inputs["applicant"]["name"] == keyed_hash(NAME, KEY)
    assert record.outcome["method"] == "PLEDGE"
    assert record.trace and record.trace[-1]["rule_id"] == "engine.choose"
    assert record.ruleset is not None and record.ruleset.sha256 == decision.ruleset.sha256
    serialized = record.model_dump_json()
    assert PERSON_ID not in serialized and NAME not in serialized
    assert decision.applicant.id_masked not in serialized


def test_every_pseudonymised_field_is_keyed_hashed_wherever_it_is_and_others_only_scanned() -> None:
    """The walk looks a string's class up only under keys of pseudonymised fields: each of
    FIELD_CLASSES' pseudonymised entries still hashes, by key or by ``parent.key``; the same key
    under another parent, and public fields, are scanned (masked), never hashed."""
    from nocert_rules.records.audit import FIELD_CLASSES, classify_record

    for name, cls in FIELD_CLASSES.items():
        if cls != "pseudonymised":
            continue
        parent, _, key = name.rpartition(".")
        payload = {parent or "anywhere": {key: NAME}, "list": [{key: NAME}] if not parent else []}
        out = classify_record(payload, KEY)
        assert out[parent or "anywhere"][key] == keyed_hash(NAME, KEY), name
        if not parent:
            assert out["list"][0][key] == keyed_hash(NAME, KEY), name
    out = classify_record({"ruleset": {"name": "zibo"}, "other": {"name": NAME}, "note": PERSON_ID}, KEY)
    assert out["ruleset"]["name"] == "zibo" and out["other"]["name"] == NAME  # public; free text, not hashed
    assert PERSON_ID not in out["note"]
    with pytest.raises(TypeError):
        FIELD_CLASSES["phone"] = "pseudonymised"  # type: ignore[index]


def test_organisation_id_is_pseudonymised(zibo_engine: Engine) -> None:
    req = request(applicant={"kind": "organization", "id_number": ORG_ID})
    record = audit_decision(req, zibo_engine.decide(req), KEY, at=AT)
    assert ORG_ID not in record.model_dump_json()
    assert record.inputs is not None and record.inputs["applicant"]["name"] is None


def test_request_must_be_the_decisions(zibo_engine: Engine) -> None:
    decision = zibo_engine.decide(request(1))
    with pytest.raises(AuditLogError, match="not the decision's"):
        audit_decision(request(2), decision, KEY)


def test_key_must_be_long_enough(tmp_path: Path, zibo_engine: Engine) -> None:
    with pytest.raises(AuditLogError, match="key"):
        audit_decision(request(), zibo_engine.decide(request()), b"short")
    with pytest.raises(AuditLogError, match="key"):
        AuditLog(tmp_path / "a.jsonl", b"")


def test_state_record_of_a_pledge(zibo: Ruleset) -> None:
    from nocert_rules import Applicant

    with Engine(zibo, key=KEY) as keyed:
        decision = keyed.decide(request(wants_pledge=True))
    pledge = open_pledge(decision, Applicant(kind="person", id_number=PERSON_ID, name=NAME), KEY, record_id="p-1")
    record = audit_state(pledge, at=AT)
    assert record.kind == "PledgeRecord" and record.request_id == "case-0"
    assert record.outcome["state"] == "awaiting_check"
    assert PERSON_ID not in record.model_dump_json()


# ---------------------------------------------------------------- the log


def test_append_chains_and_verifies(tmp_path: Path, zibo_engine: Engine) -> None:
    path = tmp_path / "audit.jsonl"
    lines = write_log(path, zibo_engine, 4)
    entries = [json.loads(line) for line in lines]
    assert [e["seq"] for e in entries] == [1, 2, 3, 4]
    assert entries[0]["prev"] == GENESIS
    assert all(entries[i]["prev"] == entries[i - 1]["hash"] for i in range(1, 4))
    assert all(line == canonical_json(e).decode() + "\n" for line, e in zip(lines, entries, strict=True))
    result = verify_log(path)
    assert result.ok and result.records == 4 and not result.problems and not result.torn_tail
    assert not result.authenticated  # no key: the chain only
    assert verify_log(path, key=KEY).authenticated
    assert verify_log(path, mac_keys=[audit_mac_key(KEY)]).authenticated  # what an auditor holds
    assert result.head == entries[-1]["hash"] == AuditLog(path, KEY).head[1]
    text = path.read_text(encoding="utf-8")
    assert PERSON_ID not in text and NAME not in text


def test_reopening_continues_the_chain(tmp_path: Path, zibo_engine: Engine) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path, zibo_engine, 2)
    again = AuditLog(path, KEY)
    entry = again.append_decision(request(9), zibo_engine.decide(request(9)), at=AT)
    assert entry.seq == 3
    assert verify_log(path).ok


@pytest.mark.parametrize("with_head_file", [False, True])
def test_concurrent_writers(tmp_path: Path, zibo_engine: Engine, with_head_file: bool) -> None:
    path = tmp_path / "audit.jsonl"
    head_file = tmp_path / "audit.head" if with_head_file else None
    decision = zibo_engine.decide(request())
    record = audit_decision(request(), decision, KEY, at=AT)
    # two handles: each re-reads the head (and the checkpoint) under the lock
    logs = [AuditLog(path, KEY, head_file=head_file), AuditLog(path, KEY, head_file=head_file)]

    def work(log: AuditLog) -> None:
        for _ in range(15):
            log.append(record)

    threads = [threading.Thread(target=work, args=(logs[i % 2],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = verify_log(path, head_file=head_file)
    assert result.ok and result.records == 60
    if head_file is not None:
        assert result.anchored and read_head_file(head_file) == (60, result.head)


# ---------------------------------------------------------------- tampering


def _edit(lines: list[str]) -> list[str]:
    def change(e: dict[str, Any]) -> None:
        e["record"]["outcome"]["method"] = "ABOLISH"

    return lines[:2] + [rewrite(lines[2], change, rehash=False)] + lines[3:]


def _edit_rehashed(lines: list[str]) -> list[str]:
    def change(e: dict[str, Any]) -> None:
        e["record"]["outcome"]["method"] = "ABOLISH"

    return lines[:2] + [rewrite(lines[2], change, rehash=True)] + lines[3:]


def _delete(lines: list[str]) -> list[str]:
    return lines[:2] + lines[3:]


def _delete_first(lines: list[str]) -> list[str]:
    return lines[1:]


def _insert_forged(lines: list[str]) -> list[str]:
    def change(e: dict[str, Any]) -> None:
        e["record"]["request_id"] = "forged"

    return lines[:2] + [rewrite(lines[2], change, rehash=True)] + lines[2:]  # seq 3, linked to line 2


def _insert_copy(lines: list[str]) -> list[str]:
    return lines[:3] + [lines[1]] + lines[3:]


def _swap(lines: list[str]) -> list[str]:
    return lines[:2] + [lines[3], lines[2]] + lines[4:]


def _move_to_end(lines: list[str]) -> list[str]:
    return [lines[0]] + lines[2:] + [lines[1]]


@pytest.mark.parametrize(
    ("tamper", "line", "kind", "kind_with_key"),
    [
        (_edit, 3, "edited", "edited"),
        (_edit_rehashed, 3, "edited", "forged"),
        (_delete, 3, "removed", "removed"),
        (_delete_first, 1, "removed", "removed"),
        (_insert_forged, 3, "inserted", "forged"),
        (_insert_copy, 4, "duplicate", "duplicate"),
        (_swap, 4, "reordered", "reordered"),
        (_move_to_end, 6, "reordered", "reordered"),
    ],
)
def test_tampering_is_found_and_named(
    tmp_path: Path,
    zibo_engine: Engine,
    tamper: Callable[[list[str]], list[str]],
    line: int,
    kind: str,
    kind_with_key: str,
) -> None:
    path = tmp_path / "audit.jsonl"
    lines = write_log(path, zibo_engine)
    path.write_text("".join(tamper(lines)), encoding="utf-8")

    result = verify_log(path)  # the chain alone
    assert not result.ok and not result.torn_tail
    assert [(p.line, p.kind) for p in result.problems] == [(line, kind)]
    keyed = verify_log(path, key=KEY)
    assert [(p.line, p.kind) for p in keyed.problems] == [(line, kind_with_key)]
    assert not keyed.authenticated

    out = CliRunner().invoke(audit, ["verify", str(path)])
    assert out.exit_code == 1, out.output
    assert f"line {line}: {kind}" in out.output

    as_json = CliRunner().invoke(audit, ["verify", "--json", str(path)])
    assert as_json.exit_code == 1
    data = json.loads(as_json.output)
    assert data["ok"] is False and data["problems"][0]["line"] == line and data["problems"][0]["kind"] == kind


def test_garbage_line_in_the_middle(tmp_path: Path, zibo_engine: Engine) -> None:
    path = tmp_path / "audit.jsonl"
    lines = write_log(path, zibo_engine)
    path.write_text("".join(lines[:2] + ["not json\n"] + lines[3:]), encoding="utf-8")
    result = verify_log(path)
    assert [(p.line, p.kind) for p in result.problems] == [(3, "malformed")]


def test_appending_after_tampering_of_the_last_entry_is_refused(tmp_path: Path, zibo_engine: Engine) -> None:
    path = tmp_path / "audit.jsonl"
    lines = write_log(path, zibo_engine, 3)

    def change(e: dict[str, Any]) -> None:
        e["record"]["request_id"] = "x"

    path.write_text("".join(lines[:2] + [rewrite(lines[2], change, rehash=False)]), encoding="utf-8")
    with pytest.raises(AuditLogError, match="audit verify"):
        AuditLog(path, KEY)


# ---------------------------------------------------------------- torn tail


@pytest.mark.parametrize("tail", ['{"hash":"3f2a', '{"seq":4', "x"])
def test_torn_tail_prefix_verifies_and_repair_is_explicit(tmp_path: Path, zibo_engine: Engine, tail: str) -> None:
    path = tmp_path / "audit.jsonl"
    lines = write_log(path, zibo_engine, 3)
    with path.open("a", encoding="utf-8") as f:
        f.write(tail)

    result = verify_log(path)
    assert result.torn_tail and result.torn_line == 4
    assert result.problems == [] and result.records == 3 and not result.ok
    assert result.head == json.loads(lines[-1])["hash"]
    out = CliRunner().invoke(audit, ["verify", str(path)])
    assert out.exit_code == 1 and "torn" in out.output

    with pytest.raises(AuditLogError, match="repair_torn_tail"):
        AuditLog(path, KEY)
    repaired = AuditLog(path, KEY, repair_torn_tail=True)
    assert path.read_text(encoding="utf-8") == "".join(lines)  # only the torn line was cut
    repaired.append_decision(request(7), zibo_engine.decide(request(7)), at=AT)
    assert verify_log(path).ok and verify_log(path).records == 4


@pytest.mark.parametrize("tail", ["garbage\n", '{"hash":"3f2a\n', "\n"])
def test_terminated_bad_last_line_is_tampering_not_a_torn_tail(
    tmp_path: Path, zibo_engine: Engine, tail: str
) -> None:
    path = tmp_path / "audit.jsonl"
    lines = write_log(path, zibo_engine, 4)
    tampered = "".join(lines[:3]) + tail  # the last entry replaced by a complete, terminated line
    path.write_text(tampered, encoding="utf-8")

    result = verify_log(path)
    assert not result.ok and not result.torn_tail and result.torn_line is None
    assert [(p.line, p.kind) for p in result.problems] == [(4, "malformed")]
    out = CliRunner().invoke(audit, ["verify", str(path)])
    assert out.exit_code == 1 and "line 4: malformed" in out.output and "torn" not in out.output

    for repair in (False, True):
        with pytest.raises(AuditLogError, match="never truncated automatically"):
            AuditLog(path, KEY, repair_torn_tail=repair)
    assert path.read_text(encoding="utf-8") == tampered  # nothing was cut


def test_repair_refuses_when_the_line_before_the_torn_tail_is_bad(tmp_path: Path, zibo_engine: Engine) -> None:
    path = tmp_path / "audit.jsonl"
    lines = write_log(path, zibo_engine, 3)
    tampered = "".join(lines[:2]) + "garbage\n" + '{"seq":4'
    path.write_text(tampered, encoding="utf-8")
    result = verify_log(path)
    assert result.torn_line == 4 and [(p.line, p.kind) for p in result.problems] == [(3, "malformed")]
    with pytest.raises(AuditLogError, match="never truncated automatically"):
        AuditLog(path, KEY, repair_torn_tail=True)
    assert path.read_text(encoding="utf-8") == tampered


def test_append_refuses_a_tail_torn_by_another_writer(tmp_path: Path, zibo_engine: Engine) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path, zibo_engine, 2)
    log = AuditLog(path, KEY)
    with path.open("a", encoding="utf-8") as f:
        f.write('{"seq":3')
    with pytest.raises(AuditLogError, match="torn"):
        log.append_decision(request(), zibo_engine.decide(request()), at=AT)
    assert verify_log(path).torn_tail


def _appended_once(path: Path, engine: Engine) -> AuditLog:
    """A log of 2 entries and a handle that has appended the second itself (it knows its tail)."""
    write_log(path, engine, 1)
    log = AuditLog(path, KEY)
    log.append_decision(request(1), engine.decide(request(1)), at=AT)
    return log


def test_the_tail_this_log_wrote_is_not_read_back(
    tmp_path: Path, zibo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit: a handle whose file still ends with its own last line skips re-reading and
    re-checking it (about 0.5 ms a group); the first append of a handle reads it."""
    from nocert_rules.records.audit import writer

    path = tmp_path / "audit.jsonl"
    write_log(path, zibo_engine, 1)
    reads: list[Path] = []
    real = writer.last_entry
    monkeypatch.setattr(writer, "last_entry", lambda p, keys: reads.append(p) or real(p, keys))
    log = AuditLog(path, KEY)
    for i in range(1, 4):
        log.append_decision(request(i), zibo_engine.decide(request(i)), at=AT)
    assert len(reads) == 1  # the first append only
    assert log.head == (4, json.loads(path.read_text(encoding="utf-8").splitlines()[-1])["hash"])
    assert verify_log(path, key=KEY).ok


def test_another_writers_append_is_read_and_chained_after(tmp_path: Path, zibo_engine: Engine) -> None:
    path = tmp_path / "audit.jsonl"
    log = _appended_once(path, zibo_engine)
    other = AuditLog(path, KEY)
    other.append_decision(request(2), zibo_engine.decide(request(2)), at=AT)  # the file moved on
    entry = log.append_decision(request(3), zibo_engine.decide(request(3)), at=AT)
    assert entry.seq == 4
    assert entry.prev == json.loads(path.read_text(encoding="utf-8").splitlines()[2])["hash"]
    assert verify_log(path, key=KEY).ok and verify_log(path).records == 4


def test_a_last_line_edited_in_place_after_this_logs_append_is_refused(tmp_path: Path, zibo_engine: Engine) -> None:
    """Same size, same inode, maybe the same mtime tick: the bytes read back differ, so the last
    entry is checked as before and its MAC fails."""
    path = tmp_path / "audit.jsonl"
    log = _appended_once(path, zibo_engine)
    data = bytearray(path.read_bytes())
    at = data.rindex(b'"request_id":"case-1"') + len(b'"request_id":"case-')
    data[at:at + 1] = b"7"  # same length
    with path.open("r+b") as f:
        f.write(bytes(data))
    with pytest.raises(AuditLogError, match="MAC does not match|damaged or altered"):
        log.append_decision(request(3), zibo_engine.decide(request(3)), at=AT)
    assert path.read_bytes() == bytes(data)  # nothing appended


def test_a_tail_torn_or_cut_after_this_logs_append_is_refused(tmp_path: Path, zibo_engine: Engine) -> None:
    path = tmp_path / "audit.jsonl"
    log = _appended_once(path, zibo_engine)
    with path.open("a", encoding="utf-8") as f:
        f.write('{"seq":3')
    with pytest.raises(AuditLogError, match="torn"):
        log.append_decision(request(3), zibo_engine.decide(request(3)), at=AT)

    log = _appended_once(tmp_path / "cut.jsonl", zibo_engine)
    lines = (tmp_path / "cut.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "cut.jsonl").write_text(lines[0], encoding="utf-8")  # the last entry removed
    entry = log.append_decision(request(3), zibo_engine.decide(request(3)), at=AT)
    assert entry.seq == 2  # no checkpoint: the end as read decides, not what this handle remembered
    assert verify_log(tmp_path / "cut.jsonl", key=KEY).ok


# ---------------------------------------------------------------- CLI


def test_cli_intact_and_json(tmp_path: Path, zibo_engine: Engine) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path, zibo_engine, 3)
    out = CliRunner().invoke(audit, ["verify", str(path)])
    assert out.exit_code == 0 and "intact" in out.output
    data = json.loads(CliRunner().invoke(audit, ["verify", "--json", str(path)]).output)
    assert data["ok"] is True and data["records"] == 3 and data["head"]


def test_cli_empty_log_is_intact(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    AuditLog(path, KEY)
    assert CliRunner().invoke(audit, ["verify", str(path)]).exit_code == 0


@pytest.mark.parametrize("make_dir", [False, True])
def test_cli_missing_or_unreadable_exits_2(tmp_path: Path, make_dir: bool) -> None:
    path = tmp_path / "nope.jsonl"
    if make_dir:
        path.mkdir()
    out = CliRunner().invoke(audit, ["verify", str(path)])
    assert out.exit_code == 2 and "cannot read" in out.output
    as_json = CliRunner().invoke(audit, ["verify", "--json", str(path)])
    assert as_json.exit_code == 2 and json.loads(as_json.output)["ok"] is False


def test_cli_show(tmp_path: Path, zibo_engine: Engine) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path, zibo_engine, 3)
    out = CliRunner().invoke(audit, ["show", "--limit", "2", str(path)])
    assert out.exit_code == 0
    assert out.output.count("PLEDGE") == 2 and "case-2" in out.output and "case-0" not in out.output
    data = json.loads(CliRunner().invoke(audit, ["show", "--json", str(path)]).output)
    assert [d["seq"] for d in data] == [1, 2, 3]
    assert PERSON_ID not in out.output and PERSON_ID not in json.dumps(data, ensure_ascii=False)
    assert CliRunner().invoke(audit, ["show", str(tmp_path / "missing.jsonl")]).exit_code == 2


def test_cli_rich_output_names_the_line_and_treats_log_content_as_text(
    tmp_path: Path, zibo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from rich.console import Console

    from nocert_rules.cli import audit as cli_audit

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=160, color_system=None)
    monkeypatch.setattr(cli_audit, "_rich_console", lambda: console)
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, KEY)
    req = request(0, request_id="[bold]case-x[/bold]")
    log.append_decision(req, zibo_engine.decide(req), at=AT)
    assert CliRunner().invoke(audit, ["show", str(path)]).exit_code == 0
    assert "[bold]case-x[/bold]" in buffer.getvalue()  # shown as text, not as rich markup

    tampered = tmp_path / "tampered.jsonl"
    lines = write_log(tampered, zibo_engine, 4)
    tampered.write_text("".join(_edit(lines)), encoding="utf-8")
    buffer.seek(0)
    buffer.truncate(0)
    assert CliRunner().invoke(audit, ["verify", str(tampered)]).exit_code == 1
    table_rows = [row for row in buffer.getvalue().splitlines() if "edited" in row]
    assert len(table_rows) == 1 and table_rows[0].split("│")[1].strip() == "3"


# ---------------------------------------------------------------- anchoring the head


def test_removal_at_the_end_is_found_with_an_expected_head(tmp_path: Path, zibo_engine: Engine) -> None:
    path = tmp_path / "audit.jsonl"
    lines = write_log(path, zibo_engine, 5)
    seq, head = AuditLog(path, KEY).head
    assert seq == 5

    anchored = verify_log(path, expect_head=head, min_records=5)
    assert anchored.ok and anchored.anchored and anchored.head == head and anchored.head_seq == 5
    assert verify_log(path).ok and not verify_log(path).anchored  # the chain alone cannot tell

    path.write_text("".join(lines[:4]), encoding="utf-8")  # the last entry dropped
    assert verify_log(path).ok  # still a valid (shorter) chain
    result = verify_log(path, expect_head=head)
    assert not result.ok and not result.anchored
    assert [(p.line, p.kind) for p in result.problems] == [(4, "head-mismatch")]
    assert "line 4 (seq 4)" in result.problems[0].message
    result = verify_log(path, expect_head=head, min_records=5)
    assert [(p.line, p.kind) for p in result.problems] == [(4, "truncated")]
    assert "line 4 (seq 4)" in result.problems[0].message

    out = CliRunner().invoke(audit, ["verify", "--expect-head", head, str(path)])
    assert out.exit_code == 1 and "line 4: head-mismatch" in out.output and "NOT intact" in out.output
    out = CliRunner().invoke(audit, ["verify", "--min-records", "5", str(path)])
    assert out.exit_code == 1 and "line 4: truncated" in out.output
    data = json.loads(CliRunner().invoke(audit, ["verify", "--json", "--min-records", "5", str(path)]).output)
    assert data["ok"] is False and data["problems"][0]["kind"] == "truncated"

    path.write_text("", encoding="utf-8")  # emptied
    result = verify_log(path, expect_head=head, min_records=5)
    assert [(p.line, p.kind) for p in result.problems] == [(0, "truncated")]
    out = CliRunner().invoke(audit, ["verify", "--expect-head", head.upper(), str(path)])
    assert out.exit_code == 1 and "head-mismatch" in out.output


def test_an_anchor_accepts_later_appends_but_not_a_rewritten_end(tmp_path: Path, zibo_engine: Engine) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path, zibo_engine, 3)
    log = AuditLog(path, KEY)
    _, anchor = log.head
    log.append_decision(request(8), zibo_engine.decide(request(8)), at=AT)
    grown = verify_log(path, expect_head=anchor, min_records=3)
    assert grown.ok and grown.anchored and grown.head_seq == 4
    assert CliRunner().invoke(audit, ["verify", "--expect-head", anchor, str(path)]).exit_code == 0

    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)

    def change(e: dict[str, Any]) -> None:
        e["record"]["request_id"] = "forged"

    forged = rewrite(lines[2], change, rehash=True)  # entry 3 replaced, chain still valid up to it
    path.write_text("".join(lines[:2]) + forged, encoding="utf-8")
    assert verify_log(path).ok
    result = verify_log(path, expect_head=anchor, min_records=3)
    assert [(p.line, p.kind) for p in result.problems] == [(3, "head-mismatch")]


def test_cli_rejects_a_bad_expected_head(tmp_path: Path, zibo_engine: Engine) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path, zibo_engine, 1)
    out = CliRunner().invoke(audit, ["verify", "--expect-head", "abc", str(path)])
    assert out.exit_code == 2 and "64 hex" in out.output
    with pytest.raises(AuditLogError, match="64 hex"):
        verify_log(path, expect_head="xyz")


def test_head_file_checkpoint_is_kept_and_compared(tmp_path: Path, zibo_engine: Engine) -> None:
    path, checkpoint = tmp_path / "audit.jsonl", tmp_path / "anchor" / "audit.head"
    log = AuditLog(path, KEY, head_file=checkpoint)
    assert read_head_file(checkpoint) == (0, GENESIS) == log.head
    for i in range(4):
        entry = log.append_decision(request(i), zibo_engine.decide(request(i)), at=AT)
        assert read_head_file(checkpoint) == (entry.seq, entry.hash) == log.head
    assert json.loads(checkpoint.read_text(encoding="utf-8")) == {"hash": log.head[1], "seq": 4}
    assert sorted(p.name for p in checkpoint.parent.iterdir()) == ["audit.head"]  # no temp files left

    ok = verify_log(path, head_file=checkpoint)
    assert ok.ok and ok.anchored
    out = CliRunner().invoke(audit, ["verify", "--head-file", str(checkpoint), str(path)])
    assert out.exit_code == 0 and "matches the anchor" in out.output

    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:3]), encoding="utf-8")  # the last entry dropped
    result = verify_log(path, head_file=checkpoint)
    assert [(p.line, p.kind) for p in result.problems] == [(3, "truncated")]
    out = CliRunner().invoke(audit, ["verify", "--head-file", str(checkpoint), str(path)])
    assert out.exit_code == 1 and "line 3: truncated" in out.output

    # the writer refuses to continue a truncated log, and never lowers the checkpoint
    with pytest.raises(AuditLogError, match="truncated"):
        AuditLog(path, KEY, head_file=checkpoint)
    with pytest.raises(AuditLogError, match="truncated"):
        log.append_decision(request(9), zibo_engine.decide(request(9)), at=AT)
    assert read_head_file(checkpoint)[0] == 4
    assert path.read_text(encoding="utf-8") == "".join(lines[:3])

    path.unlink()  # the log lost, the checkpoint kept: refused, not restarted
    with pytest.raises(AuditLogError, match="truncated"):
        AuditLog(path, KEY, head_file=checkpoint)
    assert not path.exists()


def test_head_file_refuses_a_replaced_last_entry(tmp_path: Path, zibo_engine: Engine) -> None:
    path, checkpoint = tmp_path / "audit.jsonl", tmp_path / "audit.head"
    log = AuditLog(path, KEY, head_file=checkpoint)
    for i in range(3):
        log.append_decision(request(i), zibo_engine.decide(request(i)), at=AT)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)

    def change(e: dict[str, Any]) -> None:
        e["record"]["request_id"] = "forged"

    path.write_text("".join(lines[:2]) + rewrite(lines[2], change, rehash=True), encoding="utf-8")
    with pytest.raises(AuditLogError, match="MAC does not match"):  # refused before the checkpoint is read
        AuditLog(path, KEY, head_file=checkpoint)
    assert [p.kind for p in verify_log(path, head_file=checkpoint).problems] == ["head-mismatch"]


def test_head_file_behind_the_log_catches_up(tmp_path: Path, zibo_engine: Engine) -> None:
    path, checkpoint = tmp_path / "audit.jsonl", tmp_path / "audit.head"
    log = AuditLog(path, KEY, head_file=checkpoint)
    log.append_decision(request(0), zibo_engine.decide(request(0)), at=AT)
    behind = checkpoint.read_bytes()
    plain = AuditLog(path, KEY)  # a writer without the checkpoint, or a crash before it was written
    for i in (1, 2):
        plain.append_decision(request(i), zibo_engine.decide(request(i)), at=AT)
    assert verify_log(path, head_file=checkpoint).ok  # the checkpoint is in the chain
    entry = log.append_decision(request(3), zibo_engine.decide(request(3)), at=AT)
    assert read_head_file(checkpoint) == (4, entry.hash)

    checkpoint.write_bytes(behind)
    reopened = AuditLog(path, KEY, head_file=checkpoint)  # catches up on open
    assert read_head_file(checkpoint) == reopened.head == (4, entry.hash)

    checkpoint.unlink()  # a missing checkpoint is restarted from the current head
    AuditLog(path, KEY, head_file=checkpoint)
    assert read_head_file(checkpoint) == (4, entry.hash)


@pytest.mark.parametrize("content", [None, "not json", '{"hash": "00", "seq": 1}', '{"seq": 1}'])
def test_cli_missing_or_bad_head_file_exits_2(tmp_path: Path, zibo_engine: Engine, content: str | None) -> None:
    path, checkpoint = tmp_path / "audit.jsonl", tmp_path / "audit.head"
    write_log(path, zibo_engine, 1)
    if content is not None:
        checkpoint.write_text(content, encoding="utf-8")
    out = CliRunner().invoke(audit, ["verify", "--head-file", str(checkpoint), str(path)])
    assert out.exit_code == 2 and "cannot read" in out.output and str(checkpoint) in out.output
    as_json = CliRunner().invoke(audit, ["verify", "--json", "--head-file", str(checkpoint), str(path)])
    assert as_json.exit_code == 2 and json.loads(as_json.output)["ok"] is False
    if content is not None:
        with pytest.raises(AuditLogError, match="not a head checkpoint"):
            AuditLog(path, KEY, head_file=checkpoint)
