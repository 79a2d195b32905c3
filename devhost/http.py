"""HTTP triggers served by Starlette: Azure route templates in, ``func.HttpResponse`` out."""

import logging
import re

import azure.functions as func
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from devhost.functions import FunctionSpec
from devhost.invoke import Invoker

log = logging.getLogger("devhost.http")

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
_PARAM = re.compile(r"\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::([^}?]+))?(\??)\}")


def route_paths(prefix: str, template: str) -> list[str]:
    """Starlette paths for an Azure route template (constraints dropped, ``{x?}`` optional)."""
    optional = [m.group(2) for m in _PARAM.finditer(template) if m.group(4)]

    def convert(match: re.Match[str]) -> str:
        catch_all, name, constraint, _ = match.groups()
        if catch_all:
            return f"{{{name}:path}}"
        return f"{{{name}:int}}" if constraint == "int" else f"{{{name}}}"

    full = "/".join(part for part in (prefix.strip("/"), template.strip("/")) if part)
    paths = ["/" + _PARAM.sub(convert, full)]
    if optional:  # also serve the route with the optional parameters left out
        shorter = re.sub(r"/?\{[^}]*\?\}", "", full)
        paths.append("/" + _PARAM.sub(convert, shorter))
    return paths


def _to_starlette(response: func.HttpResponse) -> Response:
    headers = dict(response.headers)
    if not any(name.lower() == "content-type" for name in headers) and response.mimetype:
        charset = f"; charset={response.charset}" if response.charset else ""
        headers["Content-Type"] = f"{response.mimetype}{charset}"
    return Response(content=response.get_body(), status_code=response.status_code, headers=headers)


def _endpoint(spec: FunctionSpec, invoke: Invoker):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        req = func.HttpRequest(
            method=request.method,
            url=str(request.url),
            headers=dict(request.headers),
            params=dict(request.query_params),
            route_params={key: str(value) for key, value in request.path_params.items()},
            body=await request.body(),
        )
        try:
            result = await invoke(spec, req)
        except Exception:
            log.exception("function %s failed", spec.name)
            return Response(status_code=500)
        if not isinstance(result, func.HttpResponse):
            log.error("function %s returned %r, not an HttpResponse", spec.name, type(result))
            return Response(status_code=500)
        return _to_starlette(result)

    return endpoint


def build_http_app(specs: list[FunctionSpec], invoke: Invoker, route_prefix: str) -> Starlette:
    """A Starlette app with one route per HTTP-triggered function."""
    routes = []
    for spec in specs:
        methods = [str(m).upper() for m in spec.trigger.get("methods") or ALL_METHODS]
        for path in route_paths(route_prefix, spec.trigger.get("route") or spec.name):
            routes.append(
                Route(path, _endpoint(spec, invoke), methods=methods, name=f"{spec.name}:{path}")
            )
    if any((spec.trigger.get("route") or "").strip("/") == "app" for spec in specs):
        # The local stand-in for the landing page Core Tools shows at `/`: when the app serves
        # a page at the route "app", the site's root leads there.
        target = route_paths(route_prefix, "app")[0]

        async def landing(request: Request) -> Response:
            return RedirectResponse(target, status_code=307)

        routes.append(Route("/", landing, methods=["GET"], name="landing"))
    app = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_found})
    # Azure answers 404 for /api when no function is routed there; Starlette would redirect to
    # /api/ because the catch-all OPTIONS route matches it.
    app.router.redirect_slashes = False
    return app


async def _not_found(request: Request, exc: Exception) -> Response:
    """No function serves this method and path: ``404``, as the Functions host answers.

    Starlette would answer ``405`` when the path matches some route for another method; every
    path matches the catch-all ``OPTIONS`` route, so without this unknown paths were ``405``.
    """
    return Response(status_code=404)
