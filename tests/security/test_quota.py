"""Allowances under attack: simultaneous requests, and the side doors (prefetch at onboarding,
on view, a whole module) that could queue lessons past an allowance that is used up.

The target host has no queue listeners, so every queued lesson stays queued and is counted."""

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Learner
from tests.security.conftest import (
    LESSON_ALLOWANCE,
    ROADMAP_ALLOWANCE,
    Target,
    create_roadmap,
    lesson_ids,
    outline,
    problem_faults,
)

LESSON_REQUESTS = 40
ROADMAP_REQUESTS = 9


def _all_at_once(calls: Sequence[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls on as many threads, released together."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _statuses(learner: Learner, roadmap_id: str) -> Counter[str]:
    response = learner.http.get(f"/api/roadmaps/{roadmap_id}")
    assert response.status_code == 200, response.text
    roadmap = response.json()
    return Counter(
        lesson["generationStatus"] for module in roadmap["modules"] for lesson in module["lessons"]
    )


@dataclass(frozen=True)
class Race:
    learner: Learner
    roadmap: dict[str, Any]
    answers: list[httpx.Response]
    stored: Counter[str]


@pytest.fixture(scope="module")
def race(target: Target) -> Iterator[Race]:
    """40 simultaneous requests for 40 distinct lessons of one learner, with 30 allowed."""
    learner = target.learner("racer")
    roadmap = create_roadmap(learner, 20, 20)
    ids = lesson_ids(roadmap)
    assert len(ids) == LESSON_REQUESTS
    clients = [httpx.Client(base_url=target.url, headers=learner.http.headers) for _ in ids]
    calls = [
        partial(client.post, f"/api/lessons/{lesson_id}/generate")
        for client, lesson_id in zip(clients, ids, strict=True)
    ]
    answers = _all_at_once(calls)
    stored = _statuses(learner, roadmap["id"])
    for client in clients:
        client.close()
    yield Race(learner, roadmap, answers, stored)
    learner.http.close()


def test_simultaneous_requests_queue_exactly_the_allowance(race: Race) -> None:
    statuses = Counter(answer.status_code for answer in race.answers)

    assert statuses == {202: LESSON_ALLOWANCE, 429: LESSON_REQUESTS - LESSON_ALLOWANCE}
    assert race.stored == {
        "queued": LESSON_ALLOWANCE,
        "pending": LESSON_REQUESTS - LESSON_ALLOWANCE,
    }


def test_refused_requests_say_when_to_retry(race: Race) -> None:
    refused = [answer for answer in race.answers if answer.status_code == 429]

    assert refused
    for answer in refused:
        assert int(answer.headers["Retry-After"]) > 0
        assert not problem_faults(answer)
        assert answer.json()["type"] == "/problems/quota-exceeded"


def test_no_side_door_queues_past_a_used_up_allowance(race: Race) -> None:
    http = race.learner.http
    pending = [
        lesson
        for module in race.roadmap["modules"]
        for lesson in http.get(f"/api/modules/{module['id']}/lessons").json()["lessons"]
        if lesson["generationStatus"] == "pending"
    ]
    assert pending

    whole_module = http.post(f"/api/modules/{pending[0]['moduleId']}/generate")
    viewed = http.put(f"/api/lessons/{pending[0]['id']}/progress", json={"viewed": True})
    onboarding = http.post(
        "/api/roadmaps",
        json={
            "goal": "Learn to bypass quotas",
            "skillLevel": "beginner",
            "modules": outline(10),
            "prefetch": 10,
        },
    )

    assert whole_module.status_code == 429, whole_module.text
    assert viewed.status_code == 200, viewed.text
    assert viewed.json()["prefetchedLessonId"] is None
    assert onboarding.status_code == 201, onboarding.text
    assert _statuses(race.learner, onboarding.json()["id"]) == {"pending": 10}
    assert _statuses(race.learner, race.roadmap["id"]) == race.stored


def test_simultaneous_onboardings_create_exactly_the_daily_allowance(target: Target) -> None:
    learner = target.learner("onboarder")
    body = {"goal": "Learn to race", "skillLevel": "beginner", "modules": outline(1), "prefetch": 0}
    clients = [
        httpx.Client(base_url=target.url, headers=learner.http.headers)
        for _ in range(ROADMAP_REQUESTS)
    ]
    try:
        answers = _all_at_once(
            [partial(client.post, "/api/roadmaps", json=body) for client in clients]
        )
        listed = learner.http.get("/api/roadmaps").json()["roadmaps"]
    finally:
        for client in [*clients, learner.http]:
            client.close()

    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {201: ROADMAP_ALLOWANCE, 429: ROADMAP_REQUESTS - ROADMAP_ALLOWANCE}
    assert len(listed) == ROADMAP_ALLOWANCE
