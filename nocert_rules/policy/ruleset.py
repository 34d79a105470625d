"""Rulesets are data: the manifest, the list, the policy rules and the clauses they cite.

This module keeps the old names working; each concept lives in its own module:

    policy/manifest.py          manifest.yaml's schema (``Manifest`` and its sections)
    policy/certificate_list.py  certificates.yaml's schema (``ListRow``, ``CertificateList``)
    policy/rules.py             rules.yaml's and clauses.yaml's schemas (``PolicyRule``, ``Clause``)
    policy/loaded.py            ``Ruleset``, the loaded ruleset (a plain data object)
    policy/loader.py            ``load_ruleset``, running the loading stages (its module doc lists them)
    policy/cross_references.py  the checks of references between the files (a loading stage)
"""

from __future__ import annotations

from nocert_rules.policy.certificate_list import CertificateList, ListRow, RowLimit
from nocert_rules.policy.cross_references import MAX_RULES, _post_check_always_blocked
from nocert_rules.policy.cross_references import check_cross_references as _check_cross_references
from nocert_rules.policy.files import hash_files as _hash
from nocert_rules.policy.loaded import Ruleset
from nocert_rules.policy.loader import load_ruleset
from nocert_rules.policy.manifest import (
    ACCOUNTABILITY_CASES,
    AccountabilityPolicy,
    AdjustmentCausePlan,
    CreditOutcomeLabels,
    DeadlineParameters,
    Fallback,
    Manifest,
    OnTheSpotPolicy,
    PledgePolicy,
    PostCheckRule,
    RecordClauses,
    RulesetFiles,
    SourceDocument,
    TimeLimit,
    _relative_path,
)
from nocert_rules.policy.parse import (
    COMPLAINT_RULES_NAME,
    CONVENTIONAL_OVERRIDES,
    PLEDGE_TEMPLATE_NAME,
)
from nocert_rules.policy.problems import Problems as _Problems
from nocert_rules.policy.rules import Clause, ClauseFile, PolicyRule, RuleFile
from nocert_rules.policy.yaml_source import format_path, validate_located

__all__ = [
    "Ruleset",
    "load_ruleset",
    "Manifest",
    "ListRow",
    "PolicyRule",
    "Clause",
    "format_path",
    "validate_located",
    "ACCOUNTABILITY_CASES",
    "AccountabilityPolicy",
    "AdjustmentCausePlan",
    "CertificateList",
    "ClauseFile",
    "COMPLAINT_RULES_NAME",
    "CONVENTIONAL_OVERRIDES",
    "CreditOutcomeLabels",
    "DeadlineParameters",
    "Fallback",
    "MAX_RULES",
    "OnTheSpotPolicy",
    "PLEDGE_TEMPLATE_NAME",
    "PledgePolicy",
    "PostCheckRule",
    "RecordClauses",
    "RowLimit",
    "RuleFile",
    "RulesetFiles",
    "SourceDocument",
    "TimeLimit",
    "_Problems",
    "_check_cross_references",
    "_hash",
    "_post_check_always_blocked",
    "_relative_path",
]
