"""The decision service's HTTP API (FastAPI). Endpoints, versioned under ``/v1``:

- ``POST /v1/decide``: one ``DecisionRequest`` -> the ``Decision``, exactly what ``Engine.decide``
  returns (the same JSON as ``decision.model_dump_json()``); the version that made it is in the
  decision's ``ruleset`` stamp and in the ``X-Ruleset-Sha256`` header; ``X-Decision-Id`` when
  the decision log is on;
- ``POST /v1/decide/batch``: ``{"requests": [...]}`` (at most ``max_batch``) -> one result per
  request, a decision or the request's errors, all decided by one ruleset version;
- ``GET /v1/ruleset``: name, version, sha256, validity, backend, as-of support;
- ``GET /v1/explain/{decision_id}``: the decision log's entry (when the log is on);
- ``POST /v1/admin/reload``: load the ruleset folder again; swap only if it loads and lints clean;
- ``GET /healthz``, ``GET /readyz``, ``GET /metrics`` (Prometheus text), ``GET /openapi.json``.

Invalid requests answer 422 with the field paths of ``RequestError`` and never the submitted
values; a body over ``max_body_bytes`` or a batch over ``max_batch`` answers 413; every error is a
problem document (``nocert_rules.service.problems``).
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import inspect
import json
import logging
import os
import re
import signal
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import quote

try:
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.openapi.utils import get_openapi
    from fastapi.responses import Response, StreamingResponse
    from fastapi.routing import APIRoute
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        CollectorRegistry,
        Counter,
        Gauge,
        Histogram,
        generate_latest,
    )
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.requests import ClientDisconnect
    from starlette.routing import Route
except ImportError as exc:  # pragma: no cover - exercised where the extra is missing
    from nocert_rules.service import MISSING_EXTRA

    raise ImportError(MISSING_EXTRA) from exc

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from nocert_rules.errors import CalendarError, RequestError
from nocert_rules.models import Decision, DecisionRequest, RulesetStamp, parse_request
from nocert_rules.records.audit import UUID_TEXT
from nocert_rules.service.config import ServeConfig
from nocert_rules.service.decision_log import (
    AuditedDecisionLog,
    DecisionLog,
    Durable,
    Entry,
    new_decision_id,
)
from nocert_rules.service.problems import (
    PROBLEM_MEDIA_TYPE,
    FieldProblem,
    Problem,
    ProblemError,
    for_status,
    problem_responses,
)
from nocert_rules.service.state import Loaded, ReloadRefused, RulesetHolder

T = TypeVar("T")
API_TITLE = "nocert-rules decision service / 无证明城市决定服务"
_UUID = re.compile(UUID_TEXT)  # a decision_id, as new_decision_id writes it
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
logger = logging.getLogger("uvicorn.error")
BATCH_CHUNK = 100
"""A batch is decided and streamed in chunks of this many requests."""
DECIDE_THREADS = 2
"""Threads deciding (the bounded pool): the event loop only reads, routes and writes."""
GC_YOUNG = 100_000
"""Allocations between two collections of the youngest generation while serving (CPython's default
is 700). Nearly all of a request's garbage is freed by reference counting; each collection walks
every young object still alive (the requests in flight) and promotes them, so its cost per request
falls as the threshold grows: collecting every 700 allocations was ~3% of the server's time under
50 clients with the keyed log, in pauses of up to ~10 ms (gen 2); every 10,000, 489 µs of server
CPU per keyed request against 411 µs every 100,000 (1.07x the throughput, side by side,
2026-12-07). What reference counting cannot free (cycles) waits at most that many allocations.
Restored when the application stops."""
DECISION_JSON: Callable[[Decision], bytes] = Decision.__pydantic_serializer__.to_json
"""A Decision as JSON bytes, as ``Engine.decide_json`` writes it: ``model_dump_json()`` before it
decodes the bytes to text (the service would encode them straight back)."""


# ---------------------------------------------------------------- documented shapes


class BatchRequest(BaseModel):
    """Several requests decided together, by one ruleset version."""

    model_config = ConfigDict(extra="forbid")
    requests: list[DecisionRequest] = Field(description="每项为一个决定请求 / each a DecisionRequest")


class BatchItem(BaseModel):
    """The answer to one request of a batch: its decision, or its errors."""

    index: int = Field(description="请求在批次中的位置（从 0 起） / position in the batch, from 0")
    decision: Decision | None = None
    decision_id: str | None = Field(default=None, description="决定日志编号 / set when the decision log is on")
    errors: list[FieldProblem] | None = None


class BatchResult(BaseModel):
    results: list[BatchItem]


class RulesetInfo(BaseModel):
    """The ruleset version in service."""

    name: str
    title: str
    version: str
    sha256: str
    jurisdiction: str
    effective_from: str
    effective_until: str | None = None
    rows: int
    rules: int
    loaded_at: str
    as_of_supported: bool
    backend: str | None = None
    backend_reason: str | None = None


class ReloadResult(BaseModel):
    reloaded: bool = Field(description="true: swapped in this process; false: workers are being replaced")
    ruleset: RulesetInfo


class DecisionLogEntry(BaseModel):
    """One line of the decision log."""

    decision_id: str
    time: str
    ruleset: RulesetStamp
    input: dict[str, Any] = Field(description="the request, personal data masked as in the decision")
    result: Decision


class AuditedDecisionLogEntry(BaseModel):
    """One entry of the decision log kept as an audit log (``serve --key-file``)."""

    decision_id: str
    seq: int = Field(description="the entry's sequence number in the audit log")
    hash: str = Field(description="sha256 of the entry's body (records.audit)")
    kid: str = Field(description="the id of the MAC key the entry was written under")
    record: dict[str, Any] = Field(
        description="the decision's audit record: applicant as keyed hashes, outcome with decision_id, trace"
    )


class Health(BaseModel):
    status: str
    ruleset: RulesetStamp | None = None


# ---------------------------------------------------------------- metrics


class Metrics:
    """Prometheus metrics of one service process (each ``--workers`` process counts its own)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.decisions = Counter(
            "nocert_decisions", "Decisions made, by method", ["method"], registry=self.registry
        )
        self.errors = Counter(
            "nocert_errors", "Requests answered with an error, by problem type", ["type"], registry=self.registry
        )
        self.latency = Histogram(
            "nocert_request_duration_seconds",
            "Time to answer a decision request, by endpoint",
            ["endpoint"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.reloads = Counter("nocert_reloads", "Ruleset reloads, by outcome", ["outcome"], registry=self.registry)
        self.info = Gauge(
            "nocert_ruleset_info", "The ruleset version in service (value 1)", ["name", "version", "sha256"],
            registry=self.registry,
        )
        self.decide_latency = self.latency.labels("decide")
        self.batch_latency = self.latency.labels("batch")
        self._by_method: dict[str, Any] = {}

    def decided(self, method: str) -> None:
        """One more decision by ``method``; its counter looked up once per method, not per
        decision (``labels`` takes a lock and checks its labels each call)."""
        counter = self._by_method.get(method)
        if counter is None:
            counter = self._by_method[method] = self.decisions.labels(method)
        counter.inc()

    def serving(self, loaded: Loaded) -> None:
        self.info.clear()
        rs = loaded.ruleset
        self.info.labels(rs.name, rs.version, rs.sha256).set(1)


# ---------------------------------------------------------------- the application


_NO_NATIVE_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters else {}
)
"""FastAPI's own OpenTelemetry (newer FastAPI) off: the service's metrics are Prometheus (``/metrics``),
and left on it looks the global providers up on every request (environment reads included)."""


def _stamp_headers(loaded: Loaded, decision_id: str | None = None) -> dict[str, str]:
    """The version that decided (and the decision log's id), for hosts that read headers only."""
    rs = loaded.ruleset
    headers = {"X-Ruleset-Sha256": rs.sha256, "X-Ruleset-Version": quote(rs.version, safe="")}
    if decision_id is not None:
        headers["X-Decision-Id"] = decision_id
    return headers


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _invalid(path: str, problem: str) -> ProblemError:
    return ProblemError(422, "invalid-request", "请求无效 / invalid request", errors=[(path, problem)])


class DecisionService:
    """The state behind the routes: the ruleset holder, the decision log, metrics, the token."""

    def __init__(self, config: ServeConfig, holder: RulesetHolder | None = None) -> None:
        self.config = config
        self.holder = holder if holder is not None else RulesetHolder(config.ruleset, backend=config.backend)
        self.token = config.read_token()
        self.log: DecisionLog | AuditedDecisionLog | None = config.open_decision_log()
        self.metrics = Metrics()
        self.metrics.serving(self.holder.current)
        self.pool = ThreadPoolExecutor(DECIDE_THREADS, thread_name_prefix="decide")

    async def off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the deciding pool, the event loop meanwhile serving other requests."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    async def answered(self, loaded: Loaded, data: Any) -> tuple[str | None, bytes]:
        """:meth:`answer` in the deciding pool: ``(decision_id, body)`` once the answer may be sent,
        with the decision log on once its entry is durable. The deciding thread hands the entry
        to the log's writer itself, and the writer completes the request's future on the event
        loop (with the others of its batch): the loop is woken once per request, not twice."""
        done: asyncio.Future[tuple[str | None, bytes]] = asyncio.get_running_loop().create_future()
        self.pool.submit(self._answer_into, done, loaded, data)
        return await done

    def _answer_into(self, done: asyncio.Future[tuple[str | None, bytes]], loaded: Loaded, data: Any) -> None:
        """(In a deciding thread.) :meth:`answer`, then ``done`` handed to the decision log with
        the answer, or completed on its loop with the answer (no log) or the error."""
        loop = done.get_loop()
        try:
            decision_id, prepared, body = self.answer(loaded, data)
            if prepared and self.log is not None:
                self.log.commit(prepared, Durable(done, (decision_id, body)))
                return
        except BaseException as exc:  # noqa: BLE001 - the request must hear of it (a 422 or a 500)
            loop.call_soon_threadsafe(Durable(done, None).settle, exc)
            return
        loop.call_soon_threadsafe(Durable(done, (decision_id, body)).settle)

    # ------------------------------------------------------------ input

    def authorize(self, request: Request) -> None:
        if self.token is None:
            return
        given = request.headers.get("authorization", "")
        scheme, _, credentials = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            credentials.strip().encode("utf-8", "replace"), self.token.encode("utf-8")
        ):
            raise for_status(401, headers={"WWW-Authenticate": 'Bearer realm="nocert-rules"'})

    async def read_json(self, request: Request) -> Any:
        """The body as JSON, within ``max_body_bytes``; never echoing it in an error."""
        content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise for_status(415)
        limit = self.config.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise for_status(413, f"请求体超过 {limit} 字节 / the body exceeds {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise for_status(413, f"请求体超过 {limit} 字节 / the body exceeds {limit} bytes")
            chunks.append(chunk)
        body = b"".join(chunks)
        try:
            data = json.loads(body)
        except RecursionError:
            raise _invalid("(request)", "JSON 嵌套过深 / JSON nested too deeply") from None
        except ValueError as exc:  # JSONDecodeError, bad UTF-8, an integer too long to convert
            where = f" (line {exc.lineno} column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
            raise _invalid("(request)", f"不是有效的 JSON / not valid JSON{where}") from None
        if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(data):
            raise _invalid("(request)", "包含无效的 Unicode 代理字符 / contains a lone Unicode surrogate")
        return data

    # ------------------------------------------------------------ deciding

    def decide_one(self, loaded: Loaded, data: Any) -> tuple[DecisionRequest, Decision]:
        """Decide ``data`` with ``loaded``. Raises ``RequestError``."""
        try:
            request = parse_request(data)
            decision = loaded.engine.decide(request)
        except CalendarError as exc:
            raise RequestError([("requested_at", str(exc))]) from None
        self.metrics.decided(decision.method.value)
        return request, decision

    def answer(self, loaded: Loaded, data: Any) -> tuple[str | None, list[Any], bytes]:
        """``decide_one``, the decision's JSON (``model_dump_json``, the answer's body) and, with
        the decision log on, its ``decision_id`` and what the log will write (``DecisionLog.prepare``):
        all in the deciding thread, the event loop left to commit it."""
        request, decision = self.decide_one(loaded, data)
        body = DECISION_JSON(decision)
        if self.log is None:
            return None, [], body
        decision_id = new_decision_id()
        return decision_id, self.log.prepare([(decision_id, request, decision)]), body

    def decide_chunk(self, loaded: Loaded, items: list[Any], start: int) -> tuple[bytes, list[Any]]:
        """The batch results of ``items`` (numbered from ``start``) as JSON joined by ``, ``, and
        what the decision log writes for them (``DecisionLog.prepare``; none when the log is off).
        The valid requests are decided together (``Engine.decide_many``)."""
        requests: list[DecisionRequest | RequestError] = []
        for item in items:
            try:
                requests.append(parse_request(item))
            except RequestError as exc:
                requests.append(exc)
        decided = iter(loaded.engine.decide_many([r for r in requests if isinstance(r, DecisionRequest)]))
        parts: list[bytes] = []
        entries: list[Entry] = []
        for i, request in enumerate(requests, start):
            outcome = request if isinstance(request, RequestError) else self._counted(next(decided))
            if isinstance(outcome, RequestError):
                self.metrics.errors.labels("invalid-request").inc()
                errors = [{"path": path, "problem": problem} for path, problem in outcome.errors]
                parts.append(json.dumps({"index": i, "errors": errors}, ensure_ascii=False).encode("utf-8"))
                continue
            extra = b""
            if self.log is not None:
                decision_id = new_decision_id()
                entries.append((decision_id, request, outcome))
                extra = b', "decision_id": "%s"' % decision_id.encode("ascii")
            parts.append(b'{"index": %d, "decision": %s%s}' % (i, DECISION_JSON(outcome), extra))
        prepared = self.log.prepare(entries) if self.log is not None else []
        return b", ".join(parts), prepared

    def _counted(self, outcome: Decision | Exception) -> Decision | RequestError:
        """One item of ``decide_many``: a Decision (counted), or its request's error as
        ``decide_one`` raises it; any other error is raised (a 500, as for one request)."""
        if isinstance(outcome, CalendarError):
            return RequestError([("requested_at", str(outcome))])
        if isinstance(outcome, RequestError):
            return outcome
        if isinstance(outcome, Exception):
            raise outcome
        self.metrics.decided(outcome.method.value)
        return outcome

    async def durable(self, prepared: list[Any]) -> None:
        """Return once ``prepared`` (``DecisionLog.prepare``) is in the decision log, written and
        fsynced (group commit)."""
        if prepared and self.log is not None:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.log.commit(prepared, Durable(done, None))
            await done

    async def reload(self) -> tuple[Loaded, bool]:
        """Reload in a thread (requests go on meanwhile). With several workers, check the new
        version here, then ask the supervisor (SIGHUP) to replace the workers one by one."""
        if self.config.workers > 1:
            from nocert_rules.service.state import load_checked

            checked = await asyncio.to_thread(load_checked, self.holder.path, self.holder.backend)
            os.kill(os.getppid(), signal.SIGHUP)
            return checked, False
        loaded = await asyncio.to_thread(self.holder.reload)
        self.metrics.serving(loaded)
        return loaded, True


def create_app(
    config: ServeConfig, holder: RulesetHolder | None = None, *, handle_sighup: bool = False, serving: bool = False
) -> FastAPI:
    """The ASGI application. ``handle_sighup`` (single-process server only): SIGHUP reloads.
    ``serving`` (``nocert-rules serve``'s own processes): at start the process is pinned to a
    free CPU as ``config.cpu_affinity`` asks (``service.affinity``); never in a host's process."""
    service = DecisionService(config, holder)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        # What was loaded at start lives as long as the process: keep the collector off it.
        gc.collect()
        gc.freeze()
        threshold = gc.get_threshold()
        gc.set_threshold(GC_YOUNG, *threshold[1:])
        retrying = config.pin_cpu() if serving else None
        if handle_sighup:
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(_reload_on_signal()))
        elif config.workers > 1:
            # The supervisor handles SIGHUP (it replaces the workers); a worker ignores it.
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
        try:
            yield
        finally:
            gc.set_threshold(*threshold)
            if retrying is not None:
                retrying.set()
        service.pool.shutdown()
        if service.log is not None:
            service.log.close()

    async def _reload_on_signal() -> None:
        try:
            loaded, _ = await service.reload()
        except ReloadRefused as exc:
            service.metrics.reloads.labels("refused").inc()
            logger.error("reload refused, keeping %s: %s", service.holder.current.ruleset.version, exc)
        else:
            service.metrics.reloads.labels("ok").inc()
            logger.info("reloaded ruleset %s %s", loaded.ruleset.version, loaded.ruleset.sha256[:12])

    app = FastAPI(title=API_TITLE, version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  **_NO_NATIVE_TELEMETRY)
    app.state.service = service

    # ------------------------------------------------------------ errors

    def problem_response(exc: ProblemError) -> Response:
        service.metrics.errors.labels(exc.code).inc()
        return Response(exc.body(), status_code=exc.status, media_type=PROBLEM_MEDIA_TYPE, headers=exc.headers)

    @app.exception_handler(ProblemError)
    async def _problem(_request: Request, exc: ProblemError) -> Response:
        return problem_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> Response:
        # Never the path or the body in the detail: either may carry an ID number.
        return problem_response(for_status(exc.status_code, headers=getattr(exc, "headers", None)))

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> Response:
        errors = [(".".join(str(p) for p in e["loc"]), str(e["msg"])) for e in exc.errors()]
        return problem_response(ProblemError(422, "invalid-request", "请求无效 / invalid request", errors=errors))

    paths: dict[Any, str] = {}  # endpoint -> route path, for the log line below

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, _exc: ClientDisconnect) -> Response:
        # The client left (or was closed for a stalled body) before its body was read: no one to
        # answer, nothing to decide; one line, no traceback.
        # the route (FastAPI's scope "route", or the plain Route's endpoint), never the raw path
        route = getattr(request.scope.get("route"), "path", None) or paths.get(request.scope.get("endpoint"), "?")
        logger.info("client disconnected before the request body was read (%s %s)", request.method, route)
        return Response(status_code=400)

    @app.exception_handler(Exception)
    async def _internal(_request: Request, _exc: Exception) -> Response:
        return problem_response(for_status(500, "请查看服务日志 / see the service log"))

    def request_problem(exc: RequestError) -> ProblemError:
        return ProblemError(422, "invalid-request", "请求无效 / invalid request", errors=list(exc.errors))

    # ------------------------------------------------------------ decisions

    json_body = {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DecisionRequest"}}}}
    batch_body = {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchRequest"}}}}

    @app.post(
        "/v1/decide",
        summary="对一个请求作出决定 / decide one request",
        openapi_extra={"requestBody": json_body},
        responses={200: {"model": Decision, "description": "the Decision (Engine.decide)"},
                   **problem_responses(401, 413, 415, 422)},
        response_class=Response,
    )
    async def decide(request: Request) -> Response:
        started = time.perf_counter()
        service.authorize(request)
        data = await service.read_json(request)
        loaded = service.holder.current
        try:
            decision_id, body = await service.answered(loaded, data)  # (its log entry durable)
        except RequestError as exc:
            raise request_problem(exc) from None
        elapsed = time.perf_counter() - started
        service.metrics.decide_latency.observe(elapsed)
        headers = _stamp_headers(loaded, decision_id)
        headers["Server-Timing"] = f"total;dur={elapsed * 1000:.3f}"
        return Response(body, media_type="application/json", headers=headers)

    @app.post(
        "/v1/decide/batch",
        summary="批量决定 / decide a batch of requests",
        openapi_extra={"requestBody": batch_body},
        responses={200: {"model": BatchResult, "description": "one result per request, in order"},
                   **problem_responses(401, 413, 415, 422)},
        response_class=Response,
    )
    async def decide_batch(request: Request) -> Response:
        started = time.perf_counter()
        service.authorize(request)
        data = await service.read_json(request)
        if not isinstance(data, dict):
            raise _invalid("(request)", "应为对象 {\"requests\": [...]} / expected an object {\"requests\": [...]}")
        unknown = sorted(k for k in data if k != "requests")
        if unknown:
            raise _invalid("(request)", f"{len(unknown)} 个未知字段，只允许 requests / unknown fields: only 'requests' is allowed")
        items = data.get("requests")
        if not isinstance(items, list):
            raise _invalid("requests", "应为数组 / must be an array of requests")
        if len(items) > config.max_batch:
            raise for_status(413, f"批次超过 {config.max_batch} 个请求 / a batch holds at most {config.max_batch} requests")
        loaded = service.holder.current  # one version for the whole batch

        async def results() -> AsyncIterator[bytes]:
            # Streamed chunk by chunk; a chunk's decisions are sent only once their decision log
            # entries are durable. Each chunk is decided in a thread, the event loop meanwhile
            # answering other requests.
            yield b'{"results": ['
            for start in range(0, len(items), BATCH_CHUNK):
                part, entries = await service.off_loop(
                    service.decide_chunk, loaded, items[start:start + BATCH_CHUNK], start)
                await service.durable(entries)
                yield part if start == 0 else b", " + part
            yield b"]}"
            service.metrics.batch_latency.observe(time.perf_counter() - started)

        return StreamingResponse(results(), media_type="application/json", headers=_stamp_headers(loaded))

    @app.get("/v1/ruleset", summary="在用的规则集 / the ruleset in service", response_model=RulesetInfo,
             responses=problem_responses(401))
    async def ruleset_info(request: Request) -> dict[str, Any]:
        service.authorize(request)
        return service.holder.current.describe()

    @app.get(
        "/v1/explain/{decision_id}",
        summary="决定日志中的一条 / a decision log entry",
        response_model=DecisionLogEntry | AuditedDecisionLogEntry,
        responses=problem_responses(401, 404),
    )
    async def explain(decision_id: str, request: Request) -> Response:
        service.authorize(request)
        if service.log is None:
            raise for_status(404, "决定日志未开启 / the decision log is off (serve --decision-log FILE)")
        if not _UUID.fullmatch(decision_id):
            raise for_status(404, "没有该决定 / no such decision")
        entry = await asyncio.to_thread(service.log.find, decision_id)
        if entry is None:
            raise for_status(404, "没有该决定 / no such decision")
        return Response(json.dumps(entry, ensure_ascii=False).encode("utf-8"), media_type="application/json")

    @app.post(
        "/v1/admin/reload",
        summary="重新加载规则集 / reload the ruleset (authenticated)",
        response_model=ReloadResult,
        responses=problem_responses(401, 403, 409),
    )
    async def admin_reload(request: Request) -> dict[str, Any]:
        if service.token is None:
            raise for_status(403, "需要 --token-file 才能远程重新加载；或发送 SIGHUP / needs --token-file; or send SIGHUP")
        service.authorize(request)
        try:
            loaded, swapped = await service.reload()
        except ReloadRefused as exc:
            service.metrics.reloads.labels("refused").inc()
            raise ProblemError(
                409, "reload-refused",
                "新规则集未通过加载或检查，仍使用原版本 / the new ruleset does not load or lint clean; the running version stays",
                problems=exc.problems,
            ) from None
        service.metrics.reloads.labels("ok").inc()
        return {"reloaded": swapped, "ruleset": loaded.describe()}

    # ------------------------------------------------------------ operations

    @app.get("/healthz", summary="存活 / liveness", response_model=Health)
    async def healthz() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get("/readyz", summary="就绪 / readiness: a ruleset is loaded", response_model=Health)
    async def readyz() -> dict[str, Any]:
        rs = service.holder.current.ruleset
        return {"status": "ready", "ruleset": {"name": rs.name, "version": rs.version, "sha256": rs.sha256}}

    @app.get("/metrics", summary="Prometheus metrics", response_class=Response,
             responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "metrics"},
                        **problem_responses(401)})
    async def metrics(request: Request) -> Response:
        service.authorize(request)
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    documented = list(app.routes)  # the OpenAPI document is drawn from these (FastAPI's routes)
    _route_plainly(app, {"/v1/decide", "/v1/decide/batch"})
    paths.update((r.endpoint, r.path) for r in app.routes if isinstance(r, Route))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, routes=documented,
                              description="Decisions of nocert_rules over HTTP. See docs/service.md.")
            _, defs = models_json_schema(
                [(DecisionRequest, "validation"), (BatchRequest, "validation"), (Problem, "validation")],
                ref_template="#/components/schemas/{model}",
            )
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in defs.get("$defs", {}).items():
                schemas.setdefault(name, schema)
            # Path parameters are plain strings: no operation answers FastAPI's own 422 shape.
            for path_item in doc.get("paths", {}).values():
                for operation in path_item.values():
                    responses = operation.get("responses", {})
                    if "HTTPValidationError" in json.dumps(responses.get("422", {})):
                        del responses["422"]
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _route_plainly(app: FastAPI, paths: set[str]) -> None:
    """Serve the operations at ``paths`` through Starlette's plain ``Route`` (the same endpoint
    function), not FastAPI's ``APIRoute``: these endpoints read their own body and take only the
    ``Request``, so FastAPI's per-request dependency solving and exit stacks are work for nothing
    (about a tenth of the server's time on ``POST /v1/decide``). Errors still pass through the
    application's exception handlers; the OpenAPI document still comes from the ``APIRoute``."""
    for i, route in enumerate(app.router.routes):
        if isinstance(route, APIRoute) and route.path in paths:
            app.router.routes[i] = Route(route.path, route.endpoint, methods=sorted(route.methods), name=route.name)


def app_from_environment() -> FastAPI:
    """The factory each ``--workers`` process calls (configuration in ``NOCERT_SERVE_CONFIG``)."""
    return create_app(ServeConfig.from_environment(), serving=True)


__all__ = ["create_app", "app_from_environment", "DecisionService", "BatchItem", "BatchResult", "RulesetInfo"]
