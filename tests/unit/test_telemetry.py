"""Telemetry on an in-memory exporter: one trace from the learner's request to the provider call,
the metrics operators alert on, and nothing secret or personal in anything exported."""

from datetime import timedelta

from opentelemetry.sdk.trace import ReadableSpan

from domain.base import utcnow
from domain.errors import ProviderUnavailable
from domain.lesson import GenerationStatus, TokenUsage
from domain.lesson_requests import message_for
from domain.lesson_writer import LessonWriter
from domain.sweeper import Sweeper
from domain.telemetry import (
    LESSONS_COMPLETED,
    LESSONS_FAILED,
    LESSONS_POISONED,
    PROVIDER_ATTEMPTS,
    PROVIDER_TOKENS,
    QUEUE_DEPTH,
    QUEUE_WAIT,
    SWEEPER_REPAIRS,
    TIME_TO_LESSON,
)
from tests.unit.fakes import USER, FakeProvider, FakeQueue, chain_of, make_lesson
from tests.unit.http_fakes import SETTINGS, Served
from tests.unit.telemetry_fakes import Exported

GOAL = "Learn the private-goal-text of this learner"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def _request_and_write(exported: Exported, served: Served) -> None:
    await served.lessons.add_all([make_lesson(goal=GOAL)])
    response = await served.call(
        "generate_lesson", headers={"traceparent": TRACEPARENT}, lessonId="lesson-1"
    )
    assert response.status_code == 202
    (message,) = served.queue.messages
    await served.services.writer.handle(message)


async def test_one_trace_spans_the_request_the_queue_the_writer_and_the_provider_call(
    exported: Exported,
):
    provider = FakeProvider("groq", usage=TokenUsage(prompt_tokens=120, completion_tokens=800))
    with Served(telemetry=exported.reporter, providers=[provider]) as served:
        await _request_and_write(exported, served)

    spans = {span.name: span for span in exported.finished()}
    assert {"POST generate_lesson", "lesson.request", "lesson.write", "llm.attempt"} <= set(spans)
    assert {span.context.trace_id for span in spans.values()} == {
        int(TRACEPARENT.split("-")[1], 16)
    }
    by_id = {span.context.span_id: span for span in spans.values()}

    def ancestors(span: ReadableSpan) -> list[str]:
        names = []
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            names.append(span.name)
        return names

    assert ancestors(spans["llm.attempt"])[:4] == [
        "lesson.generate",
        "lesson.write",
        "lesson.request",
        "POST generate_lesson",
    ]
    attempt = dict(spans["llm.attempt"].attributes or {})
    assert attempt["skillsync.provider"] == "groq"
    assert attempt["skillsync.model"] == "groq-model"
    assert (attempt["skillsync.tokens.input"], attempt["skillsync.tokens.output"]) == (120, 800)
    assert dict(spans["POST generate_lesson"].attributes or {})["http.response.status_code"] == 202


async def test_a_written_lesson_is_counted_timed_and_costed_by_provider(exported: Exported):
    provider = FakeProvider("groq", usage=TokenUsage(prompt_tokens=120, completion_tokens=800))
    with Served(telemetry=exported.reporter, providers=[provider]) as served:
        await _request_and_write(exported, served)

    (completed,) = exported.points(LESSONS_COMPLETED)
    assert (completed.value, dict(completed.attributes)) == (1, {"skillsync.provider": "groq"})
    (attempt,) = exported.points(PROVIDER_ATTEMPTS)
    assert dict(attempt.attributes) == {"skillsync.provider": "groq", "skillsync.outcome": "ok"}
    tokens = {
        p.attributes["skillsync.direction"]: p.value for p in exported.points(PROVIDER_TOKENS)
    }
    assert tokens == {"input": 120, "output": 800}
    assert [p.count for p in exported.points(QUEUE_WAIT)] == [1]
    assert [p.count for p in exported.points(TIME_TO_LESSON)] == [1]


async def test_nothing_exported_holds_a_token_a_secret_a_user_id_or_learner_text(
    exported: Exported,
):
    with Served(telemetry=exported.reporter) as served:
        await _request_and_write(exported, served)
        lesson = await served.lessons.get(USER, "lesson-1")

    assert lesson.status is GenerationStatus.COMPLETED
    assert lesson.content is not None
    text = exported.everything()
    assert exported.finished()  # something was exported, so the search below means something
    assert exported.logs.get_finished_logs()
    for forbidden in (
        served.token,
        served.token.split(".")[2],
        SETTINGS["AUTH_JWT_SECRET"],
        USER,
        GOAL,
        lesson.title,
        lesson.content.summary,
        lesson.content.sections[0].body[:40],
    ):
        assert forbidden not in text
    assert exported.reporter.user(USER) in text  # the user is there, hashed


async def test_a_poisoned_lesson_and_a_stuck_one_are_counted(exported: Exported):
    with Served(telemetry=exported.reporter) as served:
        await served.lessons.add_all([make_lesson(GenerationStatus.QUEUED)])
        await served.call("get_lesson", lessonId="lesson-1")
        failing = LessonWriter(
            served.lessons,
            chain_of(FakeProvider()).chain,
            budget=5.0,
            telemetry=exported.reporter,
        )
        await failing.give_up(message_for(await served.lessons.get(USER, "lesson-1")))

    assert [p.value for p in exported.points(LESSONS_POISONED)] == [1]
    (failed,) = exported.points(LESSONS_FAILED)
    assert dict(failed.attributes) == {"skillsync.reason": "poisoned"}


async def test_a_provider_failure_is_an_attempt_with_its_outcome(exported: Exported):
    provider = FakeProvider("groq", lesson=[ProviderUnavailable("500"), ProviderUnavailable("500")])
    offline = FakeProvider("offline", needs_network=False)
    with Served(telemetry=exported.reporter, providers=[provider, offline]) as served:
        await _request_and_write(exported, served)

    outcomes = sorted(
        (p.attributes["skillsync.provider"], p.attributes["skillsync.outcome"], p.value)
        for p in exported.points(PROVIDER_ATTEMPTS)
    )
    assert outcomes == [("groq", "unavailable", 2), ("offline", "ok", 1)]


async def test_the_sweeper_links_its_resend_to_the_original_request_and_reports_depths(
    exported: Exported,
):
    class Depths:
        async def depths(self) -> dict[str, int]:
            return {"lesson-generation": 7, "lesson-generation-poison": 1}

    with Served(telemetry=exported.reporter) as served:
        await served.lessons.add_all([make_lesson(goal=GOAL)])
        await served.call(
            "generate_lesson", headers={"traceparent": TRACEPARENT}, lessonId="lesson-1"
        )
        queue = FakeQueue()
        sweeper = Sweeper(
            served.lessons,
            queue,
            queued_for=0.001,
            max_requeues=3,
            depths=Depths(),
            telemetry=exported.reporter,
        )
        await sweeper.sweep(utcnow() + timedelta(minutes=5))

    resend = next(span for span in exported.finished() if span.name == "lesson.resend")
    assert [link.context.trace_id for link in resend.links] == [int(TRACEPARENT.split("-")[1], 16)]
    (message,) = queue.messages
    assert message.trace["traceparent"].split("-")[1] == format(resend.context.trace_id, "032x")
    depths = {p.attributes["skillsync.queue"]: p.value for p in exported.points(QUEUE_DEPTH)}
    assert depths == {"lesson-generation": 7, "lesson-generation-poison": 1}
    (repair,) = exported.points(SWEEPER_REPAIRS)
    assert dict(repair.attributes) == {"skillsync.action": "requeued"}
