"""Research findings cached in Cosmos DB by normalised query, for a limited time.

Each item carries a ``ttl`` so Cosmos DB deletes it when it expires, and an ``expiresAt`` that
reads check as well (the local emulator does not expire items).
"""

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from azure.cosmos.aio import ContainerProxy

from adapters.cosmos import storage_errors
from domain.base import utcnow
from domain.errors import NotFound
from domain.research import Finding


class CosmosResearchCache:
    """The ``research-cache`` container, one item per query, partitioned by its own id."""

    def __init__(
        self,
        container: ContainerProxy,
        ttl_seconds: int,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._container = container
        self._ttl = ttl_seconds
        self._clock = clock

    @staticmethod
    def _id(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()[:40]

    async def get(self, key: str) -> list[Finding] | None:
        """The findings cached for ``key``, unless absent or expired."""
        item_id = self._id(key)
        try:
            with storage_errors("research", item_id):
                item = await self._container.read_item(item_id, partition_key=item_id)
        except NotFound:
            return None
        if datetime.fromisoformat(item["expiresAt"]) <= self._clock():
            return None
        return [Finding.model_validate(finding) for finding in item["findings"]]

    async def put(self, key: str, findings: list[Finding]) -> None:
        """Cache ``findings`` for ``key`` for the configured time."""
        item_id = self._id(key)
        expires = self._clock() + timedelta(seconds=self._ttl)
        with storage_errors("research", item_id):
            await self._container.upsert_item(
                {
                    "id": item_id,
                    "query": key,
                    "findings": [finding.model_dump(mode="json") for finding in findings],
                    "expiresAt": expires.isoformat(),
                    "ttl": self._ttl,
                }
            )
