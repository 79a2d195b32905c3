"""A learner's allowances as they stand: what is left and when it comes back, without spending.

Allowances are counted in fixed windows: a window of ``w`` seconds starts at every whole multiple
of ``w`` since the Unix epoch (so an hour's window starts on the hour, UTC), and everything spent
in it comes back at its end. ``window_start`` is that rule, shared by the Cosmos adapter and the
test fakes, so what ``standing`` reports is exactly what ``take`` would count against.
"""

import asyncio
import math
from collections.abc import Sequence
from datetime import UTC, datetime

from domain.base import DocumentModel
from domain.ports import Allowance, AllowanceState, Quota


def window_start(moment: datetime, seconds: int) -> int:
    """The start of the window of ``seconds`` holding ``moment``, in whole epoch seconds."""
    return int(moment.timestamp() // seconds) * seconds


def allowance_state(
    kind: str, limit: int, seconds: int, spent: int, now: datetime
) -> AllowanceState:
    """The standing of ``kind`` at ``now``, given what was ``spent`` in the current window."""
    ends = window_start(now, seconds) + seconds
    return AllowanceState(
        kind=kind,
        limit=limit,
        remaining=max(0, limit - spent),  # a lowered limit can leave a window overspent
        window_seconds=seconds,
        resets_at=datetime.fromtimestamp(ends, UTC),
        resets_in_seconds=math.ceil(ends - now.timestamp()),  # in (0, seconds]: now < ends
    )


class AllowanceList(DocumentModel):
    """The body of ``GET /api/me/allowances``: every allowance, lessons first."""

    allowances: list[AllowanceState]


class Allowances:
    """Reads where a learner stands in each allowance (for the API and its header fields)."""

    def __init__(self, quota: Quota, kinds: Sequence[Allowance] = tuple(Allowance)) -> None:
        self._quota = quota
        self._kinds = tuple(kinds)

    async def standings(self, user_id: str) -> list[AllowanceState]:
        """Every allowance of ``user_id`` now, in ``Allowance`` order: one point read each."""
        found = await asyncio.gather(*(self._quota.standing(user_id, k) for k in self._kinds))
        return list(found)

    async def listing(self, user_id: str) -> AllowanceList:
        """``standings`` as the API answers them."""
        return AllowanceList(allowances=await self.standings(user_id))
