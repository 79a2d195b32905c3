"""Editing a roadmap in place over HTTP, on the running host: every operation, written lessons
that survive each of them, lost updates that cannot happen, and bad input that changes nothing."""

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Learner

OUTLINE = [
    {
        "title": f"Module {m}",
        "lessons": [
            {"title": f"Lesson {m}.{n}", "objectives": [f"Objective {n}"]} for n in (1, 2, 3)
        ],
    }
    for m in (1, 2)
]
LESSON = {"title": "Window functions", "objectives": ["Rank rows within a group"]}


class Editing:
    """One learner's roadmap and its current ETag, edited the way a client would."""

    def __init__(self, learner: Learner) -> None:
        self.http = learner.http
        self.learner = learner
        body = {"goal": "Learn SQL", "skillLevel": "beginner", "modules": OUTLINE, "prefetch": 0}
        created = self.http.post("/api/roadmaps", json=body)
        assert created.status_code == 201, created.text
        self.id = created.json()["id"]
        self.roadmap, self.etag = self.read()

    def read(self) -> tuple[dict[str, Any], str]:
        response = self.http.get(f"/api/roadmaps/{self.id}")
        assert response.status_code == 200, response.text
        return response.json(), response.headers["ETag"]

    def edit(self, method: str, path: str, body: Any = None, **expected: int) -> httpx.Response:
        """Send one edit with the current ETag; on success keep the roadmap and its new ETag."""
        response = self.http.request(
            method, f"/api/roadmaps/{self.id}{path}", json=body, headers={"If-Match": self.etag}
        )
        assert response.status_code == expected.get("status", response.status_code), response.text
        if response.status_code < 300:
            assert response.headers["ETag"] != self.etag
            self.roadmap, self.etag = response.json(), response.headers["ETag"]
        return response

    def module(self, index: int) -> dict[str, Any]:
        module: dict[str, Any] = self.roadmap["modules"][index]
        return module

    def lesson_ids(self, index: int) -> list[str]:
        return [lesson["id"] for lesson in self.module(index)["lessons"]]


def _written(learner: Learner, lesson_id: str) -> dict[str, Any]:
    """Write the lesson, mark it completed; what its learner sees of it."""
    assert learner.http.post(f"/api/lessons/{lesson_id}/generate").status_code == 202
    learner.wait_for_lesson(lesson_id)
    marked = learner.http.put(f"/api/lessons/{lesson_id}/progress", json={"completed": True})
    assert marked.status_code == 200
    return _seen(learner, lesson_id)


def _seen(learner: Learner, lesson_id: str) -> dict[str, Any]:
    body = learner.http.get(f"/api/lessons/{lesson_id}").json()
    kept = ("generationStatus", "content", "generatedAt", "provider", "completedAt", "viewedAt")
    return {name: body[name] for name in kept}


def test_written_lessons_and_their_marks_survive_every_kind_of_edit(learner: Learner) -> None:
    roadmap = Editing(learner)
    kept = [roadmap.lesson_ids(0)[0], roadmap.lesson_ids(1)[1]]
    before = {lesson_id: _written(learner, lesson_id) for lesson_id in kept}
    roadmap.roadmap, roadmap.etag = roadmap.read()

    edits = [
        ("POST", "/modules", {"title": "Performance", "lessons": [LESSON]}, 201, 7),
        ("POST", "/modules/from-prompt", {"prompt": "a module on window functions"}, 201, 10),
        (
            "POST",
            "/lessons",
            {**LESSON, "moduleId": roadmap.module(0)["id"], "position": 1},
            201,
            11,
        ),
        (
            "POST",
            "/lessons/from-prompt",
            {"moduleId": roadmap.module(1)["id"], "prompt": "CTEs"},
            201,
            12,
        ),
        ("PATCH", f"/modules/{roadmap.module(0)['id']}", {"title": "Joins"}, 200, 12),
        ("PATCH", f"/lessons/{roadmap.lesson_ids(1)[0]}", {"title": "Inner joins"}, 200, 12),
        ("DELETE", f"/lessons/{roadmap.lesson_ids(1)[2]}", None, 200, 11),
    ]
    for method, path, body, status, lessons in edits:
        counts = roadmap.edit(method, path, body, status=status).json()["counts"]
        # Completing a lesson prefetched the next of its module: more may be ready by now.
        assert counts["ready"] >= 2
        assert (counts["lessons"], counts["viewed"], counts["completed"]) == (lessons, 2, 2), path
        assert {lesson_id: _seen(learner, lesson_id) for lesson_id in kept} == before, path

    order = [
        {
            "moduleId": module["id"],
            "lessonIds": [lesson["id"] for lesson in module["lessons"]][::-1],
        }
        for module in roadmap.roadmap["modules"][::-1]
    ]
    reordered = roadmap.edit("PUT", "/order", {"modules": order}, status=200).json()
    assert [m["title"] for m in reordered["modules"]][-1] == "Joins"
    assert [m["order"] for m in reordered["modules"]] == [1, 2, 3, 4]
    performance = next(m for m in reordered["modules"] if m["title"] == "Performance")
    removed = roadmap.edit("DELETE", f"/modules/{performance['id']}", status=200).json()
    assert removed["counts"]["completed"] == 2
    assert {lesson_id: _seen(learner, lesson_id) for lesson_id in kept} == before
    listed = learner.http.get("/api/roadmaps").json()["roadmaps"]
    assert listed[0]["counts"] == removed["counts"]


def test_two_edits_against_the_same_version_never_both_land(learner: Learner) -> None:
    roadmap = Editing(learner)
    module = roadmap.module(0)["id"]
    first = {"title": "Performance", "lessons": [LESSON]}
    second = {"title": "First module, renamed"}

    def send(
        method: str, path: str, body: Any, http: httpx.Client = learner.http
    ) -> httpx.Response:
        headers = {"If-Match": roadmap.etag}
        return http.request(method, f"/api/roadmaps/{roadmap.id}{path}", json=body, headers=headers)

    other_tab = httpx.Client(
        base_url=learner.http.base_url,
        headers={"Authorization": f"Bearer {learner.token}"},
        timeout=10,
    )
    with other_tab, ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(
                send,
                ["POST", "PATCH"],
                ["/modules", f"/modules/{module}"],
                [first, second],
                [learner.http, other_tab],
            )
        )

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses in ([200, 412], [201, 412]), [a.text for a in answers]
    refused = next(answer for answer in answers if answer.status_code == 412)
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    winner = next(answer for answer in answers if answer.status_code < 300)
    now, etag = roadmap.read()
    assert etag == winner.headers["ETag"]
    titles = [m["title"] for m in now["modules"]]
    assert titles in (
        ["Module 1", "Module 2", "Performance"],
        ["First module, renamed", "Module 2"],
    )
    again = send("PATCH", f"/modules/{module}", {"title": "Stale"})
    assert again.status_code == 412
    assert roadmap.read() == (now, etag)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/lessons", {**LESSON, "moduleId": "no-such-module"}, "moduleId"),
        ("PATCH", "/modules/{module}", {"title": ""}, "title"),
        ("POST", "/modules/from-prompt", {"prompt": "x" * 301}, "prompt"),
        ("PUT", "/order", "twice", "modules.0.lessonIds.1"),
        ("PUT", "/order", "omitted", "modules.0.lessonIds"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(
    learner: Learner, method: str, path: str, body: Any, field: str
) -> None:
    roadmap = Editing(learner)
    [one, two] = roadmap.roadmap["modules"]
    first, second = roadmap.lesson_ids(0), roadmap.lesson_ids(1)
    lessons = {"twice": [first[0], first[0], first[1]], "omitted": first[:2]}
    if isinstance(body, str):
        body = {
            "modules": [
                {"moduleId": one["id"], "lessonIds": lessons[body]},
                {"moduleId": two["id"], "lessonIds": second},
            ]
        }
    before = roadmap.read()

    response = roadmap.edit(method, path.format(module=one["id"]), body, status=422)

    assert field in [error["field"] for error in response.json()["errors"]]
    assert roadmap.read() == before


def test_an_edit_without_if_match_is_a_428_and_another_users_roadmap_is_not_found(
    learner: Learner, other_learner: Learner
) -> None:
    roadmap = Editing(learner)
    before = roadmap.read()
    path = f"/api/roadmaps/{roadmap.id}/modules"

    missing = learner.http.post(path, json={"title": "Performance", "lessons": [LESSON]})
    foreign = other_learner.http.post(
        path, json={"title": "Mine now", "lessons": [LESSON]}, headers={"If-Match": roadmap.etag}
    )

    assert missing.status_code == 428
    assert foreign.status_code == 404
    assert roadmap.read() == before


def test_a_lesson_removed_while_it_is_written_stays_gone(learner: Learner) -> None:
    roadmap = Editing(learner)
    doomed = roadmap.lesson_ids(0)[1]
    assert learner.http.post(f"/api/lessons/{doomed}/generate").status_code == 202

    removed = roadmap.edit("DELETE", f"/lessons/{doomed}", status=200).json()

    assert doomed not in [lesson["id"] for lesson in removed["modules"][0]["lessons"]]
    time.sleep(2)  # long enough for the worker to have finished a template lesson
    assert learner.http.get(f"/api/lessons/{doomed}").status_code == 404
    now, _ = roadmap.read()
    assert now["counts"]["lessons"] == 5
    assert doomed not in [lesson["id"] for module in now["modules"] for lesson in module["lessons"]]
