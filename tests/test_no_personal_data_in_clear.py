"""Every output path, fed ID numbers hidden in every form, shows none in clear (issue 10).

The forms: plain, after a letter (``C370…``), with spaces inside, in full-width digits, in
Arabic-Indic digits, split by zero-width characters. Fields that are refused for a *real* ID
number (request_id, requesting_unit, codes) get the number with a wrong check digit (masked, not
refused); free text (case ids, summaries, notes, names) gets a valid one too.

Outputs: the decision (JSON, trace, repr/str), ``nocert-rules decide`` (text and --json),
``nocert-rules dry-run`` over JSONL and CSV cases (text, --json, --out, --report HTML), records
(repr/str/JSON), error messages (requests, records, CLI), the audit log (file, ``audit show``),
the pledge form (text and HTML).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import PERSON_ID, VALID_PERSON_ID, ZIBO

from nocert_rules import Engine, RequestError, Ruleset
from nocert_rules.cli.audit import audit
from nocert_rules.cli.main import main
from nocert_rules.models import SHANGHAI, parse_request
from nocert_rules.privacy import normalise
from nocert_rules.records import RecordProblem
from nocert_rules.records.audit import AuditLog, AuditRecord
from nocert_rules.records.complaints import register_complaint
from nocert_rules.records.pledge import open_pledge, render_pledge_html, render_pledge_text
from nocert_rules.records.provided import record_provided

KEY = b"no-clear-test-key-0123456789abcd"
AT = datetime(2021, 5, 6, 11, 0, tzinfo=SHANGHAI)
NAME = "张三丰"


def forms(number: str) -> dict[str, str]:
    return {
        "plain": number,
        "after-a-letter": f"C{number}",
        "spaced": f"{number[:6]} {number[6:14]} {number[14:]}",
        "full-width": "".join(chr(0xFF10 + int(c)) for c in number),
        "arabic-indic": "".join(chr(0x0660 + int(c)) for c in number),
        "zero-width": f"{number[:4]}\u200b{number[4:10]}\u200d{number[10:]}",
    }


MASKED_FORMS = forms(PERSON_ID)  # wrong check digit: accepted where a code may go, masked
FREE_FORMS = {**MASKED_FORMS, **{f"valid {k}": v for k, v in forms(VALID_PERSON_ID).items()}}
CORE = PERSON_ID[4:14]  # "9919900101": the hidden middle of both numbers


def assert_clear_of_ids(text: str, where: str) -> None:
    """No ID number (in any form) and not the applicant's name (a field the schema marks a name)."""
    assert CORE not in normalise(text), f"{where}: an ID number in clear"
    assert NAME not in text, f"{where}: a name in clear"


def request(form: str, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "service_item": "370300-XK-0013",
        "certificate": "ZM-CW-0008",
        "applicant": {"kind": "person", "id_number": VALID_PERSON_ID, "name": NAME},
        "requested_at": "2021-05-06T10:00:00",
        "request_id": form,
        "requesting_unit": f"窗口 {form}",
    }
    data.update(kw)
    return data


@pytest.fixture(scope="module")
def keyed_engine(zibo: Ruleset) -> Any:
    engine = Engine(zibo, key=KEY)
    yield engine
    engine.close()


@pytest.mark.parametrize("form", list(MASKED_FORMS.values()), ids=list(MASKED_FORMS))
def test_decisions_cli_decide_pledge_form_and_audit_log(
    tmp_path: Path, zibo: Ruleset, keyed_engine: Engine, form: str
) -> None:
    outputs: dict[str, str] = {}
    decisions = [
        keyed_engine.decide(request(form, wants_pledge=True)),  # a pledge (the applicant chose it)
        keyed_engine.decide(request(form, service_item=form)),  # unlisted item: a warning quotes it
        keyed_engine.decide(request(form, certificate=form)),
        keyed_engine.decide(request(form, service_item="370300-QR-0002", certificate="ZM-ZJ-0003", provides_certificate=True)),
    ]
    for i, d in enumerate(decisions):
        outputs[f"decision {i} JSON"] = d.model_dump_json()
        outputs[f"decision {i} repr"] = repr(d) + str(d)
        outputs[f"decision {i} trace"] = json.dumps([s.model_dump(mode="json") for s in d.trace], ensure_ascii=False)
        outputs[f"decision {i} warnings"] = "\n".join(d.warnings)

    pledge_decision, provided_decision = decisions[0], decisions[3]
    outputs["pledge text"] = render_pledge_text(zibo, pledge_decision, content=f"承诺 {form}")
    outputs["pledge html"] = render_pledge_html(zibo, pledge_decision, content=f"承诺 {form}")
    pledge = open_pledge(pledge_decision, parse_request(request(form)).applicant, KEY, record_id=form)
    provided = record_provided(provided_decision, received_by=f"窗口 {form}", at=AT, description=form, record_id=form)
    complaint = register_complaint(received_at=AT, channel="hotline_12345", summary=f"身份证 {form}", units=[form], record_id=form)
    for name, rec in (("pledge", pledge), ("provided", provided), ("complaint", complaint)):
        outputs[f"{name} record"] = repr(rec) + str(rec) + rec.model_dump_json()

    # error messages
    with pytest.raises(RecordProblem) as problem:
        register_complaint(received_at=AT, channel=form, summary="x", units=["u"], record_id=form)
    outputs["record problem"] = str(problem.value) + repr(problem.value.record_id)
    with pytest.raises(RequestError) as bad:
        keyed_engine.decide({**request(form), form: 1, "applicant": {"kind": form, "id_number": form}})
    outputs["request error"] = str(bad.value)

    # the CLI
    req_file = tmp_path / "req.json"
    req_file.write_text(json.dumps(request(form), ensure_ascii=False), encoding="utf-8")
    for args in (["decide", str(ZIBO), "--request", str(req_file)], ["decide", str(ZIBO), "--request", str(req_file), "--json"]):
        out = CliRunner().invoke(main, args)
        assert out.exit_code == 0, out.output
        outputs[" ".join(args[:1] + args[4:])] = out.output
    bad_file = tmp_path / "bad.json"
    bad_file.write_text(json.dumps({**request(form), form: 1}, ensure_ascii=False), encoding="utf-8")
    out = CliRunner().invoke(main, ["decide", str(ZIBO), "--request", str(bad_file)])
    assert out.exit_code == 2
    outputs["CLI error"] = out.output

    # the audit log, whatever a host passes
    log_path = tmp_path / "audit.jsonl"
    log = AuditLog(log_path, KEY)
    log.append_decision(request(form), pledge_decision, at=AT)
    for rec in (pledge, provided, complaint):
        log.append_state(rec, at=AT)
    log.append(AuditRecord(kind="host", at=AT, request_id=form, outcome={"note": form, form: "x", "received_by": NAME}))
    outputs["audit log"] = log_path.read_text(encoding="utf-8")
    for args in (["show", str(log_path)], ["show", "--json", str(log_path)], ["verify", str(log_path)]):
        out = CliRunner().invoke(audit, args)
        assert out.exit_code == 0, out.output
        outputs["audit " + " ".join(args[:-1])] = out.output

    for where, text in outputs.items():
        assert_clear_of_ids(text, where)


def _cases(form: str) -> list[dict[str, Any]]:
    return [
        {"case_id": form, **request(form)},
        {"case_id": f"x-{form}", **request(form, service_item=form)},
        {"case_id": f"y {form}", **request(form, certificate=form), "expected_method": "ABOLISH"},
        {"case_id": f"z{form}", "service_item": form, "applicant": {"kind": "person"}},  # malformed
    ]


@pytest.mark.parametrize("form", list(FREE_FORMS.values()), ids=list(FREE_FORMS))
def test_dry_run_text_json_out_and_report(tmp_path: Path, form: str) -> None:
    cases = _cases(form)
    masked_only = form in MASKED_FORMS.values()
    if not masked_only:  # a real ID number is refused in codes: keep it in the case ids only
        for c in cases:
            for field in ("request_id", "requesting_unit", "service_item", "certificate"):
                if field in c and form in str(c[field]):
                    c[field] = "370300-XK-0013" if field == "service_item" else "ZM-CW-0008" if field == "certificate" else "r"
    jsonl = tmp_path / "cases.jsonl"
    jsonl.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    csv_path = tmp_path / "cases.csv"
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["case_id", "service_item", "certificate", "applicant_kind", "applicant_id_number", "applicant_name",
                     "requested_at", "request_id", "requesting_unit", "expected_method"])
    for c in cases[:3]:
        a = c["applicant"]
        writer.writerow([c["case_id"], c["service_item"], c["certificate"], a["kind"], a["id_number"], a.get("name", ""),
                         c["requested_at"], c.get("request_id", ""), c.get("requesting_unit", ""), c.get("expected_method", "")])
    csv_path.write_text(buf.getvalue(), encoding="utf-8")

    outputs: dict[str, str] = {}
    for cases_file in (jsonl, csv_path):
        out_file, report = tmp_path / f"{cases_file.suffix[1:]}.out.jsonl", tmp_path / f"{cases_file.suffix[1:]}.html"
        for extra in ([], ["--json"]):
            args = ["dry-run", str(ZIBO), str(cases_file), "--no-progress", "--out", str(out_file), "--report", str(report), *extra]
            result = CliRunner().invoke(main, args)
            assert result.exit_code in (0, 1), result.output
            outputs[f"{cases_file.name} {' '.join(extra)}"] = result.output
            outputs[f"{cases_file.name} --out"] = out_file.read_text(encoding="utf-8")
            outputs[f"{cases_file.name} --report"] = report.read_text(encoding="utf-8")
    for where, text in outputs.items():
        assert_clear_of_ids(text, where)


def test_control_characters_are_escaped_in_human_readable_output(tmp_path: Path) -> None:
    evil = "case\x1b[2J\rX\u202e"
    req_file = tmp_path / "req.json"
    req_file.write_text(json.dumps(request(evil)), encoding="utf-8")
    out = CliRunner().invoke(main, ["decide", str(ZIBO), "--request", str(req_file)])
    assert out.exit_code == 0
    assert "\x1b" not in out.output and "\r" not in out.output and "\u202e" not in out.output
    log_path = tmp_path / "audit.jsonl"
    AuditLog(log_path, KEY).append(AuditRecord(kind="host\x1b]0;pwned\x07", at=AT, request_id=evil, outcome={}))
    shown = CliRunner().invoke(audit, ["show", str(log_path)]).output
    assert "\x1b" not in shown and "\r" not in shown and "\x07" not in shown and "\\x1b" in shown
    cases = tmp_path / "cases.jsonl"
    mismatch = {"case_id": evil, **request("r"), "expected_method": "ABOLISH"}
    cases.write_text(json.dumps(mismatch) + "\n" + json.dumps({"case_id": evil}) + "\n", encoding="utf-8")
    dry = CliRunner().invoke(main, ["dry-run", str(ZIBO), str(cases), "--no-progress"])
    assert "\x1b" not in dry.output and "\r" not in dry.output and "\u202e" not in dry.output
    assert "\\x1b[2J\\x0dX\\u202e" in dry.output  # shown, escaped


@pytest.mark.parametrize("debug", ["", "1"])
def test_internal_errors_and_their_tracebacks_are_masked(monkeypatch: pytest.MonkeyPatch, debug: str) -> None:
    import nocert_rules.tools.lint

    def boom(path: object) -> None:
        raise RuntimeError(f"bug near {FREE_FORMS['spaced']} / {FREE_FORMS['valid zero-width']}\x1b[2J")

    monkeypatch.setattr(nocert_rules.tools.lint, "lint_ruleset", boom)
    if debug:
        monkeypatch.setenv("NOCERT_DEBUG", debug)
    else:
        monkeypatch.delenv("NOCERT_DEBUG", raising=False)
    result = CliRunner().invoke(main, ["lint", str(ZIBO)])
    assert result.exit_code == 3
    assert_clear_of_ids(result.output, "internal error")
    assert "\x1b" not in result.output and "RuntimeError" in result.output
    if debug:
        assert "Traceback (most recent call last)" in result.output
