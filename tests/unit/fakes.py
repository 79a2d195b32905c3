"""In-memory fakes of the domain ports, and builders for the models the tests need.

The fakes keep the ports' contracts (copies in and out, versions checked on save, ``NotFound`` for
absent documents) so a service that relies on something the real adapters do not do fails here too.
"""

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from itertools import count
from typing import Any

from adapters.llm.offline import OfflineProvider
from domain.errors import ConcurrencyConflict, NotFound, StorageUnavailable
from domain.lesson import GenerationStatus, Lesson, Stage
from domain.ports import (
    Draft,
    GenerationMessage,
    GenerationQueue,
    LessonBrief,
    LessonRepository,
    LlmProvider,
    RoadmapBrief,
    RoadmapRepository,
)
from domain.roadmap import Roadmap
from domain.views import LessonSummary

USER = "user-1"
SCRIPTED = "scripted"


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

    async def list_for_roadmap(self, user_id: str, roadmap_id: str) -> list[LessonSummary]:
        # Newest first, so a caller that relies on storage order shows it.
        return [
            LessonSummary.model_validate(lesson, from_attributes=True)
            for (owner, _), lesson in reversed(self._lessons.items())
            if owner == user_id and lesson.roadmap_id == roadmap_id
        ]

    def _next_version(self) -> str:
        return f"etag-{next(self._versions)}"


class FakeRoadmapRepository:
    """Roadmaps in a dict, stored as copies."""

    def __init__(self) -> None:
        self._roadmaps: dict[tuple[str, str], Roadmap] = {}

    def all(self) -> list[Roadmap]:
        """Copies of every stored roadmap."""
        return [roadmap.model_copy(deep=True) for roadmap in self._roadmaps.values()]

    async def add(self, roadmap: Roadmap) -> None:
        key = (roadmap.user_id, roadmap.id)
        if key in self._roadmaps:
            raise AssertionError(f"roadmap {roadmap.id} added twice")
        self._roadmaps[key] = roadmap.model_copy(deep=True)

    async def get(self, user_id: str, roadmap_id: str) -> Roadmap:
        try:
            return self._roadmaps[user_id, roadmap_id].model_copy(deep=True)
        except KeyError:
            raise NotFound("roadmap", roadmap_id) from None


class FakeQueue:
    """Records the messages it accepts; can be told to refuse them."""

    def __init__(self) -> None:
        self.messages: list[GenerationMessage] = []
        self._error: Exception | None = None

    def refuse(self, error: Exception | None = None) -> None:
        """Make every later ``enqueue`` raise ``error`` (``StorageUnavailable`` by default)."""
        self._error = error or StorageUnavailable("the queue is down")

    @property
    def lesson_ids(self) -> list[str]:
        """The lesson ids of the accepted messages, in order."""
        return [message.lesson_id for message in self.messages]

    async def enqueue(self, message: GenerationMessage) -> None:
        if self._error is not None:
            raise self._error
        self.messages.append(message)


class FakeProvider:
    """Counts calls; answers from a script of payloads or errors, then like ``OfflineProvider``."""

    name = "fake"

    def __init__(
        self,
        lesson_replies: Iterable[str | Exception] = (),
        plan_replies: Iterable[str | Exception] = (),
    ) -> None:
        self._offline = OfflineProvider()
        self._lesson_replies = deque(lesson_replies)
        self._plan_replies = deque(plan_replies)
        self.lesson_briefs: list[LessonBrief] = []
        self.roadmap_briefs: list[RoadmapBrief] = []

    @property
    def lesson_calls(self) -> int:
        """How many times ``write_lesson`` was called."""
        return len(self.lesson_briefs)

    async def write_lesson(self, brief: LessonBrief) -> Draft:
        self.lesson_briefs.append(brief)
        if self._lesson_replies:
            return _scripted(self._lesson_replies.popleft())
        return await self._offline.write_lesson(brief)

    async def plan_roadmap(self, brief: RoadmapBrief) -> Draft:
        self.roadmap_briefs.append(brief)
        if self._plan_replies:
            return _scripted(self._plan_replies.popleft())
        return await self._offline.plan_roadmap(brief)


def _scripted(reply: str | Exception) -> Draft:
    if isinstance(reply, Exception):
        raise reply
    return Draft(payload=reply, provider=SCRIPTED, model=f"{SCRIPTED}-1")


# The fakes must stay usable wherever the ports are expected (checked by mypy).
_lessons_port: LessonRepository = FakeLessonRepository()
_roadmaps_port: RoadmapRepository = FakeRoadmapRepository()
_queue_port: GenerationQueue = FakeQueue()
_provider_port: LlmProvider = FakeProvider()
