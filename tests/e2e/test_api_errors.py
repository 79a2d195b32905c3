"""What the API answers to wrong, foreign or unauthenticated requests."""

import asyncio
from datetime import timedelta

import httpx
import pytest

from adapters.auth import TokenVerifier
from adapters.cosmos import LESSONS, ROADMAPS, create_cosmos_client
from tests.conftest import Stack
from tests.e2e.conftest import Host, Learner

PROBLEM = "application/problem+json"


async def _documents_of(stack: Stack, user_id: str) -> int:
    """How many documents the user has in any container."""
    async with create_cosmos_client(stack.settings) as cosmos:
        database = cosmos.get_database_client(stack.settings.cosmos_database)
        total = 0
        for name in (ROADMAPS, LESSONS):
            items = database.get_container_client(name).query_items(
                "SELECT VALUE c.id FROM c WHERE c.userId = @u",
                parameters=[{"name": "@u", "value": user_id}],
                partition_key=user_id,
            )
            total += len([item async for item in items])
        return total


def test_other_users_roadmap_and_lesson_are_not_found(
    learner: Learner, other_learner: Learner
) -> None:
    roadmap = learner.create_roadmap(goal="Learn Kotlin", skillLevel="beginner", prefetch=0).json()
    lesson_id = roadmap["modules"][0]["lessons"][0]["id"]

    for response in (
        other_learner.http.get(f"/api/roadmaps/{roadmap['id']}"),
        other_learner.http.get(f"/api/lessons/{lesson_id}"),
        other_learner.http.post(f"/api/lessons/{lesson_id}/generate"),
    ):
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith(PROBLEM)
        assert response.json()["status"] == 404
    owned = learner.http.get(f"/api/lessons/{lesson_id}").json()
    assert owned["generationStatus"] == "pending"


@pytest.mark.parametrize(
    "body",
    [
        {"skillLevel": "beginner"},
        {"goal": "Learn Go", "skillLevel": "expert"},
        {"goal": "Learn Go", "skillLevel": "beginner", "weeklyHours": 0},
        {"goal": "Learn Go", "skillLevel": "beginner", "prefetch": 99},
        {"goal": "Learn Go", "skillLevel": "beginner", "userId": "someone-else"},
        {"goal": "Learn Go", "skillLevel": "beginner", "modules": [{"title": "No lessons"}]},
    ],
)
def test_invalid_roadmap_is_rejected_naming_the_field_and_writes_nothing(
    learner: Learner, stack: Stack, body: dict[str, object]
) -> None:
    response = learner.create_roadmap(**body)

    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["type"] == "/problems/validation-error"
    assert problem["instance"] == "/api/roadmaps"
    assert problem["errors"]
    for error in problem["errors"]:
        assert error["field"]
        assert error["message"]
    assert asyncio.run(_documents_of(stack, learner.user_id)) == 0


def test_malformed_json_is_a_400_problem(learner: Learner, stack: Stack) -> None:
    response = learner.http.post(
        "/api/roadmaps", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/malformed-json"
    assert asyncio.run(_documents_of(stack, learner.user_id)) == 0


def test_unknown_lesson_is_not_found(learner: Learner) -> None:
    for path in ("/api/lessons/does-not-exist", "/api/lessons/bad%20id!"):
        response = learner.http.get(path)
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith(PROBLEM)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "wrong-secret", "expired"],
)
def test_requests_without_a_valid_token_are_unauthorized(
    host: Host, verifier: TokenVerifier, stack: Stack, authorization: str | None
) -> None:
    if authorization == "wrong-secret":
        forged = TokenVerifier("x" * 48, issuer=stack.env["AUTH_ISSUER"], audience="skillsync-api")
        authorization = f"Bearer {forged.issue('mallory')}"
    elif authorization == "expired":
        authorization = f"Bearer {verifier.issue('alice', lifetime=timedelta(minutes=-5))}"
    headers = {"Authorization": authorization} if authorization else {}

    response = httpx.post(
        f"{host.base_url}/api/roadmaps",
        json={"goal": "Learn Go", "skillLevel": "beginner"},
        headers=headers,
    )

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.headers["Content-Type"].startswith(PROBLEM)


def test_user_id_header_does_not_change_the_caller(
    learner: Learner, other_learner: Learner
) -> None:
    roadmap = learner.create_roadmap(goal="Learn Elixir", skillLevel="beginner", prefetch=0).json()
    response = other_learner.http.get(
        f"/api/roadmaps/{roadmap['id']}", headers={"X-User-Id": learner.user_id}
    )
    assert response.status_code == 404


def test_health_needs_no_token(host: Host) -> None:
    response = httpx.get(f"{host.base_url}/api/health")
    assert response.status_code == 200
    assert response.json() == {
        "cosmos": "ok",
        "queue": "ok",
        "providers": {
            "groq": "missing key",
            "gemini": "missing key",
            "qwen": "missing key",
            "offline": "configured",
        },
    }
