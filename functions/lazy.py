"""The heavy parts of writing — provider SDKs, the chain, research sources — built on first use.

A worker that only serves reads never imports them (``tests/integration/test_cold_start.py``).
Provider cooldowns live here, once per worker process, shared by every invocation.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from azure.cosmos.aio import ContainerProxy
from pydantic import BaseModel

from adapters.settings import Settings
from domain.chain import Cooldowns
from domain.ports import Generated, LessonBrief, RoadmapBrief, TaskKind
from domain.research import Digest, ResearchQuery

if TYPE_CHECKING:
    import httpx

    from domain.chain import ProviderChain
    from domain.research import Researcher

M = TypeVar("M", bound=BaseModel)

COOLDOWNS = Cooldowns()


@dataclass(frozen=True)
class _Built:
    chain: "ProviderChain"
    researcher: "Researcher"
    clients: "tuple[httpx.AsyncClient, ...]"


class WritingTools:
    """Builds the provider chain and the researcher together, the first time either is needed.

    It is both an ``LlmChain`` and a ``Research``.
    """

    def __init__(self, settings: Settings, research_cache: ContainerProxy) -> None:
        self._settings = settings
        self._cache = research_cache
        self._built: _Built | None = None

    def _get(self) -> _Built:
        if self._built is None:
            from adapters.llm.factory import build_chain  # lazy on purpose
            from adapters.research.factory import build_researcher

            chain, llm_http = build_chain(self._settings, COOLDOWNS)
            researcher, research_http = build_researcher(self._settings, self._cache)
            self._built = _Built(chain, researcher, (llm_http, research_http))
        return self._built

    async def generate(
        self, kind: TaskKind, brief: LessonBrief | RoadmapBrief, schema: type[M], *, budget: float
    ) -> Generated[M]:
        """Ask the provider chain."""
        return await self._get().chain.generate(kind, brief, schema, budget=budget)

    async def research(self, query: ResearchQuery) -> Digest:
        """Ask the research sources."""
        return await self._get().researcher.research(query)

    async def aclose(self) -> None:
        """Close the HTTP clients, if they were ever opened."""
        if self._built is not None:
            for client in self._built.clients:
                await client.aclose()
