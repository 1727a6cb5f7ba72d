"""One JSON error shape for every failure the HTTP app reports.

    {"error": {"status": 404, "code": "not-found", "message": "…", "detail": null}}

Domain errors (`kg.errors.WijkenError`) carry their status and code; request validation,
unknown routes and methods, and unexpected exceptions are mapped to the same shape. Unexpected
exceptions are logged, never echoed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from kg.errors import IngestError, WijkenError

logger = logging.getLogger(__name__)
HTTP_CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "payload-too-large",
    415: "unsupported-media-type",
}


class ErrorBody(BaseModel):
    """What went wrong: the HTTP status again, a stable code, a message for people."""

    status: int = Field(description="The HTTP status code of the response.")
    code: str = Field(description="A stable, machine-readable error code, e.g. `not-found`.")
    message: str = Field(description="What went wrong and, where possible, how to fix it.")
    detail: Any = Field(default=None, description="Structured detail (validation errors, "
                        "ingest problems) or null.")


class ErrorResponse(BaseModel):
    """The one JSON shape of every 4xx/5xx answer of the service."""

    error: ErrorBody


_ERROR_TEXT = {
    400: "Bad parameter value (e.g. an unknown filter value).",
    404: "Unknown id.",
    409: "The search index is missing or does not fit the model or the graph.",
    422: "A parameter is missing or out of range.",
    500: "Unexpected error (logged, never echoed).",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries that document the error shape for these statuses."""
    return {s: {"model": ErrorResponse, "description": _ERROR_TEXT.get(s, "Error.")}
            for s in statuses}


def error_response(
    status: int,
    code: str,
    message: str,
    detail: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The one error response shape; a 401 always names the Bearer scheme."""
    body = {"error": {"status": status, "code": code, "message": message, "detail": detail}}
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", 'Bearer realm="wijken"')
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=all_headers)


async def _wijken_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WijkenError)
    detail = [str(p) for p in exc.problems] if isinstance(exc, IngestError) else None
    if exc.status >= 500:
        logger.warning("%s %s: %s", request.method, request.url.path, exc)
    # Overload and per-client limits pass: tell clients when to try again (RFC 9110 §10.2.3).
    headers = {"Retry-After": "1"} if exc.status in (429, 503) else None
    return error_response(exc.status, exc.code, str(exc), detail, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "invalid-request", "the request is not valid", exc.errors())


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "http-error")
    return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal-error", "internal error; see the server log")


def install_error_handlers(app: FastAPI) -> None:
    """Route every error of `app` through the one JSON shape."""
    app.add_exception_handler(WijkenError, _wijken_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
