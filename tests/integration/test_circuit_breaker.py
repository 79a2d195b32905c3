"""The provider circuit breaker with the real SDKs against a local server answering 500."""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest

from adapters.llm.factory import build_chain
from adapters.settings import settings_from
from domain.chain import ProviderChain
from domain.content import LessonContent
from domain.cooldowns import Cooldowns
from domain.ports import Generated, LessonBrief, TaskKind
from tests.support.fake_llm import FakeLlmServer, Reply
from tests.support.samples import lesson_json

LESSONS = 20
BRIEF = LessonBrief(
    goal="Learn Python for data analysis",
    skill_level="beginner",
    module_title="Python basics",
    title="Lists and comprehensions",
    description="Building lists",
    objectives=("Write a list comprehension", "Filter items with if"),
    estimated_minutes=35,
)
Build = Callable[..., ProviderChain]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLlmServer]:
    with FakeLlmServer() as running:
        yield running


@pytest.fixture
async def chain_for(server: FakeLlmServer) -> AsyncIterator[Build]:
    """Builds chains through ``build_chain``, as a worker does, sharing one worker's Cooldowns."""
    server.reset()
    cooldowns = Cooldowns()
    clients: list[httpx.AsyncClient] = []

    def build(failures: int = 3, rest: float = 60.0) -> ProviderChain:
        settings = settings_from(
            {
                "AzureWebJobsStorage": "UseDevelopmentStorage=true",
                "COSMOS_ENDPOINT": "http://127.0.0.1:1",
                "SWEEP_SCHEDULE": "0 */1 * * * *",
                "COSMOS_KEY": "k",
                "AUTH_JWT_SECRET": "s" * 40,
                "LLM_PROVIDERS": "groq,gemini,offline",
                "GROQ_API_KEY": "gsk_test_groq_SECRET_0001",
                "GROQ_BASE_URL": server.root_url,
                "GEMINI_API_KEY": "AIza_test_gemini_SECRET_0002",
                "GEMINI_BASE_URL": server.root_url,
                "LLM_ATTEMPT_TIMEOUT_SECONDS": "5",
                "LLM_BREAKER_FAILURES": str(failures),
                "LLM_BREAKER_REST_SECONDS": str(rest),
            }
        )
        chain, http = build_chain(settings, cooldowns)
        clients.append(http)
        return chain

    yield build
    for http in clients:
        await http.aclose()


async def _lessons(chain: ProviderChain, n: int) -> list[Generated[LessonContent]]:
    return [
        await chain.generate(TaskKind.LESSON, BRIEF, LessonContent, budget=20) for _ in range(n)
    ]


@pytest.mark.parametrize("failures", [3, 5])
async def test_groq_answering_500_for_every_lesson_gets_only_the_breakers_few_requests(
    server: FakeLlmServer, chain_for: Build, failures: int
) -> None:
    server.default("groq", Reply.error(500))
    server.default("gemini", Reply.ok(lesson_json()))

    written = await _lessons(chain_for(failures), LESSONS)

    assert len(server.requests("groq")) == failures  # 2 per lesson, 40, without the breaker
    assert [w.draft.provider for w in written] == ["gemini"] * LESSONS
    assert len(server.requests("gemini")) == LESSONS
    assert [(a.provider, a.outcome) for a in written[-1].attempts] == [
        ("groq", "cooling_down"),
        ("gemini", "ok"),
    ]


async def test_after_its_rest_groq_is_probed_once_and_writes_again_once_it_recovers(
    server: FakeLlmServer, chain_for: Build
) -> None:
    server.default("groq", Reply.error(503))
    server.default("gemini", Reply.ok(lesson_json()))
    chain = chain_for(failures=2, rest=1.0)
    await _lessons(chain, 3)
    await asyncio.sleep(1.0)

    still_down = await _lessons(chain, 3)  # one probe, which fails: resting again
    server.default("groq", Reply.ok(lesson_json()))
    await asyncio.sleep(1.0)
    recovered = await _lessons(chain, 3)

    assert [(a.provider, a.outcome) for a in still_down[0].attempts] == [
        ("groq", "unavailable"),
        ("gemini", "ok"),
    ]
    assert [w.draft.provider for w in recovered] == ["groq"] * 3
    assert [r.status for r in server.requests("groq")] == [503] * 3 + [200] * 3
