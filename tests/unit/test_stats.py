"""Progress at a glance: streaks in the learner's zone, the week's minutes, completions, what next;
and ``GET /api/me/stats`` on fakes."""

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import azure.functions as func
import pytest

from domain.lesson import Lesson
from domain.progress import LearnerProgress
from domain.roadmap import (
    CreateRoadmapRequest,
    LessonPlan,
    ModulePlan,
    Roadmap,
    RoadmapOutline,
    build_roadmap,
)
from domain.stats import learner_stats, streak
from domain.stats_service import StatsService
from domain.views import LessonSummary
from functions.bootstrap import serving
from tests.unit.fakes import USER, FakeRoadmapRepository, FakeUtcClock
from tests.unit.http_fakes import Served, http_functions

BERLIN = ZoneInfo("Europe/Berlin")
UTC_ZONE = ZoneInfo("UTC")
# Wednesday 11 March 2026, noon in Berlin (CET, UTC+1): the week began on Monday 9 March.
NOW = datetime(2026, 3, 11, 11, 0, tzinfo=UTC)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _roadmap(
    *minutes_by_module: list[int], weekly_hours: int | None = 5, created: str = "2026-01-01T00:00"
) -> tuple[Roadmap, list[Lesson]]:
    outline = RoadmapOutline(
        modules=[
            ModulePlan(
                title=f"Module {m}",
                lessons=[
                    LessonPlan(
                        title=f"Lesson {m}.{n}", objectives=["Learn it"], estimated_minutes=x
                    )
                    for n, x in enumerate(minutes, start=1)
                ],
            )
            for m, minutes in enumerate(minutes_by_module, start=1)
        ]
    )
    request = CreateRoadmapRequest(
        goal="Learn Go", skill_level="beginner", weekly_hours=weekly_hours
    )
    roadmap, lessons = build_roadmap(USER, request, outline, planned_by="learner")
    roadmap.created_at = _at(created)
    return roadmap, lessons


def _mark(lesson: Lesson, viewed: str | None = None, completed: str | None = None):
    progress = LearnerProgress.start(lesson)
    progress.viewed_at = _at(viewed) if viewed else None
    progress.completed_at = _at(completed) if completed else None
    if progress.completed_at and not progress.viewed_at:
        progress.viewed_at = progress.completed_at
    return progress


def _summaries(*lessons: list[Lesson]) -> list[LessonSummary]:
    return [LessonSummary.of(lesson) for group in lessons for lesson in group]


def _days(*texts: str) -> list[date]:
    return [date.fromisoformat(text) for text in texts]


# ---- streaks ---------------------------------------------------------------------------------


def test_no_activity_is_no_streak():
    found = streak([], date(2026, 3, 11))

    assert (found.current, found.longest, found.last_active_on, found.active_today) == (
        0,
        0,
        None,
        False,
    )


def test_a_gap_ends_a_streak_and_the_longest_is_kept():
    found = streak(_days("2026-03-01", "2026-03-02", "2026-03-03", "2026-03-05"), date(2026, 3, 5))

    assert (found.current, found.longest, found.active_today) == (1, 3, True)


def test_a_streak_ending_yesterday_is_still_current():
    found = streak(_days("2026-03-09", "2026-03-10"), date(2026, 3, 11))

    assert (found.current, found.longest, found.active_today) == (2, 2, False)
    assert found.last_active_on == date(2026, 3, 10)


def test_a_streak_ending_two_days_ago_is_broken():
    found = streak(_days("2026-03-08", "2026-03-09"), date(2026, 3, 11))

    assert (found.current, found.longest) == (0, 2)


def test_the_current_streak_may_be_shorter_than_the_longest():
    days = _days("2026-02-01", "2026-02-02", "2026-02-03", "2026-02-04", "2026-03-10", "2026-03-11")

    found = streak(days, date(2026, 3, 11))

    assert (found.current, found.longest) == (2, 4)


def test_several_marks_on_one_day_count_once():
    found = streak(_days("2026-03-11", "2026-03-11", "2026-03-10"), date(2026, 3, 11))

    assert (found.current, found.longest) == (2, 2)


def test_a_view_at_23_30_utc_counts_for_the_next_day_in_berlin():
    roadmap, lessons = _roadmap([30, 30])
    marks = [
        _mark(lessons[0], viewed="2026-03-09T23:30"),  # 00:30 on the 10th in Berlin
        _mark(lessons[1], viewed="2026-03-10T08:00"),
    ]
    summaries = _summaries(lessons)

    berlin = learner_stats(marks, [roadmap], summaries, now=NOW, zone=BERLIN)
    utc = learner_stats(marks, [roadmap], summaries, now=NOW, zone=UTC_ZONE)

    assert (berlin.streak.longest, berlin.streak.last_active_on) == (1, date(2026, 3, 10))
    assert (utc.streak.longest, utc.streak.last_active_on) == (2, date(2026, 3, 10))


def test_days_across_the_spring_dst_change_are_consecutive_days_in_the_zone():
    # Berlin's clocks went forward on Sunday 29 March 2026: that day had 23 hours.
    roadmap, lessons = _roadmap([10, 20, 40])
    marks = [
        _mark(lessons[0], viewed="2026-03-28T22:30"),  # Sat 23:30 CET
        _mark(lessons[1], completed="2026-03-29T21:30"),  # Sun 23:30 CEST
        _mark(lessons[2], completed="2026-03-29T22:30"),  # Mon 00:30 CEST
    ]
    now = _at("2026-03-30T08:00")

    stats = learner_stats(marks, [roadmap], _summaries(lessons), now=now, zone=BERLIN)

    assert (stats.streak.current, stats.streak.longest) == (3, 3)
    assert stats.today == date(2026, 3, 30)
    # Only Monday's completion belongs to the week that began that Monday.
    assert (stats.week.starts_on, stats.week.minutes_completed) == (date(2026, 3, 30), 40)


# ---- the week, completions and per roadmap ------------------------------------------------------


def test_minutes_this_week_count_completions_since_monday_in_the_zone():
    roadmap, lessons = _roadmap([15, 25, 35, 45], weekly_hours=3)
    marks = [
        _mark(lessons[0], completed="2026-03-08T22:30"),  # Sun 23:30 Berlin: last week
        _mark(lessons[1], completed="2026-03-08T23:30"),  # Mon 00:30 Berlin: this week
        _mark(lessons[2], completed="2026-03-11T09:00"),
        _mark(lessons[3], viewed="2026-03-11T10:00"),  # opened, not completed
    ]

    stats = learner_stats(marks, [roadmap], _summaries(lessons), now=NOW, zone=BERLIN)

    assert stats.week.starts_on == date(2026, 3, 9)
    assert (stats.week.minutes_completed, stats.week.target_minutes) == (25 + 35, 180)
    assert stats.lessons_completed == 3
    [one] = stats.roadmaps
    assert (one.lessons, one.completed, one.minutes_this_week, one.weekly_minutes) == (
        4,
        3,
        60,
        180,
    )


def test_the_weekly_target_adds_the_hours_of_roadmaps_with_lessons_left():
    unfinished, lessons_a = _roadmap([30, 30], weekly_hours=2, created="2026-02-01T00:00")
    finished, lessons_b = _roadmap([30], weekly_hours=10, created="2026-02-02T00:00")
    open_ended, lessons_c = _roadmap([30], weekly_hours=None, created="2026-02-03T00:00")
    marks = [_mark(lessons_b[0], completed="2026-03-10T10:00")]

    stats = learner_stats(
        marks,
        [unfinished, finished, open_ended],
        _summaries(lessons_a, lessons_b, lessons_c),
        now=NOW,
        zone=BERLIN,
    )

    assert stats.week.target_minutes == 120
    assert [r.roadmap_id for r in stats.roadmaps] == [open_ended.id, finished.id, unfinished.id]
    assert [(r.completed, r.minutes_this_week) for r in stats.roadmaps] == [(0, 0), (1, 30), (0, 0)]
    assert [r.weekly_minutes for r in stats.roadmaps] == [None, 600, 120]


def test_without_weekly_hours_there_is_no_target():
    roadmap, lessons = _roadmap([30], weekly_hours=None)

    stats = learner_stats([], [roadmap], _summaries(lessons), now=NOW, zone=BERLIN)

    assert (stats.week.minutes_completed, stats.week.target_minutes) == (0, None)


def test_a_learner_with_nothing_has_empty_stats():
    stats = learner_stats([], [], [], now=NOW, zone=BERLIN)

    assert stats.lessons_completed == 0
    assert stats.roadmaps == []
    assert stats.next_lesson is None
    assert (stats.streak.current, stats.streak.longest) == (0, 0)
    assert (stats.time_zone, stats.today) == ("Europe/Berlin", date(2026, 3, 11))


# ---- the lesson to continue with ----------------------------------------------------------------


def test_next_is_the_first_lesson_not_completed_of_the_most_recently_active_roadmap():
    older, older_lessons = _roadmap([30, 30], [30], created="2026-02-01T00:00")
    newer, newer_lessons = _roadmap([30, 30], created="2026-03-01T00:00")
    marks = [
        _mark(newer_lessons[0], viewed="2026-03-09T10:00"),
        _mark(older_lessons[0], completed="2026-03-10T10:00"),  # the latest activity
        _mark(older_lessons[2], completed="2026-03-10T09:00"),  # a later module, out of order
    ]

    stats = learner_stats(
        marks, [newer, older], _summaries(older_lessons, newer_lessons), now=NOW, zone=BERLIN
    )

    assert stats.next_lesson is not None
    assert stats.next_lesson.lesson_id == older_lessons[1].id
    assert (stats.next_lesson.roadmap_id, stats.next_lesson.module_id) == (
        older.id,
        older.modules[0].id,
    )
    assert (stats.next_lesson.title, stats.next_lesson.estimated_minutes) == ("Lesson 1.2", 30)


def test_a_finished_roadmap_hands_over_to_the_next_active_one():
    done, done_lessons = _roadmap([30], created="2026-02-01T00:00")
    other, other_lessons = _roadmap([30, 30], created="2026-01-01T00:00")
    marks = [
        _mark(other_lessons[0], completed="2026-03-01T10:00"),
        _mark(done_lessons[0], completed="2026-03-10T10:00"),
    ]

    stats = learner_stats(
        marks, [done, other], _summaries(done_lessons, other_lessons), now=NOW, zone=BERLIN
    )

    assert stats.next_lesson is not None
    assert stats.next_lesson.lesson_id == other_lessons[1].id


def test_without_activity_the_newest_roadmap_starts_at_its_first_lesson():
    older, older_lessons = _roadmap([30], created="2026-02-01T00:00")
    newer, newer_lessons = _roadmap([30], created="2026-03-01T00:00")

    stats = learner_stats(
        [], [older, newer], _summaries(older_lessons, newer_lessons), now=NOW, zone=BERLIN
    )

    assert stats.next_lesson is not None
    assert stats.next_lesson.lesson_id == newer_lessons[0].id


def test_when_everything_is_completed_there_is_no_next_lesson():
    roadmap, lessons = _roadmap([30, 30])
    marks = [_mark(lesson, completed="2026-03-10T10:00") for lesson in lessons]

    stats = learner_stats(marks, [roadmap], _summaries(lessons), now=NOW, zone=BERLIN)

    assert stats.next_lesson is None
    assert stats.lessons_completed == 2


# ---- GET /api/me/stats on fakes -----------------------------------------------------------------


@pytest.fixture
def stats_served() -> Iterator[tuple[Served, FakeRoadmapRepository]]:
    """The app's functions on fakes, with the stats service wired to them on a fixed clock."""
    roadmaps = FakeRoadmapRepository()
    with Served() as served:
        service = StatsService(roadmaps, served.lessons, served.progress, clock=FakeUtcClock(NOW))
        with serving(dataclasses.replace(served.services, stats=service)):
            yield served, roadmaps


async def _get_stats(served: Served, **params: str) -> func.HttpResponse:
    spec = http_functions()["get_my_stats"]
    request = func.HttpRequest(
        method="GET",
        url="http://localhost:7071/api/me/stats",
        headers={"Authorization": f"Bearer {served.token}"},
        params=params,
        body=b"",
    )
    response: func.HttpResponse = await spec.user_function(request)
    return response


async def test_stats_are_served_in_camel_case_for_the_zone_asked(stats_served):
    served, roadmaps = stats_served
    roadmap, lessons = _roadmap([20, 30], weekly_hours=2)
    await roadmaps.add(roadmap)
    await served.lessons.add_all(lessons)
    await served.progress.put(_mark(lessons[0], completed="2026-03-10T23:30"))
    cleared = _mark(lessons[1], viewed="2026-03-01T10:00")
    cleared.viewed_at = None
    await served.progress.put(cleared)  # both marks cleared: counts for nothing

    response = await _get_stats(served, tz="Europe/Berlin")

    assert response.status_code == 200
    body = json.loads(response.get_body())
    assert body["timeZone"] == "Europe/Berlin"
    assert body["streak"] == {
        "current": 1,
        "longest": 1,
        "lastActiveOn": "2026-03-11",
        "activeToday": True,
    }
    assert body["week"] == {"startsOn": "2026-03-09", "minutesCompleted": 20, "targetMinutes": 120}
    assert body["lessonsCompleted"] == 1
    assert body["nextLesson"]["lessonId"] == lessons[1].id
    assert body["roadmaps"][0]["roadmapId"] == roadmap.id


async def test_days_are_utc_when_no_zone_is_given(stats_served):
    served, _ = stats_served

    response = await _get_stats(served)

    assert response.status_code == 200
    assert json.loads(response.get_body())["timeZone"] == "UTC"


@pytest.mark.parametrize(
    "zone",
    ["Mars/Olympus_Mons", "europe/berlin", "localtime", "../etc/passwd", "Europe", "zone.tab", ""],
)
async def test_an_unknown_time_zone_is_a_422_naming_tz(stats_served, zone: str):
    served, _ = stats_served

    response = await _get_stats(served, tz=zone)

    assert response.status_code == 422
    problem = json.loads(response.get_body())
    assert [error["field"] for error in problem["errors"]] == ["tz"]


async def test_an_unknown_query_parameter_is_a_422(stats_served):
    served, _ = stats_served

    response = await _get_stats(served, timezone="Europe/Berlin")

    assert response.status_code == 422


async def test_another_learners_progress_never_counts(stats_served):
    served, roadmaps = stats_served
    roadmap, lessons = _roadmap([30])
    roadmap.user_id = "someone-else"
    for lesson in lessons:
        lesson.user_id = "someone-else"
    await roadmaps.add(roadmap)
    await served.lessons.add_all(lessons)
    await served.progress.put(_mark(lessons[0], completed="2026-03-11T09:00"))

    body = json.loads((await _get_stats(served)).get_body())

    assert (body["lessonsCompleted"], body["roadmaps"], body["nextLesson"]) == (0, [], None)
    assert body["streak"]["longest"] == 0


def test_week_bounds_are_monday_to_sunday():
    sunday = _at("2026-03-15T21:00")  # 22:00 in Berlin, still Sunday
    stats = learner_stats([], [], [], now=sunday, zone=BERLIN)
    later = learner_stats([], [], [], now=sunday + timedelta(hours=2), zone=BERLIN)

    assert stats.week.starts_on == date(2026, 3, 9)
    assert later.week.starts_on == date(2026, 3, 16)
