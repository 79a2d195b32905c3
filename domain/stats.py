"""A learner's progress at a glance: streaks, this week's minutes, completions, what comes next.

Pure: computed from the learner's progress records, roadmaps and lesson summaries, a moment and
a time zone; nothing here reads storage or the clock. Days are calendar days in the learner's
zone, so a lesson opened at 23:30 UTC counts for the next day in Berlin, and a day is a day
whether it had 23, 24 or 25 hours. A day is active when a lesson was first opened or completed
on it (the progress records keep those two moments per lesson).
"""

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.base import DocumentModel
from domain.lesson import GenerationStatus
from domain.progress import LearnerProgress
from domain.roadmap import Roadmap
from domain.views import LessonSummary

_DAY = timedelta(days=1)


class Streak(DocumentModel):
    """Runs of consecutive active days."""

    current: int  # the run ending today or yesterday (still unbroken), else 0
    longest: int
    last_active_on: date | None = None
    active_today: bool = False


class WeekProgress(DocumentModel):
    """Minutes of lessons completed this week (Monday to Sunday) against the weekly target."""

    starts_on: date
    minutes_completed: int
    # The weekly hours, in minutes, of the roadmaps with lessons left; null if none sets them.
    target_minutes: int | None


class RoadmapStats(DocumentModel):
    """One roadmap's completions and this week's minutes against its own weekly hours."""

    roadmap_id: str
    goal: str
    lessons: int
    completed: int
    minutes_this_week: int
    weekly_minutes: int | None


class NextLesson(DocumentModel):
    """The lesson to continue with."""

    lesson_id: str
    roadmap_id: str
    module_id: str
    title: str
    estimated_minutes: int
    generation_status: GenerationStatus


class LearnerStats(DocumentModel):
    """The body of ``GET /api/me/stats``."""

    time_zone: str
    today: date
    streak: Streak
    week: WeekProgress
    lessons_completed: int
    roadmaps: list[RoadmapStats]  # newest first, as the roadmap list
    next_lesson: NextLesson | None


def learner_stats(
    marks: Sequence[LearnerProgress],
    roadmaps: Sequence[Roadmap],
    lessons: Sequence[LessonSummary],
    *,
    now: datetime,
    zone: ZoneInfo,
) -> LearnerStats:
    """Everything ``GET /api/me/stats`` shows, for the learner's records at ``now`` in ``zone``."""
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    minutes = {lesson.id: lesson.estimated_minutes for lesson in lessons}
    this_week = [
        mark
        for mark in marks
        if mark.completed_at is not None
        and monday <= _day(mark.completed_at, zone) < monday + 7 * _DAY
    ]
    newest_first = sorted(roadmaps, key=lambda roadmap: roadmap.created_at, reverse=True)
    per_roadmap = [_roadmap_stats(r, marks, this_week, minutes) for r in newest_first]
    targets = [r.weekly_minutes for r in per_roadmap if r.completed < r.lessons]
    known = [target for target in targets if target is not None]
    return LearnerStats(
        time_zone=zone.key,
        today=today,
        streak=streak(_active_days(marks, zone), today),
        week=WeekProgress(
            starts_on=monday,
            minutes_completed=sum(minutes.get(mark.lesson_id, 0) for mark in this_week),
            target_minutes=sum(known) if known else None,
        ),
        lessons_completed=sum(mark.completed_at is not None for mark in marks),
        roadmaps=per_roadmap,
        next_lesson=next_lesson(marks, roadmaps, lessons),
    )


def streak(days: Iterable[date], today: date) -> Streak:
    """The current and longest runs of consecutive ``days``; current only if not yet broken."""
    longest = run = 0
    previous: date | None = None
    for day in sorted(set(days)):
        run = run + 1 if previous is not None and day - previous == _DAY else 1
        longest = max(longest, run)
        previous = day
    unbroken = previous is not None and today - previous <= _DAY
    return Streak(
        current=run if unbroken else 0,
        longest=longest,
        last_active_on=previous,
        active_today=previous is not None and previous >= today,
    )


def next_lesson(
    marks: Sequence[LearnerProgress], roadmaps: Sequence[Roadmap], lessons: Sequence[LessonSummary]
) -> NextLesson | None:
    """The first lesson not completed, in module and lesson order, of the most recently active
    roadmap that has one (roadmaps never opened follow, newest first); ``None`` when all done."""
    done = {mark.lesson_id for mark in marks if mark.completed_at is not None}
    by_id = {lesson.id: lesson for lesson in lessons}
    last = _last_active(marks)
    ranked = sorted(
        roadmaps, key=lambda r: (r.id in last, last.get(r.id, r.created_at), r.created_at)
    )
    for roadmap in reversed(ranked):
        for module in sorted(roadmap.modules, key=lambda m: m.order):
            for lesson_id in module.lesson_ids:
                lesson = by_id.get(lesson_id)
                if lesson is not None and lesson_id not in done:
                    return NextLesson(
                        lesson_id=lesson.id,
                        roadmap_id=roadmap.id,
                        module_id=module.id,
                        title=lesson.title,
                        estimated_minutes=lesson.estimated_minutes,
                        generation_status=lesson.generation_status,
                    )
    return None


def _roadmap_stats(
    roadmap: Roadmap,
    marks: Sequence[LearnerProgress],
    this_week: Sequence[LearnerProgress],
    minutes: dict[str, int],
) -> RoadmapStats:
    ids = {i for module in roadmap.modules for i in module.lesson_ids if i in minutes}
    return RoadmapStats(
        roadmap_id=roadmap.id,
        goal=roadmap.goal,
        lessons=len(ids),
        completed=sum(m.completed_at is not None and m.lesson_id in ids for m in marks),
        minutes_this_week=sum(minutes[m.lesson_id] for m in this_week if m.lesson_id in ids),
        weekly_minutes=None if roadmap.weekly_hours is None else roadmap.weekly_hours * 60,
    )


def _last_active(marks: Iterable[LearnerProgress]) -> dict[str, datetime]:
    """Roadmap id → the latest moment one of its lessons was opened or completed."""
    last: dict[str, datetime] = {}
    for mark in marks:
        for moment in _moments(mark):
            if mark.roadmap_id not in last or moment > last[mark.roadmap_id]:
                last[mark.roadmap_id] = moment
    return last


def _moments(mark: LearnerProgress) -> list[datetime]:
    return [m for m in (mark.viewed_at, mark.completed_at) if m is not None]


def _active_days(marks: Iterable[LearnerProgress], zone: ZoneInfo) -> set[date]:
    return {_day(moment, zone) for mark in marks for moment in _moments(mark)}


def _day(moment: datetime, zone: ZoneInfo) -> date:
    """The calendar day of ``moment`` in ``zone`` (a moment without a zone is UTC, as stored)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).date()
