"""The shared lesson cache: 100 learners with one goal and outline, model calls with and without.

In memory (the real ``LessonWriter`` and ``ProviderChain``, the unit tests' lesson store and cache)
with a model that answers after ``latency`` seconds: the figure is a count of calls, which storage
does not change. Learners arrive one at a time, then all at once with a worker's concurrency: a
burst of identical lessons all miss before the first is written (there is no single flight).
"""

import asyncio
import json
import time

from adapters.llm.prompts import PROMPT_VERSION
from bench.rows import row
from domain.base import utcnow
from domain.chain import ProviderChain
from domain.cooldowns import Cooldowns
from domain.lesson import GenerationStatus
from domain.lesson_writer import LessonWriter
from domain.ports import Draft, GenerationMessage, LlmTask, TextSink
from tests.support.samples import lesson_json, skeleton_lessons
from tests.unit.fakes import FakeLessonCache, FakeLessonRepository

LEARNERS = 100
LESSONS_EACH = 2  # the first lessons of the roadmap, as onboarding prefetches them
GOAL = "Learn Rust"
LATENCY = 0.01
CONCURRENCY = 24  # a worker's concurrency under a burst (host.json batchSize + newBatchThreshold)


class _Model:
    """A network provider that writes a valid lesson after ``latency`` seconds, counting calls."""

    name = "model"
    model = "bench-model"
    needs_network = True

    def __init__(self, latency: float) -> None:
        self.calls = 0
        self._latency = latency
        self._payload = json.dumps(lesson_json())

    async def generate(
        self, task: LlmTask, *, time_limit: float, on_text: TextSink | None = None
    ) -> Draft:
        self.calls += 1
        await asyncio.sleep(self._latency)
        return Draft(payload=self._payload, provider=self.name, model=self.model)


async def _write_all(
    cached: bool, learners: int, concurrency: int, latency: float
) -> tuple[float, int, int]:
    """Write every learner's lessons; (ms in all, provider calls, lessons completed)."""
    lessons, model = FakeLessonRepository(), _Model(latency)
    writer = LessonWriter(
        lessons,
        ProviderChain([model], Cooldowns()),
        budget=30,
        cache=FakeLessonCache() if cached else None,
        prompt_version=lambda: PROMPT_VERSION,
    )
    queued = [
        lesson
        for n in range(learners)
        for lesson in skeleton_lessons(f"learner-{n}", LESSONS_EACH, goal=GOAL)
    ]
    for lesson in queued:
        lesson.queue()
    await lessons.add_all(queued)
    gate = asyncio.Semaphore(concurrency)

    async def deliver(lesson_id: str, user_id: str) -> None:
        async with gate:
            message = GenerationMessage(lesson_id=lesson_id, user_id=user_id, requested_at=utcnow())
            await writer.handle(message)

    started = time.perf_counter()
    await asyncio.gather(*(deliver(lesson.id, lesson.user_id) for lesson in queued))
    elapsed = (time.perf_counter() - started) * 1000
    completed = sum(lesson.status is GenerationStatus.COMPLETED for lesson in lessons.all())
    return elapsed, model.calls, completed


async def _compare(task: str, learners: int, concurrency: int, latency: float) -> dict[str, object]:
    on_ms, on_calls, on_done = await _write_all(True, learners, concurrency, latency)
    off_ms, off_calls, off_done = await _write_all(False, learners, concurrency, latency)
    assert on_done == off_done == learners * LESSONS_EACH, (on_done, off_done)
    return {
        **row(
            task,
            f"lesson cache ({on_calls} model calls)",
            on_ms,
            f"no cache ({off_calls} model calls)",
            off_ms,
        ),
        "lessons": on_done,
        "ours_calls": on_calls,
        "other_calls": off_calls,
        "ours_calls_per_lesson": round(on_calls / on_done, 3),
        "other_calls_per_lesson": round(off_calls / off_done, 3),
    }


async def run(
    learners: int = LEARNERS, latency: float = LATENCY, concurrency: int = CONCURRENCY
) -> list[dict[str, object]]:
    """Rows: learners arriving one at a time, then in one burst at a worker's concurrency."""
    each = f"{learners} learners × {LESSONS_EACH} lessons"
    return [
        await _compare(f"{each}, one by one", learners, 1, latency),
        await _compare(f"{each}, {concurrency} at once", learners, concurrency, latency),
    ]


if __name__ == "__main__":
    for result in asyncio.run(run()):
        print(result)
