"""Live lessons: sections shown as they are written, only whole and cleaned, reset when the answer
in progress is dropped, completed once stored — and no extra write per section."""

import asyncio
import json
from datetime import timedelta

from adapters.markdown import clean_markdown
from domain.base import utcnow
from domain.content import Section
from domain.errors import ProviderUnavailable
from domain.lesson import GenerationStatus, Lesson
from domain.lesson_writer import LessonWriter
from domain.live import LiveEvent, LiveKind, LiveLesson
from domain.ports import GenerationMessage
from tests.unit.fakes import (
    USER,
    Cut,
    FakeLessonRepository,
    FakeProvider,
    RecordingNotifier,
    chain_of,
    make_lesson,
    offline_lesson_data,
)

S = GenerationStatus
MESSAGE = GenerationMessage(lesson_id="lesson-1", user_id=USER, requested_at=utcnow())


def _kinds(notifier: RecordingNotifier) -> list[str]:
    return [event.kind.value for _, event in notifier.events]


def _shown(events: list[LiveEvent]) -> list[Section]:
    """What a page following ``events`` shows at the end (a reset drops everything shown)."""
    shown: list[Section] = []
    for event in events:
        if event.kind is LiveKind.RESET:
            shown = []
        elif event.section is not None:
            assert event.index == len(shown)
            shown.append(event.section)
    return shown


class Collected:
    """A ``publish`` that keeps the events."""

    def __init__(self) -> None:
        self.events: list[LiveEvent] = []

    async def __call__(self, event: LiveEvent) -> None:
        self.events.append(event)


async def _lesson_json(**changes: object) -> dict[str, object]:
    data = await offline_lesson_data()
    return data | changes


async def test_sections_are_shown_one_by_one_each_as_soon_as_it_closes():
    data = await _lesson_json()
    text = json.dumps(data)
    published = Collected()
    live = LiveLesson(published, delivery=1)
    first_end = text.index("}", text.index('"sections"')) + 1

    await live.text(text[: first_end - 1])  # the first section's object is still open
    await live.close()
    assert published.events == []
    await live.text(text[first_end - 1 : first_end])  # it closes
    await live.close()
    assert [e.index for e in published.events] == [0]
    for start in range(first_end, len(text), 7):
        await live.text(text[start : start + 7])
    await live.close()

    sections = [Section.model_validate(s) for s in data["sections"]]  # type: ignore[attr-defined]
    assert [e.kind for e in published.events] == [LiveKind.SECTION] * len(sections)
    assert [e.sequence for e in published.events] == list(range(1, len(sections) + 1))
    assert [e.section for e in published.events] == sections
    assert {e.delivery for e in published.events} == {1}


async def test_only_the_sections_list_counts_whatever_the_strings_say():
    tricky = {
        "summary": 'Mentions "sections": [{"heading": "x"}] } ] \\ in text',
        "sectionsLike": [{"heading": "not a section", "body": "no"}],
        "sections": [
            {"heading": "A } brace", "body": 'Quotes \\" and ] brackets {"a": 1}'},
            {"heading": "Second", "body": "Two."},
        ],
        "quiz": [{"question": "sections?", "options": ["a", "b"]}],
    }
    text = json.dumps(tricky)
    published = Collected()
    live = LiveLesson(published, delivery=1)

    for char in text:  # the worst case: a character at a time
        await live.text(char)
    await live.close()

    assert [e.section.heading for e in published.events if e.section] == ["A } brace", "Second"]


async def test_a_streamed_section_is_cleaned_as_the_stored_lesson_is():
    data = await _lesson_json(
        sections=[
            {"heading": "Scripts", "body": "Safe <script>alert(1)</script> **text**"},
            {"heading": "Next", "body": "More."},
        ]
    )
    published = Collected()
    live = LiveLesson(published, delivery=1, cleaners=[clean_markdown])

    await live.text(json.dumps(data))
    await live.close()

    shown = [e.section for e in published.events if e.section is not None]
    assert len(shown) == 2
    raw = "Safe <script>alert(1)</script> **text**"
    assert shown[0].body == clean_markdown(raw).strip()
    assert shown[0].body != raw  # the tag is inert text now, as in the stored lesson


async def test_a_section_that_would_not_validate_stops_the_showing():
    data = await _lesson_json(
        sections=[
            {"heading": "Fine", "body": "Text."},
            {"heading": "", "body": "An empty heading is refused."},
            {"heading": "After", "body": "Never shown."},
        ]
    )
    published = Collected()
    live = LiveLesson(published, delivery=1)

    await live.text(json.dumps(data))
    await live.close()

    assert [e.section.heading for e in published.events if e.section] == ["Fine"]


async def test_a_discarded_answer_is_reset_only_if_something_was_shown():
    published = Collected()
    live = LiveLesson(published, delivery=2)

    await live.text('{"summary": "s", "sec')
    await live.discard()  # nothing shown yet: nothing to say
    await live.text(json.dumps(await _lesson_json()))
    await live.discard()
    await live.close()

    kinds = [e.kind for e in published.events]
    assert kinds[-1] is LiveKind.RESET
    assert LiveKind.RESET not in kinds[:-1]
    assert [e.sequence for e in published.events] == list(range(1, len(kinds) + 1))


def _writer(
    lessons: FakeLessonRepository,
    notifier: RecordingNotifier | None,
    *providers: FakeProvider,
    lease: float = 180.0,
) -> LessonWriter:
    return LessonWriter(
        lessons,
        chain_of(*providers).chain,
        budget=30,
        lease_seconds=lease,
        notifier=notifier,
        clean=clean_markdown,
    )


def _queued(lessons: FakeLessonRepository) -> None:
    lesson = make_lesson()
    lesson.queue()
    lessons.put(lesson)


async def test_the_writer_shows_each_section_then_completes_with_the_stored_lesson():
    lessons, notifier, groq = FakeLessonRepository(), RecordingNotifier(), FakeProvider("groq")
    _queued(lessons)

    result = await _writer(lessons, notifier, groq).handle(MESSAGE)

    assert result is not None
    assert result.content is not None
    events = [event for _, event in notifier.events]
    assert _kinds(notifier) == ["section"] * len(result.content.sections) + ["completed"]
    assert _shown(events) == result.content.sections
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    completed_at = notifier.changes.index(("lesson-1", "completed", "done"))
    assert completed_at == len(notifier.changes) - 1  # stored before the page hears of it


async def test_showing_sections_costs_no_extra_write():
    quiet_lessons, live_lessons = FakeLessonRepository(), FakeLessonRepository()
    _queued(quiet_lessons)
    _queued(live_lessons)

    await _writer(quiet_lessons, None, FakeProvider("groq")).handle(MESSAGE)
    await _writer(live_lessons, RecordingNotifier(), FakeProvider("groq")).handle(MESSAGE)

    assert len(live_lessons.saved) == len(quiet_lessons.saved)
    assert live_lessons.patched == quiet_lessons.patched


async def test_an_answer_that_fails_validation_is_reset_and_the_fallback_shown():
    lessons, notifier = FakeLessonRepository(), RecordingNotifier()
    _queued(lessons)
    data = await _lesson_json()
    invalid = json.dumps(data | {"quiz": []})  # whole sections, but the lesson is refused
    groq = FakeProvider("groq", lesson=[invalid, invalid])
    gemini = FakeProvider("gemini")

    result = await _writer(lessons, notifier, groq, gemini).handle(MESSAGE)

    assert result is not None
    assert result.provider == "gemini"
    assert result.content is not None
    kinds = _kinds(notifier)
    assert kinds.count("reset") == 2  # the first answer, then its repair
    assert kinds[-1] == "completed"
    assert _shown([e for _, e in notifier.events]) == result.content.sections


async def test_an_answer_cut_off_midway_is_reset_before_the_retry_is_shown():
    lessons, notifier = FakeLessonRepository(), RecordingNotifier()
    _queued(lessons)
    text = json.dumps(await _lesson_json())
    groq = FakeProvider("groq", lesson=[Cut(text, len(text) // 2, ProviderUnavailable("reset"))])

    result = await _writer(lessons, notifier, groq).handle(MESSAGE)

    assert result is not None
    assert result.status is S.COMPLETED
    assert result.content is not None
    kinds = _kinds(notifier)
    assert kinds.index("reset") > kinds.index("section")
    assert _shown([e for _, e in notifier.events]) == result.content.sections
    assert groq.calls == 2


async def test_heartbeats_store_the_sections_shown_so_far_for_late_pages():
    lessons, notifier = FakeLessonRepository(), RecordingNotifier()
    _queued(lessons)
    slow = FakeProvider("groq", pieces=40, pause=0.02)  # about 0.8 s in all
    seen: list[Lesson] = []

    async def look() -> None:
        while True:
            seen.append(lessons.stored(USER, "lesson-1"))
            await asyncio.sleep(0.02)

    looking = asyncio.create_task(look())
    result = await _writer(lessons, notifier, slow, lease=0.3).handle(MESSAGE)
    looking.cancel()

    assert result is not None
    assert result.content is not None
    partial = [s.progress for s in seen if s.status is S.GENERATING and s.progress.sections]
    assert partial, "no progress write carried the sections shown"
    events = [e for _, e in notifier.events]
    for progress in partial:  # each stored draft is exactly what the events had shown by then
        assert progress.sections == _shown(events[: progress.sequence])
        assert 30 < progress.percent <= 90
    assert lessons.stored(USER, "lesson-1").progress.sections == []


async def test_duplicate_deliveries_write_once_and_show_one_stream():
    lessons, notifier = FakeLessonRepository(), RecordingNotifier()
    _queued(lessons)
    groq = FakeProvider("groq", pieces=10, pause=0.01)
    writer = _writer(lessons, notifier, groq)

    first, second = await asyncio.gather(writer.handle(MESSAGE), writer.handle(MESSAGE))

    assert groq.calls == 1
    assert [r is None for r in (first, second)].count(True) == 1
    assert {e.delivery for _, e in notifier.events} == {1}
    assert _kinds(notifier).count("completed") == 1


def test_the_lease_keeps_the_sections_out_of_the_stored_lesson_once_done():
    lesson = make_lesson()
    lesson.queue()
    lesson.start("w", utcnow() + timedelta(seconds=5))
    section = Section(heading="h", body="b")
    lesson.report(lesson.progress.stage, 40, sections=[section], sequence=1)
    assert lesson.progress.sections == [section]

    lesson.release()

    assert lesson.progress.sections == []
    assert lesson.progress.sequence == 0
