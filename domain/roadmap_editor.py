"""Editing a learner's roadmap in place, under optimistic concurrency.

Every edit reads the roadmap, checks the caller's ``If-Match`` against it, changes its shape
(``domain/roadmap_edits.py``), creates the lessons it adds, and stores the roadmap with a
conditional replace: of two edits made against the same version, the second gets
``PreconditionFailed`` (412) and changes nothing. Only after that write, which is the edit,
do the lessons it removed go (their documents and the learner's marks on them: a writer working
on one finds it gone and stores nothing) and do kept lessons learn a new title or place — never
one in flight, whose document belongs to its writer until it is done.
"""

import logging
from typing import TypeVar

from pydantic import BaseModel

from domain.edit_requests import (
    AddLessonRequest,
    AddModuleRequest,
    PlanLessonRequest,
    PlanModuleRequest,
    RenameRequest,
    ReorderRequest,
)
from domain.errors import EditRefused, NotFound, SkillSyncError
from domain.lesson import IN_FLIGHT
from domain.lesson_requests import take
from domain.ports import (
    Allowance,
    LessonChanges,
    LessonRepository,
    LlmChain,
    ModuleBrief,
    ProgressRepository,
    Quota,
    RoadmapRepository,
    TaskKind,
)
from domain.roadmap import LessonPlan, ModulePlan, Roadmap
from domain.roadmap_edits import (
    check_room_for_lesson,
    insert_lesson,
    insert_module,
    module_in,
    module_of_lesson,
    remove_lesson,
    remove_module,
    reorder,
    room_for_module,
)
from domain.roadmap_service import Planning
from domain.roadmap_writes import Change, Edited, Effects, RoadmapWrites, Target, being_written
from domain.telemetry import NoTelemetry, Telemetry
from domain.views import LessonSummary

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
Summaries = dict[str, LessonSummary]


class RoadmapEditor:
    """Adds, removes, renames and reorders modules and lessons of a learner's roadmap."""

    def __init__(
        self,
        roadmaps: RoadmapRepository,
        lessons: LessonRepository,
        progress: ProgressRepository,
        planner: LlmChain,
        *,
        planning_budget: float,
        quota: Quota | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        """``planner`` plans modules and lessons asked for by prompt, each spending one of the
        learner's roadmaps (``quota``), given back when no provider was paid."""
        self._writes = RoadmapWrites(roadmaps, lessons, progress)
        self._planner = planner
        self._budget = planning_budget
        self._quota = quota
        self._telemetry = telemetry or NoTelemetry()

    # ---- the edits --------------------------------------------------------------------------

    async def add_module(self, target: Target, request: AddModuleRequest) -> Edited:
        """Add a module written by hand, with ``pending`` lessons."""

        async def change(roadmap: Roadmap, _: Summaries) -> Effects:
            room = room_for_module(roadmap)
            if len(request.lessons) > room:  # a plan may be cut to fit; the learner's own, not
                raise EditRefused(f"This roadmap has room for {room} more lessons.")
            module, lessons = insert_module(roadmap, request, request.position, room)
            return Effects(added=lessons, created=f"/api/modules/{module.id}/lessons")

        return await self._writes.run(target, change)

    async def plan_module(self, target: Target, request: PlanModuleRequest) -> Edited:
        """Add a module the provider chain plans from the learner's prompt, for this roadmap's
        goal and level, beside what it already covers."""
        planning = Planning()

        async def change(roadmap: Roadmap, _: Summaries) -> Effects:
            room = room_for_module(roadmap)
            covered = tuple(module.title for module in roadmap.modules)
            brief = _brief(roadmap, request.prompt, covered)
            plan = await self._plan(target.user_id, planning, TaskKind.MODULE, brief, ModulePlan)
            module, lessons = insert_module(roadmap, plan, request.position, room)
            return Effects(added=lessons, created=f"/api/modules/{module.id}/lessons")

        return await self._charged(target, planning, change)

    async def add_lesson(self, target: Target, request: AddLessonRequest) -> Edited:
        """Add a lesson written by hand to one of the roadmap's modules, ``pending``."""

        async def change(roadmap: Roadmap, _: Summaries) -> Effects:
            module = module_in(roadmap, request.module_id, field="moduleId")
            check_room_for_lesson(roadmap, module)
            lesson = insert_lesson(roadmap, module, request, request.position)
            return Effects(added=[lesson], created=f"/api/lessons/{lesson.id}")

        return await self._writes.run(target, change)

    async def plan_lesson(self, target: Target, request: PlanLessonRequest) -> Edited:
        """Add a lesson the provider chain plans from the learner's prompt, for one module."""
        planning = Planning()

        async def change(roadmap: Roadmap, lessons: Summaries) -> Effects:
            module = module_in(roadmap, request.module_id, field="moduleId")
            check_room_for_lesson(roadmap, module)
            covered = tuple(lessons[i].title for i in module.lesson_ids if i in lessons)
            brief = _brief(roadmap, request.prompt, covered, module.title)
            plan = await self._plan(
                target.user_id, planning, TaskKind.LESSON_PLAN, brief, LessonPlan
            )
            lesson = insert_lesson(roadmap, module, plan, request.position)
            return Effects(added=[lesson], created=f"/api/lessons/{lesson.id}")

        return await self._charged(target, planning, change)

    async def rename_module(self, target: Target, module_id: str, request: RenameRequest) -> Edited:
        """Give a module a new title and/or description; its lessons are written under it."""

        async def change(roadmap: Roadmap, _: Summaries) -> Effects:
            module = module_in(roadmap, module_id)
            if request.description is not None:
                module.description = request.description
            if request.title is None or request.title == module.title:
                return Effects()
            module.title = request.title
            return Effects(module_title=(module.id, request.title))

        return await self._writes.run(target, change)

    async def rename_lesson(self, target: Target, lesson_id: str, request: RenameRequest) -> Edited:
        """Give a lesson a new title and/or description; ``EditRefused`` while it is queued or
        being written (its writer holds the document)."""

        async def change(roadmap: Roadmap, lessons: Summaries) -> Effects:
            module_of_lesson(roadmap, lesson_id)
            summary = lessons.get(lesson_id)
            if summary is None:  # named by the roadmap, but its document is gone
                raise NotFound("lesson", lesson_id)
            if summary.generation_status in IN_FLIGHT:
                raise being_written()
            changes = LessonChanges(title=request.title, description=request.description)
            return Effects(renamed={lesson_id: changes})

        return await self._writes.run(target, change)

    async def remove_module(self, target: Target, module_id: str) -> Edited:
        """Remove a module and its lessons (withdrawn if queued or being written)."""

        async def change(roadmap: Roadmap, _: Summaries) -> Effects:
            return Effects(removed=remove_module(roadmap, module_id))

        return await self._writes.run(target, change)

    async def remove_lesson(self, target: Target, lesson_id: str) -> Edited:
        """Remove a lesson (withdrawn if queued or being written), its content and marks."""

        async def change(roadmap: Roadmap, _: Summaries) -> Effects:
            remove_lesson(roadmap, lesson_id)
            return Effects(removed=[lesson_id])

        return await self._writes.run(target, change)

    async def reorder(self, target: Target, request: ReorderRequest) -> Edited:
        """Put modules, and the lessons within each, in a new order."""

        async def change(roadmap: Roadmap, _: Summaries) -> Effects:
            reorder(roadmap, request)
            return Effects()

        return await self._writes.run(target, change)

    # ---- planning by prompt ---------------------------------------------------------------

    async def _charged(self, target: Target, planning: Planning, change: Change) -> Edited:
        """Run an edit that plans by prompt: the allowance it spent (``_plan``) is given back
        when it fails before any provider was paid."""
        try:
            return await self._writes.run(target, change)
        except Exception as error:
            if planning.charged and not planning.paid(error):
                await self._refund(target.user_id)
            raise

    async def _plan(
        self, user_id: str, planning: Planning, kind: TaskKind, brief: ModuleBrief, schema: type[M]
    ) -> M:
        """Spend one of the learner's roadmaps, then ask the provider chain for a plan."""
        if self._quota is not None:
            await take(self._quota, self._telemetry, user_id, Allowance.ROADMAPS)
            planning.charged = True
        planned = await self._planner.generate(kind, brief, schema, budget=self._budget)
        planning.planned_by = planned.draft.provider
        return planned.value

    async def _refund(self, user_id: str) -> None:
        assert self._quota is not None
        try:
            await self._quota.refund(user_id, Allowance.ROADMAPS)
        except SkillSyncError as error:  # the learner loses one; the edit's error matters
            log.warning("could not give back a roadmap: %s", error)


def _brief(
    roadmap: Roadmap, request: str, covered: tuple[str, ...], module_title: str | None = None
) -> ModuleBrief:
    return ModuleBrief(
        goal=roadmap.goal,
        skill_level=roadmap.skill_level,
        weekly_hours=roadmap.weekly_hours,
        request=request,
        covered=covered,
        module_title=module_title,
    )
