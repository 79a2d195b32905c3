"""CosmosQuota: fixed windows counted with a conditional patch, against an in-memory container.

The stand-in container answers like the Cosmos SDK: a patch whose filter predicate does not hold
raises ``CosmosAccessConditionFailedError`` (412), a patch of a missing item
``CosmosResourceNotFoundError`` (404), a second create of one id ``CosmosResourceExistsError``.
"""

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

import pytest
from azure.cosmos import exceptions as cosmos_errors
from azure.cosmos.aio import ContainerProxy

from adapters.quota import CosmosQuota
from domain.errors import QuotaExceeded
from domain.ports import Allowance
from tests.unit.fakes import WINDOW_START, FakeUtcClock

HOUR = 3_600
LIMIT = 3
KIND = Allowance.LESSONS
_PREDICATE = re.compile(r"^FROM c WHERE c\.count (<=|>=) (-?\d+)$")  # take's, refund's


def _sdk_error(error_type: Callable[..., Exception], status: int) -> Exception:
    """An SDK error as the client raises it (the SDK's constructors are untyped)."""
    return error_type(status_code=status, message=f"HTTP {status}")


class InMemoryContainer:
    """The part of ``azure.cosmos.aio.ContainerProxy`` a quota uses, items keyed by partition."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.patches = 0
        # Runs once, just before the next ``create_item``: "another request" acting meanwhile.
        self.before_next_create: Callable[[], None] | None = None

    def counter(self, user_id: str, item_id: str) -> int | None:
        """The stored count of one window, if it exists."""
        item = self.items.get((user_id, item_id))
        return None if item is None else int(item["count"])

    async def read_item(self, item: str, partition_key: str) -> dict[str, Any]:
        stored = self.items.get((partition_key, item))
        if stored is None:
            raise _sdk_error(cosmos_errors.CosmosResourceNotFoundError, 404)
        return dict(stored)

    async def patch_item(
        self,
        item: str,
        partition_key: str,
        patch_operations: list[dict[str, Any]],
        *,
        filter_predicate: str | None = None,
    ) -> dict[str, Any]:
        self.patches += 1
        stored = self.items.get((partition_key, item))
        if stored is None:
            raise _sdk_error(cosmos_errors.CosmosResourceNotFoundError, 404)
        if filter_predicate is not None:
            match = _PREDICATE.fullmatch(filter_predicate)
            assert match is not None, f"unexpected predicate {filter_predicate!r}"
            operator, bound = match.group(1), int(match.group(2))
            holds = stored["count"] <= bound if operator == "<=" else stored["count"] >= bound
            if not holds:
                raise _sdk_error(cosmos_errors.CosmosAccessConditionFailedError, 412)
        for operation in patch_operations:
            assert (operation["op"], operation["path"]) == ("incr", "/count"), operation
            stored["count"] += operation["value"]
        return dict(stored)

    async def create_item(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.before_next_create is not None:
            meddle, self.before_next_create = self.before_next_create, None
            meddle()
        key = (body["userId"], body["id"])
        if key in self.items:
            raise _sdk_error(cosmos_errors.CosmosResourceExistsError, 409)
        self.items[key] = dict(body)
        return dict(body)


class World:
    """A quota of ``LIMIT`` lessons an hour on an in-memory container and a fake clock."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.container = InMemoryContainer()
        self.clock = FakeUtcClock(WINDOW_START)
        self.quota = CosmosQuota(
            cast(ContainerProxy, self.container), {KIND: (limit, HOUR)}, clock=self.clock
        )

    def window_id(self) -> str:
        """The id of the current window's counter."""
        return f"{KIND}:{int(self.clock().timestamp()) // HOUR * HOUR}"

    def spent(self, user_id: str = "alice") -> int:
        """What ``user_id`` has spent in the current window."""
        return self.container.counter(user_id, self.window_id()) or 0


async def test_spends_within_the_window_up_to_the_limit():
    world = World()

    await world.quota.take("alice", KIND)
    await world.quota.take("alice", KIND, 2)

    assert world.spent() == LIMIT


async def test_the_first_request_of_a_window_opens_a_counter_that_expires():
    world = World()

    await world.quota.take("alice", KIND, 2)

    [item] = world.container.items.values()
    assert (item["id"], item["userId"], item["kind"], item["count"]) == (
        world.window_id(),
        "alice",
        KIND,
        2,
    )
    assert item["ttl"] >= HOUR


async def test_past_the_limit_is_refused_and_spends_nothing():
    world = World()
    await world.quota.take("alice", KIND, 2)

    with pytest.raises(QuotaExceeded) as refused:
        await world.quota.take("alice", KIND, 2)
    await world.quota.take("alice", KIND)
    with pytest.raises(QuotaExceeded):
        await world.quota.take("alice", KIND)

    assert (refused.value.kind, refused.value.limit) == (KIND, LIMIT)
    assert world.spent() == LIMIT


@pytest.mark.parametrize("into_window", [0, 1, 600, HOUR - 1])
async def test_retry_after_is_the_time_left_in_the_window(into_window: int):
    world = World(limit=1)
    world.clock.advance(into_window)
    await world.quota.take("alice", KIND)

    with pytest.raises(QuotaExceeded) as refused:
        await world.quota.take("alice", KIND)

    assert refused.value.retry_after == pytest.approx(HOUR - into_window)


async def test_a_new_window_starts_fresh():
    world = World()
    await world.quota.take("alice", KIND, LIMIT)
    world.clock.advance(HOUR - 1)
    with pytest.raises(QuotaExceeded):
        await world.quota.take("alice", KIND)

    world.clock.advance(1)
    await world.quota.take("alice", KIND, LIMIT)

    assert world.spent() == LIMIT
    assert len(world.container.items) == 2


async def test_asking_for_more_than_the_limit_at_once_is_refused_without_touching_storage():
    world = World()

    with pytest.raises(QuotaExceeded):
        await world.quota.take("alice", KIND, LIMIT + 1)

    assert world.container.items == {}
    assert world.container.patches == 0


async def test_two_users_never_share_a_counter():
    world = World()

    await world.quota.take("alice", KIND, LIMIT)
    await world.quota.take("bob", KIND)
    with pytest.raises(QuotaExceeded):
        await world.quota.take("alice", KIND)

    assert (world.spent("alice"), world.spent("bob")) == (LIMIT, 1)


async def test_another_request_opening_the_window_first_is_counted_with_it():
    world = World()

    def another_request_opens_the_window() -> None:
        key = ("alice", world.window_id())
        world.container.items[key] = {"id": key[1], "userId": "alice", "kind": KIND, "count": 1}

    world.container.before_next_create = another_request_opens_the_window

    await world.quota.take("alice", KIND)

    assert world.spent() == 2


async def test_another_request_that_spends_the_rest_first_leaves_this_one_refused():
    world = World()

    def another_request_takes_everything() -> None:
        key = ("alice", world.window_id())
        world.container.items[key] = {
            "id": key[1],
            "userId": "alice",
            "kind": KIND,
            "count": LIMIT,
        }

    world.container.before_next_create = another_request_takes_everything

    with pytest.raises(QuotaExceeded):
        await world.quota.take("alice", KIND)

    assert world.spent() == LIMIT


# ``standing``: what is left, read from the same counter, spending nothing.


async def test_a_window_nothing_was_spent_in_stands_whole_until_its_end():
    world = World()
    world.clock.advance(600)

    state = await world.quota.standing("alice", KIND)

    assert (state.kind, state.limit, state.remaining, state.window_seconds) == (
        KIND,
        LIMIT,
        LIMIT,
        HOUR,
    )
    assert state.resets_at == WINDOW_START + timedelta(hours=1)
    assert state.resets_in_seconds == HOUR - 600
    assert world.container.items == {}  # reading opened no counter


async def test_standing_follows_takes_and_refunds_and_spends_nothing():
    world = World()
    await world.quota.take("alice", KIND, 2)
    after_take = await world.quota.standing("alice", KIND)
    await world.quota.refund("alice", KIND)
    after_refund = await world.quota.standing("alice", KIND)
    await world.quota.take("alice", KIND, 2)

    assert (after_take.remaining, after_refund.remaining) == (1, 2)
    assert (await world.quota.standing("alice", KIND)).remaining == 0
    assert (await world.quota.standing("bob", KIND)).remaining == LIMIT
    assert world.spent() == LIMIT


async def test_a_used_up_allowance_stands_whole_again_the_moment_its_window_ends():
    world = World()
    await world.quota.take("alice", KIND, LIMIT)
    world.clock.advance(HOUR - 0.5)
    last_moment = await world.quota.standing("alice", KIND)

    world.clock.advance(0.5)
    next_window = await world.quota.standing("alice", KIND)

    assert (last_moment.remaining, last_moment.resets_in_seconds) == (0, 1)
    assert (next_window.remaining, next_window.resets_in_seconds) == (LIMIT, HOUR)
    assert next_window.resets_at == last_moment.resets_at + timedelta(hours=1)
