"""Rewriting a written lesson the learner's way, over HTTP on the running host."""

from typing import Any

from tests.e2e.conftest import Learner

GOAL = {"goal": "Learn SQL for reporting", "skillLevel": "beginner", "prefetch": 1}


def _first_lesson(learner: Learner) -> dict[str, Any]:
    created = learner.create_roadmap(**GOAL)
    assert created.status_code == 201, created.text
    lesson_id = created.json()["modules"][0]["lessons"][0]["id"]
    return learner.wait_for_lesson(lesson_id)


def test_a_written_lesson_is_rewritten_with_the_learners_instructions(learner: Learner) -> None:
    written = _first_lesson(learner)
    assert written["generationStatus"] == "completed"

    asked = learner.http.post(
        f"/api/lessons/{written['id']}/generate",
        json={"force": True, "instructions": "More examples, and use PostgreSQL"},
    )

    assert asked.status_code == 202
    assert asked.json()["content"] == written["content"]  # readable until the new one lands
    rewritten = learner.wait_for_lesson(written["id"])
    assert rewritten["generationStatus"] == "completed"
    assert rewritten["instructions"] == "More examples, and use PostgreSQL"
    assert rewritten["generatedAt"] > written["generatedAt"]


def test_instructions_without_force_on_a_written_lesson_are_refused(learner: Learner) -> None:
    written = _first_lesson(learner)

    refused = learner.http.post(
        f"/api/lessons/{written['id']}/generate", json={"instructions": "Simpler"}
    )

    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == ["instructions"]
    assert (
        learner.http.get(f"/api/lessons/{written['id']}").json()["generatedAt"]
        == written["generatedAt"]
    )
