"""Fault tests: duplicates, a killed worker, a provider that always fails, a Cosmos DB restart and
a burst of load — on the real emulators, with several devhost worker processes. Every requested
lesson must end completed (or failed with a reason), written by exactly one provider call."""

import concurrent.futures
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from adapters.queue import LESSON_GENERATION_QUEUE
from domain.lesson_writer import GAVE_UP, WILL_RETRY
from tests.conftest import LOG_DIR, Stack, running_stack
from tests.e2e.conftest import Host, Learner, start_host
from tests.support.fake_llm import FakeLlmServer, Reply
from tests.support.reliability import Figures, record
from tests.support.samples import lesson_json

pytestmark = pytest.mark.timeout(180)

BREAKER_REST = 2.0
FAST_DELIVERY = {
    "AzureFunctionsJobHost__extensions__queues__visibilityTimeout": "00:00:01",
    "AzureFunctionsJobHost__extensions__queues__maxPollingInterval": "00:00:01",
    "SWEEP_SCHEDULE": "* * * * * *",  # every second
    "STUCK_QUEUED_SECONDS": "120",
    "LLM_ATTEMPT_TIMEOUT_SECONDS": "60",
    "LLM_LESSON_BUDGET_SECONDS": "120",
}


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """Emulators of this module's own, with Cosmos DB data that survives a restart."""
    data = LOG_DIR / f"cosmos-{uuid.uuid4().hex[:8]}.json"
    with running_stack(cosmos_data=data) as running:
        yield running
    data.unlink(missing_ok=True)


@pytest.fixture
def workers(stack: Stack, llm: FakeLlmServer) -> Iterator[list[Host]]:
    """Worker processes started by the test; all stopped (or already killed) afterwards."""
    llm.reset()
    started: list[Host] = []
    yield started
    for host in started:
        if host.process.poll() is None:
            host.stop()


def _worker(stack: Stack, llm: FakeLlmServer, workers: list[Host], **settings: str) -> Host:
    env = {
        **FAST_DELIVERY,
        "LLM_PROVIDERS": "groq",
        "GROQ_API_KEY": "gsk_faults_SECRET",
        "GROQ_BASE_URL": llm.root_url,
        "GENERATION_LEASE_SECONDS": "60",
        **settings,
    }
    host = start_host(stack, (), **env)
    workers.append(host)
    return host


@pytest.fixture
def learner_on(stack: Stack) -> Iterator[Callable[[Host], Learner]]:
    """Makes learners (each a user of their own) talking to a host; closes them afterwards."""
    verifier = stack.verifier()
    made: list[Learner] = []

    def make(host: Host, user: str | None = None) -> Learner:
        user = user or f"fault-{uuid.uuid4().hex[:8]}"
        made.append(Learner(host, verifier.issue(user), user))
        return made[-1]

    yield make
    for learner in made:
        learner.http.close()


def _roadmap(learner: Learner, lessons: int, prefetch: int) -> list[str]:
    outline = [
        {
            "title": "Faults",
            "lessons": [
                {"title": f"Lesson {n}", "objectives": [f"Objective {n}"]}
                for n in range(1, lessons + 1)
            ],
        }
    ]
    response = learner.create_roadmap(
        goal="Learn resilience", skillLevel="beginner", modules=outline, prefetch=prefetch
    )
    assert response.status_code == 201, response.text
    return [lesson["id"] for lesson in response.json()["modules"][0]["lessons"]]


def _settled(learner: Learner, lesson_id: str, limit: float = 90) -> dict[str, Any]:
    """Poll until completed or failed, riding out 503s while a dependency is down."""
    deadline = time.monotonic() + limit
    while True:
        try:
            response = learner.http.get(f"/api/lessons/{lesson_id}")
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code == 200:
            lesson: dict[str, Any] = response.json()
            if lesson["generationStatus"] in ("completed", "failed"):
                return lesson
        else:
            assert response is None or response.status_code == 503, response.text
        assert time.monotonic() < deadline, f"lesson {lesson_id} never settled"
        time.sleep(0.2)


def _queue(stack: Stack) -> QueueClient:
    return QueueClient.from_connection_string(
        stack.ports.storage_connection,
        LESSON_GENERATION_QUEUE,
        message_encode_policy=TextBase64EncodePolicy(),
    )


def _drained(stack: Stack, limit: float = 60) -> None:
    """Wait until no message is left, visible or not, on the generation queue."""
    deadline = time.monotonic() + limit
    with _queue(stack) as queue:
        while queue.get_queue_properties().approximate_message_count:
            assert time.monotonic() < deadline, "messages left on the queue"
            time.sleep(0.2)


def test_duplicate_messages_write_the_lesson_once(
    stack: Stack,
    llm: FakeLlmServer,
    workers: list[Host],
    learner_on: Callable[..., Learner],
    request: pytest.FixtureRequest,
) -> None:
    llm.default("groq", Reply.hang(0.5, Reply.ok(lesson_json())))  # slow: duplicates overlap
    first = _worker(stack, llm, workers)
    _worker(stack, llm, workers)
    learner = learner_on(first)
    [lesson_id] = _roadmap(learner, lessons=1, prefetch=0)

    started = time.monotonic()
    assert learner.http.post(f"/api/lessons/{lesson_id}/generate").status_code == 202
    body = json.dumps(
        {"lessonId": lesson_id, "userId": learner.user_id, "requestedAt": "2026-11-25T00:00:00Z"}
    )
    with _queue(stack) as queue:
        for _ in range(19):
            queue.send_message(body)

    lesson = _settled(learner, lesson_id)
    _drained(stack)
    _record(request, "19 duplicate messages for one lesson, on 2 workers", lesson, llm, started)
    assert lesson["generationStatus"] == "completed"
    assert lesson["provider"] == "groq"
    assert lesson["deliveries"] == 1
    assert len(llm.requests("groq")) == 1


def test_lesson_of_a_killed_worker_is_finished_by_another(
    stack: Stack,
    llm: FakeLlmServer,
    workers: list[Host],
    learner_on: Callable[..., Learner],
    request: pytest.FixtureRequest,
) -> None:
    llm.script("groq", Reply.hang(120))  # the first worker never gets its answer
    llm.default("groq", Reply.ok(lesson_json()))
    doomed = _worker(stack, llm, workers, GENERATION_LEASE_SECONDS="3")
    learner = learner_on(doomed)
    [lesson_id] = _roadmap(learner, lessons=1, prefetch=1)
    deadline = time.monotonic() + 30
    while llm.queued("groq"):  # until the hanging reply has been taken: the worker is writing
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert learner.http.get(f"/api/lessons/{lesson_id}").json()["generationStatus"] == "generating"

    doomed.process.kill()
    doomed.process.wait()
    killed = time.monotonic()
    survivor = _worker(stack, llm, workers, GENERATION_LEASE_SECONDS="3")
    learner = learner_on(survivor, learner.user_id)

    lesson = _settled(learner, lesson_id)
    fault = "the worker writing a lesson killed (SIGKILL; lease 3 s), another started"
    _record(request, fault, lesson, llm, killed, unanswered=1, since="the kill")
    assert lesson["generationStatus"] == "completed"
    assert lesson["deliveries"] == 2
    assert lesson["requeues"] == 1  # the sweeper's repair: the first message is still held
    assert len(llm.successes("groq")) == 1


def test_always_failing_provider_fails_the_lesson_then_the_learner_retries(
    stack: Stack,
    llm: FakeLlmServer,
    workers: list[Host],
    learner_on: Callable[..., Learner],
    request: pytest.FixtureRequest,
) -> None:
    llm.default("groq", Reply.error(500))
    host = _worker(stack, llm, workers, LLM_BREAKER_REST_SECONDS=str(BREAKER_REST))
    learner = learner_on(host)
    [lesson_id] = _roadmap(learner, lessons=1, prefetch=1)

    failed = _settled(learner, lesson_id)

    assert failed["generationStatus"] == "failed"
    assert failed["generationError"] == GAVE_UP
    assert failed["deliveries"] == 5  # host.json maxDequeueCount, then the poison queue
    assert failed["lastError"] == WILL_RETRY  # what the learner can do; no provider's error text
    assert "diagnosis" not in failed  # the operator's details stay out of the learner's view
    # Three failures in a row open the breaker: later deliveries do not call groq while it
    # rests (without the breaker: two calls per delivery, 10). A probe after a rest adds one.
    assert 3 <= len(llm.requests("groq")) <= 5

    llm.default("groq", Reply.ok(lesson_json()))
    time.sleep(BREAKER_REST)  # the outage is over and the rest with it
    back = time.monotonic()
    retry = learner.http.post(f"/api/lessons/{lesson_id}/generate")
    assert retry.status_code == 202
    assert retry.json()["generationError"] is None
    lesson = _settled(learner, lesson_id)
    fault = "the only provider answering 500 to every call, until the learner retries"
    outcome = f"failed with a reason after {failed['deliveries']} deliveries, then"
    _record(request, fault, lesson, llm, back, since="the provider coming back", did=outcome)
    assert lesson["generationStatus"] == "completed"
    assert lesson["deliveries"] == 1


def test_lessons_in_flight_survive_a_cosmos_restart(
    stack: Stack,
    llm: FakeLlmServer,
    workers: list[Host],
    learner_on: Callable[..., Learner],
    request: pytest.FixtureRequest,
) -> None:
    llm.default("groq", Reply.hang(1.0, Reply.ok(lesson_json())))
    first = _worker(stack, llm, workers, GENERATION_LEASE_SECONDS="5")
    _worker(stack, llm, workers, GENERATION_LEASE_SECONDS="5")
    learner = learner_on(first)
    lesson_ids = _roadmap(learner, lessons=8, prefetch=8)
    deadline = time.monotonic() + 30
    while not llm.requests("groq"):  # some lessons are being written
        assert time.monotonic() < deadline
        time.sleep(0.05)

    down = time.monotonic()
    stack.emulators.restart_cosmos(down_for=2.0)

    settled = [_settled(learner, lesson_id, limit=120) for lesson_id in lesson_ids]
    fault = "Cosmos DB stopped for 2 s and restarted with 8 lessons in flight on 2 workers"
    _record(request, fault, settled, llm, down, since="Cosmos DB going down")
    assert [lesson["generationStatus"] for lesson in settled] == ["completed"] * 8


def test_a_burst_of_300_lessons_is_written_once_each(
    stack: Stack,
    llm: FakeLlmServer,
    workers: list[Host],
    learner_on: Callable[..., Learner],
    request: pytest.FixtureRequest,
) -> None:
    llm.default("groq", Reply.ok(lesson_json()))
    first = _worker(stack, llm, workers)
    _worker(stack, llm, workers)
    learners = [learner_on(first) for _ in range(30)]

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        roadmaps = list(pool.map(lambda one: (one, _roadmap(one, 10, prefetch=10)), learners))
        settled = list(
            pool.map(
                lambda pair: [_settled(pair[0], lesson_id, limit=150) for lesson_id in pair[1]],
                roadmaps,
            )
        )

    lessons = [lesson for group in settled for lesson in group]
    fault = "a burst: 30 learners asking for 10 lessons each at once, on 2 workers"
    _record(request, fault, lessons, llm, started, since="the first request (no fault)")
    assert len(lessons) == 300
    assert {lesson["generationStatus"] for lesson in lessons} == {"completed"}
    assert {lesson["deliveries"] for lesson in lessons} == {1}
    assert len(llm.successes("groq")) == 300  # zero duplicate provider calls
    assert len(llm.requests("groq")) == 300


def _record(
    request: pytest.FixtureRequest,
    fault: str,
    lessons: dict[str, Any] | list[dict[str, Any]],
    llm: FakeLlmServer,
    started: float,
    *,
    since: str = "the request",
    unanswered: int = 0,
    did: str = "",
) -> None:
    """The scenario's figures for docs/reliability.md (``tests/support/reliability.py``)."""
    group = lessons if isinstance(lessons, list) else [lessons]
    statuses = [lesson["generationStatus"] for lesson in group]
    deliveries = sorted({lesson["deliveries"] for lesson in group})
    outcome = (
        f"{did} {statuses.count('completed')} of {len(group)} completed; delivered "
        f"{'/'.join(map(str, deliveries))} time(s), re-queued "
        f"{sum(lesson['requeues'] for lesson in group)} time(s) in all"
    )
    record(
        Figures(
            scenario=str(request.node.nodeid),
            fault=fault,
            outcome=outcome.strip(),
            asked=len(group),
            completed=statuses.count("completed"),
            failed=statuses.count("failed"),
            model_calls=len(llm.requests("groq")) + unanswered,
            recovery_seconds=round(time.monotonic() - started, 1),
            recovered_from=since,
        )
    )
