"""The local host's queue triggers against real Azurite, with host.json semantics."""

import asyncio
import base64
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import azure.functions as func
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue.aio import QueueClient, QueueServiceClient

from adapters.queue import create_queue_client
from devhost.functions import FunctionSpec, discover
from devhost.hostconfig import QueueOptions
from devhost.invoke import Invoker
from devhost.queues import QueueListener
from tests.conftest import Stack

FAST = QueueOptions(
    batch_size=4,
    new_batch_threshold=2,
    max_polling_interval=0.2,
    visibility_timeout=0,
    max_dequeue_count=3,
)


def _spec(handler: Callable[..., Any], queue_name: str) -> FunctionSpec:
    app = func.FunctionApp()
    app.queue_trigger(arg_name="msg", queue_name=queue_name, connection="AzureWebJobsStorage")(
        handler
    )
    [spec] = discover(app)
    return spec


async def _run_until(
    stack: Stack,
    spec: FunctionSpec,
    done: Callable[[], bool],
    *,
    options: QueueOptions = FAST,
    processing_visibility: int = 600,
    limit: float = 30.0,
) -> None:
    async with QueueServiceClient.from_connection_string(stack.ports.storage_connection) as service:
        listener = QueueListener(
            spec, service, options, Invoker(timeout=60), processing_visibility=processing_visibility
        )
        stopping = asyncio.Event()
        task = asyncio.create_task(listener.run(stopping))
        deadline = time.monotonic() + limit
        while not done():
            assert time.monotonic() < deadline, "the listener did not finish in time"
            await asyncio.sleep(0.05)
        stopping.set()
        await task


async def _raw(stack: Stack, queue_name: str) -> list[str]:
    async with QueueClient.from_connection_string(
        stack.ports.storage_connection, queue_name
    ) as client:
        pages = client.receive_messages(messages_per_page=32, max_messages=32)
        try:
            return [str(m.content) async for m in pages]
        except ResourceNotFoundError:  # the host creates a poison queue on first use
            return []


@pytest.fixture
def queue_name() -> str:
    return f"devhost-{uuid.uuid4().hex[:12]}"


async def _send(stack: Stack, queue_name: str, *bodies: str) -> None:
    async with create_queue_client(stack.settings, queue_name) as client:
        await client.create_queue()
        for body in bodies:
            await client.send_message(body)


async def test_handled_message_is_decoded_and_deleted(stack: Stack, queue_name: str) -> None:
    seen: list[func.QueueMessage] = []

    async def handler(msg: func.QueueMessage) -> None:
        seen.append(msg)

    await _send(stack, queue_name, '{"hello": "wörld"}')
    await _run_until(stack, _spec(handler, queue_name), lambda: len(seen) == 1)

    assert seen[0].get_json() == {"hello": "wörld"}
    assert seen[0].dequeue_count == 1
    assert seen[0].id
    assert await _raw(stack, queue_name) == []


async def test_failing_message_is_retried_then_moved_to_poison(
    stack: Stack, queue_name: str
) -> None:
    deliveries: list[int | None] = []

    async def handler(msg: func.QueueMessage) -> None:
        deliveries.append(msg.dequeue_count)
        raise RuntimeError("always fails")

    await _send(stack, queue_name, "doomed")
    poison = f"{queue_name}-poison"
    poisoned: list[str] = []

    def moved() -> bool:
        return len(deliveries) >= 3 and bool(poisoned)

    async def watch_poison() -> None:
        while not poisoned:
            poisoned.extend(await _raw(stack, poison))
            await asyncio.sleep(0.1)

    watcher = asyncio.create_task(watch_poison())
    await _run_until(stack, _spec(handler, queue_name), moved)
    await watcher

    assert deliveries == [1, 2, 3]
    assert [base64.b64decode(text).decode() for text in poisoned] == ["doomed"]
    assert await _raw(stack, queue_name) == []


async def test_undecodable_message_ends_in_poison_without_running(
    stack: Stack, queue_name: str
) -> None:
    calls: list[str] = []

    async def handler(msg: func.QueueMessage) -> None:
        calls.append(msg.get_body().decode())

    async with QueueClient.from_connection_string(
        stack.ports.storage_connection, queue_name
    ) as raw:
        await raw.create_queue()
        await raw.send_message("not base64 at all!")
    poisoned: list[str] = []

    async def drained() -> None:
        while not poisoned:
            poisoned.extend(await _raw(stack, f"{queue_name}-poison"))
            await asyncio.sleep(0.1)

    watcher = asyncio.create_task(drained())
    await _run_until(stack, _spec(handler, queue_name), lambda: watcher.done())
    assert calls == []
    assert poisoned == ["not base64 at all!"]


async def test_new_batch_is_fetched_when_in_flight_work_drops_to_the_threshold(
    stack: Stack, queue_name: str
) -> None:
    running = 0
    peak = 0
    finished: list[int] = []
    tokens = asyncio.Semaphore(0)  # each token lets one running function finish

    async def handler(msg: func.QueueMessage) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await tokens.acquire()
        running -= 1
        finished.append(int(msg.get_body()))

    async def scenario() -> None:
        await _until(lambda: running == FAST.batch_size)
        await asyncio.sleep(0.5)  # several polling intervals: still one batch, above threshold
        assert running == FAST.batch_size
        for _ in range(FAST.batch_size - FAST.new_batch_threshold):
            tokens.release()
        await _until(lambda: running == FAST.new_batch_threshold + FAST.batch_size)
        for _ in range(20):
            tokens.release()

    await _send(stack, queue_name, *(str(i) for i in range(20)))
    steps = asyncio.create_task(scenario())
    await _run_until(stack, _spec(handler, queue_name), lambda: len(finished) == 20)
    await steps

    assert sorted(finished) == list(range(20))
    assert peak == FAST.batch_size + FAST.new_batch_threshold


async def _until(condition: Callable[[], bool], limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


async def test_sync_functions_run_in_the_thread_pool(stack: Stack, queue_name: str) -> None:
    threads: list[str] = []

    def handler(msg: func.QueueMessage) -> None:
        threads.append(threading.current_thread().name)

    await _send(stack, queue_name, "x")
    await _run_until(stack, _spec(handler, queue_name), lambda: len(threads) == 1)
    assert threads[0] != threading.main_thread().name
    assert threads[0].startswith("devhost-fn")


async def test_message_stays_hidden_while_its_function_runs(stack: Stack, queue_name: str) -> None:
    deliveries: list[int | None] = []
    finished = asyncio.Event()

    async def handler(msg: func.QueueMessage) -> None:
        deliveries.append(msg.dequeue_count)
        await asyncio.sleep(3)  # longer than the 2 s processing visibility: renewal must hold it
        finished.set()

    await _send(stack, queue_name, "slow")
    await _run_until(stack, _spec(handler, queue_name), finished.is_set, processing_visibility=2)
    assert deliveries == [1]
