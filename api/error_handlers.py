"""One JSON error shape for every failure the HTTP app reports.

    {"error": {"status": 404, "code": "not-found", "message": "…", "detail": null}}

Domain errors (`kg.errors.WijkenError`) carry their status and code; request validation,
unknown routes and methods, and unexpected exceptions are mapped to the same shape. Unexpected
exceptions are logged, never echoed, and user input is never echoed at length: validation
errors carry at most a short prefix of the rejected value, and every string of an error body
is bounded. A browser (`Accept` preferring `text/html`) gets a Dutch HTML page for a path
that no route serves.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.security import SECURITY_HEADERS
from api.sparql.protocol import negotiate
from api.web.templating import render
from kg.errors import IngestError, WijkenError

logger = logging.getLogger(__name__)
# What an error body may repeat of a request: a prefix of a rejected value, bounded strings and
# lists (a 100 kB parameter or a body with 10,000 bad fields must not come back).
MAX_INPUT_ECHO = 200
MAX_DETAIL_STRING = 500
MAX_DETAIL_ITEMS = 50
MAX_MESSAGE = 1000
_VALIDATION_KEYS = ("type", "loc", "msg", "input", "ctx")
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
    """The one error response shape; a 401 always names the Bearer scheme. Carries the security
    headers itself: a 500 is sent outside the middleware that adds them."""
    body = {"error": {"status": status, "code": code, "message": clip(message, MAX_MESSAGE),
                      "detail": bounded(jsonable_encoder(detail))}}
    all_headers = {**SECURITY_HEADERS, **(headers or {})}
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", 'Bearer realm="wijken"')
    return JSONResponse(body, status_code=status, headers=all_headers)


def clip(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters (an ellipsis marks the cut)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bounded(value: Any, limit: int = MAX_DETAIL_STRING) -> Any:
    """A JSON value with every string clipped and every list and object cut short."""
    if isinstance(value, str):
        return clip(value, limit)
    if isinstance(value, list):
        return [bounded(v, limit) for v in value[:MAX_DETAIL_ITEMS]]
    if isinstance(value, dict):
        return {clip(str(k), limit): bounded(v, limit)
                for k, v in list(value.items())[:MAX_DETAIL_ITEMS]}
    return value


def _echo(value: Any) -> Any:
    """At most a short prefix of a rejected input: numbers as they are, the rest as text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else json.dumps(value, default=str,
                                                            ensure_ascii=False)
    return clip(text, MAX_INPUT_ECHO)


def validation_detail(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's errors without its documentation links, the rejected input clipped."""
    detail = []
    for error in list(errors)[:MAX_DETAIL_ITEMS]:
        entry = {k: error[k] for k in _VALIDATION_KEYS if k in error}
        if "input" in entry:
            entry["input"] = _echo(entry["input"])
        detail.append(entry)
    return detail


def wants_html(request: Request) -> bool:
    """Whether the client prefers an HTML page to the JSON error body (a browser)."""
    return negotiate(request.headers.get("accept"), ("application/json", "text/html")) \
        == "text/html"


def not_found_page(request: Request) -> Response:
    """The Dutch 404 page for browsers (the JSON shape stays for everyone else)."""
    response = render(request, "404.html", {}, status_code=404)
    response.headers.update(SECURITY_HEADERS)
    return response


async def _wijken_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WijkenError)
    detail = [str(p) for p in exc.problems] if isinstance(exc, IngestError) else None
    if exc.status >= 500:
        logger.warning("%s %s: %s", request.method, request.url.path, exc)
    # Overload and per-client limits pass: tell clients when to try again (RFC 9110 §10.2.3).
    headers = {"Retry-After": "1"} if exc.status in (429, 503) else None
    return error_response(exc.status, exc.code, str(exc), detail, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    message = "the request is not valid"
    if len(errors) > MAX_DETAIL_ITEMS:
        message += f" ({len(errors)} problems; the first {MAX_DETAIL_ITEMS} are listed)"
    return error_response(422, "invalid-request", message, validation_detail(errors))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, WijkenError):
        # FastAPI turns any exception raised while it reads a body into "400 There was an error
        # parsing the body"; a domain error raised there (the body limit's 413, the JSON depth
        # limit's 400) is answered as itself.
        return await _wijken_error(request, exc.__cause__)
    if exc.status_code == 404 and wants_html(request):
        # A path no route serves. An unknown IRI under a served path (/id/…) stays a JSON 404
        # whatever the Accept header: linked-data clients rely on the one error shape.
        return not_found_page(request)
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
