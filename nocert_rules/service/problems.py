"""Every error the service answers is a problem document (RFC 9457, ``application/problem+json``).

Problem documents never echo what the caller sent: field paths and what is wrong, not values
(the values may be ID numbers).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:nocert-rules:problem:"


class FieldProblem(BaseModel):
    """One problem of a request, at a field path (as ``RequestError.errors`` names it)."""

    path: str = Field(description="字段路径 field path, e.g. applicant.credit; (request) for the whole body")
    problem: str


class Problem(BaseModel):
    """A problem document (RFC 9457)."""

    type: str = Field(description="urn:nocert-rules:problem:<code>")
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldProblem] | None = Field(
        default=None, description="每个字段的问题 / each field's problem (invalid requests)"
    )
    problems: list[str] | None = Field(
        default=None, description="规则集的问题 / the new ruleset's problems (refused reloads)"
    )


class ProblemError(Exception):
    """Raised inside the service: answered as a problem document with ``status``."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        errors: list[tuple[str, str]] | None = None,
        problems: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = errors
        self.problems = problems
        self.headers = headers

    def body(self) -> bytes:
        doc: dict[str, Any] = {"type": PROBLEM_TYPE_PREFIX + self.code, "title": self.title, "status": self.status}
        if self.detail is not None:
            doc["detail"] = self.detail
        if self.errors is not None:
            doc["errors"] = [{"path": path, "problem": problem} for path, problem in self.errors]
        if self.problems is not None:
            doc["problems"] = self.problems
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")


STATUS_CODES = {
    400: ("bad-request", "请求无法处理 / bad request"),
    401: ("unauthorized", "需要有效的令牌 / a valid bearer token is required"),
    403: ("forbidden", "不允许 / forbidden"),
    404: ("not-found", "不存在 / not found"),
    405: ("method-not-allowed", "不支持该方法 / method not allowed"),
    409: ("conflict", "冲突 / conflict"),
    413: ("too-large", "请求过大 / request too large"),
    415: ("unsupported-media-type", "请求须为 JSON / the body must be application/json"),
    422: ("invalid-request", "请求无效 / invalid request"),
    500: ("internal", "内部错误 / internal error"),
    503: ("unavailable", "暂不可用 / unavailable"),
}


def for_status(status: int, detail: str | None = None, headers: dict[str, str] | None = None) -> ProblemError:
    """The generic problem of an HTTP status (404, 405, …)."""
    code, title = STATUS_CODES.get(status, ("http-" + str(status), f"HTTP {status}"))
    return ProblemError(status, code, title, detail, headers=headers)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these statuses, all problem documents."""
    return {
        status: {
            "description": STATUS_CODES.get(status, ("", f"HTTP {status}"))[1],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
