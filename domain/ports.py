"""The ports through which the domain reaches storage, the queue and the language models.

Adapters implement these Protocols; the domain services take them as constructor arguments.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel, Field

from domain.base import DocumentModel, utcnow
from domain.lesson import Lesson, ProviderAttempt, TokenUsage
from domain.lesson_cache import CachedLesson
from domain.live import LiveEvent
from domain.progress import LearnerProgress
from domain.research import Finding
from domain.roadmap import Roadmap
from domain.views import LessonSummary

M = TypeVar("M", bound=BaseModel)


class GenerationMessage(DocumentModel):
    """The body of a ``lesson-generation`` queue message."""

    lesson_id: str
    user_id: str
    requested_at: datetime
    # W3C trace context of whoever sent it, so the worker continues the learner's trace.
    trace: dict[str, str] = Field(default_factory=dict)


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

    async def report_progress(self, lesson: Lesson) -> None:
        """Store only the lesson's ``progress``, ``lease`` and ``updated_at`` (a partial update).

        Conditional like ``save``: raises ``ConcurrencyConflict`` when the stored lesson changed
        since ``lesson.version`` (another worker claimed it), ``NotFound`` when it is gone; sets
        the new version.
        """
        ...

    async def revise(self, user_id: str, lesson_id: str, changes: "LessonChanges") -> bool:
        """Set the skeleton fields ``changes`` gives (a partial update), unless the lesson is
        queued or being written: then nothing is written and the answer is ``False``.

        A lesson in flight belongs to its writer until it is done (a write under it would cost
        the writer its claim). ``NotFound`` when the lesson is gone.
        """
        ...

    async def delete(self, user_id: str, lesson_id: str) -> None:
        """Delete a lesson for good; nothing happens when it is already gone.

        A writer working on it then finds it gone: ``save`` and ``report_progress`` raise
        ``NotFound`` and never create it again.
        """
        ...

    async def list_for_roadmap(self, user_id: str, roadmap_id: str) -> list[LessonSummary]:
        """The summaries of a roadmap's lessons, in no particular order."""
        ...

    async def list_for_module(self, user_id: str, module_id: str) -> list[Lesson]:
        """A module's lessons, in no particular order (empty for another user's module)."""
        ...

    async def statuses(self, user_id: str) -> list[LessonSummary]:
        """Summaries of every lesson of the learner (for per-roadmap counts)."""
        ...

    async def find_stuck(self, now: datetime, queued_before: datetime, limit: int) -> list[Lesson]:
        """Across users: lessons generating past their lease, or queued since before a time."""
        ...


class LessonCache(Protocol):
    """Lessons written once and shared by every identical lesson (see ``domain.lesson_cache``).

    Keys are ``cache_key`` digests, so the store never sees a learner's text as a key. An entry
    lives for the cache's time to live; an expired one is never returned.
    """

    async def get(self, key: str) -> CachedLesson | None:
        """The entry stored under ``key``, or ``None`` when absent, expired or unreadable.

        Raises ``StorageUnavailable`` when storage cannot answer; the writer then writes anew.
        """
        ...

    async def put(self, key: str, entry: CachedLesson) -> None:
        """Store ``entry`` under ``key`` for the time to live, replacing any entry there."""
        ...


class ProgressRepository(Protocol):
    """Learner progress documents, each in its user's partition."""

    async def for_roadmap(self, user_id: str, roadmap_id: str | None) -> list[LearnerProgress]:
        """The learner's progress on a roadmap's lessons (on every roadmap when ``None``)."""
        ...

    async def get(self, user_id: str, lesson_id: str) -> LearnerProgress | None:
        """The learner's progress on one lesson, if any."""
        ...

    async def put(self, progress: LearnerProgress) -> None:
        """Store the learner's progress on one lesson (last write wins: only they write it)."""
        ...

    async def marked(self, user_id: str) -> list[LearnerProgress]:
        """The learner's progress on every lesson they opened or completed, on every roadmap.

        Records whose marks were both cleared are left out; in no particular order.
        """
        ...

    async def delete(self, user_id: str, lesson_id: str) -> None:
        """Forget the learner's progress on one lesson; nothing happens when there is none."""
        ...


class Allowance(StrEnum):
    """The kinds of allowance a learner spends (see ``Quota``)."""

    LESSONS = "lessons"  # lessons queued for writing, per hour
    ROADMAPS = "roadmaps"  # roadmaps planned, per day


class AllowanceState(DocumentModel):
    """Where a learner stands in one allowance at the moment it was read (``Quota.standing``).

    Allowances are counted in fixed windows of ``window_seconds`` (whole multiples of it since
    the Unix epoch); what was spent comes back all at once at ``resets_at``, the window's end,
    which was ``resets_in_seconds`` away when read (a delta needs no agreement between clocks).
    """

    kind: str = Field(description="The allowance: lessons or roadmaps", examples=["lessons"])
    limit: int = Field(ge=0, description="How many each window allows")
    remaining: int = Field(ge=0, description="How many are left in the current window")
    window_seconds: int = Field(gt=0, description="The window's length: 3600 is an hour")
    resets_at: datetime = Field(description="When the current window ends and all come back")
    resets_in_seconds: int = Field(
        ge=0, description="Seconds from this answer until resetsAt, rounded up"
    )


class Quota(Protocol):
    """Per-user allowances, shared by every instance (kept in storage, not in memory)."""

    async def standing(self, user_id: str, kind: Allowance) -> AllowanceState:
        """What is left of ``kind`` for ``user_id`` in the current window; spends nothing.

        Exact under the counting ``take`` and ``refund`` do (the same window, the same count);
        a window nothing was spent in yet has all of it left. ``StorageUnavailable`` when the
        count cannot be read.
        """
        ...

    async def take(self, user_id: str, kind: Allowance, count: int = 1) -> None:
        """Spend ``count``; ``QuotaExceeded`` (and nothing spent) when too few are left."""
        ...

    async def refund(self, user_id: str, kind: Allowance, count: int = 1) -> None:
        """Give back ``count`` spent on a request that ended up doing nothing."""
        ...


class QueueDepths(Protocol):
    """How many messages wait in each queue the app owns (approximate, as Storage reports)."""

    async def depths(self) -> dict[str, int]:
        """Queue name → approximate message count; ``StorageUnavailable`` if unreachable."""
        ...


class RoadmapRepository(Protocol):
    """Roadmap documents, each in its user's partition."""

    async def add(self, roadmap: Roadmap) -> None:
        """Create a new roadmap."""
        ...

    async def for_user(
        self, user_id: str, *, offset: int = 0, limit: int | None = None
    ) -> list[Roadmap]:
        """The learner's roadmaps, newest first: ``limit`` of them from ``offset`` (all if None)."""
        ...

    async def get(self, user_id: str, roadmap_id: str) -> Roadmap:
        """Point-read one roadmap, with its ``version``; ``NotFound`` when absent or another
        user's."""
        ...

    async def replace(self, roadmap: Roadmap) -> None:
        """Store an edited roadmap only if it is still at ``roadmap.version``; set the new one.

        Raises ``ConcurrencyConflict`` when another edit was stored since it was read, and
        ``NotFound`` when it is gone.
        """
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
    # Research findings to ground the lesson on, in the order the lesson cites them ([1], [2], …).
    references: tuple[Finding, ...] = ()
    # The learner's wishes for this version ("simpler", "use PostgreSQL"): data, not orders.
    instructions: str | None = None


@dataclass(frozen=True)
class RoadmapBrief:
    """What a provider needs to outline a roadmap."""

    goal: str
    skill_level: str
    weekly_hours: int | None


@dataclass(frozen=True)
class ModuleBrief(RoadmapBrief):
    """What a provider needs to plan one more module of a roadmap (``TaskKind.MODULE``) or,
    with ``module_title``, one more lesson of that module (``TaskKind.LESSON_PLAN``)."""

    # What the learner asked for ("a module on window functions"): data, not orders.
    request: str
    # Titles of the modules (or of the module's lessons) the roadmap already has.
    covered: tuple[str, ...] = ()
    module_title: str | None = None


@dataclass(frozen=True)
class LessonChanges:
    """Skeleton fields of a lesson that an edit of its roadmap changes; ``None``: unchanged."""

    title: str | None = None
    description: str | None = None
    order: int | None = None
    module_title: str | None = None


class TaskKind(StrEnum):
    """What a provider is asked to write."""

    LESSON = "lesson"
    OUTLINE = "outline"
    MODULE = "module"  # one more module for a roadmap (a ``ModulePlan``)
    LESSON_PLAN = "lesson_plan"  # one more lesson skeleton for a module (a ``LessonPlan``)


@dataclass(frozen=True)
class Repair:
    """A second chance: the answer that failed validation, and what was wrong with it."""

    previous: str
    problem: str


@dataclass(frozen=True)
class LlmTask:
    """One request to a provider: what to write, for whom, and the model its JSON must match."""

    kind: TaskKind
    brief: LessonBrief | RoadmapBrief
    schema: type[BaseModel]
    repair: Repair | None = None


@dataclass(frozen=True)
class Draft:
    """A provider's raw answer: JSON text still to be validated, and where it came from."""

    payload: str
    provider: str
    model: str
    usage: TokenUsage | None = None
    created_at: datetime = field(default_factory=utcnow)


# Receives, in order, the pieces of a provider's answer as they are written (streaming).
TextSink = Callable[[str], Awaitable[None]]


class LlmProvider(Protocol):
    """One language-model host (or the offline templates) behind one small interface.

    ``generate`` returns the provider's JSON as text; the chain validates it. It raises
    ``ProviderRateLimited`` (429), ``ProviderTimeout``, ``ProviderUnavailable`` (5xx, connection)
    or ``ProviderRejected`` (other 4xx; ``auth`` for 401/403/404), and never logs its key.
    """

    name: str
    model: str
    needs_network: bool

    async def generate(
        self, task: LlmTask, *, time_limit: float, on_text: TextSink | None = None
    ) -> Draft:
        """Answer ``task`` within ``time_limit`` seconds.

        With ``on_text`` the answer is streamed: each piece of the answer's text is passed to
        ``on_text`` as it arrives, in order, and the pieces joined are the draft's ``payload``.
        An error may come after some pieces were passed; the caller then discards them.
        """
        ...


@dataclass(frozen=True)
class Generated(Generic[M]):
    """A validated answer, the draft it came from, and every provider attempt it took."""

    value: M
    draft: Draft
    attempts: list[ProviderAttempt]


class DraftWatcher(Protocol):
    """Follows an answer while it is written: the pieces of each attempt, and when one is void."""

    async def text(self, piece: str) -> None:
        """The next piece of the current attempt's answer."""
        ...

    async def discard(self) -> None:
        """The current attempt's answer will not be used (it failed, or did not validate)."""
        ...


class LlmChain(Protocol):
    """Providers tried in order until one gives a valid answer (see ``domain.chain``)."""

    async def generate(
        self,
        kind: TaskKind,
        brief: LessonBrief | RoadmapBrief,
        schema: type[M],
        *,
        budget: float,
        watcher: DraftWatcher | None = None,
    ) -> Generated[M]:
        """A valid ``schema`` instance from the first healthy provider, within ``budget``.

        With a ``watcher`` the providers stream, and the watcher follows each attempt.
        """
        ...


class LessonNotifier(Protocol):
    """Tells a learner's open pages that one of their lessons changed status (a push channel).

    A notification is a hint, never the record: the lesson as stored is what counts, and a page
    that misses one finds the change when it reads the lesson. So ``lesson_changed`` must never
    raise, and must return within a few seconds whatever the channel does.
    """

    async def lesson_changed(self, lesson: Lesson) -> None:
        """Publish the lesson's status, stage and percent to its learner (``lesson.user_id``)."""
        ...

    async def live(self, lesson: Lesson, event: LiveEvent) -> None:
        """Publish one event of a lesson being written (a section, a reset, its completion)."""
        ...
