"""The fault proxy itself: it passes traffic through untouched unless a rule fires, and each fault
looks to the client as the real one would (tests/support/fault_proxy.py)."""

import concurrent.futures
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from azure.cosmos import exceptions as cosmos_errors
from azure.cosmos.aio import CosmosClient

from adapters.cosmos import storage_errors
from adapters.queue import StorageQueuePublisher, create_queue_client
from adapters.settings import settings_from
from domain.base import utcnow
from domain.errors import StorageUnavailable
from domain.ports import GenerationMessage
from tests.conftest import Stack
from tests.support.fault_proxy import Fault, FaultProxy, Rule, body_contains


class _Target(BaseHTTPRequestHandler):
    """Answers every request with what it received; records the paths in arrival order."""

    protocol_version = "HTTP/1.1"  # keeps connections alive
    disable_nagle_algorithm = True  # headers and body go in separate writes
    seen: list[str]
    lock = threading.Lock()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        with self.lock:
            self.seen.append(f"{self.command} {self.path}")
        reply = f"{self.command} {self.path} {body.decode()}".encode()
        self.send_response(200)
        if self.path.startswith("/chunked"):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (reply[:5], reply[5:]):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_PUT = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def target() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_Target,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def proxy(target: tuple[str, list[str]]) -> Iterator[FaultProxy]:
    with FaultProxy(target[0]) as running:
        yield running


def test_requests_and_answers_pass_through_on_kept_alive_connections(
    proxy: FaultProxy, target: tuple[str, list[str]]
) -> None:
    with httpx.Client(base_url=proxy.url) as client:
        answers = [client.put(f"/docs/{n}?q=1", content=f"body {n}") for n in range(5)]
        chunked = client.get("/chunked/one")

    assert [answer.text for answer in answers] == [f"PUT /docs/{n}?q=1 body {n}" for n in range(5)]
    assert chunked.text == "GET /chunked/one "
    assert proxy.requests == 6
    assert proxy.connections == 1  # one client connection carried every request
    assert len(target[1]) == 6


def test_a_rule_fires_for_its_next_matches_then_lets_requests_through(proxy: FaultProxy) -> None:
    rule = proxy.add(Rule("/docs/*", Fault.cosmos_throttled(retry_after_ms=40), times=2))

    with httpx.Client(base_url=proxy.url) as client:
        statuses = [client.get(f"/docs/{n}").status_code for n in range(3)]
        throttled = client.get("/docs/again")

    assert statuses == [429, 429, 200]
    assert throttled.status_code == 200
    assert (rule.matched, rule.applied) == (4, 2)


def test_throttled_and_unavailable_answers_have_the_services_shapes(proxy: FaultProxy) -> None:
    proxy.add(Rule("/cosmos/429", Fault.cosmos_throttled(retry_after_ms=40)))
    proxy.add(Rule("/cosmos/503", Fault.cosmos_unavailable()))
    proxy.add(Rule("/queue/503", Fault.storage_unavailable()))

    with httpx.Client(base_url=proxy.url) as client:
        throttled = client.get("/cosmos/429")
        unavailable = client.get("/cosmos/503")
        busy = client.post("/queue/503", content="<QueueMessage/>")

    assert throttled.headers["x-ms-retry-after-ms"] == "40"
    assert throttled.json()["code"] == "TooManyRequests"
    assert (unavailable.status_code, unavailable.json()["code"]) == (503, "ServiceUnavailable")
    assert (busy.status_code, busy.headers["x-ms-error-code"]) == (503, "ServerBusy")


def test_rules_match_method_path_segments_and_body(
    proxy: FaultProxy, target: tuple[str, list[str]]
) -> None:
    final_save = proxy.add(
        Rule(
            "/dbs/*/colls/lessons/docs/*",
            Fault.answer(418),
            method="PUT",
            when=body_contains('"generationStatus": "completed"'),
        )
    )
    completed = '{"id": "l1", "generationStatus":"completed"}'

    with httpx.Client(base_url=proxy.url) as client:
        hit = client.put("/dbs/db/colls/lessons/docs/l1/", content=completed)
        other_body = client.put("/dbs/db/colls/lessons/docs/l1/", content='{"x": 1}')
        other_method = client.post("/dbs/db/colls/lessons/docs/l1/", content=completed)
        deeper = client.put("/dbs/db/colls/lessons/docs/l1/attachments/a", content=completed)

    assert hit.status_code == 418
    assert [other_body.status_code, other_method.status_code, deeper.status_code] == [200] * 3
    assert (final_save.matched, final_save.applied) == (1, 1)
    assert len(target[1]) == 3


def test_a_reset_before_forwarding_never_reaches_the_target(
    proxy: FaultProxy, target: tuple[str, list[str]]
) -> None:
    rule = proxy.add(Rule("/docs/*", Fault.reset(), method="PUT", times=1))

    with httpx.Client(base_url=proxy.url) as client:
        with pytest.raises(httpx.TransportError):
            client.put("/docs/1", content="lost")
        again = client.put("/docs/1", content="kept")

    assert again.text == "PUT /docs/1 kept"
    assert target[1] == ["PUT /docs/1"]  # only the second arrived
    assert rule.applied == 1


def test_a_reset_after_forwarding_loses_only_the_answer(
    proxy: FaultProxy, target: tuple[str, list[str]]
) -> None:
    proxy.add(Rule("/docs/*", Fault.reset(after=True), method="PUT", times=1))

    with httpx.Client(base_url=proxy.url) as client, pytest.raises(httpx.TransportError):
        client.put("/docs/1", content="stored")

    assert target[1] == ["PUT /docs/1"]  # the write happened


def test_a_fraction_fires_on_the_same_requests_in_every_run(target: tuple[str, list[str]]) -> None:
    runs = []
    for _ in range(2):
        with FaultProxy(target[0]) as proxy, httpx.Client(base_url=proxy.url) as client:
            rule = proxy.add(Rule("/**", Fault.answer(503), fraction=0.3, seed=5))
            runs.append([client.get(f"/n/{n}").status_code for n in range(40)])

    assert runs[0] == runs[1]
    assert 0 < runs[0].count(503) < 40
    assert rule.applied == runs[1].count(503)


def test_a_slowed_request_lets_others_overtake_it(
    proxy: FaultProxy, target: tuple[str, list[str]]
) -> None:
    proxy.add(Rule("/slow", Fault.slow(0.5)))

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        slow = pool.submit(httpx.get, f"{proxy.url}/slow")
        while not proxy.requests:  # the slow one is in the proxy, waiting
            pass
        fast = pool.submit(httpx.get, f"{proxy.url}/fast")
        answers = [slow.result(), fast.result()]

    assert [answer.status_code for answer in answers] == [200, 200]
    assert target[1] == ["GET /fast", "GET /slow"]


# --- in front of the real emulators, with the real SDKs -----------------------------------


async def test_the_cosmos_sdk_rides_out_throttling_and_reports_the_wait_it_was_asked(
    stack: Stack,
) -> None:
    with FaultProxy(stack.ports.cosmos_endpoint) as proxy:
        async with CosmosClient(
            proxy.url, stack.env["COSMOS_KEY"], enable_endpoint_discovery=False
        ) as client:
            database = client.get_database_client(stack.env["COSMOS_DATABASE"])
            container = database.get_container_client("lessons")
            few = proxy.add(Rule("/dbs/*/colls/lessons/docs", Fault.cosmos_throttled(20), times=3))
            await container.create_item({"id": "proxied", "userId": "proxy-test"})
            proxy.remove(few)
            always = proxy.add(Rule("/dbs/*/colls/lessons/docs/*", Fault.cosmos_throttled(20)))
            with pytest.raises(StorageUnavailable) as raised, storage_errors("lesson", "proxied"):
                await container.read_item("proxied", partition_key="proxy-test")

    assert few.applied == 3  # retried by the SDK, then created
    assert always.applied == always.matched > 3  # the SDK's retries, then the error
    assert raised.value.retry_after == 0.02
    assert isinstance(raised.value.__cause__, cosmos_errors.CosmosHttpResponseError)


async def test_the_queue_sdk_retries_a_busy_storage_answer(stack: Stack) -> None:
    with FaultProxy(f"http://127.0.0.1:{stack.ports.queue}") as proxy:
        connection = stack.ports.storage_connection.replace(
            f"127.0.0.1:{stack.ports.queue}/", f"127.0.0.1:{proxy.port}/"
        )
        settings = settings_from({**stack.env, "AzureWebJobsStorage": connection})
        busy = proxy.add(Rule("/*/*/messages", Fault.storage_unavailable(), method="POST", times=1))
        async with create_queue_client(settings, "proxy-test") as queue:
            await queue.create_queue()
            try:
                await StorageQueuePublisher(queue).enqueue(
                    GenerationMessage(lesson_id="l1", user_id="u1", requested_at=utcnow())
                )
                properties = await queue.get_queue_properties()
            finally:
                await queue.delete_queue()

    assert busy.applied == 1  # answered by the proxy, then retried by the SDK
    assert properties.approximate_message_count == 1
