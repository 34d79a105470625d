"""Issue 25: personal data drawn at random, put into every string field of every input model, never
comes back in clear on any output path; legitimate codes come back unmasked.

Drawn: resident ID numbers (every GB/T 2260 province, every MOD 11-2 remainder with ``X`` and
``x``, 18 and 15 digits; right and wrong check characters), mobile numbers (``+86`` / ``0086``
too), landlines, Luhn-valid bank card numbers, e-mail addresses and the applicant's name; each in
a disguise (full-width, spaces, zero-width characters, compatibility ideographs, combining
marks, decomposed, or mixed).

Fields: every string field of ``DecisionRequest`` (and of its nested models), found from pydantic
``model_fields``, and every string parameter of the record functions whose input reaches a
record (complaint, pledge, provided document), found from their signatures: a new field is
covered without touching this file.

Outputs: ``Engine.decide`` (JSON, repr/str; both backends where durable_rules imports),
``RequestError`` / ``RecordProblem`` (text and field paths), the audit log file and
``audit show`` (text and ``--json``), ``nocert-rules decide --json``, and HTTP ``/v1/decide``,
``/v1/decide/batch`` and ``/v1/explain/{id}`` with a keyed decision log (skipped without the
``serve`` extra). A value counts as leaked when the output, with the disguises undone
(NFKC, spaces and format characters dropped), holds more of it than its mask keeps.

The default run draws a few dozen scenarios; ``-m slow`` runs the same properties on many more.
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import ZIBO
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from test_privacy_properties import PROVINCES, credit_codes, id18

from nocert_rules import Engine, RequestError, load_ruleset
from nocert_rules.cli.audit import audit
from nocert_rules.cli.main import main
from nocert_rules.engine import backend as backends
from nocert_rules.models import SHANGHAI, DecisionRequest, parse_request
from nocert_rules.records import RecordProblem
from nocert_rules.records.audit import AuditLog
from nocert_rules.records.complaints import register_complaint
from nocert_rules.records.pledge import open_pledge
from nocert_rules.records.provided import record_provided

KEY = b"every-field-test-key-0123456789ab"
AT = datetime(2021, 5, 6, 11, 0, tzinfo=SHANGHAI)
DURABLE = backends.durable_available()[0]
ZIBO_RULESET = load_ruleset(ZIBO)

# Legitimate codes: an organisation's, the list's own; never masked, never refused.
SERVICE_ITEM = "370300-XK-0013"
PLEDGE_ITEM, PLEDGE_CERTIFICATE = "370300-XK-0013", "ZM-CW-0008"
CERTIFICATE = "ZM-CW-0008"
PROVIDED_ITEM, PROVIDED_CERTIFICATE = "370300-QR-0002", "ZM-ZJ-0003"


# ---------------------------------------------------------------- the fields, found programmatically


def _holds_str(annotation: Any) -> bool:
    """``str``, or a union with ``str`` among its members (``str | None``, ``ComplaintChannel | str``)."""
    if annotation is str:
        return True
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and any(_holds_str(a) for a in typing.get_args(annotation))


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for a in typing.get_args(annotation) for m in _nested_models(a)]


def string_fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted paths of every string field of ``model`` and of the models nested in it."""
    paths: list[str] = []
    for name, info in model.model_fields.items():
        if _holds_str(info.annotation):
            paths.append(prefix + name)
        for nested in _nested_models(info.annotation):
            paths.extend(string_fields(nested, f"{prefix}{name}."))
    return paths


def string_parameters(function: Callable[..., Any]) -> list[str]:
    """The keyword parameters of ``function`` that take a string (``str``, ``str | None``, an enum or str)."""
    hints = typing.get_type_hints(function)
    return [
        name for name, p in inspect.signature(function).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and _holds_str(hints.get(name))
    ]


REQUEST_FIELDS = string_fields(DecisionRequest)
COMPLAINT_PARAMETERS = string_parameters(register_complaint)
PLEDGE_PARAMETERS = string_parameters(open_pledge)
PROVIDED_PARAMETERS = string_parameters(record_provided)


def test_the_fields_are_found_from_the_models_and_signatures() -> None:
    # The enumeration itself: the fields known today must be among those found (a new one joins).
    assert {"service_item", "certificate", "request_id", "requesting_unit", "applicant.id_number",
            "applicant.name"} <= set(REQUEST_FIELDS)
    assert {"summary", "channel", "record_id", "receiver", "complainant_ref", "proxy_id"} <= set(COMPLAINT_PARAMETERS)
    assert {"text", "record_id"} <= set(PLEDGE_PARAMETERS)
    assert {"received_by", "description", "record_id"} <= set(PROVIDED_PARAMETERS)
    assert not {"requested_at", "wants_pledge", "applicant.kind"} & set(REQUEST_FIELDS) - {"applicant.kind"}


# ---------------------------------------------------------------- personal data, drawn


@dataclass(frozen=True)
class Secret:
    """A drawn value, in clear (normalised), and how much of it its mask may keep."""

    clear: str
    head: int
    tail: int
    kind: str

    def leaked_in(self, norm: str) -> bool:
        """Whether ``norm`` shows the value with more than its mask keeps: all but its last ``tail``
        characters, or all but its first ``head`` (a window of 3 or more: a name's last character
        alone is no leak, the whole name is)."""
        n = len(self.clear)
        windows = [self.clear[: n - self.tail], self.clear[self.head :]]
        return any(w.upper() in norm for w in windows if len(w) >= 3) or self.clear.upper() in norm


MOBILE_PREFIXES = ["13", "14", "15", "16", "17", "18", "19"]
SURNAMES = "欧阳诸葛司马赵钱孙李周吴郑冯褚卫蒋沈韩杨朱秦尤许何吕施孔曹严华金魏陶姜"
GIVEN = "娜婷昊骁琳珂燚翀芃昶翊璟玥瑾珩煜晞懿钰琦"


@st.composite
def id_numbers(draw: st.DrawFn) -> Secret:
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
    province = draw(st.sampled_from(PROVINCES))
    area = f"{draw(st.integers(0, 9999)):04d}"
    if draw(st.booleans()):  # 15 digits, the old form
        born = born.replace(year=1900 + born.year % 100) if not (born.month == 2 and born.day == 29) else date(1904, 2, 29)
        number = f"{province:02d}{area}{born:%y%m%d}{draw(st.integers(0, 999)):03d}"
    else:
        number = id18(province, area, born, draw(st.integers(0, 999)), draw(st.integers(0, 10)))
        if draw(st.booleans()):  # a mistyped check character: still personal data, masked
            number = number[:17] + draw(st.sampled_from([c for c in "0123456789X" if c != number[17]]))
        if draw(st.booleans()):
            number = number.lower()
    return Secret(number, 3, 2, "id")


@st.composite
def mobiles(draw: st.DrawFn) -> tuple[str, Secret]:
    number = draw(st.sampled_from(MOBILE_PREFIXES)) + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=9, max_size=9)))
    number = number[:2] + draw(st.sampled_from("3456789")) + number[3:] if number[1] == "4" else number
    written = draw(st.sampled_from(["", "+86", "0086", "+86 "])) + number
    return written, Secret(number, 3, 4, "mobile")


@st.composite
def landlines(draw: st.DrawFn) -> tuple[str, Secret]:
    area = draw(st.sampled_from(["010", "021", "0533", "0755", "0571"]))
    local = draw(st.sampled_from("2345678")) + "".join(draw(st.lists(st.sampled_from("0123456789"),
                                                                      min_size=7 if len(area) == 3 else 6, max_size=7)))
    written = draw(st.sampled_from([f"{area}{local}", f"{area}-{local}", f"({area}){local}", f"+86{area[1:]}{local}"]))
    return written, Secret(area + local, 3, 4, "landline")


def _luhn_complete(body: str) -> str:
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c) * (1 if i % 2 else 2)
        total += d - 9 if d > 9 else d
    return body + str(-total % 10)


@st.composite
def cards(draw: st.DrawFn) -> tuple[str, Secret]:
    length = draw(st.sampled_from([16, 19]))
    body = draw(st.sampled_from(["62", "4", "5"])) + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=length, max_size=length)))
    number = _luhn_complete(body[: length - 1])
    written = " ".join(number[i : i + 4] for i in range(0, length, 4)) if draw(st.booleans()) else number
    return written, Secret(number, 4, 4, "card")


@st.composite
def emails(draw: st.DrawFn) -> tuple[str, Secret]:
    local = draw(st.text("abcdefghijklmnopqrstuvwxyz", min_size=4, max_size=10)) + draw(st.sampled_from(["", ".li", "_88", "2021"]))
    domain = draw(st.sampled_from(["example.com", "mail.example.cn", "qq.com"]))
    # the mask keeps the first character and the domain: the rest of the local part is hidden
    return f"{local}@{domain}", Secret(local + "@", 1, 0, "e-mail")


@st.composite
def names(draw: st.DrawFn) -> Secret:
    surname = draw(st.sampled_from(["欧阳", "诸葛", "司马", *SURNAMES[6:]]))
    given_name = "".join(draw(st.lists(st.sampled_from(GIVEN), min_size=1, max_size=2)))
    return Secret(surname + given_name, 1, 0, "name")


def _wide(c: str) -> str:
    return chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c


_COMPAT = {unicodedata.normalize("NFKC", chr(c)): chr(c) for c in range(0xF900, 0xFADA)
           if len(unicodedata.normalize("NFKC", chr(c))) == 1}
"""A unified ideograph -> a compatibility ideograph that NFKC folds to it (李 -> U+F9E1)."""

_MARKS = ["\u0301", "\u0332", "\u20dd", "\u0323"]
"""Combining marks a reader reads through: acute, low line, enclosing circle, dot below."""


@st.composite
def disguised(draw: st.DrawFn, written: str) -> str:
    """``written`` full-width, spaced, split by zero-width characters, in compatibility
    ideographs, under combining marks, decomposed (NFD), or all mixed."""
    how = draw(st.sampled_from(["plain", "full-width", "spaces", "zero-width", "compatibility", "marks", "nfd", "mixed"]))
    if how == "nfd":
        return unicodedata.normalize("NFD", written)
    out = []
    for c in written:
        if how == "full-width" or (how == "mixed" and draw(st.booleans())):
            c = _wide(c) if c != " " else "\u3000"
        if how in ("compatibility", "mixed"):
            c = _COMPAT.get(c, c)
        out.append(c)
        if how == "marks" and draw(st.integers(0, 2)) == 0:
            out.append(draw(st.sampled_from(_MARKS)))
        if how in ("spaces", "zero-width", "mixed") and draw(st.integers(0, 3)) == 0:
            pool = {"spaces": [" ", "\u3000"], "zero-width": ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]}
            out.append(draw(st.sampled_from(pool.get(how, [" ", "\u3000", "\u200b", "\u2060", "\ufeff", *_MARKS]))))
    return "".join(out)


@st.composite
def personal_values(draw: st.DrawFn, name: Secret | None, context: bool = True) -> tuple[str, Secret]:
    """One piece of personal data, disguised, in a little context text (``context``); and its
    secret. ``name``: the name the record holds (None: the record holds none, so none is drawn)."""
    kind = draw(st.sampled_from(["id", "mobile", "landline", "card", "e-mail"] + (["name"] if name else [])))
    if kind == "id":
        secret = draw(id_numbers())
        written = secret.clear
    elif kind == "name":
        assert name is not None
        secret, written = name, name.clear
    else:
        written, secret = draw({"mobile": mobiles(), "landline": landlines(), "card": cards(), "e-mail": emails()}[kind])
    text = draw(disguised(written))
    before, after = draw(st.sampled_from([("", ""), ("申请人", "，请核实"), ("编号 ", ""), ("", " 号")])) if context else ("", "")
    return before + text + after, secret


# ---------------------------------------------------------------- checking outputs


def undisguised(text: str) -> str:
    """What a reader sees: JSON unescaped, NFKC (full-width and compatibility forms folded), spaces,
    format characters and combining marks dropped."""
    text = _unescaped(text)
    return "".join(c for c in unicodedata.normalize("NFKC", text)
                   if unicodedata.category(c) not in ("Zs", "Cf", "Mn", "Me")).upper()


def _unescaped(text: str) -> str:
    """JSON (or JSON lines) re-written without ``\\uXXXX`` escapes, so that a full-width or
    zero-width character escaped in JSON cannot hide a leak from the comparison."""
    lines = []
    for line in text.splitlines() or [text]:
        try:
            lines.append(json.dumps(json.loads(line), ensure_ascii=False))
        except ValueError:
            lines.append(line)
    try:
        lines.append(json.dumps(json.loads(text), ensure_ascii=False))
    except ValueError:
        pass
    return "\n".join(lines)


_OPAQUE = re.compile(r"[0-9A-F]{32,}|[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")
"""Hashes, MACs, keyed hashes and UUIDs: nobody's digits (a shrunk example's zeros match a zero hash)."""


def assert_nothing_leaks(outputs: dict[str, str], secrets: list[Secret], legitimate: tuple[str, ...] = ()) -> None:
    """No secret in clear in any output; ``legitimate`` codes (shown as they are) are taken out
    first, so that digits a shrunk example shares with them are not counted."""
    for where, text in outputs.items():
        norm = _OPAQUE.sub("#", undisguised(text))
        for code in legitimate:
            norm = norm.replace(code.upper(), "#")
        for s in secrets:
            assert not s.leaked_in(norm), f"{where}: {s.kind} {s.clear!r} in clear:\n{text[:2000]}"


# ---------------------------------------------------------------- scenarios


def set_path(data: dict[str, Any], path: str, value: str) -> None:
    *parents, last = path.split(".")
    for p in parents:
        data = data.setdefault(p, {})
    data[last] = value


@dataclass
class Scenario:
    request: dict[str, Any]
    secrets: list[Secret]
    filled: dict[str, str] = field(default_factory=dict)
    credit_code: str = ""


APPLICANT_ID = "370399199001011231"  # a real ID number: the applicant's own, never shown


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    name = draw(names())
    code = draw(credit_codes())
    request: dict[str, Any] = {
        "service_item": SERVICE_ITEM,
        "certificate": CERTIFICATE,
        "applicant": {"kind": "person", "id_number": APPLICANT_ID, "name": name.clear},
        "requested_at": "2021-05-06T10:00:00",
        "request_id": code,  # a credit code where a host reference goes: kept as it is
        "requesting_unit": f"单位{code}",
        "wants_pledge": draw(st.sampled_from([None, True])),
    }
    secrets = [Secret(APPLICANT_ID, 3, 2, "applicant id")]
    fields = draw(st.lists(st.sampled_from(REQUEST_FIELDS), min_size=1, max_size=len(REQUEST_FIELDS), unique=True))
    filled: dict[str, str] = {}
    known: Secret | None = name  # the name the record holds, masked wherever it repeats
    if "applicant.name" in fields:  # filled first: whatever is written there is the name the record holds
        value, secret = draw(personal_values(name, context=False))
        set_path(request, "applicant.name", value)
        filled["applicant.name"] = value
        secrets.append(secret)
        known = name if secret is name else None
    if known is not None:
        secrets.append(known)
    for path in fields:
        if path != "applicant.name":
            value, secret = draw(personal_values(known))
            set_path(request, path, value)
            filled[path] = value
            secrets.append(secret)
    return Scenario(request, secrets, filled, code)


@pytest.fixture(scope="module")
def engines() -> Iterator[list[Engine]]:
    built = [Engine(ZIBO_RULESET, key=KEY, backend="compiled")]
    if DURABLE:
        built.append(Engine(ZIBO_RULESET, key=KEY, backend="durable"))
    yield built
    for e in built:
        e.close()


def decide_outputs(engine: Engine, scenario: Scenario, outputs: dict[str, str], log: AuditLog) -> Any:
    """The decision's outputs (or the error's): JSON, repr, str; the audit log entry."""
    where = engine.backend if hasattr(engine, "backend") else "engine"
    try:
        decision = engine.decide(scenario.request)
    except RequestError as exc:
        outputs[f"{where} RequestError"] = str(exc) + repr(exc) + json.dumps(list(exc.errors), ensure_ascii=False)
        return None
    outputs[f"{where} decision JSON"] = decision.model_dump_json()
    outputs[f"{where} decision repr/str"] = repr(decision) + str(decision)
    log.append_decision(scenario.request, decision, at=AT)
    return decision


def assert_codes_kept(decision: Any, scenario: Scenario) -> None:
    """Legitimate codes in the fields no personal data went into come back as they were."""
    if "request_id" not in scenario.filled:
        assert decision.request_id == scenario.credit_code
    if "service_item" not in scenario.filled:
        assert decision.service_item == SERVICE_ITEM
    if "certificate" not in scenario.filled:
        assert decision.certificate == CERTIFICATE
    if not {"service_item", "certificate"} & set(scenario.filled):
        assert decision.listed  # the codes still find their list row


def check_request_paths(engines: list[Engine], scenario: Scenario, tmp: Path, *, cli: bool) -> None:
    note(f"request: {scenario.request!r}")
    outputs: dict[str, str] = {}
    log_path = tmp / "audit.jsonl"
    log_path.unlink(missing_ok=True)
    log = AuditLog(log_path, KEY)
    decisions = [decide_outputs(e, scenario, outputs, log) for e in engines]
    assert len({d is None for d in decisions}) == 1, "the backends disagree on refusing"
    if decisions[0] is not None:
        assert_codes_kept(decisions[0], scenario)
        assert len({d.model_dump_json(exclude={"ruleset"}) for d in decisions}) == 1, "the backends disagree"
        outputs["audit log"] = log_path.read_text(encoding="utf-8")
        for args in (["show"], ["show", "--json"]):
            shown = CliRunner().invoke(audit, [*args, str(log_path)])
            assert shown.exit_code == 0, shown.output
            outputs[f"audit {' '.join(args)}"] = shown.output
    try:  # a request that fails validation (the parser, as the CLI and the service use it)
        parse_request(scenario.request)
    except RequestError as exc:
        outputs["parse_request error"] = str(exc)
    if cli:
        req_file = tmp / "req.json"
        req_file.write_text(json.dumps(scenario.request, ensure_ascii=False), encoding="utf-8")
        out = CliRunner().invoke(main, ["decide", str(ZIBO), "--request", str(req_file), "--json"])
        assert out.exit_code == (0 if decisions[0] is not None else 2), out.output
        outputs["cli decide --json"] = out.output
    assert_nothing_leaks(outputs, scenario.secrets, (scenario.credit_code,))


FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
NO_SHRINK = settings(FEW, phases=[Phase.explicit, Phase.reuse, Phase.generate])  # each step runs a CLI / HTTP call
MANY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@given(scenario=scenarios())
@FEW
def test_every_request_field_on_decide_errors_and_the_audit_log(engines: list[Engine], tmp_path: Path, scenario: Scenario) -> None:
    check_request_paths(engines, scenario, tmp_path, cli=False)


@given(scenario=scenarios())
@settings(NO_SHRINK, max_examples=6)
def test_every_request_field_on_cli_decide_json(engines: list[Engine], tmp_path: Path, scenario: Scenario) -> None:
    check_request_paths(engines[:1], scenario, tmp_path, cli=True)


@pytest.mark.slow
@given(scenario=scenarios())
@MANY
def test_every_request_field_many(engines: list[Engine], tmp_path: Path, scenario: Scenario) -> None:
    check_request_paths(engines, scenario, tmp_path, cli=False)


# ---------------------------------------------------------------- HTTP


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from nocert_rules.service.app import create_app
    from nocert_rules.service.config import ServeConfig

    tmp = tmp_path_factory.mktemp("every-field-http")
    (tmp / "host.key").write_bytes(KEY + b"\n")
    config = ServeConfig(ruleset=str(ZIBO), insecure=True, decision_log=str(tmp / "decisions.jsonl"),
                         key_file=str(tmp / "host.key"), head_file=str(tmp / "decisions.head"), backend="compiled")
    with TestClient(create_app(config)) as client:
        yield client, tmp / "decisions.jsonl"


def check_http(http: Any, scenario: Scenario) -> None:
    client, log_path = http
    note(f"request: {scenario.request!r}")
    outputs: dict[str, str] = {}
    answer = client.post("/v1/decide", json=scenario.request)
    assert answer.status_code in (200, 422), answer.text
    outputs["/v1/decide"] = answer.text
    if answer.status_code == 200:
        explained = client.get(f"/v1/explain/{answer.headers['x-decision-id']}")
        assert explained.status_code == 200, explained.text
        outputs["/v1/explain"] = explained.text
        outputs["decision log entry"] = explained.text
    batch = client.post("/v1/decide/batch", json={"requests": [scenario.request, scenario.request]})
    assert batch.status_code == 200, batch.text
    outputs["/v1/decide/batch"] = batch.text
    assert_nothing_leaks(outputs, scenario.secrets, (scenario.credit_code,))


@given(scenario=scenarios())
@settings(NO_SHRINK, max_examples=15)
def test_every_request_field_over_http(http: Any, scenario: Scenario) -> None:
    check_http(http, scenario)
    _, log_path = http
    assert_nothing_leaks({"decision log": log_path.read_text(encoding="utf-8")}, scenario.secrets, (scenario.credit_code,))


# ---------------------------------------------------------------- records: complaint, pledge, provided


def _record_outputs(name: str, build: Callable[[], BaseModel], outputs: dict[str, str], log: AuditLog) -> BaseModel | None:
    try:
        record = build()
    except RecordProblem as exc:
        outputs[f"{name} RecordProblem"] = str(exc) + repr(exc) + repr(getattr(exc, "record_id", ""))
        return None
    except (ValueError, TypeError) as exc:  # a bad value refused by the record's own model
        outputs[f"{name} error"] = str(exc)
        return None
    outputs[f"{name} record"] = record.model_dump_json() + repr(record) + str(record)
    log.append_state(record, at=AT)
    return record


@st.composite
def record_inputs(draw: st.DrawFn) -> tuple[dict[str, dict[str, str]], list[Secret], Secret]:
    """Personal data for the string parameters of each record function. The name drawn is the one
    the complaint's contents and the pledge's applicant hold; the provided-document record holds
    no name (its decision carries only the masked one), so no name is drawn for it."""
    name = draw(names())
    secrets = [name]
    filled: dict[str, dict[str, str]] = {}
    for function, params, known in (("complaint", COMPLAINT_PARAMETERS, name), ("pledge", PLEDGE_PARAMETERS, name),
                                    ("provided", PROVIDED_PARAMETERS, None)):
        chosen = draw(st.lists(st.sampled_from(params), min_size=1, max_size=len(params), unique=True))
        filled[function] = {}
        for p in chosen:
            value, secret = draw(personal_values(known))
            filled[function][p] = value
            secrets.append(secret)
    return filled, secrets, name


@pytest.fixture(scope="module")
def decided(engines: list[Engine]) -> dict[str, Any]:
    engine = engines[0]
    base = {"applicant": {"kind": "person", "id_number": APPLICANT_ID, "name": "欧阳娜娜"}, "requested_at": "2021-05-06T10:00:00"}
    pledge = engine.decide({**base, "service_item": PLEDGE_ITEM, "certificate": PLEDGE_CERTIFICATE, "wants_pledge": True})
    provided = engine.decide({**base, "service_item": PROVIDED_ITEM, "certificate": PROVIDED_CERTIFICATE,
                              "provides_certificate": True})
    assert pledge.method.name == "PLEDGE" and provided.method.name == "APPLICANT_PROVIDED"
    return {"pledge": pledge, "provided": provided}


@given(drawn=record_inputs())
@settings(NO_SHRINK, max_examples=20)
def test_every_record_parameter_on_records_errors_and_the_audit_log(
    decided: dict[str, Any], tmp_path: Path, drawn: tuple[dict[str, dict[str, str]], list[Secret], Secret]
) -> None:
    filled, secrets, name = drawn
    note(f"filled: {filled!r}")
    log_path = tmp_path / "records.jsonl"
    log_path.unlink(missing_ok=True)
    log = AuditLog(log_path, KEY)
    outputs: dict[str, str] = {}
    complaint_args: dict[str, Any] = {"received_at": AT, "channel": "hotline_12345", "summary": "反映窗口要求开具证明",
                                      "units": ["市公安局"], "ruleset": ZIBO_RULESET, "key": KEY,
                                      "receiver": "市政务服务便民热线", "contents": {"name": name.clear, "agency": "市公安局"}}
    complaint_args.update(filled["complaint"])
    _record_outputs("complaint", lambda: register_complaint(**complaint_args), outputs, log)
    applicant = parse_request({"applicant": {"kind": "person", "id_number": APPLICANT_ID, "name": name.clear},
                               "service_item": PLEDGE_ITEM, "certificate": PLEDGE_CERTIFICATE,
                               "requested_at": "2021-05-06T10:00:00"}).applicant
    pledge_args = {"ruleset": ZIBO_RULESET, **filled["pledge"]}
    _record_outputs("pledge", lambda: open_pledge(decided["pledge"], applicant, KEY, **pledge_args), outputs, log)
    provided_args: dict[str, Any] = {"received_by": "市公安局窗口", "at": AT, "ruleset": ZIBO_RULESET, **filled["provided"]}
    _record_outputs("provided", lambda: record_provided(decided["provided"], **provided_args), outputs, log)
    outputs["audit log"] = log_path.read_text(encoding="utf-8") if log_path.exists() else ""
    if outputs["audit log"]:
        shown = CliRunner().invoke(audit, ["show", "--json", str(log_path)])
        assert shown.exit_code == 0, shown.output
        outputs["audit show --json"] = shown.output
    assert_nothing_leaks(outputs, secrets)



# ---------------------------------------------------------------- what the properties found (each failed before its fix)


@pytest.mark.parametrize("written", ["6 222021 2345 678 90128", "62220 21234 56789 0128", "6222-0212345678-90128"])
def test_a_card_number_spaced_anywhere_is_masked(written: str) -> None:
    from nocert_rules.privacy import mask_text

    assert mask_text(f"卡号 {written}") == "卡号 6222***********0128"


@pytest.mark.parametrize("written", ["a a aa@e xample.c om", "zh ang@qq.com", "z\u200bh\u200ba\u200bn\u200bg@q\u200bq.c\u200bo\u200bm"])
def test_an_e_mail_address_spaced_or_split_anywhere_is_masked(written: str) -> None:
    from nocert_rules.privacy import mask_text

    shown = mask_text(f"邮箱 {written}，电话")
    assert shown.startswith("邮箱 ") and shown.endswith("，电话") and "***@" in shown
    assert written.split("@")[0][1:].replace(" ", "") not in undisguised(shown).lower()


def test_a_complaint_record_id_repeating_the_stated_name_is_masked_also_in_its_refusal() -> None:
    args: dict[str, Any] = {"received_at": AT, "channel": "hotline_12345", "summary": "反映窗口要求开具证明",
                            "units": ["市公安局"], "ruleset": ZIBO_RULESET, "key": KEY,
                            "contents": {"name": "魏骁珂", "agency": "市公安局"}, "record_id": "投诉-魏 骁珂-01",
                            "receiver": "市政务服务便民热线"}
    assert register_complaint(**args).id == "投诉-魏**-01"
    with pytest.raises(RecordProblem) as refused:  # proxy details without by_proxy: refused, quoting the id
        register_complaint(**args, proxy_authorisation="委托书")
    assert "魏骁珂" not in undisguised(str(refused.value)) and refused.value.record_id == "投诉-魏**-01"


def test_a_pledge_record_id_repeating_the_applicant_s_name_is_masked(decided: dict[str, Any]) -> None:
    applicant = parse_request({"applicant": {"kind": "person", "id_number": APPLICANT_ID, "name": "秦骁懿"},
                               "service_item": PLEDGE_ITEM, "certificate": PLEDGE_CERTIFICATE,
                               "requested_at": "2021-05-06T10:00:00"}).applicant
    record = open_pledge(decided["pledge"], applicant, KEY, record_id="承诺-秦骁懿", ruleset=ZIBO_RULESET)
    assert record.id == "承诺-秦**"


@given(name=st.text(min_size=1, max_size=12), other=st.text(max_size=40))
@settings(FEW, max_examples=40)
def test_any_name_and_any_text_beside_it_decide_or_refuse_never_crash(engines: list[Engine], name: str, other: str) -> None:
    # A name whose first character NFKC-folds to several ("㈱" -> "(株)") crashed mask_known (TypeError)
    request = {"service_item": SERVICE_ITEM, "certificate": CERTIFICATE, "requested_at": "2021-05-06T10:00:00",
               "applicant": {"kind": "person", "id_number": APPLICANT_ID, "name": name},
               "request_id": other + name[:3], "requesting_unit": name + other}
    answers = []
    for engine in engines:
        try:
            answers.append(engine.decide(request).model_dump_json(exclude={"ruleset"}))
        except RequestError as exc:
            answers.append(f"refused: {exc}")
    assert len(set(answers)) == 1


def test_a_name_whose_first_character_folds_to_several() -> None:
    with Engine(ZIBO_RULESET, backend="compiled") as engine:
        decision = engine.decide({"service_item": SERVICE_ITEM, "certificate": CERTIFICATE,
                                  "requested_at": "2021-05-06T10:00:00", "request_id": "(株)山田-01",
                                  "applicant": {"kind": "person", "id_number": APPLICANT_ID, "name": "㈱山田"}})
    assert decision.request_id == "(****-01"
