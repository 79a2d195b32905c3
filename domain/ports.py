"""The ports through which the domain reaches storage, the queue and the language models.

Adapters implement these Protocols; the domain services take them as constructor arguments.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from domain.base import DocumentModel, utcnow
from domain.lesson import Lesson, TokenUsage
from domain.roadmap import Roadmap
from domain.views import LessonSummary


class GenerationMessage(DocumentModel):
    """The body of a ``lesson-generation`` queue message."""

    lesson_id: str
    user_id: str
    requested_at: datetime


class LessonRepository(Protocol):
    """Lesson documents, each in its user's partition."""

    async def get(self, user_id: str, lesson_id: str) -> Lesson:
        """Point-read one lesson; raise ``NotFound`` when absent or another user's."""
        ...

    async def add_all(self, lessons: Sequence[Lesson]) -> None:
        """Create new lessons (concurrently); set each one's ``version``."""
        ...

    async def save(self, lesson: Lesson) -> None:
        """Replace a lesson only if it is still at ``lesson.version``; set the new version.

        Raises ``ConcurrencyConflict`` when the stored lesson changed since it was read.
        """
        ...

    async def list_for_roadmap(self, user_id: str, roadmap_id: str) -> list[LessonSummary]:
        """The summaries of a roadmap's lessons, in no particular order."""
        ...


class RoadmapRepository(Protocol):
    """Roadmap documents, each in its user's partition."""

    async def add(self, roadmap: Roadmap) -> None:
        """Create a new roadmap."""
        ...

    async def get(self, user_id: str, roadmap_id: str) -> Roadmap:
        """Point-read one roadmap; raise ``NotFound`` when absent or another user's."""
        ...


class GenerationQueue(Protocol):
    """Where generation requests wait for a worker."""

    async def enqueue(self, message: GenerationMessage) -> None:
        """Send one message; raise ``StorageUnavailable`` if it cannot be sent."""
        ...


@dataclass(frozen=True)
class LessonBrief:
    """What a provider needs to write one lesson."""

    goal: str
    skill_level: str
    module_title: str
    title: str
    description: str
    objectives: tuple[str, ...]
    estimated_minutes: int


@dataclass(frozen=True)
class RoadmapBrief:
    """What a provider needs to outline a roadmap."""

    goal: str
    skill_level: str
    weekly_hours: int | None


@dataclass(frozen=True)
class Draft:
    """A provider's raw answer: JSON text still to be validated, and where it came from."""

    payload: str
    provider: str
    model: str
    usage: TokenUsage | None = None
    created_at: datetime = field(default_factory=utcnow)


class LlmProvider(Protocol):
    """A source of lesson text and roadmap outlines.

    Both methods return the provider's JSON as text; the domain validates it. They raise
    ``ProviderUnavailable`` for failures that may pass and ``ContentRejected`` for answers that
    can never be used.
    """

    name: str

    async def write_lesson(self, brief: LessonBrief) -> Draft:
        """Write one lesson as JSON matching ``LessonContent``."""
        ...

    async def plan_roadmap(self, brief: RoadmapBrief) -> Draft:
        """Outline a roadmap as JSON matching ``RoadmapOutline``."""
        ...
