"""``nocert-rules init``: a new ruleset folder, from the commented skeleton or from another ruleset.

The skeleton (``nocert_rules/tools/skeleton/``, shipped with the package) is a small, complete
ruleset for a fictional district with comments in Chinese and English: it loads, lints clean and
decides. ``docs/rulesets.md`` shows the same files (a test keeps them equal). ``--from`` copies
the files another ruleset loads (and its ``tests/``) instead.

Nothing is half-written: the files go to a temporary folder beside the target, renamed into
place at the end; an existing non-empty target is refused.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from nocert_rules.errors import NocertError
from nocert_rules.policy.ruleset import load_ruleset

__all__ = ["InitError", "SKELETON_FILES", "init_ruleset", "skeleton_text"]

SKELETON_FILES = (
    "manifest.yaml",
    "certificates.yaml",
    "rules.yaml",
    "clauses.yaml",
    "templates/pledge.md",
    "complaint_rules.yaml",
    "officers.yaml",
    "calendar_overrides.yaml",
    "tests/example.yaml",
)
"""The skeleton's files, relative to the new folder."""


class InitError(NocertError):
    """The target cannot be written (it exists and is not empty, or is a file)."""


def skeleton_text(name: str) -> str:
    """The text of one skeleton file (``SKELETON_FILES``)."""
    node = resources.files("nocert_rules.tools").joinpath("skeleton", *name.split("/"))
    return node.read_text(encoding="utf-8")


def _contents(source: Path | None) -> dict[str, bytes]:
    if source is None:
        return {name: skeleton_text(name).encode("utf-8") for name in SKELETON_FILES}
    rs = load_ruleset(source)  # a RulesetError if it does not load: nothing is written
    # Only the ruleset's own files: a district's parent (``extends``) stays where it is.
    files = {
        name: data for name, data in rs.files.items()
        if not Path(name).is_absolute() and ".." not in Path(name).parts
    }
    tests = rs.directory / "tests"
    if tests.is_dir():
        for path in sorted(tests.glob("*.yaml")):
            files[f"tests/{path.name}"] = path.read_bytes()
    return files


def init_ruleset(target: str | Path, source: str | Path | None = None) -> list[str]:
    """Write a new ruleset folder at ``target``; returns the files written (relative names)."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InitError(f"{target}: 已存在且不为空 / exists and is not empty; choose a new folder")
    files = _contents(Path(source) if source is not None else None)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for name, data in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(files)
