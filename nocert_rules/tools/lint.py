"""Lint a ruleset: what the loader accepts but the plan forbids, or what cannot work.

Errors (exit 1):

* ``load``: the ruleset does not load (YAML error, unknown key, duplicate (service item,
  certificate) row, a citation that resolves to no clause or source document ...);
* ``retained-without-basis``: a retained row with no legal basis: it must be abolished
  ("法无规定一律取消", 二(一); 三(一)1);
* ``sharing-without-source``: a row allowing data sharing names no sharing source (三(三)1);
* ``pledge-on-barring-risk``: a row with a pledge-barring risk category for which the rules
  would accept a pledge for some applicant (国办发〔2020〕42号 不适用情形);
* ``bad-service-item-code``: a code that does not match ``service_item_code_pattern``.

Warnings (listed apart; ``--strict`` makes them fail):

* ``pledge-listed-on-barring-risk``: the row still lists ``pledge`` next to a barring risk,
  although the rules block it: the published list should be corrected;
* ``rule-never-matches``: a rule whose condition no combination of facts satisfies (e.g. a fact
  required to two values, or a row fact required of an unlisted certificate);
* ``rule-matches-no-row``: a rule that could match, but no row of the list has the values it
  requires (e.g. ``row.certificate_id`` of no row, or a barring-risk block when no row has one);
* ``offer-always-blocked``: an offer rule that, whenever it fires, is blocked by a block rule of
  the same method: it can never lead to that method;
* ``certificate-name-differs`` / ``service-item-name-differs``: one id, several names;
* ``publication-overdue`` (with a publication log only): as of ``as_of`` the list is past the
  day the manifest's schedule sets (``deadlines.publication_schedule`` over
  ``publication_month_days``, ``publication_clause``) after its last publication (or from
  ``effective_from`` when none is logged); ``publication-not-current``: the ruleset is not the
  version last published.

``LintResult.readings`` lists the manifest's readings of the plan (``policy/readings.py``).

Ranks of legal bases and dates (``basis-not-in-force``, ``basis-below-rank``, ``basis-unranked``,
``retained-below-rank-kept``, ``limit-not-in-force``): see :mod:`nocert_rules.tools.lint_law`.

Rules are checked by enumeration with :func:`nocert_rules.policy.conditions.evaluate`: request and
applicant facts range over their (small) domains, row facts over the actual rows of the list
(plus "no row" for unlisted certificates).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from nocert_rules.enums import Method, ReplacementMethod, RowStatus
from nocert_rules.errors import Problem, RulesetError
from nocert_rules.models import SHANGHAI
from nocert_rules.policy import conditions
from nocert_rules.policy.publication import PublishedList, check_schedule
from nocert_rules.policy.ruleset import PolicyRule, Ruleset, load_ruleset
from nocert_rules.policy.yaml_source import LocatedYaml, load_located_yaml
from nocert_rules.tools.lint_facts import (
    abstract_combinations,
    describe,
    free_combinations,
    literals,
    row_contexts,
    row_facts,
)
from nocert_rules.tools.lint_law import check_law

Severity = Literal["error", "warning"]
CASE_MISMATCH = "case-mismatch"


@dataclass(frozen=True)
class Finding:
    """One lint finding, located at ``file:line``."""

    severity: Severity
    code: str
    file: str
    line: int | None
    message: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "code": self.code, "file": self.file, "line": self.line,
                "message": self.message}


@dataclass
class LintResult:
    ruleset_path: str
    findings: list[Finding]
    loaded: bool
    changes: list[dict[str, Any]] = field(default_factory=list)
    """A district's changes to the list, rules and clauses it inherits (policy/overlay.py)."""
    readings: list[dict[str, Any]] = field(default_factory=list)
    """The manifest's readings of the plan, each with the clause behind it (policy/readings.py)."""

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """Warnings other than case-only mismatches (those are ``case_mismatches``)."""
        return [f for f in self.findings if f.severity == "warning" and f.code != CASE_MISMATCH]

    @property
    def case_mismatches(self) -> list[Finding]:
        """Codes that differ from another only in letter case (a warning, in its own list)."""
        return [f for f in self.findings if f.code == CASE_MISMATCH]


def display_path(directory: Path, name: str) -> str:
    """``rules.yaml`` of ``rulesets/zibo`` -> ``rulesets/zibo/rules.yaml`` (as the user named it)."""
    candidate = directory / name
    return str(candidate) if not Path(name).is_absolute() and candidate.exists() else name


def ruleset_problems(path: str | Path, exc: RulesetError) -> list[Problem]:
    """Every problem of a RulesetError, its file shown inside the ruleset folder."""
    p = Path(path)
    directory = p if p.is_dir() else p.parent
    return [Problem(display_path(directory, q.file), q.line, q.field, q.problem) for q in exc.problems]


def ruleset_error_message(path: str | Path, exc: RulesetError) -> str:
    """A RulesetError as text: each problem on its own line, files shown inside the ruleset folder."""
    return "\n".join(str(q) for q in ruleset_problems(path, exc))


# ------------------------------------------------------------------ lint


def lint_ruleset(
    path: str | Path, *, as_of: date | None = None, publications: Sequence[PublishedList] | None = None
) -> LintResult:
    """Lint the ruleset at ``path``; a ruleset that does not load gives one ``load`` error per problem.

    ``publications`` (what a publication log says, ``records.publication``) turns on the
    publication-schedule check as of ``as_of`` (default: today, Asia/Shanghai).
    """
    p = Path(path)
    directory = p if p.is_dir() else p.parent
    try:
        rs = load_ruleset(p)
    except RulesetError as exc:
        findings = [
            Finding("error", "load", q.file, q.line,
                    f"规则集无法加载 / ruleset does not load: {q.field + ': ' if q.field else ''}{q.problem}")
            for q in ruleset_problems(directory, exc)
        ]
        return LintResult(str(path), findings, False)
    linter = _Linter(rs, directory, as_of=as_of, publications=publications)
    changes = [{"kind": c.kind, "key": c.key, "basis": c.basis, "file": display_path(directory, c.file), "line": c.line}
               for c in rs.overlay_changes]
    from nocert_rules.policy.readings import readings

    return LintResult(str(path), linter.run(), True, changes, [r.to_dict() for r in readings(rs)])


def lint_loaded(rs: Ruleset) -> list[Finding]:
    """The findings for a ruleset already loaded (the service lints a reload before swapping)."""
    return _Linter(rs, rs.directory).run()


class _Linter:
    def __init__(self, rs: Ruleset, directory: Path, *, as_of: date | None = None,
                 publications: Sequence[PublishedList] | None = None) -> None:
        self.rs = rs
        self.as_of = as_of
        self.publications = publications
        files = rs.manifest.files
        self.directory = directory
        self.manifest_file = display_path(directory, "manifest.yaml")
        self._docs: dict[str, LocatedYaml] = {}
        # Where each row and rule is written: a district's own file or its city's (policy/overlay.py).
        from nocert_rules.policy.overlay import origin_of_row, origin_of_rule

        self.row_locs = [self._loc(*origin_of_row(rs, row), files.certificates) for row in rs.rows]
        self.rule_locs = [self._loc(*origin_of_rule(rs, rule), files.rules) for rule in rs.rules]
        self.findings: list[Finding] = []
        self.rows = row_facts(rs)

    def _loc(self, level: Ruleset, index: int, default_name: str) -> tuple[str, LocatedYaml, int]:
        name = default_name if level is self.rs else (
            level.manifest.files.certificates if default_name == self.rs.manifest.files.certificates
            else level.manifest.files.rules
        )
        folder = self.directory if level is self.rs else level.directory
        shown = display_path(folder, name)
        if shown not in self._docs:
            self._docs[shown] = load_located_yaml(folder / name, name)
        return shown, self._docs[shown], index

    def row_file(self, i: int) -> str:
        return self.row_locs[i][0]

    def rule_file(self, i: int) -> str:
        return self.rule_locs[i][0]

    def add(self, severity: Severity, code: str, file: str, line: int | None, message: str) -> None:
        self.findings.append(Finding(severity, code, file, line, message))

    def row_line(self, i: int, field: str | None = None, *path: str | int) -> int | None:
        _, doc, j = self.row_locs[i]
        return doc.line_of(("rows", j, field, *path) if field else ("rows", j))

    def rule_line(self, i: int, field: str | None = None) -> int | None:
        _, doc, j = self.rule_locs[i]
        return doc.line_of(("rules", j, field) if field else ("rules", j))

    def run(self) -> list[Finding]:
        self.check_rows()
        check_law(self.rs, self.rows, self.row_file,
                  lambda i, path: self.row_line(i, *path) if path else self.row_line(i), self.add)
        self.check_names()
        self.check_pledge_on_barring_risk()
        self.check_rules()
        self.check_unloaded_files()
        self.check_case_mismatches()
        if self.publications is not None:
            self.check_publication(self.publications, self.as_of or datetime.now(SHANGHAI).date())
        self.check_officers()
        order = {"error": 0, "warning": 1}
        return sorted(self.findings, key=lambda f: (order[f.severity], f.file, f.line or 0, f.code))

    # ---------------------------------------------------------------- rows

    def check_rows(self) -> None:
        pattern = re.compile(self.rs.manifest.service_item_code_pattern)
        for i, row in enumerate(self.rs.rows):
            label = f"{row.service_item_code} / {row.certificate_id} {row.certificate_name}"
            if row.status is RowStatus.RETAINED and not row.has_legal_basis:
                self.add("error", "retained-without-basis", self.row_file(i), self.row_line(i, "legal_basis"),
                         f"{label}: 保留的证明没有设定依据，应直接取消（法无规定一律取消） / retained "
                         "without a legal basis: it must be abolished")
            if ReplacementMethod.DATA_SHARING in row.methods and not row.sharing_source:
                self.add("error", "sharing-without-source", self.row_file(i), self.row_line(i, "methods"),
                         f"{label}: 允许数据共享但未写明共享来源 / data sharing without a sharing source")
            if not pattern.match(row.service_item_code):
                self.add("error", "bad-service-item-code", self.row_file(i), self.row_line(i, "service_item_code"),
                         f"事项编码 {row.service_item_code!r} 不符合 / does not match "
                         f"service_item_code_pattern {pattern.pattern!r}")

    def check_case_mismatches(self) -> None:
        """Service item codes or certificate ids equal but for letter case, in the list or in rules.

        A request's code must match exactly, so ``370300-xk-0001`` finds no row of
        ``370300-XK-0001``: such pairs are reported in their own list.
        """
        for attr in ("service_item_code", "certificate_id"):
            first: dict[str, tuple[str, int]] = {}
            for i, row in enumerate(self.rs.rows):
                code = getattr(row, attr)
                seen = first.setdefault(code.casefold(), (code, i))
                if seen[0] != code:
                    self.add("warning", CASE_MISMATCH, self.row_file(i), self.row_line(i, attr),
                             f"{attr} {code!r} 与第 {self.row_line(seen[1], attr)} 行的 {seen[0]!r} 仅大小写不同 / "
                             f"differs only in case from {seen[0]!r} (line {self.row_line(seen[1], attr)})")
        known = {
            "row.service_item_code": {r.service_item_code for r in self.rs.rows},
            "row.certificate_id": {r.certificate_id for r in self.rs.rows},
        }
        for name, codes in known.items():
            folded = {c.casefold(): c for c in codes}
            for i, rule in enumerate(self.rs.rules):
                for value in sorted(literals(rule.when, name), key=str):
                    if isinstance(value, str) and value not in codes and value.casefold() in folded:
                        self.add("warning", CASE_MISMATCH, self.rule_file(i), self.rule_line(i, "when"),
                                 f"规则 {rule.id} 的 {name} {value!r} 与清单的 {folded[value.casefold()]!r} 仅大小写"
                                 f"不同，永不匹配 / rule {rule.id}: {name} {value!r} differs only in case from the "
                                 f"list's {folded[value.casefold()]!r} and never matches")

    def check_unloaded_files(self) -> None:
        """YAML and template files the ruleset does not load (so not in its sha256), tests/ and sources/ aside."""
        directory = self.rs.directory
        for path in sorted(directory.rglob("*")):
            rel = path.relative_to(directory)
            if not path.is_file() or path.suffix not in (".yaml", ".yml", ".md") or rel.parts[0] in ("tests", "sources"):
                continue
            if path.suffix == ".md" and rel.parts[0] != "templates":
                continue  # notes such as SAMPLE_LIST.md
            name = rel.as_posix()
            if name not in self.rs.files:
                self.add("warning", "unloaded-file", display_path(directory, name), None,
                         f"{name} 未被加载，不在 sha256 内（清单文件名见 manifest 的 files、deadlines.overrides_file） / "
                         f"{name} is not loaded and not covered by the sha256 (name it in the manifest's files or "
                         "deadlines.overrides_file, or use the usual name)")

    def check_publication(self, publications: Sequence[PublishedList], as_of: date) -> None:
        """The list overdue for publication by the manifest's schedule (``policy.publication``),
        and a ruleset that is not the version last published."""
        check = check_schedule(self.rs, publications, as_of)
        if not check.in_force:
            return
        try:
            doc = load_located_yaml(self.directory / "manifest.yaml", "manifest.yaml")
            line = doc.line_of(("deadlines", "publication_month_days"))
        except (OSError, RulesetError):
            line = None
        clause = f"{check.citation.clause_id}：{check.citation.text}"
        if check.last is None:
            since = (f"未记录公布，自施行日 {check.counted_from} 起算 / no publication recorded, counted from "
                     f"effective_from {check.counted_from}")
        else:
            since = (f"上次公布 {check.counted_from}（版本 {check.last.ruleset_version}） / last published "
                     f"{check.counted_from} (version {check.last.ruleset_version})")
        if check.overdue:
            self.add("warning", "publication-overdue", self.manifest_file, line,
                     f"清单应于 {check.due_on} 前公布，截至 {as_of} 未公布（{since}；{clause}） / the list was due "
                     f"for publication by {check.due_on} and is not published as of {as_of} ({since})")
        if check.last is not None and check.current is False:
            self.add("warning", "publication-not-current", self.manifest_file, line,
                     f"本规则集（版本 {self.rs.version}，sha256 {self.rs.sha256[:12]}…）不是 {check.last.published_on} "
                     f"公布的版本（{check.last.ruleset_version}，sha256 {check.last.ruleset_sha256[:12]}…）；"
                     f"下次公布期限 {check.due_on}（{check.citation.clause_id}） / this ruleset is not the list "
                     f"published on {check.last.published_on}; next publication due {check.due_on}")

    def check_officers(self) -> None:
        """The officers file's minimums per unit (附件2 第六条 in Zibo): each unit it lists (error),
        and each issuing unit of a row allowing verification that it does not list (warning)."""
        officers = self.rs.officers
        if officers is None:
            return
        from nocert_rules.policy.officers import shortfalls

        issuers = [row.issuer for row in self.rs.rows if ReplacementMethod.VERIFICATION in row.methods]
        folder = self.rs.directory if officers.file in self.rs.files else (
            self.rs.parent.directory if self.rs.parent is not None else self.directory)
        shown = display_path(folder, officers.file)
        for gap in shortfalls(self.rs, officers, issuers):
            if gap.what == "missing":
                self.add("warning", "officers-unit-missing", shown, gap.line, gap.message)
            else:
                code = "officers-below-minimum" if gap.what == "count" else "officers-no-ab-role"
                self.add("error", code, shown, gap.line, gap.message)

    def check_names(self) -> None:
        for key_field, name_field, code, what in (
            ("certificate_id", "certificate_name", "certificate-name-differs", "证明编号 certificate id"),
            ("service_item_code", "service_item_name", "service-item-name-differs", "事项编码 service item code"),
        ):
            first: dict[str, tuple[str, int]] = {}
            for i, row in enumerate(self.rs.rows):
                key, name = getattr(row, key_field), getattr(row, name_field)
                if key not in first:
                    first[key] = (name, i)
                elif first[key][0] != name:
                    name0, i0 = first[key]
                    self.add("warning", code, self.row_file(i), self.row_line(i, name_field),
                             f"{what} {key}: 名称 {name!r} 与第 {self.row_line(i0)} 行的 {name0!r} 不同 / "
                             f"named {name!r} here but {name0!r} at line {self.row_line(i0)}")
        # 即办件 is a property of the service item: its rows should agree (manifest on_the_spot).
        spot: dict[str, tuple[bool, int]] = {}
        for i, row in enumerate(self.rs.rows):
            if row.service_item_code not in spot:
                spot[row.service_item_code] = (row.on_the_spot, i)
            elif spot[row.service_item_code][0] != row.on_the_spot:
                i0 = spot[row.service_item_code][1]
                self.add("warning", "on-the-spot-differs", self.row_file(i), self.row_line(i),
                         f"事项编码 {row.service_item_code}: 本行即办件为 {row.on_the_spot}，第 {self.row_line(i0)} 行为 "
                         f"{not row.on_the_spot}；即办件是事项的属性，各行应一致 / on_the_spot is "
                         f"{row.on_the_spot} here but {not row.on_the_spot} at line {self.row_line(i0)}: "
                         "即办件 is a property of the service item")

    # ---------------------------------------------------------------- pledge

    def check_pledge_on_barring_risk(self) -> None:
        policy = self.rs.manifest.pledge_policy
        barring = set(policy.barring_risk_categories)
        rules = self.rs.rules
        offers = [r for r in rules if r.method is Method.PLEDGE and r.effect == "offer"]
        blocks = [r for r in rules if r.method is Method.PLEDGE and r.effect == "block"]
        names: set[str] = set()
        for r in offers + blocks:
            names |= conditions.facts_named(r.when)
        for i, row in enumerate(self.rs.rows):
            risky = sorted(barring.intersection(row.risk_categories))
            if ReplacementMethod.PLEDGE not in row.methods or not risky:
                continue
            labels = "、".join(policy.risk_categories[c] for c in risky)
            example = None
            for combo in free_combinations(names):
                facts = {**self.rows[i], **combo}
                if any(conditions.evaluate(r.when, facts) for r in offers) and not any(
                    conditions.evaluate(r.when, facts) for r in blocks
                ):
                    example = combo
                    break
            label = f"{row.service_item_code} / {row.certificate_id} {row.certificate_name}"
            if example is not None:
                self.add("error", "pledge-on-barring-risk", self.row_file(i), self.row_line(i, "methods"),
                         f"{label}: 涉及{labels}，不适用告知承诺，但规则会接受承诺（例如 {describe(example)}） / "
                         f"a pledge-barring risk ({', '.join(risky)}), yet the rules accept a pledge "
                         f"(e.g. {describe(example)})")
            else:
                self.add("warning", "pledge-listed-on-barring-risk", self.row_file(i), self.row_line(i, "methods"),
                         f"{label}: 清单列了告知承诺，但涉及{labels}（规则会阻止承诺），应修正清单 / lists "
                         f"pledge next to a barring risk ({', '.join(risky)}); the rules block it, "
                         "but the list should be corrected")

    # ---------------------------------------------------------------- rules

    def _satisfying(self, rules: list[PolicyRule]) -> Iterator[dict[str, Any]]:
        """Every fact combination (rows x free facts) over the facts the rules name."""
        names: set[str] = set()
        for r in rules:
            names |= conditions.facts_named(r.when)
        contexts = row_contexts(self.rows, names)
        for combo in free_combinations(names):
            for ctx in contexts:
                yield {**ctx, **combo}

    def check_rules(self) -> None:
        never: set[str] = set()
        for i, rule in enumerate(self.rs.rules):
            if any(conditions.evaluate(rule.when, f) for f in self._satisfying([rule])):
                continue
            never.add(rule.id)
            if not any(conditions.evaluate(rule.when, f) for f in abstract_combinations(rule.when)):
                self.add("warning", "rule-never-matches", self.rule_file(i), self.rule_line(i, "when"),
                         f"规则 {rule.id} 的条件自相矛盾，永远不会成立 / rule {rule.id} can never match: "
                         "its conditions contradict each other")
            else:
                self.add("warning", "rule-matches-no-row", self.rule_file(i), self.rule_line(i, "when"),
                         f"规则 {rule.id} 对清单中的任何一行都不成立 / rule {rule.id} matches no row of the "
                         "list (no row has such values)")
        for i, rule in enumerate(self.rs.rules):
            if rule.effect != "offer" or rule.id in never:
                continue
            blocks = [r for r in self.rs.rules if r.method is rule.method and r.effect == "block"]
            if not blocks:
                continue
            blockers: set[str] = set()
            shadowed = True
            for facts in self._satisfying([rule, *blocks]):
                if not conditions.evaluate(rule.when, facts):
                    continue
                firing = [b.id for b in blocks if conditions.evaluate(b.when, facts)]
                if not firing:
                    shadowed = False
                    break
                blockers.update(firing)
            if shadowed:
                by = ", ".join(sorted(blockers))
                label = self.rs.manifest.wording.method(rule.method).zh
                self.add("warning", "offer-always-blocked", self.rule_file(i), self.rule_line(i, "when"),
                         f"提供规则 {rule.id} 每次生效时都被 {by} 阻止，永远不会采用{label} / "
                         f"offer rule {rule.id} is always blocked by {by}: it can never lead to {rule.method.value}")


__all__ = ["Finding", "LintResult", "lint_ruleset", "lint_loaded", "ruleset_error_message", "display_path"]
