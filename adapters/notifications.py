"""Push notifications through Azure Web PubSub: each status change of a lesson, to its learner.

    worker / HTTP function ──send_to_user(hash(sub), message)──▶ Web PubSub ──WebSocket──▶ page
    page ──POST /api/notifications/negotiate──▶ get_client_access_token(user_id=hash(sub)) → url

Web PubSub knows a learner only by ``pubsub_user(sub)``, a hash of the token's ``sub``: the
negotiate endpoint puts it in the client token and the publisher sends to it, so raw user ids
never reach the service. A client token carries no roles: a page receives, it cannot publish.

In Azure the client signs in with the app's identity (``WEBPUBSUB_ENDPOINT``; the identity holds
Web PubSub Service Owner, and local auth is off), and the service itself issues client tokens
(``:generateToken``). Locally, ``WEBPUBSUB_CONNECTION_STRING`` gives an access key: the SDK then
signs its requests and client tokens itself (HS256). Neither set: ``NoNotifier``, pages poll.
The SDK is imported only when one is set.
"""

import asyncio
import hashlib
import io
import json
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from azure.core.exceptions import AzureError

from adapters.settings import Settings
from domain.errors import RetryableError
from domain.lesson import GenerationStatus, Lesson
from domain.live import LiveEvent

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.messaging.webpubsubservice.aio import WebPubSubServiceClient

log = logging.getLogger(__name__)

MESSAGE_TYPE = "lesson.status"
# A status change waits at most this long for the service: the lesson's work matters more.
SEND_TIMEOUT_SECONDS = 3.0
NEGOTIATE_TIMEOUT_SECONDS = 5.0
CLIENT_TOKEN_MINUTES = 60
# One retry for a dropped connection; the SDK's default (3, with back-off) outlasts the timeout.
RETRIES = 1


def pubsub_user(user_id: str) -> str:
    """The id Web PubSub knows a learner by: stable, not reversible, not the telemetry hash."""
    return hashlib.sha256(f"skillsync.webpubsub:{user_id}".encode()).hexdigest()[:32]


def lesson_message(lesson: Lesson) -> dict[str, Any]:
    """What a learner's pages are told about one status change (JSON).

    ``sequence`` (milliseconds of the change) orders the messages of one lesson: the HTTP
    function that queued it and the worker that claimed it publish independently, so a page
    keeps, per lesson, only messages newer than the last it applied.
    """
    message: dict[str, Any] = {
        "type": MESSAGE_TYPE,
        "lessonId": lesson.id,
        "roadmapId": lesson.roadmap_id,
        "moduleId": lesson.module_id,
        "status": lesson.status.value,
        "stage": lesson.progress.stage.value,
        "percent": lesson.progress.percent,
        "sequence": int(lesson.updated_at.timestamp() * 1000),
    }
    if lesson.status is GenerationStatus.FAILED and lesson.generation_error:
        message["error"] = lesson.generation_error  # the learner's wording, never the diagnosis
    return message


def live_message(lesson: Lesson, event: LiveEvent) -> dict[str, Any]:
    """What a learner's pages are told of a lesson being written (JSON): ``lesson.section``
    (``index`` and ``section``), ``lesson.reset`` or ``lesson.completed``.

    ``sequence`` counts the events of one ``delivery`` (1, 2, 3, …) so a page sees a gap; a new
    ``delivery`` starts the lesson over.
    """
    message: dict[str, Any] = {
        "type": f"lesson.{event.kind.value}",
        "lessonId": lesson.id,
        "roadmapId": lesson.roadmap_id,
        "moduleId": lesson.module_id,
        "delivery": event.delivery,
        "sequence": event.sequence,
    }
    if event.section is not None:
        message["index"] = event.index
        message["section"] = event.section.model_dump(mode="json", by_alias=True)
    return message


class NoNotifier:
    """Web PubSub is not configured: nothing is published, and pages poll as before."""

    async def lesson_changed(self, lesson: Lesson) -> None:
        """Nothing."""

    async def live(self, lesson: Lesson, event: LiveEvent) -> None:
        """Nothing."""


class WebPubSubNotifier:
    """A ``LessonNotifier`` over the Web PubSub SDK's async client, and client access URLs."""

    def __init__(self, client: "WebPubSubServiceClient", *, timeout: float = SEND_TIMEOUT_SECONDS):
        """``client`` is bound to the hub; ``timeout`` bounds one publication, retries included."""
        self._client = client
        self._timeout = timeout

    async def lesson_changed(self, lesson: Lesson) -> None:
        """Send the lesson's status to its learner's connections; log any failure, never raise."""
        await self._send(lesson, lesson_message(lesson))

    async def live(self, lesson: Lesson, event: LiveEvent) -> None:
        """Send one event of the lesson being written; log any failure, never raise."""
        await self._send(lesson, live_message(lesson, event))

    async def _send(self, lesson: Lesson, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        try:
            async with asyncio.timeout(self._timeout):
                await self._client.send_to_user(
                    pubsub_user(lesson.user_id), io.BytesIO(body), content_type="application/json"
                )
        except Exception as error:  # a hint lost: the page still finds the change by reading
            log.warning(
                "lesson %s: %s not published: %s",
                lesson.id,
                message["type"],
                type(error).__name__,
            )

    async def client_url(self, user_id: str) -> str:
        """A WebSocket URL (with its access token) that receives ``user_id``'s messages only.

        ``RetryableError`` when the service cannot issue one now (keyless mode asks it).
        """
        try:
            async with asyncio.timeout(NEGOTIATE_TIMEOUT_SECONDS):
                access = await self._client.get_client_access_token(
                    user_id=pubsub_user(user_id), minutes_to_expire=CLIENT_TOKEN_MINUTES
                )
        except (AzureError, TimeoutError) as error:
            log.warning("no Web PubSub client token: %s", type(error).__name__)
            raise RetryableError("notifications are unavailable", retry_after=5) from None
        return str(access["url"])

    async def close(self) -> None:
        """Close the client's connections."""
        await self._client.close()


def socket_origin(settings: Settings) -> str | None:
    """The origin pages open their WebSocket to (``wss://…`` for an ``https://`` endpoint), for
    the page's Content-Security-Policy; ``None`` when Web PubSub is not configured."""
    endpoint = settings.webpubsub_endpoint
    if settings.webpubsub_connection_string is not None:
        secret = settings.webpubsub_connection_string.get_secret_value()
        parts = dict(p.split("=", 1) for p in secret.split(";") if "=" in p)
        endpoint = next((v for k, v in parts.items() if k.lower() == "endpoint"), endpoint)
    if not endpoint:
        return None
    url = urlsplit(endpoint)
    if url.scheme not in ("http", "https") or not url.netloc:
        return None
    return f"{'wss' if url.scheme == 'https' else 'ws'}://{url.netloc}"


def keyless(settings: Settings) -> bool:
    """Whether Web PubSub is reached with the identity (an endpoint, no connection string)."""
    return settings.webpubsub_endpoint is not None and settings.webpubsub_connection_string is None


def create_notifications(
    settings: Settings, identity: "AsyncTokenCredential | None"
) -> WebPubSubNotifier | None:
    """The Web PubSub publisher the settings ask for, or ``None`` when none is configured.

    The connection string (an access key) wins over the endpoint, as keys do elsewhere.
    """
    if not settings.notifications:
        return None
    from azure.messaging.webpubsubservice.aio import WebPubSubServiceClient

    hub = settings.webpubsub_hub
    options = {"retry_total": RETRIES, "retry_backoff_factor": 0.2}
    if settings.webpubsub_connection_string is not None:
        secret = settings.webpubsub_connection_string.get_secret_value()
        client = WebPubSubServiceClient.from_connection_string(secret, hub=hub, **options)
    else:
        if identity is None or settings.webpubsub_endpoint is None:
            raise RuntimeError("keyless Web PubSub needs the app's credential")
        client = WebPubSubServiceClient(settings.webpubsub_endpoint, hub, identity, **options)
    return WebPubSubNotifier(client)
