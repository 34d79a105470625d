"""``Engine.decide_many`` and ``Engine.decide_json``: the batch and bytes calls give exactly what
``decide`` gives, item by item, errors included (the service and the dry-run use them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

from nocert_rules import Engine, RequestError, Ruleset
from nocert_rules.errors import EngineClosedError


def cases(n: int = 300) -> list[dict[str, Any]]:
    out = []
    with Path(ROOT / "examples" / "cases.jsonl").open(encoding="utf-8") as f:
        for line, _ in zip(f, range(n), strict=False):
            case = json.loads(line)
            out.append({k: v for k, v in case.items() if k not in ("case_id", "expected_method")})
    return out


BAD: list[Any] = [{"service_item": "x"}, 5, None, {**cases(1)[0], "requested_at": "2021-02-30T10:00"}]


def outcome(engine: Engine, request: Any, as_of: Any = None) -> Any:
    try:
        return engine.decide(request, as_of)
    except RequestError as exc:
        return ("error", type(exc), str(exc))


def as_outcome(item: Any) -> Any:
    return ("error", type(item), str(item)) if isinstance(item, Exception) else item


@pytest.mark.parametrize("as_of", [None, "2021-09-01"])
def test_decide_many_is_decide_item_by_item(zibo: Ruleset, as_of: str | None) -> None:
    engine = Engine(zibo, backend="compiled")
    batch = [*cases(), *BAD]
    batch.insert(7, BAD[0])  # an error in the middle does not lose the rest
    day = None if as_of is None else __import__("datetime").date.fromisoformat(as_of)
    got = engine.decide_many(batch, day)
    assert len(got) == len(batch)
    assert [as_outcome(g) for g in got] == [outcome(engine, r, day) for r in batch]
    assert sum(isinstance(g, RequestError) for g in got) == len(BAD) + 1


def test_decide_many_on_a_closed_engine_raises(zibo: Ruleset) -> None:
    engine = Engine(zibo, backend="compiled")
    engine.close()
    with pytest.raises(EngineClosedError):
        engine.decide_many(cases(2))


def test_decide_json_is_the_decision_json(zibo: Ruleset) -> None:
    engine = Engine(zibo, backend="compiled")
    for request in cases(200):
        data = json.dumps(request, ensure_ascii=False).encode()
        assert engine.decide_json(data) == engine.decide(request).model_dump_json().encode()
        assert engine.decide_json(data.decode()) == engine.decide_json(data)


@pytest.mark.parametrize("data", [b"{", b"\xff\xfe", b"", b"[1, 2]", b"null", b'{"service_item": 1}'])
def test_decide_json_errors_are_decides(zibo: Ruleset, data: bytes) -> None:
    engine = Engine(zibo, backend="compiled")
    with pytest.raises(RequestError) as caught:
        engine.decide_json(data)
    try:
        parsed = json.loads(data)
    except ValueError:
        assert "(request)" in str(caught.value)
    else:
        with pytest.raises(RequestError) as direct:
            engine.decide(parsed)
        assert str(caught.value) == str(direct.value)
