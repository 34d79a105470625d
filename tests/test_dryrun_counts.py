"""The dry-run counts exactly what deciding every case does.

The reference is the plain ``Engine.decide`` of every case, each decision counted by the summary
code as it was before the dry-run took decisions in chunks (``reference_add`` below, kept
verbatim): summaries must be equal for the sample cases, generated cases on the city list and on
a district overlay with dated rows and adjustments, ``--as-of``, files with malformed lines and
files of random lines (hypothesis); JSON lines read the same whatever decoder reads them.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ORG_ID, PERSON_ID, ROOT, VALID_PERSON_ID, case_generator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nocert_rules import Engine, load_ruleset
from nocert_rules.enums import Method
from nocert_rules.errors import NocertError
from nocert_rules.models import Decision
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.tools.casefile import Case, apply_as_of, iter_cases, parse_as_of
from nocert_rules.tools.dryrun import NOT_LISTED, Summary, run_dry_run

ZHANGDIAN = ROOT / "rulesets" / "zibo-zhangdian"


def reference_add(summary: Summary, case: Case, decision: Decision, ruleset: Ruleset) -> None:
    """``Summary.add_decision`` as it was before outcomes (the counting, field by field)."""
    summary.rows += 1
    summary.decided += 1
    method = decision.method.value
    summary.methods[method] += 1
    summary.listed += decision.listed
    if not decision.listed:
        if decision.service_item in ruleset.service_items:
            summary.unknown_certificates += 1
        else:
            summary.unknown_service_items += 1
    summary.must_submit += decision.applicant_must_submit
    summary.issuer_methods[(decision.issuer or NOT_LISTED, method)] += 1
    blocked = [s.rule_id for s in decision.trace if s.effect == "block" and s.method is Method.PLEDGE]
    if blocked:
        summary.pledge_blocked_cases += 1
        summary.pledge_blocked_by_rule.update(blocked)
    d = decision.deadline
    if d is not None:
        key = (d.kind, d.rule, d.clause)
        working = ruleset.calendar.working_time_between(decision.requested_at, d.due_at)
        minutes = round(working / timedelta(minutes=1))
        hours = math.ceil((d.due_at - decision.requested_at) / timedelta(hours=1))
        summary.deadline_minutes.setdefault(key, Counter())[minutes] += 1
        summary.deadline_hours.setdefault(key, Counter())[hours] += 1
    summary.warnings.update(decision.warnings)
    if case.expected_method is not None:
        summary.expected_checked += 1
        if case.expected_method is not decision.method:
            summary.mismatched += 1


def plain_summary(ruleset: Ruleset, path: Path, as_of: datetime | None = None) -> dict[str, Any]:
    """Every case decided by a plain Engine and counted by ``reference_add``."""
    engine = Engine(ruleset)
    summary = Summary()
    try:
        for case in iter_cases(str(path)):
            if case.error is not None or case.request is None:
                summary.add_error(case, case.error or "empty row")
                continue
            try:
                decision = engine.decide(apply_as_of(case.request, as_of))
            except (NocertError, ValueError) as exc:
                summary.add_error(case, str(exc))
                continue
            before = summary.mismatched
            reference_add(summary, case, decision, ruleset)
            if summary.mismatched > before and len(summary.mismatch_samples) < 100:
                assert case.expected_method is not None
                summary.mismatch_samples.append({"line": case.line, "case_id": case.case_id,
                                                 "expected": case.expected_method.value,
                                                 "got": decision.method.value})
    finally:
        engine.close()
    return summary.to_dict(ruleset)


def dry_run_summary(ruleset: Ruleset, path: Path, as_of: datetime | None = None) -> dict[str, Any]:
    return run_dry_run(ruleset, str(path), as_of=as_of, chunk_size=97).summary.to_dict(ruleset)


def generated(path: Path, ruleset: Path, count: int, seed: int) -> Path:
    gen = case_generator()
    with path.open("w", encoding="utf-8") as out:
        gen.write(out, gen.generate(ruleset, count, seed))
    return path


BAD_LINES = [
    '{"service_item": "370300-XK-0005", "certificate": "ZM-SF-0001"',  # bad JSON
    "[1, 2, 3]",
    json.dumps({"service_item": "370300-XK-0005", "certificate": "ZM-SF-0001",
                "applicant": {"kind": "person", "id_number": PERSON_ID}, "requested_at": 1620000000}),
    json.dumps({"service_item": "370300-XK-0005", "certificate": "ZM-SF-0001", "request_id": VALID_PERSON_ID,
                "applicant": {"kind": "person", "id_number": PERSON_ID}, "requested_at": "2021-05-05T10:00"}),
    json.dumps({"service_item": "370300-XK-0005", "certificate": "ZM-SF-0001", "requesting_unit": "窗口 " + VALID_PERSON_ID,
                "applicant": {"kind": "person", "id_number": PERSON_ID}, "requested_at": "2021-05-05T10:00"}),
    json.dumps({"service_item": "370300-XK-0005", "certificate": "ZM-SF-0001",
                "applicant": {"kind": "person", "id_number": "   "}, "requested_at": "2021-05-05T10:00"}),
    json.dumps({"service_item": "370300-XK-0005", "certificate": "ZM-SF-0001",
                "applicant": {"kind": "person", "id_number": PERSON_ID, "name": 7}, "requested_at": "2021-05-05T10:00"}),
    json.dumps({"service_item": "370300-XK-0005", "certificate": "ZM-SF-0001", "colour": "blue",
                "applicant": {"kind": "person", "id_number": PERSON_ID}, "requested_at": "2021-05-05T10:00"}),
    json.dumps({"service_item": "370300-XK-0005", "certificate": "ZM-SF-0001",
                "applicant": {"kind": "person", "id_number": PERSON_ID}, "requested_at": "2021-02-30T10:00"}),
    json.dumps({"service_item": "370300-XK-0005", "certificate": "ZM-SF-0001",
                "applicant": {"kind": "person", "id_number": PERSON_ID}, "requested_at": "1989-12-31T10:00"}),
    json.dumps({"service_item": "370300-XK-0005", "certificate": "ZM-SF-0001",
                "applicant": {"kind": "person", "id_number": PERSON_ID}}),
    json.dumps({"service_item": "370300-XK-9999", "certificate": "ZM-SF-0001",
                "applicant": {"kind": "person", "id_number": PERSON_ID}, "requested_at": "2021-05-05T10:00"}),
    json.dumps({"service_item": "370300-XK-0005", "certificate": "ZM-NO-0000", "request_id": "R-" + PERSON_ID,
                "applicant": {"kind": "organisation", "id_number": ORG_ID}, "requested_at": "2021-05-05T10:00"}),
    json.dumps({"service_item": " 370300-XK-0005 ", "certificate": "ZM-SF-0001", "wants_pledge": "yes",
                "applicant": {"kind": "person", "id_number": f" {PERSON_ID} ", "name": "张三"},
                "requested_at": "2021-05-05T10:00+00:00"}),
    "",
    "   ",
    json.dumps({"case_id": "C" + PERSON_ID, "request": {"service_item": "370300-XK-0005", "certificate": "ZM-SF-0001",
                "applicant": {"kind": "person", "id_number": PERSON_ID}, "requested_at": "2021-05-05T10:00"}}),
]


def with_bad_lines(path: Path) -> Path:
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, bad in enumerate(BAD_LINES):
        lines.insert(7 * i + 3, bad)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def zhangdian() -> Ruleset:
    return load_ruleset(ZHANGDIAN)


def test_sample_cases_count_the_same(zibo: Ruleset) -> None:
    path = ROOT / "examples" / "cases.jsonl"
    assert dry_run_summary(zibo, path) == plain_summary(zibo, path)


def test_generated_cases_with_malformed_lines_count_the_same(zibo: Ruleset, tmp_path: Path) -> None:
    path = with_bad_lines(generated(tmp_path / "c.jsonl", ROOT / "rulesets" / "zibo", 3000, 7))
    fast = dry_run_summary(zibo, path)
    assert fast == plain_summary(zibo, path)
    assert fast["malformed"] >= 10 and fast["deadlines"] and fast["pledge_blocked"]["cases"]
    assert fast["unknown_service_items"] and fast["unknown_certificates"]
    assert PERSON_ID not in json.dumps(fast, ensure_ascii=False)
    assert VALID_PERSON_ID not in json.dumps(fast, ensure_ascii=False)


def test_district_overlay_with_dated_rows_and_adjustments(zhangdian: Ruleset, tmp_path: Path) -> None:
    path = generated(tmp_path / "d.jsonl", ZHANGDIAN, 3000, 11)
    # the adjustment's pending window and its publication (rulesets/zibo-zhangdian/adjustments.yaml)
    extra = [json.dumps({"service_item": "370300-JF-0010", "certificate": "ZM-TY-0002",
                         "applicant": {"kind": "person", "id_number": PERSON_ID},
                         "requested_at": f"2021-12-{day:02d}T{hour:02d}:{minute:02d}"})
             for day in range(1, 32, 2) for hour in (9, 15) for minute in (0, 20)]
    with path.open("a", encoding="utf-8") as f:
        f.write("\n".join(extra) + "\n")
    fast = dry_run_summary(zhangdian, path)
    assert fast == plain_summary(zhangdian, path)
    assert any(d["kind"] == "verification_reply" for d in fast["deadlines"])


@pytest.mark.parametrize("as_of", ["2021-03-01", "2022-02-15T16:45", "2021-12-20"])
def test_as_of_counts_the_same(zhangdian: Ruleset, tmp_path: Path, as_of: str) -> None:
    path = generated(tmp_path / "a.jsonl", ZHANGDIAN, 600, 3)
    moment = parse_as_of(as_of)
    assert dry_run_summary(zhangdian, path, moment) == plain_summary(zhangdian, path, moment)










# ------------------------------------------------------------------ random requests


def _codes(zibo: Ruleset) -> tuple[list[str], list[str]]:
    items = sorted(zibo.service_items)[:12]
    certs = sorted({r.certificate_id for r in zibo.rows})[:12] + sorted({r.certificate_name for r in zibo.rows})[:4]
    return items, certs


_ZIBO = load_ruleset(ROOT / "rulesets" / "zibo")
_ITEMS, _CERTS = _codes(_ZIBO)

free_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from([PERSON_ID, VALID_PERSON_ID, ORG_ID, "R-" + VALID_PERSON_ID, "窗口" + PERSON_ID, "x" * 130,
                     "x" * 210, " ", ""]),
)
odd = st.one_of(st.integers(-3, 3), st.integers(2**64, 2**70), st.floats(allow_nan=False, allow_infinity=False),
                st.lists(st.integers(), max_size=2),
                st.dictionaries(st.text(max_size=3), st.integers(), max_size=1))
day = st.dates(min_value=datetime(1989, 12, 1).date(), max_value=datetime(2023, 3, 1).date())
moment = st.one_of(
    st.builds(lambda d, h, m: f"{d.isoformat()}T{h:02d}:{m:02d}", st.dates(min_value=datetime(2021, 1, 1).date(),
              max_value=datetime(2022, 3, 1).date()), st.sampled_from([0, 8, 9, 11, 12, 14, 16, 17, 23]),
              st.sampled_from([0, 15, 29, 30, 59])),
    st.sampled_from(["2021-06-08", "2021-06-08T10:00:00+00:00", "2021-06-08T23:30-05:00", "2021-02-30T10:00",
                     "1989-12-31T23:59", "2200-01-01T00:00", "not a time", "2021-06-08T10:00Z", "x" * 70]),
    day.map(lambda d: d.isoformat() + "T10:00"),
    odd,
)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(ABSENT), st.none(), strategy)


ABSENT = object()


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    applicant: dict[str, Any] = {
        "kind": draw(st.sampled_from(["person", "organisation", "robot"]) | odd),
        "id_number": draw(st.sampled_from([PERSON_ID, ORG_ID, " " + PERSON_ID, "1"]) | free_text | odd),
        "name": draw(_maybe(free_text | odd)),
        "credit": draw(_maybe(st.sampled_from(["trustworthy", "normal", "untrustworthy", "bad"]) | odd)),
        "blacklisted_since": draw(_maybe(day.map(str) | st.sampled_from(["2021-13-01", "soon"]) | odd)),
        "credit_repaired_on": draw(_maybe(day.map(str) | odd)),
        "serious_bad_record": draw(_maybe(st.booleans() | odd)),
        "bad_record": draw(_maybe(st.booleans() | st.sampled_from(["yes", "false"]))),
    }
    request: dict[str, Any] = {
        "service_item": draw(st.sampled_from(_ITEMS) | st.sampled_from(["370300-XK-9999", " 370300-XK-0005 ", ""])
                             | free_text | odd),
        "certificate": draw(st.sampled_from(_CERTS) | st.sampled_from(["ZM-NO-0000", "村委会证明"]) | free_text),
        "applicant": {k: v for k, v in applicant.items() if v is not ABSENT},
        "requested_at": draw(moment),
        "wants_pledge": draw(_maybe(st.booleans() | odd)),
        "provides_certificate": draw(_maybe(st.booleans())),
        "sharing_online": draw(_maybe(st.booleans() | st.sampled_from(["no"]))),
        "proxy_authorized": draw(_maybe(st.booleans())),
        "adjustment_pending": draw(_maybe(st.booleans())),
        "request_id": draw(_maybe(free_text | odd)),
        "requesting_unit": draw(_maybe(free_text)),
    }
    if draw(st.integers(0, 19)) == 0:
        request["colour"] = "blue"
    if draw(st.integers(0, 29)) == 0:
        del request["requested_at"]
    if draw(st.integers(0, 29)) == 0:
        request["applicant"] = draw(odd)
    return {k: v for k, v in request.items() if v is not ABSENT}








def as_line(request: dict[str, Any], case_id: Any, expected: Any) -> dict[str, Any]:
    """A case line's object as the dry-run reads it (orjson with the extra ``fast``: the fast
    lane's input, which it takes apart; json without it, when the lane is off)."""
    line = json.loads(json.dumps(request))
    if case_id is not ABSENT:
        line["case_id"] = case_id
    if expected is not ABSENT:
        line["expected_method"] = expected
    return line




case_ids = st.one_of(st.just(ABSENT), st.none(), st.text(max_size=8), st.integers(-5, 10**6), st.booleans(),
                     st.just("C" * 201), st.floats(allow_nan=False))
expected_methods = st.one_of(st.just(ABSENT), st.none(), st.just(""), st.sampled_from([m.value for m in Method]),
                             st.sampled_from(["告知承诺", "pledge", "WHATEVER"]), st.integers(0, 2))








@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow,
                                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(requests(), case_ids, expected_methods), min_size=1, max_size=30))
def test_files_of_random_lines_count_the_same(tmp_path_factory: pytest.TempPathFactory,
                                              batch: list[tuple[dict[str, Any], Any, Any]]) -> None:
    """Whole files of random lines (with case ids and expected methods of every shape): the dry
    run's summary, equals deciding every case with a plain engine."""
    path = tmp_path_factory.mktemp("lines") / "r.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for request, case_id, expected in batch:
            out.write(json.dumps(as_line(request, case_id, expected), ensure_ascii=False) + "\n")
    assert dry_run_summary(_ZIBO, path) == plain_summary(_ZIBO, path)


# ------------------------------------------------------------------ reading JSON lines

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=2**62, max_value=2**70).map(lambda n: -n)
    | st.integers(min_value=2**63, max_value=2**80) | st.floats(allow_nan=False) | st.text(max_size=6)
    | st.sampled_from(["é", "\u2028", "\x00"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, database=None)
@given(json_values, st.sampled_from(["wrapped", "flat", "surrogate", "nan", "cut"]))
def test_case_lines_read_as_json_reads_them(value: Any, shape: str) -> None:
    """Whatever decoder reads a line (orjson where installed), the case is the one json gives."""
    from nocert_rules.tools import casefile

    if shape == "wrapped":
        text = json.dumps({"case_id": 12345678901234567890123, "request": {"x": value}})
    else:
        text = json.dumps({"v": value, "case_id": 7, "expected_method": "PLEDGE"})
    if shape == "surrogate":
        text = text[:-1] + ', "s": "\\ud800"}'
    elif shape == "nan":
        text = text[:-1] + ', "n": NaN}'
    elif shape == "cut":
        text = text[:-1]
    got = casefile.parse_raw(casefile.RawCase(1, text))
    fast, casefile._fast_loads = casefile._fast_loads, None
    try:
        expected = casefile.parse_raw(casefile.RawCase(1, text))
    finally:
        casefile._fast_loads = fast
    assert repr(got) == repr(expected)
    assert type(got.case_id) is type(expected.case_id)


def test_day_memo_bounds_the_engine_and_the_dry_run_keeps_more(zibo: Ruleset) -> None:
    """``Engine(day_memo=)``: date-only deadlines and validity kept for at most that many; the
    dry-run's engine keeps ``dryrun.DAY_MEMO`` of them, a host's engine the small default."""
    from datetime import date

    from nocert_rules.engine import core
    from nocert_rules.enums import CreditLevel
    from nocert_rules.tools import dryrun

    row = next(r for r in zibo.rows if r.valid_from is None and r.records.value == "paper")
    small = Engine(zibo, day_memo=3)
    plain = Engine(zibo)
    for n in range(1, 29):
        day = date(2021, 6, n)
        at = datetime.fromisoformat(f"2021-06-{n:02d}T10:00+08:00")
        got = small.deadline_for(Method.VERIFICATION, CreditLevel.NORMAL, at, row, day)
        assert got == plain.deadline_for(Method.VERIFICATION, CreditLevel.NORMAL, at, row, day)
        assert got is not None
        assert len(small._day_deadlines) <= 3
    assert len(plain._day_deadlines) == 28
    big = dryrun._engine(zibo, None)
    assert big._day_memo == dryrun.DAY_MEMO > core._DAY_DEADLINE_MEMO == plain._day_memo


