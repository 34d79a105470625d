"""The shipped JSON Schemas match the models, and the bundled ruleset validates against them."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import ZIBO

from nocert_rules.policy import schemas


def test_shipped_schemas_are_up_to_date() -> None:
    for name, schema in schemas.generate().items():
        shipped = (schemas.SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8")
        assert shipped == schemas.render(schema), f"{name}: run python -m nocert_rules.policy.schemas"


@pytest.mark.parametrize("name", ["manifest", "certificates", "rules", "clauses"])
def test_bundled_ruleset_validates_against_schema(name: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((schemas.SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    data = yaml.safe_load((ZIBO / f"{name}.yaml").read_text(encoding="utf-8"))
    data = json.loads(json.dumps(data, default=str))  # YAML dates -> strings, as JSON would carry them
    jsonschema.validate(data, schema)
    data["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


def test_rulesets_doc_lists_every_fact() -> None:
    from conftest import ROOT

    from nocert_rules.policy.conditions import FACTS

    doc = (ROOT / "docs" / "rulesets.md").read_text(encoding="utf-8")
    listed = {line.split("`")[1] for line in doc.splitlines() if line.startswith("| `")}
    assert listed == set(FACTS)
