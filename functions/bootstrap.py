"""The composition root: settings, clients, repositories and services, built once per worker.

The Python worker runs every async function on one event loop, and the async Azure clients belong
to the loop they were first used on, so the services are built once per loop and then reused.
"""

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from azure.cosmos.aio import CosmosClient, DatabaseProxy

from adapters.auth import TokenVerifier
from adapters.cosmos import LESSONS, ROADMAPS, create_cosmos_client
from adapters.cosmos_repository import CosmosLessonRepository, CosmosRoadmapRepository
from adapters.queue import LESSON_GENERATION_QUEUE, StorageQueuePublisher, create_queue_client
from adapters.settings import Settings, get_settings
from domain.generation import GenerationRequests
from domain.ports import Draft, LessonBrief, LlmProvider, RoadmapBrief
from domain.roadmaps import RoadmapService
from domain.writer import LessonWriter


class LazyProvider:
    """An ``LlmProvider`` that builds the real one on first use.

    Provider SDKs are heavy to import; a worker that only serves reads never loads them.
    """

    name = "lazy"

    def __init__(self, factory: Callable[[], LlmProvider]) -> None:
        self._factory = factory
        self._provider: LlmProvider | None = None

    def _get(self) -> LlmProvider:
        if self._provider is None:
            self._provider = self._factory()
        return self._provider

    async def write_lesson(self, brief: LessonBrief) -> Draft:
        """Delegate to the real provider."""
        return await self._get().write_lesson(brief)

    async def plan_roadmap(self, brief: RoadmapBrief) -> Draft:
        """Delegate to the real provider."""
        return await self._get().plan_roadmap(brief)


def _provider_chain() -> LlmProvider:
    from adapters.llm.offline import OfflineProvider

    return OfflineProvider()


@dataclass(frozen=True)
class Services:
    """Everything a trigger needs, wired together."""

    settings: Settings
    verifier: TokenVerifier
    cosmos: CosmosClient
    database: DatabaseProxy
    publisher: StorageQueuePublisher
    lessons: CosmosLessonRepository
    generation: GenerationRequests
    roadmaps: RoadmapService
    writer: LessonWriter

    async def aclose(self) -> None:
        """Close the clients (tests and tools; a worker keeps them for its whole life)."""
        await self.publisher.close()
        await self.cosmos.close()


def build_services(
    settings: Settings, provider_factory: Callable[[], LlmProvider] = _provider_chain
) -> Services:
    """Wire the application from settings. Creates clients but opens no connection yet."""
    cosmos = create_cosmos_client(settings)
    database = cosmos.get_database_client(settings.cosmos_database)
    lessons = CosmosLessonRepository(database.get_container_client(LESSONS))
    roadmaps = CosmosRoadmapRepository(database.get_container_client(ROADMAPS))
    publisher = StorageQueuePublisher(
        create_queue_client(settings.storage_connection.get_secret_value(), LESSON_GENERATION_QUEUE)
    )
    provider = LazyProvider(provider_factory)
    generation = GenerationRequests(lessons, publisher)
    return Services(
        settings=settings,
        verifier=TokenVerifier.from_settings(settings),
        cosmos=cosmos,
        database=database,
        publisher=publisher,
        lessons=lessons,
        generation=generation,
        roadmaps=RoadmapService(roadmaps, lessons, provider, generation),
        writer=LessonWriter(lessons, provider),
    )


_by_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Services]" = (
    weakref.WeakKeyDictionary()
)


def get_services() -> Services:
    """The services of the running event loop, built on first use."""
    loop = asyncio.get_running_loop()
    services = _by_loop.get(loop)
    if services is None:
        services = _by_loop[loop] = build_services(get_settings())
    return services
