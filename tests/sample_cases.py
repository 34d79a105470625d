"""The bundled sample cases (``examples/cases.jsonl``) as decision requests: each case without
its ``case_id`` and ``expected_method`` (what the dry-run checks, not part of a request)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CASES_FILE = Path(__file__).resolve().parent.parent / "examples" / "cases.jsonl"


def load_cases() -> list[dict[str, Any]]:
    """Every sample case, in file order, as a request."""
    cases = []
    for line in CASES_FILE.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        case.pop("case_id", None)
        case.pop("expected_method", None)
        cases.append(case)
    return cases
