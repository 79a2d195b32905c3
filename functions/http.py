"""HTTP plumbing shared by the HTTP triggers: auth, JSON in and out, the deadline, CORS, and
every error turned into an RFC 9457 problem (``functions/problems.py``)."""

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import azure.functions as func
from pydantic import BaseModel, ValidationError

from adapters.settings import Settings
from domain.errors import (
    InvalidRequest,
    MalformedRequest,
    NotFound,
    RequestTooLarge,
    StorageUnavailable,
)
from domain.roadmap_edits import Precondition
from domain.telemetry import SpanKind
from functions.bootstrap import Services, current_services
from functions.problems import problem_response

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
MAX_BODY_BYTES = 64 * 1024
TRACE_HEADERS = ("traceparent", "tracestate")
# Ids we issue are UUIDs; anything else cannot name a resource, so it is not looked up.
_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


@dataclass(frozen=True)
class Caller:
    """The authenticated user and the services to act with."""

    user_id: str
    services: Services


def json_response(
    body: BaseModel | Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> func.HttpResponse:
    """A JSON response; models are written with their camelCase aliases."""
    text = body.model_dump_json() if isinstance(body, BaseModel) else json.dumps(body)
    return func.HttpResponse(
        text, status_code=status, headers=dict(headers or {}), mimetype="application/json"
    )


def read_json(req: func.HttpRequest, model: type[M], *, optional: bool = False) -> M:
    """Validate the request body as ``model``; raise an error naming what is wrong."""
    raw = req.get_body() or b""
    if len(raw) > MAX_BODY_BYTES:
        raise RequestTooLarge(f"The limit is {MAX_BODY_BYTES} bytes.")
    if optional and not raw.strip():
        raw = b"{}"
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurd nesting
        raise MalformedRequest("The request body is not valid JSON.") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidRequest(
            "The request body does not match the expected shape.", _field_errors(error, "body")
        ) from None


def read_query(req: func.HttpRequest, model: type[M]) -> M:
    """Validate the query string as ``model``; ``InvalidRequest`` naming each bad parameter."""
    try:
        return model.model_validate(dict(req.params))
    except ValidationError as error:
        raise InvalidRequest(
            "The query parameters are not valid.", _field_errors(error, "query")
        ) from None


def _field_errors(error: ValidationError, whole: str) -> list[dict[str, str]]:
    """``{field, message}`` for each problem. An unknown field is named by where it was, not by
    its name: the name is the caller's input, and an error answer echoes no input."""
    found = []
    for item in error.errors(include_url=False, include_input=False):
        path = [str(part) for part in item["loc"]]
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            path, message = path[:-1], "unknown fields are not allowed here"
        found.append({"field": ".".join(path) or whole, "message": message})
    return found


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 ``If-None-Match``: ``*`` or any listed tag, weak or strong, equals ``etag``."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


def if_match(req: func.HttpRequest) -> Precondition | None:
    """RFC 9110 ``If-Match`` as a precondition: ``*`` or the listed tags, of which only strong
    ones can match (weak tags never do); ``None`` when the request has none."""
    header = (req.headers.get("If-Match") or "").strip()
    if not header:
        return None
    tags = [tag.strip() for tag in header.split(",")]
    strong = frozenset(tag for tag in tags if tag.startswith('"') and tag.endswith('"'))
    return Precondition(tags=strong, any="*" in tags)


def resource_id(req: func.HttpRequest, name: str, kind: str) -> str:
    """A route parameter that names a resource; a malformed one is simply not found."""
    value = str(req.route_params.get(name, ""))
    if not _ID.fullmatch(value):
        raise NotFound(kind, value)
    return value


Handler = Callable[[func.HttpRequest, Caller], Awaitable[func.HttpResponse]]
PublicHandler = Callable[[func.HttpRequest, Services], Awaitable[func.HttpResponse]]


Endpoint = Callable[[func.HttpRequest], Awaitable[func.HttpResponse]]


def authenticated(route: str) -> Callable[[Handler], Endpoint]:
    """Run the handler (of ``route``) for the bearer token's user, mapping errors to answers."""

    def wrap(handler: Handler) -> Endpoint:
        async def run(req: func.HttpRequest, services: Services) -> func.HttpResponse:
            user_id = await services.verifier.user_id(req.headers.get("Authorization"))
            return await handler(req, Caller(user_id=user_id, services=services))

        return _endpoint(run, handler, route)

    return wrap


def public(route: str) -> Callable[[PublicHandler], Endpoint]:
    """Run the handler (of ``route``) without authentication, mapping errors to answers."""
    return lambda handler: _endpoint(handler, handler, route)


def _endpoint(
    run: PublicHandler, original: Callable[..., Any], route: str
) -> Callable[[func.HttpRequest], Awaitable[func.HttpResponse]]:
    # A problem's ``instance`` is the route template, never the path as sent: ids in it are
    # the caller's input, and an error answer must not echo input.
    instance = f"/api/{route}"

    async def endpoint(req: func.HttpRequest) -> func.HttpResponse:
        services = current_services()
        with services.telemetry.span(
            f"{req.method} {original.__name__}",
            {"http.request.method": req.method, "http.route": original.__name__},
            kind=SpanKind.SERVER,
            parent=_trace_context(req),
        ) as span:
            response = await _answer(req, services, run, instance)
            span.set({"http.response.status_code": response.status_code})
        add_cors(response, req.headers.get("Origin"), services.settings)
        return response

    # The Functions indexer reads the parameters of the function it is given: keep only ``req``.
    endpoint.__name__ = original.__name__
    endpoint.__qualname__ = original.__qualname__
    endpoint.__doc__ = original.__doc__
    endpoint.__module__ = original.__module__
    return endpoint


async def _answer(
    req: func.HttpRequest, services: Services, run: PublicHandler, instance: str
) -> func.HttpResponse:
    """The handler's answer within the deadline, or the problem its error maps to."""
    try:
        async with asyncio.timeout(services.settings.http_deadline_seconds):
            return await run(req, services)
    except TimeoutError:  # never hang: a slow dependency is a 503 the client can retry
        return problem_response(StorageUnavailable("the request ran out of time"), instance)
    except Exception as error:  # every error becomes a problem response
        return problem_response(error, instance)


def _trace_context(req: func.HttpRequest) -> dict[str, str]:
    """The caller's W3C trace context, if it sent one, so this request joins its trace."""
    return {name: req.headers[name] for name in TRACE_HEADERS if req.headers.get(name)}


def _allowed_origins(settings: Settings) -> set[str]:
    return {o.strip().rstrip("/") for o in settings.cors_allowed_origins.split(",") if o.strip()}


def cors_headers(origin: str | None, settings: Settings) -> dict[str, str]:
    """The CORS grant for ``origin``: only for configured origins.

    No ``Allow-Credentials``: the API takes bearer tokens in a header, never cookies, so a
    browser has no credentials to send along.
    """
    if not origin or origin.rstrip("/") not in _allowed_origins(settings):
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        # RateLimit-Policy and RateLimit: what is left of the allowances (functions/allowances.py).
        "Access-Control-Expose-Headers": "ETag, Location, Retry-After, RateLimit-Policy, RateLimit",
    }


def add_cors(response: func.HttpResponse, origin: str | None, settings: Settings) -> None:
    """Add the grant, and ``Vary: Origin`` whenever an answer depends on the caller's origin.

    With origins configured every answer does (granted or not), so caches must keep them apart.
    """
    for name, value in cors_headers(origin, settings).items():
        response.headers[name] = value
    if _allowed_origins(settings):
        vary = [v.strip() for v in response.headers.get("Vary", "").split(",") if v.strip()]
        if "origin" not in {v.lower() for v in vary}:
            response.headers["Vary"] = ", ".join([*vary, "Origin"])
