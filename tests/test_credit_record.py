"""The credit record of every pledge outcome (issue 13, finding 4; 三(五)3: 将承诺人履行承诺情况全面纳入信用记录).

Kept (post-check passed), found false and check waived each become a credit-record entry with the
ruleset's clause and words; applicants by keyed hash only; exported as JSON lines or CSV by
``nocert-rules credit-record``. False pledges still feed the blacklist store.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import PERSON_ID, ZIBO

from nocert_rules import Applicant, Decision, Engine, Method, Ruleset
from nocert_rules.cli.main import main
from nocert_rules.models import SHANGHAI
from nocert_rules.privacy import keyed_hash
from nocert_rules.records import RecordProblem
from nocert_rules.records.blacklist import MemoryBlacklist
from nocert_rules.records.credit import (
    CSV_COLUMNS,
    CreditRecordEntry,
    credit_entries,
    read_pledge_records,
    write_credit_record,
)
from nocert_rules.records.pledge import PledgeRecord, open_pledge, record_post_check

ITEM, CERT = "370300-XK-0013", "ZM-CW-0008"  # 个体工商户登记 / 经营场所使用证明: pledge, low risk
KEY = b"credit-test-key-0123456789abcdef"
NAME = "张三丰"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def applicant(credit: str) -> Applicant:
    return Applicant(kind="person", id_number=PERSON_ID, name=NAME, credit=credit)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def engine(zibo: Ruleset) -> Iterator[Engine]:
    e = Engine(zibo, key=KEY)
    yield e
    e.close()


def pledge(engine: Engine, zibo: Ruleset, credit: str, rid: str) -> PledgeRecord:
    decision: Decision = engine.decide({
        "service_item": ITEM, "certificate": CERT, "applicant": applicant(credit).model_dump(),
        "requested_at": "2021-05-06T10:00", "request_id": f"case-{rid}", "wants_pledge": True,
    })
    assert decision.method is Method.PLEDGE
    return open_pledge(decision, applicant(credit), KEY, record_id=rid, ruleset=zibo)


def test_every_outcome_yields_a_credit_record_entry(engine: Engine, zibo: Ruleset) -> None:
    words = zibo.manifest.records.credit_outcomes
    kept = record_post_check(pledge(engine, zibo, "normal", "P1"), "passed", at("2021-05-20T10:00"), ruleset=zibo)
    false = record_post_check(pledge(engine, zibo, "normal", "P2"), "found_false", at("2021-05-21T10:00"),
                              note="经营场所不存在", ruleset=zibo)
    waived = record_post_check(pledge(engine, zibo, "trustworthy", "P3"), "waived", at("2021-05-06T11:00"),
                               ruleset=zibo)
    entries = [r.credit_record for r in (kept, false, waived)]
    assert all(isinstance(e, CreditRecordEntry) for e in entries)
    assert [(e.outcome, e.outcome_label) for e in entries if e] == [
        ("passed", words.passed), ("found_false", words.found_false), ("waived", words.waived)
    ]
    assert {e.clause for e in entries if e} == {"三(五)3"}
    assert "履行承诺" in words.passed  # the ruleset's words, not the defaults
    assert false.credit_record is not None and false.credit_record.finding == "经营场所不存在"
    assert false.credit_record.false_pledge_blacklist is True and false.blacklist is not None
    assert kept.credit_record is not None and kept.credit_record.false_pledge_blacklist is False
    assert kept.blacklist is None and waived.blacklist is None
    ref = keyed_hash(PERSON_ID, KEY)
    assert {e.applicant_ref for e in entries if e} == {ref}


def test_without_the_ruleset_the_entry_cites_the_clause_the_pledge_copied(engine: Engine, zibo: Ruleset) -> None:
    p = pledge(engine, zibo, "normal", "P4")
    assert p.credit_record_clause == "三(五)3"
    result = record_post_check(p, "passed", at("2021-05-20T10:00"))
    assert result.credit_record is not None and result.credit_record.clause == "三(五)3"


def test_false_pledges_still_feed_the_blacklist_store(engine: Engine, zibo: Ruleset) -> None:
    result = record_post_check(pledge(engine, zibo, "normal", "P5"), "found_false", at("2021-05-21T10:00"),
                               note="承诺不实", ruleset=zibo)
    store = MemoryBlacklist(KEY)
    assert result.blacklist is not None
    store.add(result.blacklist)
    assert store.false_pledge_status(PERSON_ID).found_at == (at("2021-05-21T10:00"),)


def test_a_waived_check_and_a_later_random_inspection_are_two_entries(engine: Engine, zibo: Ruleset) -> None:
    waived = record_post_check(pledge(engine, zibo, "trustworthy", "P6"), "waived", at("2021-05-06T11:00")).pledge
    inspected = record_post_check(waived, "passed", at("2021-07-01T10:00")).pledge
    entries = credit_entries(inspected, zibo)
    assert [(e.outcome, e.at, e.by_random_inspection) for e in entries] == [
        ("waived", at("2021-05-06T11:00"), False), ("passed", at("2021-07-01T10:00"), True)
    ]
    assert len({e.id for e in entries}) == 2
    # the same pledge exported again gives the same ids (record_post_check's entry too)
    direct = record_post_check(waived, "passed", at("2021-07-01T10:00"), ruleset=zibo).credit_record
    assert direct is not None and direct.id == entries[1].id
    assert credit_entries(pledge(engine, zibo, "normal", "P7"), zibo) == []  # still awaiting its check


def test_an_entry_of_another_ruleset_is_refused(engine: Engine, zibo: Ruleset, tiny: Ruleset) -> None:
    done = record_post_check(pledge(engine, zibo, "normal", "P8"), "passed", at("2021-05-20T10:00")).pledge
    with pytest.raises(RecordProblem, match="ruleset"):
        credit_entries(done, tiny)


def _export(tmp_path: Path, records: list[PledgeRecord], extra: list[dict[str, Any]] | None = None) -> Path:
    path = tmp_path / "records.jsonl"
    lines = [{"record_type": "PledgeRecord", **r.model_dump(mode="json")} for r in records] + (extra or [])
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    return path


def test_the_cli_exports_jsonl_and_csv_with_keyed_hashes_only(tmp_path: Path, engine: Engine, zibo: Ruleset) -> None:
    opened = pledge(engine, zibo, "normal", "P9")
    kept = record_post_check(opened, "passed", at("2021-05-20T10:00")).pledge
    false = record_post_check(pledge(engine, zibo, "normal", "P10"), "found_false", at("2021-05-21T10:00"),
                              note="=HYPERLINK(\"x\") 经营场所不存在").pledge
    waived = record_post_check(pledge(engine, zibo, "trustworthy", "P11"), "waived", at("2021-05-06T11:00")).pledge
    # an older version of P9 (before its check) and another kind of record are in the export too
    source = _export(tmp_path, [opened, kept, false, waived], [{"record_type": "Complaint", "id": "C1"}])
    out = tmp_path / "credit.jsonl"
    result = CliRunner().invoke(main, ["credit-record", str(ZIBO), str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted((x["pledge_id"], x["outcome"]) for x in lines) == [
        ("P10", "found_false"), ("P11", "waived"), ("P9", "passed")
    ]
    assert {x["record_type"] for x in lines} == {"CreditRecordEntry"}
    assert {x["clause"] for x in lines} == {"三(五)3"}
    assert all(CreditRecordEntry.model_validate({k: v for k, v in x.items() if k != "record_type"}) for x in lines)
    csv_out = tmp_path / "credit.csv"
    result = CliRunner().invoke(main, ["credit-record", str(ZIBO), str(source), "--out", str(csv_out)])
    assert result.exit_code == 0, result.output
    raw = csv_out.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert list(rows[0]) == list(CSV_COLUMNS) and len(rows) == 3
    found = next(r for r in rows if r["outcome"] == "found_false")
    assert found["finding"].startswith("'=")  # never read as a formula
    assert found["outcome_label"] == zibo.manifest.records.credit_outcomes.found_false
    for text in (raw, out.read_text(encoding="utf-8")):
        assert PERSON_ID not in text and NAME not in text
        assert keyed_hash(PERSON_ID, KEY) in text


def test_the_cli_names_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"record_type": "PledgeRecord", "id": "x"}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["credit-record", str(ZIBO), str(path)])
    assert result.exit_code == 2
    assert "bad.jsonl:1" in result.output
    path.write_text("not json\n", encoding="utf-8")
    with pytest.raises(RecordProblem, match="bad.jsonl:1"):
        read_pledge_records(path)


def test_write_credit_record_to_text_and_nothing_half_written(tmp_path: Path, engine: Engine, zibo: Ruleset) -> None:
    done = record_post_check(pledge(engine, zibo, "normal", "P12"), "passed", at("2021-05-20T10:00")).pledge
    text = write_credit_record(credit_entries(done, zibo), None, "jsonl")
    assert isinstance(text, str) and text.count("\n") == 1
    target = tmp_path / "credit.csv"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(ValueError):
        write_credit_record(credit_entries(done, zibo), target, "xml")  # type: ignore[arg-type]
    assert target.read_text(encoding="utf-8") == "old"


def test_the_cli_json_summary(tmp_path: Path, engine: Engine, zibo: Ruleset) -> None:
    done = record_post_check(pledge(engine, zibo, "normal", "P13"), "passed", at("2021-05-20T10:00")).pledge
    source = _export(tmp_path, [done])
    result = CliRunner().invoke(main, ["credit-record", str(ZIBO), str(source), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["count"] == 1 and doc["entries"][0]["outcome"] == "passed"
    out = tmp_path / "c.csv"
    result = CliRunner().invoke(main, ["credit-record", str(ZIBO), str(source), "--out", str(out), "--json"])
    assert json.loads(result.stdout) == {"written": str(out), "format": "csv", "count": 1, "pledges": 1}
