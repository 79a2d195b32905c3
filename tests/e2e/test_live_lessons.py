"""Live lessons end to end: a page subscribed through the devhost's negotiate endpoint (to the
local Web PubSub service) receives a lesson's sections in order while Groq's fake streams it, then
``lesson.completed``; a streamed answer that fails validation is reset and the fallback's shown;
duplicate deliveries of the message still cause one generation and one stream.
"""

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from adapters.queue import LESSON_GENERATION_QUEUE
from tests.conftest import Stack
from tests.e2e.conftest import Host, start_host
from tests.support.fake_llm import FakeLlmServer, Reply
from tests.support.fake_webpubsub import FakeWebPubSub, Subscriber
from tests.support.samples import lesson_json

pytestmark = pytest.mark.timeout(120)

STREAM_SECONDS = 2.0


@pytest.fixture(scope="module")
def service() -> Iterator[FakeWebPubSub]:
    with FakeWebPubSub() as running:
        yield running


@pytest.fixture(scope="module")
def host(own_stack: Stack, service: FakeWebPubSub, llm: FakeLlmServer) -> Iterator[Host]:
    """A devhost writing with Groq then Gemini (both fakes), publishing to the local Web PubSub."""
    running = start_host(
        own_stack,
        (),
        WEBPUBSUB_CONNECTION_STRING=service.connection_string,
        LLM_PROVIDERS="groq,gemini,offline",
        GROQ_API_KEY="gsk_live_e2e",
        GROQ_BASE_URL=llm.root_url,
        GEMINI_API_KEY="gemini-live-e2e",
        GEMINI_BASE_URL=llm.root_url,
        PREFETCH_ON_VIEW="false",
        AzureFunctionsJobHost__extensions__queues__maxPollingInterval="00:00:01",
    )
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _fresh(llm: FakeLlmServer) -> None:
    llm.reset()


def _client(stack: Stack, host: Host) -> tuple[httpx.AsyncClient, str]:
    user_id = f"live-{uuid.uuid4().hex[:10]}"
    verifier = stack.verifier()
    headers = {"Authorization": f"Bearer {verifier.issue(user_id)}"}
    return httpx.AsyncClient(base_url=host.base_url, headers=headers, timeout=15), user_id


async def _page(client: httpx.AsyncClient) -> Subscriber:
    response = await client.post("/api/notifications/negotiate")
    assert response.status_code == 200, response.text
    return Subscriber(response.json()["url"])


async def _first_lesson(client: httpx.AsyncClient) -> str:
    """A roadmap of one lesson, given (no outline to plan), queued at once."""
    lesson = {"title": "List comprehensions", "objectives": ["Write a list comprehension"]}
    body = {
        "goal": "Learn Python list comprehensions",
        "skillLevel": "beginner",
        "modules": [{"title": "Comprehensions", "lessons": [lesson]}],
        "prefetch": 1,
    }
    response = await client.post("/api/roadmaps", json=body)
    assert response.status_code == 201, response.text
    lesson_id: str = response.json()["modules"][0]["lessons"][0]["id"]
    return lesson_id


def _completed(lesson_id: str) -> Any:
    return lambda data: data["lessonId"] == lesson_id and data["type"] == "lesson.completed"


def _live(frames: list[dict[str, Any]], lesson_id: str) -> list[dict[str, Any]]:
    """The live events of one lesson, in the order received."""
    events = [frame["data"] for frame in frames]
    return [e for e in events if e["lessonId"] == lesson_id and e["type"] != "lesson.status"]


def _shown(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a page following ``events`` shows at the end."""
    shown: list[dict[str, Any]] = []
    for event in events:
        if event["type"] == "lesson.reset":
            shown = []
        elif event["type"] == "lesson.section":
            assert event["index"] == len(shown)
            shown.append(event["section"])
    return shown


async def test_sections_arrive_in_order_while_written_then_completed(
    own_stack: Stack, host: Host, llm: FakeLlmServer
):
    llm.default("groq", Reply.ok(lesson_json(), stream_seconds=STREAM_SECONDS, pieces=40))
    client, _ = _client(own_stack, host)
    async with client, await _page(client) as page:
        lesson_id = await _first_lesson(client)
        frames = await page.until(lambda data: data["type"] == "lesson.section", within=60)
        while_shown = (await client.get(f"/api/lessons/{lesson_id}")).json()
        frames += await page.until(_completed(lesson_id), within=60)
        stored = (await client.get(f"/api/lessons/{lesson_id}")).json()

    assert while_shown["generationStatus"] == "generating"  # shown before the lesson was done
    events = _live(frames, lesson_id)
    kinds = [event["type"] for event in events]
    assert kinds == ["lesson.section"] * (len(kinds) - 1) + ["lesson.completed"]
    assert [event["sequence"] for event in events] == list(range(1, len(events) + 1))
    assert len({event["delivery"] for event in events}) == 1
    assert stored["generationStatus"] == "completed"
    assert _shown(events) == stored["content"]["sections"]
    [request] = llm.successes("groq")
    assert request.streamed


async def test_an_answer_that_fails_validation_is_reset_and_the_fallback_shown(
    own_stack: Stack, host: Host, llm: FakeLlmServer
):
    refused = lesson_json() | {"quiz": []}  # whole sections, but the lesson is refused
    llm.script(
        "groq",
        Reply.ok(refused, stream_seconds=0.5, pieces=20),
        Reply.ok(refused, stream_seconds=0.5, pieces=20),  # the repair, refused again
    )
    llm.default("gemini", Reply.ok(lesson_json(), stream_seconds=0.5, pieces=20))
    client, _ = _client(own_stack, host)
    async with client, await _page(client) as page:
        lesson_id = await _first_lesson(client)
        frames = await page.until(_completed(lesson_id), within=60)
        stored = (await client.get(f"/api/lessons/{lesson_id}")).json()

    events = _live(frames, lesson_id)
    kinds = [event["type"] for event in events]
    assert kinds.count("lesson.reset") == 2
    assert kinds.index("lesson.reset") > kinds.index("lesson.section")
    assert kinds[-1] == "lesson.completed"
    assert [event["sequence"] for event in events] == list(range(1, len(events) + 1))
    assert stored["provider"] == "gemini"
    assert _shown(events) == stored["content"]["sections"]


async def test_duplicate_deliveries_write_once_and_stream_once(
    own_stack: Stack, host: Host, llm: FakeLlmServer
):
    llm.default("groq", Reply.ok(lesson_json(), stream_seconds=STREAM_SECONDS, pieces=40))
    client, user_id = _client(own_stack, host)
    async with client, await _page(client) as page:
        lesson_id = await _first_lesson(client)
        message = json.dumps(
            {"lessonId": lesson_id, "userId": user_id, "requestedAt": "2026-12-01T00:00:00Z"}
        )
        with QueueClient.from_connection_string(
            own_stack.ports.storage_connection,
            LESSON_GENERATION_QUEUE,
            message_encode_policy=TextBase64EncodePolicy(),
        ) as queue:
            for _ in range(5):
                queue.send_message(message)
        frames = await page.until(_completed(lesson_id), within=60)
        frames += await page.frames(2.0)  # the duplicates have come and gone by now
        await asyncio.sleep(0)

    events = _live(frames, lesson_id)
    assert [e["type"] for e in events].count("lesson.completed") == 1
    assert len({event["delivery"] for event in events}) == 1
    assert len(llm.successes("groq")) == 1
