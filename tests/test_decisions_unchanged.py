"""Compiling the ruleset into decision plans (``engine.plan``) changed no Decision.

1. Against the engine before the plans: every request of ``tests/decision_corpus.py`` (the sample
   cases, generated cases on the Zhangdian overlay and under ``as_of``, the test rulesets, a host
   key, a false-pledge store, hypothesis-drawn requests with malformed ones) gets, on both
   backends, the digest of the very Decision JSON (or error) that ``405bd9c`` gave
   (``tests/data/decisions_405bd9c.json.gz``). Where a set's ruleset files changed since (a new
   side file, clauses added), the stamp's sha256 is put back to the recorded one before the
   digest: every other byte of every Decision must still be the same.
2. Plan against matcher: for random requests, the plan's conditions specialised to the row
   decide exactly as the backend's unspecialised ``fire`` on the full facts does
   (``Engine.decide_with_fired``), and ``Engine.facts_for`` (the row's facts from its plan)
   equals ``facts_for`` (computed afresh).
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import decision_corpus as corpus
import pytest
from conftest import ZIBO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nocert_rules import Engine, load_ruleset
from nocert_rules.engine.core import facts_for
from nocert_rules.errors import NocertError
from nocert_rules.models import parse_request

FIXTURE = corpus.load_fixture()


def _durable() -> bool:
    return subprocess.run([sys.executable, "-c", "from durable import engine"], capture_output=True).returncode == 0


BACKENDS = ["compiled", pytest.param("durable", marks=pytest.mark.skipif(
    not _durable(), reason="durable_rules does not import here (Python 3.13+)"))]


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_decision_is_the_one_405bd9c_gave(backend: str) -> None:
    stored = FIXTURE["sets"]
    checked = 0
    for name, folder, options, requests in corpus.sets(stored["hypothesis"]["requests"]):
        ruleset = load_ruleset(folder)
        stamp = (ruleset.sha256, stored[name]["sha256"])
        engine = Engine(ruleset, backend=backend, **options)
        as_of = corpus.AS_OF.get(name)
        got = [corpus.digest(engine.decide, r, as_of, stamp=stamp) for r in requests]
        differ = [i for i, (a, b) in enumerate(zip(got, stored[name][backend], strict=True)) if a != b]
        assert not differ, f"{name}: {len(differ)} of {len(requests)} decisions differ, e.g. {requests[differ[0]]}"
        checked += len(requests)
    assert checked == sum(s["count"] for s in stored.values())


_ZIBO = load_ruleset(ZIBO)
_ENGINES = [Engine(_ZIBO, backend="compiled")]
if _durable():
    _ENGINES.append(Engine(_ZIBO, backend="durable"))  # decide() keeps what durable_rules fires (a memo)
_ITEMS = sorted(_ZIBO.service_items)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    row = draw(st.sampled_from(_ZIBO.rows))
    item = draw(st.sampled_from([row.service_item_code, *_ITEMS[:3], "370300-XK-9999"]))
    cert = draw(st.sampled_from([row.certificate_id, row.certificate_name, "ZM-NO-0000"]))
    request: dict[str, Any] = {
        "service_item": item, "certificate": cert,
        "applicant": {
            "kind": draw(st.sampled_from(["person", "organization"])), "id_number": corpus.PERSON_ID,
            "credit": draw(st.sampled_from(["trustworthy", "normal", "untrustworthy"])),
            "serious_bad_record": draw(st.booleans()), "bad_record": draw(st.booleans()),
        },
        "requested_at": draw(st.datetimes(min_value=__import__("datetime").datetime(2020, 12, 1),
                                          max_value=__import__("datetime").datetime(2022, 3, 1))).isoformat(),
    }
    if draw(st.booleans()):
        request["applicant"]["blacklisted_since"] = draw(st.sampled_from(["2021-03-01", "2021-09-30"]))
        if draw(st.booleans()):
            request["applicant"]["credit_repaired_on"] = draw(st.sampled_from(["2021-03-01", "2021-06-01"]))
    for flag in ("wants_pledge", "provides_certificate", "sharing_online", "proxy_authorized", "adjustment_pending"):
        value = draw(st.sampled_from([None, True, False]))
        if value is not None:
            request[flag] = value
    return request


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(requests(), min_size=1, max_size=3))
def test_the_plan_decides_as_the_matcher_on_the_full_facts(batch: list[dict[str, Any]]) -> None:
    """Compiled: the specialised conditions against the backend's own ``fire``. Durable: the
    memo of firings (shared by every example, so hits come from other requests) against an
    assertion every time."""
    for engine in _ENGINES:
        for request in batch:
            try:
                planned = engine.decide(request)
            except NocertError as exc:
                with pytest.raises(type(exc)):
                    parse_request(request)
                continue
            req = parse_request(request)
            row = engine.find_row(req)
            facts = facts_for(_ZIBO, req, row)
            assert engine.facts_for(req, row) == facts  # the row's facts from its plan, computed once
            fired = engine.fire(facts)
            assert engine.decide_with_fired(req, row, fired) == planned
            assert engine.decide(request) == planned


def test_the_stamp_memo_gives_the_stamp_built_afresh_and_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """One ruleset stamp per (list day, row version), shared by the decisions of that day: with a
    memo of 3 (evicting all the time) and the default one, every decision equals, and its stamp
    is the one validation builds from the engine's stamp, the day and the row version."""
    from nocert_rules.engine import core
    from nocert_rules.models import RulesetStamp

    requests = corpus.random_requests(_ZIBO, 300, seed=21)
    big = Engine(_ZIBO, backend="compiled")
    monkeypatch.setattr(core, "_STAMP_MEMO", 3)
    small = Engine(_ZIBO, backend="compiled")
    days = set()
    for request in requests * 2:
        try:
            got = small.decide(request)
        except NocertError:
            continue
        assert got.model_dump_json() == big.decide(request).model_dump_json()
        req = parse_request(request)
        row = small.find_row(req)
        assert got.ruleset == RulesetStamp(
            name=_ZIBO.name, version=_ZIBO.version, sha256=_ZIBO.sha256, backend="compiled",
            effective_date=req.requested_at.date(), row_version=row.version if row else None,
        )
        days.add(got.ruleset.effective_date)
        assert len(small._stamps) <= 3
    assert len(days) > 50 and len(big._stamps) > 50
