"""A differential check of mutants judged equivalent (docs/mutation-testing.md), not a proof.

Run from ``mutants/`` after a mutmut run: ``cd mutants && ../.venv/bin/python
../tests/mutmut_equivalence_check.py [N]``. Each survivor (``mutmut results``) is switched on in
turn (mutmut's trampolines read ``MUTANT_UNDER_TEST`` on every call) and N random texts (ID
numbers, phones, cards, addresses, tokens, separators, full-width, circled, zero-width and
compatibility characters, combining marks) go through the public functions of ``privacy``; any output that differs from the
unmutated one is printed with its text.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable

os.environ["MUTANT_UNDER_TEST"] = ""
sys.path.insert(0, os.getcwd())  # the mutated tree, not the installed package

import nocert_rules.privacy as p  # noqa: E402

ALPHABET = list("0123456789" * 6 + "Xx  -.,/()+@abcAZ") + [
    "①", "③", "８", "\u200b", "．", "＠", "﹫", "\u3000", "李", "娜", "٣", "\x1b", "\u0100", "\u202e", "㈱",
    "\u0301", "\u20dd", "e", "\uf90a", "金"]
PIECES = ["370399199001011231", "11010519491231002X", "500101198503151238", "358107207704185265", "370399900101123",
          "13812345678", "4370111001001006", "zhang.san@example.com", "0b1d2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
          "91370300MA3C1234XY"]


def sample(rnd: random.Random) -> str:
    parts = [rnd.choice(PIECES) if rnd.random() < 0.5 else "".join(rnd.choices(ALPHABET, k=rnd.randint(0, 25)))
             for _ in range(rnd.randint(1, 4))]
    return rnd.choice(["", " ", "-", "李", "a"]).join(parts)


def outputs(t: str) -> list[object]:
    digits = "".join(c for c in t if c.isascii() and c.isdigit())
    calls: list[Callable[[], object]] = [
        lambda: p.mask_text(t), lambda: p.mask_text(t, keep_credit_codes=True), lambda: p.find_id_number(t),
        lambda: p.mask_text(t, personal=["李娜", "zhang"]), lambda: p.mask_known(t, ["李娜", "㈱李"]),
        lambda: p.mask_known(t, ["e\u0301mile", "\uf90a娜"]),
        lambda: p.normalise(t), lambda: p.is_credit_code(t), lambda: p.is_id_number(t), lambda: p.printable(t),
        lambda: p.mask_phone(t) if t else "", lambda: p.luhn_ok(digits), lambda: p.keyed_hash(t, b"k"),
        lambda: p.mask_name(t)]
    out: list[object] = []
    for call in calls:
        try:
            out.append(call())
        except Exception as exc:  # a mutant that raises where the original does not differs
            out.append(type(exc).__name__)
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    results = subprocess.run([".venv/bin/mutmut", "results"], capture_output=True, text=True, check=True, cwd="..").stdout
    survivors = [line.split(":")[0].strip() for line in results.splitlines() if line.strip().endswith("survived")]
    rnd = random.Random(7)
    texts = [sample(rnd) for _ in range(n)]
    expected = [outputs(t) for t in texts]
    for name in survivors:
        os.environ["MUTANT_UNDER_TEST"] = name
        differs = next((t for t, e in zip(texts, expected, strict=True) if outputs(t) != e), None)
        print(name, "same" if differs is None else f"DIFFERS on {differs!r}")
    os.environ["MUTANT_UNDER_TEST"] = ""


if __name__ == "__main__":
    main()
