"""Queue triggers with the Functions host's semantics (host.json ``extensions.queues``).

- Messages are fetched ``batchSize`` at a time; a new batch is fetched once the messages in
  flight drop to ``newBatchThreshold``.
- An empty queue is polled with a randomised exponential back-off from 100 ms up to
  ``maxPollingInterval``; any message found resets it.
- A message stays invisible while its function runs (fetched with a 10-minute visibility that is
  renewed half-way, as the host does).
- Success deletes the message. Failure makes it visible again after ``visibilityTimeout``; once
  it has been dequeued ``maxDequeueCount`` times it is moved to ``<queue>-poison`` instead.
- Bodies are base64 unless ``messageEncoding`` is ``none``.
"""

import asyncio
import base64
import contextlib
import logging
import random

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.functions.queue import QueueMessage as FunctionQueueMessage
from azure.storage.queue import QueueMessage
from azure.storage.queue.aio import QueueClient, QueueServiceClient

from devhost.functions import FunctionSpec
from devhost.hostconfig import QueueOptions
from devhost.invoke import Invoker

log = logging.getLogger("devhost.queues")

MIN_POLLING_INTERVAL = 0.1
PROCESSING_VISIBILITY = 600  # seconds a message stays hidden while its function runs
SHUTDOWN_GRACE = 10.0


class _Receipt:
    """The message's current pop receipt; each visibility update issues a new one."""

    def __init__(self, message: QueueMessage) -> None:
        self.message = message
        self.pop_receipt = message.pop_receipt


class QueueListener:
    """Feeds one queue's messages to one function."""

    def __init__(
        self,
        spec: FunctionSpec,
        service: QueueServiceClient,
        options: QueueOptions,
        invoke: Invoker,
        *,
        processing_visibility: int = PROCESSING_VISIBILITY,
    ) -> None:
        self.spec = spec
        self.queue_name = str(spec.trigger["queueName"])
        self._queue: QueueClient = service.get_queue_client(self.queue_name)
        self._poison: QueueClient = service.get_queue_client(f"{self.queue_name}-poison")
        self._options = options
        self._invoke = invoke
        self._visibility = processing_visibility
        self._in_flight: set[asyncio.Task[None]] = set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Poll and dispatch until ``stopping`` is set, then let running functions finish."""
        delay = MIN_POLLING_INTERVAL
        stop_waiter = asyncio.create_task(stopping.wait())
        try:
            while not stopping.is_set():
                if len(self._in_flight) > self._options.new_batch_threshold:
                    await asyncio.wait(
                        {stop_waiter, *self._in_flight}, return_when=asyncio.FIRST_COMPLETED
                    )
                    continue
                messages = await self._receive()
                if messages:
                    delay = MIN_POLLING_INTERVAL
                    for message in messages:
                        self._start(message)
                    continue
                await asyncio.wait({stop_waiter}, timeout=delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self._options.max_polling_interval)
        finally:
            stop_waiter.cancel()
            await self._drain()

    def _start(self, message: QueueMessage) -> None:
        task = asyncio.create_task(
            self._guarded(_Receipt(message)), name=f"{self.spec.name}:{message.id}"
        )
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _receive(self) -> list[QueueMessage]:
        size = self._options.batch_size
        try:
            pages = self._queue.receive_messages(
                messages_per_page=size, max_messages=size, visibility_timeout=self._visibility
            )
            return [message async for message in pages]
        except ResourceNotFoundError:
            return []  # the queue does not exist yet: same as empty
        except AzureError as error:
            log.warning("queue %s: receive failed: %s", self.queue_name, type(error).__name__)
            return []

    async def _guarded(self, receipt: _Receipt) -> None:
        try:
            await self._process(receipt)
        except AzureError as error:  # the queue itself failed; the message reappears later
            log.warning("queue %s: message %s: %s", self.queue_name, receipt.message.id, error)

    async def _process(self, receipt: _Receipt) -> None:
        message = receipt.message
        if message.dequeue_count and message.dequeue_count > self._options.max_dequeue_count:
            await self._move_to_poison(receipt)
            return
        renewer = asyncio.create_task(self._keep_hidden(receipt))
        try:
            await self._invoke(self.spec, self._binding(message))
        except asyncio.CancelledError:
            await _stop(renewer)
            await self._release(receipt, 0)  # shutting down: let another worker have it now
            raise
        except Exception:
            await _stop(renewer)
            log.exception(
                "function %s failed on message %s (delivery %s)",
                self.spec.name,
                message.id,
                message.dequeue_count,
            )
            if (message.dequeue_count or 0) >= self._options.max_dequeue_count:
                await self._move_to_poison(receipt)
            else:
                await self._release(receipt, int(self._options.visibility_timeout))
        else:
            await _stop(renewer)
            await self._delete(receipt)

    def _binding(self, message: QueueMessage) -> FunctionQueueMessage:
        content = message.content or ""
        if self._options.message_encoding == "base64":
            body = base64.b64decode(content, validate=True)
        else:
            body = content.encode()
        return FunctionQueueMessage(
            id=message.id,
            body=body,
            dequeue_count=message.dequeue_count,
            pop_receipt=message.pop_receipt,
            insertion_time=message.inserted_on,
            expiration_time=message.expires_on,
            time_next_visible=message.next_visible_on,
        )

    async def _keep_hidden(self, receipt: _Receipt) -> None:
        while True:
            await asyncio.sleep(self._visibility / 2)
            try:
                updated = await self._queue.update_message(
                    receipt.message.id,
                    pop_receipt=receipt.pop_receipt,
                    visibility_timeout=self._visibility,
                )
            except AzureError as error:
                log.warning(
                    "queue %s: could not keep %s hidden: %s",
                    self.queue_name,
                    receipt.message.id,
                    error,
                )
                return
            receipt.pop_receipt = updated.pop_receipt

    async def _delete(self, receipt: _Receipt) -> None:
        try:
            await self._queue.delete_message(receipt.message.id, pop_receipt=receipt.pop_receipt)
        except AzureError as error:  # it will be delivered again: handlers are idempotent
            log.warning(
                "queue %s: could not delete %s: %s", self.queue_name, receipt.message.id, error
            )

    async def _release(self, receipt: _Receipt, visibility: int) -> None:
        try:
            await self._queue.update_message(
                receipt.message.id, pop_receipt=receipt.pop_receipt, visibility_timeout=visibility
            )
        except AzureError as error:  # it reappears when its processing visibility ends
            log.warning(
                "queue %s: could not release %s: %s", self.queue_name, receipt.message.id, error
            )

    async def _move_to_poison(self, receipt: _Receipt) -> None:
        content = receipt.message.content or ""
        log.warning(
            "queue %s: message %s moved to %s-poison",
            self.queue_name,
            receipt.message.id,
            self.queue_name,
        )
        try:
            await self._poison.send_message(content)
        except ResourceNotFoundError:
            with contextlib.suppress(ResourceExistsError):
                await self._poison.create_queue()
            await self._poison.send_message(content)
        await self._delete(receipt)

    async def _drain(self) -> None:
        if not self._in_flight:
            return
        _, pending = await asyncio.wait(self._in_flight, timeout=SHUTDOWN_GRACE)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, AzureError):
        await task
