"""The default words of the deadline rules: ``default_wording.yaml``, bundled beside this module.

A manifest without ``deadlines.wording`` gets these (docs/rulesets.md, "Deadline wording"): the
words the library used before they moved into the rulesets, citing no clause. They are data, read
and validated like a ruleset file (a problem names the file and line), not Python strings.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from nocert_rules.policy.yaml_source import load_located_bytes, validate_located
from nocert_rules.worktime.wording import DeadlineWording

DEFAULT_WORDING_FILE = "default_wording.yaml"


@lru_cache(maxsize=1)
def default_wording() -> DeadlineWording:
    """The bundled default wording, validated (once per process)."""
    raw = resources.files("nocert_rules.policy").joinpath(DEFAULT_WORDING_FILE).read_bytes()
    doc = load_located_bytes(raw, f"nocert_rules/policy/{DEFAULT_WORDING_FILE}")
    return validate_located(DeadlineWording, doc)  # type: ignore[no-any-return]


__all__ = ["DEFAULT_WORDING_FILE", "default_wording"]
