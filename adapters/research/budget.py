"""Shared budgets of the research sources' free quotas, counted atomically in Cosmos DB.

The third-party quotas are per application, not per learner: YouTube's 10,000 daily units are
about 100 searches, Stack Exchange allows 300 requests a day without a key, GitHub's search 10 a
minute without a token. Every worker spends from one counter per source and window (the
``quotas`` container, partition ``research``), so however many learners and instances there
are, the app never asks past these limits; research is cached first, so only new queries spend.
"""

import logging
from collections.abc import Mapping

from azure.cosmos.aio import ContainerProxy

from adapters.quota import CosmosQuota
from domain.errors import QuotaExceeded

log = logging.getLogger(__name__)

PARTITION = "research"
MINUTE, DAY = 60, 86_400
# Requests per minute and per day for each source, under its documented free quota.
DEFAULT_LIMITS: dict[str, tuple[int, int]] = {
    "docs": (60, 20_000),  # MDN's search: no published quota; stay polite
    "stackoverflow": (20, 280),  # 300/day per IP without a key (10,000 with one)
    "github": (8, 5_000),  # search: 10/min unauthenticated, 30 with a token
    "devto": (20, 5_000),  # Forem: rate-limited per IP, no daily figure
    "youtube": (5, 90),  # 10,000 units/day at 100 per search.list
}
KEYED_DAY = {"stackoverflow": 9_500}  # with STACKEXCHANGE_KEY
KEYED_MINUTE = {"github": 25}  # with GITHUB_TOKEN


class CosmosSourceBudget:
    """``SourceBudget`` on the quotas container: a per-minute and a per-day window per source.

    Args:
        container: The ``quotas`` container.
        limits: Source → (requests per minute, requests per day).
    """

    def __init__(self, container: ContainerProxy, limits: Mapping[str, tuple[int, int]]) -> None:
        windows: dict[str, tuple[int, int]] = {}
        for source, (per_minute, per_day) in limits.items():
            windows[f"{source}:minute"] = (per_minute, MINUTE)
            windows[f"{source}:day"] = (per_day, DAY)
        self._counter = CosmosQuota(container, windows)
        self._sources = set(limits)

    async def spend(self, source: str) -> bool:
        """One request of ``source`` in both windows, or none (``False``) if either is full."""
        if source not in self._sources:
            return True
        try:
            await self._counter.take(PARTITION, f"{source}:minute")
        except QuotaExceeded:
            return False
        try:
            await self._counter.take(PARTITION, f"{source}:day")
        except QuotaExceeded:
            await self._counter.refund(PARTITION, f"{source}:minute")
            return False
        return True


def limits_for(keys: Mapping[str, bool]) -> dict[str, tuple[int, int]]:
    """The default limits, raised where a key or token buys a larger quota."""
    limits = dict(DEFAULT_LIMITS)
    for source, per_day in KEYED_DAY.items():
        if keys.get(source):
            limits[source] = (limits[source][0], per_day)
    for source, per_minute in KEYED_MINUTE.items():
        if keys.get(source):
            limits[source] = (per_minute, limits[source][1])
    return limits
