"""In-memory fakes of the domain ports, and builders for the models the tests need.

The fakes keep the ports' contracts (copies in and out, versions checked on save, ``NotFound`` for
absent documents) so a service that relies on something the real adapters do not do fails here too.
Language models are faked one provider at a time and put in a real ``ProviderChain`` whose clock
and sleep are fake, so chain rules are exercised and nothing ever really waits.
"""

import asyncio
import json
import random
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from adapters.llm.offline import OfflineProvider
from domain.allowances import allowance_state, window_start
from domain.chain import ChainPolicy, ProviderChain
from domain.content import LessonContent
from domain.cooldowns import Cooldowns
from domain.errors import ConcurrencyConflict, NotFound, QuotaExceeded, StorageUnavailable
from domain.lesson import GenerationStatus, Lease, Lesson, ProviderAttempt, Stage, TokenUsage
from domain.lesson_cache import CachedLesson
from domain.live import LiveEvent
from domain.ports import (
    Allowance,
    AllowanceState,
    Draft,
    GenerationMessage,
    GenerationQueue,
    LessonBrief,
    LessonCache,
    LessonChanges,
    LessonRepository,
    LlmChain,
    LlmProvider,
    LlmTask,
    ProgressRepository,
    Quota,
    RoadmapBrief,
    RoadmapRepository,
    TaskKind,
    TextSink,
)
from domain.progress import LearnerProgress
from domain.roadmap import Roadmap, RoadmapOutline
from domain.telemetry import Telemetry
from domain.views import LessonSummary

USER = "user-1"
TIME_LIMIT = 30.0


@dataclass(frozen=True)
class Cut:
    """A streamed answer that breaks off: the first ``after`` characters, then ``error``."""

    payload: str
    after: int
    error: Exception


Reply = str | Exception | Cut


def make_lesson(status: GenerationStatus = GenerationStatus.PENDING, **overrides: Any) -> Lesson:
    """A lesson skeleton in ``status``; any field can be overridden."""
    fields: dict[str, Any] = {
        "id": "lesson-1",
        "user_id": USER,
        "roadmap_id": "roadmap-1",
        "module_id": "module-1",
        "order": 1,
        "goal": "Build web APIs with Python",
        "skill_level": "beginner",
        "module_title": "Foundations",
        "title": "HTTP in five minutes",
        "description": "Requests, responses and status codes.",
        "objectives": ["Explain a request and a response", "Read a status code"],
        "estimated_minutes": 30,
        "generation_status": status,
    }
    fields.update(overrides)
    return Lesson(**fields)


def make_brief(**overrides: Any) -> LessonBrief:
    """A lesson brief; any field can be overridden."""
    fields: dict[str, Any] = {
        "goal": "Build web APIs with Python",
        "skill_level": "beginner",
        "module_title": "Foundations",
        "title": "HTTP in five minutes",
        "description": "Requests, responses and status codes.",
        "objectives": ("Explain a request and a response", "Read a status code"),
        "estimated_minutes": 30,
    }
    fields.update(overrides)
    return LessonBrief(**fields)


class FakeLessonRepository:
    """Lessons in a dict, stored as copies, with versions checked like Cosmos etags."""

    def __init__(self) -> None:
        self._lessons: dict[tuple[str, str], Lesson] = {}
        self._versions = count(1)
        self._interference: deque[Callable[[Lesson], None]] = deque()
        self.saved: list[tuple[str, GenerationStatus, Stage]] = []
        # A copy of each lesson as it was saved, in order (to look at leases over time).
        self.history: list[Lesson] = []
        # (lesson id, stage) of each progress report written as a partial update.
        self.patched: list[tuple[str, Stage]] = []
        # (lesson id, changes) of each skeleton change a roadmap edit wrote.
        self.revised: list[tuple[str, LessonChanges]] = []

    def put(self, lesson: Lesson) -> Lesson:
        """Store ``lesson`` as it is (test set-up); return the stored copy."""
        lesson.version = self._next_version()
        self._lessons[lesson.user_id, lesson.id] = lesson.model_copy(deep=True)
        return self.stored(lesson.user_id, lesson.id)

    def stored(self, user_id: str, lesson_id: str) -> Lesson:
        """A copy of what is stored now (for assertions)."""
        return self._lessons[user_id, lesson_id].model_copy(deep=True)

    def all(self) -> list[Lesson]:
        """Copies of every stored lesson, in insertion order."""
        return [lesson.model_copy(deep=True) for lesson in self._lessons.values()]

    def change_before_next_save(self, change: Callable[[Lesson], None]) -> None:
        """Let "someone else" change the stored lesson just before the next ``save`` runs."""
        self._interference.append(change)

    async def get(self, user_id: str, lesson_id: str) -> Lesson:
        try:
            return self.stored(user_id, lesson_id)
        except KeyError:
            raise NotFound("lesson", lesson_id) from None

    async def add_all(self, lessons: Sequence[Lesson]) -> None:
        for lesson in lessons:
            if (lesson.user_id, lesson.id) in self._lessons:
                raise AssertionError(f"lesson {lesson.id} added twice")
            self.put(lesson)

    async def save(self, lesson: Lesson) -> None:
        key = (lesson.user_id, lesson.id)
        if key not in self._lessons:
            raise NotFound("lesson", lesson.id)
        if self._interference:
            other = self.stored(*key)
            self._interference.popleft()(other)
            self.put(other)
        if self._lessons[key].version != lesson.version:
            raise ConcurrencyConflict(f"lesson {lesson.id} changed since it was read")
        lesson.version = self._next_version()
        self._lessons[key] = lesson.model_copy(deep=True)
        self.saved.append((lesson.id, lesson.status, lesson.progress.stage))
        self.history.append(lesson.model_copy(deep=True))

    async def list_for_roadmap(self, user_id: str, roadmap_id: str) -> list[LessonSummary]:
        # Newest first, so a caller that relies on storage order shows it.
        return [
            LessonSummary.model_validate(lesson, from_attributes=True)
            for (owner, _), lesson in reversed(self._lessons.items())
            if owner == user_id and lesson.roadmap_id == roadmap_id
        ]

    async def list_for_module(self, user_id: str, module_id: str) -> list[Lesson]:
        # Newest first, so a caller that relies on storage order shows it.
        return [
            lesson.model_copy(deep=True)
            for (owner, _), lesson in reversed(self._lessons.items())
            if owner == user_id and lesson.module_id == module_id
        ]

    async def statuses(self, user_id: str) -> list[LessonSummary]:
        return [
            LessonSummary.of(lesson)
            for (owner, _), lesson in reversed(self._lessons.items())
            if owner == user_id
        ]

    async def find_stuck(self, now: datetime, queued_before: datetime, limit: int) -> list[Lesson]:
        # The domain's own definition of stuck, so the fake never disagrees with the model.
        stuck = [lesson for lesson in self._lessons.values() if lesson.stuck(now, queued_before)]
        return [lesson.model_copy(deep=True) for lesson in stuck[:limit]]

    def _next_version(self) -> str:
        return f"etag-{next(self._versions)}"

    async def delete(self, user_id: str, lesson_id: str) -> None:
        self._lessons.pop((user_id, lesson_id), None)

    async def revise(self, user_id: str, lesson_id: str, changes: LessonChanges) -> bool:
        """As Cosmos patches with a filter: only while the lesson is not in flight."""
        stored = await self.get(user_id, lesson_id)
        if stored.status in (GenerationStatus.QUEUED, GenerationStatus.GENERATING):
            return False
        fields = {k: v for k, v in vars(changes).items() if v is not None}
        self.put(stored.model_copy(update=fields))
        self.revised.append((lesson_id, changes))
        return True

    async def report_progress(self, lesson: Lesson) -> None:
        """As ``save``, but only progress, lease and ``updated_at`` reach the stored copy."""
        key = (lesson.user_id, lesson.id)
        if key not in self._lessons:
            raise NotFound("lesson", lesson.id)
        stored = self.stored(*key)
        stored.progress = lesson.progress.model_copy(deep=True)
        stored.lease = lesson.lease.model_copy(deep=True) if lesson.lease else None
        stored.updated_at = lesson.updated_at
        stored.version = lesson.version  # the condition is the caller's copy, as with an etag
        await self.save(stored)
        lesson.version = stored.version
        self.patched.append((lesson.id, lesson.progress.stage))


class FakeRoadmapRepository:
    """Roadmaps in a dict, stored as copies, with versions checked like Cosmos etags."""

    def __init__(self) -> None:
        self._roadmaps: dict[tuple[str, str], Roadmap] = {}
        self._versions = count(1)
        self.replaced = 0

    def all(self) -> list[Roadmap]:
        """Copies of every stored roadmap."""
        return [roadmap.model_copy(deep=True) for roadmap in self._roadmaps.values()]

    async def add(self, roadmap: Roadmap) -> None:
        key = (roadmap.user_id, roadmap.id)
        if key in self._roadmaps:
            raise AssertionError(f"roadmap {roadmap.id} added twice")
        roadmap.version = f"roadmap-etag-{next(self._versions)}"
        self._roadmaps[key] = roadmap.model_copy(deep=True)

    async def replace(self, roadmap: Roadmap) -> None:
        key = (roadmap.user_id, roadmap.id)
        if key not in self._roadmaps:
            raise NotFound("roadmap", roadmap.id)
        if self._roadmaps[key].version != roadmap.version:
            raise ConcurrencyConflict(f"roadmap {roadmap.id} changed since it was read")
        roadmap.version = f"roadmap-etag-{next(self._versions)}"
        self._roadmaps[key] = roadmap.model_copy(deep=True)
        self.replaced += 1

    async def for_user(
        self, user_id: str, *, offset: int = 0, limit: int | None = None
    ) -> list[Roadmap]:
        # Newest first; of two created at the same instant, the one stored last.
        stored = reversed(self._roadmaps.items())
        mine = [roadmap for (owner, _), roadmap in stored if owner == user_id]
        ordered = sorted(mine, key=lambda roadmap: roadmap.created_at, reverse=True)
        page = ordered[offset:] if limit is None else ordered[offset : offset + limit]
        return [roadmap.model_copy(deep=True) for roadmap in page]

    async def get(self, user_id: str, roadmap_id: str) -> Roadmap:
        try:
            return self._roadmaps[user_id, roadmap_id].model_copy(deep=True)
        except KeyError:
            raise NotFound("roadmap", roadmap_id) from None


class FakeProgressRepository:
    """Learner progress in a dict keyed by user and lesson, stored as copies."""

    def __init__(self) -> None:
        self._progress: dict[tuple[str, str], LearnerProgress] = {}
        self.puts = 0

    def stored(self, user_id: str, lesson_id: str) -> LearnerProgress | None:
        """A copy of what is stored now (for assertions)."""
        found = self._progress.get((user_id, lesson_id))
        return None if found is None else found.model_copy(deep=True)

    async def for_roadmap(self, user_id: str, roadmap_id: str | None) -> list[LearnerProgress]:
        return [
            progress.model_copy(deep=True)
            for (owner, _), progress in self._progress.items()
            if owner == user_id and roadmap_id in (None, progress.roadmap_id)
        ]

    async def get(self, user_id: str, lesson_id: str) -> LearnerProgress | None:
        return self.stored(user_id, lesson_id)

    async def put(self, progress: LearnerProgress) -> None:
        self._progress[progress.user_id, progress.lesson_id] = progress.model_copy(deep=True)
        self.puts += 1

    async def marked(self, user_id: str) -> list[LearnerProgress]:
        return [
            progress
            for progress in await self.for_roadmap(user_id, None)
            if progress.viewed_at is not None or progress.completed_at is not None
        ]

    async def delete(self, user_id: str, lesson_id: str) -> None:
        self._progress.pop((user_id, lesson_id), None)


# 2026-01-01T00:00:00Z: the start of an hour and of a day, so windows are easy to reason about.
WINDOW_START = datetime(2026, 1, 1, tzinfo=UTC)


class FakeQuota:
    """Allowances in memory, in fixed windows on a fake clock (as ``CosmosQuota`` counts them).

    ``limits``: kind → (how many, per how many seconds). A refused ``take`` spends nothing.
    """

    def __init__(
        self,
        limits: Mapping[str, tuple[int, int]] | None = None,
        clock: "FakeUtcClock | None" = None,
    ) -> None:
        self.limits = dict(
            limits or {Allowance.LESSONS: (30, 3_600), Allowance.ROADMAPS: (5, 86_400)}
        )
        self.clock = clock or FakeUtcClock(WINDOW_START)
        self._spent: dict[tuple[str, str, int], int] = {}
        # Raised by ``standing`` while set: storage that cannot be read.
        self.unreadable: Exception | None = None

    def spent(self, user_id: str, kind: str) -> int:
        """How much ``user_id`` has spent of ``kind`` in the current window."""
        return self._spent.get((user_id, kind, self._window(kind)[0]), 0)

    async def take(self, user_id: str, kind: str, count: int = 1) -> None:
        limit, _ = self.limits[kind]
        start, retry_after = self._window(kind)
        spent = self._spent.get((user_id, kind, start), 0)
        if spent + count > limit:
            raise QuotaExceeded(kind, limit, retry_after)
        self._spent[user_id, kind, start] = spent + count

    async def refund(self, user_id: str, kind: str, count: int = 1) -> None:
        start, _ = self._window(kind)
        spent = self._spent.get((user_id, kind, start), 0)
        if spent >= count:
            self._spent[user_id, kind, start] = spent - count

    async def standing(self, user_id: str, kind: str) -> AllowanceState:
        if self.unreadable is not None:
            raise self.unreadable
        limit, seconds = self.limits[kind]
        return allowance_state(kind, limit, seconds, self.spent(user_id, kind), self.clock())

    def _window(self, kind: str) -> tuple[int, float]:
        _, seconds = self.limits[kind]
        now = self.clock()
        start = window_start(now, seconds)
        return start, start + seconds - now.timestamp()


class FakeQueue:
    """Records the messages it accepts; can be told to refuse them."""

    def __init__(self) -> None:
        self.messages: list[GenerationMessage] = []
        self._error: Exception | None = None

    def refuse(self, error: Exception | None = None) -> None:
        """Make every later ``enqueue`` raise ``error`` (``StorageUnavailable`` by default)."""
        self._error = error or StorageUnavailable("the queue is down")

    def accept(self) -> None:
        """Take messages again after ``refuse``."""
        self._error = None

    @property
    def lesson_ids(self) -> list[str]:
        """The lesson ids of the accepted messages, in order."""
        return [message.lesson_id for message in self.messages]

    async def enqueue(self, message: GenerationMessage) -> None:
        if self._error is not None:
            raise self._error
        self.messages.append(message)


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        self.now += seconds


class FakeUtcClock:
    """A wall clock (timezone-aware datetimes) that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        self.now += timedelta(seconds=seconds)


class RecordingSleep:
    """An async ``sleep`` that returns at once, records each pause and moves the clock by it."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.pauses: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.clock.advance(seconds)


class FakeProvider:
    """A network LLM provider that answers from a script, one queue of replies per task kind.

    A reply is a JSON payload or an exception to raise. When a kind's script is empty the fake
    answers with ``OfflineProvider``'s valid payload, labelled with its own name. Every task and
    time limit it receives is recorded. Given a ``clock``, each call takes ``takes`` seconds on it.
    """

    def __init__(
        self,
        name: str = "fake",
        *,
        lesson: Iterable[Reply] = (),
        outline: Iterable[Reply] = (),
        plans: Iterable[Reply] = (),
        needs_network: bool = True,
        clock: FakeClock | None = None,
        takes: float = 0.0,
        usage: TokenUsage | None = None,
        pieces: int = 40,
        pause: float = 0.0,
    ) -> None:
        """Asked to stream, it passes its answer in ``pieces`` pieces, ``pause`` (real) seconds
        apart."""
        self.name = name
        self.pieces = pieces
        self.pause = pause
        self.usage = usage
        self.model = f"{name}-model"
        self.needs_network = needs_network
        self.tasks: list[LlmTask] = []
        self.time_limits: list[float] = []
        self._script = {TaskKind.LESSON: deque(lesson), TaskKind.OUTLINE: deque(outline)}
        planned = deque(plans)  # modules and lessons asked for by prompt share one script
        self._script.update({TaskKind.MODULE: planned, TaskKind.LESSON_PLAN: planned})
        self._clock = clock
        self._takes = takes

    @property
    def calls(self) -> int:
        """How many times ``generate`` was called."""
        return len(self.tasks)

    async def generate(
        self, task: LlmTask, *, time_limit: float, on_text: TextSink | None = None
    ) -> Draft:
        self.tasks.append(task)
        self.time_limits.append(time_limit)
        if self._clock is not None:
            self._clock.advance(self._takes)
        script = self._script[task.kind]
        if not script:
            offline = await OfflineProvider().generate(task, time_limit=time_limit)
            await self._stream(offline.payload, on_text)
            return Draft(
                payload=offline.payload, provider=self.name, model=self.model, usage=self.usage
            )
        reply = script.popleft()
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, Cut):
            await self._stream(reply.payload[: reply.after], on_text)
            raise reply.error
        await self._stream(reply, on_text)
        return Draft(payload=reply, provider=self.name, model=self.model, usage=self.usage)

    async def _stream(self, payload: str, on_text: TextSink | None) -> None:
        """Pass ``payload`` to ``on_text`` in ``pieces`` pieces, ``pause`` seconds apart."""
        if on_text is None:
            return
        size = max(1, -(-len(payload) // self.pieces))
        for start in range(0, len(payload), size):
            if self.pause:
                await asyncio.sleep(self.pause)
            await on_text(payload[start : start + size])


@dataclass
class Chain:
    """A real ``ProviderChain`` on a fake clock, with its cooldowns and sleeps at hand."""

    chain: ProviderChain
    clock: FakeClock
    sleep: RecordingSleep
    cooldowns: Cooldowns


def chain_of(
    *providers: LlmProvider,
    policy: ChainPolicy | None = None,
    validation_context: Mapping[str, Any] | None = None,
    clock: FakeClock | None = None,
    cooldowns: Cooldowns | None = None,
    telemetry: Telemetry | None = None,
) -> Chain:
    """A chain of ``providers`` that never really waits; jitter is seeded."""
    clock = clock or FakeClock()
    sleep = RecordingSleep(clock)
    cooldowns = cooldowns or Cooldowns(clock)
    chain = ProviderChain(
        providers,
        cooldowns,
        policy or ChainPolicy(),
        validation_context=validation_context,
        clock=clock,
        sleep=sleep,
        rng=random.Random(7),
        telemetry=telemetry,
    )
    return Chain(chain=chain, clock=clock, sleep=sleep, cooldowns=cooldowns)


def trail(attempts: Iterable[ProviderAttempt]) -> list[tuple[str, str]]:
    """Each attempt as ``(provider, outcome)``, in order."""
    return [(attempt.provider, str(attempt.outcome)) for attempt in attempts]


async def offline_draft(brief: LessonBrief | RoadmapBrief) -> Draft:
    """What ``OfflineProvider`` writes for a lesson or an outline brief."""
    if isinstance(brief, LessonBrief):
        task = LlmTask(kind=TaskKind.LESSON, brief=brief, schema=LessonContent)
    else:
        task = LlmTask(kind=TaskKind.OUTLINE, brief=brief, schema=RoadmapOutline)
    return await OfflineProvider().generate(task, time_limit=TIME_LIMIT)


async def offline_lesson_data(brief: LessonBrief | None = None) -> dict[str, Any]:
    """The offline lesson for ``brief`` (``make_brief()`` by default) as a JSON object."""
    draft = await offline_draft(brief or make_brief())
    data: dict[str, Any] = json.loads(draft.payload)
    return data


# The fakes must stay usable wherever the ports are expected (checked by mypy).
_lessons_port: LessonRepository = FakeLessonRepository()
_roadmaps_port: RoadmapRepository = FakeRoadmapRepository()
_queue_port: GenerationQueue = FakeQueue()
_progress_port: ProgressRepository = FakeProgressRepository()
_quota_port: Quota = FakeQuota()
_provider_port: LlmProvider = FakeProvider()
_chain_port: LlmChain = chain_of(FakeProvider()).chain


def held(lease: Lease | None) -> tuple[str, datetime] | None:
    """Who holds a lease and until when (each claim also gets a random id, left out here)."""
    return None if lease is None else (lease.owner, lease.expires_at)


class FakeLessonCache:
    """The shared lesson cache in a dict, stored as copies; can be told to fail.

    Expiry is the adapter's business (``tests/integration/test_lesson_cache.py``); this fake
    keeps entries until ``clear``.
    """

    def __init__(self) -> None:
        self.entries: dict[str, CachedLesson] = {}
        self.gets = 0
        self._error: Exception | None = None

    def fail(self, error: Exception | None = None) -> None:
        """Make every later ``get`` and ``put`` raise ``error`` (``StorageUnavailable``)."""
        self._error = error or StorageUnavailable("the lesson cache is down")

    def clear(self) -> None:
        """Forget every entry (as if each had expired)."""
        self.entries.clear()

    async def get(self, key: str) -> CachedLesson | None:
        self.gets += 1
        if self._error is not None:
            raise self._error
        entry = self.entries.get(key)
        return None if entry is None else entry.model_copy(deep=True)

    async def put(self, key: str, entry: CachedLesson) -> None:
        if self._error is not None:
            raise self._error
        self.entries[key] = entry.model_copy(deep=True)


_lesson_cache_port: LessonCache = FakeLessonCache()


class RecordingNotifier:
    """Records (lesson id, status, stage) of each change, and each live event, it is told of."""

    def __init__(self) -> None:
        self.changes: list[tuple[str, str, str]] = []
        self.events: list[tuple[str, LiveEvent]] = []

    async def lesson_changed(self, lesson: Lesson) -> None:
        self.changes.append((lesson.id, lesson.status.value, lesson.progress.stage.value))

    async def live(self, lesson: Lesson, event: LiveEvent) -> None:
        self.events.append((lesson.id, event))
