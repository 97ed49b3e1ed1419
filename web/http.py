"""JSON in, JSON errors out: the HTTP conventions shared by the channel and the console.

Every refusal is a JSON ``{"error": "..."}`` with a fitting status, never a
500 with a stack trace: bad input is 400, unknown things 404, state conflicts
409, a database that is down 503.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from handoff.store import DatabaseBusy, InvalidInput, StoreError, TicketConflict, TicketNotFound

logger = logging.getLogger(__name__)


class HttpError(Exception):
    """A refusal with its status code; the message is shown to the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def json_error(message: str, status: int) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def json_body(request: Request) -> Dict[str, Any]:
    """The request's JSON object, or :class:`InvalidInput` with a clear reason."""
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[..." nested 50,000 deep
        raise InvalidInput("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    return body


def _status_of(error: StoreError) -> int:
    if isinstance(error, TicketNotFound):
        return 404
    if isinstance(error, TicketConflict):
        return 409
    if isinstance(error, InvalidInput):
        return 400
    if isinstance(error, DatabaseBusy):
        return 503
    return 400


def install_error_handlers(bp: Blueprint) -> None:
    """Map our exceptions to JSON errors for every route of ``bp``."""

    @bp.exception(HttpError)
    async def http_error(_: Request, error: HttpError) -> HTTPResponse:
        return json_error(str(error), error.status)

    @bp.exception(StoreError)
    async def store_error(_: Request, error: StoreError) -> HTTPResponse:
        return json_error(str(error), _status_of(error))

    @bp.exception(SQLAlchemyError)
    async def database_down(request: Request, error: SQLAlchemyError) -> HTTPResponse:
        logger.error("database error on %s: %s", request.path, type(error).__name__)
        return json_error("the shop database is unavailable, please retry shortly", 503)


__all__ = ["HttpError", "install_error_handlers", "json_body", "json_error"]
