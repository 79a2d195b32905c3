"""The shared lesson cache on the Cosmos DB emulator, alone and through the real writer wiring."""

import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from azure.cosmos.aio import ContainerProxy

from adapters.cosmos import LESSON_CACHE, LESSONS, create_cosmos_client
from adapters.cosmos_repository import CosmosLessonRepository
from adapters.lesson_cache import CosmosLessonCache
from adapters.settings import settings_from
from domain.content import LessonContent
from domain.lesson import Lesson, Source
from domain.lesson_cache import CachedLesson
from domain.ports import GenerationMessage
from functions.bootstrap import Shared, build_services
from tests.conftest import Stack
from tests.support.fake_llm import FakeLlmServer, Reply
from tests.support.samples import lesson_json, skeleton_lessons

TTL = 3600


class Clock:
    """A wall clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def container(stack: Stack) -> AsyncIterator[ContainerProxy]:
    async with create_cosmos_client(stack.settings) as cosmos:
        database = cosmos.get_database_client(stack.settings.cosmos_database)
        yield database.get_container_client(LESSON_CACHE)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLlmServer]:
    with FakeLlmServer() as running:
        yield running


def _key() -> str:
    return hashlib.sha256(uuid.uuid4().bytes).hexdigest()


def _entry() -> CachedLesson:
    return CachedLesson(
        lesson_id=f"lesson-{uuid.uuid4().hex[:8]}",
        content=LessonContent.model_validate(lesson_json()),
        sources=[Source(kind="docs", title="Python docs", url="https://docs.python.org/3/")],
        research_note=None,
        provider="groq",
        model="llama",
    )


async def test_an_entry_reads_back_as_it_was_put_with_its_own_ttl(container: ContainerProxy):
    cache, key, entry = CosmosLessonCache(container, TTL), _key(), _entry()

    await cache.put(key, entry)

    assert await cache.get(key) == entry
    item = await container.read_item(key, partition_key=key)
    assert item["ttl"] == TTL
    assert item["lessonId"] == entry.lesson_id


async def test_an_absent_key_is_a_miss(container: ContainerProxy):
    assert await CosmosLessonCache(container, TTL).get(_key()) is None


async def test_an_expired_entry_is_a_miss_even_where_the_emulator_keeps_it(
    container: ContainerProxy,
):
    clock = Clock()
    cache, key = CosmosLessonCache(container, TTL, clock=clock), _key()
    await cache.put(key, _entry())

    clock.now += timedelta(seconds=TTL - 1)
    assert await cache.get(key) is not None
    clock.now += timedelta(seconds=1)
    assert await cache.get(key) is None


def _learners_lesson(user: str, goal: str) -> Lesson:
    lesson = skeleton_lessons(user, 1, goal=goal)[0]
    lesson.queue()
    return lesson


async def test_identical_lessons_of_two_learners_cost_one_provider_call(
    stack: Stack, server: FakeLlmServer
):
    server.reset()
    server.default("groq", Reply.ok(lesson_json()))
    settings = settings_from(
        {
            **stack.env,
            "LESSON_CACHE": "true",  # explicitly: the default may be turned off for the stack
            "LLM_PROVIDERS": "groq,offline",
            "GROQ_API_KEY": "gsk_test_lesson_cache",
            "GROQ_BASE_URL": server.root_url,
        }
    )
    services = build_services(settings, Shared())
    run = uuid.uuid4().hex[:8]
    goal = f"Learn Rust {run}"  # a cache key of this test's own
    first, second = _learners_lesson(f"alice-{run}", goal), _learners_lesson(f"bob-{run}", goal)
    try:
        async with create_cosmos_client(settings) as cosmos:
            database = cosmos.get_database_client(settings.cosmos_database)
            lessons = CosmosLessonRepository(database.get_container_client(LESSONS))
            await lessons.add_all([first, second])
            for lesson in (first, second):
                message = GenerationMessage(
                    lesson_id=lesson.id, user_id=lesson.user_id, requested_at=lesson.updated_at
                )
                await services.writer.handle(message)
            written = await lessons.get(first.user_id, first.id)
            reused = await lessons.get(second.user_id, second.id)
    finally:
        await services.aclose()

    assert len(server.requests("groq")) == 1
    assert (written.provider, written.reused_from) == ("groq", None)
    assert (reused.provider, reused.reused_from) == ("groq", first.id)
    assert reused.content == written.content
