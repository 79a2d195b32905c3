"""Roadmap and lesson repositories on Cosmos DB (SQL API), one partition per user."""

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from azure.core import MatchConditions
from azure.cosmos.aio import ContainerProxy
from pydantic import TypeAdapter

from adapters.cosmos import storage_errors
from domain.errors import ConcurrencyConflict, NotFound
from domain.lesson import IN_FLIGHT, Lesson, Timestamp
from domain.ports import LessonChanges
from domain.roadmap import Roadmap
from domain.views import LessonSummary

# Cosmos caps concurrent writes by RU/s; a roadmap's skeletons are written this many at a time.
_WRITE_CONCURRENCY = 16

_SUMMARY = (
    'SELECT c.id, c.roadmapId, c.moduleId, c["order"], c.title, c.description, c.objectives, '
    "c.estimatedMinutes, c.generationStatus FROM c "
)
# The partition key is also named in each filter: the scope is explicit in the query itself.
_SUMMARY_QUERY = _SUMMARY + "WHERE c.userId = @userId AND c.roadmapId = @roadmapId"
_STATUS_QUERY = _SUMMARY + "WHERE c.userId = @userId"
_MODULE_QUERY = "SELECT * FROM c WHERE c.userId = @userId AND c.moduleId = @moduleId"


# Lessons written before leases or queuedAt existed count too (the domain then decides).
_STUCK_QUERY = (
    "SELECT * FROM c WHERE "
    "(c.generationStatus = 'generating' AND "
    "(NOT IS_DEFINED(c.lease) OR IS_NULL(c.lease) OR c.lease.expiresAt <= @now)) OR "
    "(c.generationStatus = 'queued' AND "
    "(NOT IS_DEFINED(c.queuedAt) OR IS_NULL(c.queuedAt) OR c.queuedAt < @queuedBefore))"
)
# What a progress report changes: everything else of the lesson stays as stored.
_PROGRESS_FIELDS = ("progress", "lease", "updatedAt")
# A roadmap edit changes a lesson's skeleton only while no writer holds or awaits it.
_NOT_IN_FLIGHT = "FROM c WHERE " + " AND ".join(
    f"c.generationStatus != '{status.value}'" for status in sorted(IN_FLIGHT)
)
_SKELETON_FIELDS = {
    "title": "title",
    "description": "description",
    "order": "order",
    "module_title": "moduleTitle",
}
_TIMESTAMP: TypeAdapter[Timestamp] = TypeAdapter(Timestamp)


def _timestamp(moment: datetime) -> str:
    """A time written exactly as the documents store it, so strings compare as times."""
    return str(_TIMESTAMP.dump_python(moment, mode="json"))


def _document(lesson: Lesson) -> dict[str, Any]:
    return lesson.model_dump(mode="json")


class CosmosLessonRepository:
    """Lessons in the ``lessons`` container, partitioned by ``/userId``."""

    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    async def get(self, user_id: str, lesson_id: str) -> Lesson:
        """Point-read one lesson; ``NotFound`` when absent or in another user's partition."""
        with storage_errors("lesson", lesson_id):
            item = await self._container.read_item(lesson_id, partition_key=user_id)
        return _lesson(item)

    async def add_all(self, lessons: Sequence[Lesson]) -> None:
        """Create the lessons, a bounded number at a time."""
        gate = asyncio.Semaphore(_WRITE_CONCURRENCY)

        async def create(lesson: Lesson) -> None:
            async with gate:
                with storage_errors("lesson", lesson.id):
                    item = await self._container.create_item(_document(lesson))
                lesson.version = item["_etag"]

        await asyncio.gather(*(create(lesson) for lesson in lessons))

    async def save(self, lesson: Lesson) -> None:
        """Replace the lesson if it is unchanged since ``lesson.version``; record the new etag."""
        with storage_errors("lesson", lesson.id):
            item = await self._container.replace_item(
                lesson.id,
                _document(lesson),
                etag=lesson.version,
                match_condition=MatchConditions.IfNotModified,
            )
        lesson.version = item["_etag"]

    async def report_progress(self, lesson: Lesson) -> None:
        """Patch only ``progress``, ``lease`` and ``updatedAt``, if unchanged since ``version``.

        A partial update sends a few hundred bytes instead of the whole document (which may hold
        the previous content, on a forced rewrite). The etag condition makes a lost claim raise
        ``ConcurrencyConflict`` exactly as ``save`` would.
        """
        document = _document(lesson)
        operations = [
            {"op": "set", "path": f"/{field}", "value": document[field]}
            for field in _PROGRESS_FIELDS
        ]
        with storage_errors("lesson", lesson.id):
            item = await self._container.patch_item(
                lesson.id,
                partition_key=lesson.user_id,
                patch_operations=operations,
                etag=lesson.version,
                match_condition=MatchConditions.IfNotModified,
            )
        lesson.version = item["_etag"]

    async def revise(self, user_id: str, lesson_id: str, changes: LessonChanges) -> bool:
        """Patch the fields ``changes`` gives, on the condition that the lesson is not in flight
        (a filter predicate, checked by Cosmos DB in the same write); False when it is."""
        operations = [
            {"op": "set", "path": f"/{path}", "value": getattr(changes, name)}
            for name, path in _SKELETON_FIELDS.items()
            if getattr(changes, name) is not None
        ]
        if not operations:
            return True
        try:
            with storage_errors("lesson", lesson_id):
                await self._container.patch_item(
                    lesson_id,
                    partition_key=user_id,
                    patch_operations=operations,
                    filter_predicate=_NOT_IN_FLIGHT,
                )
        except ConcurrencyConflict:  # 412: the predicate failed, a writer has it
            return False
        return True

    async def delete(self, user_id: str, lesson_id: str) -> None:
        """Delete the lesson document; one already gone is fine."""
        try:
            with storage_errors("lesson", lesson_id):
                await self._container.delete_item(lesson_id, partition_key=user_id)
        except NotFound:
            pass

    async def list_for_roadmap(self, user_id: str, roadmap_id: str) -> list[LessonSummary]:
        """Summaries of a roadmap's lessons: one single-partition query."""
        with storage_errors("roadmap", roadmap_id):
            items = self._container.query_items(
                _SUMMARY_QUERY,
                parameters=[
                    {"name": "@userId", "value": user_id},
                    {"name": "@roadmapId", "value": roadmap_id},
                ],
                partition_key=user_id,
            )
            return [LessonSummary.model_validate(item) async for item in items]

    async def list_for_module(self, user_id: str, module_id: str) -> list[Lesson]:
        """A module's lessons: one single-partition query."""
        with storage_errors("module", module_id):
            items = self._container.query_items(
                _MODULE_QUERY,
                parameters=[
                    {"name": "@userId", "value": user_id},
                    {"name": "@moduleId", "value": module_id},
                ],
                partition_key=user_id,
            )
            return [_lesson(item) async for item in items]

    async def statuses(self, user_id: str) -> list[LessonSummary]:
        """Summaries of all the learner's lessons: one single-partition query."""
        with storage_errors("lessons", user_id):
            items = self._container.query_items(
                _STATUS_QUERY,
                parameters=[{"name": "@userId", "value": user_id}],
                partition_key=user_id,
            )
            return [LessonSummary.model_validate(item) async for item in items]

    async def find_stuck(self, now: datetime, queued_before: datetime, limit: int) -> list[Lesson]:
        """A cross-partition query for the sweeper (a timer, never a learner's request)."""
        with storage_errors("lessons", "stuck"):
            items = self._container.query_items(
                _STUCK_QUERY,
                parameters=[
                    {"name": "@now", "value": _timestamp(now)},
                    {"name": "@queuedBefore", "value": _timestamp(queued_before)},
                ],
                max_item_count=limit,  # no partition key: the async client queries them all
            )
            found = []
            async for item in items:
                found.append(_lesson(item))
                if len(found) >= limit:
                    break
            return found


class CosmosRoadmapRepository:
    """Roadmaps in the ``roadmaps`` container, partitioned by ``/userId``."""

    def __init__(self, container: ContainerProxy) -> None:
        self._container = container

    async def add(self, roadmap: Roadmap) -> None:
        """Create the roadmap document; record its etag."""
        with storage_errors("roadmap", roadmap.id):
            item = await self._container.create_item(roadmap.model_dump(mode="json"))
        roadmap.version = item["_etag"]

    async def replace(self, roadmap: Roadmap) -> None:
        """Replace the roadmap if it is unchanged since ``roadmap.version`` (its etag); record
        the new etag. A replace, never an upsert: a deleted roadmap is not created again."""
        with storage_errors("roadmap", roadmap.id):
            item = await self._container.replace_item(
                roadmap.id,
                roadmap.model_dump(mode="json"),
                etag=roadmap.version,
                match_condition=MatchConditions.IfNotModified,
            )
        roadmap.version = item["_etag"]

    async def for_user(
        self, user_id: str, *, offset: int = 0, limit: int | None = None
    ) -> list[Roadmap]:
        """The learner's roadmaps, newest first: one single-partition query, a page of it."""
        query = "SELECT * FROM c WHERE c.userId = @userId ORDER BY c.createdAt DESC"
        parameters: list[dict[str, Any]] = [{"name": "@userId", "value": user_id}]
        if limit is not None:
            query += " OFFSET @offset LIMIT @limit"
            parameters += [
                {"name": "@offset", "value": offset},
                {"name": "@limit", "value": limit},
            ]
        with storage_errors("roadmaps", user_id):
            items = self._container.query_items(query, parameters=parameters, partition_key=user_id)
            return [_roadmap(item) async for item in items]

    async def get(self, user_id: str, roadmap_id: str) -> Roadmap:
        """Point-read one roadmap; ``NotFound`` when absent or in another user's partition."""
        with storage_errors("roadmap", roadmap_id):
            item = await self._container.read_item(roadmap_id, partition_key=user_id)
        return _roadmap(item)


def _roadmap(item: dict[str, Any]) -> Roadmap:
    roadmap = Roadmap.model_validate(item)
    roadmap.version = item["_etag"]
    return roadmap


def _lesson(item: dict[str, Any]) -> Lesson:
    lesson = Lesson.model_validate(item)
    lesson.version = item["_etag"]
    return lesson
