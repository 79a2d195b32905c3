"""A learner's allowances as HTTP header fields, on every answer that spends or could spend one.

``RateLimit-Policy`` names each allowance with its quota and window; ``RateLimit`` says what is
left of each and in how many seconds its window ends. The syntax is that of the IETF draft
"RateLimit header fields for HTTP", draft-ietf-httpapi-ratelimit-headers-11, §3 and §4
(https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/): each field is a
Structured Field List (RFC 9651) of String items, one per policy; a policy item has ``q``, the
quota, and ``w``, the window in seconds; a service limit item has ``r``, the quota still
available, and ``t``, the seconds until the window ends and the quota comes back. One policy per
allowance, named as ``Allowance`` names it:

    RateLimit-Policy: "lessons";q=30;w=3600, "roadmaps";q=5;w=86400
    RateLimit: "lessons";r=17;t=1800, "roadmaps";r=4;t=52000

Two ways in, for an operation that charges an allowance:

- ``api(..., metered=True)`` (``functions/api.py``): its answers and its ``429`` problem carry
  both fields, and the OpenAPI document says so. The usual way.
- ``await allowance_headers(caller)`` inside a handler: the two fields for the caller as they
  stand now, to merge into the answer's headers (``{}`` when they cannot be read).
"""

import asyncio
import functools
import logging
from collections.abc import Sequence

import azure.functions as func

from domain.errors import QuotaExceeded, SkillSyncError
from domain.ports import AllowanceState
from functions.http import Caller, Handler
from functions.problems import problem_response

log = logging.getLogger(__name__)

RATE_LIMIT_FIELDS = ("RateLimit-Policy", "RateLimit")
# The fields are a courtesy: an answer whose work is done never waits long for them.
_READ_SECONDS = 2.0


def rate_limit_headers(states: Sequence[AllowanceState]) -> dict[str, str]:
    """``RateLimit-Policy`` and ``RateLimit`` for ``states``, as read; ``{}`` for none."""
    if not states:
        return {}
    return {
        "RateLimit-Policy": ", ".join(
            f"{_sf_string(s.kind)};q={s.limit};w={s.window_seconds}" for s in states
        ),
        "RateLimit": ", ".join(
            f"{_sf_string(s.kind)};r={s.remaining};t={s.resets_in_seconds}" for s in states
        ),
    }


def _sf_string(value: str) -> str:
    """An RFC 9651 String: in double quotes, with ``\\`` and ``"`` escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def allowance_headers(caller: Caller) -> dict[str, str]:
    """The two fields for ``caller``'s allowances as they stand now: every allowance, read
    after whatever the handler spent. ``{}`` when storage cannot say within two seconds (the
    answer is sent without them: they are a hint, and the request's work is already done)."""
    allowances = caller.services.allowances
    if allowances is None:
        return {}
    try:
        async with asyncio.timeout(_READ_SECONDS):
            states = await allowances.standings(caller.user_id)
    except (SkillSyncError, TimeoutError) as error:
        log.warning("answering without RateLimit fields: %s", error)
        return {}
    return rate_limit_headers(states)


def metered(handler: Handler, instance: str) -> Handler:
    """``handler``, whose answer and ``429`` problem (for ``instance``, the route) carry the
    caller's allowance fields; ``api(..., metered=True)`` applies it."""

    @functools.wraps(handler)
    async def run(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
        try:
            response = await handler(req, caller)
        except QuotaExceeded as error:  # the problem as http.py words it, with the fields
            response = problem_response(error, instance)
        for name, value in (await allowance_headers(caller)).items():
            response.headers[name] = value
        return response

    return run
