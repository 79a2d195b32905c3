"""Reliability when dependencies are slow, throttled or briefly gone: on the real emulators, with
devhost worker processes that reach Cosmos DB and the queue through a fault-injecting proxy
(``tests/support/fault_proxy.py``). Every lesson asked for must end completed, paid for with at
most one extra provider call; each scenario records its figures for ``docs/reliability.md``.
"""

import concurrent.futures
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from azure.cosmos import CosmosClient

from adapters.cosmos import LESSONS
from tests.conftest import Stack, running_stack
from tests.e2e.conftest import Host, Learner, start_host
from tests.support.fake_llm import FakeLlmServer, Reply
from tests.support.fault_proxy import Fault, FaultProxy, Rule, body_contains
from tests.support.reliability import Figures, record
from tests.support.samples import lesson_json

pytestmark = pytest.mark.timeout(120)

LESSON_WRITE = "/dbs/*/colls/lessons/docs/*"  # a replace of one lesson (PUT)
FINAL_SAVE = '"generationStatus": "completed"'  # what a replace that completes a lesson holds
SEND = "/*/lesson-generation/messages"  # a message sent to the generation queue (POST)
FAST = {
    "AzureFunctionsJobHost__extensions__queues__visibilityTimeout": "00:00:01",
    "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:00.5",
    "SWEEP_SCHEDULE": "* * * * * *",  # every second: shorter than every lease below
    "STUCK_QUEUED_SECONDS": "60",
    "LLM_PROVIDERS": "groq",
    "GROQ_API_KEY": "gsk_reliability_SECRET",
}


@dataclass
class Proxies:
    """One proxy in front of Cosmos DB, one in front of Azurite's queues."""

    cosmos: FaultProxy
    queue: FaultProxy

    def settings(self, stack: Stack) -> dict[str, str]:
        """Settings that send a worker's Cosmos DB and queue traffic through the proxies."""
        queue = f"127.0.0.1:{stack.ports.queue}/"
        return {
            "COSMOS_ENDPOINT": self.cosmos.url,
            "AzureWebJobsStorage": stack.ports.storage_connection.replace(
                queue, f"127.0.0.1:{self.queue.port}/"
            ),
        }


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """Emulators of this module's own: no other host may take its messages."""
    with running_stack() as running:
        yield running


@pytest.fixture(scope="module")
def proxies(stack: Stack) -> Iterator[Proxies]:
    with (
        FaultProxy(stack.ports.cosmos_endpoint) as cosmos,
        FaultProxy(f"http://127.0.0.1:{stack.ports.queue}") as queue,
    ):
        yield Proxies(cosmos, queue)


@dataclass
class Workers:
    """Devhost processes started by one test, each serving HTTP, queues and timers."""

    stack: Stack
    llm: FakeLlmServer
    proxies: Proxies
    hosts: list[Host] = field(default_factory=list)
    learners: list[Learner] = field(default_factory=list)

    def start(self, count: int = 1, **settings: str) -> list[Host]:
        """Start ``count`` workers at once, with the fast settings and ``settings``."""
        env = {
            **FAST,
            "GROQ_BASE_URL": self.llm.root_url,
            **self.proxies.settings(self.stack),
            **settings,
        }
        with concurrent.futures.ThreadPoolExecutor(count) as pool:
            started = list(pool.map(lambda _: start_host(self.stack, (), **env), range(count)))
        self.hosts += started
        return started

    def learner(self, host: Host, user: str | None = None) -> Learner:
        """A learner (a user of their own, unless ``user``) talking to ``host``."""
        verifier = self.stack.verifier()
        user = user or f"reliable-{uuid.uuid4().hex[:8]}"
        self.learners.append(Learner(host, verifier.issue(user), user))
        return self.learners[-1]

    def stop(self) -> None:
        for learner in self.learners:
            learner.http.close()
        for host in self.hosts:
            if host.process.poll() is None:
                host.stop()


@pytest.fixture
def workers(stack: Stack, llm: FakeLlmServer, proxies: Proxies) -> Iterator[Workers]:
    llm.reset()
    proxies.cosmos.clear()
    proxies.queue.clear()
    started = Workers(stack, llm, proxies)
    yield started
    proxies.cosmos.clear()
    proxies.queue.clear()
    started.stop()


def _roadmap(learner: Learner, lessons: int, prefetch: int = 0) -> list[str]:
    outline = [
        {
            "title": "Reliability",
            "lessons": [
                {"title": f"Lesson {n}", "objectives": [f"Objective {n}"]}
                for n in range(1, lessons + 1)
            ],
        }
    ]
    response = learner.create_roadmap(
        goal="Learn reliability", skillLevel="beginner", modules=outline, prefetch=prefetch
    )
    assert response.status_code == 201, response.text
    return [lesson["id"] for lesson in response.json()["modules"][0]["lessons"]]


def _ask_for_one(learner: Learner) -> tuple[float, "Watch"]:
    """Ask for the lesson of a one-lesson roadmap: when it was asked, and what polling saw."""
    [lesson_id] = _roadmap(learner, lessons=1)
    started = time.monotonic()
    assert learner.http.post(f"/api/lessons/{lesson_id}/generate").status_code == 202
    return started, _watch(learner, lesson_id)


@dataclass
class Watch:
    """What polling one lesson saw on its way to completed or failed."""

    lesson: dict[str, Any] = field(default_factory=dict)
    renewals: set[str] = field(default_factory=set)  # updatedAt values seen while writing
    statuses: list[str] = field(default_factory=list)
    half_written: int = 0  # views with content while not completed


def _watch(
    learner: Learner, lesson_id: str, limit: float = 60, watch: Watch | None = None
) -> Watch:
    """Poll the lesson until it is completed or failed, riding out 503s and dropped calls."""
    watch = watch or Watch()
    deadline = time.monotonic() + limit
    while True:
        try:
            response: httpx.Response | None = learner.http.get(f"/api/lessons/{lesson_id}")
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code == 200:
            lesson: dict[str, Any] = response.json()
            _observe(watch, lesson)
            if lesson["generationStatus"] in ("completed", "failed"):
                watch.lesson = lesson
                return watch
        else:
            assert response is None or response.status_code == 503, response.text
        assert time.monotonic() < deadline, f"lesson {lesson_id} never settled"
        time.sleep(0.1)


def _observe(watch: Watch, lesson: dict[str, Any]) -> None:
    status = lesson["generationStatus"]
    if not watch.statuses or watch.statuses[-1] != status:
        watch.statuses.append(status)
    if status == "generating" and lesson["progress"]["stage"] == "writing":
        watch.renewals.add(lesson["updatedAt"])  # the provider is called: only heartbeats write
    if status != "completed" and lesson["content"] is not None:
        watch.half_written += 1


def _test(request: pytest.FixtureRequest) -> str:
    return str(request.node.nodeid)


def test_a_provider_slower_than_three_leases_writes_once_and_is_never_requeued(
    workers: Workers, llm: FakeLlmServer, request: pytest.FixtureRequest
) -> None:
    lease = 2.0
    llm.default("groq", Reply.hang(3.5 * lease, Reply.ok(lesson_json())))
    [host] = workers.start(GENERATION_LEASE_SECONDS=str(lease))
    started, watch = _ask_for_one(workers.learner(host))
    lesson = watch.lesson

    record(
        Figures(
            scenario=_test(request),
            fault=f"a provider answering in {3.5 * lease:g} s, 3.5 leases of {lease:g} s",
            outcome=(
                f"{lesson['generationStatus']}; the heartbeat renewed the lease "
                f"{len(watch.renewals) - 1} times while the provider worked (seen by polling); "
                f"re-queued {lesson['requeues']} times, delivered {lesson['deliveries']} time(s)"
            ),
            asked=1,
            completed=int(lesson["generationStatus"] == "completed"),
            failed=int(lesson["generationStatus"] == "failed"),
            model_calls=len(llm.requests("groq")),
            recovery_seconds=round(time.monotonic() - started, 1),
            recovered_from="the request (the provider's own time included)",
        )
    )
    assert lesson["generationStatus"] == "completed"
    assert (lesson["requeues"], lesson["deliveries"]) == (0, 1)
    assert len(llm.requests("groq")) == 1
    assert len(watch.renewals) >= 4  # the last progress write, then heartbeats during the call


def test_cosmos_throttling_through_a_burst_of_100_lessons_writes_each_once(
    workers: Workers, llm: FakeLlmServer, proxies: Proxies, request: pytest.FixtureRequest
) -> None:
    llm.default("groq", Reply.hang(0.2, Reply.ok(lesson_json())))
    final_saves = proxies.cosmos.add(
        Rule(
            LESSON_WRITE,
            Fault.cosmos_throttled(retry_after_ms=25),
            method="PUT",
            when=body_contains(FINAL_SAVE),
            times=25,  # more than the SDK retries alone: the writer must retry the save itself
        )
    )
    everything = proxies.cosmos.add(
        Rule("/**", Fault.cosmos_throttled(retry_after_ms=25), fraction=0.2)
    )
    first, _ = workers.start(2, GENERATION_LEASE_SECONDS="10")
    learners = [workers.learner(first) for _ in range(10)]

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        asked = list(pool.map(lambda one: (one, _roadmap(one, 10, prefetch=10)), learners))
        watched = list(
            pool.map(
                lambda pair: [_watch(pair[0], lesson_id).lesson for lesson_id in pair[1]], asked
            )
        )
    lessons = [lesson for group in watched for lesson in group]
    completed = sum(lesson["generationStatus"] == "completed" for lesson in lessons)

    record(
        Figures(
            scenario=_test(request),
            fault=(
                "Cosmos DB answering 429 (x-ms-retry-after-ms 25) to a fifth of all requests, "
                "and to the first 25 attempts at final saves, through a burst of 100 lessons "
                "on 2 workers"
            ),
            outcome=(
                f"{completed} of {len(lessons)} completed, "
                f"{final_saves.applied + everything.applied} throttled answers ridden out "
                "(the SDK's retries, then the writer's own at the final save)"
            ),
            asked=len(lessons),
            completed=completed,
            failed=sum(lesson["generationStatus"] == "failed" for lesson in lessons),
            model_calls=len(llm.requests("groq")),
            recovery_seconds=round(time.monotonic() - started, 1),
            recovered_from="the first request (throttling lasts the whole burst)",
            injected=final_saves.applied + everything.applied,
        )
    )
    assert len(lessons) == 100
    assert completed == 100
    assert len(llm.requests("groq")) == 100  # no duplicate provider calls
    assert final_saves.applied == 25
    assert everything.applied > 100


def test_an_unreachable_queue_answers_503_restores_the_lesson_and_a_retry_succeeds(
    workers: Workers, llm: FakeLlmServer, proxies: Proxies, request: pytest.FixtureRequest
) -> None:
    llm.default("groq", Reply.ok(lesson_json()))
    [host] = workers.start(GENERATION_LEASE_SECONDS="10")
    learner = workers.learner(host)
    [lesson_id] = _roadmap(learner, lessons=1)
    down = proxies.queue.add(Rule(SEND, Fault.reset(), method="POST"))

    asked = time.monotonic()
    refused = learner.http.post(f"/api/lessons/{lesson_id}/generate", timeout=30)
    answered = time.monotonic() - asked
    after = learner.http.get(f"/api/lessons/{lesson_id}").json()
    proxies.queue.remove(down)
    back = time.monotonic()
    retry = learner.http.post(f"/api/lessons/{lesson_id}/generate")
    lesson = _watch(learner, lesson_id).lesson

    record(
        Figures(
            scenario=_test(request),
            fault="the queue resetting every send while a learner asks for a lesson",
            outcome=(
                f"answered {refused.status_code} with Retry-After "
                f"{refused.headers.get('Retry-After')} in {answered:.1f} s, after "
                f"{down.applied} attempts to send; "
                f"the lesson went back to {after['generationStatus']}; the learner's retry: "
                f"{retry.status_code}, then {lesson['generationStatus']}"
            ),
            asked=1,
            completed=int(lesson["generationStatus"] == "completed"),
            failed=int(lesson["generationStatus"] == "failed"),
            model_calls=len(llm.requests("groq")),
            recovery_seconds=round(time.monotonic() - back, 1),
            recovered_from="the queue coming back (the learner retrying at once)",
            injected=down.applied,
        )
    )
    assert refused.status_code == 503, refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    assert after["generationStatus"] == "pending"  # its previous status: nothing is left queued
    assert down.applied >= 2  # the send was retried before giving up
    assert retry.status_code == 202, retry.text
    assert lesson["generationStatus"] == "completed"
    assert len(llm.requests("groq")) == 1


@pytest.mark.parametrize(
    ("fault", "what"),
    [
        (Fault.reset(after=True), "the save stored, its answer lost (reset after forwarding)"),
        (Fault.reset(), "the save never arriving (reset before forwarding), 12 times in a row"),
    ],
    ids=["answer-lost", "request-lost"],
)
def test_connections_reset_at_the_final_save_cost_no_second_call(
    workers: Workers,
    llm: FakeLlmServer,
    proxies: Proxies,
    request: pytest.FixtureRequest,
    fault: Fault,
    what: str,
) -> None:
    llm.default("groq", Reply.ok(lesson_json()))
    times = 1 if fault.action == "reset_after" else 12  # more than the SDK's own retries
    resets = proxies.cosmos.add(
        Rule(LESSON_WRITE, fault, method="PUT", when=body_contains(FINAL_SAVE), times=times)
    )
    [host] = workers.start(GENERATION_LEASE_SECONDS="10")
    started, watch = _ask_for_one(workers.learner(host))
    lesson = watch.lesson

    record(
        Figures(
            scenario=_test(request),
            fault=f"Cosmos DB resetting the connection at the final save: {what}",
            outcome=(
                f"{lesson['generationStatus']} after {resets.applied} reset(s), delivered "
                f"{lesson['deliveries']} time(s); {watch.half_written} half-written views"
            ),
            asked=1,
            completed=int(lesson["generationStatus"] == "completed"),
            failed=int(lesson["generationStatus"] == "failed"),
            model_calls=len(llm.requests("groq")),
            recovery_seconds=round(time.monotonic() - started, 1),
            recovered_from="the request",
            injected=resets.applied,
        )
    )
    assert resets.applied == times
    assert lesson["generationStatus"] == "completed"
    assert lesson["deliveries"] == 1
    assert len(llm.requests("groq")) == 1
    assert watch.half_written == 0


def test_a_save_failing_past_the_invocations_time_is_written_by_the_next_delivery(
    workers: Workers, llm: FakeLlmServer, proxies: Proxies, request: pytest.FixtureRequest
) -> None:
    llm.default("groq", Reply.ok(lesson_json()))
    # The first delivery's final save never arrives, however often it is tried.
    first_save = body_contains(FINAL_SAVE, '"deliveries": 1')
    resets = proxies.cosmos.add(Rule(LESSON_WRITE, Fault.reset(), method="PUT", when=first_save))
    [host] = workers.start(
        GENERATION_LEASE_SECONDS="10",
        # A short invocation, so the writer gives up on the save within seconds: 14 s leave
        # 4 s of saving after the budgets' 3 s + 1 s and the 10 s kept to hand the lesson back.
        AzureFunctionsJobHost__functionTimeout="00:00:14",
        LLM_LESSON_BUDGET_SECONDS="3",
        RESEARCH_BUDGET_SECONDS="1",
        HTTP_DEADLINE_SECONDS="10",
    )
    started, watch = _ask_for_one(workers.learner(host))
    lesson = watch.lesson

    record(
        Figures(
            scenario=_test(request),
            fault=(
                "Cosmos DB resetting every attempt at the first delivery's final save, past the "
                "invocation's time (functionTimeout 14 s)"
            ),
            outcome=(
                f"the save was tried {resets.applied} times (the SDK's retries, then the "
                f"writer's) until the invocation's time ran short; the writer handed the lesson "
                f"back ({' → '.join(watch.statuses)}) and the next delivery wrote it; "
                f"{watch.half_written} half-written views"
            ),
            asked=1,
            completed=int(lesson["generationStatus"] == "completed"),
            failed=int(lesson["generationStatus"] == "failed"),
            model_calls=len(llm.requests("groq")),
            recovery_seconds=round(time.monotonic() - started, 1),
            recovered_from="the request (the first delivery's save failing throughout)",
            injected=resets.applied,
        )
    )
    assert lesson["generationStatus"] == "completed"
    assert lesson["deliveries"] == 2
    assert lesson["requeues"] == 0  # the writer handed it back itself, within its lease
    assert len(llm.requests("groq")) == 2  # at most one more call
    assert watch.half_written == 0  # nothing half-written was ever visible
    assert resets.applied > 1  # the save was tried again before the lesson was handed back


def _lease_owner(stack: Stack, user_id: str, lesson_id: str) -> str:
    """The worker holding the lesson's lease, read from Cosmos DB directly (not via a proxy)."""
    with CosmosClient(
        stack.ports.cosmos_endpoint,
        stack.env["COSMOS_KEY"],
        enable_endpoint_discovery=False,
    ) as client:
        container = client.get_database_client(stack.env["COSMOS_DATABASE"])
        item = container.get_container_client(LESSONS).read_item(lesson_id, user_id)
    return str(item["lease"]["owner"])


def test_a_worker_killed_while_its_heartbeat_holds_the_lease_is_replaced_after_the_lease(
    workers: Workers, llm: FakeLlmServer, stack: Stack, request: pytest.FixtureRequest
) -> None:
    lease = 2.0
    llm.script("groq", Reply.hang(60))  # the first call never answers: its worker will die
    llm.default("groq", Reply.ok(lesson_json()))
    hosts = workers.start(2, GENERATION_LEASE_SECONDS=str(lease))
    learner = workers.learner(hosts[0])
    [lesson_id] = _roadmap(learner, lessons=1)
    assert learner.http.post(f"/api/lessons/{lesson_id}/generate").status_code == 202
    deadline = time.monotonic() + 30
    while llm.queued("groq"):  # until the hanging reply is taken: a worker is writing
        assert time.monotonic() < deadline
        time.sleep(0.05)
    held = time.monotonic()
    watch = Watch()
    while time.monotonic() - held < 2 * lease:  # two leases: held only by heartbeats
        _observe(watch, learner.http.get(f"/api/lessons/{lesson_id}").json())
        time.sleep(0.1)
    owner = _lease_owner(stack, learner.user_id, lesson_id)
    [doomed] = [host for host in hosts if f":{host.process.pid}:" in owner]
    [survivor] = [host for host in hosts if host is not doomed]

    doomed.process.kill()
    doomed.process.wait()
    killed = time.monotonic()
    lesson = _watch(workers.learner(survivor, learner.user_id), lesson_id).lesson

    record(
        Figures(
            scenario=_test(request),
            fault=f"the worker holding a heartbeat lease ({lease:g} s) killed (SIGKILL)",
            outcome=(
                f"{lesson['generationStatus']} by the other worker after the lease ran out: "
                f"re-queued {lesson['requeues']} time(s) by the sweeper, delivered "
                f"{lesson['deliveries']} times"
            ),
            asked=1,
            completed=int(lesson["generationStatus"] == "completed"),
            failed=int(lesson["generationStatus"] == "failed"),
            model_calls=len(llm.requests("groq")) + 1,  # the killed worker's call, unanswered
            recovery_seconds=round(time.monotonic() - killed, 1),
            recovered_from="the kill",
        )
    )
    assert watch.statuses == ["generating"]  # still held after two leases, never re-queued
    assert len(watch.renewals) >= 3  # by the heartbeat
    assert lesson["generationStatus"] == "completed"
    assert lesson["requeues"] == 1
    assert lesson["deliveries"] == 2
    assert len(llm.successes("groq")) == 1
