"""What is left of an allowance, read from the real Cosmos DB emulator: the very counter that
``take`` and ``refund`` patch, so the standing is exact after each of them, after concurrent
spending, and whole again when the window ends."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from azure.cosmos.aio import ContainerProxy

from adapters.cosmos import QUOTAS, create_cosmos_client
from adapters.quota import CosmosQuota
from domain.errors import QuotaExceeded
from domain.ports import Allowance
from tests.conftest import Stack
from tests.unit.fakes import FakeUtcClock

HOUR = 3_600
# Ten minutes into an hour: the window ends at 00:00 of the next hour, 3,000 s away.
TEN_PAST = datetime(2031, 1, 1, 9, 10, tzinfo=UTC)


@pytest.fixture
async def quotas(stack: Stack) -> AsyncIterator[ContainerProxy]:
    async with create_cosmos_client(stack.settings) as cosmos:
        yield cosmos.get_database_client(stack.settings.cosmos_database).get_container_client(
            QUOTAS
        )


async def test_the_standing_follows_each_take_and_refund_and_reading_spends_nothing(
    quotas: ContainerProxy, user_id: str
) -> None:
    quota = CosmosQuota(quotas, {Allowance.LESSONS: (5, HOUR)}, clock=FakeUtcClock(TEN_PAST))

    fresh = await quota.standing(user_id, Allowance.LESSONS)
    await quota.take(user_id, Allowance.LESSONS, 2)
    after_take = await quota.standing(user_id, Allowance.LESSONS)
    await quota.refund(user_id, Allowance.LESSONS)
    after_refund = await quota.standing(user_id, Allowance.LESSONS)
    await quota.take(user_id, Allowance.LESSONS, 4)
    with pytest.raises(QuotaExceeded):
        await quota.take(user_id, Allowance.LESSONS)
    used_up = await quota.standing(user_id, Allowance.LESSONS)

    assert [s.remaining for s in (fresh, after_take, after_refund, used_up)] == [5, 3, 4, 0]
    assert (used_up.limit, used_up.window_seconds) == (5, HOUR)
    assert used_up.resets_at == datetime(2031, 1, 1, 10, 0, tzinfo=UTC)
    assert used_up.resets_in_seconds == 3_000
    assert (await quota.standing(f"{user_id}-other", Allowance.LESSONS)).remaining == 5


async def test_a_used_up_allowance_stands_whole_once_its_window_ends(
    quotas: ContainerProxy, user_id: str
) -> None:
    clock = FakeUtcClock(TEN_PAST)
    quota = CosmosQuota(quotas, {Allowance.LESSONS: (3, HOUR)}, clock=clock)
    await quota.take(user_id, Allowance.LESSONS, 3)

    clock.advance(2_999)
    last_second = await quota.standing(user_id, Allowance.LESSONS)
    clock.advance(1)
    next_window = await quota.standing(user_id, Allowance.LESSONS)
    await quota.take(user_id, Allowance.LESSONS)  # and take agrees: the new window has room

    assert (last_second.remaining, last_second.resets_in_seconds) == (0, 1)
    assert (next_window.remaining, next_window.resets_in_seconds) == (3, HOUR)
    assert next_window.resets_at == last_second.resets_at + timedelta(hours=1)
    assert (await quota.standing(user_id, Allowance.LESSONS)).remaining == 2


async def test_after_concurrent_spending_the_standing_is_what_the_takes_granted(
    quotas: ContainerProxy, user_id: str
) -> None:
    quota = CosmosQuota(quotas, {Allowance.LESSONS: (10, HOUR)}, clock=FakeUtcClock(TEN_PAST))

    outcomes = await asyncio.gather(
        *(quota.take(user_id, Allowance.LESSONS) for _ in range(14)), return_exceptions=True
    )
    granted = sum(outcome is None for outcome in outcomes)
    standing = await quota.standing(user_id, Allowance.LESSONS)
    await asyncio.gather(*(quota.refund(user_id, Allowance.LESSONS) for _ in range(3)))

    assert (granted, standing.remaining) == (10, 0)
    assert (await quota.standing(user_id, Allowance.LESSONS)).remaining == 3
