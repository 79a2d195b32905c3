"""A lesson and the state machine of its generation status.

    method    from                                           to
    queue     pending, failed (and completed, with force)    queued
    unqueue   queued                                         the status before ``queue``
    start     queued; generating whose lease expired         generating (a new lease)
    report    generating                                     generating (lease renewed)
    release   generating                                     queued
    requeue   queued, generating                             queued
    complete  generating                                     completed
    reuse     generating                                     completed (an identical lesson's)
    fail      queued, generating                             failed
    cancel    queued                                         pending (completed, if forced)

``unqueue`` undoes a ``queue`` whose message could not be sent; ``release`` hands a claimed lesson
back to the queue after a retryable failure; ``requeue`` is the sweeper's repair of a lesson
stuck in ``generating`` past its lease or in ``queued`` for too long. A claim (``start``) holds a
lease; a lesson whose lease expired (its worker died) may be claimed again. A forced ``queue``
of a completed lesson keeps its content readable until the new one replaces it.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Protocol

from pydantic import Field, PlainSerializer

from domain.base import DocumentModel, new_id, utcnow
from domain.content import LessonContent, Section
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
_FORCE_QUEUE = (frozenset({S.PENDING, S.FAILED, S.COMPLETED}), S.QUEUED)
_START = (frozenset({S.QUEUED, S.GENERATING}), S.GENERATING)
_REQUEUE = (frozenset({S.QUEUED, S.GENERATING}), S.QUEUED)
_RELEASE = (frozenset({S.GENERATING}), S.QUEUED)
_COMPLETE = (frozenset({S.GENERATING}), S.COMPLETED)
_FAIL = (frozenset({S.QUEUED, S.GENERATING}), S.FAILED)
_UNQUEUE_FROM = frozenset({S.QUEUED})
_CANCEL_FROM = frozenset({S.QUEUED})
_UNQUEUE_TO = frozenset({S.PENDING, S.FAILED, S.COMPLETED})
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
    """How far a generation has come.

    While a lesson is written, ``sections`` are the ones already shown to the learner's pages, as
    of the live event numbered ``sequence`` (see ``domain.live``): stored by the writer's progress
    writes, so a page that connects late starts from them.
    """

    stage: Stage = Stage.WAITING
    percent: int = Field(default=0, ge=0, le=100)
    sections: list[Section] = Field(default_factory=list)
    sequence: int = Field(default=0, ge=0)


class TokenUsage(DocumentModel):
    """Tokens a provider reports for one call."""

    prompt_tokens: int = 0
    completion_tokens: int = 0


class ProviderAttempt(DocumentModel):
    """One call to one provider while writing: who, how it ended, how long it took."""

    provider: str
    outcome: str
    ms: int


def _stored_time(moment: datetime) -> str:
    """Times the sweeper compares as strings in queries: always UTC, always microseconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# A time stored in a fixed-width form, so string order is time order (see ``_stored_time``).
Timestamp = Annotated[datetime, PlainSerializer(_stored_time, return_type=str, when_used="json")]


class Lease(DocumentModel):
    """Who is writing a lesson (a worker, and one claim of it), and until when, unrenewed."""

    owner: str
    claim: str = Field(default_factory=new_id)
    expires_at: Timestamp


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
    # The lesson whose content this one reuses (identical inputs; see domain/lesson_cache.py).
    reused_from: str | None = None
    lease: Lease | None = None
    # Claims since the learner asked (each queue delivery that started writing).
    deliveries: int = 0
    # Times the sweeper re-queued the lesson since the learner asked.
    requeues: int = 0
    queued_at: Timestamp | None = None
    # The status the latest learner request came from (a forced rewrite: completed).
    queued_from: GenerationStatus | None = None
    # What the learner asked of this version ("more examples"), as they wrote it: shown with the
    # lesson and given to the model as data.
    instructions: str | None = None
    # W3C trace context of the latest learner request: the sweeper's re-sends link to it.
    trace: dict[str, str] = Field(default_factory=dict)
    # The latest retryable problem, in words for the learner, while the lesson waits for its
    # next delivery.
    last_error: str | None = None
    # What went wrong, in an operator's words (``python -m ops lesson show``, logs): never shown
    # to the learner, whose views carry only ``generation_error`` and ``last_error``.
    diagnosis: str | None = None
    generated_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # The storage version (Cosmos etag) this copy was read at; conditional writes compare it.
    version: str | None = Field(default=None, exclude=True)

    @property
    def status(self) -> GenerationStatus:
        """Shorthand for ``generation_status``."""
        return self.generation_status

    def queue(self, *, force: bool = False, instructions: str | None = None) -> None:
        """Ask for the lesson to be written: from ``pending`` or ``failed``, or with ``force``
        from ``completed`` too (the old content stays readable until the new one lands), the
        way the learner's ``instructions`` say, if any."""
        previous = self.status
        self._move(_FORCE_QUEUE if force else _QUEUE, Progress(stage=Stage.QUEUED, percent=0))
        self.instructions = instructions
        self.queued_from = previous
        self.generation_error = None
        self.last_error = None
        if not force:  # a forced rewrite keeps the trail of the content still shown
            self.attempts = []
        self.lease = None
        self.deliveries = 0
        self.requeues = 0
        self.queued_at = self.updated_at

    def unqueue(self, previous: GenerationStatus) -> None:
        """Undo ``queue`` when its message could not be sent."""
        if previous not in _UNQUEUE_TO:
            raise IllegalTransition(self.status, previous)
        done = previous is S.COMPLETED
        self._move(
            (_UNQUEUE_FROM, previous),
            Progress(stage=Stage.DONE, percent=100) if done else Progress(),
        )
        problem = "The lesson could not be queued; please try again."
        if done:
            self.last_error = problem
        else:
            self.generation_error = problem
        self.queued_at = None

    def cancel(self) -> None:
        """The learner withdraws a queued request; its message, when it comes, finds nothing.

        A withdrawn rewrite (``queue(force=True)``) goes back to ``completed``, content intact.
        """
        if self.queued_from is S.COMPLETED:
            self._move((_CANCEL_FROM, S.COMPLETED), Progress(stage=Stage.DONE, percent=100))
        else:
            self._move((_CANCEL_FROM, S.PENDING), Progress())
        self.lease = None
        self.queued_at = None

    def claimable(self, now: datetime) -> bool:
        """Queued, or generating under a lease that has expired (its worker is gone)."""
        if self.status is S.QUEUED:
            return True
        return self.status is S.GENERATING and self.lease_expired(now)

    def lease_expired(self, now: datetime) -> bool:
        """Whether a generation's lease (if any) has run out."""
        return self.lease is None or self.lease.expires_at <= now

    def start(self, owner: str, lease_until: datetime, *, now: datetime | None = None) -> None:
        """Claim the lesson for writing until ``lease_until`` (renewed by ``report``)."""
        if self.status is S.GENERATING and not self.lease_expired(now or utcnow()):
            raise IllegalTransition(self.status, f"{S.GENERATING} (claimed by {self.lease})")
        self._move(_START, Progress(stage=Stage.STARTING, percent=5))
        self.lease = Lease(owner=owner, expires_at=lease_until)
        self.deliveries += 1

    def report(
        self,
        stage: Stage,
        percent: int,
        *,
        lease_until: datetime | None = None,
        sections: Sequence[Section] = (),
        sequence: int = 0,
    ) -> None:
        """Record progress of a generation under way (and the sections shown so far, as of the
        live event ``sequence``), renewing its lease."""
        if self.status is not S.GENERATING:
            raise IllegalTransition(self.status, f"{S.GENERATING} ({stage})")
        self.progress = Progress(
            stage=stage, percent=percent, sections=list(sections), sequence=sequence
        )
        self.updated_at = utcnow()
        if lease_until is not None and self.lease is not None:
            self.lease = self.lease.model_copy(update={"expires_at": lease_until})

    def release(
        self,
        attempts: list[ProviderAttempt] | None = None,
        problem: str | None = None,
        diagnosis: str | None = None,
    ) -> None:
        """Hand a claimed lesson back to the queue after a retryable failure."""
        self._move(_RELEASE, Progress(stage=Stage.QUEUED, percent=0))
        if attempts is not None:
            self.attempts = list(attempts)
        self.last_error = problem
        self.diagnosis = diagnosis
        self.lease = None
        self.queued_at = self.updated_at

    def stuck(self, now: datetime, queued_before: datetime) -> bool:
        """Generating past its lease, or queued since before ``queued_before``."""
        if self.status is S.GENERATING:
            return self.lease_expired(now)
        queued = self.queued_at or self.updated_at
        return self.status is S.QUEUED and queued < queued_before

    def requeue(self) -> None:
        """The sweeper's repair: back to ``queued``, to be sent again."""
        self._move(_REQUEUE, Progress(stage=Stage.QUEUED, percent=0))
        self.lease = None
        self.requeues += 1
        self.queued_at = self.updated_at

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
        self.last_error = None
        self.lease = None
        self.generated_at = self.updated_at
        self.reused_from = None  # written anew; ``reuse`` sets it for shared content

    def reuse(
        self,
        content: LessonContent,
        *,
        reused_from: str,
        provider: str,
        model: str,
        attempts: list[ProviderAttempt],
        sources: list[Source] | None = None,
        research_note: str | None = None,
    ) -> None:
        """Complete with content written for an identical lesson, ``reused_from``: no model call.

        ``provider`` and ``model`` are the original's; no tokens were spent on this one.
        """
        self.complete(
            content,
            provider=provider,
            model=model,
            usage=None,
            attempts=attempts,
            sources=sources,
            research_note=research_note,
        )
        self.reused_from = reused_from

    def fail(
        self,
        reason: str,
        attempts: list[ProviderAttempt] | None = None,
        diagnosis: str | None = None,
    ) -> None:
        """Give up on this generation, saying why in words a learner understands (``reason``)
        and in an operator's (``diagnosis``, kept from the last problem when not given)."""
        self._move(_FAIL, Progress(stage=Stage.FAILED, percent=self.progress.percent))
        self.generation_error = reason
        if diagnosis is not None:
            self.diagnosis = diagnosis
        self.lease = None
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
