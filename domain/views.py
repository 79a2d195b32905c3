"""What the HTTP API returns: read-only projections of roadmaps, lessons and progress."""

from collections.abc import Iterable
from datetime import datetime

from domain.base import DocumentModel
from domain.content import LessonContent
from domain.lesson import GenerationStatus, Lesson, Progress, ProviderAttempt, Source, TokenUsage
from domain.progress import LearnerProgress
from domain.roadmap import Roadmap, SkillLevel


class LessonSummary(DocumentModel):
    """A lesson as a roadmap or module shows it, with the learner's own marks."""

    id: str
    roadmap_id: str | None = None
    module_id: str
    order: int
    title: str
    description: str
    objectives: list[str]
    estimated_minutes: int
    generation_status: GenerationStatus
    viewed_at: datetime | None = None
    completed_at: datetime | None = None

    @classmethod
    def of(cls, lesson: Lesson) -> "LessonSummary":
        """Summarise a stored lesson."""
        return cls.model_validate(lesson, from_attributes=True)

    def marked(self, progress: LearnerProgress | None) -> "LessonSummary":
        """This summary with the learner's marks."""
        if progress is None:
            return self
        return self.model_copy(
            update={"viewed_at": progress.viewed_at, "completed_at": progress.completed_at}
        )


class ProgressCounts(DocumentModel):
    """How far a learner is through a set of lessons."""

    lessons: int = 0
    ready: int = 0  # written and readable
    viewed: int = 0
    completed: int = 0

    @classmethod
    def of(cls, lessons: Iterable[LessonSummary]) -> "ProgressCounts":
        """Count the lessons, the written ones and the learner's marks."""
        counts = cls()
        for lesson in lessons:
            counts.lessons += 1
            counts.ready += lesson.generation_status is GenerationStatus.COMPLETED
            counts.viewed += lesson.viewed_at is not None
            counts.completed += lesson.completed_at is not None
        return counts


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
    # Set when the content was written for an identical lesson and reused (no model call).
    reused_from: str | None = None
    # What the learner asked of this version, shown with it.
    instructions: str | None = None
    deliveries: int
    requeues: int
    last_error: str | None
    generated_at: datetime | None
    updated_at: datetime
    viewed_at: datetime | None = None
    completed_at: datetime | None = None

    @classmethod
    def of(cls, lesson: Lesson, marks: LearnerProgress | None = None) -> "LessonView":
        """Project a stored lesson, with the learner's marks if any."""
        view = cls.model_validate(lesson, from_attributes=True)
        if marks is not None:
            view.viewed_at, view.completed_at = marks.viewed_at, marks.completed_at
        return view


class ModuleView(DocumentModel):
    """A module with its lessons in order."""

    id: str
    title: str
    description: str
    order: int
    lessons: list[LessonSummary]


class RoadmapListItem(DocumentModel):
    """A roadmap in the learner's list."""

    id: str
    goal: str
    skill_level: SkillLevel
    weekly_hours: int | None
    planned_by: str
    created_at: datetime
    counts: ProgressCounts


class RoadmapList(DocumentModel):
    """A page of the learner's roadmaps, newest first; ``nextCursor`` asks for the next page."""

    roadmaps: list[RoadmapListItem]
    next_cursor: str | None = None


class RoadmapView(RoadmapListItem):
    """A roadmap with every lesson's current status and the learner's marks."""

    modules: list[ModuleView]

    @classmethod
    def of(
        cls,
        roadmap: Roadmap,
        lessons: list[LessonSummary],
        marks: Iterable[LearnerProgress] = (),
    ) -> "RoadmapView":
        """Join a roadmap with its lessons' summaries, in the roadmap's order.

        The roadmap is the record of order: each module and lesson is numbered by its place in
        it (a lesson's own ``order`` may lag while it is being written during a reorder).
        """
        by_id = {lesson.id: lesson for lesson in lessons}
        by_lesson = {mark.lesson_id: mark for mark in marks}
        modules = [
            ModuleView(
                id=module.id,
                title=module.title,
                description=module.description,
                order=number,
                lessons=_in_order(module.lesson_ids, by_id, by_lesson),
            )
            for number, module in enumerate(roadmap.modules, start=1)
        ]
        return cls(
            **_header(roadmap),
            counts=ProgressCounts.of(lesson for module in modules for lesson in module.lessons),
            modules=modules,
        )


def _in_order(
    lesson_ids: list[str],
    by_id: dict[str, LessonSummary],
    by_lesson: dict[str, LearnerProgress],
) -> list[LessonSummary]:
    """The summaries of ``lesson_ids`` that exist, numbered 1, 2, … in that order."""
    present = [i for i in lesson_ids if i in by_id]
    return [
        by_id[i].marked(by_lesson.get(i)).model_copy(update={"order": number})
        for number, i in enumerate(present, start=1)
    ]


def roadmap_list(
    roadmaps: list[Roadmap], lessons: list[LessonSummary], marks: Iterable[LearnerProgress]
) -> RoadmapList:
    """The learner's roadmaps with per-roadmap counts (of the lessons each roadmap names)."""
    by_lesson = {mark.lesson_id: mark for mark in marks}
    named = {i for roadmap in roadmaps for module in roadmap.modules for i in module.lesson_ids}
    grouped: dict[str, list[LessonSummary]] = {}
    for lesson in lessons:
        if lesson.id not in named:  # a removed lesson whose document outlived the edit
            continue
        grouped.setdefault(lesson.roadmap_id or "", []).append(
            lesson.marked(by_lesson.get(lesson.id))
        )
    return RoadmapList(
        roadmaps=[
            RoadmapListItem(
                **_header(roadmap), counts=ProgressCounts.of(grouped.get(roadmap.id, []))
            )
            for roadmap in roadmaps
        ]
    )


def _header(roadmap: Roadmap) -> dict[str, object]:
    return {
        "id": roadmap.id,
        "goal": roadmap.goal,
        "skill_level": roadmap.skill_level,
        "weekly_hours": roadmap.weekly_hours,
        "planned_by": roadmap.planned_by,
        "created_at": roadmap.created_at,
    }


class ModuleLessons(DocumentModel):
    """The lessons of one module, in order, with status, minutes and the learner's marks."""

    module_id: str
    lessons: list[LessonSummary]


class ProgressView(DocumentModel):
    """The learner's marks on a lesson after an update, and the lesson queued next, if any."""

    lesson_id: str
    viewed_at: datetime | None
    completed_at: datetime | None
    prefetched_lesson_id: str | None = None
