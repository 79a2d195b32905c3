"""The clients one ``ops`` run uses, built from the app's settings as the function app builds them.

Keys and connection strings (the local emulators) win; without them the command signs in with
``DefaultAzureCredential``: the managed identity in Azure, a developer's ``az login`` locally.
"""

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from azure.cosmos.aio import ContainerProxy
from azure.storage.queue.aio import QueueClient

from adapters.cosmos import LESSONS, create_cosmos_client
from adapters.cosmos_repository import CosmosLessonRepository
from adapters.identity import create_credential, needs_identity
from adapters.queue import (
    LESSON_GENERATION_POISON_QUEUE,
    LESSON_GENERATION_QUEUE,
    StorageQueuePublisher,
    create_queue_client,
)
from adapters.settings import Settings, load_settings
from devhost.localsettings import values
from domain.lesson_requests import LessonRequests


def read_settings(environ: Mapping[str, str] | None, settings_file: Path | None) -> Settings:
    """The app's settings from the environment; a ``local.settings.json``'s Values win over it."""
    if settings_file is None:
        return load_settings(environ)
    base = dict(os.environ if environ is None else environ)
    return load_settings({**base, **values(settings_file)})


def poison_name(queue: str) -> str:
    """The queue the Functions host moves ``queue``'s failed messages to."""
    if queue == LESSON_GENERATION_QUEUE:
        return LESSON_GENERATION_POISON_QUEUE
    return f"{queue}-poison"


@dataclass(frozen=True)
class Ops:
    """Everything a command may touch: settings, the lessons container, both queues."""

    settings: Settings
    container: ContainerProxy
    lessons: CosmosLessonRepository
    main_queue: QueueClient
    poison_queue: QueueClient
    publisher: StorageQueuePublisher
    requests: LessonRequests


@asynccontextmanager
async def connect(settings: Settings, queue: str = LESSON_GENERATION_QUEUE) -> AsyncIterator[Ops]:
    """Open the clients for one run and close them (and the credential) afterwards."""
    identity = create_credential(settings) if needs_identity(settings) else None
    try:
        cosmos = create_cosmos_client(settings, identity)
        main_queue = create_queue_client(settings, queue, identity)
        poison_queue = create_queue_client(settings, poison_name(queue), identity)
        async with cosmos, main_queue, poison_queue:
            container = cosmos.get_database_client(settings.cosmos_database).get_container_client(
                LESSONS
            )
            lessons = CosmosLessonRepository(container)
            publisher = StorageQueuePublisher(main_queue)
            yield Ops(
                settings=settings,
                container=container,
                lessons=lessons,
                main_queue=main_queue,
                poison_queue=poison_queue,
                publisher=publisher,
                # No quota: an operator's re-queue is not the learner's request (charge=False).
                requests=LessonRequests(lessons, publisher),
            )
    finally:
        if identity is not None:
            await identity.close()
