"""Fuzzing with hypothesis: malformed input gives a typed error, never anything else.

- Requests: random and malformed requests (wrong types, missing and extra fields, huge and
  unicode strings, bad dates, nested garbage, non-dicts) give a ``Decision`` or a
  ``RequestError``.
- Rulesets: a copy of the bundled Zibo ruleset with one or two files mutated (a line deleted,
  duplicated, re-indented, two values swapped, a random token inserted, the file truncated)
  loads, or raises a ``RulesetError`` whose message reads ``file:line: ...`` whenever a line is
  known; the line is missing only for errors about a whole file.

Budget: about 30 s in all (``max_examples`` below, no deadline, no example database).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import PERSON_ID, ZIBO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nocert_rules import Decision, Engine, RequestError, Ruleset, RulesetError, load_ruleset
from nocert_rules.errors import Problem

REQUEST_EXAMPLES = 400
RULESET_EXAMPLES = 150

FUZZ = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- requests

text_no_surrogates = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
huge = st.sampled_from([10_000, 100_000, 1_000_000]).map(lambda n: "证" * n)
unicode_strings = st.sampled_from(
    ["", " ", "\x00", "\u200b", "\ufeff370399199001011234", "🙂" * 50, "Ｓ１", "\n\t", "ZM-SJ-0001\x00", "370300-XK-0001 "]
)
garbage: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text_no_surrogates | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text_no_surrogates, inner, max_size=4),
    max_leaves=12,
)
tz = st.sampled_from([None, UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])
# Years 1 and 9999 are left out here: a deadline or the Shanghai conversion then leaves the
# datetime range (see test_a_request_at_the_edge_of_time_is_a_request_error).
any_datetime = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=tz)
bad_dates = st.sampled_from(
    [
        "2021-02-30T10:00:00", "2021-13-01", "2021-06-01T25:00", "0000-01-01", "10000-01-01T00:00",
        "2021-06-01T10:00:00+25:00", "yesterday", "", "2021/06/01 10:00", "2021-06-01T10:00:00Z",
        "1e10", "2021-06-01T10:00:00.123456789", "2021-06-01T10:00:00+08:00:30", "1900-01-01T00:00",
    ]
)
dates = st.one_of(
    any_datetime.map(lambda d: d.isoformat()),
    any_datetime,
    st.dates().map(date.isoformat),
    bad_dates,
    st.integers(min_value=-(2**40), max_value=2**40),  # unix times, years 1970 +- 34,000
    st.floats(),
)


def valid_request(ruleset: Ruleset, i: int) -> dict[str, Any]:
    row = ruleset.rows[i % len(ruleset.rows)]
    return {
        "service_item": row.service_item_code,
        "certificate": row.certificate_id,
        "applicant": {"kind": "person", "id_number": PERSON_ID, "name": "张三", "credit": "normal"},
        "requested_at": "2021-06-01T10:00:00",
    }


FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "service_item": st.one_of(text_no_surrogates, huge, unicode_strings, garbage),
    "certificate": st.one_of(text_no_surrogates, huge, unicode_strings, garbage),
    "requested_at": dates,
    "wants_pledge": st.one_of(st.booleans(), garbage, st.sampled_from(["true", "no", "1", 0, 2])),
    "provides_certificate": st.one_of(st.booleans(), garbage),
    "sharing_online": st.one_of(st.booleans(), garbage),
    "proxy_authorized": st.one_of(st.booleans(), garbage),
    "adjustment_pending": st.one_of(st.booleans(), garbage),
    "request_id": st.one_of(text_no_surrogates, huge, garbage),
    "requesting_unit": st.one_of(text_no_surrogates, huge, garbage),
}
APPLICANT_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "kind": st.one_of(st.sampled_from(["person", "organization", "PERSON", "robot"]), garbage),
    "id_number": st.one_of(text_no_surrogates, huge, unicode_strings, garbage),
    "name": st.one_of(text_no_surrogates, huge, unicode_strings, garbage),
    "credit": st.one_of(st.sampled_from(["trustworthy", "normal", "untrustworthy", "good"]), garbage),
    "blacklisted_since": dates,
    "credit_repaired_on": dates,
    "serious_bad_record": st.one_of(st.booleans(), garbage),
}


@st.composite
def mutated_requests(draw: st.DrawFn, ruleset: Ruleset) -> Any:
    if draw(st.integers(0, 9)) == 0:  # not an object at all
        return draw(st.one_of(garbage, st.tuples(garbage), st.sets(st.integers()), st.just(b"{}")))
    req = valid_request(ruleset, draw(st.integers(0, 10_000)))
    applicant = dict(req["applicant"])
    for field in draw(st.sets(st.sampled_from(sorted(FIELD_VALUES)), max_size=4)):
        if draw(st.booleans()) and field in req:
            del req[field]
        else:
            req[field] = draw(FIELD_VALUES[field])
    for field in draw(st.sets(st.sampled_from(sorted(APPLICANT_VALUES)), max_size=3)):
        if draw(st.booleans()) and field in applicant:
            del applicant[field]
        else:
            applicant[field] = draw(APPLICANT_VALUES[field])
    req["applicant"] = draw(st.one_of(st.just(applicant), st.just(applicant), garbage))
    for _ in range(draw(st.integers(0, 2))):  # extra fields, at either level
        key = draw(st.one_of(text_no_surrogates, st.integers()))
        target = req if draw(st.booleans()) or not isinstance(req["applicant"], dict) else req["applicant"]
        target[key] = draw(garbage)
    return req


def test_the_request_strategy_produces_decisions_and_errors(zibo_engine: Engine) -> None:
    """Guard against a fuzzer that only ever hits one branch."""
    outcomes: set[str] = set()

    @settings(FUZZ, max_examples=120)
    @given(mutated_requests(zibo_engine.ruleset))
    def probe(request: Any) -> None:
        try:
            zibo_engine.decide(request)
            outcomes.add("decision")
        except RequestError:
            outcomes.add("error")

    probe()
    assert outcomes == {"decision", "error"}


def _elsewhere(request: dict[Any, Any], text: str) -> bool:
    """Whether ``text`` is also a key, or inside another value, of the request: an error may name
    an unknown key, so a drawn key that happens to equal the drawn ID number is not an echo."""
    def walk(value: Any, is_id: bool) -> bool:
        if isinstance(value, dict):
            return any(text in str(k) or walk(v, is_id=k == "id_number" and value is applicant)
                       for k, v in value.items())
        if isinstance(value, list | tuple):
            return any(walk(v, False) for v in value)
        return not is_id and text in str(value)

    applicant = request.get("applicant")
    return walk(request, False)


@settings(FUZZ, max_examples=REQUEST_EXAMPLES)
@given(data=st.data())
def test_any_request_gives_a_decision_or_a_request_error(zibo_engine: Engine, data: st.DataObject) -> None:
    request = data.draw(mutated_requests(zibo_engine.ruleset))
    try:
        decision = zibo_engine.decide(request)
    except RequestError as err:
        assert err.errors, "a RequestError names at least one field"
        for path, problem in err.errors:
            assert isinstance(path, str) and path and isinstance(problem, str) and problem
        if isinstance(request, dict):
            applicant = request.get("applicant")
            id_number = applicant.get("id_number") if isinstance(applicant, dict) else None
            if isinstance(id_number, str) and len(id_number.strip()) >= 8 \
                    and not _elsewhere(request, id_number.strip()):
                assert id_number.strip() not in str(err), "the error echoes the ID number"
        return
    assert isinstance(decision, Decision)
    assert Decision.model_validate_json(decision.model_dump_json()) == decision


def row_per_method(ruleset: Ruleset) -> list[int]:
    """Indices of rows whose first method differs: verification and pledge have deadlines."""
    seen: dict[str, int] = {}
    for i, row in enumerate(ruleset.rows):
        seen.setdefault(row.methods[0].value if row.methods else "none", i)
    return sorted(seen.values())


@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_any_requested_at_gives_a_decision_or_a_request_error(zibo_engine: Engine, data: st.DataObject) -> None:
    """The dates alone, on rows of every method (deadlines are computed from them)."""
    rs = zibo_engine.ruleset
    request = valid_request(rs, data.draw(st.sampled_from(row_per_method(rs))))
    request["requested_at"] = data.draw(dates)
    request["sharing_online"] = data.draw(st.booleans())
    request["applicant"]["credit"] = data.draw(st.sampled_from(["trustworthy", "normal", "untrustworthy"]))
    if data.draw(st.booleans()):
        request["applicant"]["blacklisted_since"] = data.draw(dates)
    try:
        assert isinstance(zibo_engine.decide(request), Decision)
    except RequestError:
        pass


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
def test_a_request_at_the_edge_of_time_is_a_request_error(zibo_engine: Engine, at: str) -> None:
    rs = zibo_engine.ruleset
    for i in row_per_method(rs):
        request = valid_request(rs, i) | {"requested_at": at, "sharing_online": False}
        with pytest.raises(RequestError) as info:
            zibo_engine.decide(request)
        assert [path for path, _ in info.value.errors] == ["requested_at"]


def test_a_pre_1901_request_is_refused_not_given_a_local_mean_time_offset(zibo_engine: Engine) -> None:
    """Before 1901 Asia/Shanghai is UTC+08:05:43, whose JSON would not round-trip: such dates are refused."""
    request = valid_request(zibo_engine.ruleset, 0) | {"requested_at": "1900-01-01"}
    with pytest.raises(RequestError):
        zibo_engine.decide(request)


# ---------------------------------------------------------------- rulesets

# Characters PyYAML accepts; control characters are tested apart (test_a_control_character_in_a_ruleset_file_names_the_line).
yaml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"), max_size=20
)
FILE_LEVEL = ("file not found", "not UTF-8", "ruleset not found")

TOKENS = [
    ":", ": ", "- ", "-", "{", "}", "[", "]", "'", '"', "#", "&a ", "*a", "*nope", "? ", "|", ">",
    "!!python/object/apply:os.system ['true'] ", "!!binary ", "!custom ", "%YAML 1.1", "---", "...",
    "null", "~", "true", "no", "1e999", "-1", "0x10", "2021-02-30", "\t", "\\", "@", "`", "*", "!",
    "%", "<<: *a", "\u3000", "\ufeff", "x: [1, 2", "{a: 1}", "  ", "\n", "\n  -", "99999999999999999999",
]


@st.composite
def mutations(draw: st.DrawFn, text: str) -> bytes:
    lines = text.split("\n")
    kind = draw(st.sampled_from(["delete", "duplicate", "indent", "swap", "token", "truncate", "truncate-bytes"]))
    i = draw(st.integers(0, len(lines) - 1))
    if kind == "delete":
        del lines[i]
    elif kind == "duplicate":
        lines.insert(i, lines[i])
    elif kind == "indent":
        stripped = lines[i].lstrip(" ")
        indent = len(lines[i]) - len(stripped)
        lines[i] = " " * max(0, indent + draw(st.sampled_from([-4, -2, -1, 1, 2, 4]))) + stripped
    elif kind == "swap":
        j = draw(st.integers(0, len(lines) - 1))
        a, b = lines[i].partition(": "), lines[j].partition(": ")
        if a[1] and b[1]:  # two "key: value" lines: swap the values
            lines[i], lines[j] = a[0] + ": " + b[2], b[0] + ": " + a[2]
        else:  # swap the lines
            lines[i], lines[j] = lines[j], lines[i]
    elif kind == "token":
        token = draw(st.one_of(st.sampled_from(TOKENS), yaml_text))
        at = draw(st.integers(0, len(lines[i])))
        lines[i] = lines[i][:at] + token + lines[i][at:]
    elif kind == "truncate":
        return text[: draw(st.integers(0, len(text)))].encode("utf-8")
    else:
        raw = text.encode("utf-8")
        return raw[: draw(st.integers(0, len(raw)))]  # may cut a character in two
    return "\n".join(lines).encode("utf-8")


@pytest.fixture(scope="module")
def ruleset_copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, bytes]]]:
    folder = tmp_path_factory.mktemp("fuzz") / "zibo"
    shutil.copytree(ZIBO, folder)
    originals = load_ruleset(folder).files  # every file the loader reads
    yield folder, {name: data for name, data in originals.items() if name.endswith(".yaml")}


def check_ruleset_error(err: RulesetError, mutated: dict[str, bytes]) -> None:
    """Every problem the error lists (``err.problems``) names its file, and its line unless file-level."""
    first = err.problems[0]
    assert (err.file, err.line, err.field, err.problem) == (first.file, first.line, first.field, first.problem)
    assert str(err).startswith(str(first))
    for problem in err.problems:
        check_problem(problem, mutated)


def check_problem(err: Problem, mutated: dict[str, bytes]) -> None:
    message = str(err)
    assert isinstance(err.file, str) and err.file
    assert isinstance(err.problem, str) and err.problem
    if err.line is None:
        # Only an error about a whole file may lack a line: no field path, and not the YAML
        # parser pointing into the text.
        assert err.field is None, message
        assert err.problem.startswith(FILE_LEVEL), message
        assert message == f"{err.file}: {err.problem}"
        return
    assert message.startswith(f"{err.file}:{err.line}: "), message
    assert err.line >= 1
    if err.file in mutated:
        text = mutated[err.file].decode("utf-8", errors="replace")
        assert err.line <= text.count("\n") + 2, message  # within the file (or its end)


@settings(FUZZ, max_examples=RULESET_EXAMPLES)
@given(data=st.data())
def test_a_mutated_ruleset_loads_or_names_file_and_line(
    ruleset_copy: tuple[Path, dict[str, bytes]], data: st.DataObject
) -> None:
    folder, originals = ruleset_copy
    names = data.draw(st.lists(st.sampled_from(sorted(originals)), min_size=1, max_size=2, unique=True))
    mutated: dict[str, bytes] = {}
    try:
        for name in names:
            mutated[name] = data.draw(mutations(originals[name].decode("utf-8")))
            (folder / name).write_bytes(mutated[name])
        try:
            load_ruleset(folder)
        except RulesetError as err:
            check_ruleset_error(err, mutated)
    finally:
        for name in names:
            (folder / name).write_bytes(originals[name])


@pytest.mark.parametrize(
    ("name", "insert", "expected_line"),
    [
        ("rules.yaml", "  - id: [unclosed\n", 10),
        ("certificates.yaml", "    methods: {data_sharing\n", 30),
        ("manifest.yaml", "name: !!python/object/apply:os.system ['true']\n", 1),
    ],
)
def test_known_yaml_faults_name_the_line(
    ruleset_copy: tuple[Path, dict[str, bytes]], name: str, insert: str, expected_line: int
) -> None:
    """Fixed examples of the property above, so that it is seen to bite."""
    folder, originals = ruleset_copy
    lines = originals[name].decode("utf-8").split("\n")
    lines.insert(expected_line - 1, insert.rstrip("\n"))
    mutated = "\n".join(lines).encode("utf-8")
    try:
        (folder / name).write_bytes(mutated)
        with pytest.raises(RulesetError) as info:
            load_ruleset(folder)
    finally:
        (folder / name).write_bytes(originals[name])
    check_ruleset_error(info.value, {name: mutated})
    assert info.value.file == name and info.value.line is not None
    assert abs(info.value.line - expected_line) <= 2


@pytest.mark.parametrize("char", ["\x07", "\x00", "\ufffe"])
def test_a_control_character_in_a_ruleset_file_names_the_line(
    ruleset_copy: tuple[Path, dict[str, bytes]], char: str
) -> None:
    folder, originals = ruleset_copy
    lines = originals["rules.yaml"].decode("utf-8").split("\n")
    lines[20] = lines[20][:10] + char + lines[20][10:]
    mutated = "\n".join(lines).encode("utf-8")
    try:
        (folder / "rules.yaml").write_bytes(mutated)
        with pytest.raises(RulesetError) as info:
            load_ruleset(folder)
    finally:
        (folder / "rules.yaml").write_bytes(originals["rules.yaml"])
    assert info.value.line == 21
    check_ruleset_error(info.value, {"rules.yaml": mutated})
