"""Personal data never leaves the library in clear (数据留痕 without exposing people).

One module decides what is personal data, at two strengths (see README "Personal data"):

* **Refusing** (:func:`find_id_number`, :func:`contains_id_number`): the fields a decision copies
  in clear (``request_id``, ``requesting_unit``, the service item and certificate codes) are
  refused only when they carry a *real* resident ID number by GB 11643-1999, after
  :func:`normalise` (NFKC, every Unicode digit folded to ASCII, separators and zero-width /
  format characters dropped): 18 characters with a valid MOD 11-2 check character, a valid
  birth date and a real province prefix, or a 15-digit old number with a valid date. A unified
  social credit code (GB 32100, with its MOD 31 check character) is an organisation's public
  code and is never refused, nor is a national implementation code that begins with one.
* **Masking** (:func:`mask_text`): every output is masked more widely. Any ID-shaped run (17
  digits and a digit or ``X``, or 15 digits) with a plausible birth date is masked even with a
  wrong check digit (a mistyped ID number is still personal data), whatever letters surround
  it (``C370399199001011234``), also when it is written with spaces inside, in full-width or
  Arabic-Indic digits or with zero-width characters; a valid ID number hidden in a longer digit
  run is masked too. The same detector (:func:`personal_spans`) masks Chinese mobile and
  landline numbers (``+86`` / ``0086`` too), Luhn-valid bank card numbers, e-mail addresses and
  the names a record itself holds (``personal=``, :func:`mask_known`). Names are masked where
  the schema marks a name (:func:`mask_name`). Phone numbers, cards, e-mail and names are never
  refused.

:func:`printable` escapes control characters (ESC, CR, …) and bidi overrides for every
human-readable output (a terminal escape injection cannot pass). :func:`keyed_hash` links the
records of one person without revealing them: records compare keyed hashes, never masks.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any, NamedTuple

__all__ = [
    "contains_id_number",
    "find_id_number",
    "is_credit_code",
    "is_id_number",
    "keyed_hash",
    "luhn_ok",
    "mask_card",
    "mask_email",
    "mask_id",
    "mask_known",
    "mask_name",
    "mask_phone",
    "mask_text",
    "normalise",
    "personal_spans",
    "printable",
    "same_person",
]


def mask_id(id_number: str) -> str:
    """Keep the first 3 and last 2 characters of an ID number, star the rest.

    ``370399199001011234`` -> ``370*************34``. Short values keep fewer characters
    so that at least half of any value is hidden.
    """
    value = id_number.strip()
    n = len(value)
    if n <= 2:
        return "*" * n
    if n < 10:
        return value[0] + "*" * (n - 2) + value[-1]
    return value[:3] + "*" * (n - 5) + value[-2:]


def mask_name(name: str) -> str:
    """Keep the first character of a name: ``张三丰`` -> ``张**``."""
    value = name.strip()
    return value[:1] + "*" * (len(value) - 1) if value else value


def keyed_hash(value: str, key: bytes) -> str:
    """HMAC-SHA256 of ``value`` under ``key``: links records of one person without revealing them.

    The value is :func:`normalise`\\ d first, so ``３７０３…`` and ``370 3…`` hash alike, a name
    hashes alike composed or decomposed (``é`` or ``e`` + U+0301) or in compatibility ideographs,
    and an ``x`` check character is the same as ``X``.
    """
    return "hmac-sha256:" + hmac.new(key, normalise(value).upper().encode("utf-8"), hashlib.sha256).hexdigest()


def same_person(id_number: str, ref: str, key: bytes) -> bool:
    """Whether ``ref`` (a :func:`keyed_hash`) is the keyed hash of ``id_number`` (constant time)."""
    return hmac.compare_digest(keyed_hash(id_number, key), ref)


# ---------------------------------------------------------------- normalising

_SEPARATORS = frozenset(" \t\n\r\f\v-_.·,/\\|:\u00a0\u3000\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fb")
_ASCII_SEPARATORS = frozenset(c for c in _SEPARATORS if c.isascii())


def _fold_char(ch: str) -> str:
    """One input character (``ch``, with the combining marks that follow it, if any) as it is
    matched: NFKC, digits folded to ASCII; separators, format characters and the marks NFKC leaves
    uncomposed dropped (a mark on a digit hides it no more than a zero-width space does)."""
    if ch.isascii():
        return "" if ch in _SEPARATORS else ch
    if unicodedata.category(ch[0]) == "Cf":  # zero-width space, joiners, BOM, bidi marks
        return ""
    return _fold_other(ch)


def _fold_other(ch: str) -> str:
    """:func:`_fold_char` of a character that is neither ASCII nor a format character."""
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        if c in _SEPARATORS or unicodedata.category(c) in _DROPPED:
            continue
        d = unicodedata.decimal(c, None)
        out.append(str(d) if d is not None else c)
    return "".join(out)


_DROPPED = frozenset({"Zs", "Cf", "Mn", "Me"})
"""What the fold drops after NFKC: spaces, format characters, marks left uncomposed."""


class Folded(NamedTuple):
    """A text as it is matched (:func:`normalise`) and where each of its characters came from."""

    text: str
    starts: list[int]
    """For each character of ``text``, where its source (a character and its marks) starts."""
    ends: list[int]
    """For each character of ``text``, where its source ends."""
    cuts: dict[int, str]
    """The positions of ``text`` where a separator was dropped, with what was dropped (zero-width
    characters are no cut: they hide)."""

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that ``text[start:end]`` came from."""
        return self.starts[start], self.ends[end - 1]


def _refold(base: str, at: int, span: tuple[int, int], chars: list[str], starts: list[int], ends: list[int]) -> None:
    """The folded characters from ``at`` on replaced by the fold of ``base`` (a character and its
    marks so far), which ``span`` of the original text holds."""
    start, end = span
    del chars[at:], starts[at:], ends[at:]
    for c in _fold_char(base):
        chars.append(c)
        starts.append(start)
        ends.append(end)


_IDEOGRAPHS = re.compile("[\u4e00-\u9fff]+")
"""CJK Unified Ideographs only (most names: ``张三丰``): NFKC leaves each as it is, none is a
digit, a separator or a mark, so the fold leaves the text as it is (a test checks every one)."""


def _unchanged_by_fold(text: str) -> bool:
    """Whether the fold has nothing to do in ``text``: ASCII without a separator (codes, ASCII ID
    numbers), or ideographs only (names). Then the text is its own fold, fast."""
    if text.isascii():
        return _ASCII_SEPARATORS.isdisjoint(text)
    return _IDEOGRAPHS.fullmatch(text) is not None


def _folded(text: str) -> Folded:
    """The text as it is matched, with the source of each character and the cuts (:class:`Folded`).

    A combining mark belongs to the character before it (format characters between them skipped),
    so ``e`` and U+0301 fold as one ``é``, as NFKC composes them; a mark on a dropped separator
    leaves it a separator."""
    if _unchanged_by_fold(text):
        return Folded(text, list(range(len(text))), list(range(1, len(text) + 1)), {})
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    cuts: dict[int, str] = {}
    dropped = ""
    base = ""  # the character the next mark belongs to, with the marks it has so far
    base_at = 0  # where its folded characters start in ``chars`` (kept), or -1 (a dropped separator)
    base_from = 0  # where it starts in ``text``
    for i, ch in enumerate(text):
        if ch.isascii():
            cat = ""
            folded = "" if ch in _SEPARATORS else ch
        else:
            cat = unicodedata.category(ch)
            if cat[0] == "M" and base:
                base += ch
                if base_at < 0:
                    dropped += ch  # a mark on a separator: still a separator
                else:
                    _refold(base, base_at, (base_from, i + 1), chars, starts, ends)
                continue
            folded = _fold_other(ch)
        if not folded:
            if cat != "Cf":  # a separator (or a mark that starts the text, a cut there is no cut)
                dropped += ch
                base, base_at, base_from = ch, -1, i
            continue
        if dropped:
            cuts[len(chars)] = dropped
            dropped = ""
        base, base_at, base_from = ch, len(chars), i
        for c in folded:
            chars.append(c)
            starts.append(i)
            ends.append(i + 1)
    return Folded("".join(chars), starts, ends, cuts)


def normalise(text: str) -> str:
    """NFKC, every Unicode digit as ASCII, separators, spaces and format characters dropped."""
    if _unchanged_by_fold(text):
        return text  # nothing to fold or drop (_folded's own fast case, without its positions)
    return _folded(text)[0]


# ---------------------------------------------------------------- GB 11643-1999 and GB 32100

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)
"""GB/T 2260 province-level codes (83: residence permits of Taiwan residents)."""

_CC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _date18(s: str) -> bool:
    """``YYYYMMDD`` at characters 7-14 is a possible birth date (1900-2099)."""
    y, m, d = int(s[6:10]), int(s[10:12]), int(s[12:14])
    return 1900 <= y <= 2099 and _valid_date(y, m, d)


def _date15(s: str) -> bool:
    """``YYMMDD`` at characters 7-12 of an old 15-digit number (19YY)."""
    return _valid_date(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12]))


def _check18(s: str) -> bool:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(s[:17], _ID_WEIGHTS, strict=True)) % 11] == s[17].upper()


def is_id_number(value: str) -> bool:
    """A real resident ID number by GB 11643-1999 (after :func:`normalise`).

    18 characters: 17 digits and a MOD 11-2 check character (digit or ``X``), a valid birth
    date and a province prefix of GB/T 2260; or 15 digits (the old form) with a valid date and
    province.
    """
    s = normalise(value).upper()
    if len(s) == 18 and s[:17].isdigit() and (s[17].isdigit() or s[17] == "X"):
        return int(s[:2]) in _PROVINCES and _date18(s) and _check18(s)
    if len(s) == 15 and s.isdigit():
        return int(s[:2]) in _PROVINCES and _date15(s)
    return False


_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code_ok(code: str) -> bool:
    """The 9-character organisation code (GB 11714) inside a credit code: its MOD 11 check."""
    values = [int(c, 36) for c in code[:8]]
    check = (11 - sum(v * w for v, w in zip(values, _ORG_WEIGHTS, strict=True)) % 11) % 11
    return code[8] == ("X" if check == 10 else str(check))


def is_credit_code(value: str) -> bool:
    """A unified social credit code by GB 32100-2015: 18 characters, a registering authority
    and organisation type, a division code (GB/T 2260 province, or ``100000`` central), the
    organisation code with its GB 11714 check character, and a valid MOD 31 check character."""
    s = normalise(value).upper()
    if len(s) != 18 or any(c not in _CC_CHARS for c in s):
        return False
    if s[0] not in "123456789ANY" or not s[1].isdigit() or s[1] == "0" or not s[2:8].isdigit():
        return False
    if int(s[2:4]) not in _PROVINCES and s[2:8] != "100000":
        return False
    if not _org_code_ok(s[8:17]):
        return False
    total = sum(_CC_CHARS.index(c) * w for c, w in zip(s[:17], _CC_WEIGHTS, strict=True))
    return _CC_CHARS[(31 - total % 31) % 31] == s[17]


_NO_CUTS: Mapping[int, str] = {}

# ID-shaped runs in normalised text: a digit run (not inside a longer one) of 17 digits and a
# digit or X, or of exactly 15 digits. Letters (or digits after an X) around it do not matter.
_RUN = re.compile(r"(?<![0-9])[0-9]+[Xx]?")


def _candidates(norm: str, cuts: Mapping[int, str] = _NO_CUTS) -> Iterator[tuple[int, int, bool]]:
    """``(start, end, strictly_valid)`` of every ID-shaped span of a normalised text.

    A run of exactly 18 (17 + digit/X) or 15 characters is a candidate when its birth date is
    plausible. Inside a longer digit run (numbers joined when separators were dropped), a window
    between two cuts (where a separator was) with a plausible date, and any window that is a
    valid ID number.
    """
    for m in _RUN.finditer(norm):
        run = m.group()
        n = len(run)
        if n < 15:
            continue
        # windows between separators; for a run of exactly 15 or 18 characters, the run itself
        yield from _between_cuts(run, m.start(), cuts)
        # any valid 18-character ID number inside the run (the run itself again if it is one: spans merge)
        i = 0
        while i + 18 <= n:
            window = run[i : i + 18]
            if window[:17].isdigit() and int(window[:2]) in _PROVINCES and _date18(window) and _check18(window):
                yield m.start() + i, m.start() + i + 18, True
                i += 18
            else:
                i += 1


def _between_cuts(run: str, offset: int, cuts: Mapping[int, str]) -> Iterator[tuple[int, int, bool]]:
    """Windows of a run that start and end where a separator was (or at the run's ends). A run is
    digits with at most a final ``X`` (``_RUN``), so an 18-window's first 17 characters are digits;
    a 15-window ending in ``X`` is no ID number."""
    end = offset + len(run)
    edges = sorted({offset, end} | {c for c in cuts if offset < c < end})
    edge_set = set(edges)
    for start in edges:
        for length, plausible in ((18, _date18), (15, _date15)):
            stop = start + length
            if stop not in edge_set:
                continue
            window = run[start - offset : stop - offset]
            if length == 15 and not window.isdigit():
                continue
            if window[0] != "0" and plausible(window):
                valid = int(window[:2]) in _PROVINCES and (length == 15 or _check18(window))
                yield start, stop, valid


_DIGITISH = re.compile(r"\d")  # any Unicode decimal digit (full-width, Arabic-Indic, …)
_PROTECTED = re.compile(
    r"(?<![0-9A-Za-z:])(?:(?:hmac-sha256:)?[0-9a-f]{64}"
    r"|(?=[0-9]*[a-f])[0-9a-f]{32}(?:[0-9a-f]{8})?"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?![0-9A-Za-z])"
)
"""Opaque tokens, never masked (their digits are nobody's): sha256 / keyed-hash hex, 32 or 40
hex digits with a letter among them (``uuid4().hex``, sha1) and UUIDs (``decision_id``)."""


def _one_token(text: str) -> bool:
    """Whether ``text`` is one opaque token whole (a UUID such as a ``decision_id``, a hash): the
    first protected span is the one ``_PROTECTED.finditer`` yields first, so it covers every span
    :func:`personal_spans` could find in ``text``."""
    token = _PROTECTED.match(text)
    return token is not None and token.end() == len(text)


_FOLDS_TO_DIGITS = re.compile(
    "[\u00b2-\u00b3\u00b9\u00bc-\u00be\u2070\u2074-\u2079\u2080-\u2089\u2150-\u215f\u2189\u2460-\u249b"
    "\u24ea\u3251-\u325f\u32b1-\u32cb\u3358-\u3370\u3378-\u3379\u339f-\u33a6\u33a8\u33af\u33e0-\u33fe"
    "\U0001f100-\U0001f10a]"
)
"""Characters that are no decimal digit but that NFKC folds to digits (``①`` ``²`` ``⑩`` ``㏠``): :func:`normalise`
turns ``①③⑧…`` into a phone number, so the pre-checks below cannot count them as non-digits."""


def _folds_to_digits(text: str) -> bool:
    return not text.isascii() and _FOLDS_TO_DIGITS.search(text) is not None


def _may_hold_id(text: str) -> bool:
    return (len(text) >= 15 and len(_DIGITISH.findall(text)) >= 15) or _folds_to_digits(text)


def find_id_number(text: str) -> str | None:
    """The first real ID number (:func:`is_id_number`) inside ``text``, normalised; else None.

    The run must be a whole digit run (letters around it do not matter) or a valid number inside
    a longer run. An 18-character run that is also a valid unified social credit code is an
    organisation's code and is not returned, when it stands alone: no digit right before or after
    it but across a separator (inside a longer run of digits it is no code, GB 32100 codes have 18).
    """
    if not _may_hold_id(text):
        return None
    norm, _starts, _ends, cuts = _folded(text)
    for start, end, valid in _candidates(norm, cuts):
        span = norm[start:end]
        if valid and not (_stands_alone(norm, start, end, cuts) and is_credit_code(span)):
            return span
    return None


def _stands_alone(norm: str, start: int, end: int, cuts: Mapping[int, str]) -> bool:
    """No digit touches ``norm[start:end]`` on either side, but across a separator."""
    before = start == 0 or start in cuts or not norm[start - 1].isdigit()
    after = end == len(norm) or end in cuts or not norm[end].isdigit()
    return before and after


def contains_id_number(text: str) -> bool:
    """Whether ``text`` carries a real resident ID number (the *refusing* strength)."""
    return find_id_number(text) is not None


# ---------------------------------------------------------------- phones, bank cards, e-mail

_PHONE = re.compile(
    r"(?:\+?86|0086)?1[3-9][0-9]{9}"  # mobile: 13x-19x, 11 digits
    r"|\(?0(?:[12][0-9]\)?[0-9]{8}|[3-9][0-9]{2}\)?[0-9]{7,8})"  # landline: 010 / 02x + 8, 0xxx + 7-8
    r"|(?:\+?86|0086)\(?(?:[12][0-9]\)?[0-9]{8}|[3-9][0-9]{2}\)?[0-9]{7,8})"  # +86: area code without 0
)
"""Chinese phone numbers (GB/T 13400 numbering), as :func:`normalise` leaves them."""
_PHONE_PREFIX = re.compile(r"\+?86|0086")
_CARD = re.compile(r"[345689][0-9]{15,18}")
"""Bank card numbers (ISO/IEC 7812: UnionPay 62…, Visa, Mastercard, …), with a Luhn check."""
_NUMBER_RUN = re.compile(r"\+?[0-9(][0-9()]*")
_GAP = frozenset(" \t-\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
_LONGEST_NUMBER = 24  # "+86(0533)12345678" and a 19-digit card fit


def _cut_kind(dropped: str) -> str:
    """What a dropped separator is to a number: ``gap`` (spaces, dashes: a phone or card number
    may hold them), ``stop`` (a decimal point: the digits around it are one amount, no number
    ends there) or ``edge`` (anything else, e.g. ``,`` ``/`` ``:``: a number may end there).
    Combining marks on a separator do not change it."""
    folded = "".join(c for c in unicodedata.normalize("NFKC", dropped) if unicodedata.category(c) not in ("Mn", "Me"))
    if folded == ".":
        return "stop"
    if all(c in _GAP or unicodedata.category(c) == "Zs" for c in folded):
        return "gap"
    return "edge"


def luhn_ok(digits: str) -> bool:
    """The Luhn (ISO/IEC 7812-1) check of a card number."""
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _mask_middle(value: str, head: int, tail: int) -> str:
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


def mask_phone(number: str) -> str:
    """``13812345678`` -> ``138****5678``; a ``+86`` / ``0086`` prefix is kept as it is."""
    digits = number.replace("(", "").replace(")", "")
    prefix = _PHONE_PREFIX.match(digits) if digits.startswith(("+", "86", "0086")) else None
    cut = prefix.end() if prefix else 0
    return digits[:cut] + _mask_middle(digits[cut:], 3, 4)


def mask_card(number: str) -> str:
    """``6222021234567890123`` -> ``6222***********0123``."""
    return _mask_middle(number, 4, 4)


def _is_card(norm: str, start: int, end: int, cuts: Mapping[int, str]) -> bool:
    """A Luhn-valid card number, written whole or with spaces or dashes anywhere inside (in groups
    of four, or spaced at random to hide it), not glued to letters (``…209X4370111001001000`` is
    the tail of an implementation code, not a card)."""
    piece = norm[start:end]
    if not _CARD.fullmatch(piece) or not luhn_ok(piece):
        return False
    glued_before = start > 0 and start not in cuts and norm[start - 1].isascii() and norm[start - 1].isalpha()
    glued_after = end < len(norm) and end not in cuts and norm[end].isascii() and norm[end].isalpha()
    return not (glued_before or glued_after)


def _number_spans(norm: str, cuts: Mapping[int, str]) -> Iterator[tuple[int, int, str]]:
    """``(start, end, masked)`` of every phone and bank card number in a normalised text.

    A number is a whole run of digits (with ``+`` and brackets), or a part of one that starts
    and ends where a separator was dropped or at a bracket, and holds only spaces, dashes and
    brackets inside."""
    positions = sorted(cuts)
    for m in _NUMBER_RUN.finditer(norm):
        rs, re_ = m.span()
        if re_ - rs < 11:
            continue
        marks = {rs + i + d: "gap" for i, c in enumerate(m.group()) if c in "()" for d in (0, 1)}
        for c in positions[bisect_right(positions, rs) : bisect_left(positions, re_)]:
            marks[c] = _cut_kind(cuts[c])
        marks.update({rs: "edge", re_: "edge"})
        bounds = sorted(marks.items())
        for i, (s, s_kind) in enumerate(bounds):
            if s_kind == "stop":
                continue
            for j in range(i + 1, len(bounds)):
                e, e_kind = bounds[j]
                if e - s > _LONGEST_NUMBER:
                    break
                piece = norm[s:e]
                if e_kind != "stop" and e - s >= 11:
                    if _PHONE.fullmatch(piece):
                        yield s, e, mask_phone(piece)
                    elif _is_card(norm, s, e, cuts):
                        yield s, e, mask_card(piece)
                if e_kind != "gap":
                    break


_ZW = "\u200b-\u200d\u2060\ufeff\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
"""What may hide inside an address: zero-width characters and the combining marks' blocks."""
_AT = re.compile("[@\uff20\ufe6b]")  # @, full-width ＠, small ﹫
_LOCAL_CHAR = rf"[A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a._%+\-\uff3f\uff0e\uff0d{_ZW}]"
_LABEL_CHAR = rf"[A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\-\uff0d{_ZW}]"
_LETTER = r"[A-Za-z\uff21-\uff3a\uff41-\uff5a]"
_SP = "[ \u3000]"
# Spaces inside the local part and the labels too (``a a aa@e xample.c om``: a spaced disguise).
_LOCAL = re.compile(rf"{_LOCAL_CHAR}+(?:{_SP}+{_LOCAL_CHAR}+)*[ \u3000{_ZW}]*$")
_DOMAIN = re.compile(
    rf"[ \u3000{_ZW}]*(?:{_LABEL_CHAR}+(?:{_SP}+{_LABEL_CHAR}+)*"
    rf"[ \u3000{_ZW}]*[.\uff0e\u3002][ \u3000{_ZW}]*)+{_LETTER}(?:[ \u3000{_ZW}]{{0,2}}{_LETTER})+"
)


def _clean(value: str) -> str:
    """NFKC with spaces, format characters and combining marks dropped (``．`` -> ``.``, ``ｑ`` -> ``q``)."""
    return "".join(c for c in unicodedata.normalize("NFKC", value) if unicodedata.category(c) not in ("Zs", "Cf", "Mn", "Me"))


def mask_email(address: str) -> str:
    """``zhang.san@example.com`` -> ``z***@example.com`` (the domain is an organisation's)."""
    local, _, domain = _clean(address).replace("\u3002", ".").partition("@")
    return f"{local[:1]}***@{domain}"


def _email_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """``(start, end, masked)`` of every e-mail address in ``text`` (full-width, spaced or split by
    zero-width characters too). Each ``@`` is looked at once, within bounded windows: linear."""
    for at in _AT.finditer(text):
        left = _LOCAL.search(text, max(0, at.start() - 64), at.start())
        right = _DOMAIN.match(text, at.end(), at.end() + 255)
        if left and right:
            yield left.start(), right.end(), mask_email(text[left.start() : right.end()])


def _personal_spans(folded: Folded, personal: Iterable[str]) -> Iterator[tuple[int, int, str]]:
    """Where a normalised text repeats a value the record itself holds (the applicant's or complainant's
    name, a phone number it was given), normalised like the text."""
    for value in personal:
        needle = normalise(value)
        if len(needle) < 2:
            continue
        masked = mask_id(needle) if needle[0].isdigit() else mask_name(needle)
        at = folded.text.find(needle)
        while at >= 0:
            yield *folded.span(at, at + len(needle)), masked
            at = folded.text.find(needle, at + len(needle))


def mask_known(text: str, values: Iterable[str]) -> str:
    """``text`` with only the given ``values`` (a name the record holds) masked wherever it repeats
    them, also spaced, full-width or split by zero-width characters: ``张三丰-0001`` -> ``张**-0001``.

    For fields that are checked for ID numbers afterwards (:func:`find_id_number` must still see
    them); :func:`mask_text` masks both. A value is looked for only when its first character,
    as written or NFKC-folded, is in ``text`` (cheap on the decide path)."""
    wanted = [v for v in values if _first_seen(v, text)]
    if not wanted:
        return text
    return _spliced(text, _merged(text, list(_personal_spans(_folded(text), wanted))))


def _first_seen(value: str, text: str) -> bool:
    """Whether ``text`` may repeat ``value`` (cheap on the decide path): the first character of
    ``normalise(value)`` is in ``text`` as it is, full-width (``Ｌ``) or decomposed (``e`` of
    ``é``, its accent after it); or ``text`` holds other characters NFKC folds (a compatibility
    ideograph such as U+F90A for ``金``, ``①``), beyond the full-width forms, the ideographic
    space and ``…`` of everyday Chinese punctuation; or, for a value that starts with a digit,
    digits that are not ASCII."""
    first = _first_folded(value)
    if not first:
        return False
    if first in text:
        return True
    if text.isascii():
        return False
    wide = chr(ord(first) + 0xFEE0) if "!" <= first <= "~" else first
    if wide in text or unicodedata.normalize("NFD", first)[0] in text:
        return True
    return not unicodedata.is_normalized("NFKC", text.translate(_EVERYDAY_FOLDS)) or (
        first.isdigit() and _OTHER_DIGIT.search(text) is not None
    )


_EVERYDAY_FOLDS = dict.fromkeys([*range(0xFF01, 0xFF5F), 0x3000, 0x2026])
"""Characters NFKC folds that fold to ASCII, spaces or dots (full-width forms ``（，：``, the
ideographic space, ``…``): taken out before asking whether the rest of a text is NFKC already,
since nearly every Chinese text holds them (a full-width form of the value's first character is
looked for above)."""


def _first_folded(value: str) -> str:
    """``normalise(value)[:1]``, folding no more of ``value`` than its first kept character, unless
    a mark or format character follows it (then the rest of it, short: a name)."""
    for i, ch in enumerate(value):
        if folded := _fold_char(ch):
            after = value[i + 1 : i + 2]
            if not after or after.isascii() or unicodedata.category(after)[0] not in "MC":
                return folded[0]
            return _folded(value[i:]).text[:1]
    return ""


_OTHER_DIGIT = re.compile(r"(?![0-9])\d")
"""A Unicode decimal digit other than ASCII (Arabic-Indic ``٣``, Devanagari ``३``): NFKC keeps it."""

# ---------------------------------------------------------------- the detector

_ENOUGH_DIGITS = re.compile(r"(?:\D*+\d){11}")
"""The shortest number masked has 11 digits (a phone number); cheaper than counting them."""


def _may_hold_personal(text: str) -> bool:
    if "@" in text or "\uff20" in text or "\ufe6b" in text:
        return True
    return (len(text) >= 11 and _ENOUGH_DIGITS.match(text) is not None) or _folds_to_digits(text)


def personal_spans(
    text: str, *, keep_credit_codes: bool = False, personal: Iterable[str] = ()
) -> list[tuple[int, int, str]]:
    """The detector: ``(start, end, masked)`` of every piece of personal data in ``text``, in
    order, overlapping finds merged: ID-shaped runs, phone numbers, bank card numbers, e-mail
    addresses and the ``personal`` values (names a record holds). Opaque hex tokens and UUIDs
    are left alone; with ``keep_credit_codes`` a valid unified social credit code too."""
    values = tuple(v for v in personal if v and v.strip())
    if not values and not _may_hold_personal(text):
        return []
    if _one_token(text):
        return []  # every span found lies inside the token, and is dropped below: the same answer, fast
    folded = _folded(text)
    found: list[tuple[int, int, str]] = []
    for start, end, masked in _normalised_spans(folded.text, folded.cuts):
        if keep_credit_codes and is_credit_code(folded.text[start:end]):
            continue
        found.append((*folded.span(start, end), masked))
    found.extend(_email_spans(text))
    found.extend(_personal_spans(folded, values))
    protected = [m.span() for m in _PROTECTED.finditer(text)] + list(_lettered_codes(folded))
    kept = [f for f in found if not any(p <= f[0] and f[1] <= q for p, q in protected)]
    return _merged(text, kept)


_CODE_SHAPE = re.compile(r"(?=([1-9ANYany][1-9][0-9]{6}[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{10}))")
"""Where a unified social credit code may start (GB 32100-2015: authority, type, division, then
the organisation code and check character); overlapping, so every start is tried."""


def _lettered_codes(folded: Folded) -> Iterator[tuple[int, int]]:
    """Spans (of the original text) of the valid credit codes in the folded text with a letter before
    their check character: an organisation's code, never an ID number (whose only letter is its
    check ``X``), so a phone- or card-shaped run inside it is part of the code, not masked."""
    for m in _CODE_SHAPE.finditer(folded.text):
        code = m.group(1)
        if not code[:17].isdigit() and is_credit_code(code):
            yield folded.span(m.start(), m.start() + 18)


def _normalised_spans(norm: str, cuts: Mapping[int, str]) -> Iterator[tuple[int, int, str]]:
    """ID-shaped runs (the masking strength: a plausible date is enough) and numbers."""
    for start, end, _valid in _candidates(norm, cuts):
        yield start, end, mask_id(norm[start:end])
    yield from _number_spans(norm, cuts)


def _merged(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping spans as one: a span inside another keeps the outer one's mask; spans that
    only overlap are masked as a whole (:func:`mask_id` of their normalised text, or
    :func:`mask_name` when it begins with no digit)."""
    groups: list[list[Any]] = []  # [start, end, masked, how many spans]
    for a, b, masked in sorted(spans, key=lambda s: (s[0], -s[1])):
        if groups and a < groups[-1][1]:
            last = groups[-1]
            if b > last[1]:  # a span inside the group's is masked with it already
                last[1] = b
                last[3] += 1
        else:
            groups.append([a, b, masked, 1])
    return [(a, b, masked if n == 1 else _mask_union(normalise(text[a:b]))) for a, b, masked, n in groups]


def _mask_union(value: str) -> str:
    return mask_id(value) if value[:1].isdigit() else mask_name(value)


def mask_text(text: str, *, keep_credit_codes: bool = False, personal: Iterable[str] = ()) -> str:
    """``text`` with every piece of personal data masked (the *masking* strength, see the module
    doc and :func:`personal_spans`).

    ``keep_credit_codes`` (for code fields: service item, certificate, unit) leaves a run that
    is a valid unified social credit code as it is, so that a code still finds its list row.
    ``personal``: values the record itself holds (names), masked wherever the text repeats them.

    An ID-shaped run keeps its first 3 and last 2 characters (as normalised):
    ``申请人 370399 19900101 1234`` -> ``申请人 370*************34``; a phone number its first 3
    and last 4 (``138****5678``), a card its first and last 4, an e-mail address the first
    character and the domain (``z***@example.com``), a name its first character (``欧***``).
    Without 11 digits, an ``@`` or ``personal`` values the text is returned as it is, at once.
    """
    if not personal and not _may_hold_personal(text):
        return text  # the decide() hot path: codes without 11 digits or an @, at once
    return _spliced(text, personal_spans(text, keep_credit_codes=keep_credit_codes, personal=personal))


def _spliced(text: str, spans: list[tuple[int, int, str]]) -> str:
    """``text`` with each (ordered, disjoint) span replaced by its mask."""
    if not spans:
        return text
    out, pos = [], 0
    for a, b, masked in spans:
        out.append(text[pos:a])
        out.append(masked)
        pos = b
    out.append(text[pos:])
    return "".join(out)


# ---------------------------------------------------------------- control characters

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_CONTROL_ALL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control characters (ESC, CR, NUL, DEL, C1) and bidi overrides escaped as
    ``\\x1b`` / ``\\u202e``, for every human-readable output. ``keep_newlines`` keeps ``\\n``
    and ``\\t`` (multi-line text)."""
    pattern = _CONTROL if keep_newlines else _CONTROL_ALL
    return pattern.sub(_escape, text)
