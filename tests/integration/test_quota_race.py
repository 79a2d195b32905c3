"""Allowances hold under concurrency on the real Cosmos DB emulator: every queued lesson spends
one, and simultaneous requests can never spend more than there is."""

import asyncio

from azure.storage.queue.aio import QueueClient

from adapters.cosmos import QUOTAS, create_cosmos_client
from adapters.cosmos_repository import CosmosLessonRepository, CosmosRoadmapRepository
from adapters.queue import StorageQueuePublisher
from adapters.quota import CosmosQuota
from domain.errors import QuotaExceeded
from domain.lesson_requests import LessonRequests
from domain.ports import Allowance
from tests.conftest import Stack
from tests.support.samples import skeleton_lessons

ALLOWANCE = 30
REQUESTS = 40


async def test_forty_simultaneous_requests_against_an_allowance_of_thirty_queue_exactly_thirty(
    stack: Stack,
    repositories: tuple[CosmosLessonRepository, CosmosRoadmapRepository],
    queue: QueueClient,
    user_id: str,
) -> None:
    lessons_repo = repositories[0]
    lessons = [*skeleton_lessons(user_id, 20), *skeleton_lessons(user_id, 20, goal="Learn Go")]
    await lessons_repo.add_all(lessons)
    async with create_cosmos_client(stack.settings) as cosmos:
        container = cosmos.get_database_client(stack.settings.cosmos_database)
        quota = CosmosQuota(
            container.get_container_client(QUOTAS), {Allowance.LESSONS: (ALLOWANCE, 3600)}
        )
        requests = LessonRequests(lessons_repo, StorageQueuePublisher(queue), quota)

        outcomes = await asyncio.gather(
            *(requests.request(user_id, lesson.id) for lesson in lessons), return_exceptions=True
        )

    refused = [outcome for outcome in outcomes if isinstance(outcome, QuotaExceeded)]
    accepted = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    assert (len(accepted), len(refused)) == (ALLOWANCE, REQUESTS - ALLOWANCE)
    properties = await queue.get_queue_properties()
    assert properties.approximate_message_count == ALLOWANCE
    stored = [await lessons_repo.get(user_id, lesson.id) for lesson in lessons]
    assert sum(lesson.status.value == "queued" for lesson in stored) == ALLOWANCE
