"""The shared lesson cache in Cosmos DB: one item per cache key, for a limited time.

Each item carries a ``ttl`` so Cosmos DB deletes it when it expires, and an ``expiresAt`` that
reads check as well (the local emulator does not expire items). The container does not index
``/content/*`` or ``/sources/*`` (infra/app/database.bicep): items are only ever point-read.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from azure.cosmos.aio import ContainerProxy
from pydantic import ValidationError

from adapters.cosmos import storage_errors
from domain.base import utcnow
from domain.errors import NotFound
from domain.lesson_cache import CachedLesson

log = logging.getLogger(__name__)


class CosmosLessonCache:
    """The ``lesson-cache`` container (a ``LessonCache``), partitioned by its own id, the key."""

    def __init__(
        self,
        container: ContainerProxy,
        ttl_seconds: int,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """``ttl_seconds``: how long an entry may be reused (``LESSON_CACHE_TTL_SECONDS``)."""
        self._container = container
        self._ttl = ttl_seconds
        self._clock = clock

    async def get(self, key: str) -> CachedLesson | None:
        """The entry under ``key`` (a ``cache_key`` digest), unless absent, expired or unreadable.

        Raises ``StorageUnavailable`` when Cosmos DB cannot answer in time.
        """
        try:
            with storage_errors("lesson cache", key):
                item = await self._container.read_item(key, partition_key=key)
        except NotFound:
            return None
        if datetime.fromisoformat(item["expiresAt"]) <= self._clock():
            return None
        try:
            return CachedLesson.model_validate(item)
        except ValidationError:  # written by an older model of the content: as good as absent
            log.warning("lesson cache entry %s no longer reads as a lesson; ignored", key)
            return None

    async def put(self, key: str, entry: CachedLesson) -> None:
        """Store ``entry`` under ``key`` for the configured time, replacing any entry there."""
        expires = self._clock() + timedelta(seconds=self._ttl)
        item = {
            **entry.model_dump(mode="json"),
            "id": key,
            "expiresAt": expires.isoformat(),
            "ttl": self._ttl,
        }
        with storage_errors("lesson cache", key):
            await self._container.upsert_item(item)
