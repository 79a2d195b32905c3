"""Research over a simulated internet (recorded answers, 150 ms each): the cache and the budget."""

import asyncio
import json
import time
import uuid
from pathlib import Path

import httpx

from adapters.cosmos import RESEARCH_CACHE, create_cosmos_client, ensure_schema
from adapters.research.cache import CosmosResearchCache
from adapters.research.devto import DevToSource
from adapters.research.docs import OfficialDocsSource
from adapters.research.github import GitHubSource
from adapters.research.stackoverflow import StackOverflowSource
from adapters.settings import Settings
from bench.rows import row
from domain.research import Researcher, ResearchQuery, ResearchSource

RECORDED = Path(__file__).resolve().parent.parent / "tests" / "unit" / "research" / "recorded"
ANSWERS = {
    "developer.mozilla.org": "mdn_search",
    "api.stackexchange.com": "stackoverflow_search",
    "api.github.com": "github_search",
    "dev.to": "devto_articles",
}
LATENCY = 0.15
HANG = 3.0
ROUNDS = 10


def _internet(hang: str | None) -> httpx.MockTransport:
    async def answer(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(HANG if request.url.host == hang else LATENCY)
        return httpx.Response(
            200, json=json.loads((RECORDED / f"{ANSWERS[request.url.host]}.json").read_text())
        )

    return httpx.MockTransport(answer)


def _researcher(
    http: httpx.AsyncClient, cache: CosmosResearchCache | None, budget: float
) -> Researcher:
    sources: list[ResearchSource] = [
        OfficialDocsSource(http),
        StackOverflowSource(http),
        GitHubSource(http),
        DevToSource(http),
    ]
    return Researcher(sources, cache, source_timeout=budget, budget=budget, tokens=1_200)


async def _median(researcher: Researcher, fresh: bool, rounds: int = ROUNDS) -> float:
    times = []
    query = ResearchQuery(text="javascript array map", tags=("javascript",))
    for _ in range(rounds):
        if fresh:
            query = ResearchQuery(
                text=f"javascript array map {uuid.uuid4().hex[:6]}", tags=("javascript",)
            )
        started = time.perf_counter()
        await researcher.research(query)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)[len(times) // 2]


async def _run(settings: Settings) -> list[dict[str, object]]:
    async with create_cosmos_client(settings) as cosmos:
        database = await ensure_schema(cosmos, settings.cosmos_database)
        cache = CosmosResearchCache(database.get_container_client(RESEARCH_CACHE), 3600)
        async with httpx.AsyncClient(transport=_internet(None)) as http:
            researcher = _researcher(http, cache, budget=6)
            await researcher.research(
                ResearchQuery(text="javascript array map", tags=("javascript",))
            )
            hit = await _median(researcher, fresh=False)
            miss = await _median(researcher, fresh=True)
        async with httpx.AsyncClient(transport=_internet("api.github.com")) as http:
            bounded = await _median(_researcher(http, None, budget=0.5), fresh=True, rounds=3)
            unbounded = await _median(_researcher(http, None, budget=10), fresh=True, rounds=3)
    return [
        row("research one lesson", "cache hit", hit, "4 sources asked", miss),
        row("research, 1 source hangs 3 s", "0.5 s budget", bounded, "10 s budget", unbounded),
    ]


def run(settings: Settings) -> list[dict[str, object]]:
    return asyncio.run(_run(settings))
