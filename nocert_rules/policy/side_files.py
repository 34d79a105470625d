"""Loading stage 7, side files: the files whose own loaders take the built ``Ruleset``, checked at load.

Input: the ``Ruleset`` (its ``files`` hold the side files' bytes, read by stage 2) and the parsed
list (for the line a missing pledge template is reported at). Output: problems, into the load's
``Problems``, and ``Ruleset.officers``. Each side file is checked by its own loader (complaint
rules, officers, pledge template): they depend on ``Ruleset``, it does not import them.
"""

from __future__ import annotations

from nocert_rules.enums import ReplacementMethod
from nocert_rules.policy.loaded import Ruleset
from nocert_rules.policy.parse import COMPLAINT_RULES_NAME, PLEDGE_TEMPLATE_NAME, Parsed
from nocert_rules.policy.problems import Problems


def check_complaint_rules(ruleset: Ruleset, parsed: Parsed, problems: Problems) -> None:
    """complaint_rules.yaml (``files.complaint_rules``), when the ruleset has one."""
    from nocert_rules.policy.complaint_rules import load_complaint_rules

    if ruleset.manifest.files.complaint_rules or COMPLAINT_RULES_NAME in ruleset.files:
        problems.attempt(lambda: load_complaint_rules(ruleset))


def check_officers(ruleset: Ruleset, parsed: Parsed, problems: Problems) -> None:
    """officers.yaml (``files.officers``), when the ruleset has one: ``Ruleset.officers``."""
    from nocert_rules.policy.officers import OFFICERS_NAME, load_officers

    if ruleset.manifest.files.officers or OFFICERS_NAME in ruleset.files:
        ruleset.officers = problems.attempt(lambda: load_officers(ruleset))


def check_pledge_template(ruleset: Ruleset, parsed: Parsed, problems: Problems) -> None:
    """The pledge template renders; without one, no row may allow a pledge."""
    from nocert_rules.policy.pledge_template import PLACEHOLDERS, load_pledge_template

    if ruleset.manifest.files.pledge_template or PLEDGE_TEMPLATE_NAME in ruleset.files:
        template = problems.attempt(lambda: load_pledge_template(ruleset))
        if template is not None:
            problems.attempt(lambda: template.render({k: "…" for k in PLACEHOLDERS}))
        return
    first = next((i for i, row in enumerate(ruleset.rows) if ReplacementMethod.PLEDGE in row.methods), None)
    if first is None:
        return
    cert_doc = parsed.cert_doc
    problems.add(
        parsed.manifest_doc.error(
            ("files", "pledge_template"),
            f"清单允许告知承诺（如 {parsed.names.certificates} 第 {cert_doc.line_of(('rows', first)) if cert_doc else '?'} "
            f"行），但没有告知承诺书模板：请添加 {PLEDGE_TEMPLATE_NAME} / rows allow pledges but the ruleset "
            f"has no pledge template: add {PLEDGE_TEMPLATE_NAME} (or name one in files.pledge_template)",
        )
    )


def check_units(ruleset: Ruleset, parsed: Parsed, problems: Problems) -> None:
    """units.yaml (``files.units``), when the ruleset has one (policy/units.py; import-list reads it)."""
    from nocert_rules.policy.units import check_units as check

    check(ruleset, parsed, problems)


SIDE_FILE_CHECKS = (check_complaint_rules, check_officers, check_pledge_template, check_units)


def check_side_files(ruleset: Ruleset, parsed: Parsed, problems: Problems) -> None:
    """Every check of ``SIDE_FILE_CHECKS``, in order."""
    for check in SIDE_FILE_CHECKS:
        check(ruleset, parsed, problems)


__all__ = ["SIDE_FILE_CHECKS", "check_side_files"]
