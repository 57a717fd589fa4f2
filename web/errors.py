"""One JSON error shape for every failure: ``{"error": {"status", "code", "message"}}``; never a traceback.

Bad input is a 4xx that says what was wrong; the services' ``InputError``/``DataError`` carry a
``user_message`` written for people, which becomes the message. Anything unexpected is logged with its
traceback and answered with a bare 500.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from trader.core.errors import DataError, InputError, TraderError

logger = logging.getLogger(__name__)

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 422: "invalid_parameters", 503: "unavailable"}


def error_body(status: int, message: str, code: str | None = None) -> dict[str, object]:
    """Return the JSON body of an error response."""
    return {"error": {"status": status, "code": code or _CODES.get(status, "error"), "message": message}}


def error_response(status: int, message: str, code: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """Return an error response in the one shape."""
    return JSONResponse(error_body(status, message, code), status_code=status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request refused"
    return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))


def _location(loc: tuple[object, ...] | list[object]) -> str:
    # ("query", "page") -> "query.page": says where the bad value was without echoing the body
    return ".".join(str(part) for part in loc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [f"{_location(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()]
    return error_response(422, "; ".join(problems) or "invalid parameters")


async def _trader_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TraderError)
    message = exc.user_message or str(exc)
    if isinstance(exc, InputError):
        return error_response(400, message)
    if isinstance(exc, DataError):
        return error_response(404, message)
    logger.warning("%s %s failed: %s", request.method, request.url.path, exc)
    return error_response(503, message)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal error; the service log has the details", "internal")


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error with the one JSON shape."""
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(TraderError, _trader_error)
    app.add_exception_handler(Exception, _unexpected)
