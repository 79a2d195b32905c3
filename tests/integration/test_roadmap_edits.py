"""Editing roadmaps on the real Cosmos DB emulator: conditional replaces, partial updates that a
writer's claim wins over, deletions nothing writes back, and a removed lesson left unwritten."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from adapters.cosmos import LESSONS, PROGRESS, ROADMAPS, create_cosmos_client
from adapters.cosmos_repository import CosmosLessonRepository, CosmosRoadmapRepository
from adapters.progress_repository import CosmosProgressRepository
from domain.chain import ProviderChain
from domain.cooldowns import Cooldowns
from domain.edit_requests import PlanModuleRequest, RenameRequest
from domain.errors import ConcurrencyConflict, NotFound, PreconditionFailed
from domain.lesson import GenerationStatus
from domain.lesson_writer import LessonWriter
from domain.ports import GenerationMessage, LessonChanges
from domain.progress import LearnerProgress
from domain.roadmap import CreateRoadmapRequest, LessonPlan, ModulePlan, RoadmapOutline
from domain.roadmap import build_roadmap as build
from domain.roadmap_editor import RoadmapEditor
from domain.roadmap_edits import Precondition, roadmap_etag
from domain.roadmap_writes import Target
from tests.conftest import Stack
from tests.unit.edit_fakes import GatedProvider

S = GenerationStatus


@dataclass
class Store:
    """The three repositories an edit writes through, on the emulator."""

    lessons: CosmosLessonRepository
    roadmaps: CosmosRoadmapRepository
    progress: CosmosProgressRepository

    def editor(self, provider: GatedProvider | None = None) -> RoadmapEditor:
        chain = ProviderChain([provider or GatedProvider()], Cooldowns())
        return RoadmapEditor(self.roadmaps, self.lessons, self.progress, chain, planning_budget=10)


@pytest.fixture
async def store(stack: Stack) -> AsyncIterator[Store]:
    async with create_cosmos_client(stack.settings) as cosmos:
        database = cosmos.get_database_client(stack.settings.cosmos_database)
        yield Store(
            CosmosLessonRepository(database.get_container_client(LESSONS)),
            CosmosRoadmapRepository(database.get_container_client(ROADMAPS)),
            CosmosProgressRepository(database.get_container_client(PROGRESS)),
        )


async def _plan(store: Store, user_id: str, lessons: int = 3) -> tuple[str, list[str]]:
    """A stored roadmap of one module; its id and its lessons' ids."""
    outline = RoadmapOutline(
        modules=[
            ModulePlan(
                title="Joins",
                lessons=[
                    LessonPlan(title=f"Lesson {n}", objectives=[f"Objective {n}"])
                    for n in range(1, lessons + 1)
                ],
            )
        ]
    )
    request = CreateRoadmapRequest(goal="Learn SQL", skill_level="beginner")
    roadmap, skeletons = build(user_id, request, outline, planned_by="learner")
    await store.lessons.add_all(skeletons)
    await store.roadmaps.add(roadmap)
    return roadmap.id, [lesson.id for lesson in skeletons]


async def _target(store: Store, user_id: str, roadmap_id: str) -> Target:
    roadmap = await store.roadmaps.get(user_id, roadmap_id)
    return Target(user_id, roadmap_id, Precondition(frozenset({roadmap_etag(roadmap)})))


async def test_a_roadmap_replaced_from_a_stale_copy_is_a_conflict(store: Store, user_id: str):
    roadmap_id, _ = await _plan(store, user_id)
    first = await store.roadmaps.get(user_id, roadmap_id)
    second = await store.roadmaps.get(user_id, roadmap_id)
    first.modules[0].title = "First edit"
    await store.roadmaps.replace(first)
    second.modules[0].title = "Second edit"

    with pytest.raises(ConcurrencyConflict):
        await store.roadmaps.replace(second)

    stored = await store.roadmaps.get(user_id, roadmap_id)
    assert stored.modules[0].title == "First edit"
    assert stored.version == first.version != second.version


async def test_a_lesson_in_flight_is_not_revised_and_a_pending_one_is(store: Store, user_id: str):
    _, [pending, queued, _] = await _plan(store, user_id)
    lesson = await store.lessons.get(user_id, queued)
    lesson.queue()
    await store.lessons.save(lesson)

    changed = await store.lessons.revise(user_id, pending, LessonChanges(title="New", order=3))
    refused = await store.lessons.revise(user_id, queued, LessonChanges(title="New", order=3))

    assert (changed, refused) == (True, False)
    revised = await store.lessons.get(user_id, pending)
    assert (revised.title, revised.order, revised.status) == ("New", 3, S.PENDING)
    untouched = await store.lessons.get(user_id, queued)
    assert (untouched.title, untouched.version) == ("Lesson 2", lesson.version)
    with pytest.raises(NotFound):
        await store.lessons.revise(user_id, "no-such-lesson", LessonChanges(order=1))


async def test_a_deleted_lesson_is_never_written_back(store: Store, user_id: str):
    _, [lesson_id, *_] = await _plan(store, user_id)
    held = await store.lessons.get(user_id, lesson_id)
    marks = LearnerProgress.start(held)
    marks.mark(viewed=True, completed=None, now=datetime.now(UTC))
    await store.progress.put(marks)

    await store.lessons.delete(user_id, lesson_id)
    await store.lessons.delete(user_id, lesson_id)  # already gone: nothing to do
    await store.progress.delete(user_id, lesson_id)

    held.queue()
    with pytest.raises(NotFound):
        await store.lessons.save(held)
    with pytest.raises(NotFound):
        await store.lessons.get(user_id, lesson_id)
    assert await store.progress.get(user_id, lesson_id) is None


async def test_a_removed_lesson_being_written_is_not_written(store: Store, user_id: str):
    roadmap_id, [first, doomed, third] = await _plan(store, user_id)
    lesson = await store.lessons.get(user_id, doomed)
    lesson.queue()
    await store.lessons.save(lesson)
    provider = GatedProvider()
    writer = LessonWriter(store.lessons, ProviderChain([provider], Cooldowns()), budget=10)
    message = GenerationMessage(lesson_id=doomed, user_id=user_id, requested_at=datetime.now(UTC))
    writing = asyncio.create_task(writer.handle(message))
    await asyncio.wait_for(provider.asked.wait(), 10)  # claimed, and its provider is asked
    assert (await store.lessons.get(user_id, doomed)).status is S.GENERATING

    edited = await store.editor().remove_lesson(await _target(store, user_id, roadmap_id), doomed)
    provider.gate.set()

    assert await asyncio.wait_for(writing, 10) is None
    with pytest.raises(NotFound):
        await store.lessons.get(user_id, doomed)
    assert [lesson.id for lesson in edited.view.modules[0].lessons] == [first, third]
    shown = await store.roadmaps.get(user_id, roadmap_id)
    assert shown.modules[0].lesson_ids == [first, third]


async def test_an_edit_stored_while_another_was_planned_wins_and_the_plan_stores_nothing(
    store: Store, user_id: str
):
    roadmap_id, ids = await _plan(store, user_id)
    provider = GatedProvider()
    same_version = await _target(store, user_id, roadmap_id)
    planning = asyncio.create_task(
        store.editor(provider).plan_module(same_version, PlanModuleRequest(prompt="self joins"))
    )
    await asyncio.wait_for(provider.asked.wait(), 10)

    module_id = (await store.roadmaps.get(user_id, roadmap_id)).modules[0].id
    renamed = await store.editor().rename_module(
        same_version, module_id, RenameRequest(title="SQL joins")
    )
    provider.gate.set()

    with pytest.raises(PreconditionFailed):
        await asyncio.wait_for(planning, 10)
    stored = await store.roadmaps.get(user_id, roadmap_id)
    assert [module.title for module in stored.modules] == ["SQL joins"]
    assert roadmap_etag(stored) == renamed.etag
    summaries = await store.lessons.list_for_roadmap(user_id, roadmap_id)
    assert sorted(summary.id for summary in summaries) == sorted(ids)  # no planned lesson left
    assert {(await store.lessons.get(user_id, i)).module_title for i in ids} == {"SQL joins"}
