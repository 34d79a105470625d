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
