"""The service's decision log as an audit log: ``serve --decision-log F --key-file K``.

Each line is a ``records.audit.AuditLog`` entry (hash chain, HMAC-SHA256 under the host key, a
head checkpoint), checked by ``nocert-rules audit verify``; no ID number or name in clear.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from live_server import NOCERT, ROOT, live_server

from nocert_rules.privacy import keyed_hash

pytest.importorskip("fastapi")

ZIBO = ROOT / "rulesets" / "zibo"
PERSON_ID = "370399199001011234"
NAME = "张三丰"
KEY = b"service-decision-log-key-0123456789"
TOKEN = "s3cret-token-for-tests-0123456789"


def request(**fields: Any) -> dict[str, Any]:
    return {
        "service_item": "370300-XK-0006", "certificate": "ZM-ZR-0001",
        "applicant": {"kind": "person", "id_number": PERSON_ID, "name": NAME, "credit": "normal"},
        "requested_at": "2021-09-30T15:30", **fields,
    }


def verify(log: Path, *args: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run([NOCERT, "audit", "verify", str(log), "--json", *args],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    return done.returncode, json.loads(done.stdout)


def test_decisions_are_audit_entries_verified_and_tampering_detected(tmp_path: Path) -> None:
    key_file, head_file, log = tmp_path / "host.key", tmp_path / "decisions.head", tmp_path / "decisions.jsonl"
    key_file.write_bytes(KEY + b"\n")
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN, encoding="utf-8")
    with live_server(ZIBO, tmp_path, "--token-file", str(token_file), "--decision-log", str(log),
                     "--key-file", str(key_file), "--head-file", str(head_file)) as srv, \
            srv.client(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        answers = [client.post("/v1/decide", json=request()) for _ in range(3)]
        batch = client.post("/v1/decide/batch", json={"requests": [request(certificate="ZM-GA-0002"), {"bad": 1}]})
        assert all(a.status_code == 200 for a in answers) and batch.status_code == 200
        ids = [a.headers["x-decision-id"] for a in answers] + [batch.json()["results"][0]["decision_id"]]
        entry = client.get(f"/v1/explain/{ids[1]}").json()
    assert set(entry) == {"decision_id", "seq", "hash", "kid", "record"} and entry["seq"] == 2
    record = entry["record"]
    assert record["kind"] == "decision" and record["outcome"]["decision_id"] == ids[1]
    assert record["outcome"]["method"] == answers[1].json()["method"]
    assert record["inputs"]["applicant"]["id_number"] == keyed_hash(PERSON_ID, KEY)
    assert record["trace"] and record["ruleset"]["sha256"] == answers[1].json()["ruleset"]["sha256"]

    text = log.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) == 4  # the invalid request of the batch is not a decision
    assert PERSON_ID not in text and NAME not in text and PERSON_ID[-4:] + '"' not in text
    assert [json.loads(line)["record"]["outcome"]["decision_id"] for line in lines] == ids

    code, result = verify(log, "--key-file", str(key_file), "--head-file", str(head_file))
    assert code == 0 and result["ok"] and result["records"] == 4, result

    # an edited entry (another method) is detected and named by its line
    method = json.loads(lines[1])["record"]["outcome"]["method"]
    other = "PLEDGE" if method != "PLEDGE" else "VERIFICATION"
    lines[1] = lines[1].replace(f'"method":"{method}"', f'"method":"{other}"', 1)
    assert lines[1] != text.splitlines()[1]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, result = verify(log, "--key-file", str(key_file), "--head-file", str(head_file))
    assert code == 1 and not result["ok"]
    assert 2 in {p["line"] for p in result["problems"]}, result["problems"]


def test_a_rewritten_chain_is_forged_under_the_key_and_a_tampered_tail_refuses_to_serve(tmp_path: Path) -> None:
    """Re-hashing an edited entry passes the chain check without a key but not the MAC; a server
    asked to append to a log whose last entry was altered refuses to start (exit 2)."""
    from nocert_rules.records.audit import entry_hash

    key_file, log = tmp_path / "host.key", tmp_path / "decisions.jsonl"
    key_file.write_bytes(KEY)
    with live_server(ZIBO, tmp_path, "--decision-log", str(log), "--key-file", str(key_file)) as srv, srv.client() as client:
        assert client.post("/v1/decide", json=request()).status_code == 200
    entry = json.loads(log.read_text(encoding="utf-8"))
    entry["record"]["outcome"]["applicant_must_submit"] = not entry["record"]["outcome"]["applicant_must_submit"]
    entry["hash"] = entry_hash(entry["seq"], entry["prev"], entry["record"], entry["kid"])
    log.write_text(json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    assert verify(log)[0] == 0  # without the key only the chain is checked
    code, result = verify(log, "--key-file", str(key_file))
    assert code == 1 and [p["kind"] for p in result["problems"]] == ["forged"]
    done = subprocess.run([NOCERT, "serve", str(ZIBO), "--port", "0", "--decision-log", str(log), "--key-file", str(key_file)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2 and "MAC" in done.stderr, done.stderr


def test_key_options_need_the_decision_log(tmp_path: Path) -> None:
    key_file = tmp_path / "host.key"
    key_file.write_bytes(KEY)
    done = subprocess.run([NOCERT, "serve", str(ZIBO), "--key-file", str(key_file)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2 and "--decision-log" in done.stderr
    short = tmp_path / "short.key"
    short.write_bytes(b"short")
    done = subprocess.run([NOCERT, "serve", str(ZIBO), "--decision-log", str(tmp_path / "l.jsonl"), "--key-file", str(short)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2 and "16" in done.stderr


def test_a_restarted_service_continues_the_chain_and_explains_from_the_file(tmp_path: Path) -> None:
    """A second run appends to the same chain (seq goes on, one verified log), and explains a
    decision of the first run from the file (not from memory)."""
    key_file, head_file, log = tmp_path / "host.key", tmp_path / "d.head", tmp_path / "decisions.jsonl"
    key_file.write_bytes(KEY)
    args = ("--decision-log", str(log), "--key-file", str(key_file), "--head-file", str(head_file))
    with live_server(ZIBO, tmp_path, *args) as srv, srv.client() as client:
        first = client.post("/v1/decide", json=request()).headers["x-decision-id"]
    with live_server(ZIBO, tmp_path, *args) as srv, srv.client() as client:
        second = client.post("/v1/decide", json=request(certificate="ZM-GA-0002")).headers["x-decision-id"]
        old = client.get(f"/v1/explain/{first}")
        missing = client.get("/v1/explain/00000000-0000-4000-8000-000000000000")
    assert old.status_code == 200 and old.json()["seq"] == 1 and old.json()["record"]["outcome"]["decision_id"] == first
    assert missing.status_code == 404
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [e["seq"] for e in entries] == [1, 2] and entries[1]["prev"] == entries[0]["hash"]
    assert entries[1]["record"]["outcome"]["decision_id"] == second
    code, result = verify(log, "--key-file", str(key_file), "--head-file", str(head_file))
    assert code == 0 and result["records"] == 2, result
