"""What the HTTP API returns: read-only projections of roadmaps and lessons."""

from datetime import datetime

from domain.base import DocumentModel
from domain.content import LessonContent
from domain.lesson import GenerationStatus, Lesson, Progress, ProviderAttempt, Source, TokenUsage
from domain.roadmap import Roadmap, SkillLevel


class LessonSummary(DocumentModel):
    """A lesson as a roadmap shows it."""

    id: str
    module_id: str
    order: int
    title: str
    description: str
    objectives: list[str]
    estimated_minutes: int
    generation_status: GenerationStatus


class LessonView(DocumentModel):
    """A lesson with its status, progress and (once completed) content."""

    id: str
    roadmap_id: str
    module_id: str
    order: int
    title: str
    description: str
    objectives: list[str]
    estimated_minutes: int
    generation_status: GenerationStatus
    generation_error: str | None
    progress: Progress
    content: LessonContent | None
    sources: list[Source]
    research_note: str | None
    provider: str | None
    model: str | None
    usage: TokenUsage | None
    attempts: list[ProviderAttempt]
    deliveries: int
    requeues: int
    last_error: str | None
    generated_at: datetime | None
    updated_at: datetime

    @classmethod
    def of(cls, lesson: Lesson) -> "LessonView":
        """Project a stored lesson."""
        return cls.model_validate(lesson, from_attributes=True)


class ModuleView(DocumentModel):
    """A module with its lessons in order."""

    id: str
    title: str
    description: str
    order: int
    lessons: list[LessonSummary]


class RoadmapView(DocumentModel):
    """A roadmap with every lesson's current status."""

    id: str
    goal: str
    skill_level: SkillLevel
    weekly_hours: int | None
    planned_by: str
    created_at: datetime
    modules: list[ModuleView]

    @classmethod
    def of(cls, roadmap: Roadmap, lessons: list[LessonSummary]) -> "RoadmapView":
        """Join a roadmap with the summaries of its lessons, in the roadmap's order."""
        by_id = {lesson.id: lesson for lesson in lessons}
        modules = [
            ModuleView(
                id=module.id,
                title=module.title,
                description=module.description,
                order=module.order,
                lessons=[by_id[i] for i in module.lesson_ids if i in by_id],
            )
            for module in roadmap.modules
        ]
        return cls(
            id=roadmap.id,
            goal=roadmap.goal,
            skill_level=roadmap.skill_level,
            weekly_hours=roadmap.weekly_hours,
            planned_by=roadmap.planned_by,
            created_at=roadmap.created_at,
            modules=modules,
        )
