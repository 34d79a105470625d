"""The decision service as a real server: `nocert-rules serve` in a subprocess, talked to over HTTP."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from live_server import NOCERT, ROOT, LiveServer, live_server
from openapi_spec_validator import validate as validate_openapi
from sample_cases import load_cases

from nocert_rules import Engine, RequestError
from nocert_rules.models import parse_request

ZIBO = ROOT / "rulesets" / "zibo"
PERSON_ID = "370399199001011234"
TOKEN = "s3cret-token-for-tests-0123456789"


CASES = load_cases()


def expected(engine: Engine, request: dict[str, Any]) -> dict[str, Any]:
    """What in-process decide() answers, as JSON (the decision has no volatile field)."""
    return json.loads(engine.decide(request).model_dump_json())


def request(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "service_item": "370300-XK-0006", "certificate": "ZM-ZR-0001",
        "applicant": {"kind": "person", "id_number": PERSON_ID, "name": "张三丰", "credit": "normal"},
        "requested_at": "2021-09-30T15:30",
    }
    base.update(fields)
    return base


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("serve")
    token_file = tmp / "token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    with live_server(ZIBO, tmp, "--token-file", str(token_file), "--decision-log", str(tmp / "decisions.jsonl"),
                     "--max-batch", "200", "--max-body-bytes", "200000") as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client(headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c


def test_every_sample_case_over_http_equals_in_process_decide(client: httpx.Client, zibo_engine: Engine) -> None:
    """All 2,000 cases through the batch endpoint, every fourth one also alone (the same JSON)."""
    want = [expected(zibo_engine, case) for case in CASES]
    for start in range(0, len(CASES), 200):
        response = client.post("/v1/decide/batch", json={"requests": CASES[start:start + 200]})
        assert response.status_code == 200, response.text
        assert response.headers["x-ruleset-sha256"] == zibo_engine.ruleset.sha256
        assert [r["decision"] for r in response.json()["results"]] == want[start:start + 200]
    for i in range(0, len(CASES), 4):
        response = client.post("/v1/decide", json=CASES[i])
        assert response.status_code == 200, response.text
        assert response.json() == want[i]
        assert response.headers["x-ruleset-sha256"] == zibo_engine.ruleset.sha256


def test_batch_answers_each_request_in_order_with_errors_in_place(client: httpx.Client, zibo_engine: Engine) -> None:
    batch = CASES[:150]
    batch = [*batch[:70], {"service_item": "x"}, *batch[70:]]
    response = client.post("/v1/decide/batch", json={"requests": batch})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(len(batch)))
    assert "decision" not in results[70]
    assert {e["path"] for e in results[70]["errors"]} == {"certificate", "applicant", "requested_at"}
    for i, item in enumerate(batch):
        if i != 70:
            assert results[i]["decision"] == expected(zibo_engine, item)
            assert len(results[i]["decision_id"]) == 36


def test_invalid_request_names_the_same_field_paths_as_request_error_and_echoes_nothing(client: httpx.Client) -> None:
    bad = request(applicant={"kind": "alien", "id_number": PERSON_ID, "credit": PERSON_ID},
                  wants_pledge="maybe", **{PERSON_ID: 1})
    with pytest.raises(RequestError) as raised:
        parse_request(bad)
    response = client.post("/v1/decide", json=bad)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    doc = response.json()
    assert doc["status"] == 422 and doc["type"].endswith("invalid-request")
    assert [(e["path"], e["problem"]) for e in doc["errors"]] == raised.value.errors
    assert PERSON_ID not in response.text and "alien" not in response.text and "maybe" not in response.text


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"[" * 100_000 + b"]" * 100_000,
                                  b'{"service_item": "\\ud800"}', b"\xff\xfe", b"1" * 5000])
def test_malformed_bodies_are_422_problems_never_500(client: httpx.Client, body: bytes) -> None:
    response = client.post("/v1/decide", content=body, headers={"content-type": "application/json"})
    assert response.status_code in (413, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["path"] == "(request)" or response.status_code == 413


def test_limits_answer_413(client: httpx.Client) -> None:
    too_many = client.post("/v1/decide/batch", json={"requests": [request()] * 201})
    assert too_many.status_code == 413 and "200" in too_many.json()["detail"]
    too_big = client.post("/v1/decide", json=request(requesting_unit="x" * 250_000))
    assert too_big.status_code == 413
    assert too_big.headers["content-type"] == "application/problem+json"
    # a streamed body without Content-Length is cut off as well
    chunks = (b"x" * 50_000 for _ in range(5))
    streamed = client.post("/v1/decide", content=chunks, headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_unknown_routes_methods_and_media_types_are_problem_documents(client: httpx.Client) -> None:
    for response, status in [
        (client.get(f"/v1/nothing/{PERSON_ID}"), 404),
        (client.get("/v1/decide"), 405),
        (client.post("/v1/decide", content=b"a=b", headers={"content-type": "application/x-www-form-urlencoded"}), 415),
        (client.get(f"/v1/explain/{PERSON_ID}"), 404),
        (client.get("/v1/explain/00000000-0000-4000-8000-000000000000"), 404),
    ]:
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == status
        assert PERSON_ID not in response.text


def test_bearer_token_keeps_other_callers_out(server: LiveServer) -> None:
    with server.client() as anonymous:
        assert anonymous.post("/v1/decide", json=request()).status_code == 401
        wrong = anonymous.get("/v1/ruleset", headers={"Authorization": "Bearer wrong"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")
        assert anonymous.get("/metrics").status_code == 401
        assert anonymous.post("/v1/admin/reload").status_code == 401
        assert anonymous.get("/healthz").status_code == 200  # probes stay open
        assert anonymous.get("/readyz").json()["ruleset"]["name"] == "zibo"


def test_ruleset_endpoint_describes_the_version_in_service(client: httpx.Client, zibo_engine: Engine) -> None:
    info = client.get("/v1/ruleset").json()
    rs = zibo_engine.ruleset
    assert (info["name"], info["version"], info["sha256"]) == (rs.name, rs.version, rs.sha256)
    assert info["effective_from"] == rs.manifest.effective_from.isoformat()
    assert info["rows"] == len(rs.rows)
    assert isinstance(info["as_of_supported"], bool)


def test_decision_log_explains_a_decision_with_personal_data_masked(server: LiveServer, client: httpx.Client) -> None:
    response = client.post("/v1/decide", json=request())
    decision_id = response.headers["x-decision-id"]
    entry = client.get(f"/v1/explain/{decision_id}").json()
    assert entry["decision_id"] == decision_id
    assert entry["result"] == response.json()
    assert entry["ruleset"]["sha256"] == response.json()["ruleset"]["sha256"]
    assert entry["input"]["applicant"]["id_number"] == response.json()["applicant"]["id_masked"]
    assert entry["input"]["applicant"]["name"] == response.json()["applicant"]["name_masked"] == "张**"
    log = (Path(server.log_path).parent / "decisions.jsonl").read_text(encoding="utf-8")
    assert decision_id in log and PERSON_ID not in log and "张三丰" not in log
    for line in log.splitlines():
        assert set(json.loads(line)) == {"decision_id", "time", "ruleset", "input", "result"}


def test_metrics_count_decisions_by_method_errors_and_latency(client: httpx.Client) -> None:
    def scrape() -> dict[str, float]:
        out = {}
        for line in client.get("/metrics").text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
        return out

    before = scrape()
    method = client.post("/v1/decide", json=request()).json()["method"]
    client.post("/v1/decide", json={"bad": 1})
    after = scrape()
    key = f'nocert_decisions_total{{method="{method}"}}'
    assert after[key] == before.get(key, 0) + 1
    err = 'nocert_errors_total{type="invalid-request"}'
    assert after[err] == before.get(err, 0) + 1
    count = 'nocert_request_duration_seconds_count{endpoint="decide"}'
    assert after[count] >= before.get(count, 0) + 1
    results = client.post("/v1/decide/batch", json={"requests": [request(), request(), {"bad": 1}]}).json()["results"]
    batched = scrape()
    assert batched[key] == after[key] + sum(r.get("decision", {}).get("method") == method for r in results) == after[key] + 2
    assert batched[err] == after[err] + 1
    batches = 'nocert_request_duration_seconds_count{endpoint="batch"}'
    assert batched[batches] == after.get(batches, 0) + 1
    assert 'nocert_ruleset_info{name="zibo"' in client.get("/metrics").text


def test_openapi_document_is_valid_and_generated_from_the_models(client: httpx.Client) -> None:
    doc = client.get("/openapi.json").json()
    validate_openapi(doc)
    schemas = doc["components"]["schemas"]
    assert set(schemas["DecisionRequest"]["required"]) >= {"service_item", "certificate", "applicant", "requested_at"}
    assert "trace" in schemas["Decision"]["properties"]
    ops = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert {("/v1/decide", "post"), ("/v1/decide/batch", "post"), ("/v1/ruleset", "get"),
            ("/v1/explain/{decision_id}", "get"), ("/healthz", "get"), ("/readyz", "get"),
            ("/metrics", "get"), ("/v1/admin/reload", "post")} <= ops
    assert "HTTPValidationError" not in json.dumps(doc)


def _hammer(server: LiveServer, engine: Engine, clients: int, per_client: int,
            stop: threading.Event | None = None, versions: set[str] | None = None) -> list[str]:
    """``clients`` threads, each sending ``per_client`` requests and checking every answer."""
    failures: list[str] = []
    # Warnings name the version ("expired ruleset: zibo 2021.1-sample …"): compare with it masked.
    version = engine.ruleset.version
    expected_by_case = [json.loads(engine.decide(case).model_dump_json().replace(version, "@V")) for case in CASES]
    for e in expected_by_case:
        del e["ruleset"]

    def work(worker: int) -> None:
        with server.client(headers={"Authorization": f"Bearer {TOKEN}"}) as c:
            for i in range(per_client):
                k = (worker * 7919 + i) % len(CASES)
                try:
                    response = c.post("/v1/decide", json=CASES[k])
                except httpx.HTTPError as exc:
                    failures.append(f"{worker}/{i}: {type(exc).__name__}")
                    continue
                if response.status_code != 200:
                    failures.append(f"{worker}/{i}: HTTP {response.status_code}")
                    continue
                stamp = response.json()["ruleset"]
                body = json.loads(response.text.replace(stamp["version"], "@V"))
                del body["ruleset"]
                if body != expected_by_case[k]:
                    failures.append(f"{worker}/{i}: wrong decision")
                if versions is not None and stamp["version"] not in versions:
                    failures.append(f"{worker}/{i}: unknown version {stamp['version']}")

    threads = [threading.Thread(target=work, args=(w,)) for w in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


def test_load_8_clients_every_answer_checked(server: LiveServer, zibo_engine: Engine) -> None:
    assert _hammer(server, zibo_engine, clients=8, per_client=250) == []


@pytest.mark.slow
def test_load_8_clients_x_2000_requests_every_answer_checked(server: LiveServer, zibo_engine: Engine) -> None:
    assert _hammer(server, zibo_engine, clients=8, per_client=2000) == []


# ---------------------------------------------------------------- reload


def _set_version(folder: Path, version: str) -> None:
    manifest = folder / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8")
    lines = [f'version: "{version}"' if line.startswith("version:") else line for line in text.splitlines()]
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _wait_for_version(client: httpx.Client, version: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/v1/ruleset").json()["version"] != version:
        assert time.monotonic() < deadline, f"version {version} not in service"
        time.sleep(0.05)


def test_reload_swaps_only_a_ruleset_that_loads_and_lints_clean(tmp_path: Path) -> None:
    folder = tmp_path / "rs"
    shutil.copytree(ZIBO, folder)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN, encoding="utf-8")
    with live_server(folder, tmp_path, "--token-file", str(token_file)) as srv, \
            srv.client(headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        first = c.get("/v1/ruleset").json()
        _set_version(folder, "2021.2-test")
        srv.hup()
        _wait_for_version(c, "2021.2-test")
        decision = c.post("/v1/decide", json=request()).json()
        assert decision["ruleset"]["version"] == "2021.2-test"
        assert decision["ruleset"]["sha256"] != first["sha256"]

        # A ruleset that does not load: refused, the running version stays.
        rules = folder / "rules.yaml"
        good_rules = rules.read_text(encoding="utf-8")
        rules.write_text(good_rules + "\n  - id: broken\n    method: NOPE\n", encoding="utf-8")
        refused = c.post("/v1/admin/reload")
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "rules.yaml" in refused.json()["problems"][0]
        srv.hup()
        time.sleep(0.5)
        assert c.get("/v1/ruleset").json()["version"] == "2021.2-test"
        assert c.post("/v1/decide", json=request()).status_code == 200

        # Mended: the admin endpoint swaps it in and says which version is now in service.
        rules.write_text(good_rules, encoding="utf-8")
        _set_version(folder, "2021.3-test")
        ok = c.post("/v1/admin/reload")
        assert ok.status_code == 200 and ok.json()["ruleset"]["version"] == "2021.3-test"
        assert c.post("/v1/decide", json=request()).json()["ruleset"]["version"] == "2021.3-test"
        metrics = c.get("/metrics").text
        assert 'nocert_reloads_total{outcome="refused"} 2.0' in metrics


def test_reload_under_load_loses_no_request(tmp_path: Path, zibo_engine: Engine) -> None:
    folder = tmp_path / "rs"
    shutil.copytree(ZIBO, folder)
    versions = {zibo_engine.ruleset.version, "2021.9-a", "2021.9-b"}
    with live_server(folder, tmp_path) as srv, srv.client() as c:
        result: list[list[str]] = []
        load = threading.Thread(target=lambda: result.append(_hammer(srv, zibo_engine, 4, 300, versions=versions)))
        load.start()
        for n in range(6):
            version = "2021.9-a" if n % 2 == 0 else "2021.9-b"
            _set_version(folder, version)
            srv.hup()
            _wait_for_version(c, version)
        load.join()
        assert result == [[]]
        assert srv.process.poll() is None


# ---------------------------------------------------------------- starting


def test_refuses_to_bind_beyond_localhost_without_a_token(tmp_path: Path) -> None:
    done = subprocess.run([NOCERT, "serve", str(ZIBO), "--host", "0.0.0.0", "--port", "1"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--token-file" in done.stderr and "--insecure" in done.stderr


def test_a_ruleset_that_does_not_load_is_not_served(tmp_path: Path) -> None:
    folder = tmp_path / "rs"
    shutil.copytree(ZIBO, folder)
    (folder / "rules.yaml").write_text("rules: []\n", encoding="utf-8")
    done = subprocess.run([NOCERT, "serve", str(folder), "--port", "1"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "rules.yaml" in done.stderr


def test_several_workers_serve_and_reload_on_sighup_and_admin_reload(tmp_path: Path, zibo_engine: Engine) -> None:
    folder = tmp_path / "rs"
    shutil.copytree(ZIBO, folder)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN, encoding="utf-8")
    auth = {"Authorization": f"Bearer {TOKEN}"}

    def children(srv: LiveServer) -> set[int]:
        # The supervisor's worker processes (multiprocessing's resource tracker is not one).
        workers = set()
        for child in psutil.Process(srv.process.pid).children():
            with contextlib.suppress(psutil.NoSuchProcess):
                if not any("resource_tracker" in part for part in child.cmdline()):
                    workers.add(child.pid)
        return workers

    def converge(srv: LiveServer, version: str, before: set[int]) -> None:
        # Done when every process the supervisor had before the reload has retired and fresh
        # connections (which reach any current worker) all name the new version.
        deadline = time.monotonic() + 60
        versions: set[str] = set()
        while time.monotonic() < deadline:
            if not children(srv) & before:
                with httpx.Client(base_url=srv.base_url, headers=auth) as fresh:
                    versions = {fresh.get("/v1/ruleset").json()["version"] for _ in range(8)}
                if versions == {version}:
                    return
            time.sleep(0.2)
        raise AssertionError(f"workers did not all reach {version}: {versions}\n{srv.output()}")

    with live_server(folder, tmp_path, "--workers", "2", "--token-file", str(token_file)) as srv, \
            srv.client(headers=auth) as c:
        case = CASES[0]
        assert c.post("/v1/decide", json=case).json() == expected(zibo_engine, case)
        _set_version(folder, "2021.5-workers")
        before = children(srv)
        srv.hup()  # uvicorn's supervisor replaces each worker
        converge(srv, "2021.5-workers", before)

        # admin reload checks the new files first: a broken ruleset is refused, nothing restarts
        rules = folder / "rules.yaml"
        good = rules.read_text(encoding="utf-8")
        rules.write_text("rules: []\n", encoding="utf-8")
        refused = c.post("/v1/admin/reload")
        assert refused.status_code == 409 and "rules.yaml" in refused.json()["problems"][0]
        rules.write_text(good, encoding="utf-8")
        _set_version(folder, "2021.6-workers")
        before = children(srv)
        accepted = c.post("/v1/admin/reload")
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["reloaded"] is False and accepted.json()["ruleset"]["version"] == "2021.6-workers"
        converge(srv, "2021.6-workers", before)
        # A new connection reaches a new worker; a keep-alive connection opened before the reload
        # may stay with its old worker until that one retires (docs/service.md says so).
        with httpx.Client(base_url=srv.base_url, headers=auth) as fresh:
            assert fresh.post("/v1/decide", json=case).json()["ruleset"]["version"] == "2021.6-workers"


def test_backend_option_is_used_and_named(tmp_path: Path, zibo_engine: Engine) -> None:
    with live_server(ZIBO, tmp_path, "--backend", "compiled") as srv, srv.client() as c:
        info = c.get("/v1/ruleset").json()
        assert info["backend"] == "compiled" and info["backend_reason"]
        for case in CASES[:200]:
            got = c.post("/v1/decide", json=case).json()
            assert got["ruleset"]["backend"] == "compiled"
            want = expected(zibo_engine, case)
            del got["ruleset"]["backend"], want["ruleset"]["backend"]
            assert got == want
