"""Creating and reading roadmaps."""

import asyncio

from domain.errors import QuotaExceeded
from domain.lesson import Lesson
from domain.lesson_requests import LessonRequests, take
from domain.ports import (
    Allowance,
    LessonRepository,
    LlmChain,
    ProgressRepository,
    Quota,
    RoadmapBrief,
    RoadmapRepository,
    TaskKind,
)
from domain.progress import LearnerProgress
from domain.roadmap import CreateRoadmapRequest, RoadmapOutline, build_roadmap
from domain.roadmap_edits import roadmap_etag
from domain.telemetry import NoTelemetry, Telemetry
from domain.views import LessonSummary, RoadmapList, RoadmapView, roadmap_list

LEARNER = "learner"


class RoadmapService:
    """Plans a roadmap, stores its skeletons and queues the first lessons."""

    def __init__(
        self,
        roadmaps: RoadmapRepository,
        lessons: LessonRepository,
        planner: LlmChain,
        generation: LessonRequests,
        *,
        planning_budget: float,
        progress: ProgressRepository | None = None,
        quota: Quota | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._roadmaps = roadmaps
        self._lessons = lessons
        self._planner = planner
        self._generation = generation
        self._planning_budget = planning_budget
        self._progress = progress
        self._quota = quota
        self._telemetry = telemetry or NoTelemetry()

    async def create(self, user_id: str, request: CreateRoadmapRequest) -> RoadmapView:
        """Store a roadmap with ``pending`` lessons; queue the first ``request.prefetch``.

        Spends one of the learner's roadmaps (checked before any planning or writing).
        """
        if self._quota is not None:
            await take(self._quota, self._telemetry, user_id, Allowance.ROADMAPS)
        planning = Planning()
        try:
            return await self._create(user_id, request, planning)
        except Exception as error:
            # Nothing was created. The roadmap is given back only if no provider was paid for
            # an outline: otherwise failing late would be a way to plan for free.
            if self._quota is not None and not planning.paid(error):
                await self._quota.refund(user_id, Allowance.ROADMAPS)
            raise

    async def _create(
        self, user_id: str, request: CreateRoadmapRequest, planning: "Planning"
    ) -> RoadmapView:
        outline, planned_by = await self._plan(request)
        planning.planned_by = planned_by
        roadmap, lessons = build_roadmap(user_id, request, outline, planned_by)
        # Prefetched lessons spend the lesson allowance like any other, as far as it goes.
        granted = await self._prefetch_allowance(user_id, request.prefetch)
        prefetched = lessons[:granted]
        previous = [lesson.status for lesson in prefetched]
        for lesson in prefetched:
            lesson.queue()
            lesson.trace = self._telemetry.carrier()
        queued = 0
        try:
            # Lessons first, the roadmap last: a roadmap is never visible without its lessons.
            await self._lessons.add_all(lessons)
            await self._roadmaps.add(roadmap)
            failed = await self._generation.send(list(zip(prefetched, previous, strict=True)))
            queued = granted - len(failed)
        finally:  # lessons that were not queued are not spent
            await self._generation.refund(user_id, granted - queued)
        return RoadmapView.of(roadmap, [_summary(lesson) for lesson in lessons])

    async def _prefetch_allowance(self, user_id: str, wanted: int) -> int:
        """How many of the first lessons may be queued now: a used-up allowance queues none
        (the roadmap is still created; its lessons wait as ``pending``)."""
        try:
            return await self._generation.charge_up_to(user_id, wanted)
        except QuotaExceeded:
            return 0

    async def get(self, user_id: str, roadmap_id: str) -> RoadmapView:
        """A roadmap with the current status of each lesson and the learner's marks."""
        view, _ = await self.tagged(user_id, roadmap_id)
        return view

    async def tagged(self, user_id: str, roadmap_id: str) -> tuple[RoadmapView, str]:
        """``get``, and the ETag of the roadmap's shape that an edit's ``If-Match`` names."""
        roadmap, lessons, marks = await asyncio.gather(
            self._roadmaps.get(user_id, roadmap_id),
            self._lessons.list_for_roadmap(user_id, roadmap_id),
            self._marks(user_id, roadmap_id),
        )
        return RoadmapView.of(roadmap, lessons, marks), roadmap_etag(roadmap)

    async def overview(
        self, user_id: str, *, offset: int = 0, limit: int = 20
    ) -> tuple[RoadmapList, int | None]:
        """A page of the learner's roadmaps, newest first, with progress counts, and the offset
        of the next page (``None`` on the last)."""
        roadmaps, lessons, marks = await asyncio.gather(
            self._roadmaps.for_user(user_id, offset=offset, limit=limit + 1),
            self._lessons.statuses(user_id),
            self._marks(user_id, None),
        )
        following = offset + limit if len(roadmaps) > limit else None
        return roadmap_list(roadmaps[:limit], lessons, marks), following

    async def _marks(self, user_id: str, roadmap_id: str | None) -> list[LearnerProgress]:
        if self._progress is None:
            return []
        return await self._progress.for_roadmap(user_id, roadmap_id)

    async def _plan(self, request: CreateRoadmapRequest) -> tuple[RoadmapOutline, str]:
        if request.modules is not None:
            return RoadmapOutline(modules=request.modules), LEARNER
        brief = RoadmapBrief(
            goal=request.goal, skill_level=request.skill_level, weekly_hours=request.weekly_hours
        )
        planned = await self._planner.generate(
            TaskKind.OUTLINE, brief, RoadmapOutline, budget=self._planning_budget
        )
        return planned.value, planned.draft.provider


class Planning:
    """Who planned an outline (or a module), to tell whether a failed request cost a provider
    call."""

    FREE = frozenset({LEARNER, "offline"})
    NO_CALL = frozenset({"cooling_down", "no_budget"})  # attempts that sent no request

    def __init__(self) -> None:
        self.planned_by: str | None = None
        self.charged = False  # whether an allowance was spent on it (edits spend it late)

    def paid(self, error: BaseException) -> bool:
        """Whether a network provider was asked for this roadmap's outline."""
        if self.planned_by is not None:
            return self.planned_by not in self.FREE
        attempts = getattr(error, "attempts", None) or []
        return any(
            attempt.provider not in self.FREE and attempt.outcome not in self.NO_CALL
            for attempt in attempts
        )


def _summary(lesson: Lesson) -> LessonSummary:
    return LessonSummary.model_validate(lesson, from_attributes=True)
