"""Creating and reading roadmaps."""

import asyncio

from domain.generation import GenerationRequests
from domain.lesson import Lesson
from domain.ports import LessonRepository, LlmChain, RoadmapBrief, RoadmapRepository, TaskKind
from domain.roadmap import CreateRoadmapRequest, RoadmapOutline, build_roadmap
from domain.views import LessonSummary, RoadmapView

LEARNER = "learner"


class RoadmapService:
    """Plans a roadmap, stores its skeletons and queues the first lessons."""

    def __init__(
        self,
        roadmaps: RoadmapRepository,
        lessons: LessonRepository,
        planner: LlmChain,
        generation: GenerationRequests,
        *,
        planning_budget: float,
    ) -> None:
        self._roadmaps = roadmaps
        self._lessons = lessons
        self._planner = planner
        self._generation = generation
        self._planning_budget = planning_budget

    async def create(self, user_id: str, request: CreateRoadmapRequest) -> RoadmapView:
        """Store a roadmap with ``pending`` lessons; queue the first ``request.prefetch``."""
        outline, planned_by = await self._plan(request)
        roadmap, lessons = build_roadmap(user_id, request, outline, planned_by)
        prefetched = lessons[: request.prefetch]
        previous = [lesson.status for lesson in prefetched]
        for lesson in prefetched:
            lesson.queue()
        # Lessons first, the roadmap last: a roadmap is never visible without its lessons.
        await self._lessons.add_all(lessons)
        await self._roadmaps.add(roadmap)
        await self._generation.send(list(zip(prefetched, previous, strict=True)))
        return RoadmapView.of(roadmap, [_summary(lesson) for lesson in lessons])

    async def get(self, user_id: str, roadmap_id: str) -> RoadmapView:
        """A roadmap with the current status of each lesson."""
        roadmap, lessons = await asyncio.gather(
            self._roadmaps.get(user_id, roadmap_id),
            self._lessons.list_for_roadmap(user_id, roadmap_id),
        )
        return RoadmapView.of(roadmap, lessons)

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


def _summary(lesson: Lesson) -> LessonSummary:
    return LessonSummary.model_validate(lesson, from_attributes=True)
