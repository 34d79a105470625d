"""Tests for mutants of ``privacy.py`` that survived the first mutmut run (docs/mutation-testing.md):
credit-code structure, the 15-digit birth date, separators inside numbers, windows between
separators."""

from __future__ import annotations

import pytest

from nocert_rules.privacy import (
    contains_id_number,
    find_id_number,
    is_credit_code,
    is_id_number,
    mask_text,
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
