"""The dry-run decision cache (``nocert_rules.engine.cache.CachedEngine``) is exact.

Equal to the plain engine on every case of a generated case set: the project's
``examples/generate_cases.py`` set when present, and a systematic set built here (every row of
the bundled ruleset under all 32 combinations of the request flags, seeded random applicants
and dates, plus unlisted certificates). The set is shown to have teeth: a cache whose key drops
any one of the facts the rules read gives a wrong answer on it.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from conftest import CASE_GENERATOR, PERSON_ID, case_generator

from nocert_rules import Engine, Method, RequestError, Ruleset
from nocert_rules.engine.cache import CachedEngine, Key
from nocert_rules.engine.core import facts_for
from nocert_rules.models import parse_request
from nocert_rules.policy import conditions

FLAGS = ("wants_pledge", "provides_certificate", "sharing_online", "proxy_authorized", "adjustment_pending")
SEED = 20240601


def _applicant(rng: random.Random, at: datetime) -> dict[str, Any]:
    applicant: dict[str, Any] = {
        "kind": rng.choice(["person", "organization"]),
        "id_number": f"3703{rng.randrange(10**13):013d}X",
        "credit": rng.choice(["trustworthy", "normal", "untrustworthy"]),
        "serious_bad_record": rng.random() < 0.15,
        "bad_record": rng.random() < 0.15,
    }
    if rng.random() < 0.5:
        applicant["name"] = rng.choice(["张三", "欧阳娜娜", "Li Si"])
    if rng.random() < 0.3:  # around the blacklist's edges: derived fact applicant.on_blacklist
        since = at.date() + timedelta(days=rng.choice([-400, -30, -1, 0, 1, 30]))
        applicant["blacklisted_since"] = since.isoformat()
        if rng.random() < 0.5:
            repaired = since + timedelta(days=rng.choice([-1, 0, 1, 10, 500]))
            applicant["credit_repaired_on"] = repaired.isoformat()
    return applicant


def systematic_cases(ruleset: Ruleset, seed: int = SEED) -> list[dict[str, Any]]:
    """Every row x every combination of the five request flags, plus unlisted certificates."""
    rng = random.Random(seed)
    start = datetime(2020, 12, 1, 8, 0)
    cases: list[dict[str, Any]] = []
    for row in ruleset.rows:
        for values in itertools.product([False, True], repeat=len(FLAGS)):
            at = start + timedelta(minutes=rng.randrange(60 * 24 * 600))  # before, in and after validity
            case: dict[str, Any] = {
                "service_item": row.service_item_code,
                "certificate": row.certificate_name if rng.random() < 0.1 else row.certificate_id,
                "applicant": _applicant(rng, at),
                "requested_at": at.isoformat(),
                "request_id": f"sys-{len(cases)}",
                **dict(zip(FLAGS, values, strict=True)),
            }
            cases.append(case)
    for i in range(200):
        at = start + timedelta(minutes=rng.randrange(60 * 24 * 600))
        row = rng.choice(ruleset.rows)
        cases.append(
            {
                "service_item": row.service_item_code,
                "certificate": f"ZM-NONE-{i:04d}",
                "applicant": _applicant(rng, at),
                "requested_at": at.isoformat(),
                **{flag: rng.random() < 0.5 for flag in FLAGS},
            }
        )
    return cases


def project_cases() -> list[dict[str, Any]]:
    """The cases of ``examples/generate_cases.py`` (default count and seed), if it exists."""
    if not CASE_GENERATOR.exists():
        return []
    module = case_generator()
    return [{k: v for k, v in c.items() if k not in ("case_id", "expected_method")} for c in module.generate()]


@pytest.fixture(scope="module")
def cases(zibo: Ruleset) -> list[dict[str, Any]]:
    return systematic_cases(zibo) + project_cases()


@pytest.fixture(scope="module")
def reference(zibo_engine: Engine, cases: list[dict[str, Any]]) -> list[Any]:
    return [zibo_engine.decide(c) for c in cases]


@pytest.fixture
def cached(zibo: Ruleset) -> Iterator[CachedEngine]:
    c = CachedEngine(Engine(zibo), maxsize=100_000)
    yield c
    c.close()


def test_the_case_set_reaches_every_method(reference: list[Any]) -> None:
    assert {d.method for d in reference} == set(Method)


def test_equal_to_the_engine_on_every_case_cold_and_warm(
    cached: CachedEngine, cases: list[dict[str, Any]], reference: list[Any]
) -> None:
    for case, expected in zip(cases, reference, strict=True):
        got = cached.decide(case)
        assert got == expected, case
        assert got.model_dump_json() == expected.model_dump_json()
    first = cached.cache_info()
    assert first.hits > 0 and first.misses == first.currsize  # facts repeat: entries are shared
    for case, expected in zip(cases, reference, strict=True):
        assert cached.decide(case) == expected, case
    second = cached.cache_info()
    assert second.misses == first.misses  # all hits the second time
    # one fire per decision, two for one awaiting the applicant's choice (its if_declined)
    assert second.hits == first.hits + len(cases) + sum(d.awaiting_choice for d in reference)


class InexactCache(CachedEngine):
    """A wrong cache: its key leaves out one fact the rules read."""

    def __init__(self, engine: Engine, dropped: str) -> None:
        super().__init__(engine, maxsize=None)
        self.dropped = dropped

    def key(self, facts: Mapping[str, Any]) -> Key:
        sha, items = super().key(facts)
        return (sha, frozenset((k, v) for k, v in items if k != self.dropped))


def _read_facts(ruleset: Ruleset) -> list[str]:
    return sorted(set().union(*(conditions.facts_named(r.when) for r in ruleset.rules)))


def test_the_case_set_catches_a_key_missing_any_fact_the_rules_read(
    zibo: Ruleset, zibo_engine: Engine, cases: list[dict[str, Any]]
) -> None:
    from nocert_rules.records.blacklist import MemoryBlacklist
    from nocert_rules.records.pledge import FalsePledgeEntry

    store = MemoryBlacklist(b"cache-test-key")
    for i, case in enumerate(cases[::5]):  # false pledges found for some applicants (三(五)3)
        found = datetime.fromisoformat(case["requested_at"]) - timedelta(days=(i % 3) - 1)
        store.add(FalsePledgeEntry(
            id=f"fp-{i}", applicant_ref=store.ref(case["applicant"]["id_number"]), applicant_kind=case["applicant"]["kind"],
            pledge_id=f"p-{i}", service_item="s", certificate="c", found_at=found, finding="不实",
            ruleset={"name": "zibo", "version": "v", "sha256": "0" * 64},
        ))
        if i % 4 == 0:
            store.record_repair(store.ref(case["applicant"]["id_number"]), found.date() + timedelta(days=1))
    facts = []
    for case in cases:
        req = parse_request(case)
        facts.append(facts_for(zibo, req, zibo.find_row(req.service_item, req.certificate), blacklist=store))
    fired = [zibo_engine.fire(f) for f in facts]
    read = _read_facts(zibo)
    assert "applicant.on_blacklist" in read  # a derived fact, absent from the raw request
    undetected = []
    for dropped in read:
        inexact = InexactCache(zibo_engine, dropped)
        if all(inexact.fire(f) == expected for f, expected in zip(facts, fired, strict=True)):
            undetected.append(dropped)
    # request.listed cannot be caught: it is implied by the presence of the row.* facts, which
    # stay in the key; row.has_legal_basis neither: in the sample a row without a basis is marked
    # abolished and so differs in row.status and row.legal_basis_sufficient. Every other fact
    # read by a rule is decisive on some case.
    assert undetected == ["request.listed", "row.has_legal_basis"]


def test_per_request_data_is_not_cached(zibo: Ruleset, zibo_engine: Engine, cached: CachedEngine) -> None:
    row = next(r for r in zibo.rows if r.records.value == "electronic" and r.methods and r.methods[0].value == "verification")
    base = {
        "service_item": row.service_item_code,
        "certificate": row.certificate_id,
        "requested_at": "2021-06-01T10:00:00",
        "sharing_online": False,
    }
    a = {**base, "request_id": "a", "applicant": {"kind": "person", "id_number": PERSON_ID, "name": "张三"}}
    b = {
        **base,
        "request_id": "b",
        "requested_at": "2021-06-02T16:50:00",
        "applicant": {"kind": "person", "id_number": "110101198001010015", "name": "李四四"},
    }
    da, db = cached.decide(a), cached.decide(b)
    assert cached.cache_info().hits == 1  # same facts: the second is served from the cache
    assert da == zibo_engine.decide(a) and db == zibo_engine.decide(b)
    assert da.method is Method.VERIFICATION and da.deadline is not None and db.deadline is not None
    assert (da.request_id, db.request_id) == ("a", "b")
    assert da.applicant.id_masked != db.applicant.id_masked
    assert da.requested_at != db.requested_at
    assert da.deadline.due_at != db.deadline.due_at


def test_a_derived_fact_changes_the_key(zibo: Ruleset, zibo_engine: Engine, cached: CachedEngine) -> None:
    """Same raw applicant, asked before and after the day they were blacklisted (三(五)3)."""
    row = next(
        r for r in zibo.rows
        if r.methods and r.methods[0].value == "pledge" and r.status.value == "retained"
        and r.has_legal_basis and not set(r.risk_categories) & set(zibo.manifest.pledge_policy.barring_risk_categories)
    )
    applicant = {"kind": "person", "id_number": PERSON_ID, "blacklisted_since": "2021-06-10"}
    before = {"service_item": row.service_item_code, "certificate": row.certificate_id, "applicant": applicant, "requested_at": "2021-06-09T10:00:00", "wants_pledge": True}
    after = {**before, "requested_at": "2021-06-11T10:00:00"}
    d_before, d_after = cached.decide(before), cached.decide(after)
    assert cached.cache_info().misses == 2
    assert d_before == zibo_engine.decide(before) and d_after == zibo_engine.decide(after)
    assert d_before.method is Method.PLEDGE and d_after.method is not Method.PLEDGE


@pytest.mark.parametrize("maxsize", [0, 1, 7])
def test_bounded_caches_stay_bounded_and_exact(
    zibo: Ruleset, cases: list[dict[str, Any]], reference: list[Any], maxsize: int
) -> None:
    c = CachedEngine(Engine(zibo), maxsize=maxsize)
    try:
        for case, expected in list(zip(cases, reference, strict=True))[::7]:
            assert c.decide(case) == expected
            assert c.cache_info().currsize <= maxsize
    finally:
        c.close()


def test_negative_maxsize_is_refused(zibo_engine: Engine) -> None:
    with pytest.raises(ValueError):
        CachedEngine(zibo_engine, maxsize=-1)


def test_the_key_carries_the_ruleset_hash(tiny: Ruleset, zibo: Ruleset, tiny_engine: Engine, zibo_engine: Engine) -> None:
    request = parse_request(
        {"service_item": "S1", "certificate": "share", "applicant": {"kind": "person", "id_number": PERSON_ID}, "requested_at": "2024-06-03T10:00:00"}
    )
    facts = facts_for(tiny, request, tiny.find_row("S1", "share"))
    assert CachedEngine(tiny_engine).key(facts)[0] == tiny.sha256
    assert CachedEngine(zibo_engine).key(facts)[0] == zibo.sha256 != tiny.sha256


def test_invalid_requests_raise_request_error(cached: CachedEngine) -> None:
    with pytest.raises(RequestError):
        cached.decide({"service_item": "x"})
    with pytest.raises(RequestError):
        cached.decide(["not", "a", "request"])  # type: ignore[arg-type]


def test_threads_share_one_cache(cached: CachedEngine, cases: list[dict[str, Any]], reference: list[Any]) -> None:
    wrong = [0] * 4
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work(t: int) -> None:
        try:
            barrier.wait()
            for i in range(t, len(cases), 3):
                if cached.decide(cases[i]) != reference[i]:
                    wrong[t] += 1
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == [] and wrong == [0, 0, 0, 0]
    info = cached.cache_info()
    decided = [i for t in range(4) for i in range(t, len(cases), 3)]
    # one fire per decision, two for one awaiting the applicant's choice
    assert info.hits + info.misses == len(decided) + sum(reference[i].awaiting_choice for i in decided)


def test_dates_outside_validity_are_in_the_set(cases: list[dict[str, Any]], zibo: Ruleset) -> None:
    """The systematic set spans the ruleset's validity (expired / not-yet-valid warnings)."""
    days = {date.fromisoformat(c["requested_at"][:10]) for c in cases}
    m = zibo.manifest
    assert min(days) < m.effective_from and m.effective_until is not None and max(days) > m.effective_until

