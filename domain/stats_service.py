"""The learner's progress at a glance (``GET /api/me/stats``), read from their own partition."""

import asyncio
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.base import utcnow
from domain.ports import LessonRepository, ProgressRepository, RoadmapRepository
from domain.stats import LearnerStats, learner_stats


class StatsService:
    """Streaks, this week's minutes, completions and the next lesson of one learner."""

    def __init__(
        self,
        roadmaps: RoadmapRepository,
        lessons: LessonRepository,
        progress: ProgressRepository,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """``clock``: the current time, timezone-aware (tests pass a fake one)."""
        self._roadmaps = roadmaps
        self._lessons = lessons
        self._progress = progress
        self._clock = clock

    async def stats(self, user_id: str, zone: ZoneInfo) -> LearnerStats:
        """The learner's stats now, with days counted in ``zone``: three single-partition reads."""
        marks, roadmaps, lessons = await asyncio.gather(
            self._progress.marked(user_id),
            self._roadmaps.for_user(user_id),
            self._lessons.statuses(user_id),
        )
        return learner_stats(marks, roadmaps, lessons, now=self._clock(), zone=zone)
