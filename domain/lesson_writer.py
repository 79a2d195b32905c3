"""The worker's side of generation: claim a queued lesson, write it, store the outcome."""

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from domain.base import utcnow
from domain.briefs import brief_for, query_for
from domain.claim import Claim, ClaimLost
from domain.content import LessonContent, MarkdownCleaner
from domain.errors import ConcurrencyConflict, FinalError, NotFound
from domain.lesson import GenerationStatus, Lesson, ProviderAttempt, Source, Stage
from domain.lesson_cache import CACHE_PROVIDER, REUSED
from domain.lesson_reuse import SharedLessons
from domain.live import LiveEvent, LiveLesson
from domain.ports import (
    GenerationMessage,
    LessonCache,
    LessonNotifier,
    LessonRepository,
    LlmChain,
    TaskKind,
)
from domain.research import Digest, Research, normalise_url
from domain.telemetry import (
    ATTR_LESSON,
    ATTR_OUTCOME,
    ATTR_PROVIDER,
    ATTR_USER,
    LESSONS_FAILED,
    LESSONS_POISONED,
    QUEUE_WAIT,
    NoTelemetry,
    SpanKind,
    Telemetry,
    report_completed,
)

log = logging.getLogger(__name__)

NO_RESEARCH = (
    "This lesson was written without outside research: no source answered in time. "
    "Check its facts against the official documentation."
)

# What the learner is told: what they can do, never an exception's text (that goes to the logs
# and ``diagnosis``, for ``python -m ops``).
COULD_NOT_WRITE = (
    "We could not write this lesson. Please try again; if it keeps failing, try again later."
)
WILL_RETRY = "The writing service is busy; your lesson will be written shortly."
# Given a lesson's source URLs, the Markdown cleaner that keeps links only to hosts it allows.
LinkPolicy = Callable[[Sequence[str]], MarkdownCleaner]

# Seconds kept back from an invocation's time limit for handing the lesson back to the queue.
SAVE_MARGIN_SECONDS = 10.0

GAVE_UP = (
    "We could not write this lesson after several attempts. Please try again in a few minutes."
)


def _unversioned() -> str:
    return "unversioned"


class LessonWriter:
    """Handles one generation message: at most one writer ever works on a lesson at a time."""

    def __init__(
        self,
        lessons: LessonRepository,
        chain: LlmChain,
        *,
        budget: float,
        researcher: Research | None = None,
        owner: str = "worker",
        lease_seconds: float = 180.0,
        clock: Callable[[], datetime] = utcnow,
        telemetry: Telemetry | None = None,
        cache: LessonCache | None = None,
        prompt_version: Callable[[], str] = _unversioned,
        links: LinkPolicy | None = None,
        notifier: LessonNotifier | None = None,
        time_limit: float = 600.0,
        clean: MarkdownCleaner | None = None,
    ) -> None:
        """``owner`` names this worker in leases; a claim lasts ``lease_seconds`` unrenewed.

        With a ``cache``, a lesson whose inputs are identical to one written before (for anyone)
        reuses its content; ``prompt_version`` names the prompts in use, asked when first needed
        (the composition root loads the prompts only when something is written). With
        ``links``, a lesson's Markdown keeps links only to hosts the policy allows for its
        sources (the rest stay as text). With a ``notifier``, each status change and stage is
        published to the lesson's learner once stored. ``time_limit`` is the seconds one
        invocation may run (the host's ``functionTimeout``): the final save is retried through
        storage blips until just before it runs out. With a ``notifier``, the lesson's sections
        are also shown as they are written, cleaned first with ``clean`` (the cleaner provider
        answers are validated with) and then the link policy, as the stored lesson is.
        """
        self._links = links
        self._lessons = lessons
        self._chain = chain
        self._budget = budget
        self._researcher = researcher
        self._owner = owner
        self._lease = timedelta(seconds=lease_seconds)
        self._clock = clock
        self._telemetry = telemetry or NoTelemetry()
        self._shared = SharedLessons(cache, prompt_version, self._telemetry) if cache else None
        self._notifier = notifier
        self._time_limit = time_limit
        self._clean = clean

    async def handle(self, message: GenerationMessage) -> Lesson | None:
        """Write the lesson if it can be claimed; a duplicate or stale message does nothing.

        It can be claimed when queued, or generating under an expired lease (its worker died).
        A final failure is stored on the lesson as ``failed``; a retryable one hands the lesson
        back to the queue and raises, so the message is delivered again. The work continues the
        trace the message carries (the learner's request).
        """
        attributes = {
            ATTR_LESSON: message.lesson_id,
            ATTR_USER: self._telemetry.user(message.user_id),
        }
        with self._telemetry.span(
            "lesson.write", attributes, kind=SpanKind.CONSUMER, parent=message.trace
        ) as span:
            waited = self._clock() - message.requested_at
            self._telemetry.record(QUEUE_WAIT, max(0.0, waited.total_seconds() * 1000))
            lesson = await self._handle(message)
            outcome = lesson.status.value if lesson is not None else "skipped"
            span.set({ATTR_OUTCOME: outcome, ATTR_PROVIDER: (lesson and lesson.provider) or ""})
            return lesson

    async def _handle(self, message: GenerationMessage) -> Lesson | None:
        lesson = await self._claim(message)
        if lesson is None:
            return None
        started = time.perf_counter()
        until = time.monotonic() + self._time_limit - SAVE_MARGIN_SECONDS
        claim_id = lesson.lease.claim if lesson.lease else ""
        claim = Claim(
            self._lessons, lesson, lease=self._lease, clock=self._clock, monotonic=time.monotonic
        )
        try:
            await claim.run(self._write(claim, until))
        except ClaimLost:
            log.warning("lesson %s was taken over or removed while being written", lesson.id)
            return None
        except (ConcurrencyConflict, NotFound):
            log.warning("lesson %s was changed or deleted while being written", lesson.id)
            return None
        except FinalError as error:
            log.warning("lesson %s could not be written: %s", lesson.id, _problem(error))
            lesson.fail(COULD_NOT_WRITE, _attempts_of(error), diagnosis=_problem(error))
            await claim.finish(until)
            self._telemetry.count(LESSONS_FAILED, 1, {"skillsync.reason": "final"})
        except Exception as error:
            await self._release(message, claim_id, _attempts_of(error), error)
            raise
        await self._notify(lesson)
        if lesson.status is GenerationStatus.COMPLETED:
            ms = (time.perf_counter() - started) * 1000
            report_completed(self._telemetry, _as_reported(lesson), ms)
        log.info(
            "lesson %s %s in %.0f ms (provider %s; %d heartbeats)",
            lesson.id,
            lesson.status,
            (time.perf_counter() - started) * 1000,
            lesson.provider,
            claim.renewals,
        )
        return lesson

    async def give_up(self, message: GenerationMessage) -> Lesson | None:
        """Mark a lesson whose message was poisoned as ``failed``, if it is still in flight."""
        try:
            lesson = await self._lessons.get(message.user_id, message.lesson_id)
        except NotFound:
            return None
        if lesson.status not in (GenerationStatus.QUEUED, GenerationStatus.GENERATING):
            return lesson
        if lesson.status is GenerationStatus.GENERATING and not lesson.lease_expired(self._clock()):
            return lesson  # a live delivery is still writing it: let that one finish or fail
        log.warning(
            "lesson %s failed after %d deliveries; last problem: %s",
            lesson.id,
            lesson.deliveries,
            lesson.last_error,
        )
        lesson.fail(GAVE_UP)
        await self._lessons.save(lesson)
        await self._notify(lesson)
        self._telemetry.count(LESSONS_POISONED, 1)
        self._telemetry.count(LESSONS_FAILED, 1, {"skillsync.reason": "poisoned"})
        return lesson

    async def _claim(self, message: GenerationMessage) -> Lesson | None:
        try:
            lesson = await self._lessons.get(message.user_id, message.lesson_id)
        except NotFound:
            log.warning("lesson %s no longer exists; message dropped", message.lesson_id)
            return None
        now = self._clock()
        if not lesson.claimable(now):
            log.info("lesson %s is %s; duplicate message ignored", lesson.id, lesson.status)
            return None
        lesson.start(self._owner, now + self._lease, now=now)
        try:
            await self._lessons.save(lesson)
        except ConcurrencyConflict:
            log.info("lesson %s was claimed by another worker", lesson.id)
            return None
        await self._notify(lesson)
        return lesson

    async def _write(self, claim: Claim, until: float) -> None:
        lesson = claim.lesson
        key = self._shared.key(lesson) if self._shared is not None else None
        if key is not None and await self._reuse(claim, key, until):
            return
        with self._telemetry.span("lesson.research"):
            digest = await self._research(claim)
        await self._advance(claim, Stage.WRITING, 30)
        references = tuple(digest.findings)
        urls = [finding.url for finding in references]
        links = self._links(urls) if self._links is not None else None
        live = self._live(claim, links)
        try:
            with self._telemetry.span("lesson.generate") as span:
                brief = brief_for(lesson, references)
                written = await self._chain.generate(
                    TaskKind.LESSON, brief, LessonContent, budget=self._budget, watcher=live
                )
                span.set({ATTR_PROVIDER: written.draft.provider})
        finally:
            claim.live = None
            if live is not None:
                await live.close()
        draft = written.draft
        content = written.value.reading_only_from(urls, normalise_url)
        if links is not None:
            content = content.cleaned_with(links)
        lesson.complete(
            content,
            provider=draft.provider,
            model=draft.model,
            usage=draft.usage,
            attempts=written.attempts,
            sources=[Source.of(finding) for finding in references],
            research_note=None if references else NO_RESEARCH,
        )
        await claim.finish(until)
        if live is not None:
            await live.completed()
        if key is not None and self._shared is not None:
            await self._shared.offer(key, lesson)

    def _live(self, claim: Claim, links: MarkdownCleaner | None) -> LiveLesson | None:
        """A follower of the answer being written, with a notifier to show it to; the claim's
        heartbeats store the sections it has shown (for a page that connects late)."""
        if self._notifier is None:
            return None
        lesson, notifier = claim.lesson, self._notifier

        async def publish(event: LiveEvent) -> None:
            await notifier.live(lesson, event)

        cleaners = [clean for clean in (self._clean, links) if clean is not None]
        live = LiveLesson(publish, delivery=lesson.deliveries, cleaners=cleaners)
        claim.live = live
        return live

    async def _reuse(self, claim: Claim, key: str, until: float) -> bool:
        """Complete the lesson from the cache if an identical one was written; whether it was."""
        assert self._shared is not None
        lesson = claim.lesson
        started = time.perf_counter()
        entry = await self._shared.entry_for(lesson, key)
        if entry is None:
            return False
        ms = round((time.perf_counter() - started) * 1000)
        lesson.reuse(
            entry.content,
            reused_from=entry.lesson_id,
            provider=entry.provider,
            model=entry.model,
            attempts=[ProviderAttempt(provider=CACHE_PROVIDER, outcome=REUSED, ms=ms)],
            sources=entry.sources,
            research_note=entry.research_note,
        )
        await claim.finish(until)
        return True

    async def _research(self, claim: Claim) -> Digest:
        lesson = claim.lesson
        if self._researcher is None:
            return Digest(findings=[])
        await self._advance(claim, Stage.RESEARCHING, 10)
        digest = await self._researcher.research(query_for(lesson))
        log.info(
            "lesson %s: %d findings from %s%s",
            lesson.id,
            len(digest.findings),
            ", ".join(digest.answered) or "no source",
            " (cached)" if digest.from_cache else "",
        )
        return digest

    async def _advance(self, claim: Claim, stage: Stage, percent: int) -> None:
        await claim.advance(stage, percent)
        await self._notify(claim.lesson)

    async def _notify(self, lesson: Lesson) -> None:
        """Tell the learner's pages about a change already stored (never raises: see the port)."""
        if self._notifier is not None:
            await self._notifier.lesson_changed(lesson)

    async def _release(
        self,
        message: GenerationMessage,
        claim: str,
        attempts: list[ProviderAttempt] | None,
        error: Exception,
    ) -> None:
        # Re-read: the copy in hand may be ahead of what was stored when the failure hit. Only
        # this claim is released: another invocation, even of this worker, may have taken over.
        log.warning("lesson %s goes back to the queue: %s", message.lesson_id, _problem(error))
        try:
            lesson = await self._lessons.get(message.user_id, message.lesson_id)
            ours = lesson.lease is not None and lesson.lease.claim == claim
            if lesson.status is GenerationStatus.GENERATING and ours:
                lesson.release(attempts, WILL_RETRY, diagnosis=_problem(error))
                await self._lessons.save(lesson)
                await self._notify(lesson)
        except Exception:  # the original error matters more; the message will be redelivered
            log.exception("could not hand lesson %s back to the queue", message.lesson_id)


def _as_reported(lesson: Lesson) -> Lesson:
    """A reused lesson counts as the cache's: no provider wrote it (nor fell back) just now."""
    if lesson.reused_from is None:
        return lesson
    return lesson.model_copy(update={"provider": CACHE_PROVIDER})


def _problem(error: Exception) -> str:
    """A problem in a line, for operators (``diagnosis``, logs): no stack, bounded."""
    return (str(error) or type(error).__name__)[:300]


def _attempts_of(error: Exception) -> list[ProviderAttempt] | None:
    attempts = getattr(error, "attempts", None)
    return list(attempts) if attempts is not None else None
