"""``GET /api/me/stats`` over HTTP on the running host: a learner's own progress, in a zone."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.e2e.conftest import Host, Learner

OUTLINE = [
    {
        "title": "Module one",
        "lessons": [
            {"title": "Lesson 1", "objectives": ["Objective 1"], "estimatedMinutes": 20},
            {"title": "Lesson 2", "objectives": ["Objective 2"], "estimatedMinutes": 25},
        ],
    },
    {"title": "Module two", "lessons": [{"title": "Lesson 3", "objectives": ["Objective 3"]}]},
]


def _roadmap(learner: Learner) -> dict[str, Any]:
    response = learner.create_roadmap(
        goal="Learn Elixir", skillLevel="beginner", weeklyHours=3, modules=OUTLINE, prefetch=0
    )
    assert response.status_code == 201, response.text
    roadmap: dict[str, Any] = response.json()
    return roadmap


def _stats(learner: Learner, tz: str = "Europe/Berlin") -> dict[str, Any]:
    response = learner.http.get("/api/me/stats", params={"tz": tz})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_completing_a_lesson_shows_in_the_learners_stats(
    learner: Learner, other_learner: Learner
) -> None:
    roadmap = _roadmap(learner)
    first, second = roadmap["modules"][0]["lessons"]
    before = _stats(learner)
    for lesson, marks in ((first, {"completed": True}), (second, {"viewed": True})):
        response = learner.http.put(f"/api/lessons/{lesson['id']}/progress", json=marks)
        assert response.status_code == 200, response.text

    stats = _stats(learner)

    assert before["streak"]["current"] == 0
    assert before["nextLesson"]["lessonId"] == first["id"]
    today = datetime.now(ZoneInfo("Europe/Berlin")).date().isoformat()
    assert stats["timeZone"] == "Europe/Berlin"
    assert stats["today"] in (today, before["today"])  # a run across midnight sees either
    assert stats["streak"]["current"] == stats["streak"]["longest"] == 1
    assert stats["streak"]["activeToday"] is True
    assert stats["week"]["minutesCompleted"] == 20
    assert stats["week"]["targetMinutes"] == 180
    assert stats["lessonsCompleted"] == 1
    assert [(r["roadmapId"], r["lessons"], r["completed"]) for r in stats["roadmaps"]] == [
        (roadmap["id"], 3, 1)
    ]
    assert stats["nextLesson"]["lessonId"] == second["id"]
    assert stats["nextLesson"]["title"] == "Lesson 2"
    # Nothing of it reaches another learner.
    theirs = _stats(other_learner)
    assert (theirs["lessonsCompleted"], theirs["roadmaps"], theirs["nextLesson"]) == (0, [], None)


def test_an_unknown_time_zone_is_a_422_naming_tz(learner: Learner) -> None:
    response = learner.http.get("/api/me/stats", params={"tz": "Mars/Olympus_Mons"})

    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["tz"]


def test_stats_need_a_token(host: Host) -> None:
    response = httpx.get(f"{host.base_url}/api/me/stats", timeout=10)

    assert response.status_code == 401


def test_the_stats_operation_is_in_the_openapi_document(host: Host) -> None:
    document = httpx.get(f"{host.base_url}/api/openapi.json", timeout=10).json()

    operation = document["paths"]["/api/me/stats"]["get"]
    assert operation["operationId"] == "get_my_stats"
    assert [p["name"] for p in operation["parameters"]] == ["tz"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/LearnerStats"}
