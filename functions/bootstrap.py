"""The composition root: settings, clients, repositories and services, built once per worker.

The Python worker runs every async function on one event loop, and the async Azure clients belong
to the loop they were first used on, so the services are built once per loop and then reused.
"""

import asyncio
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from azure.cosmos.aio import CosmosClient, DatabaseProxy
from pydantic import BaseModel

from adapters.auth import TokenVerifier
from adapters.cosmos import LESSONS, ROADMAPS, create_cosmos_client
from adapters.cosmos_repository import CosmosLessonRepository, CosmosRoadmapRepository
from adapters.queue import LESSON_GENERATION_QUEUE, StorageQueuePublisher, create_queue_client
from adapters.settings import Settings, get_settings
from domain.chain import Cooldowns
from domain.generation import GenerationRequests
from domain.ports import Generated, LessonBrief, RoadmapBrief, TaskKind
from domain.roadmaps import RoadmapService
from domain.writer import LessonWriter

if TYPE_CHECKING:
    import httpx

    from domain.chain import ProviderChain

M = TypeVar("M", bound=BaseModel)


# Provider cooldowns are shared by every invocation in the worker process.
COOLDOWNS = Cooldowns()


class LazyChain:
    """An ``LlmChain`` that builds the real one on first use.

    Provider SDKs are heavy to import; a worker that only serves reads never loads them.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._chain: ProviderChain | None = None
        self._http: httpx.AsyncClient | None = None

    async def generate(
        self, kind: TaskKind, brief: LessonBrief | RoadmapBrief, schema: type[M], *, budget: float
    ) -> Generated[M]:
        """Delegate to the real chain, building it first if needed."""
        if self._chain is None:
            from adapters.llm.factory import build_chain  # lazy on purpose

            self._chain, self._http = build_chain(self._settings, COOLDOWNS)
        return await self._chain.generate(kind, brief, schema, budget=budget)

    async def aclose(self) -> None:
        """Close the providers' HTTP client, if it was ever opened."""
        if self._http is not None:
            await self._http.aclose()


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
    chain: LazyChain

    async def aclose(self) -> None:
        """Close the clients (tests and tools; a worker keeps them for its whole life)."""
        await self.publisher.close()
        await self.cosmos.close()
        await self.chain.aclose()


def build_services(settings: Settings) -> Services:
    """Wire the application from settings. Creates clients but opens no connection yet."""
    cosmos = create_cosmos_client(settings)
    database = cosmos.get_database_client(settings.cosmos_database)
    lessons = CosmosLessonRepository(database.get_container_client(LESSONS))
    roadmaps = CosmosRoadmapRepository(database.get_container_client(ROADMAPS))
    publisher = StorageQueuePublisher(
        create_queue_client(settings.storage_connection.get_secret_value(), LESSON_GENERATION_QUEUE)
    )
    chain = LazyChain(settings)
    generation = GenerationRequests(lessons, publisher)
    return Services(
        settings=settings,
        verifier=TokenVerifier.from_settings(settings),
        cosmos=cosmos,
        database=database,
        publisher=publisher,
        lessons=lessons,
        generation=generation,
        roadmaps=RoadmapService(
            roadmaps,
            lessons,
            chain,
            generation,
            planning_budget=settings.llm_outline_budget_seconds,
        ),
        writer=LessonWriter(lessons, chain, budget=settings.llm_lesson_budget_seconds),
        chain=chain,
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
