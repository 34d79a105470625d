"""nocert_rules.privacy: what is refused (a real GB 11643 ID number), what is masked (anything
ID-shaped), what passes (credit codes, implementation codes, hashes), and control escaping."""

from __future__ import annotations

import os

import pytest
from conftest import PERSON_ID, VALID_PERSON_ID
from hypothesis import given
from hypothesis import strategies as st

from nocert_rules.privacy import (
    contains_id_number,
    is_credit_code,
    is_id_number,
    keyed_hash,
    mask_text,
    printable,
    same_person,
)

KEY = b"privacy-test-key-0123456789abcde"


@pytest.mark.parametrize(
    ("value", "real"),
    [
        (VALID_PERSON_ID, True),
        (PERSON_ID, False),  # wrong check digit
        ("370399199002301231", False),  # 30 February
        ("990399199001011234", False),  # no province 99
        ("37039919900101123x", False),
        ("37039919900101001X", True),
        ("370399900101123", True),  # old 15-digit form
        ("370399901301123", False),  # month 13
        ("３７０３９９１９９００１０１１２３１", True),  # full-width
        ("370399 1990-0101 1231", True),  # separators dropped
        ("3703\u200b99199001011231", True),  # zero-width space dropped
    ],
)
def test_is_id_number(value: str, real: bool) -> None:
    assert is_id_number(value) is real


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("91370300MA3C12346N", True),
        ("91370300MA3C1234XY", False),  # wrong check character
        ("123711199001012109", True),  # all digits, and also a valid-looking ID number
        ("11370300004188209X", False),
    ],
)
def test_is_credit_code(value: str, valid: bool) -> None:
    assert is_credit_code(value) is valid


@pytest.mark.parametrize(
    "text",
    [
        "11370300004188209X4370111001001000",  # national implementation code
        "91370300MA3C12346N",
        "123711199001012109",  # a credit code wins over the ID number it resembles
        "2021-000123",
        "370300-XK-0013",
    ],
)
def test_legitimate_codes_are_not_refused(text: str) -> None:
    assert not contains_id_number(text)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"申请人 {PERSON_ID}", "申请人 370*************34"),
        (f"C{PERSON_ID}", "C370*************34"),
        ("370399 19900101 1234", "370*************34"),
        ("３７０３９９１９９００１０１１２３４", "370*************34"),
        ("".join(chr(0x0660 + int(c)) for c in PERSON_ID), "370*************34"),
        ("3703\u200b99199001011234", "370*************34"),
        (f"{PERSON_ID}, {PERSON_ID[:-1]}5", "370*************34, 370*************35"),  # joined by separators
        (f"0{VALID_PERSON_ID}9", "0370*************319"),  # a valid number inside a longer run
        ("370399900101123", "370**********23"),
        ("11370300004188209X4370111001001000", "11370300004188209X4370111001001000"),
        ("2021-05-06 10:00:00", "2021-05-06 10:00:00"),
        ("hmac-sha256:" + "3" * 64, "hmac-sha256:" + "3" * 64),
    ],
)
def test_mask_text(text: str, shown: str) -> None:
    assert mask_text(text) == shown


def test_keyed_hash_normalises_and_links_only_the_same_person() -> None:
    ref = keyed_hash(VALID_PERSON_ID, KEY)
    assert keyed_hash("３７０３９９１９９００１０１１２３１", KEY) == ref
    assert same_person(VALID_PERSON_ID, ref, KEY)
    assert not same_person("370999888877776631", ref, KEY)
    assert not same_person(VALID_PERSON_ID, ref, b"another-key-0123456789abcdefgh")


def test_printable_escapes_terminal_controls() -> None:
    assert printable("a\x1b[31mb\rc\x00\x9b\u202e") == "a\\x1b[31mb\\x0dc\\x00\\x9b\\u202e"
    assert printable("line\nnext\t", keep_newlines=True) == "line\nnext\t"
    assert printable("line\n") == "line\\x0a"


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_ascii_fast_path_folds_like_the_general_loop(text: str) -> None:
    # A leading zero-width space forces the general loop; it drops the character without a cut.
    from nocert_rules.privacy import _folded

    fast = _folded(text)
    general = _folded("\u200b" + text)
    assert general.text == fast.text and general.cuts == fast.cuts
    assert [i - 1 for i in general.starts] == fast.starts
    assert [i - 1 for i in general.ends] == fast.ends


# ---------------------------------------------------------------- issue 25 row 1: one detector


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("电话 13812345678", "电话 138****5678"),
        ("电话13812345678。", "电话138****5678。"),
        ("+86 138-1234-5678", "+86138****5678"),
        ("0086 138 1234 5678", "0086138****5678"),
        ("８６１３８１２３４５６７８", "86138****5678"),
        ("１３８\u200b１２３４\u200d５６７８", "138****5678"),
        ("1 3 8 1 2 3 4 5 6 7 8", "138****5678"),
        ("(13812345678)", "(138****5678)"),
        ("13812345678,13912345678", "138****5678,139****5678"),
        ("座机 0533-1234567", "座机 053****4567"),
        ("(010)12345678", "010****5678"),
        ("（0533）1234567-801", "053****4567-801"),
        ("+86 533 1234567", "+86533***4567"),
        ("卡号 6222 0212 3456 7890 128", "卡号 6222***********0128"),
        ("6222021234567890128", "6222***********0128"),
        ("邮箱 zhang.san@example.com，电话", "邮箱 z***@example.com，电话"),
        ("ｚｈａｎｇ＠ｑｑ．ｃｏｍ", "z***@qq.com"),
        ("zhang @ qq . com", "z***@qq.com"),
        ("z\u200bhang@q\u200bq.com", "z***@qq.com"),
    ],
)
def test_mask_text_masks_phones_cards_and_e_mail(text: str, shown: str) -> None:
    assert mask_text(text) == shown


LEGITIMATE = [
    "370300-QR-0002",
    "370300-XK-0013",
    "ZM-CW-0008",
    "91370300MA3C12346N",
    "11370300004188209X4370111001001000",  # implementation code: its tail is no card
    "实施编码 11370300004188209X4370111001001000",
    "2021-000123",
    "REQ-2021-000123",
    "2021-05-06 13:00:00",
    "2021-05-06T10:00:00+08:00",
    "20210101-20211231",
    "2021年5月6日",
    "金额 13,812,345,678.00 元",
    "13812345678.00元",  # an amount: the decimal point joins the digits
    "¥1,234,567.89",
    "淄政办发〔2021〕12号",
    "decision 550e8400-e29b-41d4-a716-446655440000",
    "record " + "0123456789abcdef" * 2,
    "sha256 " + "1" * 64,
    "aaaaaaaaaa@",
    "12345",
]


@pytest.mark.parametrize("text", LEGITIMATE)
def test_legitimate_codes_dates_and_amounts_are_left_alone(text: str) -> None:
    assert mask_text(text) == text
    assert mask_text(text, keep_credit_codes=True) == text
    assert not contains_id_number(text)


def test_an_all_digit_credit_code_is_kept_in_code_fields_even_when_it_passes_luhn() -> None:
    from nocert_rules.privacy import luhn_ok

    code = "123711199001012109"
    assert is_credit_code(code)
    assert mask_text(code, keep_credit_codes=True) == code
    assert luhn_ok("6222021234567890128") and not luhn_ok("6222021234567890127")


def test_names_a_record_holds_are_masked_wherever_its_text_repeats_them() -> None:
    from nocert_rules.privacy import mask_known

    text = "欧阳娜娜（电话13812345678）反映：欧 阳\u200b娜娜"
    assert mask_text(text, personal=["欧阳娜娜"]) == "欧***（电话138****5678）反映：欧***"
    assert mask_known(text, ["欧阳娜娜"]) == "欧***（电话13812345678）反映：欧***"  # the name only
    assert mask_text(text) == "欧阳娜娜（电话138****5678）反映：欧 阳\u200b娜娜"  # unknown names stay
    assert mask_text("李娜来电", personal=["", " ", "李"]) == "李娜来电"  # too short to look for


# The mutmut job (tests/mutmut_fastest_first.py) runs these on a tenth of the text: its
# trampolines make every call slower, and a quadratic scan of 10,000 characters still takes minutes.
_SCALE = int(os.environ.get("NOCERT_HOSTILE_SCALE", "10"))


@pytest.mark.parametrize(
    "hostile",
    ["a" * (10_000 * _SCALE) + "@", "1 " * (5_000 * _SCALE), "13812345678 a " * (500 * _SCALE), "@" * (5_000 * _SCALE),
     "a.@" * (2_000 * _SCALE), "1-" * (5_000 * _SCALE) + "@"],
)
def test_hostile_texts_are_scanned_in_linear_time(hostile: str) -> None:
    import time

    start = time.process_time()
    mask_text(hostile)
    assert time.process_time() - start < 20  # quadratic scans took minutes


# ---------------------------------------------------------------- killing mutants (docs/mutation-testing.md)


@pytest.mark.parametrize(
    ("number", "ok"),
    [("79927398713", True), ("79927398710", False), ("4111111111111111", True), ("4111111111111112", False),
     ("6222021234567890128", True), ("5555555555554444", True), ("5555555555554445", False), ("0", True),
     ("18", True), ("59", True), ("26", True), ("19", False)],
)
def test_luhn(number: str, ok: bool) -> None:
    from nocert_rules.privacy import luhn_ok

    assert luhn_ok(number) is ok


def test_is_id_number_refuses_other_lengths_and_shapes() -> None:
    assert not is_id_number("3703999001011234")  # 16 digits: neither form
    assert not is_id_number("37039990010112")  # 14
    assert not is_id_number("abc") and not is_id_number("")
    assert not is_id_number("37039919900101123Y") and not is_id_number("3703991990010112X1")


def test_keyed_hash_is_hmac_sha256_of_the_upper_cased_normalised_value() -> None:
    import hashlib
    import hmac

    number = "37039919900101001X"
    want = "hmac-sha256:" + hmac.new(KEY, number.encode(), hashlib.sha256).hexdigest()
    assert keyed_hash(number.lower(), KEY) == keyed_hash("３７０３９９ 1990 0101 001x", KEY) == want


def test_mask_email_folds_the_domain() -> None:
    assert mask_text("邮箱 zhang@qq。com") == "邮箱 z***@qq.com"
    assert mask_text("邮箱 Ｚhang＠ｅｘａｍｐｌｅ．ｃｎ，") == "邮箱 Z***@example.cn，"


def test_mask_known_finds_a_value_only_its_disguise_repeats() -> None:
    from nocert_rules.privacy import mask_known

    assert mask_known("来电：欧 阳\u200b娜娜", ["欧阳娜娜"]) == "来电：欧***"
    assert mask_known("caller Ｌｉ　Ｎａ, again", ["Li Na"]) == "caller L***, again"
    assert mask_known("caller Li Na", ["Ｌｉ Ｎａ"]) == "caller L***"
    assert mask_known("欧阳娜娜来电", ["欧阳", "阳娜娜"]) == "欧***来电"  # overlapping values: masked as one
    assert mask_text("x13812345678", personal=["x1381"]) == "x" + "*" * 11  # a value and a phone overlapping
    assert mask_text("13812345678号", personal=["5678号"]) == "138*******8号"  # digits first: as an ID
    assert mask_known("张三来电", ["李四"]) == "张三来电" and mask_known("张三", [" "]) == "张三"


def test_mask_name_and_mask_id_of_short_values() -> None:
    from nocert_rules.privacy import mask_id, mask_name

    assert mask_name("") == "" and mask_name(" 张三丰 ") == "张**" and mask_name("李") == "李"
    assert mask_id("12") == "**" and mask_id("1234") == "1**4" and mask_id("123456789") == "1*******9"
    assert mask_id("1234567890") == "123*****90"
