"""Allowances visible over HTTP on a running host: every answer that spends one carries
``RateLimit-Policy`` and ``RateLimit`` (draft-ietf-httpapi-ratelimit-headers), counting down
request by request, the ``429`` says none is left (with ``Retry-After``), and
``GET /api/me/allowances`` reports the same."""

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from adapters.auth import TokenVerifier
from tests.conftest import Stack
from tests.e2e.conftest import Host, Learner, start_host

ORIGIN = "https://app.skillsync.test"
POLICY = '"lessons";q=3;w=3600, "roadmaps";q=2;w=86400'
OUTLINE = [
    {
        "title": "Module one",
        "lessons": [{"title": f"Lesson {n}", "objectives": [f"Objective {n}"]} for n in (1, 2, 3)],
    },
    {"title": "Module two", "lessons": [{"title": "Lesson 4", "objectives": ["Objective 4"]}]},
]


@pytest.fixture(scope="module")
def metered_host(stack: Stack) -> Iterator[Host]:
    """A host of its own with small allowances (3 lessons an hour, 2 roadmaps a day)."""
    host = start_host(
        stack,
        QUOTA_LESSONS_PER_HOUR="3",
        QUOTA_ROADMAPS_PER_DAY="2",
        CORS_ALLOWED_ORIGINS=ORIGIN,
    )
    yield host
    host.stop()


@pytest.fixture
def spender(metered_host: Host, verifier: TokenVerifier) -> Iterator[Learner]:
    """A new learner on the metered host, not within seconds of a window's end (the hour's
    end is also the day's: a count that restarted mid-test would read as a wrong count)."""
    into_hour = datetime.now(UTC).timestamp() % 3_600
    if into_hour > 3_600 - 30:
        time.sleep(3_600 - into_hour + 1)
    user = f"spender-{uuid.uuid4().hex[:8]}"
    learner = Learner(metered_host, verifier.issue(user), user)
    yield learner
    learner.http.close()


def _left(response: httpx.Response) -> dict[str, tuple[int, int]]:
    """Policy → (r, t) from the answer's RateLimit field."""
    found = {}
    for item in response.headers["RateLimit"].split(","):
        name, *parameters = item.strip().split(";")
        values = dict(parameter.split("=") for parameter in parameters)
        found[json.loads(name)] = (int(values["r"]), int(values["t"]))
    return found


def _remaining(response: httpx.Response) -> dict[str, int]:
    return {name: r for name, (r, _) in _left(response).items()}


def test_lesson_requests_count_down_to_a_refusal_that_says_none_is_left(spender: Learner) -> None:
    created = spender.create_roadmap(
        goal="Learn Kotlin", skillLevel="beginner", modules=OUTLINE, prefetch=0
    )
    lessons = [lesson for module in created.json()["modules"] for lesson in module["lessons"]]

    answers = [spender.http.post(f"/api/lessons/{lesson['id']}/generate") for lesson in lessons]

    assert created.status_code == 201
    assert created.headers["RateLimit-Policy"] == POLICY
    assert _remaining(created) == {"lessons": 3, "roadmaps": 1}
    assert [answer.status_code for answer in answers] == [202, 202, 202, 429]
    assert all(answer.headers["RateLimit-Policy"] == POLICY for answer in answers)
    assert [_remaining(answer)["lessons"] for answer in answers] == [2, 1, 0, 0]
    refused = answers[-1]
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    _, reset = _left(refused)["lessons"]
    assert 0 < reset <= int(refused.headers["Retry-After"]) <= 3_600
    # The lessons asked for are really written; what was spent stays spent.
    assert spender.wait_for_lesson(lessons[0]["id"])["generationStatus"] == "completed"
    assert _remaining(spender.http.get("/api/me/allowances"))["lessons"] == 0


def test_roadmap_creation_counts_down_both_allowances_to_a_refusal(spender: Learner) -> None:
    body = {"goal": "Learn Go", "skillLevel": "beginner", "modules": OUTLINE}

    answers = [spender.create_roadmap(**body) for _ in range(3)]  # each prefetches one lesson

    assert [answer.status_code for answer in answers] == [201, 201, 429]
    assert _remaining(answers[0]) == {"lessons": 2, "roadmaps": 1}
    assert _remaining(answers[1]) == {"lessons": 1, "roadmaps": 0}
    refused = answers[2]
    assert refused.headers["RateLimit-Policy"] == POLICY
    assert _remaining(refused) == {"lessons": 1, "roadmaps": 0}
    _, reset = _left(refused)["roadmaps"]
    assert 0 < reset <= int(refused.headers["Retry-After"]) <= 86_400
    assert len(spender.http.get("/api/roadmaps").json()["roadmaps"]) == 2


def test_my_allowances_report_the_same_as_the_fields_and_spend_nothing(
    spender: Learner,
) -> None:
    spender.create_roadmap(goal="Learn Go", skillLevel="beginner", modules=OUTLINE, prefetch=2)

    first = spender.http.get("/api/me/allowances")
    again = spender.http.get("/api/me/allowances")

    assert first.status_code == 200
    allowances = {a["kind"]: a for a in first.json()["allowances"]}
    assert list(allowances) == ["lessons", "roadmaps"]
    lessons, roadmaps = allowances["lessons"], allowances["roadmaps"]
    assert (lessons["limit"], lessons["remaining"], lessons["windowSeconds"]) == (3, 1, 3_600)
    assert (roadmaps["limit"], roadmaps["remaining"], roadmaps["windowSeconds"]) == (2, 1, 86_400)
    resets_at = datetime.fromisoformat(lessons["resetsAt"])
    assert resets_at.timestamp() % 3_600 == 0  # windows end on the hour
    assert 0 < (resets_at - datetime.now(UTC)).total_seconds() <= 3_600
    assert first.headers["RateLimit-Policy"] == POLICY
    assert _left(first)["lessons"] == (1, lessons["resetsInSeconds"])
    assert again.json()["allowances"][0]["remaining"] == 1


def test_a_browser_on_an_allowed_origin_may_read_the_fields(
    metered_host: Host, spender: Learner
) -> None:
    preflight = httpx.options(
        f"{metered_host.base_url}/api/me/allowances",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    answer = spender.http.get("/api/me/allowances", headers={"Origin": ORIGIN})

    assert preflight.status_code == 204
    exposed = {h.strip() for h in answer.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"RateLimit-Policy", "RateLimit"} <= exposed
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
