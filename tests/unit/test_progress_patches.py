"""Progress is recorded as partial updates: only the claim and the outcome replace the lesson."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.base import utcnow
from domain.errors import ConcurrencyConflict
from domain.lesson import GenerationStatus, Stage
from domain.lesson_writer import LessonWriter
from domain.ports import GenerationMessage
from domain.research import DOCS, Digest
from tests.unit.fakes import (
    USER,
    FakeLessonRepository,
    FakeProvider,
    FakeUtcClock,
    chain_of,
    make_lesson,
)
from tests.unit.research_fakes import FakeResearcher, finding

S = GenerationStatus
T0 = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
MESSAGE = GenerationMessage(lesson_id="lesson-1", user_id=USER, requested_at=utcnow())


def _writer(lessons: FakeLessonRepository, clock: FakeUtcClock) -> LessonWriter:
    researcher = FakeResearcher(Digest([finding(DOCS, 1)], answered=[DOCS]))
    return LessonWriter(
        lessons,
        chain_of(FakeProvider("groq")).chain,
        budget=25.0,
        researcher=researcher,
        owner="worker-a",
        lease_seconds=180.0,
        clock=clock,
    )


async def test_progress_reports_are_patches_and_only_claim_and_outcome_replace():
    lessons, clock = FakeLessonRepository(), FakeUtcClock(T0)
    lessons.put(make_lesson(S.QUEUED))

    await _writer(lessons, clock).handle(MESSAGE)

    assert lessons.patched == [("lesson-1", Stage.RESEARCHING), ("lesson-1", Stage.WRITING)]
    replaced = len(lessons.saved) - len(lessons.patched)
    assert replaced == 2  # the claim (queued → generating) and the outcome (completed)
    assert lessons.stored(USER, "lesson-1").status is S.COMPLETED


async def test_a_progress_report_after_losing_the_claim_is_a_conflict():
    lessons = FakeLessonRepository()
    lessons.put(make_lesson(S.QUEUED))
    mine = await lessons.get(USER, "lesson-1")
    mine.start("worker-a", T0 + timedelta(seconds=180), now=T0)
    await lessons.save(mine)
    theirs = await lessons.get(USER, "lesson-1")
    theirs.start("worker-b", T0 + timedelta(seconds=999), now=T0 + timedelta(seconds=200))
    await lessons.save(theirs)

    mine.report(Stage.WRITING, 30, lease_until=T0 + timedelta(seconds=300))
    with pytest.raises(ConcurrencyConflict):
        await lessons.report_progress(mine)
    stored = lessons.stored(USER, "lesson-1")
    assert stored.lease is not None
    assert stored.lease.owner == "worker-b"
