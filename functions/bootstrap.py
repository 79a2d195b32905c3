"""The composition root: validated settings in, a typed ``Services`` out, built in one place.

- ``start()`` runs when ``function_app`` is imported (what the Functions host does to index the
  functions): it validates every setting and raises one ``SettingsError`` naming each problem.
- ``current_services()`` is the one accessor triggers use. The async Azure and httpx clients belong
  to the event loop they first ran on, so services are built once per loop (the Python worker
  runs every async function on one loop) and reused for the worker's life.
- Provider cooldowns belong to the process (``Application``): one invocation's 429 spares the
  next one the call. Provider SDKs and research sources are imported on first use
  (``functions/writing.py``), so a worker that only serves reads never loads them
  (``tests/integration/test_cold_start.py``).
- Tests and tools substitute services through ``serving(services)``: the same accessor then
  answers with a ``Services`` they built (from fakes, say) inside the block.
"""

import asyncio
import logging
import math
import os
import socket
import uuid
import weakref
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from adapters.auth import TokenVerifier
from adapters.cosmos import (
    LESSON_CACHE,
    LESSONS,
    PROGRESS,
    QUOTAS,
    RESEARCH_CACHE,
    ROADMAPS,
    create_cosmos_client,
)
from adapters.cosmos_repository import CosmosLessonRepository, CosmosRoadmapRepository
from adapters.identity import create_credential, needs_identity
from adapters.jwks import create_jwks_client
from adapters.lesson_cache import CosmosLessonCache
from adapters.notifications import NoNotifier, WebPubSubNotifier, create_notifications, keyless
from adapters.progress_repository import CosmosProgressRepository
from adapters.queue import (
    LESSON_GENERATION_POISON_QUEUE,
    LESSON_GENERATION_QUEUE,
    StorageQueueDepths,
    StorageQueuePublisher,
    create_queue_client,
)
from adapters.quota import CosmosQuota
from adapters.settings import Settings, load_settings
from adapters.settings_rules import NETWORK_PROVIDERS
from adapters.telemetry import configure_telemetry
from domain.allowances import Allowances
from domain.cooldowns import Cooldowns
from domain.learning import LearnerService
from domain.lesson_requests import LessonRequests
from domain.lesson_writer import LessonWriter
from domain.ports import Allowance
from domain.roadmap_editor import RoadmapEditor
from domain.roadmap_service import RoadmapService
from domain.stats_service import StatsService
from domain.sweeper import Sweeper
from domain.telemetry import NoTelemetry, Telemetry
from functions.writing import (
    DeferredChain,
    DeferredResearch,
    OnFirstUse,
    SourceLinks,
    chain_for,
    clean_markdown_when_writing,
    prompt_version,
    researcher_for,
)

if TYPE_CHECKING:
    pass

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

log = logging.getLogger(__name__)

# This worker's name in the leases it takes: host, process and a random part (pids recur).
WORKER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

Probe = Callable[[], Awaitable[object]]
Closer = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Services:
    """Everything a trigger needs, wired together.

    ``probes`` maps each backing service to a call that raises unless it answers (``/api/health``);
    ``closers`` close the clients the services own, in order.
    """

    settings: Settings
    verifier: TokenVerifier
    generation: LessonRequests
    roadmaps: RoadmapService
    learner: LearnerService
    writer: LessonWriter
    sweeper: Sweeper
    stats: StatsService
    editor: RoadmapEditor
    cooldowns: Cooldowns
    telemetry: Telemetry = field(default_factory=NoTelemetry)
    probes: Mapping[str, Probe] = field(default_factory=dict)
    closers: tuple[Closer, ...] = ()
    # Web PubSub (client access URLs); None when not configured: no push, pages poll.
    notifications: WebPubSubNotifier | None = None
    # What is left of each learner's allowances (RateLimit fields); None: not reported.
    allowances: Allowances | None = None

    async def aclose(self) -> None:
        """Close the clients (tests and tools; a worker keeps them for its whole life)."""
        for close in self.closers:
            await close()


@dataclass(frozen=True)
class Shared:
    """What every invocation of a worker process shares: provider rests and the telemetry."""

    cooldowns: Cooldowns = field(default_factory=Cooldowns)
    telemetry: Telemetry = field(default_factory=NoTelemetry)


Builder = Callable[[Settings, Shared], Services]


def build_services(settings: Settings, shared: Shared) -> Services:
    """Wire the application to Azure from settings. Creates clients but opens no connection."""
    cooldowns, telemetry = shared.cooldowns, shared.telemetry
    wants_identity = needs_identity(settings) or keyless(settings)
    identity = create_credential(settings) if wants_identity else None
    notifications = create_notifications(settings, identity)
    notifier = notifications or NoNotifier()
    cosmos = create_cosmos_client(settings, identity)
    database = cosmos.get_database_client(settings.cosmos_database)
    lessons = CosmosLessonRepository(database.get_container_client(LESSONS))
    progress = CosmosProgressRepository(database.get_container_client(PROGRESS))
    roadmaps = CosmosRoadmapRepository(database.get_container_client(ROADMAPS))
    publisher = StorageQueuePublisher(
        create_queue_client(settings, LESSON_GENERATION_QUEUE, identity)
    )
    jwks_http = create_jwks_client() if settings.auth_jwks_url else None
    depths = StorageQueueDepths(
        [
            create_queue_client(settings, name, identity)
            for name in (LESSON_GENERATION_QUEUE, LESSON_GENERATION_POISON_QUEUE)
        ]
    )
    chain = OnFirstUse(lambda: chain_for(settings, cooldowns, telemetry))
    research = OnFirstUse(
        lambda: researcher_for(
            settings,
            database.get_container_client(RESEARCH_CACHE),
            telemetry,
            database.get_container_client(QUOTAS),
        )
    )
    quota = CosmosQuota(
        database.get_container_client(QUOTAS),
        {
            Allowance.LESSONS: (settings.quota_lessons_per_hour, 3600),
            Allowance.ROADMAPS: (settings.quota_roadmaps_per_day, 86_400),
        },
    )
    generation = LessonRequests(lessons, publisher, quota, telemetry=telemetry, notifier=notifier)
    lesson_cache = (
        CosmosLessonCache(
            database.get_container_client(LESSON_CACHE), settings.lesson_cache_ttl_seconds
        )
        if settings.lesson_cache
        else None
    )
    closers: list[Closer] = [
        publisher.close,
        depths.close,
        cosmos.close,
        chain.aclose,
        research.aclose,
    ]
    if jwks_http is not None:
        closers.append(jwks_http.aclose)
    if notifications is not None:
        closers.append(notifications.close)
    if identity is not None:
        closers.append(identity.close)
    return Services(
        settings=settings,
        verifier=TokenVerifier.from_settings(settings, jwks_http),
        generation=generation,
        roadmaps=RoadmapService(
            roadmaps,
            lessons,
            DeferredChain(chain),
            generation,
            planning_budget=settings.llm_outline_budget_seconds,
            progress=progress,
            quota=quota,
            telemetry=telemetry,
        ),
        learner=LearnerService(
            lessons,
            progress,
            generation,
            prefetch_on_view=settings.prefetch_on_view,
            roadmaps=roadmaps,
        ),
        writer=LessonWriter(
            lessons,
            DeferredChain(chain),
            budget=settings.llm_lesson_budget_seconds,
            researcher=DeferredResearch(research),
            owner=WORKER,
            lease_seconds=settings.generation_lease_seconds,
            telemetry=telemetry,
            cache=lesson_cache,
            prompt_version=prompt_version,
            links=SourceLinks(settings),
            notifier=notifier,
            clean=clean_markdown_when_writing,
            # host.json functionTimeout: the final save is retried until just before it.
            time_limit=settings.host.function_timeout or math.inf,
        ),
        sweeper=Sweeper(
            lessons,
            publisher,
            queued_for=settings.stuck_queued_seconds,
            max_requeues=settings.max_requeues,
            depths=depths,
            telemetry=telemetry,
            notifier=notifier,
        ),
        cooldowns=cooldowns,
        telemetry=telemetry,
        stats=StatsService(roadmaps, lessons, progress),
        editor=RoadmapEditor(
            roadmaps,
            lessons,
            progress,
            DeferredChain(chain),
            planning_budget=settings.llm_outline_budget_seconds,
            quota=quota,
            telemetry=telemetry,
        ),
        probes={"cosmos": database.read, "queue": publisher.ping},
        closers=tuple(closers),
        notifications=notifications,
        allowances=Allowances(quota),
    )


class Application:
    """One per worker process: the validated settings, the cooldowns, and services per loop."""

    def __init__(
        self, settings: Settings, build: Builder = build_services, shared: Shared | None = None
    ) -> None:
        self.settings = settings
        self.shared = shared or Shared(telemetry=configure_telemetry(settings))
        self._build = build
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Services] = (
            weakref.WeakKeyDictionary()
        )

    def services(self) -> Services:
        """The services of the running event loop, built on first use."""
        loop = asyncio.get_running_loop()
        services = self._by_loop.get(loop)
        if services is None:
            services = self._by_loop[loop] = self._build(self.settings, self.shared)
        return services


_current: Application | None = None


def start(settings: Settings | None = None, *, build: Builder = build_services) -> Application:
    """Validate the settings (from the environment unless given) and make the app of the process."""
    global _current
    _current = Application(settings if settings is not None else load_settings(), build)
    used, skipped = _current.settings.llm_chain()
    if not set(used) & set(NETWORK_PROVIDERS):
        log.warning(
            "no network LLM provider is usable (%s): every lesson will be an offline template",
            "; ".join(skipped.values()) or "LLM_PROVIDERS lists none",
        )
    return _current


def current_application() -> Application:
    """The started application (tools and tests that need the process's shared parts)."""
    if _current is None:
        raise RuntimeError("the application is not started: import function_app first")
    return _current


def current_services() -> Services:
    """The services triggers use: the running loop's, built by the started application."""
    return current_application().services()


@contextmanager
def serving(services: Services) -> Iterator[Services]:
    """Inside the block, every trigger uses ``services`` (the seam for tests and tools)."""
    global _current
    previous = _current
    shared = Shared(services.cooldowns, services.telemetry)
    _current = Application(services.settings, lambda _settings, _shared: services, shared)
    try:
        yield services
    finally:
        _current = previous
