"""Per-user allowances in Cosmos DB, shared by every instance: fixed windows, atomic counts.

One document per user, kind and window (``lessons:<window start, epoch seconds>``), counted with
a conditional
patch (``incr`` only while the count stays within the limit), so two instances can never both
spend the last unit. Documents expire by ``ttl`` after their window.
"""

from collections.abc import Callable, Mapping
from datetime import datetime

from azure.cosmos import exceptions as cosmos_errors
from azure.cosmos.aio import ContainerProxy

from adapters.cosmos import storage_errors
from domain.allowances import allowance_state, window_start
from domain.base import utcnow
from domain.errors import ConcurrencyConflict, NotFound, QuotaExceeded
from domain.ports import AllowanceState


class CosmosQuota:
    """``limits``: kind → (how many, per how many seconds). Kinds are a learner's allowances
    (``Allowance``) and the shared research budgets (``adapters/research/budget.py``)."""

    def __init__(
        self,
        container: ContainerProxy,
        limits: Mapping[str, tuple[int, int]],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._container = container
        self._limits = dict(limits)
        self._clock = clock

    async def take(self, user_id: str, kind: str, count: int = 1) -> None:
        """Spend ``count``; ``QuotaExceeded`` (and nothing spent) when too few are left."""
        limit, window = self._limits[kind]
        moment = self._clock()
        now = moment.timestamp()
        start = window_start(moment, window)
        retry_after = start + window - now
        if count > limit:
            raise QuotaExceeded(kind, limit, retry_after)
        item_id = f"{kind}:{start}"
        for _ in range(3):
            try:
                with storage_errors("quota", item_id):
                    await self._container.patch_item(
                        item_id,
                        partition_key=user_id,
                        patch_operations=[{"op": "incr", "path": "/count", "value": count}],
                        filter_predicate=f"FROM c WHERE c.count <= {limit - count}",
                    )
                return
            except ConcurrencyConflict:  # 412: the condition failed, not enough is left
                raise QuotaExceeded(kind, limit, retry_after) from None
            except NotFound:  # the first request of this window
                pass
            if await self._open_window(user_id, item_id, kind, count, window):
                return
        raise QuotaExceeded(kind, limit, retry_after)

    async def refund(self, user_id: str, kind: str, count: int = 1) -> None:
        """Give back ``count`` in the current window (never below zero)."""
        _, window = self._limits[kind]
        item_id = f"{kind}:{window_start(self._clock(), window)}"
        try:
            with storage_errors("quota", item_id):
                await self._container.patch_item(
                    item_id,
                    partition_key=user_id,
                    patch_operations=[{"op": "incr", "path": "/count", "value": -count}],
                    filter_predicate=f"FROM c WHERE c.count >= {count}",
                )
        except (NotFound, ConcurrencyConflict):
            pass  # nothing (or not that much) to give back in this window

    async def standing(self, user_id: str, kind: str) -> AllowanceState:
        """What is left of ``kind`` in the current window, read from its counter; spends nothing.

        One point read of the very counter ``take`` and ``refund`` patch, so it is exact for the
        window it reads; a missing counter (nothing spent yet, or the window's first request
        still opening it) leaves the whole limit. ``StorageUnavailable`` if Cosmos cannot answer.
        """
        limit, window = self._limits[kind]
        now = self._clock()
        item_id = f"{kind}:{window_start(now, window)}"
        try:
            with storage_errors("quota", item_id):
                item = await self._container.read_item(item_id, partition_key=user_id)
            spent = int(item.get("count", 0))
        except NotFound:
            spent = 0
        return allowance_state(kind, limit, window, spent, now)

    async def _open_window(
        self, user_id: str, item_id: str, kind: str, count: int, window: int
    ) -> bool:
        """Create the window's counter with ``count`` spent; False if another request did."""
        document = {"id": item_id, "userId": user_id, "kind": kind, "count": count}
        try:
            with storage_errors("quota", item_id):
                await self._container.create_item({**document, "ttl": 2 * window})
        except cosmos_errors.CosmosResourceExistsError:
            return False
        return True
