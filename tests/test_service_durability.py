"""The decision log's group commit and kill -9 (issue 25 rows 9 and 10).

Row 10's lost acknowledgement: the audit log passes every string it stores through the
personal-data mask (a safety net, public fields too), and about one random UUID in 13,000 holds
an ID-number-shaped digit run across its hyphens. Such a ``decision_id`` was answered in clear
and logged masked: after a restart the acknowledged id was not in the log. Ids are now drawn
until the mask leaves them as they are, and the log refuses to acknowledge an altered one.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from live_server import ROOT, live_server

from nocert_rules import Engine, load_ruleset
from nocert_rules.models import parse_request
from nocert_rules.privacy import mask_text
from nocert_rules.records.audit import AuditLogError, audit_decision, verify_log

pytest.importorskip("fastapi")

from nocert_rules.service import decision_log  # noqa: E402
from nocert_rules.service.decision_log import AuditedDecisionLog, DecisionLog, new_decision_id  # noqa: E402

ZIBO = ROOT / "rulesets" / "zibo"
KEY = b"service-durability-test-key-0123456789"
UUID_ONCE_MASKED = "56002b88-7dd6-4907-8390-519397ee1a4d"
"""A random UUID the log's mask altered before privacy left UUIDs alone (issue 25)."""
MASKED_BY_THE_LOG = "decision-13812345678"
"""An id the log's mask alters (a phone number in it)."""


def request(i: int = 0) -> dict[str, Any]:
    return {
        "service_item": "370300-XK-0006", "certificate": "ZM-ZR-0001",
        "applicant": {"kind": "person", "id_number": "370399199001011234", "name": "张三丰", "credit": "normal"},
        "requested_at": "2021-09-30T15:30", "request_id": f"r-{i}",
    }


@pytest.fixture(scope="module")
def decided() -> tuple[Any, Any]:
    engine = Engine(load_ruleset(ZIBO))
    req = parse_request(request())
    return req, engine.decide(req)


def test_decision_ids_are_never_ones_the_log_would_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    assert mask_text(MASKED_BY_THE_LOG) != MASKED_BY_THE_LOG
    assert mask_text(UUID_ONCE_MASKED) == UUID_ONCE_MASKED  # privacy leaves every UUID alone now
    monkeypatch.setattr(decision_log, "left_unmasked", lambda s: s != UUID_ONCE_MASKED)
    drawn = iter([uuid.UUID(UUID_ONCE_MASKED).bytes, uuid.UUID("0f3c9a2e-5b7d-4e1f-a6c8-d9e0b1a2c3f4").bytes])
    monkeypatch.setattr(decision_log, "_random_bytes", lambda n: next(drawn))
    assert new_decision_id() == "0f3c9a2e-5b7d-4e1f-a6c8-d9e0b1a2c3f4"


@settings(max_examples=500, deadline=None)
@given(st.binary(min_size=16, max_size=16))
def test_a_decision_id_is_written_as_the_uuid_module_writes_it(raw: bytes) -> None:
    assert decision_log.uuid4_text(raw) == str(uuid.UUID(bytes=raw, version=4))


def test_decision_ids_are_random_version_4_uuids_distinct_across_threads() -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def draw() -> None:
        mine = [new_decision_id() for _ in range(5_000)]
        with lock:
            ids.extend(mine)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == len(ids) == 20_000
    parsed = [uuid.UUID(i) for i in ids]
    assert {u.version for u in parsed} == {4} and {u.variant for u in parsed} == {uuid.RFC_4122}
    assert all(str(u) == i for u, i in zip(parsed, ids, strict=True))


def test_the_random_pool_draws_once_per_256_ids_and_again_in_a_forked_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each ``os.urandom`` call lets go of the interpreter lock: ids come from 4 KiB drawn at a
    time per thread; a forked child draws its own, so two processes never share ids."""
    draws: list[int] = []
    real = os.urandom
    monkeypatch.setattr(decision_log.os, "urandom", lambda n: draws.append(n) or real(n))
    monkeypatch.setattr(decision_log, "_pool", decision_log._RandomPool())  # this thread's pool, empty
    first = [new_decision_id() for _ in range(256)]
    assert draws == [4096]
    new_decision_id()
    assert draws == [4096, 4096]
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its first id, from the pool its parent had filled
        os.write(write, new_decision_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as pipe:
        in_child = pipe.read()
    assert in_child != new_decision_id() and in_child not in first


def test_a_drawn_decision_id_is_neither_scanned_nor_remembered(decided: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A decision id is a UUID, which the mask leaves whole: neither new_decision_id's check nor
    classifying the record scans it, and the log's memo of unmasked strings does not keep it."""
    from nocert_rules.records.audit import record as audit

    audit._UNMASKED.clear()  # so that the record's other strings are scanned
    scanned: list[str] = []
    real = audit.mask_text
    monkeypatch.setattr(audit, "mask_text", lambda s: scanned.append(s) or real(s))
    decision_id = new_decision_id()
    req, decision = decided
    record = audit_decision(req, decision, KEY)
    record = record.model_copy(update={"outcome": {**record.outcome, "decision_id": decision_id}})
    classified = audit.classify_record(record.model_dump(mode="json"), KEY)
    assert classified["outcome"]["decision_id"] == decision_id
    assert scanned and decision_id not in scanned  # (the record's other strings were scanned)
    assert decision_id not in audit._UNMASKED


def test_an_id_altered_on_its_way_into_the_audit_log_is_not_acknowledged(tmp_path: Path, decided: Any) -> None:
    req, decision = decided
    log = AuditedDecisionLog(tmp_path / "d.jsonl", KEY)
    try:
        with pytest.raises(AuditLogError, match="decision_id"):
            log.record(MASKED_BY_THE_LOG, req, decision)
        log.record("0f3c9a2e-5b7d-4e1f-a6c8-d9e0b1a2c3f4", req, decision)
    finally:
        log.close()
    ids = [json.loads(line)["record"]["outcome"]["decision_id"] for line in (tmp_path / "d.jsonl").open()]
    assert ids[-1] == "0f3c9a2e-5b7d-4e1f-a6c8-d9e0b1a2c3f4" and MASKED_BY_THE_LOG not in ids


@pytest.mark.parametrize("audited", [True, False], ids=["keyed", "plain"])
def test_group_commit_acknowledges_only_durable_entries_with_one_fsync_per_group(
    tmp_path: Path, decided: Any, audited: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """40 threads x 10 decisions: each acknowledgement finds its entry already fsynced (the
    file's fsynced length covers it), and the groups took far fewer fsyncs than entries."""
    req, decision = decided
    path = tmp_path / "d.jsonl"
    log = AuditedDecisionLog(path, KEY, head_file=tmp_path / "d.head") if audited else DecisionLog(path)
    fsynced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        fsynced.append(os.fstat(fd).st_size)

    monkeypatch.setattr(os, "fsync", fsync)
    late: list[str] = []

    def client(t: int) -> None:
        for k in range(10):
            decision_id = str(uuid.UUID(int=(t << 16) + k + 1))
            log.record(decision_id, req, decision)
            # acknowledged: its line is within what some fsync covered (the log's own file)
            if decision_id.encode() not in path.read_bytes()[: max(fsynced, default=0)]:
                late.append(decision_id)

    threads = [threading.Thread(target=client, args=(t,)) for t in range(40)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    batches = log.batches
    log.close()
    assert not late
    lines = path.read_bytes().splitlines()
    assert len(lines) == 400
    assert batches < 200, batches  # grouped: far fewer writes (and fsyncs) than entries
    if audited:
        result = verify_log(path, keys=[KEY], head_file=tmp_path / "d.head")
        assert result.ok and result.records == 400, result


def _load(base_url: str, stop: threading.Event, acked: list[str], errors: list[str], batch: bool) -> None:
    i = 0
    with httpx.Client(base_url=base_url, timeout=10) as client:
        while not stop.is_set():
            i += 1
            try:
                if batch:
                    answer = client.post("/v1/decide/batch", json={"requests": [request(i), request(i + 1)]})
                    if answer.status_code == 200:
                        acked.extend(r["decision_id"] for r in answer.json()["results"])
                else:
                    answer = client.post("/v1/decide", json=request(i))
                    if answer.status_code == 200:
                        acked.append(answer.headers["x-decision-id"])
            except (httpx.TransportError, ValueError):
                return  # the server is gone: nothing more is acknowledged
            if answer.status_code != 200:
                errors.append(f"{answer.status_code} {answer.text[:200]}")


def _kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and its descendants (a ``--workers`` supervisor's workers) at once."""
    top = psutil.Process(pid)
    for p in [*top.children(recursive=True), top]:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()


def kill_rounds(tmp_path: Path, rounds: int, clients: int, seconds: float, workers: int = 1) -> None:
    """Each round: ``clients`` clients (one in four sends batches) against a keyed log, kill -9
    of the server (with ``workers`` > 1: the supervisor and every worker process, appending to
    one log) after ``seconds``; then a restart on the same log. Every acknowledged decision_id
    is in the log, the log verifies, and the restarted server explains one."""
    key_file, head_file, log = tmp_path / "host.key", tmp_path / "d.head", tmp_path / "d.jsonl"
    key_file.write_bytes(KEY)
    args = ("--decision-log", str(log), "--key-file", str(key_file), "--head-file", str(head_file),
            *(("--workers", str(workers)) if workers > 1 else ()))
    acked: list[str] = []
    torn = 0
    for _ in range(rounds):
        errors: list[str] = []
        with live_server(ZIBO, tmp_path, *args) as srv:
            stop = threading.Event()
            threads = [threading.Thread(target=_load, args=(srv.base_url, stop, acked, errors, c % 4 == 3))
                       for c in range(clients)]
            for th in threads:
                th.start()
            time.sleep(seconds)
            _kill_tree(srv.process.pid)
            srv.process.wait()
            stop.set()
            for th in threads:
                th.join(timeout=30)
        assert not errors, errors[:3]
        torn += not log.read_bytes().endswith(b"\n")  # killed in the middle of a write: cut at the next start
    with live_server(ZIBO, tmp_path, *args) as srv, srv.client() as client:
        assert client.get(f"/v1/explain/{acked[0]}").json()["decision_id"] == acked[0]
    logged = set()
    for line in log.read_bytes().splitlines():
        logged.add(json.loads(line)["record"]["outcome"]["decision_id"])
    missing = [d for d in acked if d not in logged]
    print(f"{rounds} kill -9 rounds: {len(acked)} acknowledged, {len(logged)} logged, {len(missing)} missing, "
          f"{torn} torn tails cut")
    assert acked and not missing, (len(acked), missing[:5])
    result = verify_log(log, keys=[KEY], head_file=head_file)
    assert result.ok, result.problems[:3]


def test_kill_9_under_load_loses_no_acknowledged_decision(tmp_path: Path) -> None:
    kill_rounds(tmp_path, rounds=2, clients=8, seconds=1.5)


@pytest.mark.slow
def test_kill_9_under_load_repeated(tmp_path: Path) -> None:
    kill_rounds(tmp_path, rounds=10, clients=20, seconds=3)


def test_kill_9_of_two_workers_sharing_one_log_loses_no_acknowledged_decision(tmp_path: Path) -> None:
    kill_rounds(tmp_path, rounds=1, clients=8, seconds=2, workers=2)


@pytest.mark.slow
def test_kill_9_of_two_workers_repeated(tmp_path: Path) -> None:
    kill_rounds(tmp_path, rounds=10, clients=20, seconds=3, workers=2)


def _rss_kib(pid: int) -> int:
    return psutil.Process(pid).memory_info().rss // 1024


@pytest.mark.slow
def test_memory_stays_flat_over_a_ten_minute_soak(tmp_path: Path) -> None:
    """20 clients for 10 minutes against a keyed log: the server's RSS after the first two
    minutes grows by less than 16 MiB to the end (sampled every 10 s)."""
    key_file = tmp_path / "host.key"
    key_file.write_bytes(KEY)
    acked: list[str] = []
    errors: list[str] = []
    samples: list[tuple[float, int]] = []
    with live_server(ZIBO, tmp_path, "--decision-log", str(tmp_path / "d.jsonl"), "--key-file", str(key_file)) as srv:
        stop = threading.Event()
        threads = [threading.Thread(target=_load, args=(srv.base_url, stop, acked, errors, c % 4 == 3))
                   for c in range(20)]
        for th in threads:
            th.start()
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < 600:
            samples.append((elapsed, _rss_kib(srv.process.pid)))
            time.sleep(10)
        samples.append((time.monotonic() - started, _rss_kib(srv.process.pid)))
        stop.set()
        for th in threads:
            th.join(timeout=30)
    assert not errors, errors[:3]
    settled = [rss for at, rss in samples if at >= 120]
    print(f"soak: {len(acked)} decisions, RSS KiB at 0/120/600 s: {samples[0][1]}/{settled[0]}/{settled[-1]}, "
          f"max after 120 s {max(settled)}")
    assert max(settled) - settled[0] < 16 * 1024, samples


def test_entry_lines_are_the_canonical_json_of_the_entry(decided: Any) -> None:
    from nocert_rules.records.audit import entry as audit  # the line format's module

    """``entry_line`` builds the line from the body's bytes (one serialisation of the record):
    byte for byte the canonical JSON of the whole entry, and read back as an intact entry."""
    from nocert_rules.records.audit import (
        audit_mac_key,
        canonical_json,
        classify_record,
        entry_line,
        key_id,
    )

    req, decision = decided
    mac_key = audit_mac_key(KEY)
    records = [classify_record(audit_decision(req, decision, KEY).model_dump(mode="json"), KEY),
               {}, {"a": 'q"\\', "b": ["中文\u2028", 1.5, None, True]}]
    for seq, record in enumerate(records, 1):
        line, digest, mac = entry_line(seq, "0" * 64, record, mac_key)
        assert line == canonical_json({"hash": digest, "kid": key_id(mac_key), "mac": mac, "prev": "0" * 64,
                                       "record": record, "seq": seq}) + b"\n"
        parsed = audit.parse_line(line[:-1], seq)
        assert isinstance(parsed, audit.RawEntry) and parsed.intact and parsed.authentic({key_id(mac_key): mac_key})


def test_the_mask_memo_keeps_only_strings_the_mask_left_alone(decided: Any) -> None:
    from nocert_rules.records.audit import record as audit  # where records are classified

    req, decision = decided
    record = audit_decision(req, decision, KEY).model_copy(update={"outcome": {"note": "电话 370399199001011234"}})
    first = audit.classify_record(record.model_dump(mode="json"), KEY)
    second = audit.classify_record(record.model_dump(mode="json"), KEY)
    assert first == second and "370399199001011234" not in json.dumps(first, ensure_ascii=False)
    assert first["outcome"]["note"] == mask_text("电话 370399199001011234")
    assert "电话 370399199001011234" not in audit._UNMASKED
    assert decision.trace[0].rule_id in audit._UNMASKED  # a public string, scanned once


def test_prepared_appends_write_the_bytes_append_many_writes(tmp_path: Path, decided: Any) -> None:
    """``AuditLog.prepare`` + ``append_prepared`` (the service's group commit) and ``append_many``
    are one append: the same records give the same file, byte for byte, and it verifies."""
    from datetime import datetime

    from nocert_rules.models import SHANGHAI
    from nocert_rules.records.audit import AuditLog

    req, decision = decided
    at = datetime(2026, 12, 7, 9, 4, 10, 473331, tzinfo=SHANGHAI)
    records = [audit_decision(req, decision, KEY, at=at)] * 2 + [
        audit_decision(req, decision, KEY, at=at).model_copy(update={"outcome": {"note": "电话 13812345678"}})]
    one, two = AuditLog(tmp_path / "one.jsonl", KEY), AuditLog(tmp_path / "two.jsonl", KEY)
    entries = one.append_many(records) + one.append_many(records[:1])
    written = two.append_prepared([two.prepare(r) for r in records]) + two.append_prepared([two.prepare(records[0])])
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    assert b"".join(w.line for w in written) == (tmp_path / "two.jsonl").read_bytes()
    assert [(e.seq, e.prev, e.hash, e.mac) for e in entries] == [(w.seq, w.prev, w.hash, w.mac) for w in written]
    assert b"13812345678" not in (tmp_path / "two.jsonl").read_bytes()
    assert verify_log(tmp_path / "two.jsonl", keys=[KEY]).ok


def test_explain_from_memory_and_from_the_file_agree(tmp_path: Path, decided: Any) -> None:
    """The recent entries are kept as their stored lines: what ``find`` answers from memory is
    what it answers reading the file (a restarted process), for the audited and the plain log."""
    req, decision = decided
    ids = [str(uuid.UUID(int=k + 1)) for k in range(3)]
    for audited in (True, False):
        path = tmp_path / f"{audited}.jsonl"
        log = AuditedDecisionLog(path, KEY) if audited else DecisionLog(path)
        for decision_id in ids:
            log.record(decision_id, req, decision)
        remembered = [log.find(d) for d in ids]
        log.close()
        again = AuditedDecisionLog(path, KEY) if audited else DecisionLog(path)
        try:
            assert again._recalled(ids[0]) is None  # nothing in memory: read from the file
            assert [again.find(d) for d in ids] == remembered
            assert all(view is not None and view["decision_id"] == d
                       for view, d in zip(remembered, ids, strict=True))
            assert again.find(str(uuid.UUID(int=99))) is None
        finally:
            again.close()


def test_event_loop_waiters_complete_once_durable_one_call_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Durable`` waiters (the service's): completed with their values on their loop only after
    the batch's ``write`` returned, one ``call_soon_threadsafe`` per batch (not per entry); a
    failed write fails every waiter of its batch, and a cancelled waiter is left alone."""
    import asyncio

    from nocert_rules.service.decision_log import Durable, GroupCommit

    gate, written = threading.Event(), []
    fail = {"next": False}

    def write(items: list[Any]) -> None:
        gate.wait(10)
        if fail["next"]:
            raise OSError("disk full")
        written.extend(items)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        calls = []
        real = loop.call_soon_threadsafe
        monkeypatch.setattr(loop, "call_soon_threadsafe", lambda *a: calls.append(a) or real(*a))
        writer = GroupCommit(write)
        futures = [loop.create_future() for _ in range(20)]
        for i, future in enumerate(futures):
            writer.submit([i], Durable(future, f"answer-{i}"))
        await asyncio.sleep(0.05)
        assert not any(f.done() for f in futures) and written == []  # nothing durable yet
        futures[5].cancel()
        gate.set()
        results = await asyncio.gather(*futures[:5], *futures[6:])
        assert results == [f"answer-{i}" for i in range(20) if i != 5]
        assert sorted(written) == list(range(20))
        assert 1 <= len(calls) <= writer.batches < 20  # one call into the loop per batch
        fail["next"] = True
        doomed = [loop.create_future() for _ in range(3)]
        for i, future in enumerate(doomed):
            writer.submit([100 + i], Durable(future, i))
        outcomes = await asyncio.gather(*doomed, return_exceptions=True)
        assert all(isinstance(o, OSError) for o in outcomes)
        writer.close()

    asyncio.run(main())
