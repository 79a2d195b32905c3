"""The rest of the learner API over HTTP: lists, modules, progress, cancelling, ETags, CORS,
quotas and the OpenAPI document."""

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from adapters.auth import TokenVerifier
from tests.conftest import running_stack
from tests.e2e.conftest import Host, Learner, start_host

ORIGIN = "https://app.skillsync.test"
OUTLINE = [
    {
        "title": "Module one",
        "lessons": [{"title": f"Lesson {n}", "objectives": [f"Objective {n}"]} for n in (1, 2, 3)],
    },
    {"title": "Module two", "lessons": [{"title": "Lesson 4", "objectives": ["Objective 4"]}]},
]


def _roadmap(learner: Learner, **extra: Any) -> dict[str, Any]:
    body = {"goal": "Learn Kotlin", "skillLevel": "beginner", "modules": OUTLINE, "prefetch": 0}
    response = learner.create_roadmap(**{**body, **extra})
    assert response.status_code == 201, response.text
    roadmap: dict[str, Any] = response.json()
    return roadmap


@pytest.fixture(scope="module")
def quiet() -> Iterator[tuple[Host, TokenVerifier]]:
    """A host of its own that writes nothing (no queue listeners) and has small allowances."""
    with running_stack() as stack:
        host = start_host(
            stack,
            args=("--no-queues",),
            QUOTA_LESSONS_PER_HOUR="3",
            QUOTA_ROADMAPS_PER_DAY="2",
            CORS_ALLOWED_ORIGINS=ORIGIN,
        )
        verifier = stack.verifier()
        yield host, verifier
        host.stop()


@pytest.fixture
def patient(quiet: tuple[Host, TokenVerifier]) -> Iterator[Learner]:
    """A learner on the quiet host: requests stay queued, nobody writes them."""
    host, verifier = quiet
    user = f"patient-{uuid.uuid4().hex[:8]}"
    learner = Learner(host, verifier.issue(user), user)
    yield learner
    learner.http.close()


def test_roadmaps_are_listed_newest_first_with_counts(learner: Learner) -> None:
    older = _roadmap(learner, goal="Learn Kotlin first")
    newer = _roadmap(learner, goal="Learn Kotlin next", prefetch=1)
    learner.wait_for_lesson(newer["modules"][0]["lessons"][0]["id"])

    listing = learner.http.get("/api/roadmaps").json()["roadmaps"]

    assert [r["id"] for r in listing] == [newer["id"], older["id"]]
    assert listing[0]["counts"] == {"lessons": 4, "ready": 1, "viewed": 0, "completed": 0}
    assert listing[1]["counts"] == {"lessons": 4, "ready": 0, "viewed": 0, "completed": 0}


def test_module_lessons_come_in_order_and_only_for_their_owner(
    learner: Learner, other_learner: Learner
) -> None:
    module = _roadmap(learner)["modules"][0]

    response = learner.http.get(f"/api/modules/{module['id']}/lessons")

    assert response.status_code == 200
    lessons = response.json()["lessons"]
    assert [lesson["title"] for lesson in lessons] == ["Lesson 1", "Lesson 2", "Lesson 3"]
    assert {lesson["generationStatus"] for lesson in lessons} == {"pending"}
    assert all(lesson["estimatedMinutes"] == 30 for lesson in lessons)
    assert other_learner.http.get(f"/api/modules/{module['id']}/lessons").status_code == 404


def test_generating_a_module_queues_its_pending_lessons_once(patient: Learner) -> None:
    module = _roadmap(patient)["modules"][1]

    first = patient.http.post(f"/api/modules/{module['id']}/generate")
    again = patient.http.post(f"/api/modules/{module['id']}/generate")

    assert first.status_code == 202
    assert first.headers["Retry-After"]
    assert [lesson["generationStatus"] for lesson in first.json()["lessons"]] == ["queued"]
    assert again.status_code == 200
    assert again.json()["lessons"] == []


def test_viewing_marks_progress_and_prefetches_the_next_lesson(patient: Learner) -> None:
    roadmap = _roadmap(patient)
    first, second, third = roadmap["modules"][0]["lessons"]

    viewed = patient.http.put(f"/api/lessons/{first['id']}/progress", json={"viewed": True})
    done = patient.http.put(f"/api/lessons/{second['id']}/progress", json={"completed": True})

    assert viewed.status_code == 200
    assert viewed.json()["viewedAt"]
    assert viewed.json()["prefetchedLessonId"] == second["id"]
    assert done.json()["viewedAt"] == done.json()["completedAt"]
    # Finishing lesson 2 means having opened it: the next one, lesson 3, is prefetched too.
    assert done.json()["prefetchedLessonId"] == third["id"]
    after = patient.http.get(f"/api/roadmaps/{roadmap['id']}").json()
    assert after["counts"] == {"lessons": 4, "ready": 0, "viewed": 2, "completed": 1}
    statuses = [lesson["generationStatus"] for lesson in after["modules"][0]["lessons"]]
    assert statuses == ["pending", "queued", "queued"]
    assert patient.http.put(f"/api/lessons/{first['id']}/progress", json={}).status_code == 422


def test_a_queued_generation_can_be_cancelled(patient: Learner) -> None:
    lesson_id = _roadmap(patient)["modules"][1]["lessons"][0]["id"]
    assert patient.http.post(f"/api/lessons/{lesson_id}/generate").status_code == 202

    cancelled = patient.http.delete(f"/api/lessons/{lesson_id}/generate")

    assert cancelled.status_code == 200
    assert cancelled.json()["generationStatus"] == "pending"
    assert patient.http.delete(f"/api/lessons/{lesson_id}/generate").status_code == 200


def test_a_written_lesson_cannot_be_cancelled(learner: Learner) -> None:
    lesson_id = _roadmap(learner, prefetch=1)["modules"][0]["lessons"][0]["id"]
    learner.wait_for_lesson(lesson_id)

    response = learner.http.delete(f"/api/lessons/{lesson_id}/generate")

    assert response.status_code == 409
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_polling_with_the_etag_is_answered_304_until_something_changes(
    patient: Learner,
) -> None:
    lesson_id = _roadmap(patient)["modules"][0]["lessons"][0]["id"]
    first = patient.http.get(f"/api/lessons/{lesson_id}")
    etag = first.headers["ETag"]

    unchanged = patient.http.get(f"/api/lessons/{lesson_id}", headers={"If-None-Match": etag})
    patient.http.post(f"/api/lessons/{lesson_id}/generate")
    changed = patient.http.get(f"/api/lessons/{lesson_id}", headers={"If-None-Match": etag})

    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["ETag"] == etag
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.json()["generationStatus"] == "queued"


def test_allowances_are_enforced_and_refusals_write_nothing(patient: Learner) -> None:
    first = _roadmap(patient)
    _roadmap(patient)
    third = patient.create_roadmap(goal="Learn Go", skillLevel="beginner")

    assert third.status_code == 429
    assert int(third.headers["Retry-After"]) > 0
    assert third.json()["type"] == "/problems/quota-exceeded"
    assert len(patient.http.get("/api/roadmaps").json()["roadmaps"]) == 2

    module = first["modules"][0]  # three pending lessons, and an allowance of three
    lone = first["modules"][1]["lessons"][0]
    assert patient.http.post(f"/api/lessons/{lone['id']}/generate").status_code == 202
    clipped = patient.http.post(f"/api/modules/{module['id']}/generate")
    assert clipped.status_code == 202  # two of the three: what the allowance has left
    lessons = patient.http.get(f"/api/modules/{module['id']}/lessons").json()["lessons"]
    statuses = [lesson["generationStatus"] for lesson in lessons]
    assert statuses == ["queued", "queued", "pending"]
    none_left = patient.http.post(f"/api/modules/{module['id']}/generate")
    assert none_left.status_code == 429
    after = patient.http.get(f"/api/modules/{module['id']}/lessons").json()["lessons"]
    assert [lesson["generationStatus"] for lesson in after] == statuses


def test_cors_is_granted_only_to_configured_origins(
    quiet: tuple[Host, TokenVerifier], patient: Learner
) -> None:
    host, _ = quiet
    preflight = httpx.options(
        f"{host.base_url}/api/roadmaps",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    foreign = httpx.options(
        f"{host.base_url}/api/roadmaps",
        headers={"Origin": "https://evil.test", "Access-Control-Request-Method": "POST"},
    )
    answer = patient.http.get("/api/roadmaps", headers={"Origin": ORIGIN})

    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    assert preflight.headers["Vary"] == "Origin"
    assert foreign.headers["Vary"] == "Origin"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Origin" not in foreign.headers
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "ETag" in answer.headers["Access-Control-Expose-Headers"]


def test_oversized_bodies_are_refused(learner: Learner) -> None:
    response = learner.http.post(
        "/api/roadmaps",
        content=b'{"goal": "' + b"x" * 70_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_the_openapi_document_describes_every_operation(host: Host) -> None:
    document = httpx.get(f"{host.base_url}/api/openapi.json").json()

    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    operations = {(path, method) for path, item in document["paths"].items() for method in item}
    assert {
        ("/api/roadmaps", "post"),
        ("/api/roadmaps", "get"),
        ("/api/roadmaps/{roadmapId}", "get"),
        ("/api/lessons/{lessonId}", "get"),
        ("/api/lessons/{lessonId}/generate", "post"),
        ("/api/lessons/{lessonId}/generate", "delete"),
        ("/api/lessons/{lessonId}/progress", "put"),
        ("/api/modules/{moduleId}/lessons", "get"),
        ("/api/modules/{moduleId}/generate", "post"),
        ("/api/health", "get"),
        ("/api/openapi.json", "get"),
    } <= operations
    create = document["paths"]["/api/roadmaps"]["post"]
    assert create["security"] == [{"bearer": []}]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CreateRoadmapRequest"
    }
    assert "skillLevel" in document["components"]["schemas"]["CreateRoadmapRequest"]["properties"]
