"""A learner's whole journey over HTTP: roadmap → generate → poll → read."""

from domain.content import LessonContent
from tests.e2e.conftest import Learner

ROADMAP = {"goal": "Learn Python for data analysis", "skillLevel": "beginner", "weeklyHours": 5}


def _lessons(roadmap: dict) -> list[dict]:  # type: ignore[type-arg]
    return [lesson for module in roadmap["modules"] for lesson in module["lessons"]]


def test_new_roadmap_is_planned_stored_and_its_first_lesson_prefetched(learner: Learner) -> None:
    response = learner.create_roadmap(**ROADMAP)

    assert response.status_code == 201, response.text
    roadmap = response.json()
    assert response.headers["Location"] == f"/api/roadmaps/{roadmap['id']}"
    assert roadmap["goal"] == ROADMAP["goal"]
    assert roadmap["skillLevel"] == "beginner"
    assert roadmap["plannedBy"] == "offline"
    lessons = _lessons(roadmap)
    assert len(roadmap["modules"]) >= 1
    assert [m["order"] for m in roadmap["modules"]] == list(range(1, len(roadmap["modules"]) + 1))
    assert lessons[0]["generationStatus"] == "queued"
    assert {lesson["generationStatus"] for lesson in lessons[1:]} == {"pending"}
    for lesson in lessons:
        assert lesson["title"]
        assert lesson["objectives"]
        assert lesson["estimatedMinutes"] > 0

    first = learner.wait_for_lesson(lessons[0]["id"])
    assert first["generationStatus"] == "completed"
    again = learner.http.get(response.headers["Location"]).json()
    assert _lessons(again)[0]["generationStatus"] == "completed"


def test_requested_lesson_is_accepted_then_completed_with_valid_content(learner: Learner) -> None:
    roadmap = learner.create_roadmap(**ROADMAP, prefetch=0).json()
    lesson_id = _lessons(roadmap)[1]["id"]

    accepted = learner.http.post(f"/api/lessons/{lesson_id}/generate")

    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["Location"] == f"/api/lessons/{lesson_id}"
    assert int(accepted.headers["Retry-After"]) >= 1
    assert accepted.json()["generationStatus"] in ("queued", "generating", "completed")
    lesson = learner.wait_for_lesson(lesson_id)
    assert lesson["generationStatus"] == "completed"
    assert lesson["generationError"] is None
    assert lesson["progress"] == {"stage": "done", "percent": 100, "sections": [], "sequence": 0}
    assert lesson["provider"] == "offline"
    assert lesson["generatedAt"]
    assert lesson["roadmapId"] == roadmap["id"]
    content = LessonContent.model_validate(lesson["content"])
    assert content.summary.startswith("Offline lesson")
    assert content.sections
    assert content.exercises
    assert content.quiz
    assert content.key_takeaways


def test_pending_lesson_has_no_content_yet(learner: Learner) -> None:
    roadmap = learner.create_roadmap(**ROADMAP, prefetch=0).json()
    lesson = learner.http.get(f"/api/lessons/{_lessons(roadmap)[0]['id']}").json()
    assert lesson["generationStatus"] == "pending"
    assert lesson["content"] is None
    assert lesson["progress"] == {"stage": "waiting", "percent": 0, "sections": [], "sequence": 0}


def test_generating_a_completed_lesson_returns_it(learner: Learner) -> None:
    roadmap = learner.create_roadmap(**ROADMAP).json()
    lesson_id = _lessons(roadmap)[0]["id"]
    completed = learner.wait_for_lesson(lesson_id)

    response = learner.http.post(f"/api/lessons/{lesson_id}/generate")

    assert response.status_code == 200
    assert response.json()["generatedAt"] == completed["generatedAt"]


def test_explicit_outline_is_kept_as_given(learner: Learner) -> None:
    outline = [
        {
            "title": "Ownership",
            "description": "Moves and borrows",
            "lessons": [
                {"title": "Moves", "objectives": ["Explain a move"], "estimatedMinutes": 20},
                {"title": "Borrowing", "objectives": ["Borrow immutably", "Borrow mutably"]},
            ],
        }
    ]
    response = learner.create_roadmap(
        goal="Learn Rust", skillLevel="intermediate", modules=outline, prefetch=0
    )

    assert response.status_code == 201, response.text
    roadmap = response.json()
    assert roadmap["plannedBy"] == "learner"
    assert [m["title"] for m in roadmap["modules"]] == ["Ownership"]
    lessons = _lessons(roadmap)
    assert [(x["title"], x["estimatedMinutes"]) for x in lessons] == [
        ("Moves", 20),
        ("Borrowing", 30),
    ]
    assert lessons[1]["objectives"] == ["Borrow immutably", "Borrow mutably"]


def test_forced_regeneration_keeps_the_old_content_until_the_new_one_lands(
    learner: Learner,
) -> None:
    roadmap = learner.create_roadmap(**ROADMAP).json()
    lesson_id = _lessons(roadmap)[0]["id"]
    before = learner.wait_for_lesson(lesson_id)

    again = learner.http.post(f"/api/lessons/{lesson_id}/generate", json={"force": True})

    assert again.status_code == 202
    queued = again.json()
    assert queued["generationStatus"] in ("queued", "generating", "completed")
    assert queued["content"] == before["content"]  # still readable meanwhile
    after = learner.wait_for_lesson(lesson_id)
    assert after["generationStatus"] == "completed"
    assert after["generatedAt"] > before["generatedAt"]


def test_unknown_field_in_the_generate_body_is_rejected(learner: Learner) -> None:
    roadmap = learner.create_roadmap(**ROADMAP, prefetch=0).json()
    lesson_id = _lessons(roadmap)[0]["id"]

    response = learner.http.post(f"/api/lessons/{lesson_id}/generate", json={"forse": True})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "body", "message": "unknown fields are not allowed here"}
    ]
    assert "forse" not in response.text  # the caller's input is not echoed
    assert learner.http.get(f"/api/lessons/{lesson_id}").json()["generationStatus"] == "pending"
