"""HTTP: is the app able to reach its storage and its queue, and which providers can write?"""

import asyncio
import logging
from collections.abc import Awaitable

import azure.functions as func
from pydantic import BaseModel

from adapters.settings import Settings
from domain.cooldowns import Cooldowns
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
    """Whether each backing service answers (``ok`` or ``unavailable``), and each LLM provider's
    state: ``configured``, ``missing key`` or ``resting`` (after a 429, a refused key, or an
    outage that opened its circuit breaker)."""

    cosmos: str
    queue: str
    providers: dict[str, str]


def provider_states(settings: Settings, cooldowns: Cooldowns) -> dict[str, str]:
    """Each provider of ``LLM_PROVIDERS``, in order, with its state in this worker."""
    _, skipped = settings.llm_chain()
    return {
        name: "missing key"
        if name in skipped
        else "resting"
        if cooldowns.remaining(name) > 0
        else "configured"
        for name in settings.llm_providers.split(",")
    }


@api(
    bp,
    "health",
    "GET",
    summary="Whether Cosmos DB and the queue answer, and which LLM providers are usable",
    responses={200: HealthStatus, 503: HealthStatus},
    secured=False,
)
async def health(req: func.HttpRequest, services: Services) -> func.HttpResponse:
    """``200`` when Cosmos DB and the queue answer, else ``503`` naming what is unavailable."""
    timeout = services.settings.health_timeout_seconds
    names = list(services.probes)
    states = await asyncio.gather(*(_check(n, services.probes[n](), timeout) for n in names))
    body: dict[str, object] = dict(zip(names, states, strict=True))
    body["providers"] = provider_states(services.settings, services.cooldowns)
    status = 200 if all(state == "ok" for state in states) else 503
    return json_response(body, status, {"Cache-Control": "no-store"})
