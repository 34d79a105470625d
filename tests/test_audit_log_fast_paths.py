"""The audit log's scans that answer at once agree with the full scan they skip.

- ``privacy.personal_spans`` on a string that is one opaque token whole (a UUID such as a
  ``decision_id``, a hash): ``[]`` at once (``privacy._one_token``), as the full scan gives;
- ``records.audit.record._masked`` on a record's time (``at``) and on a UUID (a
  ``decision_id``): left as it is without a scan (``_NEW_EACH_TIME``), as ``mask_text`` leaves it,
  and never remembered;
- ``records.audit.entry.canonical_json`` with its C encoder built once: the bytes of
  ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``, and the same
  again through the pure-Python encoder (where there is no C one);
- ``privacy.normalise`` and ``privacy._folded`` of an ASCII text with no separator, or of CJK
  Unified Ideographs only (a name): the text itself, as the full fold.
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


lowercase_uuids = st.one_of(
    uuids.map(str.lower),
    st.builds(lambda u: str(uuid.UUID(int=u)), st.integers(0, 2**128 - 1)),
    st.from_regex(audit_record.UUID_TEXT, fullmatch=True),
)


@settings(max_examples=600, deadline=None)
@given(lowercase_uuids)
def test_a_uuid_is_left_as_the_scan_leaves_it_and_never_remembered(text: str) -> None:
    audit_record._UNMASKED.pop(text, None)
    assert audit_record._NEW_EACH_TIME.fullmatch(text)
    assert audit_record._masked(text) == mask_text(text) == text
    assert _slow_spans(text) == []  # the full scan, not only privacy's own fast path
    assert audit_record.left_unmasked(text)
    assert text not in audit_record._UNMASKED  # each decision id is new: never remembered


def test_the_uuid_fast_path_is_only_for_a_whole_lowercase_uuid() -> None:
    one = "56002b88-7dd6-4907-8390-519397ee1a4d"
    for text in (one.upper(), one + " 13812345678", "13812345678 " + one, one[:-1], one.replace("-", "")):
        assert not audit_record._NEW_EACH_TIME.fullmatch(text)
        assert audit_record._masked(text) == mask_text(text)
    assert audit_record._masked(one + " 13812345678") != one + " 13812345678"


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


def _full_fold(text: str) -> privacy.Folded:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(privacy, "_unchanged_by_fold", lambda _text: False)
        return privacy._folded(text)


def test_every_cjk_unified_ideograph_is_its_own_full_fold() -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(privacy, "_unchanged_by_fold", lambda _text: False)
        changed = [hex(c) for c in range(0x4E00, 0xA000) if privacy._folded(chr(c)) != (chr(c), [0], [1], {})]
    assert changed == []


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.text(alphabet=st.characters(max_codepoint=127), max_size=30),
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=12),
    st.text(alphabet=st.sampled_from("张三丰欧阳娜·・ 　\u0301\u200b豈１2-a"), max_size=12),
))
def test_a_text_the_fold_leaves_alone_is_answered_as_the_full_fold(text: str) -> None:
    full = _full_fold(text)
    assert privacy._folded(text) == full
    assert privacy.normalise(text) == full.text
    if privacy._unchanged_by_fold(text):
        assert full.text == text and not full.cuts


def test_a_name_with_a_separator_or_compatibility_ideograph_is_folded() -> None:
    for name, folded in (("阿依·买买提", "阿依买买提"), ("张\u3000三", "张三"), ("\uf900山", "\u8c48山"), ("张三\u200b", "张三")):
        assert not privacy._unchanged_by_fold(name)
        assert privacy.normalise(name) == folded == _full_fold(name).text
