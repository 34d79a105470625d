"""The service's application object, in process (no server): what it is built with."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")
telemetry = pytest.importorskip("fastapi.telemetry._asgi")  # FastAPI's native OpenTelemetry (newer FastAPI)

from fastapi import FastAPI  # noqa: E402

from nocert_rules.service.app import create_app  # noqa: E402
from nocert_rules.service.config import ServeConfig  # noqa: E402

ZIBO = Path(__file__).resolve().parent.parent / "rulesets" / "zibo"


def test_fastapis_native_telemetry_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Left on, FastAPI looks the global OpenTelemetry providers up on every request; the
    service's metrics are Prometheus, so it is off: no provider is even asked for."""
    asked: list[str] = []

    class Configured:  # a provider that is not one of the API's deferred defaults
        pass

    for name in ("get_tracer_provider",):
        monkeypatch.setattr(telemetry.trace, name, lambda n=name: asked.append(n) or Configured())
    assert FastAPI()._native_telemetry.enabled()  # the default, with a provider configured: on
    asked.clear()
    app = create_app(ServeConfig(ruleset=str(ZIBO)))
    try:
        assert not app._native_telemetry.enabled()
        assert asked == []
    finally:
        app.state.service.pool.shutdown()


def test_the_decide_operations_are_routed_plainly_and_still_documented() -> None:
    """POST /v1/decide and /v1/decide/batch go through Starlette's plain Route (no FastAPI
    dependency solving per request), with the same endpoint the OpenAPI document describes."""
    from fastapi.routing import APIRoute
    from starlette.routing import Route

    app = create_app(ServeConfig(ruleset=str(ZIBO)))
    try:
        routed = {r.path: r for r in app.routes if isinstance(r, Route)}
        for path in ("/v1/decide", "/v1/decide/batch"):
            assert type(routed[path]) is Route and routed[path].methods == {"POST"}
        assert isinstance(routed["/v1/ruleset"], APIRoute)
        doc = app.openapi()["paths"]
        assert doc["/v1/decide"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/DecisionRequest"}
        assert "422" in doc["/v1/decide"]["post"]["responses"] and "/v1/decide/batch" in doc
    finally:
        app.state.service.pool.shutdown()


def test_the_answers_json_is_engine_decide_jsons_bytes() -> None:
    """The service writes a Decision with the serializer Engine.decide_json uses (bytes, not
    model_dump_json's text encoded again): the same bytes, for every example case."""
    import json

    from sample_cases import load_cases

    from nocert_rules import Engine, load_ruleset
    from nocert_rules.service.app import DECISION_JSON

    engine = Engine(load_ruleset(ZIBO))
    for case in load_cases()[::20]:
        decision = engine.decide(case)
        assert DECISION_JSON(decision) == engine.decide_json(json.dumps(case)) == decision.model_dump_json().encode()


def test_the_young_generation_is_collected_less_often_while_serving_and_restored_after() -> None:
    import gc

    from fastapi.testclient import TestClient

    from nocert_rules.service.app import GC_YOUNG

    before = gc.get_threshold()
    app = create_app(ServeConfig(ruleset=str(ZIBO)))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_threshold() == (GC_YOUNG, *before[1:])
    assert gc.get_threshold() == before
