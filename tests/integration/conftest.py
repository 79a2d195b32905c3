import uuid
from collections.abc import AsyncIterator

import pytest
from azure.storage.queue.aio import QueueClient

from adapters.cosmos import LESSONS, ROADMAPS, create_cosmos_client
from adapters.cosmos_repository import CosmosLessonRepository, CosmosRoadmapRepository
from adapters.queue import create_queue_client
from tests.conftest import Stack


@pytest.fixture
def user_id() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def repositories(
    stack: Stack,
) -> AsyncIterator[tuple[CosmosLessonRepository, CosmosRoadmapRepository]]:
    async with create_cosmos_client(stack.settings) as cosmos:
        database = cosmos.get_database_client(stack.settings.cosmos_database)
        yield (
            CosmosLessonRepository(database.get_container_client(LESSONS)),
            CosmosRoadmapRepository(database.get_container_client(ROADMAPS)),
        )


@pytest.fixture
async def queue(stack: Stack) -> AsyncIterator[QueueClient]:
    """A fresh queue of this test's own, deleted afterwards."""
    client = create_queue_client(stack.settings, f"test-{uuid.uuid4().hex[:16]}")
    async with client:
        await client.create_queue()
        yield client
        await client.delete_queue()
