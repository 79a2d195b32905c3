"""Requesting and writing lessons with the real repositories and a real Storage queue."""

import asyncio
import base64
import json

from azure.storage.queue.aio import QueueClient

from adapters.cosmos_repository import CosmosLessonRepository, CosmosRoadmapRepository
from adapters.llm.offline import OfflineProvider
from adapters.queue import StorageQueuePublisher
from domain.chain import ProviderChain
from domain.cooldowns import Cooldowns
from domain.lesson import GenerationStatus
from domain.lesson_requests import LessonRequests
from domain.lesson_writer import LessonWriter
from domain.ports import Draft, GenerationMessage, LlmTask, TaskKind, TextSink
from domain.roadmap import CreateRoadmapRequest
from domain.roadmap_service import RoadmapService

Repos = tuple[CosmosLessonRepository, CosmosRoadmapRepository]


class CountingProvider(OfflineProvider):
    """The offline provider, counting lesson calls and slow enough for calls to overlap."""

    def __init__(self) -> None:
        self.lesson_calls = 0

    async def generate(
        self, task: LlmTask, *, time_limit: float, on_text: TextSink | None = None
    ) -> Draft:
        if task.kind is TaskKind.LESSON:
            self.lesson_calls += 1
            await asyncio.sleep(0.05)
        return await super().generate(task, time_limit=time_limit)


def _chain(provider: CountingProvider) -> ProviderChain:
    return ProviderChain([provider], Cooldowns())


async def _messages(queue: QueueClient) -> list[str]:
    """Every message on the queue, as the raw stored text."""
    raw = QueueClient.from_queue_url(queue.url, credential=queue.credential)
    async with raw:
        received = [m async for m in raw.receive_messages(messages_per_page=32, max_messages=32)]
    return [str(m.content) for m in received]


async def _service(repos: Repos, queue: QueueClient, provider: CountingProvider) -> RoadmapService:
    lessons, roadmaps = repos
    return RoadmapService(
        roadmaps,
        lessons,
        _chain(provider),
        LessonRequests(lessons, StorageQueuePublisher(queue)),
        planning_budget=5,
    )


async def test_roadmap_queues_its_first_lessons_with_base64_messages(
    repositories: Repos, queue: QueueClient, user_id: str
) -> None:
    service = await _service(repositories, queue, CountingProvider())
    request = CreateRoadmapRequest(goal="Learn SQL joins", skill_level="beginner", prefetch=2)

    view = await service.create(user_id, request)

    lessons = [lesson for module in view.modules for lesson in module.lessons]
    assert [lesson.generation_status for lesson in lessons[:3]] == ["queued", "queued", "pending"]
    bodies = [json.loads(base64.b64decode(text)) for text in await _messages(queue)]
    assert sorted(body["lessonId"] for body in bodies) == sorted(
        lesson.id for lesson in lessons[:2]
    )
    assert all(body["userId"] == user_id and body["requestedAt"] for body in bodies)
    again = await service.get(user_id, view.id)
    assert again.modules == view.modules


async def test_many_simultaneous_requests_send_one_message(
    repositories: Repos, queue: QueueClient, user_id: str
) -> None:
    lessons, _ = repositories
    service = await _service(repositories, queue, CountingProvider())
    view = await service.create(
        user_id, CreateRoadmapRequest(goal="Learn Go", skill_level="intermediate", prefetch=0)
    )
    lesson_id = view.modules[0].lessons[0].id
    requests = LessonRequests(lessons, StorageQueuePublisher(queue))

    results = await asyncio.gather(*(requests.request(user_id, lesson_id) for _ in range(8)))

    assert {lesson.status for lesson in results} == {GenerationStatus.QUEUED}
    assert len(await _messages(queue)) == 1


async def test_duplicate_messages_write_the_lesson_once(
    repositories: Repos, queue: QueueClient, user_id: str
) -> None:
    lessons, _ = repositories
    provider = CountingProvider()
    service = await _service(repositories, queue, provider)
    view = await service.create(
        user_id, CreateRoadmapRequest(goal="Learn Go", skill_level="advanced", prefetch=1)
    )
    lesson_id = view.modules[0].lessons[0].id
    message = GenerationMessage.model_validate_json(base64.b64decode((await _messages(queue))[0]))
    writers = [LessonWriter(lessons, _chain(provider), budget=5) for _ in range(3)]

    await asyncio.gather(*(writer.handle(message) for writer in writers for _ in range(4)))

    stored = await lessons.get(user_id, lesson_id)
    assert provider.lesson_calls == 1
    assert stored.status is GenerationStatus.COMPLETED
    assert stored.provider == "offline"
    assert stored.content is not None
