"""Issue 25 row 11: tests of ``privacy`` that bite.

ID numbers are built here from GB 11643-1999 itself (weights, check table and the GB/T 2260
province list written out independently of the module) over every province, every check
remainder 0-10 (``X`` and ``x``), the 18- and 15-digit forms, at the start, middle and end of
longer digit runs and in every disguise (full-width, spaces, zero-width characters, mixed).
Credit codes are built from GB 32100 / GB 11714 the same way, to pin down why a credit code
wins over an ID number only when *both* its checks hold.

The mutation score these tests reach is measured by ``mutmut`` (``docs/mutation-testing.md``).
"""

from __future__ import annotations

import random
import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nocert_rules.privacy import (
    contains_id_number,
    find_id_number,
    is_credit_code,
    is_id_number,
    mask_text,
    normalise,
)

# GB/T 2260 province-level divisions (83: residence permits of Taiwan residents), written out.
PROVINCES = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
             50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83]
NOT_PROVINCES = [p for p in range(10, 100) if p not in PROVINCES]
WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]  # GB 11643: W_i = 2^(i-1) mod 11, i = 18..2
CHECK = {0: "1", 1: "0", 2: "X", 3: "9", 4: "8", 5: "7", 6: "6", 7: "5", 8: "4", 9: "3", 10: "2"}


def remainder(first17: str) -> int:
    return sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11


def refused_as(number: str) -> str | None:
    """What ``find_id_number`` must answer for a whole real ID number: itself, unless it is also a
    whole unified social credit code (an organisation's code wins, GB 32100)."""
    return None if is_whole_credit_code(number) else number


births = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
births15 = st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31))
areas = st.integers(0, 9999).map(lambda n: f"{n:04d}")


def id18(province: int, area: str, born: date, seq: int, want: int | None = None) -> str:
    """An 18-character ID number; with ``want``, the sequence is nudged to that check remainder."""
    for step in range(1000):
        first17 = f"{province:02d}{area}{born:%Y%m%d}{(seq + step) % 1000:03d}"
        r = remainder(first17)
        if want is None or r == want:
            return first17 + CHECK[r]
    raise AssertionError("unreachable: 1000 sequences cover every remainder")


@st.composite
def ids18(draw: st.DrawFn, want: int | None = None, provinces: list[int] = PROVINCES) -> str:
    number = id18(draw(st.sampled_from(provinces)), draw(areas), draw(births), draw(st.integers(0, 999)), want)
    return number[:-1] + number[-1].lower() if draw(st.booleans()) else number


@st.composite
def ids15(draw: st.DrawFn, provinces: list[int] = PROVINCES) -> str:
    born = draw(births15)
    return f"{draw(st.sampled_from(provinces)):02d}{draw(areas)}{born:%y%m%d}{draw(st.integers(0, 999)):03d}"


def full_width(s: str) -> str:
    return "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in s)


@st.composite
def disguised(draw: st.DrawFn, value: str) -> str:
    """``value`` full-width, spaced, split by zero-width characters, or all mixed, at random."""
    out = []
    for c in value:
        if c.isdigit() and draw(st.booleans()):
            c = full_width(c)
        out.append(c)
        out.append(draw(st.sampled_from(["", "", "", " ", "\u200b", "\u200d", "\u2060", "\ufeff"])))
    return "".join(out)


def hidden(text: str, number: str) -> bool:
    """``number`` is not in ``text`` in clear: neither all but its last 2 nor all but its first 3."""
    norm = normalise(text).upper()
    number = number.upper()
    return number[:-2] not in norm and number[3:] not in norm


# ---------------------------------------------------------------- every province, every remainder


@pytest.mark.parametrize("province", PROVINCES)
def test_every_province_is_a_real_id_number(province: int) -> None:
    number = id18(province, "0302", date(1990, 1, 1), 123)
    assert is_id_number(number) and contains_id_number(number) and hidden(mask_text(number), number)
    old = f"{province:02d}0302900101123"
    assert is_id_number(old) and contains_id_number(old)


@pytest.mark.parametrize("province", NOT_PROVINCES)
def test_no_other_prefix_is(province: int) -> None:
    assert not is_id_number(id18(province, "0302", date(1990, 1, 1), 123))
    assert not is_id_number(f"{province:02d}0302900101123")


@pytest.mark.parametrize("want", range(11))
@given(data=st.data())
@settings(max_examples=30, deadline=None)
def test_every_check_remainder(want: int, data: st.DataObject) -> None:
    number = data.draw(ids18(want))
    assert is_id_number(number)
    assert find_id_number(number) == refused_as(number)  # normalised, as written (an x stays x)
    for wrong in "0123456789X":
        if wrong != CHECK[want]:
            assert not is_id_number(number[:17] + wrong), wrong
    assert hidden(mask_text(number), number)  # masked whatever the check character


def test_a_lowercase_x_is_the_check_character_x() -> None:
    number = id18(37, "0302", date(1990, 1, 1), 0, want=2)
    assert number.endswith("X")
    assert is_id_number(number.lower()) and contains_id_number(f"身份证 {number.lower()}")


# ---------------------------------------------------------------- in longer runs, in disguise


@given(number=ids18(), before=st.integers(0, 6), after=st.integers(0, 6), tail=st.text("0123456789", max_size=6))
@settings(max_examples=200, deadline=None)
def test_an_18_digit_number_at_the_start_middle_or_end_of_a_longer_run(
    number: str, before: int, after: int, tail: str
) -> None:
    # Zeros before it: no window that starts there is a real number (no province 0x), so the
    # number itself is the first one found; any digits may follow it.
    run = "0" * before + number + tail[:after]
    assert find_id_number(run) == (number if run != number else refused_as(number)), run
    assert contains_id_number(f"编号{run}号") is (run != number or refused_as(number) is not None)
    assert hidden(mask_text(run), number)


@given(number=st.one_of(ids18(), ids15()), before=st.text("0123456789", min_size=1, max_size=8),
       after=st.text("0123456789", min_size=1, max_size=8), sep=st.sampled_from([" ", "-", "/", ",", "\u3000"]))
@settings(max_examples=200, deadline=None)
def test_a_number_between_separators_inside_a_longer_number(number: str, before: str, after: str, sep: str) -> None:
    for text in (f"{number}{sep}{after}", f"{before}{sep}{number}{sep}{after}", f"{before}{sep}{number}"):
        assert hidden(mask_text(text), number), text
        assert contains_id_number(text) is (refused_as(number) is not None), text


@given(number=st.one_of(ids18(), ids15()), data=st.data())
@settings(max_examples=200, deadline=None)
def test_every_disguise_is_recognised_refused_and_masked(number: str, data: st.DataObject) -> None:
    text = data.draw(disguised(number))
    assert is_id_number(text), repr(text)
    assert contains_id_number(f"申请人{text}") is (refused_as(number) is not None), repr(text)
    assert hidden(mask_text(f"申请人{text}，请核实"), number), repr(text)


@given(number=ids15())
@settings(max_examples=100, deadline=None)
def test_the_15_digit_form(number: str) -> None:
    assert is_id_number(number) and find_id_number(f"旧证{number}") == number
    assert hidden(mask_text(number), number)
    bad_month = number[:8] + "13" + number[10:]
    assert not is_id_number(bad_month)


# ---------------------------------------------------------------- credit codes: both checks count

CC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CC_WEIGHTS = [3 ** i % 31 for i in range(17)]  # GB 32100: W_i = 3^(i-1) mod 31
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]  # GB 11714


def org_check(code8: str) -> str:
    c = (11 - sum(int(ch, 36) * w for ch, w in zip(code8, ORG_WEIGHTS, strict=True)) % 11) % 11
    return "X" if c == 10 else str(c)


def mod31_check(first17: str) -> str:
    return CC_CHARS[(31 - sum(CC_CHARS.index(c) * w for c, w in zip(first17, CC_WEIGHTS, strict=True)) % 31) % 31]


def is_whole_credit_code(value: str) -> bool:
    """GB 32100 from scratch: authority, type, division, GB 11714 organisation code, MOD 31."""
    s = value.upper()
    if len(s) != 18 or any(c not in CC_CHARS for c in s) or s[0] not in "123456789ANY" or s[1] not in "123456789":
        return False
    if not s[2:8].isdigit() or (int(s[2:4]) not in PROVINCES and s[2:8] != "100000"):
        return False
    return all(credit_checks(s))


def credit_checks(s: str) -> tuple[bool, bool]:
    """(the organisation code's check holds, the MOD 31 check holds)."""
    return s[16] == org_check(s[8:16]), s[17] == mod31_check(s[:17])


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from("123456789ANY")) + draw(st.sampled_from("123456789"))
    division = f"{draw(st.sampled_from(PROVINCES)):02d}{draw(st.integers(0, 9999)):04d}"
    org8 = "".join(draw(st.lists(st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXY"), min_size=8, max_size=8)))
    first17 = head + division + org8 + org_check(org8)
    return first17 + mod31_check(first17)


@given(code=credit_codes(), wrong=st.sampled_from(CC_CHARS))
@settings(max_examples=200, deadline=None)
def test_a_credit_code_needs_both_its_checks(code: str, wrong: str) -> None:
    assert is_credit_code(code) and is_credit_code(code.lower())
    if wrong != code[17]:
        assert not is_credit_code(code[:17] + wrong)  # the MOD 31 check
    org = code[:16] + ("0" if code[16] != "0" else "1")
    assert not is_credit_code(org[:17] + mod31_check(org[:17]))  # the GB 11714 check, MOD 31 made right


def _ids_passing(org_ok: bool, mod31_ok: bool, count: int = 25) -> list[str]:
    """Real ID numbers that look like credit codes and pass exactly the checks asked for."""
    rng, found = random.Random(25), []
    while len(found) < count:
        province = rng.choice(PROVINCES)
        area = f"{rng.choice(PROVINCES):02d}{rng.randrange(100):02d}"  # digits 3-4 a province: credit-code shaped
        number = id18(province, area, date(1950, 1, 1) + timedelta(days=rng.randrange(25000)), rng.randrange(1000))
        if number[1] != "0" and credit_checks(number) == (org_ok, mod31_ok):
            found.append(number)
    return found


@pytest.mark.parametrize(("org_ok", "mod31_ok"), [(False, True), (True, False), (False, False)])
def test_an_id_number_is_refused_unless_it_is_a_whole_credit_code(org_ok: bool, mod31_ok: bool) -> None:
    for number in _ids_passing(org_ok, mod31_ok):
        assert not is_credit_code(number), number
        assert find_id_number(number) == number, number


def test_an_id_number_that_is_also_a_whole_credit_code_is_not_refused_but_masked_in_free_text() -> None:
    for number in _ids_passing(True, True, count=5):
        assert is_credit_code(number) and not contains_id_number(number)
        assert hidden(mask_text(number), number) and mask_text(number, keep_credit_codes=True) == number


_DISGUISES = {
    "as written": lambda v: v,
    "decomposed (NFD)": lambda v: unicodedata.normalize("NFD", v),
    "composed (NFC)": lambda v: unicodedata.normalize("NFC", v),
    "compatibility-decomposed (NFKD)": lambda v: unicodedata.normalize("NFKD", v),
    "full-width": lambda v: "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in v),
    "zero-width after each character": lambda v: "\u200b".join(v),
    "compatibility ideographs": lambda v: v.translate(_COMPAT_IDEOGRAPHS),
}
_COMPAT_IDEOGRAPHS = {ord(unicodedata.normalize("NFKC", chr(c))): c for c in range(0xF900, 0xFA6E)
                      if len(unicodedata.normalize("NFKC", chr(c))) == 1}
"""A unified ideograph -> a compatibility ideograph NFKC folds to it (U+91D1 金 -> U+F90A)."""


@settings(max_examples=400, deadline=None)
@given(
    value=st.text(st.sampled_from("金李娜欧阳丰三José Martí Émile Nguyễn Hương Zoë Ørsted"), min_size=2, max_size=8),
    disguise=st.sampled_from(sorted(_DISGUISES)),
    before=st.text(max_size=6), after=st.text(max_size=6),
)
def test_first_seen_never_skips_a_text_that_repeats_the_value(value: str, disguise: str, before: str, after: str) -> None:
    """The cheap pre-check of ``mask_known`` is sound: where the full search finds a value the record
    holds, in any disguise (decomposed, compatibility forms, zero-width), the check lets it through."""
    from nocert_rules import privacy

    text = before + _DISGUISES[disguise](value) + after
    found = list(privacy._personal_spans(privacy._folded(text), [value]))
    if found:
        assert privacy._first_seen(value, text), (value, disguise, text)
        assert privacy.normalise(value) not in privacy.normalise(privacy.mask_known(text, [value])), (value, disguise, text)
