"""The audit log's scans that answer at once agree with the full scan they skip.

- ``privacy.personal_spans`` on a string that is one opaque token whole (a UUID such as a
  ``decision_id``, a hash): ``[]`` at once (``privacy._one_token``), as the full scan gives;
- ``records.audit.record._masked`` on a record's time (``at``): left as it is without a scan
  (``_SHANGHAI_TIME``), as ``mask_text`` leaves it;
- ``records.audit.entry.canonical_json`` with its C encoder built once: the bytes of
  ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``, and the same
  again through the pure-Python encoder (where there is no C one);
- ``privacy.normalise`` of an ASCII text with no separator: the text itself, as the full fold.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nocert_rules import privacy
from nocert_rules.models import SHANGHAI
from nocert_rules.privacy import mask_text, personal_spans
from nocert_rules.records.audit import entry as audit_entry
from nocert_rules.records.audit import record as audit_record

HEX = "0123456789abcdef"
DIGITS = "0123456789"
# digit-heavy hex: the tokens most like an ID, phone or card number (the ones the scan finds spans in)
hexes = st.text(alphabet=st.sampled_from(HEX + DIGITS * 6), min_size=1, max_size=1)


def _hex(n: int, upper: bool = False) -> st.SearchStrategy[str]:
    alphabet = HEX + DIGITS * 6 + ("ABCDEF" if upper else "")
    return st.text(alphabet=alphabet, min_size=n, max_size=n)


uuids = st.tuples(_hex(8, True), _hex(4, True), _hex(4, True), _hex(4, True), _hex(12, True)).map("-".join)
tokens = st.one_of(
    uuids,
    st.builds(lambda u: str(uuid.UUID(int=u)), st.integers(0, 2**128 - 1)),
    _hex(64),
    _hex(64).map(lambda h: "hmac-sha256:" + h),
    st.tuples(_hex(31), st.sampled_from("abcdef"), st.sampled_from(["", "0123abcd", "99999999"])).map("".join),
)


def _slow_spans(text: str, **options: object) -> list[tuple[int, int, str]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(privacy, "_one_token", lambda _text: False)
        return personal_spans(text, **options)  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None)
@given(tokens, st.booleans(), st.data())
def test_a_whole_token_is_answered_at_once_as_the_full_scan_answers(token: str, keep: bool, data: st.DataObject) -> None:
    assert privacy._one_token(token)
    # a value the record holds that the token happens to contain is dropped by the scan too
    start = data.draw(st.integers(0, len(token) - 1))
    personal = ("", token[start : start + data.draw(st.integers(1, 12))])
    for options in ({}, {"keep_credit_codes": keep}, {"personal": personal}):
        assert personal_spans(token, **options) == _slow_spans(token, **options) == []  # type: ignore[arg-type]
    assert mask_text(token) == token


@settings(max_examples=200, deadline=None)
@given(tokens, st.sampled_from([" 13812345678", "x", "-370399199001011234", " a@b.cn", "0"]))
def test_a_token_with_more_around_it_is_scanned_whole(token: str, more: str) -> None:
    for text in (token + more, more.strip() + " " + token):
        assert not privacy._one_token(text)
        assert personal_spans(text) == _slow_spans(text)
    assert mask_text(token + " 13812345678") != token + " 13812345678"


def test_a_drawn_decision_id_needs_no_scan() -> None:
    # the UUID once masked before privacy protected UUIDs: the fast path and the scan agree on it
    once = "56002b88-7dd6-4907-8390-519397ee1a4d"
    assert privacy._one_token(once) and _slow_spans(once) == [] and mask_text(once) == once


times = st.from_regex(audit_record._SHANGHAI_TIME, fullmatch=True)


@settings(max_examples=600, deadline=None)
@given(st.one_of(times, st.builds(
    lambda us: (datetime(1, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)).astimezone(SHANGHAI).isoformat(),
    st.integers(8 * 3600 * 10**6, (datetime(9999, 12, 30, tzinfo=UTC) - datetime(1, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)),
)))
def test_a_record_time_is_left_as_the_scan_leaves_it(at: str) -> None:
    assert audit_record._masked(at) == mask_text(at)  # the scan the fast path skips
    if at.endswith("+08:00"):  # (before 1901, Shanghai's offset was local mean time: scanned)
        assert audit_record._SHANGHAI_TIME.fullmatch(at)
        assert mask_text(at) == at
        assert at not in audit_record._UNMASKED  # a time is never remembered


def test_the_time_fast_path_is_only_for_record_times() -> None:
    for text in ("2026-12-07T09:04:10.473331+08:00 13812345678", "13812345678", "2026-12-07 09:04:10"):
        assert not audit_record._SHANGHAI_TIME.fullmatch(text)
        assert audit_record._masked(text) == mask_text(text)


def _classified_one_call_a_node(value: object, key: bytes, field: object, parent: object) -> object:
    """The walk as it was written before its loops did the leaves (one call per node): the reference."""
    if isinstance(value, str):
        if field in audit_record._PSEUDONYMISED_KEYS and audit_record._class_of(field, parent) == "pseudonymised":
            return value if audit_record._KEYED.match(value) else privacy.keyed_hash(value, key)
        return audit_record._masked(value)
    if isinstance(value, dict):
        return {k if not isinstance(k, str) else audit_record._masked(k): _classified_one_call_a_node(v, key, k, field)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_classified_one_call_a_node(v, key, field, parent) for v in value]
    return value


_KEYS = st.sampled_from([*audit_record.FIELD_CLASSES, "applicant", "name", "inputs", "outcome", "note", "records",
                         "电话 13812345678", "370399199001011234", "x"]).map(lambda k: k.rsplit(".", 1)[-1])
_TEXTS = st.one_of(
    st.sampled_from(["370399199001011234", "张三丰", "电话 13812345678", "hmac-sha256:" + "a" * 64, "", "ZM-SF-0001",
                     "56002b88-7dd6-4907-8390-519397ee1a4d", "2026-12-07T09:04:10.473331+08:00", "a@b.cn"]),
    st.text(max_size=20),
)
_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _TEXTS),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=5)),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_KEYS, _JSON, max_size=6))
def test_the_record_walk_classifies_as_one_call_a_node_does(payload: dict[str, object]) -> None:
    key = b"fast-paths-test-key-0123456789abcdef"
    assert audit_record.classify_record(payload, key) == _classified_one_call_a_node(payload, key, "", "")


json_data = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_data)
def test_canonical_json_with_its_encoder_built_once_writes_what_json_dumps_writes(obj: object) -> None:
    want = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert audit_entry.canonical_json(obj) == want
    assert audit_entry.canonical_json(obj) == want  # the encoder keeps no state between calls
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(audit_entry, "_ENCODE", None)
        assert audit_entry.canonical_json(obj) == want


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=30))
def test_normalise_of_an_ascii_text_is_the_full_fold(text: str) -> None:
    assert privacy.normalise(text) == privacy._folded(text).text
