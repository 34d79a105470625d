"""Loading stage 2, parse: a ruleset folder's YAML files -> validated models, each with its file:line.

Input: a ``RulesetFolder`` (stage 1 reads the bytes) and the load's ``Problems``. Output:
``Parsed``: the manifest, the list, the rules, the clauses, the calendar overrides and the list
adjustments, each as its model (None when it did not validate) beside its ``LocatedYaml`` (for the
errors of later stages). Every problem goes to ``Problems``; the files that did parse are still
parsed, so that one load reports every problem of every file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from nocert_rules.policy.certificate_list import CertificateList, ListRow
from nocert_rules.policy.files import RulesetFolder
from nocert_rules.policy.manifest import Manifest, RulesetFiles
from nocert_rules.policy.problems import Problems
from nocert_rules.policy.rules import Clause, ClauseFile, PolicyRule, RuleFile
from nocert_rules.policy.yaml_source import LocatedYaml, load_located_bytes, validate_located

CONVENTIONAL_OVERRIDES = "calendar_overrides.yaml"
"""Loaded when present and the manifest names no ``deadlines.overrides_file``."""
PLEDGE_TEMPLATE_NAME = "templates/pledge.md"
COMPLAINT_RULES_NAME = "complaint_rules.yaml"


def read_yaml(folder: RulesetFolder, name: str) -> LocatedYaml:
    """Read ``name`` (stage 1) and parse it; a ``RulesetError`` names the file and the line."""
    return load_located_bytes(folder.read(name), name)


@dataclass
class Parsed:
    """The parsed files of one ruleset folder (a model is None when its file did not validate)."""

    manifest_doc: LocatedYaml
    manifest: Manifest | None
    names: RulesetFiles
    cert_doc: LocatedYaml | None
    rows: list[ListRow] | None
    rule_doc: LocatedYaml | None
    rules: list[PolicyRule] | None
    clause_doc: LocatedYaml | None
    clauses: list[Clause] | None
    overrides: dict[str, Any] | None = None


class _Parser:
    """Reads and validates files of one folder, keeping every problem."""

    def __init__(self, folder: RulesetFolder, problems: Problems) -> None:
        self.folder = folder
        self.problems = problems

    def read(self, name: str) -> LocatedYaml | None:
        return self.problems.attempt(lambda: read_yaml(self.folder, name))  # type: ignore[no-any-return]

    def validated(self, model: type[BaseModel], doc: LocatedYaml | None) -> Any:
        return None if doc is None else self.problems.attempt(lambda: validate_located(model, doc))

    def items(self, model: type[BaseModel], name: str, field: str) -> tuple[LocatedYaml | None, Any]:
        doc = self.read(name)
        content = self.validated(model, doc)
        return doc, getattr(content, field) if content is not None else None

    def conventional(self, named: str | None, usual: str) -> str | None:
        """The file the manifest names, else ``usual`` when the folder has it (else None)."""
        if named is not None:
            return named
        return usual if self.problems.attempt(lambda: self.folder.exists(usual)) else None


def parse_ruleset(folder: RulesetFolder, manifest_doc: LocatedYaml, problems: Problems) -> Parsed:
    """The manifest (already read), then the files it names; see the module doc."""
    parser = _Parser(folder, problems)
    manifest: Manifest | None = parser.validated(Manifest, manifest_doc)
    names = manifest.files if manifest is not None else _files_of(manifest_doc)
    cert_doc, rows = parser.items(CertificateList, names.certificates, "rows")
    rule_doc, rules = parser.items(RuleFile, names.rules, "rules")
    clause_doc, clauses = parser.items(ClauseFile, names.clauses, "clauses")
    parsed = Parsed(manifest_doc, manifest, names, cert_doc, rows, rule_doc, rules, clause_doc, clauses)
    if manifest is not None:
        parsed.overrides = _parse_overrides(parser, manifest, manifest_doc)
        _read_side_files(parser, manifest, manifest_doc)
    return parsed


def _files_of(manifest_doc: LocatedYaml) -> RulesetFiles:
    """The file names an invalid manifest gives, where they are valid (else the defaults)."""
    data = manifest_doc.data.get("files") if isinstance(manifest_doc.data, dict) else None
    try:
        return RulesetFiles.model_validate(data or {})
    except ValidationError:
        return RulesetFiles()


def _parse_overrides(parser: _Parser, manifest: Manifest, manifest_doc: LocatedYaml) -> dict[str, Any] | None:
    """The office hours, and the calendar overrides: the named file, else ``calendar_overrides.yaml`` if present."""
    from nocert_rules.worktime.calendar import CalendarOverrides, OfficeHours

    if manifest.deadlines.office_hours:
        try:
            OfficeHours.model_validate(manifest.deadlines.office_hours)
        except ValidationError as exc:
            for err in exc.errors():
                parser.problems.add(
                    manifest_doc.error(
                        ("deadlines", "office_hours", *err["loc"]), str(err["msg"]).removeprefix("Value error, ")
                    )
                )
    name = parser.conventional(manifest.deadlines.overrides_file, CONVENTIONAL_OVERRIDES)
    if name is None:
        return None
    doc = parser.read(name)
    if doc is None or not doc.data:
        return None
    if parser.validated(CalendarOverrides, doc) is None:
        return None
    return doc.data  # type: ignore[no-any-return]


def side_file_names() -> tuple[tuple[str, str], ...]:
    """(``files`` field, usual name) of the side files whose own loaders take the ``Ruleset``."""
    from nocert_rules.policy.officers import OFFICERS_NAME
    from nocert_rules.policy.units import UNITS_NAME

    return (
        ("pledge_template", PLEDGE_TEMPLATE_NAME), ("complaint_rules", COMPLAINT_RULES_NAME), ("officers", OFFICERS_NAME),
        ("units", UNITS_NAME),
    )


def _read_side_files(parser: _Parser, manifest: Manifest, manifest_doc: LocatedYaml) -> None:
    """The pledge template, complaint rules and officers: their bytes (checked by the side-files stage)."""
    folder, problems = parser.folder, parser.problems
    for field, usual in side_file_names():
        named = getattr(manifest.files, field)
        name = named or usual
        exists = problems.attempt(lambda name=name: folder.exists(name))
        if exists is None:  # refused: the problem names the file
            continue
        if not exists:
            if named is not None:
                problems.add(manifest_doc.error(("files", field), "file not found / 文件不存在"))
            continue
        problems.attempt(lambda name=name: folder.read(name))


def parse_adjustments(folder: RulesetFolder, manifest: Manifest, problems: Problems) -> tuple[list[Any], LocatedYaml] | None:
    """The published list adjustments (``files.adjustments``, else ``adjustments.yaml`` if present)."""
    from nocert_rules.policy.list_adjustments import ADJUSTMENTS_NAME, AdjustmentFile

    parser = _Parser(folder, problems)
    name = parser.conventional(manifest.files.adjustments, ADJUSTMENTS_NAME)
    if name is None:
        return None
    doc = parser.read(name)
    if doc is None:
        return None
    content = parser.validated(AdjustmentFile, doc)
    problems.raise_any()
    return (list(content.adjustments), doc) if content.adjustments else None


__all__ = [
    "COMPLAINT_RULES_NAME",
    "CONVENTIONAL_OVERRIDES",
    "PLEDGE_TEMPLATE_NAME",
    "Parsed",
    "parse_adjustments",
    "parse_ruleset",
    "read_yaml",
]
