"""The learner's own actions on lessons: reading modules, marking progress, batch requests."""

import asyncio
import logging

from domain.base import utcnow
from domain.errors import NotFound, QuotaExceeded, SkillSyncError
from domain.lesson import GenerationStatus, Lesson
from domain.lesson_requests import LessonRequests, wants_queue
from domain.ports import LessonRepository, ProgressRepository, RoadmapRepository
from domain.progress import LearnerProgress, ProgressUpdate
from domain.views import LessonSummary, LessonView, ModuleLessons, ProgressView

log = logging.getLogger(__name__)


class LearnerService:
    """Lessons as one learner sees and uses them."""

    def __init__(
        self,
        lessons: LessonRepository,
        progress: ProgressRepository,
        generation: LessonRequests,
        *,
        prefetch_on_view: bool,
        roadmaps: RoadmapRepository | None = None,
    ) -> None:
        """``prefetch_on_view``: opening a lesson queues the next one of its module. With
        ``roadmaps``, a module's lessons come in the order its roadmap keeps (the record of
        order, which edits change), else in their own ``order``."""
        self._lessons = lessons
        self._roadmaps = roadmaps
        self._progress = progress
        self._generation = generation
        self._prefetch = prefetch_on_view

    async def lesson(self, user_id: str, lesson_id: str) -> tuple[LessonView, str]:
        """One lesson with the learner's marks, and a version tag that changes with either."""
        lesson, marks = await asyncio.gather(
            self._lessons.get(user_id, lesson_id), self._progress.get(user_id, lesson_id)
        )
        view = LessonView.of(lesson, marks)
        return view, f"{lesson.version}|{view.viewed_at}|{view.completed_at}"

    async def module(self, user_id: str, module_id: str) -> ModuleLessons:
        """A module's lessons in order, with the learner's marks; ``NotFound`` if none."""
        lessons = await self._module_lessons(user_id, module_id)
        marks = {m.lesson_id: m for m in await self._marks(user_id, lessons[0].roadmap_id)}
        return ModuleLessons(
            module_id=module_id,
            lessons=[LessonSummary.of(lesson).marked(marks.get(lesson.id)) for lesson in lessons],
        )

    async def generate_module(self, user_id: str, module_id: str) -> list[Lesson]:
        """Queue every pending or failed lesson of a module; the ones queued, in order."""
        lessons = await self._module_lessons(user_id, module_id)
        return await self._generation.request_all(user_id, lessons)

    async def mark(self, user_id: str, lesson_id: str, update: ProgressUpdate) -> ProgressView:
        """Record the learner's marks; opening a lesson prefetches the next one."""
        lesson = await self._lessons.get(user_id, lesson_id)
        progress = await self._progress.get(user_id, lesson_id) or LearnerProgress.start(lesson)
        progress.mark(viewed=update.viewed, completed=update.completed, now=utcnow())
        await self._progress.put(progress)
        opened = update.viewed or update.completed  # finishing a lesson means having opened it
        prefetched = await self._prefetch_after(lesson) if opened else None
        return ProgressView(
            lesson_id=lesson_id,
            viewed_at=progress.viewed_at,
            completed_at=progress.completed_at,
            prefetched_lesson_id=prefetched,
        )

    async def _prefetch_after(self, lesson: Lesson) -> str | None:
        if not self._prefetch:
            return None
        try:
            siblings = await self._module_lessons(lesson.user_id, lesson.module_id)
            ids = [sibling.id for sibling in siblings]
            following = siblings[ids.index(lesson.id) + 1 :] if lesson.id in ids else []
            if not following or not wants_queue(following[0]):
                return None
            queued = await self._generation.request(lesson.user_id, following[0].id)
        except QuotaExceeded:
            return None  # prefetch is a courtesy: it never spends past the allowance
        except SkillSyncError as error:
            log.warning("prefetch after lesson %s failed: %s", lesson.id, error)
            return None
        return queued.id if queued.status is GenerationStatus.QUEUED else None

    async def _module_lessons(self, user_id: str, module_id: str) -> list[Lesson]:
        lessons = sorted(
            await self._lessons.list_for_module(user_id, module_id), key=lambda lesson: lesson.order
        )
        if lessons and self._roadmaps is not None:
            lessons = await self._in_roadmap_order(user_id, module_id, lessons)
        if not lessons:
            raise NotFound("module", module_id)
        return lessons

    async def _in_roadmap_order(
        self, user_id: str, module_id: str, lessons: list[Lesson]
    ) -> list[Lesson]:
        """The lessons the roadmap names for the module, numbered by their place in it."""
        assert self._roadmaps is not None
        roadmap = await self._roadmaps.get(user_id, lessons[0].roadmap_id)
        named = next((m.lesson_ids for m in roadmap.modules if m.id == module_id), [])
        by_id = {lesson.id: lesson for lesson in lessons}
        ordered = [by_id[i] for i in named if i in by_id]
        for place, lesson in enumerate(ordered, start=1):
            lesson.order = place
        return ordered

    async def _marks(self, user_id: str, roadmap_id: str) -> list[LearnerProgress]:
        return await self._progress.for_roadmap(user_id, roadmap_id)
