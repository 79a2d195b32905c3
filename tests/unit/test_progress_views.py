"""Progress as the API shows it: counts, roadmaps joined with marks, the list, the update body."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.lesson import GenerationStatus, Lesson
from domain.progress import LearnerProgress, ProgressUpdate
from domain.roadmap import Module, Roadmap, SkillLevel
from domain.views import LessonSummary, ProgressCounts, RoadmapView, roadmap_list
from tests.unit.fakes import USER, make_lesson

S = GenerationStatus
AT = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)


def _summary(status: GenerationStatus, lesson_id: str, **marks: datetime) -> LessonSummary:
    return LessonSummary.of(make_lesson(status, id=lesson_id)).model_copy(update=marks)


def _marks(lesson: Lesson, *, viewed: bool = False, completed: bool = False) -> LearnerProgress:
    progress = LearnerProgress.start(lesson)
    progress.mark(viewed=viewed, completed=completed, now=AT)
    return progress


def _roadmap(roadmap_id: str, *modules: list[Lesson], created_at: datetime = AT) -> Roadmap:
    return Roadmap(
        id=roadmap_id,
        user_id=USER,
        goal=f"Goal of {roadmap_id}",
        skill_level=SkillLevel.BEGINNER,
        planned_by="offline",
        created_at=created_at,
        modules=[
            Module(
                id=f"{roadmap_id}-module-{order}",
                title=f"Module {order}",
                description="",
                order=order,
                lesson_ids=[lesson.id for lesson in lessons],
            )
            for order, lessons in enumerate(modules, start=1)
        ],
    )


def _lessons(roadmap_id: str, *statuses: GenerationStatus) -> list[Lesson]:
    return [
        make_lesson(status, id=f"{roadmap_id}-lesson-{n}", roadmap_id=roadmap_id, order=n)
        for n, status in enumerate(statuses, start=1)
    ]


def test_counts_tell_lessons_written_viewed_and_completed_apart():
    lessons = [
        _summary(S.COMPLETED, "a", viewed_at=AT, completed_at=AT),
        _summary(S.COMPLETED, "b", viewed_at=AT),
        _summary(S.COMPLETED, "c"),
        _summary(S.GENERATING, "d", viewed_at=AT),
        _summary(S.FAILED, "e"),
        _summary(S.PENDING, "f"),
        _summary(S.QUEUED, "g"),
    ]

    assert ProgressCounts.of(lessons) == ProgressCounts(lessons=7, ready=3, viewed=3, completed=1)


def test_counts_of_no_lessons_are_zero():
    assert ProgressCounts.of([]) == ProgressCounts(lessons=0, ready=0, viewed=0, completed=0)


def test_counts_are_written_in_camel_case_with_every_field():
    counts = ProgressCounts(lessons=4, ready=2, viewed=1, completed=1)

    assert counts.model_dump(mode="json") == {
        "lessons": 4,
        "ready": 2,
        "viewed": 1,
        "completed": 1,
    }


def test_roadmap_view_joins_each_lesson_with_its_marks_and_counts_them():
    first, second, third = _lessons("r1", S.COMPLETED, S.COMPLETED, S.PENDING)
    roadmap = _roadmap("r1", [first, second], [third])
    marks = [_marks(first, completed=True), _marks(second, viewed=True)]
    other_roadmaps_mark = _marks(make_lesson(S.COMPLETED, id="elsewhere"), completed=True)

    view = RoadmapView.of(
        roadmap,
        [LessonSummary.of(lesson) for lesson in (third, second, first)],
        [*marks, other_roadmaps_mark],
    )

    shown = [
        (lesson.id, lesson.viewed_at, lesson.completed_at)
        for module in view.modules
        for lesson in module.lessons
    ]
    assert shown == [
        ("r1-lesson-1", AT, AT),
        ("r1-lesson-2", AT, None),
        ("r1-lesson-3", None, None),
    ]
    assert view.counts == ProgressCounts(lessons=3, ready=2, viewed=2, completed=1)


def test_roadmap_view_without_marks_counts_only_lessons_and_ready_ones():
    lessons = _lessons("r1", S.COMPLETED, S.QUEUED)
    view = RoadmapView.of(_roadmap("r1", lessons), [LessonSummary.of(x) for x in lessons])

    assert view.counts == ProgressCounts(lessons=2, ready=1, viewed=0, completed=0)
    assert all(
        lesson.viewed_at is None and lesson.completed_at is None
        for lesson in view.modules[0].lessons
    )


def test_roadmap_list_counts_each_roadmap_separately_in_the_given_order():
    older_lessons = _lessons("older", S.COMPLETED, S.COMPLETED, S.PENDING)
    newer_lessons = _lessons("newer", S.QUEUED)
    newer = _roadmap("newer", newer_lessons, created_at=AT)
    older = _roadmap("older", older_lessons, created_at=AT - timedelta(days=3))
    empty = _roadmap("empty", created_at=AT - timedelta(days=9))
    marks = [_marks(older_lessons[0], completed=True), _marks(newer_lessons[0], viewed=True)]
    summaries = [LessonSummary.of(x) for x in [*older_lessons, *newer_lessons]]

    listed = roadmap_list([newer, older, empty], summaries, marks)

    assert [(item.id, item.counts) for item in listed.roadmaps] == [
        ("newer", ProgressCounts(lessons=1, ready=0, viewed=1, completed=0)),
        ("older", ProgressCounts(lessons=3, ready=2, viewed=1, completed=1)),
        ("empty", ProgressCounts()),
    ]
    assert [item.created_at for item in listed.roadmaps] == sorted(
        (item.created_at for item in listed.roadmaps), reverse=True
    )
    assert listed.roadmaps[0].goal == "Goal of newer"


def test_roadmap_list_leaves_out_the_modules():
    lessons = _lessons("r1", S.PENDING)

    listed = roadmap_list([_roadmap("r1", lessons)], [LessonSummary.of(x) for x in lessons], [])

    assert "modules" not in listed.model_dump(mode="json")["roadmaps"][0]


@pytest.mark.parametrize("body", [{}, {"viewed": None}, {"viewed": None, "completed": None}])
def test_progress_update_needs_at_least_one_mark(body: dict[str, object]):
    with pytest.raises(ValidationError, match="give viewed, completed or both"):
        ProgressUpdate.model_validate(body)


@pytest.mark.parametrize(
    ("body", "marks"),
    [
        ({"viewed": True}, (True, None)),
        ({"completed": False}, (None, False)),
        ({"viewed": False, "completed": True}, (False, True)),
    ],
)
def test_progress_update_takes_either_mark_or_both(
    body: dict[str, object], marks: tuple[bool | None, bool | None]
):
    update = ProgressUpdate.model_validate(body)

    assert (update.viewed, update.completed) == marks


def test_progress_update_rejects_unknown_fields():
    with pytest.raises(ValidationError, match="extra"):
        ProgressUpdate.model_validate({"viewed": True, "done": True})


def test_progress_update_schema_asks_for_at_least_one_known_property():
    schema = ProgressUpdate.model_json_schema()

    assert schema["minProperties"] == 1
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"viewed", "completed"}
