"""The bundled sample cases (``examples/cases.jsonl``) as decision requests, read by the library's
own case-file reader (:func:`nocert_rules.tools.casefile.iter_cases`, what ``dry-run`` reads):
each case without its ``case_id`` and ``expected_method`` (what the dry-run checks, not part of a
request)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nocert_rules.tools.casefile import iter_cases

CASES_FILE = Path(__file__).resolve().parent.parent / "examples" / "cases.jsonl"


def load_cases() -> list[dict[str, Any]]:
    """Every sample case, in file order, as a request (a case the reader refuses fails here)."""
    cases = []
    for case in iter_cases(str(CASES_FILE)):
        assert case.request is not None, f"{CASES_FILE}:{case.line}: {case.error}"
        cases.append(case.request)
    return cases
