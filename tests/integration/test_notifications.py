"""The real Web PubSub SDK (``azure-messaging-webpubsubservice``) against the local service in
``tests/support/fake_webpubsub.py``: what the publisher sends reaches its learner's WebSocket, only
theirs, and a service that fails or is gone never fails the work."""

import asyncio
import secrets
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import aiohttp
import jwt
import pytest

from adapters.notifications import (
    CLIENT_TOKEN_MINUTES,
    WebPubSubNotifier,
    create_notifications,
    pubsub_user,
)
from adapters.settings import Settings, settings_from
from domain.lesson import GenerationStatus, Stage
from tests.support.fake_webpubsub import FakeWebPubSub, Subscriber, wait_until
from tests.unit.fakes import make_lesson

BASE = {
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "COSMOS_ENDPOINT": "http://127.0.0.1:9",
    "COSMOS_KEY": "not-a-key",
    "AUTH_JWT_SECRET": "integration-secret-of-at-least-32-characters",
    "SWEEP_SCHEDULE": "0 */1 * * * *",
}


@pytest.fixture(scope="module")
def service() -> Iterator[FakeWebPubSub]:
    with FakeWebPubSub() as running:
        yield running


@pytest.fixture
def fresh(service: FakeWebPubSub) -> FakeWebPubSub:
    service.reset()
    return service


def _settings(**values: str) -> Settings:
    return settings_from({**BASE, **values})


@pytest.fixture
async def notifier(fresh: FakeWebPubSub) -> AsyncIterator[WebPubSubNotifier]:
    built = create_notifications(
        _settings(WEBPUBSUB_CONNECTION_STRING=fresh.connection_string), None
    )
    assert built is not None
    yield built
    await built.close()


def _learner() -> str:
    return f"learner-{uuid.uuid4().hex[:10]}"


async def test_a_status_change_reaches_its_learners_websocket_as_json(
    fresh: FakeWebPubSub, notifier: WebPubSubNotifier
):
    learner = _learner()
    lesson = make_lesson(GenerationStatus.GENERATING, id="lesson-a", user_id=learner)
    lesson.report(Stage.WRITING, 30)

    async with Subscriber(await notifier.client_url(learner)) as page:
        await notifier.lesson_changed(lesson)
        (frame,) = await page.until(lambda data: data is not None, within=5)

    assert page.user_id == pubsub_user(learner)
    assert frame == {
        "type": "message",
        "from": "server",
        "dataType": "json",
        "data": {
            "type": "lesson.status",
            "lessonId": "lesson-a",
            "roadmapId": lesson.roadmap_id,
            "moduleId": lesson.module_id,
            "status": "generating",
            "stage": "writing",
            "percent": 30,
            "sequence": int(lesson.updated_at.timestamp() * 1000),
        },
    }
    (sent,) = fresh.sends()
    assert sent.hub == "lessons"
    assert sent.user_id == pubsub_user(learner)
    assert sent.content_type.startswith("application/json")
    assert fresh.refusals() == []


async def test_another_learners_websocket_receives_nothing(
    fresh: FakeWebPubSub, notifier: WebPubSubNotifier
):
    mine, theirs = _learner(), _learner()

    async with (
        Subscriber(await notifier.client_url(mine)) as my_page,
        Subscriber(await notifier.client_url(theirs)) as their_page,
    ):
        lesson = make_lesson(GenerationStatus.COMPLETED, id="lesson-mine", user_id=mine)
        await notifier.lesson_changed(lesson)
        mine_got = await my_page.until(lambda data: data["lessonId"] == "lesson-mine", within=5)
        theirs_got = await their_page.frames(0.5)

    assert [frame["data"]["status"] for frame in mine_got] == ["completed"]
    assert theirs_got == []


async def test_the_client_url_is_for_the_hub_and_the_hashed_user_only(
    fresh: FakeWebPubSub, notifier: WebPubSubNotifier
):
    learner = _learner()

    url = await notifier.client_url(learner)

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        fresh.endpoint.replace("http://", "ws://") + "/client/hubs/lessons"
    )
    (token,) = parse_qs(parts.query)["access_token"]
    claims = jwt.decode(
        token, fresh.access_key, algorithms=["HS256"], audience=fresh.client_audience("lessons")
    )
    assert claims["sub"] == pubsub_user(learner) != learner
    assert "role" not in claims  # receive only: no publishing, no joining groups
    assert claims["exp"] - time.time() == pytest.approx(CLIENT_TOKEN_MINUTES * 60, abs=30)


async def test_the_service_refuses_tokens_signed_with_another_key(fresh: FakeWebPubSub):
    forged_string = fresh.connection_string.replace(fresh.access_key, secrets.token_urlsafe(32))
    notifier = create_notifications(_settings(WEBPUBSUB_CONNECTION_STRING=forged_string), None)
    assert notifier is not None
    try:
        url = await notifier.client_url(_learner())  # signed locally, with the wrong key
        with pytest.raises(Exception, match="401"):
            async with Subscriber(url):
                pass
        await notifier.lesson_changed(make_lesson(GenerationStatus.QUEUED))
    finally:
        await notifier.close()

    assert fresh.sends() == []
    assert [reason.split(":")[0] for reason in fresh.refusals()] == ["client token", "server token"]


@pytest.mark.parametrize("status", [500, 503, 429, 403])
async def test_a_failing_service_never_fails_the_work(
    fresh: FakeWebPubSub, notifier: WebPubSubNotifier, status: int
):
    fresh.fail_sends(status)
    started = time.monotonic()

    await notifier.lesson_changed(make_lesson(GenerationStatus.COMPLETED))  # does not raise

    assert time.monotonic() - started < 5
    assert fresh.sends() == []


async def test_an_unreachable_service_never_fails_the_work_and_a_key_negotiates_without_it():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gone = f"Endpoint=http://127.0.0.1:{port};AccessKey={secrets.token_urlsafe(32)};Version=1.0;"
    notifier = create_notifications(_settings(WEBPUBSUB_CONNECTION_STRING=gone), None)
    assert notifier is not None
    try:
        started = time.monotonic()
        await notifier.lesson_changed(make_lesson(GenerationStatus.FAILED))
        assert time.monotonic() - started < 5
        # With a key, client tokens are signed locally: negotiating needs no service at all.
        assert (await notifier.client_url("someone")).startswith(f"ws://127.0.0.1:{port}/")
    finally:
        await notifier.close()


async def test_a_simple_websocket_client_gets_the_message_as_sent(
    fresh: FakeWebPubSub, notifier: WebPubSubNotifier
):
    learner = _learner()
    url = await notifier.client_url(learner)
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        assert ws.protocol is None
        await asyncio.to_thread(wait_until, lambda: fresh.connected(pubsub_user(learner)))
        await notifier.lesson_changed(make_lesson(GenerationStatus.QUEUED, user_id=learner))
        data = await ws.receive_json(timeout=5)

    assert (data["type"], data["status"]) == ("lesson.status", "queued")
