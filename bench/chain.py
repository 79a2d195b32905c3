"""The provider chain against the local fake providers: what a shared cooldown saves."""

import asyncio
import time

from adapters.llm.factory import build_chain
from adapters.settings import settings_from
from bench.rows import row
from domain.content import LessonContent
from domain.cooldowns import Cooldowns
from domain.ports import LessonBrief, TaskKind
from tests.support.fake_llm import FakeLlmServer, Reply
from tests.support.samples import lesson_json

LESSONS = 20
BRIEF = LessonBrief(
    goal="Learn Python",
    skill_level="beginner",
    module_title="Basics",
    title="Lists",
    description="",
    objectives=("Use a list",),
    estimated_minutes=20,
)


async def _lessons(server: FakeLlmServer, shared: bool) -> tuple[float, int]:
    """Write LESSONS lessons while groq is rate-limited; (ms per lesson, calls wasted on groq)."""
    server.reset()
    server.default("groq", Reply.rate_limited(600))
    server.default("gemini", Reply.ok(lesson_json()))
    settings = settings_from(
        {
            "AzureWebJobsStorage": "UseDevelopmentStorage=true",
            "COSMOS_ENDPOINT": "http://127.0.0.1:1",
            "SWEEP_SCHEDULE": "0 */1 * * * *",
            "COSMOS_KEY": "k",
            "AUTH_JWT_SECRET": "b" * 40,
            "LLM_PROVIDERS": "groq,gemini,offline",
            "GROQ_API_KEY": "gsk_bench",
            "GROQ_BASE_URL": server.root_url,
            "GEMINI_API_KEY": "gemini_bench",
            "GEMINI_BASE_URL": server.root_url,
        }
    )
    shared_cooldowns = Cooldowns()
    started = time.perf_counter()
    for _ in range(LESSONS):
        # Without sharing, every invocation starts with cooldowns of its own.
        chain, http = build_chain(settings, shared_cooldowns if shared else Cooldowns())
        await chain.generate(TaskKind.LESSON, BRIEF, LessonContent, budget=10)
        await http.aclose()
    elapsed = (time.perf_counter() - started) * 1000 / LESSONS
    return elapsed, len(server.requests("groq"))


def run() -> list[dict[str, object]]:
    with FakeLlmServer() as server:
        shared_ms, shared_calls = asyncio.run(_lessons(server, shared=True))
        alone_ms, alone_calls = asyncio.run(_lessons(server, shared=False))
    return [
        row(
            f"{LESSONS} lessons, groq 429",
            f"shared cooldown ({shared_calls} groq calls)",
            shared_ms,
            f"no cooldown ({alone_calls} groq calls)",
            alone_ms,
        )
    ]
