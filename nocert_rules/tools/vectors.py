"""Conformance vectors: language-neutral (request, expected answer) pairs for one ruleset version.

A host that re-implements the decision, or caches decisions, proves that it agrees with the
engine by deciding every vector and comparing (docs/vectors.md). ``export_vectors`` gathers:

- ``test``: every YAML test case of the ruleset (``RULESET/tests/*.yaml``); the export fails if
  one of them fails, so the vectors never contradict the ruleset's own tests;
- ``row``: one baseline request per row of the list (and one for a certificate not listed);
- ``rule``: for each policy rule, a request in which it fires, found by a search over the
  request's free facts (credit, blacklist, flags, date in/out of validity, applicant kind),
  preferring one in which the rule shows in the trace (it offered or blocked a method that was
  considered). Rules no request makes fire are listed in ``uncovered_rules``.

Each expected answer has the method, whether the applicant must submit, listed, issuer, the
rules that fired (in order), the rules that offered and blocked a method in the trace, the
deadline (kind and due time, ISO 8601 with offset) and whether a post-check is waived.
The file holds no timestamp: the same ruleset gives the same file.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import date, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from nocert_rules.engine.core import Engine
from nocert_rules.errors import NocertError
from nocert_rules.fileio import replace_atomically
from nocert_rules.models import Decision, DecisionRequest, parse_request
from nocert_rules.policy.ruleset import Ruleset
from nocert_rules.policy.yaml_source import load_located_yaml
from nocert_rules.tools.rule_tests import find_test_files, run_tests

FORMAT = "nocert-rules/conformance-vectors"
FORMAT_VERSION = 1

# Synthetic identities (like examples/cases.jsonl's): never a real person or organisation.
PERSON_ID = "370399199001011234"
ORGANIZATION_ID = "91370300MA3C1234XY"
NOT_LISTED = "NOT-LISTED-0000"


class VectorError(NocertError):
    """The vectors cannot be exported truthfully (a YAML test case fails)."""


def expected_of(engine: Engine, request: DecisionRequest) -> dict[str, Any]:
    """The answer a conforming implementation must give for ``request`` (with the row as in force
    on the request's day, as ``Engine.decide`` finds it: dated versions, repealed bases)."""
    row = engine.find_row(request)
    fired = engine.fire(engine.facts_for(request, row))
    decision = engine.decide_with_fired(request, row, fired)
    return answer(decision, fired)


def answer(decision: Decision, fired: list[str]) -> dict[str, Any]:
    d = decision
    return {
        "method": d.method.value,
        "applicant_must_submit": d.applicant_must_submit,
        "listed": d.listed,
        "issuer": d.issuer,
        "fired": list(fired),
        "offered": [s.rule_id for s in d.trace if s.effect == "offer"],
        "blocked": [s.rule_id for s in d.trace if s.effect == "block"],
        "deadline": {"kind": d.deadline.kind, "due_at": d.deadline.due_at.isoformat()} if d.deadline else None,
        "post_check_waived": d.post_check.waived if d.post_check else None,
    }


def request_json(request: DecisionRequest) -> dict[str, Any]:
    return request.model_dump(mode="json", exclude_none=True)


# ---------------------------------------------------------------- the search over free facts


def _moments(rs: Ruleset) -> list[str]:
    m = rs.manifest
    if m.effective_until is not None:
        inside = m.effective_from + (m.effective_until - m.effective_from) / 2
    else:
        inside = m.effective_from + timedelta(days=30)
    moments = [inside, m.effective_from - timedelta(days=1)]
    if m.effective_until is not None:
        moments.append(m.effective_until + timedelta(days=1))
    return [f"{d.isoformat()}T10:00" for d in moments]


def _factors(day: date) -> list[dict[str, Any]]:
    """Single changes to the baseline request; the search combines up to three of them."""
    before = (day - timedelta(days=200)).isoformat()
    repaired = (day - timedelta(days=30)).isoformat()
    return [
        {"applicant.credit": "trustworthy"},
        {"applicant.credit": "untrustworthy"},
        {"applicant.blacklisted_since": before},
        {"applicant.blacklisted_since": before, "applicant.credit_repaired_on": repaired},
        {"applicant.serious_bad_record": True},
        {"applicant.bad_record": True},
        {"applicant.kind": "organization", "applicant.id_number": ORGANIZATION_ID},
        {"wants_pledge": False},
        {"provides_certificate": True},
        {"sharing_online": False},
        {"proxy_authorized": False},
        {"adjustment_pending": True},
    ]


def _build(service_item: str, certificate: str, at: str, changes: dict[str, Any]) -> dict[str, Any]:
    req: dict[str, Any] = {
        "service_item": service_item, "certificate": certificate,
        "applicant": {"kind": "person", "id_number": PERSON_ID, "credit": "normal"},
        "requested_at": at,
    }
    for key, value in changes.items():
        if key.startswith("applicant."):
            req["applicant"][key.removeprefix("applicant.")] = value
        else:
            req[key] = value
    return req


def _targets(rs: Ruleset) -> list[tuple[str, str]]:
    targets = [(row.service_item_code, row.certificate_id) for row in rs.rows]
    if rs.rows:
        targets.append((rs.rows[0].service_item_code, NOT_LISTED))
    return targets


def _candidates(rs: Ruleset) -> Iterator[tuple[str, dict[str, Any]]]:
    """Requests from simple to complex: each target at each moment, then with 1, 2, 3 factors."""
    moments = _moments(rs)
    targets = _targets(rs)
    day = date.fromisoformat(moments[0][:10])
    factors = _factors(day)
    for size in range(0, 4):
        for combo in itertools.combinations(range(len(factors)), size):
            changes: dict[str, Any] = {}
            clash = False
            for i in combo:
                if set(factors[i]) & set(changes):
                    clash = True
                    break
                changes.update(factors[i])
            if clash:
                continue
            for at in moments:
                for service_item, certificate in targets:
                    label = "+".join(sorted(changes)) or "baseline"
                    yield label, _build(service_item, certificate, at, changes)


def export_vectors(ruleset: Ruleset, engine: Engine | None = None, max_search: int = 200_000) -> dict[str, Any]:
    """The vectors document (JSON-ready). Raises ``VectorError`` if a YAML test case fails."""
    own = engine is None
    engine = engine or Engine(ruleset)
    try:
        return _export(ruleset, engine, max_search)
    finally:
        if own:
            engine.close()


def _export(rs: Ruleset, engine: Engine, max_search: int) -> dict[str, Any]:
    vectors = _test_vectors(rs, engine) + _row_vectors(rs, engine)
    rules, searched, uncovered = _rule_vectors(rs, engine, max_search)
    vectors += rules
    try:
        producer = f"nocert-rules {version('nocert-rules')}"
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        producer = "nocert-rules"
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generated_by": producer,
        "ruleset": {"name": rs.name, "version": rs.version, "sha256": rs.sha256},
        "counts": {"test": sum(v["source"] == "test" for v in vectors), "row": sum(v["source"] == "row" for v in vectors),
                   "rule": sum(v["source"] == "rule" for v in vectors), "searched_requests": searched},
        "uncovered_rules": uncovered,
        "vectors": vectors,
    }


def _test_vectors(rs: Ruleset, engine: Engine) -> list[dict[str, Any]]:
    """1. The ruleset's own test cases (all must pass, or nothing is exported)."""
    files = find_test_files(rs)
    if not files:
        return []
    run = run_tests(rs, files)
    failed = [r for r in run.results if not r.passed]
    if failed:
        raise VectorError(f"{failed[0].where}: 测试用例未通过，不导出 / test case {failed[0].name!r} fails; "
                          f"{len(failed)} failing case(s): run `nocert-rules test` first")
    vectors: list[dict[str, Any]] = []
    for path in files:
        doc = load_located_yaml(path, path.name)
        for i, case in enumerate(doc.data or []):
            request = parse_request(case["request"])
            vectors.append({
                "id": f"test:{path.name}:{doc.line_of((i,))}",
                "source": "test",
                "name": str(case.get("name") or f"#{i + 1}"),
                "input": request_json(request),
                "expected": expected_of(engine, request),
            })
    return vectors


def _row_vectors(rs: Ruleset, engine: Engine) -> list[dict[str, Any]]:
    """2. One baseline per row (and one certificate not listed)."""
    moment = _moments(rs)[0]
    vectors: list[dict[str, Any]] = []
    for service_item, certificate in _targets(rs):
        request = parse_request(_build(service_item, certificate, moment, {}))
        vectors.append({"id": f"row:{service_item}/{certificate}", "source": "row",
                        "input": request_json(request), "expected": expected_of(engine, request)})
    return vectors


def _rule_vectors(rs: Ruleset, engine: Engine, max_search: int) -> tuple[list[dict[str, Any]], int, list[str]]:
    """3. Each rule: a request in which it fires, in the trace if any request puts it there; the
    vectors, how many requests were searched, and the rules no request fired."""
    rule_ids = [rule.id for rule in rs.rules]
    in_trace: set[str] = set()
    fired_somewhere: dict[str, tuple[str, DecisionRequest, dict[str, Any]]] = {}
    vectors: list[dict[str, Any]] = []
    searched = 0
    for label, data in _candidates(rs):
        if len(in_trace) == len(rule_ids) or searched >= max_search:
            break
        searched += 1
        request = parse_request(data)
        exp = expected_of(engine, request)
        shown = set(exp["offered"]) | set(exp["blocked"])
        new = [r for r in exp["fired"] if r in shown and r not in in_trace]
        for r in exp["fired"]:
            fired_somewhere.setdefault(r, (label, request, exp))
        if new:
            in_trace.update(new)
            vectors.append({"id": f"rule:{'+'.join(new)}", "source": "rule", "covers": new, "search": label,
                            "input": request_json(request), "expected": exp})
    for r in rule_ids:
        if r not in in_trace and r in fired_somewhere:
            label, request, exp = fired_somewhere[r]
            vectors.append({"id": f"rule:{r}", "source": "rule", "covers": [r], "search": label,
                            "input": request_json(request), "expected": exp})
    return vectors, searched, [r for r in rule_ids if r not in fired_somewhere]


def check_vectors(engine: Engine, document: dict[str, Any]) -> list[tuple[str, str]]:
    """Decide every vector again; each disagreement as (vector id, ``field: expected X, got Y``)."""
    out: list[tuple[str, str]] = []
    for vector in document.get("vectors", []):
        got = expected_of(engine, parse_request(vector["input"]))
        for key, want in vector["expected"].items():
            if got.get(key) != want:
                out.append((vector["id"], f"{key}: expected {json.dumps(want, ensure_ascii=False)}, "
                                          f"got {json.dumps(got.get(key), ensure_ascii=False)}"))
    return out


def write_vectors(document: dict[str, Any], out: Path) -> None:
    replace_atomically(out, (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))


__all__ = ["VectorError", "answer", "check_vectors", "expected_of", "export_vectors", "write_vectors"]
