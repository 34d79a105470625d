"""nocert_rules.privacy: what is refused (a real GB 11643 ID number), what is masked (anything
ID-shaped), what passes (credit codes, implementation codes, hashes), and control escaping."""

from __future__ import annotations

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

    norm, origin, cuts = _folded(text)
    norm2, origin2, cuts2 = _folded("\u200b" + text)
    assert (norm2, [i - 1 for i in origin2], cuts2) == (norm, origin, cuts)
