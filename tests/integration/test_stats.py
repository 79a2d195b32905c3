"""Progress at a glance on the real Cosmos DB emulator: the marked-progress query and the stats
service over the real repositories."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.cosmos import PROGRESS, create_cosmos_client
from adapters.cosmos_repository import CosmosLessonRepository, CosmosRoadmapRepository
from adapters.progress_repository import CosmosProgressRepository
from domain.lesson import Lesson
from domain.progress import LearnerProgress
from domain.roadmap import (
    CreateRoadmapRequest,
    LessonPlan,
    ModulePlan,
    Roadmap,
    RoadmapOutline,
    build_roadmap,
)
from domain.stats_service import StatsService
from tests.conftest import Stack

Repos = tuple[CosmosLessonRepository, CosmosRoadmapRepository]
# Wednesday 11 March 2026, noon in Berlin: the week began on Monday 9 March.
NOW = datetime(2026, 3, 11, 11, 0, tzinfo=UTC)


@pytest.fixture
async def progress(stack: Stack) -> AsyncIterator[CosmosProgressRepository]:
    async with create_cosmos_client(stack.settings) as cosmos:
        database = cosmos.get_database_client(stack.settings.cosmos_database)
        yield CosmosProgressRepository(database.get_container_client(PROGRESS))


def _roadmap(user_id: str, minutes: list[int]) -> tuple[Roadmap, list[Lesson]]:
    plans = [
        LessonPlan(title=f"Lesson {n}", objectives=["Learn it"], estimated_minutes=m)
        for n, m in enumerate(minutes, start=1)
    ]
    outline = RoadmapOutline(modules=[ModulePlan(title="Stats", lessons=plans)])
    request = CreateRoadmapRequest(goal="Learn Rust", skill_level="beginner", weekly_hours=2)
    return build_roadmap(user_id, request, outline, planned_by="learner")


def _marked(
    lesson: Lesson, viewed: datetime | None, completed: datetime | None = None
) -> LearnerProgress:
    progress = LearnerProgress.start(lesson)
    progress.viewed_at, progress.completed_at = viewed, completed
    return progress


async def test_marked_returns_only_the_learners_records_that_carry_a_mark(
    progress: CosmosProgressRepository, user_id: str
) -> None:
    _, lessons = _roadmap(user_id, [10, 20, 30, 40])
    _, theirs = _roadmap(f"other-{uuid.uuid4().hex[:8]}", [10])
    viewed = _marked(lessons[0], NOW)
    completed = _marked(lessons[1], NOW - timedelta(days=1), NOW)
    cleared = _marked(lessons[2], None)  # both marks cleared after being set
    only_completed = _marked(lessons[3], None, NOW)  # as an older record might hold
    for record in (viewed, completed, cleared, only_completed, _marked(theirs[0], NOW, NOW)):
        await progress.put(record)

    found = await progress.marked(user_id)

    assert sorted(p.lesson_id for p in found) == sorted(
        [viewed.lesson_id, completed.lesson_id, only_completed.lesson_id]
    )
    by_id = {p.lesson_id: p for p in found}
    assert by_id[completed.lesson_id].completed_at == NOW
    assert by_id[completed.lesson_id].viewed_at == NOW - timedelta(days=1)
    assert await progress.marked(f"nobody-{uuid.uuid4().hex[:8]}") == []


async def test_stats_are_computed_from_the_learners_own_partition(
    repositories: Repos, progress: CosmosProgressRepository, user_id: str
) -> None:
    lessons_repo, roadmaps_repo = repositories
    roadmap, lessons = _roadmap(user_id, [15, 25, 35])
    await lessons_repo.add_all(lessons)
    await roadmaps_repo.add(roadmap)
    at_night = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)  # Tuesday 00:30 in Berlin
    await progress.put(_marked(lessons[0], at_night, at_night))
    await progress.put(_marked(lessons[1], NOW - timedelta(hours=1), NOW - timedelta(hours=1)))
    service = StatsService(roadmaps_repo, lessons_repo, progress, clock=lambda: NOW)

    berlin = await service.stats(user_id, ZoneInfo("Europe/Berlin"))
    utc = await service.stats(user_id, ZoneInfo("UTC"))

    assert (berlin.streak.current, berlin.streak.longest) == (2, 2)  # Tuesday and Wednesday
    assert (utc.streak.current, utc.streak.longest) == (1, 1)  # Monday, then Wednesday
    assert (berlin.week.minutes_completed, berlin.week.target_minutes) == (40, 120)
    assert berlin.lessons_completed == 2
    [one] = berlin.roadmaps
    assert (one.roadmap_id, one.lessons, one.completed) == (roadmap.id, 3, 2)
    assert berlin.next_lesson is not None
    assert (berlin.next_lesson.lesson_id, berlin.next_lesson.estimated_minutes) == (
        lessons[2].id,
        35,
    )
