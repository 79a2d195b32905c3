"""Errors as HTTP answers: RFC 9457 problem details, from the error tree in ``domain/errors.py``.

The status comes from ``domain.errors.HTTP_STATUS``; this module only words the answer. Final
errors' messages are written for callers; retryable ones and the unexpected get a generic text,
and the details go to the log.
"""

import json
import logging
import math
from http import HTTPStatus
from typing import Any

import azure.functions as func
from pydantic import BaseModel, ConfigDict

from domain.errors import (
    InvalidRequest,
    NotFound,
    QuotaExceeded,
    RetryableError,
    SkillSyncError,
    Unauthenticated,
    http_status,
)

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_TITLES = {400: "Malformed JSON", 413: "Request body too large", 422: "Invalid request"}
_SLUGS = {400: "malformed-json", 422: "validation-error", 429: "quota-exceeded"}
_GENERIC = {
    500: "Something went wrong on our side.",
    502: "The writing service did not give a usable answer.",
    503: "A backing service is busy or unreachable; try again shortly.",
}


class FieldError(BaseModel):
    """One invalid field of a request body."""

    field: str
    message: str


class ProblemDetails(BaseModel):
    """``application/problem+json``: what went wrong, in words a client can show."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


def problem_response(error: Exception, instance: str) -> func.HttpResponse:
    """The ``application/problem+json`` answer to ``error`` raised while serving ``instance``."""
    status = http_status(error) if isinstance(error, SkillSyncError) else 500
    headers: dict[str, str] = {}
    extensions: dict[str, Any] = {}
    detail = _GENERIC.get(status) or str(error)
    if isinstance(error, NotFound):
        detail = f"No {error.kind} with that id."
    elif isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    elif isinstance(error, InvalidRequest):
        extensions["errors"] = error.errors
    elif isinstance(error, QuotaExceeded):
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
        extensions.update(limit=error.limit, kind=str(error.kind))
    elif isinstance(error, RetryableError):
        headers["Retry-After"] = str(max(1, round(error.retry_after or 2)))
    _log(status, error)
    body = {
        "type": f"/problems/{_SLUGS[status]}" if status in _SLUGS else "about:blank",
        "title": _TITLES.get(status) or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extensions,
    }
    return func.HttpResponse(
        json.dumps(body), status_code=status, headers=headers, mimetype=PROBLEM_JSON
    )


def _log(status: int, error: Exception) -> None:
    if status == 500:
        log.exception("unhandled error", exc_info=error)
    elif status >= 500:
        log.warning("answering %d: %s", status, error)
