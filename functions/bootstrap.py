"""The composition root: settings, clients, repositories and services, built once per worker.

The Python worker runs every async function on one event loop, and the async Azure clients belong
to the loop they were first used on, so the services are built once per loop and then reused.
"""

import asyncio
import os
import socket
import uuid
import weakref
from dataclasses import dataclass

import httpx
from azure.cosmos.aio import CosmosClient, DatabaseProxy

from adapters.auth import TokenVerifier
from adapters.cosmos import (
    LESSONS,
    PROGRESS,
    QUOTAS,
    RESEARCH_CACHE,
    ROADMAPS,
    create_cosmos_client,
)
from adapters.cosmos_repository import CosmosLessonRepository, CosmosRoadmapRepository
from adapters.jwks import create_jwks_client
from adapters.progress_repository import CosmosProgressRepository
from adapters.queue import LESSON_GENERATION_QUEUE, StorageQueuePublisher, create_queue_client
from adapters.quota import CosmosQuota
from adapters.settings import Settings, get_settings
from domain.generation import LESSONS as LESSON_QUOTA
from domain.generation import ROADMAPS as ROADMAP_QUOTA
from domain.generation import GenerationRequests
from domain.learning import LearnerService
from domain.roadmaps import RoadmapService
from domain.sweeper import Sweeper
from domain.writer import LessonWriter
from functions.lazy import WritingTools

# This worker's name in the leases it takes: host, process and a random part (pids recur).
WORKER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Services:
    """Everything a trigger needs, wired together."""

    settings: Settings
    verifier: TokenVerifier
    jwks_http: httpx.AsyncClient | None
    cosmos: CosmosClient
    database: DatabaseProxy
    publisher: StorageQueuePublisher
    lessons: CosmosLessonRepository
    generation: GenerationRequests
    roadmaps: RoadmapService
    learner: LearnerService
    writer: LessonWriter
    sweeper: Sweeper
    tools: WritingTools

    async def aclose(self) -> None:
        """Close the clients (tests and tools; a worker keeps them for its whole life)."""
        await self.publisher.close()
        await self.cosmos.close()
        await self.tools.aclose()
        if self.jwks_http is not None:
            await self.jwks_http.aclose()


def build_services(settings: Settings) -> Services:
    """Wire the application from settings. Creates clients but opens no connection yet."""
    cosmos = create_cosmos_client(settings)
    database = cosmos.get_database_client(settings.cosmos_database)
    lessons = CosmosLessonRepository(database.get_container_client(LESSONS))
    roadmaps = CosmosRoadmapRepository(database.get_container_client(ROADMAPS))
    publisher = StorageQueuePublisher(
        create_queue_client(settings.storage_connection.get_secret_value(), LESSON_GENERATION_QUEUE)
    )
    jwks_http = create_jwks_client() if settings.auth_jwks_url else None
    tools = WritingTools(settings, database.get_container_client(RESEARCH_CACHE))
    progress = CosmosProgressRepository(database.get_container_client(PROGRESS))
    quota = CosmosQuota(
        database.get_container_client(QUOTAS),
        {
            LESSON_QUOTA: (settings.quota_lessons_per_hour, 3600),
            ROADMAP_QUOTA: (settings.quota_roadmaps_per_day, 86_400),
        },
    )
    generation = GenerationRequests(lessons, publisher, quota)
    return Services(
        settings=settings,
        verifier=TokenVerifier.from_settings(settings, jwks_http),
        jwks_http=jwks_http,
        cosmos=cosmos,
        database=database,
        publisher=publisher,
        lessons=lessons,
        generation=generation,
        roadmaps=RoadmapService(
            roadmaps,
            lessons,
            tools,
            generation,
            planning_budget=settings.llm_outline_budget_seconds,
            progress=progress,
            quota=quota,
        ),
        learner=LearnerService(
            lessons, progress, generation, prefetch_on_view=settings.prefetch_on_view
        ),
        writer=LessonWriter(
            lessons,
            tools,
            budget=settings.llm_lesson_budget_seconds,
            researcher=tools,
            owner=WORKER,
            lease_seconds=settings.generation_lease_seconds,
        ),
        sweeper=Sweeper(
            lessons,
            publisher,
            queued_for=settings.stuck_queued_seconds,
            max_requeues=settings.max_requeues,
        ),
        tools=tools,
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
