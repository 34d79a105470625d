"""``load_ruleset``: a ruleset folder -> a validated ``Ruleset``, as a pipeline of stages.

A ruleset is a folder::

    manifest.yaml       name, version, validity, sources, method order, pledge policy, deadlines
    certificates.yaml   the list (《证明事项免提交清单》), one row per (service item, certificate)
    rules.yaml          the policy rules: condition -> offer or block a method, with the clause
    clauses.yaml        the clauses cited, with their text
    calendar_overrides.yaml (optional) local days off / working days, see docs/calendar.md

The stages, each a module with one job (docs/rulesets.md, "How a ruleset is loaded"):

    1 read        policy/files.py             the folder's files as bytes, each checked before it is read
    2 parse       policy/parse.py             YAML (policy/yaml_source.py, file:line) -> validated models
    3 merge       policy/merge.py             a district over the ruleset it ``extends`` (loaded first)
    4 date        policy/dating.py            list adjustments as dated row versions; dated legal bases
    5 check       policy/cross_references.py  every reference between the files
    6 index       policy/index.py             the list indexed for lookup, held by ``Ruleset``
    7 side files  policy/side_files.py        complaint rules, officers, pledge template, on the ``Ruleset``

Every problem is one ``RulesetError`` naming file, line, field path and what is wrong (a city's
problems all at once; a district's first one). Unknown keys are errors.
"""

from __future__ import annotations

from pathlib import Path

from nocert_rules.errors import RulesetError
from nocert_rules.policy.cross_references import References, check_references
from nocert_rules.policy.dating import date_rows
from nocert_rules.policy.files import MAX_FILE_BYTES, RulesetFolder, hash_files
from nocert_rules.policy.loaded import Ruleset
from nocert_rules.policy.merge import (
    district_adjustments,
    inherit_officers,
    inherit_side_files,
    merge_district,
)
from nocert_rules.policy.overlay import MAX_DEPTH, extends_of
from nocert_rules.policy.parse import (
    COMPLAINT_RULES_NAME,
    CONVENTIONAL_OVERRIDES,
    PLEDGE_TEMPLATE_NAME,
    Parsed,
    parse_adjustments,
    parse_ruleset,
    read_yaml,
)
from nocert_rules.policy.problems import Problems
from nocert_rules.policy.side_files import check_side_files
from nocert_rules.policy.yaml_source import LocatedYaml

_hash = hash_files  # the old private name


def load_ruleset(path: str | Path, *, max_file_bytes: int | None = None) -> Ruleset:
    """Load and validate a ruleset folder (or its manifest.yaml).

    Every problem found, in every file, goes into one ``RulesetError`` (``.problems``).
    ``max_file_bytes`` caps each file (default ``policy.files.MAX_FILE_BYTES``, 256 MiB), checked
    before the file is read.
    """
    path = Path(path)
    directory = path if path.is_dir() else path.parent
    manifest_path = path / "manifest.yaml" if path.is_dir() else path
    if not directory.exists():
        raise RulesetError(str(path), None, None, "ruleset not found / 规则集不存在")
    return _load(directory, manifest_path, (), MAX_FILE_BYTES if max_file_bytes is None else max_file_bytes)


def _load(directory: Path, manifest_path: Path, chain: tuple[Path, ...], max_bytes: int) -> Ruleset:
    """One folder through the stages; ``chain``: the folders of the districts loading it (above)."""
    folder = RulesetFolder(directory, max_bytes)
    problems = Problems()
    manifest_doc: LocatedYaml | None = problems.attempt(lambda: read_yaml(folder, manifest_path.name))
    if manifest_doc is None:
        problems.raise_any()
    assert manifest_doc is not None
    extends = problems.attempt(lambda: extends_of(manifest_doc))
    if extends:  # a district over its city (三(一)1)
        return _load_district(folder, manifest_path, manifest_doc, extends, chain, max_bytes)
    parsed = parse_ruleset(folder, manifest_doc, problems)
    check_references(References(
        problems, parsed.manifest, manifest_doc, parsed.rows, parsed.cert_doc, parsed.rules, parsed.rule_doc,
        parsed.clauses, parsed.clause_doc,
    ))
    problems.raise_any()
    return _build(folder, manifest_path, parsed, problems)


def _build(folder: RulesetFolder, manifest_path: Path, parsed: Parsed, problems: Problems) -> Ruleset:
    """Stages 4, 6 and 7 for a city: dated rows, the ``Ruleset`` (indexed), its side files checked."""
    manifest, rows, rules, clauses = parsed.manifest, parsed.rows, parsed.rules, parsed.clauses
    assert manifest is not None and rows is not None and rules is not None and clauses is not None
    adjustments = parse_adjustments(folder, manifest, problems)
    if adjustments:
        rows = problems.attempt(lambda: date_rows(rows, adjustments))
        problems.raise_any()
    ruleset = Ruleset(
        folder.directory, manifest, rows, rules, clauses, hash_files(folder.files), folder.files, parsed.overrides
    )
    if adjustments:
        ruleset.adjustments = list(adjustments[0])
    ruleset.manifest_path = manifest_path
    check_side_files(ruleset, parsed, problems)  # checked now, not at the counter when first used
    problems.raise_any()
    return ruleset


def _load_parent(directory: Path, extends: str, manifest_doc: LocatedYaml, chain: tuple[Path, ...],
                 max_bytes: int) -> Ruleset:
    """The ruleset a district extends, loaded by the same pipeline; its problem is the district's."""
    here = directory.resolve()
    parent_dir = (directory / extends).resolve()
    if parent_dir in (*chain, here) or len(chain) >= MAX_DEPTH:
        raise manifest_doc.error(("extends",), f"extends loops or is too deep: {extends} / 上级规则集循环引用或层级过多")
    if not (parent_dir / "manifest.yaml").is_file():
        raise manifest_doc.error(("extends",), f"no ruleset at {extends} / 上级规则集不存在")
    try:
        return _load(parent_dir, parent_dir / "manifest.yaml", (*chain, here), max_bytes)
    except RulesetError as exc:
        problem = f"{exc.file}:{exc.line}: {exc.problem}" if exc.line else f"{exc.file}: {exc.problem}"
        raise manifest_doc.error(("extends",), f"the parent ruleset {extends} does not load: {problem}") from None


def _load_district(folder: RulesetFolder, manifest_path: Path, manifest_doc: LocatedYaml, extends: str,
                   chain: tuple[Path, ...], max_bytes: int) -> Ruleset:
    """Stage 3 (merge) over the parent, then stages 4, 6 and the inherited side files."""
    parent = _load_parent(folder.directory, extends, manifest_doc, chain, max_bytes)
    level: Ruleset | None = parent
    while level is not None:  # a district's file may resolve into a folder of its chain
        folder.allow(level.directory)
        level = level.parent
    merged = merge_district(folder, manifest_doc, parent, extends)
    manifest, rows = merged.manifest, merged.rows
    adjustments = district_adjustments(folder, manifest)
    adjusted: set[int] = set()
    if adjustments is not None:
        before = {id(r) for r in rows}
        rows = date_rows(rows, adjustments)
        adjusted = {id(r) for r in rows} - before
    ruleset = Ruleset(folder.directory, manifest, rows, merged.rules, list(merged.clauses.values()),
                      hash_files(folder.files), folder.files, parent.calendar_overrides)
    ruleset.manifest_path = manifest_path
    for row in rows:
        own_level = row.key in merged.replaced or id(row) in adjusted
        ruleset.row_sources[id(row)] = manifest.name if own_level else parent.source_of(row)
    ruleset.adjustments = adjustments[0] if adjustments is not None else []
    ruleset.parent = parent
    ruleset.overlay_changes = merged.changes
    ruleset.own_rows = list(merged.own_rows)
    ruleset.own_rules = [r for r in merged.rules if r.id in {c.key for c in merged.changes if c.kind == "rule"}]
    inherit_side_files(folder, parent, manifest)
    inherit_officers(ruleset, folder, parent, manifest_path.name)
    ruleset.sha256 = hash_files(folder.files)
    return ruleset


__all__ = [
    "COMPLAINT_RULES_NAME",
    "CONVENTIONAL_OVERRIDES",
    "PLEDGE_TEMPLATE_NAME",
    "load_ruleset",
]
