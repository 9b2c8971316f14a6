"""Errors as RFC 9457 problem details (application/problem+json).

Every error the API returns says what went wrong and what to do about it:
a bad parameter names the parameter and what would be valid.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from fedsearch.errors import FedsearchError

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Problem types resolve against the API's docs page (relative references, RFC 9457 §3.1.1).
TYPE_BASE = "/api/v1/docs#problem-"


class ParamError(BaseModel):
    param: str
    message: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    code: str | None = None  # the stable error code (fedsearch/errors.py), e.g. api.bad_parameter
    errors: list[ParamError] | None = None  # for bad parameters: one entry per parameter


class BadParameter(FedsearchError, ValueError):
    """A request parameter we can't use; `param` names it, the message says what is valid."""

    error_code = "api.bad_parameter"

    def __init__(self, param: str, message: str):
        self.param = param
        self.message = message
        super().__init__(f"{param}: {message}")


class BadParameters(FedsearchError, ValueError):
    error_code = "api.bad_parameter"

    def __init__(self, errors: list[BadParameter]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    kind: str,
    instance: str | None = None,
    code: str | None = None,
    errors: list[ParamError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=TYPE_BASE + kind, title=title, status=status, detail=detail, instance=instance, code=code, errors=errors
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def bad_parameters(errors: list[BadParameter], instance: str | None = None) -> JSONResponse:
    detail = "; ".join(f"parameter '{e.param}': {e.message}" for e in errors)
    return problem_response(
        400,
        "Invalid request parameter",
        detail,
        kind="bad-parameter",
        instance=instance,
        code=BadParameter.error_code,
        errors=[ParamError(param=e.param, message=e.message) for e in errors],
    )


_PROBLEM_CONTENT: dict[str, Any] = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}

# For route decorators: every 4xx and the 503 are problem details.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "description": "A problem with the request (bad parameter, not found, rate limited)",
        "model": Problem,
        "content": _PROBLEM_CONTENT,
    },
    503: {
        "description": "The search engine is unavailable; try again later",
        "model": Problem,
        "content": _PROBLEM_CONTENT,
    },
}
