"""HTTP: the reference learner page, served by the app itself, and development sign-in.

The page (``GET /api/app``) and its files (``GET /api/app/{file}``) are not part of the JSON API,
so they are registered with ``bp.route`` and stay out of the OpenAPI document. The development
token endpoint is an API operation, documented like the others, and answers ``404`` whenever
development tokens are off (as they are in production).
"""

import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import azure.functions as func
from pydantic import StringConstraints

from adapters.notifications import socket_origin
from domain.base import ApiModel, DocumentModel, utcnow
from domain.errors import NotFound
from functions.api import api
from functions.bootstrap import Services
from functions.http import etag_matches, json_response, public, read_json
from functions.problems import ProblemDetails

bp = func.Blueprint()

WEB_DIR = Path(__file__).with_name("web")
# The only files served, with their types: a name not listed here is never looked up on disk.
FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "allowances.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "dom.js": "text/javascript; charset=utf-8",
    "edit.js": "text/javascript; charset=utf-8",
    "lesson.js": "text/javascript; charset=utf-8",
    "live.js": "text/javascript; charset=utf-8",
    "markdown.js": "text/javascript; charset=utf-8",
    "notify.js": "text/javascript; charset=utf-8",
    "roadmap.js": "text/javascript; charset=utf-8",
    "stats.js": "text/javascript; charset=utf-8",
}
# Mermaid is the one script from elsewhere; model text never becomes markup (see markdown.js).
# Mermaid measures diagram labels with inline styles: without 'unsafe-inline' for styles (not
# scripts) its boxes come out the wrong size. No model text reaches a style either way.
# The one script from elsewhere: Mermaid at its pinned URL (lesson.js checks its SRI hash too).
MERMAID_URL = "https://cdn.jsdelivr.net/npm/mermaid@11.17.2/dist/mermaid.min.js"


def page_policy(socket_origin: str | None) -> str:
    """The page's Content-Security-Policy; it may connect to the app and, when there is one, to
    the Web PubSub service its notifications come from."""
    connect = f"'self' {socket_origin}" if socket_origin else "'self'"
    return (
        f"default-src 'self'; script-src 'self' {MERMAID_URL}; "
        "style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data:; connect-src {connect}; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )


CSP = page_policy(None)  # the policy without Web PubSub
COMMON_HEADERS = {
    "Cache-Control": "no-cache",  # revalidate every time: the names carry no content hash
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
DEV_TOKEN_LIFETIME = timedelta(hours=12)


def _read(name: str) -> tuple[bytes, str]:
    # Read at every request (a few kilobytes): an edited page shows on reload, no restart needed.
    body = (WEB_DIR / name).read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def _serve(req: func.HttpRequest, name: str, policy: str | None = None) -> func.HttpResponse:
    """One allow-listed file, with its type, an ETag and ``304`` to a matching one."""
    body, etag = _read(name)
    headers = {**COMMON_HEADERS, "ETag": etag, "Content-Type": FILES[name]}
    if policy is not None:
        headers["Content-Security-Policy"] = policy
    if etag_matches(req.headers.get("If-None-Match"), etag):
        return func.HttpResponse(status_code=304, headers=headers)
    return func.HttpResponse(body, status_code=200, headers=headers)


@bp.route(route="app", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@public("app")
async def web_app(req: func.HttpRequest, services: Services) -> func.HttpResponse:
    """The learner page (anonymous; it signs in by itself)."""
    return _serve(req, "index.html", page_policy(socket_origin(services.settings)))


@bp.route(route="app/{file}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@public("app/{file}")
async def web_file(req: func.HttpRequest, services: Services) -> func.HttpResponse:
    """A script or style sheet of the page; anything not on the allow-list is not found."""
    name = str(req.route_params.get("file", ""))
    if name not in FILES or name == "index.html":
        raise NotFound("file", name)
    return _serve(req, name)


class DevTokenRequest(ApiModel):
    """The body of ``POST /api/dev/token``: who to sign in as."""

    user_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._@-]{1,64}$")]


class DevToken(DocumentModel):
    """A development bearer token and when it expires."""

    token: str
    expires_at: datetime


@api(
    bp,
    "dev/token",
    "POST",
    summary="A development token for any user id (404 unless AUTH_DEV_TOKENS is on)",
    request=DevTokenRequest,
    responses={
        200: DevToken,
        400: ProblemDetails,
        404: ProblemDetails,
        413: ProblemDetails,
        422: ProblemDetails,
    },
    secured=False,
)
async def dev_token(req: func.HttpRequest, services: Services) -> func.HttpResponse:
    """Sign in as anyone, for trying the app locally; absent when development tokens are off."""
    if not services.settings.dev_tokens:  # as if the operation did not exist
        raise NotFound("operation", "dev/token")
    body = read_json(req, DevTokenRequest)
    # Taken before the token is signed, so the token never expires before this says.
    expires_at = (utcnow() + DEV_TOKEN_LIFETIME).replace(microsecond=0)
    token = services.verifier.issue(body.user_id, lifetime=DEV_TOKEN_LIFETIME)
    return json_response(
        DevToken(token=token, expires_at=expires_at), 200, {"Cache-Control": "no-store"}
    )
