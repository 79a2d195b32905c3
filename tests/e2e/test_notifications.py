"""Push notifications end to end: a page negotiates through the running devhost, opens its Web
PubSub WebSocket (the local service of ``tests/support/fake_webpubsub.py``), asks for lessons and
is told when they are written — and is told nothing about another learner writing at the same time.
"""

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from adapters.notifications import pubsub_user
from tests.conftest import Stack, running_stack
from tests.e2e.conftest import Host, start_host
from tests.support.fake_webpubsub import FakeWebPubSub, Subscriber

pytestmark = pytest.mark.timeout(120)

FAST_DELIVERY = {
    "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:01",
    "LLM_PROVIDERS": "offline",
}


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """Emulators of this module's own: no other host may write (and not announce) its lessons."""
    with running_stack() as running:
        yield running


@pytest.fixture(scope="module")
def service() -> Iterator[FakeWebPubSub]:
    with FakeWebPubSub() as running:
        yield running


@pytest.fixture(scope="module")
def host(stack: Stack, service: FakeWebPubSub) -> Iterator[Host]:
    """One devhost serving HTTP and writing lessons, publishing to the local Web PubSub."""
    running = start_host(
        stack, (), WEBPUBSUB_CONNECTION_STRING=service.connection_string, **FAST_DELIVERY
    )
    yield running
    running.stop()


def _headers(stack: Stack, user_id: str) -> dict[str, str]:
    verifier = stack.verifier()
    return {"Authorization": f"Bearer {verifier.issue(user_id)}"}


def _client(stack: Stack, host: Host, user_id: str | None = None) -> httpx.AsyncClient:
    user_id = user_id or f"learner-{uuid.uuid4().hex[:10]}"
    return httpx.AsyncClient(base_url=host.base_url, headers=_headers(stack, user_id), timeout=15)


async def _negotiate(client: httpx.AsyncClient) -> str:
    response = await client.post("/api/notifications/negotiate")
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    url: str = response.json()["url"]
    return url


async def _first_lesson(client: httpx.AsyncClient, goal: str) -> tuple[str, set[str]]:
    """Create a roadmap (its first lesson is queued at once); its first lesson id, all ids."""
    response = await client.post("/api/roadmaps", json={"goal": goal, "skillLevel": "beginner"})
    assert response.status_code == 201, response.text
    lessons = [lesson for module in response.json()["modules"] for lesson in module["lessons"]]
    return lessons[0]["id"], {lesson["id"] for lesson in lessons}


def _completed(lesson_id: str) -> Any:
    return lambda data: data["lessonId"] == lesson_id and data.get("status") == "completed"


async def test_a_subscribed_page_hears_its_own_lesson_complete_and_nothing_of_anothers(
    stack: Stack, host: Host, service: FakeWebPubSub
):
    async with _client(stack, host) as mine, _client(stack, host) as theirs:
        async with (
            Subscriber(await _negotiate(mine)) as my_page,
            Subscriber(await _negotiate(theirs)) as their_page,
        ):
            # Both learners at once: their lessons are written side by side by the same worker.
            (my_lesson, my_ids), (their_lesson, their_ids) = await asyncio.gather(
                _first_lesson(mine, "Learn SQL joins"), _first_lesson(theirs, "Learn Rust traits")
            )
            my_frames, their_frames = await asyncio.gather(
                my_page.until(_completed(my_lesson)), their_page.until(_completed(their_lesson))
            )
            my_frames += await my_page.frames(1.0)  # anything that would arrive late

        my_view = (await mine.get(f"/api/lessons/{my_lesson}")).json()

    mine_heard = [frame["data"] for frame in my_frames]
    assert {data["lessonId"] for data in mine_heard} <= my_ids
    assert not {data["lessonId"] for data in mine_heard} & their_ids
    assert {frame["data"]["lessonId"] for frame in their_frames} <= their_ids
    assert all(frame["type"] == "message" and frame["dataType"] == "json" for frame in my_frames)

    changes = [d for d in mine_heard if d["lessonId"] == my_lesson and d["type"] == "lesson.status"]
    statuses = [data["status"] for data in changes]
    assert "generating" in statuses
    assert "completed" in statuses
    assert my_view["generationStatus"] == "completed"
    last = max(changes, key=lambda data: data["sequence"])
    assert (last["status"], last["stage"], last["percent"]) == ("completed", "done", 100)
    assert my_page.user_id != their_page.user_id
    assert service.refusals() == []


async def test_a_page_listens_as_its_tokens_user_only(stack: Stack, host: Host):
    user_id = f"learner-{uuid.uuid4().hex[:10]}"
    async with _client(stack, host, user_id) as client:
        url = await _negotiate(client)
    async with Subscriber(url) as page:
        pass

    assert page.user_id == pubsub_user(user_id)


async def test_negotiate_needs_a_token(host: Host):
    async with httpx.AsyncClient(base_url=host.base_url) as anonymous:
        response = await anonymous.post("/api/notifications/negotiate")

    assert response.status_code == 401


def test_without_web_pubsub_negotiate_is_not_found_and_lessons_are_still_written():
    """As before the feature: no setting, no channel; the page polls and loses nothing."""
    with running_stack() as plain_stack:  # its own: no publishing host shares its queue
        plain = start_host(plain_stack, (), **FAST_DELIVERY)
        try:
            headers = _headers(plain_stack, f"learner-{uuid.uuid4().hex[:10]}")
            with httpx.Client(base_url=plain.base_url, headers=headers, timeout=15) as client:
                assert client.post("/api/notifications/negotiate").status_code == 404
                created = client.post(
                    "/api/roadmaps",
                    json={"goal": "Learn Go", "skillLevel": "beginner"},
                )
                assert created.status_code == 201, created.text
                first = created.json()["modules"][0]["lessons"][0]["id"]
                deadline = time.monotonic() + 30
                while client.get(f"/api/lessons/{first}").json()["generationStatus"] not in (
                    "completed",
                    "failed",
                ):
                    assert time.monotonic() < deadline, "the lesson was not written"
                    time.sleep(0.1)
                lesson = client.get(f"/api/lessons/{first}").json()
        finally:
            plain.stop()

    assert lesson["generationStatus"] == "completed"
