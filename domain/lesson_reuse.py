"""The shared lesson cache as the writer uses it: reuse an identical lesson, offer a new one.

A lesson whose inputs (brief and prompts) are identical to one written before, for anyone, reuses
its content instead of a model call (see ``domain/lesson_cache.py`` for what is shared). The
cache only saves calls: when it cannot be read or written, the lesson is simply written anew.
"""

import logging
from collections.abc import Callable

from domain.briefs import brief_for
from domain.lesson import GenerationStatus, Lesson
from domain.lesson_cache import CachedLesson, cache_key
from domain.ports import LessonCache
from domain.telemetry import ATTR_OUTCOME, LESSON_CACHE_LOOKUPS, Telemetry

log = logging.getLogger(__name__)


class SharedLessons:
    """Keys, lookups and offers of the lesson cache, each lookup counted and traced."""

    def __init__(
        self, cache: LessonCache, prompt_version: Callable[[], str], telemetry: Telemetry
    ) -> None:
        """``prompt_version`` names the prompts in use, asked when first needed (the
        composition root loads the prompts only when something is written)."""
        self._cache = cache
        self._prompt_version = prompt_version
        self._telemetry = telemetry

    def key(self, lesson: Lesson) -> str:
        """The lesson's key: its brief and the prompts. A forced rewrite still shares."""
        return cache_key(brief_for(lesson), self._prompt_version())

    async def entry_for(self, lesson: Lesson, key: str) -> CachedLesson | None:
        """What ``lesson`` may reuse, if anything.

        Not for a forced rewrite (the learner wants new content), nor the lesson's own earlier
        content (a failed forced rewrite retried must still write anew).
        """
        if lesson.queued_from is GenerationStatus.COMPLETED:
            return None
        entry = await self._lookup(key)
        if entry is None or entry.lesson_id == lesson.id:
            return None
        return entry

    async def _lookup(self, key: str) -> CachedLesson | None:
        with self._telemetry.span("lesson.cache") as span:
            try:
                entry = await self._cache.get(key)
                outcome = "hit" if entry is not None else "miss"
            except Exception:  # the cache saves calls; without it the lesson is written anew
                log.warning("lesson cache unreadable; writing anew", exc_info=True)
                entry, outcome = None, "error"
            span.set({ATTR_OUTCOME: outcome})
        self._telemetry.count(LESSON_CACHE_LOOKUPS, 1, {ATTR_OUTCOME: outcome})
        return entry

    async def offer(self, key: str, lesson: Lesson) -> None:
        """Offer a freshly written lesson to identical ones; templates are never shared."""
        entry = CachedLesson.shareable(lesson)
        if entry is None:
            return
        try:
            await self._cache.put(key, entry)
        except Exception:  # the lesson is stored; only later learners miss the reuse
            log.warning("lesson %s could not be shared through the cache", lesson.id, exc_info=True)
