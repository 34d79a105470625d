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
  run is masked too. Names are masked where the schema marks a name (:func:`mask_name`).

:func:`printable` escapes control characters (ESC, CR, …) and bidi overrides for every
human-readable output (a terminal escape injection cannot pass). :func:`keyed_hash` links the
records of one person without revealing them: records compare keyed hashes, never masks.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterator
from datetime import date

__all__ = [
    "contains_id_number",
    "find_id_number",
    "is_credit_code",
    "is_id_number",
    "keyed_hash",
    "mask_id",
    "mask_name",
    "mask_text",
    "normalise",
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

    The value is :func:`normalise`\\ d first, so ``３７０３…`` and ``370 3…`` hash alike, and an
    ``x`` check character is the same as ``X``.
    """
    return "hmac-sha256:" + hmac.new(key, normalise(value).upper().encode("utf-8"), hashlib.sha256).hexdigest()


def same_person(id_number: str, ref: str, key: bytes) -> bool:
    """Whether ``ref`` (a :func:`keyed_hash`) is the keyed hash of ``id_number`` (constant time)."""
    return hmac.compare_digest(keyed_hash(id_number, key), ref)


# ---------------------------------------------------------------- normalising

_SEPARATORS = frozenset(" \t\n\r\f\v-_.·,/\\|:\u00a0\u3000\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fb")
_ASCII_SEPARATORS = frozenset(c for c in _SEPARATORS if c.isascii())


def _fold_char(ch: str) -> str:
    """One input character as it is matched: NFKC, digits folded to ASCII, separators dropped."""
    if ch.isascii():
        return "" if ch in _SEPARATORS else ch
    if unicodedata.category(ch) == "Cf":  # zero-width space, joiners, BOM, bidi marks
        return ""
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        if c in _SEPARATORS or unicodedata.category(c) in ("Zs", "Cf"):
            continue
        d = unicodedata.decimal(c, None)
        out.append(str(d) if d is not None else c)
    return "".join(out)


def _folded(text: str) -> tuple[str, list[int], set[int]]:
    """The normalised text; for each of its characters the index it came from; and the *cuts*,
    the positions where a separator was dropped (zero-width characters are no cut: they hide)."""
    if text.isascii() and _ASCII_SEPARATORS.isdisjoint(text):
        # Nothing to fold or drop (the common case: codes, ASCII ID numbers): the same answer, fast.
        return text, list(range(len(text))), set()
    chars: list[str] = []
    origin: list[int] = []
    cuts: set[int] = set()
    cut = False
    for i, ch in enumerate(text):
        folded = _fold_char(ch)
        if not folded:
            cut = cut or not (not ch.isascii() and unicodedata.category(ch) == "Cf")
            continue
        if cut:
            cuts.add(len(chars))
            cut = False
        for c in folded:
            chars.append(c)
            origin.append(i)
    return "".join(chars), origin, cuts


def normalise(text: str) -> str:
    """NFKC, every Unicode digit as ASCII, separators, spaces and format characters dropped."""
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


# ID-shaped runs in normalised text: a digit run (not inside a longer one) of 17 digits and a
# digit or X, or of exactly 15 digits. Letters around it do not matter.
_RUN = re.compile(r"(?<![0-9])[0-9]+[Xx]?(?![0-9])")


def _candidates(norm: str, cuts: set[int] | frozenset[int] = frozenset()) -> Iterator[tuple[int, int, bool]]:
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
        if n > 18:
            yield from _between_cuts(run, m.start(), cuts)
        if n == 18 and run[:17].isdigit():
            if run[0] != "0" and _date18(run):
                yield m.start(), m.end(), int(run[:2]) in _PROVINCES and _check18(run)
            continue
        if n == 15 and run.isdigit():
            if run[0] != "0" and _date15(run):
                yield m.start(), m.end(), int(run[:2]) in _PROVINCES
            continue
        # a longer run: look for a valid 18-character ID number inside it
        i = 0
        while i + 18 <= n:
            window = run[i : i + 18]
            if window[:17].isdigit() and int(window[:2]) in _PROVINCES and _date18(window) and _check18(window):
                yield m.start() + i, m.start() + i + 18, True
                i += 18
            else:
                i += 1


def _between_cuts(run: str, offset: int, cuts: set[int] | frozenset[int]) -> Iterator[tuple[int, int, bool]]:
    """Windows of a long run that start and end where a separator was (or at the run's ends)."""
    end = offset + len(run)
    edges = sorted({offset, end} | {c for c in cuts if offset < c < end})
    edge_set = set(edges)
    for start in edges:
        for length, plausible in ((18, _date18), (15, _date15)):
            stop = start + length
            if stop not in edge_set:
                continue
            window = run[start - offset : stop - offset]
            digits = window[:17] if length == 18 else window
            if not digits.isdigit() or (length == 18 and not (window[17].isdigit() or window[17] in "Xx")):
                continue
            if length == 15 and not window.isdigit():
                continue
            if window[0] != "0" and plausible(window):
                valid = int(window[:2]) in _PROVINCES and (length == 15 or _check18(window))
                yield start, stop, valid


_DIGITISH = re.compile(r"\d")  # any Unicode decimal digit (full-width, Arabic-Indic, …)
_HASH_TOKEN = re.compile(r"(?<![0-9A-Za-z:])(?:hmac-sha256:)?[0-9a-f]{64}(?![0-9A-Za-z])")
"""sha256 / keyed-hash hex: opaque, never masked (its digits are not an ID number)."""


def _may_hold_id(text: str) -> bool:
    return len(text) >= 15 and len(_DIGITISH.findall(text)) >= 15


def find_id_number(text: str) -> str | None:
    """The first real ID number (:func:`is_id_number`) inside ``text``, normalised; else None.

    The run must be a whole digit run (letters around it do not matter) or a valid number inside
    a longer run. An 18-character run that is also a valid unified social credit code is an
    organisation's code and is not returned.
    """
    if not _may_hold_id(text):
        return None
    norm, _origin, cuts = _folded(text)
    for start, end, valid in _candidates(norm, cuts):
        span = norm[start:end]
        if valid and not is_credit_code(span):
            return span
    return None


def contains_id_number(text: str) -> bool:
    """Whether ``text`` carries a real resident ID number (the *refusing* strength)."""
    return find_id_number(text) is not None


def mask_text(text: str, *, keep_credit_codes: bool = False) -> str:
    """``text`` with every ID-shaped run masked (the *masking* strength, see the module doc).

    ``keep_credit_codes`` (for code fields: service item, certificate, unit) leaves a run that
    is a valid unified social credit code as it is, so that a code still finds its list row.

    A masked run keeps its first 3 and last 2 characters (as normalised) and stars the rest:
    ``申请人 370399 19900101 1234`` -> ``申请人 370*************34``. sha256 / keyed-hash hex
    tokens are left alone.
    """
    if not _may_hold_id(text):
        return text
    protected = [m.span() for m in _HASH_TOKEN.finditer(text)]
    norm, origin, cuts = _folded(text)
    spans: list[tuple[int, int, str]] = []
    for start, end, _valid in _candidates(norm, cuts):
        a, b = origin[start], origin[end - 1] + 1
        if any(p <= a and b <= q for p, q in protected):
            continue
        if keep_credit_codes and is_credit_code(norm[start:end]):
            continue
        spans.append((a, b, mask_id(norm[start:end])))
    if not spans:
        return text
    out, pos = [], 0
    for a, b, masked in sorted(spans):
        if a < pos:
            continue
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
