"""A learner's roadmap: the request that creates it, its outline and its stored form."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from domain.base import ApiModel, DocumentModel, new_id, utcnow
from domain.lesson import Lesson

MAX_LESSONS_PER_ROADMAP = 100

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1_000)]
Objective = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]


class SkillLevel(StrEnum):
    """How much the learner already knows."""

    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class LessonPlan(ApiModel):
    """A lesson skeleton in an outline."""

    title: Title
    description: Description = ""
    objectives: list[Objective] = Field(min_length=1, max_length=8)
    estimated_minutes: int = Field(default=30, ge=5, le=240)


class ModulePlan(ApiModel):
    """A module in an outline."""

    title: Title
    description: Description = ""
    lessons: list[LessonPlan] = Field(min_length=1, max_length=20)


class RoadmapOutline(ApiModel):
    """Modules and lesson skeletons, from the learner or from a planner."""

    modules: list[ModulePlan] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        total = sum(len(module.lessons) for module in self.modules)
        if total > MAX_LESSONS_PER_ROADMAP:
            raise ValueError(
                f"an outline holds at most {MAX_LESSONS_PER_ROADMAP} lessons, not {total}"
            )
        return self


class CreateRoadmapRequest(ApiModel):
    """The body of ``POST /api/roadmaps``."""

    goal: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
    skill_level: SkillLevel
    weekly_hours: int | None = Field(default=None, ge=1, le=80)
    modules: list[ModulePlan] | None = Field(default=None, min_length=1, max_length=20)
    prefetch: int = Field(default=1, ge=0, le=10)

    @model_validator(mode="after")
    def _outline_bounded(self) -> Self:
        if self.modules is not None:
            RoadmapOutline(modules=self.modules)
        return self


class Module(DocumentModel):
    """A stored module: its place in the roadmap and the ids of its lessons, in order."""

    id: str
    title: str
    description: str
    order: int
    lesson_ids: list[str]


class Roadmap(DocumentModel):
    """A stored roadmap. Lesson documents are stored apart and carry their own status."""

    id: str
    user_id: str
    goal: str
    skill_level: SkillLevel
    weekly_hours: int | None = None
    planned_by: str
    created_at: datetime = Field(default_factory=utcnow)
    modules: list[Module]
    # The storage version (Cosmos etag) this copy was read at; edits are conditional on it.
    version: str | None = Field(default=None, exclude=True)


def build_roadmap(
    user_id: str, request: CreateRoadmapRequest, outline: RoadmapOutline, planned_by: str
) -> tuple[Roadmap, list[Lesson]]:
    """Turn an outline into a roadmap and its ``pending`` lesson skeletons, in reading order."""
    roadmap_id = new_id()
    modules: list[Module] = []
    lessons: list[Lesson] = []
    for module_order, module_plan in enumerate(outline.modules, start=1):
        module_id = new_id()
        module_lessons = [
            Lesson(
                id=new_id(),
                user_id=user_id,
                roadmap_id=roadmap_id,
                module_id=module_id,
                order=lesson_order,
                goal=request.goal,
                skill_level=request.skill_level,
                module_title=module_plan.title,
                title=plan.title,
                description=plan.description,
                objectives=list(plan.objectives),
                estimated_minutes=plan.estimated_minutes,
            )
            for lesson_order, plan in enumerate(module_plan.lessons, start=1)
        ]
        lessons.extend(module_lessons)
        modules.append(
            Module(
                id=module_id,
                title=module_plan.title,
                description=module_plan.description,
                order=module_order,
                lesson_ids=[lesson.id for lesson in module_lessons],
            )
        )
    roadmap = Roadmap(
        id=roadmap_id,
        user_id=user_id,
        goal=request.goal,
        skill_level=request.skill_level,
        weekly_hours=request.weekly_hours,
        planned_by=planned_by,
        modules=modules,
    )
    return roadmap, lessons
