"""The Cosmos repositories against a real Cosmos DB API server."""

import pytest

from adapters.cosmos_repository import CosmosLessonRepository, CosmosRoadmapRepository
from adapters.settings import settings_from
from domain.errors import ConcurrencyConflict, NotFound, StorageUnavailable
from domain.lesson import GenerationStatus
from domain.roadmap import (
    CreateRoadmapRequest,
    LessonPlan,
    ModulePlan,
    RoadmapOutline,
    build_roadmap,
)
from domain.views import RoadmapView
from tests.conftest import Stack

Repos = tuple[CosmosLessonRepository, CosmosRoadmapRepository]


def _outline(modules: int = 2, lessons: int = 3) -> RoadmapOutline:
    return RoadmapOutline(
        modules=[
            ModulePlan(
                title=f"Module {m}",
                lessons=[
                    LessonPlan(title=f"Lesson {m}.{n}", objectives=[f"Objective {m}.{n}"])
                    for n in range(1, lessons + 1)
                ],
            )
            for m in range(1, modules + 1)
        ]
    )


def _roadmap(user_id: str, outline: RoadmapOutline | None = None):
    request = CreateRoadmapRequest(goal="Learn Rust", skill_level="beginner")
    return build_roadmap(user_id, request, outline or _outline(), planned_by="learner")


async def test_created_lessons_read_back_with_their_versions(
    repositories: Repos, user_id: str
) -> None:
    lessons_repo, _ = repositories
    _, lessons = _roadmap(user_id)
    await lessons_repo.add_all(lessons)
    stored = await lessons_repo.get(user_id, lessons[0].id)
    assert stored.title == lessons[0].title
    assert stored.generation_status is GenerationStatus.PENDING
    assert stored.version == lessons[0].version
    assert stored.version


async def test_saving_a_stale_copy_is_a_conflict(repositories: Repos, user_id: str) -> None:
    lessons_repo, _ = repositories
    _, lessons = _roadmap(user_id)
    await lessons_repo.add_all(lessons[:1])
    first = await lessons_repo.get(user_id, lessons[0].id)
    second = await lessons_repo.get(user_id, lessons[0].id)
    first.queue()
    await lessons_repo.save(first)
    second.queue()
    with pytest.raises(ConcurrencyConflict):
        await lessons_repo.save(second)
    assert (await lessons_repo.get(user_id, first.id)).version == first.version


async def test_missing_lesson_is_not_found(repositories: Repos, user_id: str) -> None:
    lessons_repo, _ = repositories
    with pytest.raises(NotFound):
        await lessons_repo.get(user_id, "no-such-lesson")


async def test_other_users_lesson_is_not_found(repositories: Repos, user_id: str) -> None:
    lessons_repo, roadmaps_repo = repositories
    roadmap, lessons = _roadmap(user_id)
    await lessons_repo.add_all(lessons)
    await roadmaps_repo.add(roadmap)
    with pytest.raises(NotFound):
        await lessons_repo.get("someone-else", lessons[0].id)
    with pytest.raises(NotFound):
        await roadmaps_repo.get("someone-else", roadmap.id)


async def test_roadmap_lists_only_its_own_lessons(repositories: Repos, user_id: str) -> None:
    lessons_repo, roadmaps_repo = repositories
    roadmap, lessons = _roadmap(user_id)
    other_roadmap, other_lessons = _roadmap(user_id, _outline(modules=1, lessons=2))
    await lessons_repo.add_all([*lessons, *other_lessons])
    await roadmaps_repo.add(roadmap)

    summaries = await lessons_repo.list_for_roadmap(user_id, roadmap.id)
    view = RoadmapView.of(await roadmaps_repo.get(user_id, roadmap.id), summaries)

    assert sorted(s.id for s in summaries) == sorted(lesson.id for lesson in lessons)
    assert [[lesson.title for lesson in m.lessons] for m in view.modules] == [
        ["Lesson 1.1", "Lesson 1.2", "Lesson 1.3"],
        ["Lesson 2.1", "Lesson 2.2", "Lesson 2.3"],
    ]
    assert other_roadmap.id != roadmap.id
    assert await lessons_repo.list_for_roadmap("someone-else", roadmap.id) == []


async def test_unreachable_cosmos_is_storage_unavailable(stack: Stack, user_id: str) -> None:
    from adapters.cosmos import LESSONS, create_cosmos_client
    from devhost.emulators import free_port

    dead = settings_from(
        {
            **stack.env,
            "COSMOS_ENDPOINT": f"http://127.0.0.1:{free_port()}",
            "SWEEP_SCHEDULE": "0 */1 * * * *",
            "COSMOS_TIMEOUT_SECONDS": "2",
        }
    )
    # Not ``async with``: entering the client contacts the account, as a worker's clients do not.
    cosmos = create_cosmos_client(dead)
    try:
        container = cosmos.get_database_client(dead.cosmos_database).get_container_client(LESSONS)
        with pytest.raises(StorageUnavailable):
            await CosmosLessonRepository(container).get(user_id, "any")
    finally:
        await cosmos.close()
