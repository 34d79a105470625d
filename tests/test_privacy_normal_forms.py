"""Personal data written in another Unicode form is still found (issue 25, rows 1 and 2).

The same name or number can be written in several ways a reader cannot tell apart: ``é`` as one
character (NFC) or as ``e`` and a combining accent (NFD), ``金`` as the unified ideograph U+91D1
or as the compatibility ideograph U+F90A, a digit under a combining mark (``3`` + U+0301, ``8``
in an enclosing circle U+20DD). ``privacy`` folds a character together with its marks (NFKC
composes them; the marks left over are dropped), so each of these is masked, refused or hashed
like the plain form. Before, each came back in clear.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from nocert_rules import Engine, load_ruleset
from nocert_rules.models import parse_request
from nocert_rules.privacy import find_id_number, keyed_hash, mask_known, mask_text, normalise

ROOT = Path(__file__).resolve().parents[1]
KEY = b"normal-forms-test-key-0123456789"
ID = "370302199001011232"
NAME_NFC = "José Martí"
NAME_NFD = unicodedata.normalize("NFD", NAME_NFC)
assert NAME_NFC != NAME_NFD


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_ruleset(ROOT / "rulesets" / "zibo"))


def _request(name: str, request_id: str) -> dict[str, object]:
    return {
        "service_item": "370300-XK-0005", "certificate": "ZM-SF-0001", "requested_at": "2021-05-05T16:00",
        "applicant": {"kind": "person", "id_number": "370399195705297620", "name": name},
        "request_id": request_id,
    }


@pytest.mark.parametrize(("held", "written"), [
    (NAME_NFC, NAME_NFD),  # the record holds the composed name, the text repeats it decomposed
    (NAME_NFD, NAME_NFC),  # and the other way round
    ("金英洋", "\uf90a英洋"),  # the text writes 金 as the compatibility ideograph U+F90A
    ("\uf90a英洋", "金英洋"),
])
def test_a_name_in_another_form_is_masked_in_the_decision(engine: Engine, held: str, written: str) -> None:
    decision = engine.decide(parse_request(_request(held, f"件-{written}-01")))
    shown = decision.model_dump_json()
    assert unicodedata.normalize("NFKC", written) not in unicodedata.normalize("NFKC", json.loads(shown)["request_id"])
    assert decision.request_id.startswith("件-") and decision.request_id.endswith("-01")
    assert "*" in decision.request_id


def test_a_name_split_by_a_zero_width_character_inside_its_accent_is_masked() -> None:
    # e, ZERO WIDTH SPACE, COMBINING ACUTE: the reader sees é; the zero-width character is skipped.
    assert mask_known("申请人 e\u200b\u0301mile 来电", ["émile"]) == "申请人 é**** 来电"


def test_the_mask_covers_the_marks_of_the_last_character() -> None:
    # The span ends after the accent of the last letter: no stray mark is left on a '*'.
    assert mask_known("Jose\u0301", ["José"]) == "J***"
    assert mask_known("José", ["Jose\u0301"]) == "J***"


def test_the_keyed_hash_of_a_name_is_the_same_in_every_form() -> None:
    assert keyed_hash(NAME_NFC, KEY) == keyed_hash(NAME_NFD, KEY)
    assert keyed_hash("金英洋", KEY) == keyed_hash("\uf90a英洋", KEY)
    assert keyed_hash("金英洋", KEY) != keyed_hash("金英海", KEY)


@pytest.mark.parametrize("mark", ["\u0301", "\u0332", "\u20dd", "\u0323"])
def test_an_id_number_under_combining_marks_is_refused_and_masked(mark: str) -> None:
    written = "".join(c + mark for c in ID)
    assert find_id_number(written) == ID
    assert find_id_number(f"证件号 {written} 请核实") == ID
    shown = mask_text(f"证件号 {written}")
    assert shown == "证件号 370*************32"


def test_a_phone_number_and_an_address_under_combining_marks_are_masked() -> None:
    phone = "".join(c + "\u20dd" for c in "13812345678")
    assert mask_text(f"电话 {phone}") == "电话 138****5678"
    address = "zhang\u0332san@exa\u0301mple.com"  # the domain, an organisation's, is shown (NFKC: á)
    assert mask_text(f"邮箱 {address}") == "邮箱 z***@ex\u00e1mple.com"


def test_a_space_under_a_mark_still_separates_the_groups_of_a_card_number() -> None:
    # 6222 0212 3456 7890 123 (Luhn-valid), one space carrying an accent.
    card = "6222021234567890128"
    written = f"{card[:4]} \u0301{card[4:8]} {card[8:12]} {card[12:16]} {card[16:]}"
    assert mask_text(f"卡号 {written}").count("*") >= 11
    assert card[4:12] not in mask_text(f"卡号 {written}").replace(" ", "").replace("\u0301", "")


# ---------------------------------------------------------------- the edges of the fold


def test_a_held_value_written_decomposed_at_its_first_character_is_found() -> None:
    # The record holds the name decomposed (E, U+0301), or with a zero-width character inside
    # the accent; the text writes it composed: the pre-check folds the first character with its
    # marks (É), not the bare E.
    for held in ("E\u0301mile", "E\u200b\u0301mile"):
        assert mask_known("申请人 Émile 来电", [held]) == "申请人 É**** 来电", held
        assert mask_known("申请人 É mile 来电", [held]) == "申请人 É**** 来电", held  # spaced
    assert mask_known("申请人 Émile 来电", ["Emile"]) == "申请人 Émile 来电"  # another name


def test_a_mark_at_the_start_or_on_the_first_character_folds_as_it_reads() -> None:
    assert normalise("\u0301张三") == "张三"  # nothing before it: it goes with nothing
    assert normalise("e\u0301mile") == "émile"  # the first character of the text takes its accent
    assert normalise("\u5f20\u0301\u0301三") == "张三"


def test_a_mark_on_a_separator_keeps_the_separator_s_kind() -> None:
    # A comma ends a number, with or without an accent on it; a space (or two) inside a phone
    # number is a gap, with or without an enclosing circle on it.
    assert mask_text("编号 1381234,\u03015678") == "编号 1381234,\u03015678"
    assert mask_text("电话 138 1234  5678") == "电话 138****5678"
    assert mask_text("电话 138 \u20dd1234 5678") == "电话 138****5678"
    assert mask_text("电话 138 \u03011234 5678") == "电话 138****5678"


def test_the_masked_address_shows_its_domain_without_marks() -> None:
    for mark in ("\u0332", "\u20dd"):
        assert mask_text(f"邮箱 zhangsan@ex{mark}ample.com") == "邮箱 z***@example.com", mark


def test_a_held_number_is_found_in_digits_that_are_not_ascii() -> None:
    # Arabic-Indic digits are NFKC already: only the digit check lets the search run.
    assert mask_known("编号 ٣٧٠٣٩٩١٢", ["37039912"]) == "编号 3******2"
    assert mask_known("编号 ١٢٣٤", ["37039912"]) == "编号 ١٢٣٤"


def test_a_held_value_beyond_the_full_width_range_is_looked_for_without_error() -> None:
    # The full-width form exists for ASCII only; a first character near U+10FFFF has none.
    assert mask_known("编号 x", ["\U0010fffd\U0010fffd"]) == "编号 x"
    assert mask_known("编号 \U0010fffd\U0010fffd", ["\U0010fffd\U0010fffd"]) == "编号 \U0010fffd*"
