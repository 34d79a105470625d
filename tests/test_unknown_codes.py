"""Unknown codes are visible: warnings naming the nearest codes, or errors, as the manifest says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import PERSON_ID
from ruleset_factory import MANIFEST, ROWS, RULES, row, write_ruleset

from nocert_rules import Engine, Method, RequestError, load_ruleset
from nocert_rules.cli.main import main
from nocert_rules.models import MAX_CODE
from nocert_rules.tools.lint import lint_ruleset


def req(item: str, cert: str) -> dict[str, Any]:
    return {"service_item": item, "certificate": cert, "requested_at": "2024-06-03T10:00",
            "applicant": {"kind": "person", "id_number": PERSON_ID}}


def test_default_abolishes_with_a_warning_naming_the_nearest(tmp_path: Path) -> None:
    with Engine(load_ruleset(write_ruleset(tmp_path / "rs"))) as engine:
        typo = engine.decide(req("S1", "pledg"))  # a mistyped certificate under a known item
        assert typo.method is Method.ABOLISH and not typo.listed
        assert len(typo.warnings) == 1 and "pledg" in typo.warnings[0] and "'pledge'" not in typo.warnings[0]
        assert "nearest: pledge" in typo.warnings[0]
        case = engine.decide(req("s1", "pledge"))  # the item in the wrong case
        assert "nearest known: S1" in case.warnings[0]
        listed = engine.decide(req("S1", "pledge"))
        assert listed.listed and not [w for w in listed.warnings if "nearest" in w]
        longest = engine.decide(req("S" * MAX_CODE, "x"))  # longer is refused (test_strict_requests)
        assert all(len(w) < 600 and "S" * 65 not in w for w in longest.warnings)


@pytest.mark.parametrize(("field", "args", "path"), [
    ("unknown_service_item", ("S9", "pledge"), "service_item"),
    ("unknown_certificate", ("S1", "pledg"), "certificate"),
])
def test_error_policy_refuses(tmp_path: Path, field: str, args: tuple[str, str], path: str) -> None:
    rs = load_ruleset(write_ruleset(tmp_path / "rs", manifest={**MANIFEST, field: "error"}))
    with Engine(rs) as engine:
        with pytest.raises(RequestError) as info:
            engine.decide(req(*args))
        assert info.value.errors[0][0] == path
        assert engine.decide(req("S1", "pledge")).listed  # known codes are unaffected
    with pytest.raises(Exception):  # noqa: B017 - any validation problem
        load_ruleset(write_ruleset(tmp_path / "bad", manifest={**MANIFEST, field: "ignore"}))


def test_dry_run_counts_unknown_items_and_certificates_apart(tmp_path: Path) -> None:
    rs = write_ruleset(tmp_path / "rs")
    cases = tmp_path / "cases.jsonl"
    lines = [req("S1", "pledge"), req("S1", "pledg"), req("S1", "nothing"), req("S9", "pledge")]
    cases.write_text("\n".join(json.dumps(c) for c in lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["dry-run", str(rs), str(cases), "--json"])
    data = json.loads(result.stdout)
    assert (data["listed"], data["unknown_certificates"], data["unknown_service_items"]) == (1, 2, 1)


def test_lint_lists_case_only_mismatches_on_their_own(tmp_path: Path) -> None:
    rows = [*ROWS, row("s1", "Share", methods=["verification"])]
    rules = [*RULES, {"id": "v.one", "method": "VERIFICATION", "effect": "block",
                      "when": {"row.certificate_id": "VERIFY"}, "clause": "C-verify", "reason": "示例"}]
    result = lint_ruleset(write_ruleset(tmp_path / "rs", rows=rows, rules=rules))
    found = result.case_mismatches
    assert {f.file.rsplit("/", 1)[-1] for f in found} == {"certificates.yaml", "rules.yaml"}
    assert len(found) == 3 and all(f.line for f in found)  # s1 ~ S1, Share ~ share, VERIFY ~ verify
    assert not [f for f in result.warnings if f.code == "case-mismatch"]
    out = CliRunner().invoke(main, ["lint", str(tmp_path / "rs"), "--json"])
    assert len(json.loads(out.stdout)["case_mismatches"]) == 3


@pytest.mark.parametrize("policy", ["abolish", "error"])
def test_the_memo_answers_what_the_unmemoised_path_answers_and_stays_bounded(tmp_path: Path, policy: str) -> None:
    """``UnknownCodes`` keeps one answer per pair of codes, the oldest going when full: pairs
    cycling through a memo of 3 (every answer computed afresh) and a memo of 1000 (every answer
    from the memo on the second round) give the same warnings, or the same error, as the
    unmemoised ``_answer``; the small memo holds 3."""
    from nocert_rules.engine.unknown import UnknownCodes
    from nocert_rules.models import parse_request

    manifest = {**MANIFEST, "unknown_service_item": policy, "unknown_certificate": policy}
    rs = load_ruleset(write_ruleset(tmp_path / "rs", manifest=manifest))
    pairs = [("S1", "pledg"), ("S1", "nothing"), ("s1", "pledge"), ("S9", "x"), ("S1", "PLEDGE"), ("S1", "verif")]
    small, big = UnknownCodes(rs, memo=3), UnknownCodes(rs, memo=1000)

    def answer(codes: UnknownCodes, item: str, cert: str) -> Any:
        try:
            return codes.check(parse_request(req(item, cert)))
        except RequestError as exc:
            return exc.errors

    for _ in range(3):
        for item, cert in pairs:
            refused, texts = UnknownCodes(rs)._answer(item, cert)
            expected = [texts] if refused else list(texts)
            assert answer(small, item, cert) == answer(big, item, cert) == expected
            assert len(expected) == 1 and (("nearest" in str(expected)) is (cert not in ("nothing", "x")))
    assert len(small._memo) == 3 and len(big._memo) == len(pairs)
