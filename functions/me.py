"""HTTP: the learner's own progress at a glance (``GET /api/me/stats``) and what is left of
their allowances (``GET /api/me/allowances``)."""

from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

import azure.functions as func
from pydantic import AfterValidator, Field

from domain.allowances import AllowanceList
from domain.base import ApiModel
from domain.stats import LearnerStats
from functions.allowances import RATE_LIMIT_FIELDS, rate_limit_headers
from functions.api import api
from functions.http import Caller, json_response, read_query
from functions.problems import ProblemDetails as Problem

bp = func.Blueprint()

# What an IANA name looks like; the installed database then decides (and "localtime", the
# server's own zone, is no learner's).
_ZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"
_SERVERS_OWN = frozenset({"localtime"})


@cache
def _known_zones() -> frozenset[str]:
    """The zones of the installed tz database (read once per process)."""
    return frozenset(available_timezones()) - _SERVERS_OWN


def _known(name: str) -> str:
    if name not in _known_zones():
        raise ValueError("not a time zone of the IANA database, such as Europe/Berlin")
    return name


class StatsQuery(ApiModel):
    """Query parameters of ``GET /api/me/stats``."""

    tz: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            pattern=_ZONE_PATTERN,
            description="The learner's IANA time zone (UTC if left out); days are counted in it",
            examples=["Europe/Berlin"],
        ),
        AfterValidator(_known),
    ] = "UTC"


@api(
    bp,
    "me/stats",
    "GET",
    summary="The learner's streaks, minutes this week, completions and the lesson to continue with",
    responses={200: LearnerStats, 422: Problem},
    query=StatsQuery,
)
async def get_my_stats(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Progress at a glance, with days counted in ``tz`` (UTC when not given)."""
    query = read_query(req, StatsQuery)
    return json_response(await caller.services.stats.stats(caller.user_id, ZoneInfo(query.tz)))


@api(
    bp,
    "me/allowances",
    "GET",
    summary="What is left of the learner's lesson and roadmap allowances, and when each resets",
    responses={200: AllowanceList},
    headers={200: RATE_LIMIT_FIELDS},
)
async def get_my_allowances(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """Each allowance: its limit, what is left, its window and when that ends (spends nothing)."""
    if caller.services.allowances is None:
        return json_response(AllowanceList(allowances=[]))
    listed = await caller.services.allowances.listing(caller.user_id)
    return json_response(listed, headers=rate_limit_headers(listed.allowances))
