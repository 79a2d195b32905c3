"""Storing one edit of a roadmap: the conditional write that is the edit, and what follows it.

    read roadmap + lesson summaries ─▶ If-Match checked ─▶ change (validated; may plan)
      ─▶ new lessons created ─▶ roadmap replaced if still at the version read (else 412,
         and the new lessons are deleted again)
      ─▶ removed lessons and the learner's marks on them deleted
      ─▶ kept lessons told a new title, module title or place (never one in flight)

The roadmap document is the record: views number modules and lessons by their place in it, and
ignore a lesson it does not name, so a step after the write that fails (storage down) leaves
nothing the learner sees wrong; it is logged, and the next edit puts places right again.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace

from domain.errors import ConcurrencyConflict, EditRefused, PreconditionFailed, SkillSyncError
from domain.lesson import IN_FLIGHT, Lesson
from domain.ports import LessonChanges, LessonRepository, ProgressRepository, RoadmapRepository
from domain.roadmap import Roadmap
from domain.roadmap_edits import Precondition, require, roadmap_etag
from domain.views import LessonSummary, RoadmapView

log = logging.getLogger(__name__)

_CONCURRENCY = 16  # lesson writes at a time, as when a roadmap is created


@dataclass(frozen=True)
class Target:
    """The roadmap an edit is for: its learner, its id, and the version the edit was made
    against (``If-Match``; ``None`` when not sent)."""

    user_id: str
    roadmap_id: str
    precondition: Precondition | None


@dataclass(frozen=True)
class Edited:
    """An edited roadmap as the learner now sees it, its new ETag, and where what the edit
    created can be read (``/api/modules/{id}/lessons`` or ``/api/lessons/{id}``), if anything."""

    view: RoadmapView
    etag: str
    created: str | None = None


@dataclass
class Effects:
    """What an edit does besides changing the roadmap document."""

    added: list[Lesson] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # A change the edit asks of one lesson itself (a new title): it must land.
    renamed: dict[str, LessonChanges] = field(default_factory=dict)
    # A module's new title, which its lessons are written under from now on.
    module_title: tuple[str, str] | None = None
    created: str | None = None


# Changes the roadmap in place (given its lessons' summaries by id) and says what else to do.
Change = Callable[[Roadmap, dict[str, LessonSummary]], Awaitable[Effects]]


def being_written() -> EditRefused:
    """The refusal of a change to a lesson whose writer holds it."""
    return EditRefused("This lesson is being written; change it once it is done.")


class RoadmapWrites:
    """Runs one edit from read to view (see the module docstring)."""

    def __init__(
        self, roadmaps: RoadmapRepository, lessons: LessonRepository, progress: ProgressRepository
    ) -> None:
        self._roadmaps = roadmaps
        self._lessons = lessons
        self._progress = progress

    async def run(self, target: Target, change: Change) -> Edited:
        """Apply ``change`` to the roadmap if its precondition holds; the roadmap as it is now."""
        user_id, roadmap_id = target.user_id, target.roadmap_id
        roadmap, summaries = await asyncio.gather(
            self._roadmaps.get(user_id, roadmap_id),
            self._lessons.list_for_roadmap(user_id, roadmap_id),
        )
        require(target.precondition, roadmap)
        by_id = {summary.id: summary for summary in summaries}
        effects = await change(roadmap, by_id)
        await self._commit(roadmap, effects.added)
        await self._remove(user_id, effects.removed)
        await self._revise(roadmap, by_id, effects)
        return Edited(await self._view(roadmap), roadmap_etag(roadmap), effects.created)

    async def _commit(self, roadmap: Roadmap, added: list[Lesson]) -> None:
        """Lessons first, then the roadmap naming them, if nobody edited it meanwhile."""
        try:
            await self._lessons.add_all(added)
            await self._roadmaps.replace(roadmap)
        except BaseException as error:
            await self._discard(roadmap.user_id, (lesson.id for lesson in added))
            if isinstance(error, ConcurrencyConflict):
                raise PreconditionFailed(
                    "The roadmap was changed by another edit meanwhile: read it again."
                ) from None
            raise

    async def _discard(self, user_id: str, lesson_ids: Iterable[str]) -> None:
        try:
            await self._bounded(self._lessons.delete(user_id, i) for i in lesson_ids)
        except SkillSyncError as error:  # no roadmap names them: nobody sees them
            log.warning("lessons of a failed edit could not be deleted: %s", error)

    async def _remove(self, user_id: str, lesson_ids: list[str]) -> None:
        """Removed lessons and their marks go; a writer on one finds it gone and stores nothing."""
        deletions = [self._lessons.delete(user_id, i) for i in lesson_ids]
        deletions += [self._progress.delete(user_id, i) for i in lesson_ids]
        try:
            await self._bounded(deletions)
        except SkillSyncError as error:  # the roadmap no longer names them: not in any view
            log.warning("removed lessons of roadmap could not all be deleted: %s", error)

    async def _revise(
        self, roadmap: Roadmap, summaries: dict[str, LessonSummary], effects: Effects
    ) -> None:
        """Tell kept lessons what the edit changed about them: the renamed lesson must take
        its new title; the others take their place and module title when not in flight."""
        wanted = dict(effects.renamed)
        for module in roadmap.modules:
            renamed = effects.module_title and effects.module_title[0] == module.id
            for place, lesson_id in enumerate(module.lesson_ids, start=1):
                summary = summaries.get(lesson_id)
                if summary is None or summary.generation_status in IN_FLIGHT:
                    continue
                changes = wanted.get(lesson_id, LessonChanges())
                if summary.order != place:
                    changes = replace(changes, order=place)
                if renamed:
                    changes = replace(changes, module_title=module.title)
                if changes != LessonChanges():
                    wanted[lesson_id] = changes
        user_id = roadmap.user_id
        ids = list(wanted)
        results = await self._bounded(
            (self._lessons.revise(user_id, i, wanted[i]) for i in ids), return_exceptions=True
        )
        for lesson_id, result in zip(ids, results, strict=True):
            if lesson_id in effects.renamed and result is not True:
                raise result if isinstance(result, BaseException) else being_written()
            if isinstance(result, BaseException):
                log.warning("lesson %s keeps its old place for now: %s", lesson_id, result)

    async def _view(self, roadmap: Roadmap) -> RoadmapView:
        lessons, marks = await asyncio.gather(
            self._lessons.list_for_roadmap(roadmap.user_id, roadmap.id),
            self._progress.for_roadmap(roadmap.user_id, roadmap.id),
        )
        return RoadmapView.of(roadmap, lessons, marks)

    @staticmethod
    async def _bounded(
        calls: Iterable[Awaitable[object]], *, return_exceptions: bool = False
    ) -> list[object]:
        """Await ``calls`` a bounded number at a time; their results in order."""
        gate = asyncio.Semaphore(_CONCURRENCY)

        async def one(call: Awaitable[object]) -> object:
            async with gate:
                return await call

        return list(
            await asyncio.gather(*(one(c) for c in calls), return_exceptions=return_exceptions)
        )
