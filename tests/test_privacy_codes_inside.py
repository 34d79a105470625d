"""A phone- or card-shaped run inside an organisation's credit code is part of the code.

A unified social credit code with a letter before its check character (``A13100000000A0005P``)
is an organisation's public code, never an ID number (an ID's only letter is its check ``X``),
so ``mask_text`` leaves it whole even where digits inside it look like a phone number
(``13100000000``). An all-digit code can be a real ID number too, and is still masked; a code
whose checks fail is not a code, and the number inside it is masked.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_privacy_properties import _ids_passing, hidden, mod31_check, org_check

from nocert_rules import privacy
from nocert_rules.privacy import is_credit_code, is_id_number, mask_text, personal_spans

FOUND = "A13100000000A0005P"  # drawn by tests/test_privacy_every_field.py: masked as A131****0000A0005P


def test_the_code_found_by_the_field_test_is_left_whole() -> None:
    assert is_credit_code(FOUND)
    assert personal_spans(FOUND) == []
    assert mask_text(FOUND) == FOUND == mask_text(FOUND, keep_credit_codes=True)
    assert mask_text(FOUND.lower()) == FOUND.lower()
    text = f"统一社会信用代码 {FOUND}，联系电话 13812345678"
    assert mask_text(text) == f"统一社会信用代码 {FOUND}，联系电话 138****5678"


def test_a_code_whose_check_fails_is_not_a_code_and_its_number_is_masked() -> None:
    broken = FOUND[:17] + ("Q" if FOUND[17] != "Q" else "R")
    assert not is_credit_code(broken)
    assert mask_text(broken) == "A131****0000A0005" + broken[17]


def test_an_all_digit_code_that_is_an_id_number_is_still_masked() -> None:
    for number in _ids_passing(True, True, count=5):
        assert is_credit_code(number)
        assert hidden(mask_text(number), number)
        assert hidden(mask_text(f"代码 {number} 电话"), number)


@st.composite
def codes_holding_a_phone(draw: st.DrawFn) -> str:
    """Valid credit codes whose characters 2-12 are a mobile number (1, then 3-9, then 9 digits)."""
    head = draw(st.sampled_from("ANY")) + "1"
    division = str(draw(st.sampled_from([31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54,
                                         61, 62, 63, 64, 65]))) + f"{draw(st.integers(0, 9999)):04d}"
    org8 = f"{draw(st.integers(0, 9999)):04d}" + "".join(
        draw(st.lists(st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXY"), min_size=4, max_size=4)))
    first17 = head + division + org8 + org_check(org8)
    return first17 + mod31_check(first17)


@settings(max_examples=300, deadline=None)
@given(code=codes_holding_a_phone(), lower=st.booleans(), phone=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_lettered_code_holding_a_phone_number_is_left_whole(code: str, lower: bool, phone: str) -> None:
    assert is_credit_code(code)
    code = code.lower() if lower else code
    assert mask_text(code) == code
    text = f"单位代码：{code}；经办人电话 {phone}"
    assert mask_text(phone) != phone
    assert mask_text(text) == f"单位代码：{code}；经办人电话 {mask_text(phone)}"


IDS_ENDING_IN_X = ["36646219671006972X", "13616519600605775X", "52500420021118729X"]
"""Real ID numbers whose check character is X that are also valid credit codes (found by drawing
IDs and keeping those passing both credit-code checks): their only letter is the last one."""


def test_an_id_number_ending_in_x_that_is_also_a_credit_code_is_still_masked() -> None:
    for number in IDS_ENDING_IN_X:
        assert is_id_number(number) and is_credit_code(number)
        assert hidden(mask_text(number), number)
        assert hidden(mask_text(f"申请人 {number}，电话"), number)


@pytest.mark.parametrize(("text", "span"), [
    (FOUND, (0, 18)),
    (f"代码 {FOUND}。", (3, 21)),
    ("A131 0000 0000 A0005P", (0, 21)),  # written with spaces: the code's span in the text as written
    (f"{FOUND}{FOUND}", (0, 18)),  # the second one too, below
])
def test_a_lettered_code_is_protected_over_exactly_its_characters(text: str, span: tuple[int, int]) -> None:
    spans = list(privacy._lettered_codes(privacy._folded(text)))
    assert spans[0] == span
    if text == FOUND * 2:
        assert spans == [(0, 18), (18, 36)]
