"""``load_ruleset``: a ruleset folder -> a validated ``Ruleset`` (every problem in one ``RulesetError``).

A ruleset is a folder::

    manifest.yaml       name, version, validity, sources, method order, pledge policy, deadlines
    certificates.yaml   the list (《证明事项免提交清单》), one row per (service item, certificate)
    rules.yaml          the policy rules: condition -> offer or block a method, with the clause
    clauses.yaml        the clauses cited, with their text
    calendar_overrides.yaml (optional) local days off / working days, see docs/calendar.md

Every problem is one ``RulesetError`` naming file, line, field path and what is wrong. Unknown
keys are errors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from nocert_rules.enums import ReplacementMethod
from nocert_rules.errors import RulesetError
from nocert_rules.policy.certificate_list import CertificateList
from nocert_rules.policy.cross_references import check_cross_references
from nocert_rules.policy.loaded import Ruleset
from nocert_rules.policy.manifest import Manifest, RulesetFiles
from nocert_rules.policy.problems import Problems
from nocert_rules.policy.rules import ClauseFile, RuleFile
from nocert_rules.policy.yaml_source import LocatedYaml, load_located_yaml, validate_located


def _hash(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


CONVENTIONAL_OVERRIDES = "calendar_overrides.yaml"
"""Loaded when present and the manifest names no ``deadlines.overrides_file``."""


def load_ruleset(path: str | Path) -> Ruleset:
    """Load and validate a ruleset folder (or its manifest.yaml).

    Every problem found, in every file, goes into one ``RulesetError`` (``.problems``).
    """
    path = Path(path)
    directory = path if path.is_dir() else path.parent
    manifest_path = path / "manifest.yaml" if path.is_dir() else path
    if not directory.exists():
        raise RulesetError(str(path), None, None, "ruleset not found / 规则集不存在")
    files: dict[str, bytes] = {}
    problems = Problems()

    def read(name: str) -> LocatedYaml | None:
        def step() -> LocatedYaml:
            file = directory / name
            doc = load_located_yaml(file, name)
            files[name] = doc.raw if doc.raw is not None else file.read_bytes()  # the bytes parsed
            return doc

        return problems.attempt(step)  # type: ignore[no-any-return]

    def validated(model: type[BaseModel], doc: LocatedYaml | None) -> Any:
        return None if doc is None else problems.attempt(lambda: validate_located(model, doc))

    manifest_doc = read(manifest_path.name)
    if manifest_doc is None:
        problems.raise_any()
    assert manifest_doc is not None
    from nocert_rules.policy.overlay import current_chain, extends_of, load_overlay

    if problems.attempt(lambda: extends_of(manifest_doc)):  # a district over its city (三(一)1)
        return load_overlay(directory, manifest_path, manifest_doc, files[manifest_path.name], current_chain())
    manifest: Manifest | None = validated(Manifest, manifest_doc)
    names = manifest.files if manifest is not None else _files_of(manifest_doc)
    cert_doc = read(names.certificates)
    cert_list: CertificateList | None = validated(CertificateList, cert_doc)
    rule_doc = read(names.rules)
    rule_file: RuleFile | None = validated(RuleFile, rule_doc)
    clause_doc = read(names.clauses)
    clause_file: ClauseFile | None = validated(ClauseFile, clause_doc)
    rows = cert_list.rows if cert_list is not None else None
    rules = rule_file.rules if rule_file is not None else None
    clauses = clause_file.clauses if clause_file is not None else None

    overrides: dict[str, Any] | None = None
    if manifest is not None:
        overrides = _load_overrides(manifest, manifest_doc, directory, read, problems)
        _load_named_files(manifest, manifest_doc, directory, files, problems)
    check_cross_references(
        problems, manifest, manifest_doc, rows, cert_doc, rules, rule_doc, clauses, clause_doc
    )
    problems.raise_any()
    assert manifest is not None and rows is not None and rules is not None and clauses is not None
    adjustments = _load_adjustments(manifest, directory, read, problems)
    if adjustments:
        from nocert_rules.policy.list_adjustments import apply_adjustments

        adjusted = problems.attempt(lambda: apply_adjustments(rows, adjustments[0], adjustments[1]))
        problems.raise_any()
        rows = adjusted
    ruleset = Ruleset(directory, manifest, rows, rules, clauses, _hash(files), files, overrides)
    if adjustments:
        ruleset.adjustments = list(adjustments[0])
    ruleset.manifest_path = manifest_path
    # The records' files are checked now, not at the counter when first used.
    from nocert_rules.policy.complaint_rules import load_complaint_rules
    from nocert_rules.policy.pledge_template import PLACEHOLDERS, load_pledge_template

    if manifest.files.complaint_rules or COMPLAINT_RULES_NAME in files:
        problems.attempt(lambda: load_complaint_rules(ruleset))
    from nocert_rules.policy.officers import OFFICERS_NAME, load_officers

    if manifest.files.officers or OFFICERS_NAME in files:
        ruleset.officers = problems.attempt(lambda: load_officers(ruleset))
    if manifest.files.pledge_template or PLEDGE_TEMPLATE_NAME in files:
        template = problems.attempt(lambda: load_pledge_template(ruleset))
        if template is not None:
            problems.attempt(lambda: template.render({k: "…" for k in PLACEHOLDERS}))
    elif any(ReplacementMethod.PLEDGE in row.methods for row in rows):
        first = next(i for i, row in enumerate(rows) if ReplacementMethod.PLEDGE in row.methods)
        problems.add(
            manifest_doc.error(
                ("files", "pledge_template"),
                f"清单允许告知承诺（如 {names.certificates} 第 {cert_doc.line_of(('rows', first)) if cert_doc else '?'} "
                f"行），但没有告知承诺书模板：请添加 {PLEDGE_TEMPLATE_NAME} / rows allow pledges but the ruleset "
                f"has no pledge template: add {PLEDGE_TEMPLATE_NAME} (or name one in files.pledge_template)",
            )
        )
    problems.raise_any()
    return ruleset


PLEDGE_TEMPLATE_NAME = "templates/pledge.md"
COMPLAINT_RULES_NAME = "complaint_rules.yaml"


def _files_of(manifest_doc: LocatedYaml) -> RulesetFiles:
    """The file names an invalid manifest gives, where they are valid (else the defaults)."""
    data = manifest_doc.data.get("files") if isinstance(manifest_doc.data, dict) else None
    try:
        return RulesetFiles.model_validate(data or {})
    except ValidationError:
        return RulesetFiles()


def _load_adjustments(
    manifest: Manifest, directory: Path, read: Callable[[str], LocatedYaml | None], problems: Problems
) -> tuple[list[Any], LocatedYaml] | None:
    """The published list adjustments (``files.adjustments``, else ``adjustments.yaml`` if present)."""
    from nocert_rules.policy.list_adjustments import ADJUSTMENTS_NAME, AdjustmentFile

    name = manifest.files.adjustments
    if name is None and (directory / ADJUSTMENTS_NAME).is_file():
        name = ADJUSTMENTS_NAME
    if name is None:
        return None
    doc = read(name)
    if doc is None:
        return None
    content = problems.attempt(lambda: validate_located(AdjustmentFile, doc))
    problems.raise_any()
    return (content.adjustments, doc) if content.adjustments else None


def _load_overrides(
    manifest: Manifest,
    manifest_doc: LocatedYaml,
    directory: Path,
    read: Callable[[str], LocatedYaml | None],
    problems: Problems,
) -> dict[str, Any] | None:
    """The calendar overrides: the named file, else ``calendar_overrides.yaml`` if present."""
    from nocert_rules.worktime.calendar import CalendarOverrides, OfficeHours

    if manifest.deadlines.office_hours:
        try:
            OfficeHours.model_validate(manifest.deadlines.office_hours)
        except ValidationError as exc:
            for err in exc.errors():
                problems.add(
                    manifest_doc.error(
                        ("deadlines", "office_hours", *err["loc"]), str(err["msg"]).removeprefix("Value error, ")
                    )
                )
    name = manifest.deadlines.overrides_file
    if name is None and (directory / CONVENTIONAL_OVERRIDES).is_file():
        name = CONVENTIONAL_OVERRIDES
    if name is None:
        return None
    doc = read(name)
    if doc is None or not doc.data:
        return None
    if problems.attempt(lambda: validate_located(CalendarOverrides, doc)) is None:
        return None
    return doc.data  # type: ignore[no-any-return]


def _load_named_files(
    manifest: Manifest, manifest_doc: LocatedYaml, directory: Path, files: dict[str, bytes], problems: Problems
) -> None:
    """The pledge template, complaint rules and officers: named in ``files``, else found by their usual names."""
    from nocert_rules.policy.officers import OFFICERS_NAME

    for field, usual in (
        ("pledge_template", PLEDGE_TEMPLATE_NAME), ("complaint_rules", COMPLAINT_RULES_NAME), ("officers", OFFICERS_NAME)
    ):
        name = getattr(manifest.files, field)
        if name is None:
            if (directory / usual).is_file():
                files[usual] = (directory / usual).read_bytes()
            continue
        file = directory / name
        if not file.is_file():
            problems.add(manifest_doc.error(("files", field), "file not found / 文件不存在"))
            continue
        files[name] = file.read_bytes()

