"""Property-based API tests (schemathesis) against the live server's own OpenAPI document.

Every operation gets generated requests, valid (positive) and invalid (negative); none may answer
500, and every answer must match the status codes, media types and schemas the document declares.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from live_server import ROOT, LiveServer, live_server

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

TOKEN = "schemathesis-token-0123456789abcdef"
EXAMPLES = 25


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp("st")
    (tmp / "token").write_text(TOKEN, encoding="utf-8")
    with live_server(ROOT / "rulesets" / "zibo", tmp, "--token-file", str(tmp / "token"),
                     "--decision-log", str(tmp / "log.jsonl"), "--max-batch", "20") as srv:
        yield srv


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
def test_no_operation_answers_500_or_breaks_its_contract(server: LiveServer, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(server.base_url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    # admin/reload is tested on its own (test_service_http): reloading here would only slow things down
    operations = [op for op in operations if "admin" not in op.path]
    assert len(operations) >= 7
    headers = {"Authorization": f"Bearer {TOKEN}"}
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    unsatisfiable: list[str] = []
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not (len(operation.body) or len(operation.path_parameters)):
            continue  # nothing to make invalid
        strategy = operation.as_strategy(generation_mode=mode)

        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=server.base_url, headers=headers, checks=checks)

        try:
            run()
        except Unsatisfiable:
            # e.g. a free-form string path parameter has no invalid value to generate
            unsatisfiable.append(operation.label)
    assert not {"POST /v1/decide", "POST /v1/decide/batch"} & set(unsatisfiable), unsatisfiable
