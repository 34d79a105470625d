"""The condition language of policy rules, and the facts it may test.

A rule's ``when`` is a mapping of fact name to expected value, all of which must hold::

    when:
      row.allows_pledge: true
      applicant.credit: {in: [normal, trustworthy]}
      any:                       # at least one of these holds
        - applicant.on_blacklist: true
        - applicant.serious_bad_record: true

Operators: a plain value (equals), ``{not: v}``, ``{in: [..]}``, ``{not_in: [..]}``; the keys
``any`` and ``all`` take a list of such mappings. Facts are listed in ``FACTS``; a rule that
names an unknown fact or a value of the wrong type is a ruleset error at load time.

Conditions compile to durable_rules' JSON (``to_durable``) and can also be evaluated in
Python (``evaluate``), which lint and the benchmarks use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nocert_rules.enums import ApplicantKind, CreditLevel, RecordKind, RowStatus


@dataclass(frozen=True)
class Fact:
    name: str
    kind: type | tuple[str, ...]  # bool, str, or the allowed string values of an enum
    description: str

    def check(self, value: Any) -> str | None:
        """None when ``value`` fits this fact, else the problem in words."""
        if self.kind is bool:
            return None if isinstance(value, bool) else f"expects true/false, got {value!r}"
        if self.kind is str:
            return None if isinstance(value, str) else f"expects a string, got {value!r}"
        assert isinstance(self.kind, tuple)
        if value in self.kind:
            return None
        return f"expects one of {', '.join(self.kind)}, got {value!r}"


def _values(enum: Any) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


FACTS: dict[str, Fact] = {
    fact.name: fact
    for fact in [
        Fact("request.listed", bool, "证明在该事项清单内 / the certificate is on the list for the service item"),
        Fact("request.provides_certificate", bool, "申请人愿意并能够自行提供 / applicant offers the document"),
        Fact("request.wants_pledge", bool, "申请人选择告知承诺 / applicant chooses to pledge"),
        Fact("request.sharing_online", bool, "共享通道当前可用 / data-sharing channel works now"),
        Fact("request.proxy_authorized", bool, "申请人授权代办 / applicant authorised the proxy"),
        Fact("request.adjustment_pending", bool, "清单调整事由已发生未公布 / list adjustment pending"),
        Fact("request.ruleset_in_force", bool, "申请时规则集在有效期内 / ruleset in force at requested_at"),
        Fact("row.service_item_code", str, "事项编码"),
        Fact("row.certificate_id", str, "证明编号"),
        Fact("row.status", _values(RowStatus), "保留或取消 / retained or abolished"),
        Fact("row.has_legal_basis", bool, "有设定依据 / the row names a legal basis"),
        Fact(
            "row.legal_basis_sufficient",
            bool,
            "设定依据达到清单要求的效力层级（如法律法规） / a basis of a rank the manifest accepts",
        ),
        Fact("row.allows_data_sharing", bool, "清单允许数据共享"),
        Fact("row.allows_pledge", bool, "清单允许告知承诺"),
        Fact("row.allows_verification", bool, "清单允许部门核验"),
        Fact("row.has_sharing_source", bool, "清单写明共享数据来源"),
        Fact("row.records", _values(RecordKind), "出具单位档案形态 / how the issuer keeps records"),
        Fact("row.pledge_barring_risk", bool, "涉及不适用告知承诺的风险类别 / a pledge-barring risk category"),
        Fact("row.issuer_department", str, "出具单位所属部门 / issuing department key"),
        Fact("applicant.kind", _values(ApplicantKind), "自然人或组织 / person or organization"),
        Fact("applicant.credit", _values(CreditLevel), "信用等级 / credit level"),
        Fact("applicant.on_blacklist", bool, "在虚假承诺黑名单内且信用未修复 / on the false-pledge blacklist"),
        Fact("applicant.serious_bad_record", bool, "有严重不良信用记录 / serious bad credit record"),
        Fact("applicant.bad_record", bool, "存在不良记录（非严重） / an ordinary bad record"),
        Fact(
            "applicant.false_pledge_on_record",
            bool,
            "本库虚假承诺记录中有该申请人且其后未修复 / a false pledge in the host's blacklist store, not repaired since",
        ),
        Fact(
            "applicant.credit_repaired",
            bool,
            "信用已修复（按 pledge_policy.credit_repair_counts_from 计日）/ credit repaired, counted per the manifest",
        ),
    ]
}

_OPERATORS = ("not", "in", "not_in")

MAX_NESTING = 32
"""Levels of ``any``/``all`` in one condition (the loader refuses more: no recursion limit is
ever reached, and the engine's backends are sized for it)."""


def durable_key(fact: str) -> str:
    """``row.allows_pledge`` -> ``row__allows_pledge`` (durable_rules reads dots as paths)."""
    return fact.replace(".", "__")


class ConditionError(ValueError):
    """A malformed condition; ``path`` is relative to the ``when`` mapping."""

    def __init__(self, path: tuple[str | int, ...], problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(problem)


def validate(
    when: Any, path: tuple[str | int, ...] = (), facts: Mapping[str, Fact] = FACTS
) -> None:
    """Raise ConditionError naming the first problem in a ``when`` mapping.

    ``facts`` is the table of facts the condition may test (default: the decision facts).
    """
    if not isinstance(when, Mapping) or not when:
        raise ConditionError(path, "a condition is a non-empty mapping of fact: value")
    if sum(1 for part in path if part in ("any", "all")) > MAX_NESTING:
        raise ConditionError(path, f"any/all nest more than {MAX_NESTING} levels deep / 条件嵌套过深")
    for key, expected in when.items():
        here = (*path, key)
        if key in ("any", "all"):
            if not isinstance(expected, list) or not expected:
                raise ConditionError(here, f"'{key}' takes a non-empty list of conditions")
            for i, sub in enumerate(expected):
                validate(sub, (*here, i), facts)
            continue
        fact = facts.get(key)
        if fact is None:
            raise ConditionError(here, f"unknown fact {key!r}; known facts: {', '.join(facts)}")
        _validate_test(here, fact, expected)


def _validate_test(here: tuple[str | int, ...], fact: Fact, expected: Any) -> None:
    """One fact's test: a value, or ``{operator: operand}``; each value one the fact can take."""
    if isinstance(expected, Mapping):
        if len(expected) != 1 or next(iter(expected)) not in _OPERATORS:
            raise ConditionError(here, f"operator must be one of {', '.join(_OPERATORS)}")
        op, operand = next(iter(expected.items()))
        values = operand if op in ("in", "not_in") else [operand]
        if op in ("in", "not_in") and (not isinstance(operand, list) or not operand):
            raise ConditionError((*here, op), f"'{op}' takes a non-empty list")
        for value in values:
            problem = fact.check(value)
            if problem:
                raise ConditionError((*here, op), problem)
    else:
        problem = fact.check(expected)
        if problem:
            raise ConditionError(here, problem)


def to_durable(when: Mapping[str, Any]) -> dict[str, Any]:
    """Compile a validated condition to a durable_rules expression over the fact ``m``."""
    terms: list[dict[str, Any]] = []
    for key, expected in when.items():
        if key == "all":
            terms.extend(to_durable(sub) for sub in expected)
        elif key == "any":
            terms.append({"$or": [to_durable(sub) for sub in expected]})
        else:
            terms.append(_term(durable_key(key), expected))
    return terms[0] if len(terms) == 1 else {"$and": terms}


def _term(attr: str, expected: Any) -> dict[str, Any]:
    if not isinstance(expected, Mapping):
        return {attr: expected}
    op, operand = next(iter(expected.items()))
    if op == "not":
        return {"$neq": {attr: operand}}
    if op == "in":
        options = [{attr: v} for v in operand]
        return options[0] if len(options) == 1 else {"$or": options}
    negated = [{"$neq": {attr: v}} for v in operand]
    return negated[0] if len(negated) == 1 else {"$and": negated}


def evaluate(when: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    """Evaluate a validated condition in Python over dotted fact names (absent fact: no match)."""
    for key, expected in when.items():
        if key == "all":
            if not all(evaluate(sub, facts) for sub in expected):
                return False
        elif key == "any":
            if not any(evaluate(sub, facts) for sub in expected):
                return False
        else:
            if key not in facts:
                return False
            value = facts[key]
            if isinstance(expected, Mapping):
                op, operand = next(iter(expected.items()))
                ok = (
                    value != operand
                    if op == "not"
                    else value in operand
                    if op == "in"
                    else value not in operand
                )
            else:
                ok = value == expected and type(value) is type(expected)
            if not ok:
                return False
    return True


def facts_named(when: Mapping[str, Any]) -> set[str]:
    """Every fact a condition reads (for caching and lint)."""
    out: set[str] = set()
    for key, expected in when.items():
        if key in ("any", "all"):
            for sub in expected:
                out |= facts_named(sub)
        else:
            out.add(key)
    return out
