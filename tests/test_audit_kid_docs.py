"""docs/records.md states how the MAC key and the ``kid`` are computed; a verifier written from
those lines must get what ``AuditLog`` writes (issue 25 row 12)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from nocert_rules.models import SHANGHAI
from nocert_rules.records.audit import AuditLog, audit_mac_key, audit_state, key_id, verify_log

ROOT = Path(__file__).resolve().parent.parent
HOST_KEY = b"kid-docs-test-host-key-0123456789"


def _doc_formula(name: str) -> str:
    """The right-hand side of the ``<name> = …`` line in docs/records.md (one, in a code block)."""
    text = (ROOT / "docs" / "records.md").read_text(encoding="utf-8")
    found = re.findall(rf"^\s*{name} = (.+)$", text, flags=re.M)
    assert len(found) == 1, f"docs/records.md must state `{name} = …` once, found {found}"
    return found[0].strip()


def _from_docs(host_key: bytes) -> tuple[bytes, str]:
    """(mac_key, kid) computed from the two lines of the docs, and nothing else."""
    names = {"hmac": hmac, "hashlib": hashlib, "__builtins__": {}}
    mac_key = eval(_doc_formula("mac_key"), {**names, "host_key": host_key})  # noqa: S307 - our own docs
    kid = eval(_doc_formula("kid"), {**names, "mac_key": mac_key})  # noqa: S307
    return mac_key, kid


def test_the_docs_formulas_give_the_code_s_mac_key_and_kid() -> None:
    mac_key, kid = _from_docs(HOST_KEY)
    assert mac_key == audit_mac_key(HOST_KEY)
    assert kid == key_id(audit_mac_key(HOST_KEY))
    assert re.fullmatch(r"[0-9a-f]{16}", kid)
    # the wording that was wrong (issue 25 row 12): sha256 of the MAC key alone is another kid
    assert kid != hashlib.sha256(mac_key).hexdigest()[:16]


class _State(BaseModel):
    """Any record's state will do: the kid and MAC do not depend on it."""

    note: str


def test_a_verifier_written_from_the_docs_checks_a_written_entry(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, HOST_KEY)
    log.append(audit_state(_State(note="x"), at=datetime(2021, 6, 1, 10, 0, tzinfo=SHANGHAI)))
    line = json.loads(path.read_bytes().splitlines()[0])
    mac_key, kid = _from_docs(HOST_KEY)
    assert line["kid"] == kid == log.key_id
    body = json.dumps({k: line[k] for k in ("kid", "prev", "record", "seq")}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert hmac.new(mac_key, body, hashlib.sha256).hexdigest() == line["mac"]
    assert verify_log(path, mac_keys=[mac_key]).authenticated
