"""JSON Schemas of the ruleset files and of requests/decisions, generated from the models.

The schemas ship in ``nocert_rules/schemas/`` for editors and validators. Regenerate after a
model change with ``python -m nocert_rules.policy.schemas``; a test fails when they are stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

SCHEMA_DIR = Path(__file__).parent.parent / "schemas"


def _models() -> dict[str, type[BaseModel]]:
    from nocert_rules.models import Decision, DecisionRequest
    from nocert_rules.policy.certificate_list import CertificateList
    from nocert_rules.policy.manifest import Manifest
    from nocert_rules.policy.rules import ClauseFile, RuleFile
    from nocert_rules.worktime.calendar import CalendarOverrides

    return {
        "manifest": Manifest,
        "certificates": CertificateList,
        "rules": RuleFile,
        "clauses": ClauseFile,
        "calendar_overrides": CalendarOverrides,
        "decision_request": DecisionRequest,
        "decision": Decision,
    }


def generate() -> dict[str, dict[str, Any]]:
    """Schema name -> JSON Schema (the ruleset files validate as they are read, i.e. input mode)."""
    out: dict[str, dict[str, Any]] = {}
    for name, model in _models().items():
        mode = "serialization" if name == "decision" else "validation"
        schema = model.model_json_schema(mode=mode)
        schema["$id"] = f"https://nocert-rules.invalid/schemas/{name}.schema.json"
        out[name] = schema
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in generate().items():
        path = directory / f"{name}.schema.json"
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write():
        sys.stdout.write(f"wrote {p}\n")
