"""Progress reports as Cosmos DB patches: partial, conditional on the etag, like a replace."""

from datetime import timedelta

import pytest

from adapters.cosmos_repository import CosmosLessonRepository, CosmosRoadmapRepository
from domain.base import utcnow
from domain.errors import ConcurrencyConflict, NotFound
from domain.lesson import GenerationStatus, Stage
from domain.roadmap import (
    CreateRoadmapRequest,
    LessonPlan,
    ModulePlan,
    RoadmapOutline,
    build_roadmap,
)

Repos = tuple[CosmosLessonRepository, CosmosRoadmapRepository]


async def _claimed(repo: CosmosLessonRepository, user_id: str, owner: str = "worker-a"):
    outline = RoadmapOutline(
        modules=[
            ModulePlan(
                title="Patches", lessons=[LessonPlan(title="One", objectives=["Objective one"])]
            )
        ]
    )
    request = CreateRoadmapRequest(goal="Learn Rust", skill_level="beginner")
    _, lessons = build_roadmap(user_id, request, outline, planned_by="learner")
    await repo.add_all(lessons)
    lesson = await repo.get(user_id, lessons[0].id)
    lesson.queue()
    await repo.save(lesson)
    now = utcnow()
    lesson.start(owner, now + timedelta(seconds=60), now=now)
    await repo.save(lesson)
    return lesson


async def test_progress_report_changes_progress_and_lease_only(
    repositories: Repos, user_id: str
) -> None:
    repo, _ = repositories
    lesson = await _claimed(repo, user_id)
    before = lesson.version
    renewed = utcnow() + timedelta(seconds=600)
    lesson.report(Stage.WRITING, 30, lease_until=renewed)
    lesson.title = "not part of a progress report"

    await repo.report_progress(lesson)

    stored = await repo.get(user_id, lesson.id)
    assert lesson.version != before
    assert stored.version == lesson.version
    assert (stored.progress.stage, stored.progress.percent) == (Stage.WRITING, 30)
    assert stored.lease is not None
    assert lesson.lease is not None
    assert stored.lease.expires_at == lesson.lease.expires_at
    assert stored.updated_at == lesson.updated_at
    assert stored.title == "One"
    assert stored.status is GenerationStatus.GENERATING


async def test_progress_report_of_a_lost_claim_is_a_conflict(
    repositories: Repos, user_id: str
) -> None:
    repo, _ = repositories
    mine = await _claimed(repo, user_id)
    theirs = await repo.get(user_id, mine.id)
    theirs.report(Stage.WRITING, 30, lease_until=utcnow() + timedelta(seconds=90))
    await repo.save(theirs)

    mine.report(Stage.WRITING, 30, lease_until=utcnow() + timedelta(seconds=60))
    with pytest.raises(ConcurrencyConflict):
        await repo.report_progress(mine)
    assert (await repo.get(user_id, mine.id)).version == theirs.version


async def test_progress_report_of_a_deleted_lesson_is_not_found(
    repositories: Repos, user_id: str
) -> None:
    repo, _ = repositories
    lesson = await _claimed(repo, user_id)
    lesson.user_id = f"{user_id}-elsewhere"  # no such document in that partition
    with pytest.raises(NotFound):
        await repo.report_progress(lesson)
