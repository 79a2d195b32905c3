"""The one search skeleton every JSON search API shares, so a source declares only what differs.

A search is: build the request (or decide there is nothing to ask) → nothing while resting → one
guarded ``GET`` → obey the API's throttling signals by resting → the list of items, or one warning
→ each item as a ``Finding``, at most ``MAX_RESULTS``. A subclass names its ``kind``, ``url`` and
``items_key`` and writes ``params`` and ``findings``; it overrides ``obey`` when its API throttles
otherwise than with a 429 and ``retry-after``, and ``detail`` when its errors name themselves.
"""

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import islice
from typing import Any

import httpx

from adapters.research.text import (
    MAX_RESULTS,
    Reply,
    Rest,
    get_json,
    items_of,
    say_unusable,
    seconds,
)
from domain.research import Finding, ResearchQuery


class JsonSearchSource(ABC):
    """A ``ResearchSource`` that asks one JSON search endpoint per query; never raises."""

    kind: str  # the findings' kind, and the name the logs use unless ``label`` says otherwise
    url: str  # the endpoint, asked with ``GET``
    items_key: str | None = "items"  # where the reply's list of items is; ``None``: the body

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        headers: Mapping[str, str] | None = None,
        throttle_cooldown: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Ask through ``http``.

        :param http: the shared client; each request carries the search's own time limit.
        :param headers: sent with every request (an API version, a key that must not be in a URL).
        :param throttle_cooldown: rest after a refusal that says nothing of how long to wait.
        :param clock: Unix seconds; tests pass a fake.
        """
        self._http = http
        self._headers = headers
        self._throttle_cooldown = throttle_cooldown
        self._rest = Rest(clock)

    @property
    def label(self) -> str:
        """The name logs give this source."""
        return self.kind

    @abstractmethod
    def params(self, query: ResearchQuery) -> dict[str, str] | None:
        """The query string that asks for ``query``; ``None`` when there is nothing to ask."""

    @abstractmethod
    def findings(self, items: Sequence[Mapping[str, Any]]) -> Iterable[Finding | None]:
        """Each item as a finding, in the API's order; ``None`` for an item that is unusable."""

    def obey(self, reply: Reply) -> None:
        """Rest as the reply asks: after a 429, for its ``retry-after`` or the throttle cooldown."""
        if reply.status == 429:
            wait = seconds(reply.headers.get("retry-after"))
            self._rest.take(wait if wait is not None else self._throttle_cooldown)

    def detail(self, body: Any) -> str:
        """What an error body says about itself, for the warning; ``""`` when nothing."""
        return ""

    async def search(self, query: ResearchQuery, *, time_limit: float) -> list[Finding]:
        """Up to five findings; ``[]`` with nothing to ask, while resting or on trouble."""
        params = self.params(query)
        if params is None or self._rest.resting(self.label):
            return []
        reply = await get_json(
            self._http,
            self.label,
            self.url,
            params=params,
            headers=self._headers,
            time_limit=time_limit,
        )
        if reply is None:
            return []
        self.obey(reply)
        items = items_of(reply.body, self.items_key) if reply.status == 200 else None
        if items is None:
            say_unusable(self.label, reply, self.detail(reply.body))
            return []
        return list(islice(filter(None, self.findings(items)), MAX_RESULTS))
