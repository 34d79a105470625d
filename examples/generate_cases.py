#!/usr/bin/env python3
"""Generate realistic, synthetic dry-run cases for a ruleset (default: the bundled Zibo sample).

    python examples/generate_cases.py --count 2000 --seed 20210210 --out examples/cases.jsonl
    python examples/generate_cases.py --count 1000000 --out /tmp/big.jsonl     # streams

Each line is one JSON object: a decision request plus ``case_id`` and, for some cases,
``expected_method``. The mix: most requests are for listed rows; some name a certificate that
is not on the list for the item (a real certificate of another item, or a 村（居）委会-style
certificate that is on no list); a credit mix (trustworthy / normal / untrustworthy); some
applicants on the false-pledge blacklist (some of them repaired); serious bad records; the
sharing channel offline; applicants declining the pledge, providing the document themselves, or
not authorising a proxy; a few pending list adjustments. ``requested_at`` is spread over the
plan's validity (2021-02-10 .. 2022-01-31), with a few after it expired (2022-02-01).

``expected_method`` is set only where the answer follows from the data and the plan alone,
without the engine (which would be circular):

* certificate not on the list for the item -> ABOLISH (三(一)1);
* row without legal basis in force on the request's day (none, or every one repealed by then:
  ``repealed_on``; or, where the manifest ranks bases, none of a sufficient rank), or marked
  abolished -> ABOLISH (二(一); 三(一)1);
* applicant provides the document on a retained row with a basis -> APPLICANT_PROVIDED
  (附件2 第九条; it comes before every replacement method in 附件3 第三条's order);
* retained row with a basis whose first listed method is data sharing, channel online,
  applicant not providing it -> DATA_SHARING (三(三)1).

ID numbers are synthetic: 18-character resident ID numbers with a valid check digit but the
area code 370399, which is not assigned to any county, so none is a real person's number;
organisations get an 18-character unified social credit code with area 370399 likewise.

After the generated cases come the few of ``HAND_WRITTEN`` (ids ``H…``), for what the random mix
never reaches (a row whose only basis was repealed, after the repeal).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RULESET = ROOT / "rulesets" / "zibo"

FAKE_AREA = "370399"  # not an assigned county code: no generated number is a real one
ORG_ITEMS = {
    "370300-XK-0006", "370300-XK-0007", "370300-XK-0008", "370300-XK-0009",
    "370300-XK-0010", "370300-XK-0011", "370300-XK-0014", "370300-XK-0015",
}
EITHER_ITEMS = {"370300-XK-0001", "370300-XK-0002"}
BUSY_ITEMS = {"370300-GG-0001": 3, "370300-GG-0003": 3, "370300-GG-0006": 3, "370300-JF-0001": 2,
              "370300-JF-0004": 2, "370300-QR-0002": 2, "370300-XK-0001": 2}
UNLISTED_NAMES = [
    "无犯罪记录证明（派出所出具）", "居住证明（社区出具）", "在职证明", "无违法犯罪证明",
    "收入证明（单位出具）", "未婚证明", "亲属关系证明（社区出具）", "无房证明",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"

_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

VALID_FROM = date(2021, 2, 10)
VALID_LAST = date(2022, 1, 31)
EXPIRED_FROM = date(2022, 2, 2)
EXPIRED_LAST = date(2022, 4, 29)


def person_id(rng: random.Random) -> str:
    """A synthetic resident ID number (GB 11643 check digit, unassigned area 370399)."""
    birth = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 23000))
    body = f"{FAKE_AREA}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    total = sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True))
    return body + _ID_CHECK[total % 11]


def org_code(rng: random.Random) -> str:
    """A synthetic unified social credit code (GB 32100 check character, area 370399)."""
    body = "91" + FAKE_AREA + "".join(rng.choice(_USCC_CHARS) for _ in range(9))
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return body + _USCC_CHARS[(31 - total % 31) % 31]


def _moment(rng: random.Random, first: date, last: date) -> str:
    day = first + timedelta(days=rng.randrange((last - first).days + 1))
    if rng.random() < 0.9:  # office hours, in quarter hours
        clock = time(9, 0) if rng.random() < 0.05 else time(rng.choice([9, 10, 11, 13, 14, 15, 16]),
                                                            rng.choice([0, 15, 30, 45]))
    else:  # online applications at any hour
        clock = time(rng.randrange(0, 24), rng.randrange(0, 60))
    return datetime.combine(day, clock).isoformat(timespec="minutes")


def load_rows(ruleset: Path) -> list[dict[str, Any]]:
    """The list rows, read as plain YAML (the generator does not use the engine); of a row with
    dated versions only the first is kept (they share service item, certificate and methods)."""
    manifest = yaml.safe_load((ruleset / "manifest.yaml").read_text(encoding="utf-8"))
    name = (manifest.get("files") or {}).get("certificates", "certificates.yaml")
    rows = yaml.safe_load((ruleset / name).read_text(encoding="utf-8"))["rows"]
    policy = manifest.get("legal_basis_policy")
    out, seen = [], set()
    for r in rows:
        key = (r["service_item_code"], r["certificate_id"])
        if key not in seen:
            seen.add(key)
            out.append({**r, "_policy": policy})
    return out


def _basis_ok(value: Any, policy: dict[str, Any] | None, day: str) -> bool:
    """A basis in force on ``day`` (not repealed by then) that the manifest's
    ``legal_basis_policy`` accepts (any basis without a policy)."""
    items = value if isinstance(value, list) else [value]
    items = [b for b in items if isinstance(b, dict) or (isinstance(b, str) and b.strip())]
    items = [b for b in items if not (isinstance(b, dict) and b.get("repealed_on") and str(b["repealed_on"]) <= day)]
    if not items or not policy:
        return bool(items)
    ranks, unranked_ok = set(policy["sufficient_ranks"]), policy.get("unranked_sufficient", True)
    return any((b["rank"] in ranks) if isinstance(b, dict) and b.get("rank") else unranked_ok for b in items)


HAND_WRITTEN: list[dict[str, Any]] = [
    # The only basis of 个体工商户登记 / 经营场所使用证明, 《个体工商户条例》, is repealed from
    # 2022-11-01 (repealed_on): from then the row has no basis in force, and only the rule
    # abolish.no-legal-basis abolishes it (the row stays retained on the list).
    {"case_id": "H0000001", "service_item": "370300-XK-0013", "certificate": "ZM-CW-0008",
     "applicant": {"kind": "person", "id_number": "370399198804160017", "credit": "normal"},
     "requested_at": "2022-11-15T10:00"},
]
"""Cases written by hand, after the generated ones, for what the random mix never reaches."""


def generate(ruleset: Path = DEFAULT_RULESET, count: int = 2000, seed: int = 20210210) -> Iterator[dict[str, Any]]:
    """Yield ``count`` cases, deterministic for a given ``seed``, then the ``HAND_WRITTEN`` ones
    (with their ``expected_method`` where it is obvious)."""
    rng = random.Random(seed)
    rows = load_rows(ruleset)
    weights = [BUSY_ITEMS.get(r["service_item_code"], 1) for r in rows]
    by_item: dict[str, set[str]] = {}
    for r in rows:
        by_item.setdefault(r["service_item_code"], set()).add(r["certificate_id"])
    cert_ids = sorted({r["certificate_id"] for r in rows})
    for n in range(1, count + 1):
        row = rng.choices(rows, weights)[0]
        item = row["service_item_code"]
        listed = rng.random() >= 0.07
        if listed:
            certificate = row["certificate_name"] if rng.random() < 0.1 else row["certificate_id"]
        elif rng.random() < 0.6:
            others = [c for c in cert_ids if c not in by_item[item]]
            certificate = rng.choice(others)
        else:
            certificate = rng.choice(UNLISTED_NAMES)

        org = item in ORG_ITEMS or (item in EITHER_ITEMS and rng.random() < 0.5)
        requested_at = (_moment(rng, EXPIRED_FROM, EXPIRED_LAST) if rng.random() < 0.015
                        else _moment(rng, VALID_FROM, VALID_LAST))
        applicant: dict[str, Any] = {"kind": "organization" if org else "person",
                                     "id_number": org_code(rng) if org else person_id(rng)}
        if not org and rng.random() < 0.5:
            applicant["name"] = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
        r = rng.random()
        applicant["credit"] = "trustworthy" if r < 0.15 else "untrustworthy" if r > 0.93 else "normal"
        if rng.random() < 0.04:
            asked = date.fromisoformat(requested_at[:10])
            since = asked - timedelta(days=rng.randrange(30, 900))
            applicant["blacklisted_since"] = since.isoformat()
            if rng.random() < 0.4:  # repaired, mostly before the request
                repaired = since + timedelta(days=rng.randrange(1, (asked - since).days + 60))
                applicant["credit_repaired_on"] = repaired.isoformat()
        if rng.random() < 0.03:
            applicant["serious_bad_record"] = True

        case: dict[str, Any] = {"case_id": f"C{n:07d}", "service_item": item, "certificate": certificate,
                                "applicant": applicant, "requested_at": requested_at}
        if rng.random() < 0.10:
            case["wants_pledge"] = False
        if rng.random() < 0.05:
            case["provides_certificate"] = True
        if rng.random() < 0.08:
            case["sharing_online"] = False
        if rng.random() < 0.05:
            case["proxy_authorized"] = False
        if rng.random() < 0.01:
            case["adjustment_pending"] = True

        expected = _obvious(row if listed else None, case)
        if expected is not None and rng.random() < 0.7:
            case["expected_method"] = expected
        yield case
    by_key = {(r["service_item_code"], r["certificate_id"]): r for r in rows}
    for hand in HAND_WRITTEN:
        case = json.loads(json.dumps(hand))
        expected = _obvious(by_key.get((case["service_item"], case["certificate"])), case)
        if expected is not None:
            case["expected_method"] = expected
        yield case


def _obvious(row: dict[str, Any] | None, case: dict[str, Any]) -> str | None:
    """The method where the data and the plan alone decide it (see the module doc)."""
    if row is None:
        return "ABOLISH"
    if not _basis_ok(row.get("legal_basis"), row["_policy"], case["requested_at"][:10]) or row["status"] == "abolished":
        return "ABOLISH"
    if case.get("provides_certificate"):
        return "APPLICANT_PROVIDED"
    methods = row.get("methods") or []
    if methods and methods[0] == "data_sharing" and case.get("sharing_online", True):
        return "DATA_SHARING"
    return None


def write(out: TextIO, cases: Iterator[dict[str, Any]]) -> int:
    n = 0
    for case in cases:
        out.write(json.dumps(case, ensure_ascii=False))
        out.write("\n")
        n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="number of cases (default 2000)")
    parser.add_argument("--seed", type=int, default=20210210, help="random seed (default 20210210)")
    parser.add_argument("--out", default="-", help="output file (default: standard output)")
    parser.add_argument("--ruleset", type=Path, default=DEFAULT_RULESET, help="ruleset folder")
    args = parser.parse_args(argv)
    cases = generate(args.ruleset, args.count, args.seed)
    if args.out == "-":
        write(sys.stdout, cases)
    else:
        with open(args.out, "w", encoding="utf-8", newline="\n") as out:
            write(out, cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
