"""HTTP: is the app able to reach its storage and its queue?"""

import asyncio
import logging
from collections.abc import Awaitable

import azure.functions as func
from pydantic import BaseModel

from functions.api import api
from functions.bootstrap import Services
from functions.http import json_response

log = logging.getLogger(__name__)
bp = func.Blueprint()


async def _check(name: str, probe: Awaitable[object], seconds: float) -> str:
    try:
        await asyncio.wait_for(probe, seconds)
    except Exception as error:  # any failure means "not usable now"
        log.warning("health: %s unavailable: %s", name, type(error).__name__)
        return "unavailable"
    return "ok"


class HealthStatus(BaseModel):
    """Whether each backing service answers: ``ok`` or ``unavailable``."""

    cosmos: str
    queue: str


@api(
    bp,
    "health",
    "GET",
    summary="Whether Cosmos DB and the queue answer (no token needed)",
    responses={200: HealthStatus, 503: HealthStatus},
    secured=False,
)
async def health(req: func.HttpRequest, services: Services) -> func.HttpResponse:
    """``200 {"cosmos": "ok", "queue": "ok"}``, or ``503`` naming what is unavailable."""
    timeout = services.settings.health_timeout_seconds
    cosmos, queue = await asyncio.gather(
        _check("cosmos", services.database.read(), timeout),
        _check("queue", services.publisher.ping(), timeout),
    )
    status = 200 if cosmos == queue == "ok" else 503
    return json_response({"cosmos": cosmos, "queue": queue}, status, {"Cache-Control": "no-store"})
