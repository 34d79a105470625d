"""Tests for mutants of ``privacy.py`` that survived the first mutmut run (docs/mutation-testing.md):
credit-code structure, the 15-digit birth date, separators inside numbers, windows between
separators."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

from nocert_rules.privacy import (
    contains_id_number,
    find_id_number,
    is_credit_code,
    is_id_number,
    mask_text,
    normalise,
    personal_spans,
)

CC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_code(head: str, division: str, org8: str) -> str:
    c = (11 - sum(int(ch, 36) * w for ch, w in zip(org8, [3, 7, 9, 10, 5, 8, 4, 2], strict=True)) % 11) % 11
    first17 = head + division + org8 + ("X" if c == 10 else str(c))
    total = sum(CC_CHARS.index(ch) * 3 ** i % 31 for i, ch in enumerate(first17))
    return first17 + CC_CHARS[(31 - total % 31) % 31]


@pytest.mark.parametrize(
    ("head", "division", "ok"),
    [("91", "370300", True), ("Y1", "370300", True), ("11", "100000", True), ("B1", "370300", False),
     ("90", "370300", False), ("9A", "370300", False), ("91", "3703A0", False), ("91", "990300", False),
     ("91", "100001", False), ("01", "370300", False)],
)
def test_credit_code_structure(head: str, division: str, ok: bool) -> None:
    assert is_credit_code(credit_code(head, division, "MA3C1234")) is ok


def test_the_organisation_code_is_characters_9_to_17() -> None:
    code = credit_code("91", "370300", "MA3C1234")
    assert is_credit_code(code)
    assert not is_credit_code(code[:8] + "0" + code[9:])  # one character of the organisation code


@pytest.mark.parametrize(("number", "real"), [("370303040229123", True), ("370303050229123", False),
                                              ("370303000229123", False), ("370303990101123", True)])
def test_the_15_digit_birth_date_is_19yy(number: str, real: bool) -> None:
    assert is_id_number(number) is real  # 1904-02-29 existed, 1905-02-29 did not, 1900 was no leap year
    assert not is_id_number("370303010229123")  # 1901-02-29


def test_a_comma_inside_a_number_is_no_gap() -> None:
    assert mask_text("金额13,812,345,678元") == "金额13,812,345,678元"
    assert mask_text("电话\u168013812345678") == "电话\u1680138****5678"  # ogham space: a Zs separator


@pytest.mark.parametrize("sep", [" ", "-", "/"])
def test_windows_between_separators(sep: str) -> None:
    x_id = "37039919900101001X"
    assert find_id_number(f"12{sep}{x_id}{sep}34") == x_id
    assert find_id_number(f"12{sep}{x_id.lower()}{sep}34") == x_id.lower()
    assert "0101001" not in mask_text(f"99{sep}{x_id}{sep}5")
    old = "370399900101123"
    assert find_id_number(f"1234{sep}{old}{sep}5678") == old
    assert contains_id_number(f"5{sep}{old}")
    assert not contains_id_number(f"1234{sep}37039A900101123{sep}5678")
    assert not contains_id_number(f"1{sep}070399900101123{sep}2")  # no ID number starts with 0
    assert not contains_id_number(f"1{sep}990399900101123{sep}2")  # no province 99
    assert not contains_id_number(f"1{sep}370399199001011235{sep}2")  # wrong check character


# ---------------------------------------------------------------- survivors of the second run (docs/mutation-testing.md)


@pytest.mark.parametrize(("number", "real"), [("370303960229123", True), ("370303200229123", True),
                                              ("370303020229123", False), ("370303060229123", False)])
def test_the_15_digit_year_is_both_digits(number: str, real: bool) -> None:
    # 1996 and 1920 were leap years, 1902 and 1906 were not: a year read from one digit, or from
    # three, tells them apart wrongly.
    assert is_id_number(number) is real


@pytest.mark.parametrize("text", ["370399199002311234", "370399210001011234", "370399189912311234"])
def test_an_impossible_or_out_of_range_birth_date_is_no_id_number(text: str) -> None:
    # Feb 31; 2100; 1899: neither refused nor masked (and not a card: the Luhn check fails)
    assert mask_text(text) == text and not contains_id_number(text)


def test_the_id_window_check_characters_between_separators() -> None:
    # Wrong check characters X / x, between separators inside a longer run: only the windows
    # between separators find them (the scan of a longer run finds valid numbers only).
    for x in "Xx":
        assert mask_text(f"12 37039919900101002{x} 34") == f"12 370*************2{x} 34"
    # a 15-character window is 15 digits: 14 digits and an X are nothing
    assert mask_text("编号 1 37039990010112X") == "编号 1 37039990010112X"
    # a 15-digit window after an offset, with more of the run after it
    assert mask_text("编号 1 370399900101123 45X") == "编号 1 370**********23 45X"
    # no window starts with 0
    assert mask_text("1 070399900101123 2") == "1 070399900101123 2"


def test_a_space_separator_inside_a_number_is_a_gap() -> None:
    # U+1680 (ogham space mark) is a Zs space, not in the dash/space list, and stays itself under NFKC
    assert mask_text("电话138\u16801234\u16805678") == "电话138****5678"


def test_short_values_keep_at_most_their_ends() -> None:
    from nocert_rules.privacy import mask_id

    assert (mask_id("12"), mask_id("123"), mask_id("1234"), mask_id(" 1234567890 ")) == ("**", "1*3", "1**4", "123*****90")


def test_cards_need_the_luhn_check_and_no_letters_glued_to_them() -> None:
    assert mask_text("流水 6222021234567890127") == "流水 6222021234567890127"  # Luhn fails
    assert mask_text("卡 4370111001001006") == "卡 4370********1006"
    assert mask_text("X4370111001001006") == "X4370111001001006"  # the tail of a code
    assert mask_text("4370111001001006X") == "4370111001001006X"
    assert mask_text("X 4370111001001006") == "X 4370********1006"  # a separator: not glued


@pytest.mark.parametrize(("text", "value"), [("名字！ａｂｃ", "!abc"), ("名字～ａｂｃ", "~abc"), ("名字ｚｈａｎｇ", "zhang"),
                                             ("编号①２３４", "①②③④"), ("公司(株)abc", "㈱abc")])
def test_a_known_value_is_looked_for_in_every_form_of_its_first_character(text: str, value: str) -> None:
    from nocert_rules.privacy import mask_known, normalise

    shown = mask_known(text, [value])
    assert shown != text and normalise(value) not in normalise(shown)
    assert mask_text(text, personal=[value]) == shown


def test_an_overlap_starting_with_a_digit_is_masked_as_a_number() -> None:
    from nocert_rules.privacy import mask_id, normalise

    text = "1abc@qq.com张三"  # an e-mail address overlapping a value the record holds
    assert mask_text(text, personal=["com张三"]) == mask_id(normalise(text))


@pytest.mark.parametrize(("head", "division", "ok"), [("X1", "370300", False), ("91", "A70300", False)])
def test_credit_code_authority_and_division(head: str, division: str, ok: bool) -> None:
    assert is_credit_code(credit_code(head, division, "MA3C1234")) is ok


def test_a_credit_code_shaped_id_number_inside_a_longer_run_is_refused() -> None:
    # 358107207704185265 is a real ID number and also a valid credit code (found by hypothesis):
    # standing alone, or between separators, it is an organisation's code; with a digit glued to
    # it, it is no code (GB 32100 codes have 18 characters) and the ID number is refused.
    number = "358107207704185265"
    assert is_id_number(number) and is_credit_code(number)
    assert find_id_number(number) is None and find_id_number(f"12 {number} 34") is None
    assert find_id_number(f"{number}0") == number and find_id_number(f"0{number}") == number
    assert mask_text(number, keep_credit_codes=True) == number and mask_text(f"{number}0") != f"{number}0"


@pytest.mark.parametrize(("text", "value"), [("\uff45\u0301mile来电", "e\u0301mile"), ("张三丰来电", "-张三丰"), ("张三丰来电", "\u200b张三丰")])
def test_a_known_value_is_looked_for_as_normalised(text: str, value: str) -> None:
    from nocert_rules.privacy import mask_known

    assert mask_known(text, [value]) == mask_text(text, personal=[value]) != text


# ---------------------------------------------------------------- survivors of the third run (docs/mutation-testing.md)


def test_a_2099_birth_date_is_still_plausible() -> None:
    assert mask_text("370399209912311234") == "370*************34"  # 2099 is the last year read as a birth


def test_1900_is_the_first_birth_year_read() -> None:
    """Hypothesis draws 1900 only by chance (a mutmut run missed it): fixed inputs, 1899 beside it."""
    born_1900 = id_number("11010119000101123")
    assert mask_text(born_1900) == born_1900[:3] + "*" * 13 + born_1900[-2:]  # 1900 is read as a birth year
    assert find_id_number(born_1900) == born_1900
    assert find_id_number(id_number("11010118991231123")) is None  # 1899 is not


def test_a_credit_code_stands_alone_after_a_letter_not_after_a_digit() -> None:
    number = "358107207704185265"  # a real ID number and a valid credit code
    assert find_id_number(f"C{number}") is None  # a letter before it: the code stands alone
    assert find_id_number(f"C0{number}") == number  # a digit right before it, a letter before that


def test_letters_glued_to_a_card_are_ascii_letters_right_beside_it() -> None:
    assert mask_text("4370111001001006 X") == "4370********1006 X"  # not glued to the text's last letter
    assert mask_text("卡4370111001001006") == "卡4370********1006"  # a Chinese character is no code letter
    assert mask_text("卡X4370111001001006") == "卡X4370111001001006"  # an ASCII letter is


def test_a_known_value_beyond_the_full_width_range_is_looked_for_without_error() -> None:
    from nocert_rules.privacy import mask_known

    # a first character above U+10111F has no "full-width form": chr() would fail for it
    assert mask_known("文本 \U0010fffd名字", ["\U0010fffd名字"]) == "文本 \U0010fffd**"


# ---------------------------------------------------------------- survivors of the third run, with their kill inputs

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(first17: str) -> str:
    """``first17`` with its GB 11643 check character."""
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


T = TypeVar("T")

CHONGQING = id_number("50010119850315123")  # 500101198503151238
BEIJING_X = id_number("11010519491231002")  # 11010519491231002X


def within(seconds: float, work: Callable[[], T]) -> T:
    """What ``work`` returns, computed in a daemon thread that must finish within ``seconds``: a hung
    scan fails the test instead of hanging it. An exception in ``work`` is raised here."""
    out: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            out.append(work())
        except BaseException as exc:  # handed to the test below
            errors.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s"
    if errors:
        raise errors[0]
    return out[0]


def test_nfkc_folding_drops_only_the_separators_inside_a_character() -> None:
    assert normalise("℅") == "co"  # NFKC "c/o"
    assert normalise("㏂") == "am"  # NFKC "a.m."


def test_a_comma_then_a_space_between_digits_ends_a_number() -> None:
    assert mask_text("1381234, 5678") == "1381234, 5678"  # two numbers, no phone: the whole cut is ", "
    assert mask_text("138 1234 5678") == "138****5678"


def test_an_id_number_after_a_short_number_is_found() -> None:
    assert find_id_number(f"第1号{CHONGQING}") == CHONGQING
    assert mask_text(f"第1号{CHONGQING}") == "第1号500*************38"


def test_a_run_with_a_leading_zero_is_no_id_number() -> None:
    assert mask_text("单号 012345199001011234") == "单号 012345199001011234"  # 18 digits, plausible date
    assert mask_text("单号 012345900101123") == "单号 012345900101123"  # 15 digits


def test_a_valid_check_does_not_make_a_wrong_province_real() -> None:
    number = id_number("99010119850315123")  # no province 99
    assert find_id_number(number) is None and not contains_id_number(f"号{number}")
    assert mask_text(number) == "990*************39"  # masked all the same


def test_every_id_number_of_a_text_is_masked() -> None:
    assert mask_text(f"甲{CHONGQING}乙{BEIJING_X}") == "甲500*************38乙110*************2X"
    assert mask_text(f"甲370399900101123乙{BEIJING_X}") == "甲370**********23乙110*************2X"


def test_id_numbers_side_by_side_in_one_run_are_each_found_once() -> None:
    from itertools import islice

    from nocert_rules.privacy import _candidates

    run = CHONGQING + BEIJING_X
    assert list(islice(_candidates(run), 5)) == [(0, 18, True), (18, 36, True)]
    assert mask_text(run) == "500*************38110*************2X"


def test_a_long_digit_run_is_scanned_in_bounded_time() -> None:
    from nocert_rules.privacy import _candidates

    assert within(5, lambda: list(_candidates("1" * 40))) == []  # province 11, year 1111: no window is valid


def test_no_phone_number_is_read_out_of_an_amount() -> None:
    assert mask_text("合计 0.13812345678 元") == "合计 0.13812345678 元"


def test_a_phone_number_after_an_amount_or_a_long_number_is_masked() -> None:
    assert mask_text("1.5 13812345678") == "1.5 138****5678"
    assert mask_text("12345678901234567890123456 13812345678") == "12345678901234567890123456 138****5678"


def test_an_address_is_looked_for_within_64_characters_before_the_at() -> None:
    assert mask_text("a" * 64 + "@example.com") == "a***@example.com"
    assert mask_text("a" * 65 + "@example.com") == "aa***@example.com"  # RFC 5321: 64 at most


def test_an_address_is_looked_for_within_255_characters_after_the_at() -> None:
    inside = "a@" + "b" * 252 + ".cn"  # a domain of 255 characters
    beyond = "a@" + "b" * 253 + ".cn"
    assert mask_text(inside) == "a***@" + inside[2:]
    assert mask_text(beyond) == beyond


def test_a_known_value_too_short_is_skipped_not_the_ones_after_it() -> None:
    assert mask_text("李娜来电", personal=["李", "李娜"]) == "李*来电"


def test_a_known_value_starting_with_a_digit_is_masked_as_a_number() -> None:
    from nocert_rules.privacy import mask_known

    assert mask_known("会员号 12345678", ["12345678"]) == "会员号 1******8"
    assert mask_known("编号 A1234567", ["A1234567"]) == "编号 A*******"


def test_each_repeat_of_a_known_value_is_found_once() -> None:
    from itertools import islice

    from nocert_rules.privacy import _folded, _personal_spans, mask_known

    assert list(islice(_personal_spans(_folded("李娜,李娜,李娜"), ["李娜"]), 5)) == [(0, 2, "李*"), (3, 5, "李*"), (6, 8, "李*")]
    assert mask_known("李娜,李娜,李娜", ["李娜"]) == "李*,李*,李*"


def test_a_small_at_sign_alone_marks_an_address() -> None:
    assert mask_text("邮箱 zhangsan\ufe6bexample.com") == "邮箱 z***@example.com"


def test_a_bare_11_digit_phone_number_is_masked() -> None:
    assert mask_text("13812345678") == "138****5678"
    assert personal_spans("13812345678") == [(0, 11, "138****5678")]
    assert mask_text("1381234567") == "1381234567"  # 10 digits: no number


def test_personal_spans_masks_a_credit_code_shaped_id_number_by_default() -> None:
    assert personal_spans("358107207704185265") == [(0, 18, "358*************65")]


def test_blank_known_values_are_not_looked_for() -> None:
    assert mask_text("a\x1c\x1cb", personal=["\x1c\x1c"]) == "a\x1c\x1cb"  # str.strip() blanks: no value


def test_a_kept_credit_code_does_not_stop_the_scan() -> None:
    text = "358107207704185265 电话13812345678"
    assert mask_text(text, keep_credit_codes=True) == "358107207704185265 电话138****5678"


def test_opaque_tokens_keep_only_the_digits_inside_them() -> None:
    token = "0b1d2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
    assert mask_text(f"{token} 13812345678") == f"{token} 138****5678"
    sha_head, sha_tail = "13812345678" + "a" * 53, "a" * 53 + "13812345678"  # sha256 hex starting / ending with digits
    assert mask_text(f"哈希 {sha_head} 完") == f"哈希 {sha_head} 完"
    assert mask_text(f"哈希 {sha_tail} 完") == f"哈希 {sha_tail} 完"
    # a phone number whose tail runs into a token is masked whole
    assert mask_text("1381234 5678" + "a" * 60) == "138****5678" + "a" * 60


def test_a_known_value_inside_a_longer_find_keeps_the_longer_ones_mask() -> None:
    assert mask_text("zhangsan@example.com", personal=["zhangsan"]) == "z***@example.com"
    assert mask_text("张三13812345678", personal=["张三"]) == "张*138****5678"  # side by side: each its own


# ---------------------------------------------------------------- a bug the equivalence check of a pre-check found


def test_digits_written_as_circled_or_other_compatibility_characters_are_found() -> None:
    # NFKC folds ①③⑧… to 138…: the pre-checks counted only decimal digits and let these pass in clear
    circled = "⓪①②③④⑤⑥⑦⑧⑨"
    assert mask_text("电话①③⑧①②③④⑤⑥⑦⑧") == "电话138****5678"
    number = "".join(circled[int(c)] for c in "370399199001011231")
    assert find_id_number(f"身份证{number}") == "370399199001011231"
    assert mask_text(f"身份证{number}") == "身份证370*************31"


def test_the_characters_that_fold_to_digits_are_all_known() -> None:
    import re
    import sys
    import unicodedata

    from nocert_rules.privacy import _FOLDS_TO_DIGITS

    decimal = re.compile(r"\d")
    folding = {
        ch for ch in map(chr, range(sys.maxunicode + 1))
        if not unicodedata.is_normalized("NFKC", ch) and not decimal.match(ch)
        and any(unicodedata.decimal(c, None) is not None for c in unicodedata.normalize("NFKC", ch))
    }
    assert folding == {ch for ch in map(chr, range(sys.maxunicode + 1)) if _FOLDS_TO_DIGITS.match(ch)}
