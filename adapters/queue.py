"""Azure Storage queues: the generation queue's name and the publisher that sends to it."""

from azure.core.exceptions import AzureError
from azure.storage.queue import TextBase64DecodePolicy, TextBase64EncodePolicy
from azure.storage.queue.aio import QueueClient

from domain.errors import StorageUnavailable
from domain.ports import GenerationMessage

LESSON_GENERATION_QUEUE = "lesson-generation"
# The Functions host moves a message here after maxDequeueCount failed deliveries.
LESSON_GENERATION_POISON_QUEUE = f"{LESSON_GENERATION_QUEUE}-poison"
# The connection setting queue triggers use; the publisher reads the same setting.
STORAGE_CONNECTION_SETTING = "AzureWebJobsStorage"


def create_queue_client(connection_string: str, queue_name: str) -> QueueClient:
    """An async queue client whose messages are base64, as host.json ``messageEncoding`` expects."""
    return QueueClient.from_connection_string(
        connection_string,
        queue_name,
        message_encode_policy=TextBase64EncodePolicy(),
        message_decode_policy=TextBase64DecodePolicy(),
        connection_timeout=5,
        read_timeout=10,
        retry_total=3,
    )


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
