"""TMF error bodies (TMF630 `Error`: code, reason, message, status) for every refusal the API answers.

Every 4xx and 5xx the application answers carries this body, whatever raised it: a route's own ApiError,
FastAPI's validation, an unknown path, or an unexpected failure (logged, never shown).
"""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from api.aliases import tmf
from domain.masking import scrub

log = structlog.get_logger("api")

# Failures that mean a part of the engine is not there (answered 503), not that the request is wrong.
_UNREACHABLE = (TimeoutError, OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError)
_UNREACHABLE_RPC = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED})


def unreachable(error: Exception) -> bool:
    """Whether `error` means Temporal or the database could not be reached (answered 503), not a refusal."""
    if isinstance(error, RPCError):
        return error.status in _UNREACHABLE_RPC
    return isinstance(error, _UNREACHABLE)

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Error(BaseModel):
    """TMF630 Error: `code` is an application code (here the HTTP status), `status` the HTTP status as text."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    code: str = Field(description="Application relevant detail, defined in the API or a common list.")
    reason: str = Field(description="Explanation of the reason for the error which can be shown to a client user.")
    message: str | None = Field(default=None, description="More details and corrective actions related to the error")
    status: str | None = Field(default=None, description="HTTP Error code extension")
    type_: str = tmf("@type", default="Error", description="When sub-classing, this defines the sub-class")


class ApiError(Exception):
    """A refusal answered as a TMF error body with `status`; `message` says what to do (one line)."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.reason = reason or REASONS.get(status, "Error")


def error_response(status: int, message: str, *, reason: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """A TMF Error body with `status`; the message is scrubbed so no phone or ID number leaks into it."""
    body = Error(code=str(status), reason=reason or REASONS.get(status, "Error"), message=scrub(message),
                 status=str(status))
    return JSONResponse(body.model_dump(by_alias=True, exclude_none=True), status_code=status, headers=headers)


# The error responses every route may answer, for the OpenAPI document.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Error, "description": REASONS[status]} for status in (400, 401, 403, 404, 409, 422)
}


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as a TMF error body."""

    async def api_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return error_response(error.status, error.message, reason=error.reason, headers=error.headers)

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        headers = dict(error.headers) if error.headers else None
        return error_response(error.status_code, str(error.detail), headers=headers)

    async def validation_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem.get('loc', ()))}: {problem.get('msg', '')}"
            for problem in error.errors()
        )
        return error_response(400, problems or "the request is not valid")

    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error("request failed", path=request.url.path, method=request.method,
                  error_type=type(error).__name__, error=scrub(str(error)))
        if unreachable(error):
            # Temporal, a worker or PostgreSQL did not answer: a retry later may succeed.
            return error_response(503, "the engine did not answer in time (Temporal, a worker or PostgreSQL); "
                                       "try again shortly", headers={"Retry-After": "5"})
        return error_response(500, "the engine could not answer this request; see the API's log")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)
