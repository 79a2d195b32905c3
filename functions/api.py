"""One declaration per HTTP operation: its route and methods for the Functions host, and its
request and response models for the OpenAPI document (``GET /api/openapi.json``).

    @api(bp, "lessons/{lessonId}", "GET", summary="…", responses={200: LessonView})
    async def get_lesson(req, caller): …

registers the function with the blueprint (so the host, Core Tools or devhost, routes to it)
and records the operation, so the document can never disagree with what is served.
"""

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from functions.allowances import RATE_LIMIT_FIELDS
from functions.allowances import metered as metered_handler
from functions.http import Caller, Endpoint, Handler, authenticated, public
from functions.problems import ProblemDetails

# Statuses every authenticated operation may answer, besides its own.
COMMON = {401: "No valid bearer token", 503: "A backing service is busy; retry after Retry-After"}
DESCRIPTIONS = {
    200: "OK",
    201: "Created",
    202: "Accepted: being written; poll the lesson after Retry-After",
    304: "Not modified since the ETag in If-None-Match",
    400: "Malformed JSON",
    404: "No such resource for this user",
    409: "The resource is not in a state that allows this",
    412: "The roadmap changed since the ETag in If-Match: read it again",
    413: "Body larger than 64 KiB",
    422: "A field is invalid; `errors` names each one",
    428: "If-Match is required: the roadmap's ETag, as GET answered it",
    429: "Allowance used up; retry after Retry-After",
    502: "The writing service did not give a usable answer",
}


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says about one route and method."""

    name: str
    route: str
    method: str
    summary: str
    request: type[BaseModel] | None
    responses: Mapping[int, type[BaseModel] | None]
    secured: bool
    headers: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    body_required: bool = True
    links: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    query: type[BaseModel] | None = None
    metered: bool = False  # answers carry the allowance fields (``functions/allowances.py``)
    # Header fields the request must carry (an edit's If-Match), documented as parameters.
    required_headers: tuple[str, ...] = ()


OPERATIONS: list[Operation] = []
# What the header fields that need saying mean (the rest are HTTP's own).
HEADER_DESCRIPTIONS = {
    "RateLimit-Policy": (
        'Each allowance, its quota q per window w seconds: "lessons";q=30;w=3600, '
        '"roadmaps";q=5;w=86400 (draft-ietf-httpapi-ratelimit-headers)'
    ),
    "RateLimit": (
        "What is left of each allowance (r) and the seconds until its window ends (t): "
        '"lessons";r=17;t=1800, "roadmaps";r=4;t=52000'
    ),
}


def api(
    bp: func.Blueprint,
    route: str,
    method: str,
    *,
    summary: str,
    responses: Mapping[int, type[BaseModel] | None],
    request: type[BaseModel] | None = None,
    secured: bool = True,
    headers: Mapping[int, tuple[str, ...]] | None = None,
    body_required: bool = True,
    links: Mapping[int, Mapping[str, Any]] | None = None,
    query: type[BaseModel] | None = None,
    metered: bool = False,
    required_headers: tuple[str, ...] = (),
) -> Callable[[Callable[..., Awaitable[func.HttpResponse]]], Endpoint]:
    """Register an HTTP function and document it (see the module docstring).

    ``metered``: the operation spends or may spend a learner's allowance, so its answers and
    its ``429`` carry ``RateLimit-Policy`` and ``RateLimit`` (``functions/allowances.py``).
    """

    def register(handler: Callable[..., Awaitable[func.HttpResponse]]) -> Endpoint:
        if metered:  # allowances are a signed-in learner's; the instance as http.py names it
            assert secured, "only an authenticated operation can spend an allowance"
            handler = metered_handler(handler, f"/api/{route}")
        endpoint = authenticated(route)(handler) if secured else public(route)(handler)
        OPERATIONS.append(
            Operation(
                handler.__name__,
                route,
                method,
                summary,
                request,
                responses,
                secured,
                dict(headers or {}),
                body_required,
                dict(links or {}),
                query,
                metered,
                required_headers,
            )
        )
        decorated: Endpoint = bp.route(
            route=route, methods=[method], auth_level=func.AuthLevel.ANONYMOUS
        )(endpoint)
        return decorated

    return register


def _parameters(route: str, query: type[BaseModel] | None = None) -> list[dict[str, Any]]:
    path = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,64}$"},
        }
        for name in re.findall(r"\{(\w+)\}", route)
    ]
    return path + _query_parameters(query)


def _header_parameters(op: Operation) -> list[dict[str, Any]]:
    """One required ``in: header`` parameter per header field the operation needs."""
    return [
        {"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
        for name in op.required_headers
    ]


def _query_parameters(query: type[BaseModel] | None) -> list[dict[str, Any]]:
    """One ``in: query`` parameter per field of the query model, with its JSON schema."""
    if query is None:
        return []
    schema = query.model_json_schema(by_alias=True)
    required = set(schema.get("required", []))
    parameters = []
    for name, field_schema in schema.get("properties", {}).items():
        described = {k: v for k, v in field_schema.items() if k not in ("title", "default")}
        if "anyOf" in described:  # Optional[X]: the parameter is simply left out
            described = next(s for s in described.pop("anyOf") if s.get("type") != "null")
        parameters.append(
            {"name": name, "in": "query", "required": name in required, "schema": described}
        )
    return parameters


def _response(
    status: int,
    ref: dict[str, Any] | None,
    headers: tuple[str, ...],
    links: Mapping[str, Any] | None,
) -> dict[str, Any]:
    described: dict[str, Any] = {"description": DESCRIPTIONS.get(status) or COMMON.get(status, "")}
    if links:
        described["links"] = dict(links)
    if ref is not None:
        problem = ref.get("$ref", "").endswith("/ProblemDetails")
        media = "application/problem+json" if problem else "application/json"
        described["content"] = {media: {"schema": ref}}
    if headers:
        described["headers"] = {
            h: {"schema": {"type": "string"}}
            | ({"description": HEADER_DESCRIPTIONS[h]} if h in HEADER_DESCRIPTIONS else {})
            for h in headers
        }
    return described


def document(route_prefix: str = "api") -> dict[str, Any]:
    """The OpenAPI 3.1 document of every registered operation."""
    models: set[type[BaseModel]] = {ProblemDetails}
    for op in OPERATIONS:
        models.update(m for m in op.responses.values() if m is not None)
        if op.request is not None:
            models.add(op.request)
    refs, schema = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    ref = {model: refs[(model, "validation")] for model in models}
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        statuses: dict[int, type[BaseModel] | None] = dict(op.responses)
        headers = dict(op.headers)
        if op.secured:
            statuses.update({s: ProblemDetails for s in COMMON})
            headers[503] = (*headers.get(503, ()), "Retry-After")
        for status in statuses if op.metered else ():
            if status < 300 or status == 429:
                headers[status] = (*headers.get(status, ()), *RATE_LIMIT_FIELDS)
        item: dict[str, Any] = {
            "operationId": op.name,
            "summary": op.summary,
            "parameters": _parameters(op.route, op.query) + _header_parameters(op),
            "responses": {
                str(s): _response(s, ref[m] if m else None, headers.get(s, ()), op.links.get(s))
                for s, m in sorted(statuses.items())
            },
        }
        if op.request is not None:
            item["requestBody"] = {
                "required": op.body_required,
                "content": {"application/json": {"schema": ref[op.request]}},
            }
        item["security"] = [{"bearer": []}] if op.secured else []
        paths.setdefault(f"/{route_prefix}/{op.route}", {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "SkillSync Lessons API", "version": "1.0.0"},
        "paths": paths,
        "components": {
            "schemas": schema.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


__all__ = ["OPERATIONS", "Caller", "Handler", "Operation", "api", "document"]
