"""examples/generate_cases.py and the committed examples/cases.jsonl."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

from conftest import ROOT
from conftest import case_generator as generator

CASES = ROOT / "examples" / "cases.jsonl"


def test_committed_cases_are_what_the_generator_writes() -> None:
    gen = generator()
    lines = CASES.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2001  # 2000 generated, then HAND_WRITTEN
    expected = [json.dumps(c, ensure_ascii=False) for c in gen.generate(count=2000, seed=20210210)]
    assert lines == expected  # regenerate: python examples/generate_cases.py --out examples/cases.jsonl


def test_generator_streams_and_is_deterministic(tmp_path: Path) -> None:
    gen = generator()
    assert inspect.isgenerator(gen.generate(count=10))
    out = tmp_path / "c.jsonl"
    assert gen.main(["--count", "50", "--seed", "7", "--out", str(out)]) == 0
    again = [json.dumps(c, ensure_ascii=False) for c in gen.generate(count=50, seed=7)]
    assert out.read_text(encoding="utf-8").splitlines() == again
    other = [json.dumps(c, ensure_ascii=False) for c in gen.generate(count=50, seed=8)]
    assert other != again


def test_synthetic_ids_have_a_valid_format_and_an_unassigned_area() -> None:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for line in CASES.read_text(encoding="utf-8").splitlines():
        applicant = json.loads(line)["applicant"]
        number = applicant["id_number"]
        assert len(number) == 18
        if applicant["kind"] == "person":
            assert number.startswith("370399") and number[:17].isdigit()
            assert "10X98765432"[sum(int(c) * w for c, w in zip(number, weights, strict=False)) % 11] == number[17]
        else:
            assert number.startswith("91370399")


def test_the_mix_covers_what_the_dry_run_should_see() -> None:
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines()]
    count = lambda pred: sum(1 for c in cases if pred(c))  # noqa: E731
    assert count(lambda c: c["applicant"]["credit"] == "untrustworthy") > 50
    assert count(lambda c: c["applicant"]["credit"] == "trustworthy") > 100
    assert count(lambda c: "blacklisted_since" in c["applicant"]) > 20
    assert count(lambda c: "credit_repaired_on" in c["applicant"]) > 5
    assert count(lambda c: c.get("sharing_online") is False) > 50
    assert count(lambda c: c.get("wants_pledge") is False) > 100
    assert count(lambda c: c.get("provides_certificate") is True) > 50
    assert count(lambda c: c.get("proxy_authorized") is False) > 50
    assert count(lambda c: c["requested_at"] > "2022-02-01T24") > 10  # after the plan expired
    assert count(lambda c: not c["certificate"].startswith("ZM-")) > 100  # by name
    expected = {c["expected_method"] for c in cases if "expected_method" in c}
    assert expected == {"ABOLISH", "APPLICANT_PROVIDED", "DATA_SHARING"}  # only the obvious ones
    assert 500 < count(lambda c: "expected_method" in c) < 2000
