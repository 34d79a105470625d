"""The bytes the audit log writes for a decision, built by parts (``decision_record_json``), are
``canonical_json(classify_record(audit_decision(...).model_dump()))``: the whole record
classified and serialised, as every other record is.

The parts: each member of the record serialised alone, and each trace step (shared by the
ruleset's decisions) classified and serialised once, by identity. The tests compare the two over
the bundled sample cases on every backend this Python runs, over drawn requests holding personal
data where the log masks or pseudonymises, and check that the step memo never answers for
another step or another key.
"""

from __future__ import annotations

import gc
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sample_cases import load_cases

from nocert_rules import Engine, load_ruleset
from nocert_rules.engine.backend import durable_available
from nocert_rules.models import SHANGHAI, Decision, TraceStep, parse_request
from nocert_rules.records.audit import (
    AuditLog,
    audit_decision,
    canonical_json,
    classify_record,
    verify_log,
)
from nocert_rules.records.audit import record as audit_record
from nocert_rules.records.audit.record import decision_record_json

ROOT = Path(__file__).resolve().parent.parent
KEY = b"test-decision-bytes-key-0123456789"
OTHER_KEY = b"another-host-key-for-the-memo-987654"
BACKENDS = ["compiled", *(["durable"] if durable_available()[0] else [])]


def _whole(request: Any, decision: Decision, key: bytes, at: datetime, extra: dict[str, Any] | None = None) -> bytes:
    record = audit_decision(request, decision, key, at=at)
    if extra:
        record = record.model_copy(update={"outcome": {**record.outcome, **extra}})
    return canonical_json(classify_record(record.model_dump(mode="json"), key))


@pytest.fixture(scope="module")
def ruleset() -> Any:
    return load_ruleset(ROOT / "rulesets" / "zibo")


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_sample_case_is_written_as_the_whole_record_is(ruleset: Any, backend: str) -> None:
    engine = Engine(ruleset, backend=backend)
    at = datetime(2026, 12, 7, 14, 4, 25, 560078, tzinfo=SHANGHAI)
    methods = set()
    for i, case in enumerate(load_cases()):
        request = parse_request(case)
        decision = engine.decide(request)
        methods.add(decision.method)
        when = at + timedelta(seconds=i, microseconds=-at.microsecond if i % 3 == 0 else i)  # with and without µs
        extra = {"decision_id": f"00000000-0000-4000-8000-{i:012d}"} if i % 2 else None
        assert decision_record_json(request, decision, KEY, at=when, outcome_extra=extra) == _whole(
            request, decision, KEY, when, extra), case
    assert len(methods) >= 4  # the cases reach the methods, so their traces differ


texts = st.text(st.sampled_from("0123456789 -（）电话欧阳娜张x@."), min_size=1, max_size=30)


@settings(max_examples=150, deadline=None)
@given(request_id=st.one_of(st.none(), texts, st.sampled_from(["电话 13812345678", "卡 6222 0212 3456 7890 128"])),
       name=st.one_of(st.none(), st.sampled_from(["欧阳娜娜", "张三", "李"])),
       seconds=st.integers(0, 10**6), utc=st.booleans())
def test_drawn_requests_with_personal_data_are_written_as_the_whole_record_is(
    ruleset: Any, request_id: str | None, name: str | None, seconds: int, utc: bool
) -> None:
    case = {**load_cases()[0], "request_id": request_id}
    case["applicant"] = {**case["applicant"], "name": name}
    request = parse_request(case)
    decision = Engine(ruleset, backend="compiled").decide(request)
    at = datetime(2025, 1, 1, tzinfo=SHANGHAI) + timedelta(seconds=seconds, microseconds=seconds % 7)
    if utc:  # a time given in another zone is written in Shanghai time, as the model writes it
        at = at.astimezone(datetime.now().astimezone().tzinfo)
    written = decision_record_json(request, decision, KEY, at=at, outcome_extra={"decision_id": "d"})
    assert written == _whole(request, decision, KEY, at, {"decision_id": "d"})
    text = written.decode("utf-8")
    assert "13812345678" not in text and "6222021234567890128" not in text.replace(" ", "")
    assert (name is None or name not in text) and case["applicant"]["id_number"] not in text


def test_a_trace_step_is_remembered_by_identity_and_key(ruleset: Any) -> None:
    request = parse_request(load_cases()[0])
    decision = Engine(ruleset, backend="compiled").decide(request)
    at = datetime(2026, 1, 5, 9, tzinfo=SHANGHAI)
    decision_record_json(request, decision, KEY, at=at)
    step = decision.trace[0]
    assert audit_record._SHARED[(id(step), KEY, "trace")][0] is step
    # An equal step that is another object, with another conclusion: its own bytes, not the memo's.
    changed = TraceStep.model_validate({**step.model_dump(), "conclusion": "另一个结论 / another conclusion"})
    other = decision.model_copy(update={"trace": [changed, *decision.trace[1:]]})
    assert decision_record_json(request, other, KEY, at=at) == _whole(request, other, KEY, at)
    assert "另一个结论".encode() in decision_record_json(request, other, KEY, at=at)
    # The same step under another key is classified under that key (pseudonymised hashes differ).
    assert decision_record_json(request, decision, OTHER_KEY, at=at) == _whole(request, decision, OTHER_KEY, at)


def test_the_ruleset_stamp_is_remembered_by_identity_and_another_days_stamp_is_its_own(ruleset: Any) -> None:
    engine = Engine(ruleset, backend="compiled")
    request = parse_request(load_cases()[0])
    later = parse_request({**load_cases()[0], "requested_at": "2022-03-01T10:00"})
    at = datetime(2026, 1, 5, 9, tzinfo=SHANGHAI)
    first, second = engine.decide(request), engine.decide(later)
    assert first.ruleset != second.ruleset  # the list's date is the request's day
    for req, dec in ((request, first), (later, second), (request, first)):
        assert decision_record_json(req, dec, KEY, at=at) == _whole(req, dec, KEY, at)
    assert audit_record._SHARED[(id(first.ruleset), KEY, "ruleset")][0] is first.ruleset
    assert second.ruleset.model_dump(mode="json")["effective_date"] in decision_record_json(
        later, second, KEY, at=at).decode("utf-8")


def test_a_forgotten_step_whose_id_is_reused_is_not_answered_from_the_memo(ruleset: Any) -> None:
    """The memo keeps the step beside its bytes; an entry whose step is not the one asked about
    (as after the step was freed and its id reused) is recomputed."""
    request = parse_request(load_cases()[0])
    decision = Engine(ruleset, backend="compiled").decide(request)
    at = datetime(2026, 1, 5, 9, tzinfo=SHANGHAI)
    step = decision.trace[0]
    impostor = TraceStep.model_validate({**step.model_dump(), "conclusion": "冒名 / impostor"})
    audit_record._SHARED[(id(step), KEY, "trace")] = (impostor, b'{"bogus":true}')
    try:
        assert decision_record_json(request, decision, KEY, at=at) == _whole(request, decision, KEY, at)
    finally:
        audit_record._SHARED.clear()
        gc.collect()


def test_the_memo_is_bounded(ruleset: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_record, "_SHARED_MAX", 3)
    audit_record._SHARED.clear()
    request = parse_request(load_cases()[0])
    decision = Engine(ruleset, backend="compiled").decide(request)
    at = datetime(2026, 1, 5, 9, tzinfo=SHANGHAI)
    for i in range(10):
        step = TraceStep.model_validate({**decision.trace[0].model_dump(), "conclusion": f"第{i}步"})
        decision_record_json(request, decision.model_copy(update={"trace": [step]}), KEY, at=at)
        assert len(audit_record._SHARED) <= 3


def test_the_log_writes_the_bytes_and_they_verify(ruleset: Any, tmp_path: Path) -> None:
    engine = Engine(ruleset, backend="compiled")
    log = AuditLog(tmp_path / "audit.jsonl", KEY)
    at = datetime(2026, 3, 2, 10, 30, tzinfo=SHANGHAI)
    entries = []
    for case in load_cases()[:50]:
        request = parse_request(case)
        decision = engine.decide(request)
        entries.append(log.append_decision(request, decision, at=at))
        assert canonical_json(entries[-1].record) == _whole(request, decision, KEY, at)
    prepared = log.prepare_decision(request, decision, at=at, outcome_extra={"decision_id": "x-1"})
    log.append_prepared([prepared])
    report = verify_log(tmp_path / "audit.jsonl", key=KEY)
    assert report.ok and report.authenticated and report.records == 51, report
    last = json.loads((tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert last["record"]["outcome"]["decision_id"] == "x-1"


_leaf_values = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False), st.sampled_from([0.0, -0.0, 1.0]),
    st.text(st.sampled_from("0123456789 -电话欧阳x@."), max_size=20),
    st.sampled_from(["13812345678", "欧阳娜娜 13812345678", "370302199001011232", "hmac-sha256:" + "a" * 64]),
)
_keys = st.sampled_from(["id_number", "name", "applicant", "method", "note", "clause_id", "13812345678", "k"])
_dicts = st.recursive(
    st.dictionaries(_keys, _leaf_values, max_size=6),
    lambda inner: st.dictionaries(_keys, st.one_of(_leaf_values, inner, st.lists(_leaf_values, max_size=3)), max_size=6),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=_dicts, field=st.sampled_from(["inputs", "outcome", "applicant"]))
def test_a_dict_by_members_is_the_dict_classified_whole(value: dict[str, Any], field: str) -> None:
    """``_dict_json`` (the members of ``inputs`` and ``outcome``, leaves remembered) writes what
    classifying the whole dict and serialising it writes, twice (the second time from the memo),
    and remembers no leaf the mask changes (nothing personal is kept)."""
    whole = canonical_json(audit_record._classified(value, KEY, field, ""))
    assert audit_record._dict_json(value, KEY, field) == whole
    assert audit_record._dict_json(value, KEY, field) == whole
    for (_k, kind, v), _member in audit_record._LEAVES.items():
        assert kind is not float
        assert kind is not str or audit_record._masked(v) == v


def test_true_and_one_are_remembered_apart() -> None:
    """``True == 1`` in Python, but not in JSON: the leaf memo keys on the type too."""
    assert audit_record._dict_json({"k": 1}, KEY, "outcome") == b'{"k":1}'
    assert audit_record._dict_json({"k": True}, KEY, "outcome") == b'{"k":true}'
    assert audit_record._dict_json({"k": 1}, KEY, "outcome") == b'{"k":1}'
