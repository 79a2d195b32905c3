"""Learner progress on Cosmos DB: the ``progress`` container, one document per lesson."""

from azure.cosmos.aio import ContainerProxy

from adapters.cosmos import storage_errors
from domain.errors import NotFound
from domain.progress import LearnerProgress

# Marks are ISO timestamps, null once cleared: a record with neither counts for nothing.
_MARKED_QUERY = (
    "SELECT * FROM c WHERE c.userId = @userId "
    "AND (IS_STRING(c.viewedAt) OR IS_STRING(c.completedAt))"
)


class CosmosProgressRepository:
    """Progress documents (id = lesson id) in the learner's partition (``/userId``)."""

    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    async def for_roadmap(self, user_id: str, roadmap_id: str | None) -> list[LearnerProgress]:
        """Progress on one roadmap's lessons, or on all of them: one single-partition query."""
        query = "SELECT * FROM c WHERE c.userId = @userId"
        parameters: list[dict[str, object]] = [{"name": "@userId", "value": user_id}]
        if roadmap_id is not None:
            query += " AND c.roadmapId = @roadmapId"
            parameters.append({"name": "@roadmapId", "value": roadmap_id})
        with storage_errors("progress", user_id):
            items = self._container.query_items(query, parameters=parameters, partition_key=user_id)
            return [_progress(item) async for item in items]

    async def marked(self, user_id: str) -> list[LearnerProgress]:
        """Progress that carries a mark, on every roadmap: one single-partition query."""
        with storage_errors("progress", user_id):
            items = self._container.query_items(
                _MARKED_QUERY,
                parameters=[{"name": "@userId", "value": user_id}],
                partition_key=user_id,
            )
            return [_progress(item) async for item in items]

    async def get(self, user_id: str, lesson_id: str) -> LearnerProgress | None:
        """Progress on one lesson: a point read."""
        try:
            with storage_errors("progress", lesson_id):
                item = await self._container.read_item(lesson_id, partition_key=user_id)
        except NotFound:
            return None
        return _progress(item)

    async def put(self, progress: LearnerProgress) -> None:
        """Write progress on one lesson (only its learner writes it: last write wins)."""
        document = {"id": progress.lesson_id, **progress.model_dump(mode="json")}
        with storage_errors("progress", progress.lesson_id):
            await self._container.upsert_item(document)

    async def delete(self, user_id: str, lesson_id: str) -> None:
        """Delete the progress on one lesson; none at all is fine."""
        try:
            with storage_errors("progress", lesson_id):
                await self._container.delete_item(lesson_id, partition_key=user_id)
        except NotFound:
            pass


def _progress(item: dict[str, object]) -> LearnerProgress:
    return LearnerProgress.model_validate(item)
