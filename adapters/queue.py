"""Azure Storage queues: the generation queue's name and the publisher that sends to it."""

from typing import Any

from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError
from azure.storage.queue import TextBase64DecodePolicy, TextBase64EncodePolicy
from azure.storage.queue.aio import QueueClient

from adapters.settings import Settings
from domain.errors import StorageUnavailable
from domain.ports import GenerationMessage

LESSON_GENERATION_QUEUE = "lesson-generation"
# The Functions host moves a message here after maxDequeueCount failed deliveries.
LESSON_GENERATION_POISON_QUEUE = f"{LESSON_GENERATION_QUEUE}-poison"
# The connection setting queue triggers use; the publisher reads the same setting.
STORAGE_CONNECTION_SETTING = "AzureWebJobsStorage"


def queue_service_url(settings: Settings) -> str | None:
    """The queue endpoint of the identity-based connection, as the Functions host derives it."""
    if settings.storage_queue_service_uri is not None:
        return settings.storage_queue_service_uri
    if settings.storage_account_name is not None:
        return f"https://{settings.storage_account_name}.queue.core.windows.net"
    return None


def create_queue_client(
    settings: Settings, queue_name: str, identity: AsyncTokenCredential | None = None
) -> QueueClient:
    """An async queue client whose messages are base64, as host.json ``messageEncoding`` expects.

    The ``AzureWebJobsStorage`` connection string wins when set (as in the host); otherwise the
    identity-based forms (``__queueServiceUri`` or ``__accountName``) with ``identity``.
    """
    options: dict[str, Any] = {
        "message_encode_policy": TextBase64EncodePolicy(),
        "message_decode_policy": TextBase64DecodePolicy(),
        "connection_timeout": 5,
        "read_timeout": 10,
        "retry_total": 3,
        # The SDK's default back-off (15 s + 3^n: about 18 s, 24 s and 42 s) outlasts
        # HTTP_DEADLINE_SECONDS: a learner's request would be cut off before its lesson could be
        # put back. 1.5^n instead: about 1.5 s, 2.3 s and 3.4 s (tests/e2e/test_reliability.py).
        "initial_backoff": 0,
        "increment_base": 1.5,
        "random_jitter_range": 0.5,
    }
    if settings.storage_connection is not None:
        connection = settings.storage_connection.get_secret_value()
        return QueueClient.from_connection_string(connection, queue_name, **options)
    url = queue_service_url(settings)
    if url is None or identity is None:
        raise ValueError("an identity-based queue connection needs an account and a credential")
    return QueueClient(url, queue_name, credential=identity, **options)


class StorageQueueDepths:
    """Approximate lengths of the queues the app owns (``QueueDepths``), for the sweeper's gauge."""

    def __init__(self, clients: list[QueueClient]) -> None:
        self._clients = clients

    async def depths(self) -> dict[str, int]:
        """Queue name → approximate message count; ``StorageUnavailable`` if unreachable."""
        try:
            return {
                client.queue_name: (await client.get_queue_properties()).approximate_message_count
                or 0
                for client in self._clients
            }
        except AzureError as error:
            raise StorageUnavailable(f"queue depth unavailable: {type(error).__name__}") from error

    async def close(self) -> None:
        """Close the clients' connections."""
        for client in self._clients:
            await client.close()


class StorageQueuePublisher:
    """Sends generation requests to the ``lesson-generation`` queue."""

    def __init__(self, client: QueueClient) -> None:
        self._client = client

    async def enqueue(self, message: GenerationMessage) -> None:
        """Send one message; ``StorageUnavailable`` if the queue cannot take it."""
        try:
            await self._client.send_message(message.model_dump_json())
        except AzureError as error:
            raise StorageUnavailable(
                f"the queue refused the message: {type(error).__name__}"
            ) from error

    async def close(self) -> None:
        """Close the underlying client's connections."""
        await self._client.close()

    async def ping(self) -> None:
        """Raise unless the queue answers."""
        await self._client.get_queue_properties()
