"""HTTP: CORS preflight for every route (the answers themselves get CORS headers in http.py)."""

import azure.functions as func

from functions.bootstrap import Services
from functions.http import cors_headers, public

bp = func.Blueprint()

PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": (
        "Authorization, Content-Type, If-None-Match, If-Match, traceparent, tracestate"
    ),
    "Access-Control-Max-Age": "600",
}


@bp.route(route="{*path}", methods=["OPTIONS"], auth_level=func.AuthLevel.ANONYMOUS)
@public("{*path}")
async def cors_preflight(req: func.HttpRequest, services: Services) -> func.HttpResponse:
    """``204``; with the CORS grant only for an allowed ``Origin``."""
    allowed = bool(cors_headers(req.headers.get("Origin"), services.settings))
    # The grant itself (Allow-Origin) and Vary are added to every answer by http.py.
    return func.HttpResponse(status_code=204, headers=PREFLIGHT_HEADERS if allowed else {})
