"""The research sources' shared budgets on the real Cosmos DB emulator: counted atomically for
every worker together, per minute and per day."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from azure.cosmos.aio import ContainerProxy

from adapters.cosmos import QUOTAS, create_cosmos_client
from adapters.research.budget import DEFAULT_LIMITS, CosmosSourceBudget, limits_for
from tests.conftest import Stack


@pytest.fixture
async def quotas(stack: Stack) -> AsyncIterator[ContainerProxy]:
    async with create_cosmos_client(stack.settings) as cosmos:
        yield cosmos.get_database_client(stack.settings.cosmos_database).get_container_client(
            QUOTAS
        )


def _source() -> str:
    return f"source-{uuid.uuid4().hex[:8]}"  # a fresh counter per test


async def test_twenty_concurrent_spends_of_a_budget_of_five_spend_exactly_five(
    quotas: ContainerProxy,
) -> None:
    source = _source()
    budget = CosmosSourceBudget(quotas, {source: (5, 100)})

    spent = await asyncio.gather(*(budget.spend(source) for _ in range(20)))

    assert spent.count(True) == 5


async def test_a_full_day_refuses_and_gives_the_minute_back(quotas: ContainerProxy) -> None:
    source = _source()
    budget = CosmosSourceBudget(quotas, {source: (10, 2)})

    spent = [await budget.spend(source) for _ in range(4)]

    assert spent == [True, True, False, False]
    roomier = CosmosSourceBudget(quotas, {source: (3, 100)})  # same counters, other limits
    assert await roomier.spend(source) is True  # the two refused requests took no minute


async def test_a_source_without_a_budget_is_never_refused(quotas: ContainerProxy) -> None:
    budget = CosmosSourceBudget(quotas, {})

    assert all([await budget.spend("anything") for _ in range(3)])


def test_keys_raise_the_budgets_they_buy() -> None:
    limits = limits_for({"stackoverflow": True, "github": True})

    assert limits["stackoverflow"][1] > DEFAULT_LIMITS["stackoverflow"][1]
    assert limits["github"][0] > DEFAULT_LIMITS["github"][0]
    assert limits["youtube"] == DEFAULT_LIMITS["youtube"]
