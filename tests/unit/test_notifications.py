"""Lesson status notifications: the message shape, who publishes each change, and an app without
Web PubSub (no publisher, ``POST /api/notifications/negotiate`` is ``404``)."""

from datetime import UTC, datetime

import pytest

from adapters.notifications import (
    NoNotifier,
    create_notifications,
    keyless,
    lesson_message,
    pubsub_user,
)
from adapters.settings import SettingsError, load_settings, settings_from
from domain.errors import NoProviderSucceeded, ProviderUnavailable
from domain.lesson import GenerationStatus, Lesson, Stage
from domain.lesson_requests import LessonRequests
from domain.lesson_writer import COULD_NOT_WRITE, LessonWriter
from domain.ports import GenerationMessage, LessonNotifier
from domain.sweeper import Sweeper
from functions.bootstrap import Shared, build_services
from tests.unit.fakes import (
    USER,
    FakeLessonRepository,
    FakeProvider,
    FakeQueue,
    RecordingNotifier,
    chain_of,
    make_lesson,
)
from tests.unit.http_fakes import SETTINGS, Served

CONNECTION = "Endpoint=http://127.0.0.1:9;AccessKey=" + "k" * 44 + ";Version=1.0;"


# --- the message --------------------------------------------------------------------------


def test_a_message_names_the_lesson_its_status_stage_percent_and_sequence():
    lesson = make_lesson(GenerationStatus.GENERATING, updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    lesson.progress.stage, lesson.progress.percent = Stage.RESEARCHING, 10

    assert lesson_message(lesson) == {
        "type": "lesson.status",
        "lessonId": "lesson-1",
        "roadmapId": "roadmap-1",
        "moduleId": "module-1",
        "status": "generating",
        "stage": "researching",
        "percent": 10,
        "sequence": 1_767_225_600_000,
    }


def test_a_failed_lesson_says_why_in_the_learners_words_never_the_diagnosis():
    lesson = make_lesson(GenerationStatus.QUEUED)
    lesson.fail(COULD_NOT_WRITE, diagnosis="groq: 500 from upstream host 10.0.0.7")

    message = lesson_message(lesson)

    assert (message["status"], message["stage"], message["error"]) == (
        "failed",
        "failed",
        COULD_NOT_WRITE,
    )
    assert "10.0.0.7" not in str(message)
    assert USER not in str(message)


def test_later_changes_of_a_lesson_have_larger_sequences():
    lesson = make_lesson(GenerationStatus.PENDING)
    lesson.queue()
    queued = lesson_message(lesson)["sequence"]
    lesson.start("worker", datetime(2100, 1, 1, tzinfo=UTC))

    assert lesson_message(lesson)["sequence"] >= queued


def test_web_pubsub_knows_a_learner_by_a_stable_hash_not_their_id():
    assert pubsub_user("alice") == pubsub_user("alice") != pubsub_user("bob")
    assert "alice" not in pubsub_user("alice")
    assert len(pubsub_user("alice")) == 32


async def test_with_no_notifier_the_work_goes_on_as_before():
    notifier: LessonNotifier = NoNotifier()  # mypy checks that it meets the port
    lessons = FakeLessonRepository()
    lesson = make_lesson()
    lesson.queue()
    await lessons.add_all([lesson])
    writer = LessonWriter(lessons, chain_of(FakeProvider()).chain, budget=5, notifier=notifier)

    written = await writer.handle(_message(lesson))

    assert written is not None
    assert written.status is GenerationStatus.COMPLETED


# --- settings -----------------------------------------------------------------------------


def test_without_web_pubsub_settings_there_is_no_publisher():
    settings = settings_from(SETTINGS)

    assert not settings.notifications
    assert settings.webpubsub_hub == "lessons"
    assert create_notifications(settings, None) is None


def test_an_endpoint_alone_means_keyless_and_a_connection_string_wins():
    endpoint = {**SETTINGS, "WEBPUBSUB_ENDPOINT": "https://skillsync.webpubsub.azure.com"}

    assert keyless(settings_from(endpoint))
    assert not keyless(settings_from({**endpoint, "WEBPUBSUB_CONNECTION_STRING": CONNECTION}))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEBPUBSUB_ENDPOINT", "http://skillsync.webpubsub.azure.com"),  # no token over HTTP
        ("WEBPUBSUB_HUB", "1-lessons"),
        ("WEBPUBSUB_CONNECTION_STRING", "Endpoint=http://127.0.0.1:9;Version=1.0;"),
    ],
)
def test_bad_web_pubsub_settings_are_named_without_their_value(name: str, value: str):
    with pytest.raises(SettingsError) as raised:
        load_settings({**SETTINGS, name: value})

    assert name in str(raised.value)
    assert value not in str(raised.value)


async def test_services_without_web_pubsub_publish_nothing_and_need_no_identity():
    services = build_services(settings_from(SETTINGS), Shared())
    try:
        assert services.notifications is None
        assert isinstance(services.writer._notifier, NoNotifier)
    finally:
        await services.aclose()


async def test_services_with_a_connection_string_publish_and_close_the_client():
    services = build_services(
        settings_from({**SETTINGS, "WEBPUBSUB_CONNECTION_STRING": CONNECTION}), Shared()
    )
    try:
        assert services.notifications is not None
        assert services.writer._notifier is services.notifications
        assert services.generation._notifier is services.notifications
        assert services.sweeper._notifier is services.notifications
        assert services.notifications.close in services.closers
    finally:
        await services.aclose()


# --- negotiate ----------------------------------------------------------------------------


async def test_negotiate_is_not_found_when_web_pubsub_is_off():
    with Served() as served:
        response = await served.call("negotiate_notifications")

    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


# --- who publishes each change --------------------------------------------------------------


def _message(lesson: Lesson) -> GenerationMessage:
    return GenerationMessage(
        lesson_id=lesson.id, user_id=lesson.user_id, requested_at=datetime.now(UTC)
    )


async def test_a_request_publishes_queued_once_its_message_is_out():
    lessons, notifier = FakeLessonRepository(), RecordingNotifier()
    await lessons.add_all([make_lesson()])
    queue = FakeQueue()
    requests = LessonRequests(lessons, queue, notifier=notifier)

    queue.refuse()
    with pytest.raises(Exception, match="queue"):
        await requests.request(USER, "lesson-1")
    assert notifier.changes == []  # put back to pending: nothing happened for the learner

    queue.accept()
    await requests.request(USER, "lesson-1")
    await requests.cancel(USER, "lesson-1")

    assert notifier.changes == [
        ("lesson-1", "queued", "queued"),
        ("lesson-1", "pending", "waiting"),
    ]


async def test_the_writer_publishes_every_stage_then_completed():
    lessons, notifier = FakeLessonRepository(), RecordingNotifier()
    lesson = make_lesson()
    lesson.queue()
    await lessons.add_all([lesson])
    writer = LessonWriter(lessons, chain_of(FakeProvider()).chain, budget=5, notifier=notifier)

    await writer.handle(_message(lesson))

    assert notifier.changes == [
        ("lesson-1", "generating", "starting"),
        ("lesson-1", "generating", "writing"),
        ("lesson-1", "completed", "done"),
    ]


async def test_the_writer_publishes_a_retry_as_queued_and_a_final_failure_as_failed():
    lessons, notifier = FakeLessonRepository(), RecordingNotifier()
    lesson = make_lesson()
    lesson.queue()
    await lessons.add_all([lesson])
    busy = FakeProvider(lesson=[ProviderUnavailable("down")] * 2)  # the chain retries once
    writer = LessonWriter(lessons, chain_of(busy).chain, budget=5, notifier=notifier)

    with pytest.raises(NoProviderSucceeded):
        await writer.handle(_message(lesson))
    assert notifier.changes[-1] == ("lesson-1", "queued", "queued")

    await writer.give_up(_message(lesson))  # the message was poisoned
    assert notifier.changes[-1] == ("lesson-1", "failed", "failed")


async def test_the_sweeper_publishes_its_repairs():
    lessons, notifier = FakeLessonRepository(), RecordingNotifier()
    stuck = make_lesson(id="lesson-stuck")
    stuck.queue()
    stuck.queued_at = datetime(2000, 1, 1, tzinfo=UTC)
    await lessons.add_all([stuck])
    sweeper = Sweeper(lessons, FakeQueue(), queued_for=60, max_requeues=0, notifier=notifier)

    await sweeper.sweep(datetime.now(UTC))

    assert notifier.changes == [("lesson-stuck", "failed", "failed")]
