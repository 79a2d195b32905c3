"""A lesson and the state machine of its generation status.

    pending ──queue──▶ queued ──start──▶ generating ──complete──▶ completed
       ▲                 │ ▲                 │
       └──── unqueue ────┘ └──── release ────┤
    failed ◀─────────────────── fail ────────┘
    failed ──queue──▶ queued

``unqueue`` undoes a ``queue`` whose message could not be sent; ``release`` hands a claimed lesson
back to the queue after a retryable failure, so the redelivered message can claim it again.
"""

from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import Field

from domain.base import DocumentModel, utcnow
from domain.content import LessonContent
from domain.errors import IllegalTransition


class GenerationStatus(StrEnum):
    """Where a lesson is on its way from skeleton to written content."""

    PENDING = "pending"
    QUEUED = "queued"
    GENERATING = "generating"
    COMPLETED = "completed"
    FAILED = "failed"


S = GenerationStatus
# Each status change, by the method that makes it: (statuses it may start from, status it reaches).
# ``unqueue`` returns to the status the lesson had before ``queue``: pending or failed.
_QUEUE = (frozenset({S.PENDING, S.FAILED}), S.QUEUED)
_START = (frozenset({S.QUEUED}), S.GENERATING)
_RELEASE = (frozenset({S.GENERATING}), S.QUEUED)
_COMPLETE = (frozenset({S.GENERATING}), S.COMPLETED)
_FAIL = (frozenset({S.QUEUED, S.GENERATING}), S.FAILED)
_UNQUEUE_FROM = frozenset({S.QUEUED})
IN_FLIGHT = frozenset({S.QUEUED, S.GENERATING})


class SourceLike(Protocol):
    """Anything with the fields of a source (a research finding)."""

    kind: str
    title: str
    url: str
    published_at: datetime | None


class Stage(StrEnum):
    """The step a generation is at, shown to the learner as progress."""

    WAITING = "waiting"
    QUEUED = "queued"
    STARTING = "starting"
    RESEARCHING = "researching"
    WRITING = "writing"
    VALIDATING = "validating"
    DONE = "done"
    FAILED = "failed"


class Progress(DocumentModel):
    """How far a generation has come."""

    stage: Stage = Stage.WAITING
    percent: int = Field(default=0, ge=0, le=100)


class TokenUsage(DocumentModel):
    """Tokens a provider reports for one call."""

    prompt_tokens: int = 0
    completion_tokens: int = 0


class ProviderAttempt(DocumentModel):
    """One call to one provider while writing: who, how it ended, how long it took."""

    provider: str
    outcome: str
    ms: int


class Source(DocumentModel):
    """A reference a lesson was grounded on; the lesson cites it as [n], n its place here."""

    kind: str
    title: str
    url: str
    published_at: datetime | None = None

    @classmethod
    def of(cls, finding: "SourceLike") -> "Source":
        """The part of a research finding a lesson keeps."""
        return cls(
            kind=finding.kind,
            title=finding.title,
            url=finding.url,
            published_at=finding.published_at,
        )


class Lesson(DocumentModel):
    """A lesson skeleton, and its content once written. Status changes go through the methods."""

    id: str
    user_id: str
    roadmap_id: str
    module_id: str
    order: int
    goal: str
    skill_level: str
    module_title: str
    title: str
    description: str
    objectives: list[str]
    estimated_minutes: int
    generation_status: GenerationStatus = GenerationStatus.PENDING
    generation_error: str | None = None
    progress: Progress = Field(default_factory=Progress)
    content: LessonContent | None = None
    sources: list[Source] = Field(default_factory=list)
    # Set when the lesson was written without research, saying so to the learner.
    research_note: str | None = None
    provider: str | None = None
    model: str | None = None
    usage: TokenUsage | None = None
    attempts: list[ProviderAttempt] = Field(default_factory=list)
    generated_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # The storage version (Cosmos etag) this copy was read at; conditional writes compare it.
    version: str | None = Field(default=None, exclude=True)

    @property
    def status(self) -> GenerationStatus:
        """Shorthand for ``generation_status``."""
        return self.generation_status

    def queue(self) -> None:
        """Ask for the lesson to be written (from ``pending`` or ``failed``)."""
        self._move(_QUEUE, Progress(stage=Stage.QUEUED, percent=0))
        self.generation_error = None
        self.attempts = []

    def unqueue(self, previous: GenerationStatus) -> None:
        """Undo ``queue`` when its message could not be sent."""
        if previous not in (S.PENDING, S.FAILED):
            raise IllegalTransition(self.status, previous)
        self._move((_UNQUEUE_FROM, previous), Progress())
        self.generation_error = "The lesson could not be queued; please try again."

    def start(self) -> None:
        """Claim a queued lesson for writing."""
        self._move(_START, Progress(stage=Stage.STARTING, percent=5))

    def report(self, stage: Stage, percent: int) -> None:
        """Record progress of a generation under way."""
        if self.status is not S.GENERATING:
            raise IllegalTransition(self.status, f"{S.GENERATING} ({stage})")
        self.progress = Progress(stage=stage, percent=percent)
        self.updated_at = utcnow()

    def release(self, attempts: list[ProviderAttempt] | None = None) -> None:
        """Hand a claimed lesson back to the queue after a retryable failure."""
        self._move(_RELEASE, Progress(stage=Stage.QUEUED, percent=0))
        if attempts is not None:
            self.attempts = list(attempts)

    def complete(
        self,
        content: LessonContent,
        *,
        provider: str,
        model: str,
        usage: TokenUsage | None,
        attempts: list[ProviderAttempt] | None = None,
        sources: list[Source] | None = None,
        research_note: str | None = None,
    ) -> None:
        """Store the written content, what it was grounded on, and how it was obtained."""
        self._move(_COMPLETE, Progress(stage=Stage.DONE, percent=100))
        self.content = content
        self.provider = provider
        self.model = model
        self.usage = usage
        self.attempts = list(attempts or [])
        self.sources = list(sources or [])
        self.research_note = research_note
        self.generation_error = None
        self.generated_at = self.updated_at

    def fail(self, reason: str, attempts: list[ProviderAttempt] | None = None) -> None:
        """Give up on this generation, saying why in words a learner understands."""
        self._move(_FAIL, Progress(stage=Stage.FAILED, percent=self.progress.percent))
        self.generation_error = reason
        if attempts is not None:
            self.attempts = list(attempts)

    def _move(
        self, change: tuple[frozenset[GenerationStatus], GenerationStatus], progress: Progress
    ) -> None:
        sources, target = change
        if self.status not in sources:
            raise IllegalTransition(self.status, target)
        self.generation_status = target
        self.progress = progress
        self.updated_at = utcnow()
