"""A fixed corpus of decision requests, and digests of the decisions a tree gives for them.

The proof that compiling the ruleset into decision plans changed no Decision
(``tests/test_decisions_unchanged.py``): the corpus was decided by the engine at ``405bd9c``
(before the plans) and the digests kept in ``tests/data/decisions_405bd9c.json.gz``; the
engine of this tree must give the same digest for every request, on both backends.

    python tests/decision_corpus.py OUT.json.gz      # with the tree to record first on sys.path

Sets (each on its own ruleset; every request decided with ``as_of`` as given):

- ``cases``: ``examples/cases.jsonl`` on Zibo;
- ``zhangdian``: generated cases on the Zhangdian overlay (dated rows, adjustments), also under
  two ``as_of`` dates;
- ``tiny`` / ``newcomer``: the test rulesets of ``tests/ruleset_factory.py``, random requests;
- ``key`` / ``blacklist``: Zibo with a host key (``applicant.ref``) / a false-pledge store;
- ``hypothesis``: requests drawn (derandomised) from the strategy below, malformed ones
  included (their errors are digested too); kept in the fixture, since a later hypothesis may
  draw others.

A digest is the first 16 hex digits of the SHA-256 of ``model_dump_json()``, or ``E:`` and
those of the error's type and message.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import sys
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

PERSON_ID = "370399199001011234"
ORG_ID = "91370300MA3C1234XY"
VALID_PERSON_ID = "370399199001011231"
FIXTURE = HERE / "data" / "decisions_405bd9c.json.gz"
AS_OF = {"zhangdian@2021-03-01": date(2021, 3, 1), "zhangdian@2022-02-15T16:45": datetime(2022, 2, 15, 16, 45)}


def digest(decide: Any, *args: Any, stamp: tuple[str, str] | None = None) -> str:
    """The digest of what ``decide(*args)`` answers; ``stamp=(now, then)`` puts the ruleset's
    sha256 of then in place of now's before digesting (the files changed, the decisions may not)."""
    try:
        decision = decide(*args)
    except Exception as exc:  # noqa: BLE001 - an error is an answer too; its type and text are digested
        text = f"{type(exc).__name__}:{exc}"
        return "E:" + hashlib.sha256(text.encode()).hexdigest()[:16]
    text = decision.model_dump_json()
    if stamp is not None:
        text = text.replace(stamp[0], stamp[1])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def generated(ruleset: Path, n: int, seed: int) -> list[dict[str, Any]]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate_cases", ROOT / "examples" / "generate_cases.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [strip(case) for case in module.generate(ruleset, n, seed)]


def strip(case: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in case.items() if k not in ("case_id", "expected_method")}


def random_requests(ruleset: Any, n: int, seed: int) -> list[dict[str, Any]]:
    """Seeded random requests over every row of ``ruleset`` (every flag, credit, blacklist
    state, unlisted codes, dates around the ruleset's validity)."""
    rng = random.Random(seed)
    first = datetime.combine(ruleset.manifest.effective_from, datetime.min.time()) - timedelta(days=60)
    span = 60 * 24 * 900
    rows = ruleset.rows
    out = []
    for i in range(n):
        row = rng.choice(rows)
        item, cert = row.service_item_code, row.certificate_id
        pick = rng.random()
        if pick < 0.05:
            cert = f"ZM-XX-{rng.randrange(100):02d}"
        elif pick < 0.08:
            item = item + "9"
        elif pick < 0.15:
            cert = row.certificate_name
        at = first + timedelta(minutes=rng.randrange(span))
        applicant: dict[str, Any] = {
            "kind": rng.choice(["person", "organization"]),
            "id_number": rng.choice([PERSON_ID, ORG_ID, f"37039919800101{rng.randrange(1000, 9999)}"]),
            "credit": rng.choice(["trustworthy", "normal", "untrustworthy"]),
            "serious_bad_record": rng.random() < 0.1,
            "bad_record": rng.random() < 0.1,
        }
        if rng.random() < 0.5:
            applicant["name"] = rng.choice(["张三", "欧阳娜娜", "Zhang San"])
        if rng.random() < 0.2:
            since = at.date() - timedelta(days=rng.randrange(-30, 400))
            applicant["blacklisted_since"] = since.isoformat()
            if rng.random() < 0.5:
                applicant["credit_repaired_on"] = (since + timedelta(days=rng.randrange(-5, 200))).isoformat()
        request: dict[str, Any] = {"service_item": item, "certificate": cert, "applicant": applicant,
                                   "requested_at": at.isoformat(timespec="minutes")}
        if rng.random() < 0.5:
            request["request_id"] = f"R-{i}"
        if rng.random() < 0.3:
            request["requesting_unit"] = rng.choice(["窗口一", "unit-2"])
        for flag in ("wants_pledge", "provides_certificate", "sharing_online", "proxy_authorized", "adjustment_pending"):
            if rng.random() < 0.5:
                request[flag] = rng.random() < 0.5
        out.append(request)
    return out


class Store:
    """A false-pledge lookup: found twice for IDs ending in 1-3, repaired for those ending in 3."""

    def false_pledge_status(self, id_number: str) -> Any:
        from nocert_rules.engine.credit import FalsePledgeStatus

        last = id_number[-1:]
        if last not in "123":
            return FalsePledgeStatus()
        found = (datetime(2021, 3, 1, 10, 0).astimezone(), datetime(2021, 7, 1, 10, 0).astimezone())
        return FalsePledgeStatus(found_at=found, repaired_on=date(2021, 8, 1) if last == "3" else None)


def hypothesis_requests(n: int) -> list[dict[str, Any]]:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    from nocert_rules import load_ruleset

    zibo = load_ruleset(ROOT / "rulesets" / "zibo")
    items = sorted(zibo.service_items)[:12]
    certs = sorted({r.certificate_id for r in zibo.rows})[:12] + sorted({r.certificate_name for r in zibo.rows})[:4]
    absent = object()
    free_text = st.one_of(st.text(max_size=12), st.sampled_from(
        [PERSON_ID, VALID_PERSON_ID, ORG_ID, "R-" + VALID_PERSON_ID, "窗口" + PERSON_ID, "x" * 130, " ", ""]))
    odd = st.one_of(st.integers(-3, 3), st.integers(2**64, 2**70), st.floats(allow_nan=False, allow_infinity=False),
                    st.lists(st.integers(), max_size=2))
    day = st.dates(min_value=date(1989, 12, 1), max_value=date(2023, 3, 1))
    good_moment = st.builds(
        lambda d, h, m: f"{d.isoformat()}T{h:02d}:{m:02d}", st.dates(min_value=date(2020, 11, 1),
        max_value=date(2022, 3, 1)), st.sampled_from([0, 8, 9, 11, 12, 14, 16, 17, 23]), st.sampled_from([0, 15, 29, 30, 59]))
    odd_moment = st.one_of(
        st.builds(lambda d, h, m: f"{d.isoformat()}T{h:02d}:{m:02d}", st.dates(min_value=date(2021, 1, 1),
                  max_value=date(2022, 3, 1)), st.sampled_from([0, 8, 9, 11, 12, 14, 16, 17, 23]),
                  st.sampled_from([0, 15, 29, 30, 59])),
        st.sampled_from(["2021-06-08", "2021-06-08T10:00:00+00:00", "2021-06-08T23:30-05:00", "2021-02-30T10:00",
                         "1989-12-31T23:59", "2200-01-01T00:00", "not a time", "x" * 70]),
        odd,
    )

    def maybe(strategy: Any) -> Any:
        return st.one_of(st.just(absent), st.none(), strategy)

    @st.composite
    def requests(draw: Any) -> dict[str, Any]:
        applicant = {
            "kind": draw(st.sampled_from(["person", "organization"])),
            "id_number": draw(st.sampled_from([PERSON_ID, ORG_ID, " " + PERSON_ID, "37039919800101123X"])),
            "name": draw(maybe(st.sampled_from(["张三", "欧阳娜娜", "Li"]))),
            "credit": draw(maybe(st.sampled_from(["trustworthy", "normal", "untrustworthy"]))),
            "blacklisted_since": draw(maybe(day.map(str))),
            "credit_repaired_on": draw(maybe(day.map(str))),
            "serious_bad_record": draw(maybe(st.booleans())),
            "bad_record": draw(maybe(st.booleans())),
        }
        applicant = {k: v for k, v in applicant.items() if v is not absent and (v is not None or k == "name")}
        row = draw(st.sampled_from(zibo.rows))
        item, cert = row.service_item_code, draw(st.sampled_from([row.certificate_id, row.certificate_name]))
        if draw(st.integers(0, 6)) == 0:
            item = draw(st.sampled_from(items) | st.sampled_from(["370300-XK-9999", " 370300-XK-0005 "]))
            cert = draw(st.sampled_from(certs) | st.sampled_from(["ZM-NO-0000", "村委会证明"]))
        request = {
            "service_item": item,
            "certificate": cert,
            "applicant": applicant,
            "requested_at": draw(good_moment if draw(st.integers(0, 9)) else odd_moment),
            "wants_pledge": draw(maybe(st.booleans())),
            "provides_certificate": draw(st.just(absent) | st.booleans()),
            "sharing_online": draw(st.just(absent) | st.booleans()),
            "proxy_authorized": draw(st.just(absent) | st.booleans()),
            "adjustment_pending": draw(st.just(absent) | st.booleans()),
            "request_id": draw(maybe(st.sampled_from(["R-1", "窗口" + PERSON_ID, "R-" + VALID_PERSON_ID, "x" * 130]))),
            "requesting_unit": draw(maybe(st.sampled_from(["窗口一", "unit-2"]))),
        }
        request = {k: v for k, v in request.items() if v is not absent}
        spoil = draw(st.integers(0, 9))
        if spoil == 0:  # one field malformed: the error is the answer
            field = draw(st.sampled_from(["service_item", "certificate", "requested_at", "wants_pledge", "colour"]))
            request[field] = draw(free_text | odd)
        elif spoil == 1:
            request["applicant"] = dict(applicant, **{draw(st.sampled_from(["kind", "id_number", "credit"])):
                                                      draw(free_text | odd)})
        return request

    out: list[dict[str, Any]] = []

    @settings(max_examples=n, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(requests())
    def collect(request: dict[str, Any]) -> None:
        out.append(json.loads(json.dumps(request)))

    collect()
    return out


def sets(stored_hypothesis: list[dict[str, Any]] | None = None) -> Iterator[tuple[str, Path, dict[str, Any], list[Any]]]:
    """(set name, ruleset folder, Engine keyword arguments, requests) of every set."""
    from ruleset_factory import write_newcomer_ruleset, write_ruleset

    from nocert_rules import load_ruleset

    zibo = ROOT / "rulesets" / "zibo"
    zhangdian = ROOT / "rulesets" / "zibo-zhangdian"
    with (ROOT / "examples" / "cases.jsonl").open(encoding="utf-8") as f:
        cases = [strip(json.loads(line)) for line in f if line.strip()]
    yield "cases", zibo, {}, cases
    gen = generated(zhangdian, 800, 7)
    yield "zhangdian", zhangdian, {}, gen
    for name in AS_OF:
        yield name, zhangdian, {}, gen[:250]
    with tempfile.TemporaryDirectory() as tmp:
        tiny = write_ruleset(Path(tmp) / "tiny")
        yield "tiny", tiny, {}, random_requests(load_ruleset(tiny), 400, 11)
        newcomer = write_newcomer_ruleset(Path(tmp) / "newcomer")
        yield "newcomer", newcomer, {}, random_requests(load_ruleset(newcomer), 300, 12)
    yield "key", zibo, {"key": b"host-key"}, cases[:300]
    yield "blacklist", zibo, {"blacklist": Store()}, random_requests(load_ruleset(zibo), 400, 13)
    yield "hypothesis", zibo, {}, stored_hypothesis if stored_hypothesis is not None else hypothesis_requests(700)


def record(backends: tuple[str, ...]) -> dict[str, Any]:
    from nocert_rules import Engine, load_ruleset

    out: dict[str, Any] = {"sets": {}}
    for name, folder, options, requests in sets():
        ruleset = load_ruleset(folder)
        entry: dict[str, Any] = {"sha256": ruleset.sha256, "count": len(requests)}
        if name == "hypothesis":
            entry["requests"] = requests
        as_of = AS_OF.get(name)
        for backend in backends:
            engine = Engine(ruleset, backend=backend, **options)
            entry[backend] = [digest(engine.decide, r, as_of) for r in requests]
        out["sets"][name] = entry
    return out


def load_fixture(path: Path = FIXTURE) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)  # type: ignore[no-any-return]


if __name__ == "__main__":
    import subprocess

    recorded = record(("compiled", "durable"))
    recorded["tree"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                      capture_output=True, text=True).stdout.strip() or "?"
    with gzip.open(sys.argv[1], "wt", encoding="utf-8") as f:
        json.dump(recorded, f, ensure_ascii=False)
