"""GET /api/roadmaps is paged: bounded pages, a cursor to the next, and cursors that only work
for the learner they were given to."""

from typing import Any

import pytest

from tests.e2e.conftest import Learner

OUTLINE = [{"title": "Basics", "lessons": [{"title": "Hello", "objectives": ["Say hello"]}]}]


def _create(learner: Learner, goal: str) -> None:
    body = {"goal": goal, "skillLevel": "beginner", "modules": OUTLINE, "prefetch": 0}
    assert learner.create_roadmap(**body).status_code == 201


def _page(learner: Learner, **params: Any) -> dict[str, Any]:
    response = learner.http.get("/api/roadmaps", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def test_roadmaps_come_in_pages_linked_by_a_cursor(learner: Learner) -> None:
    for goal in ("Learn Go", "Learn Rust", "Learn Zig"):
        _create(learner, goal)

    first = _page(learner, limit=2)
    second = _page(learner, limit=2, cursor=first["nextCursor"])

    assert [r["goal"] for r in first["roadmaps"]] == ["Learn Zig", "Learn Rust"]
    assert [r["goal"] for r in second["roadmaps"]] == ["Learn Go"]
    assert second["nextCursor"] is None
    assert _page(learner)["nextCursor"] is None  # the default page holds all three


def test_a_cursor_from_another_learner_is_refused(learner: Learner, other_learner: Learner):
    for goal in ("Learn Go", "Learn Rust"):
        _create(learner, goal)
    cursor = _page(learner, limit=1)["nextCursor"]

    response = other_learner.http.get("/api/roadmaps", params={"cursor": cursor})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]


@pytest.mark.parametrize(
    "params",
    [{"limit": "0"}, {"limit": "101"}, {"limit": "many"}, {"cursor": "not-a-cursor"}],
    ids=["zero", "over-the-maximum", "not-a-number", "garbage-cursor"],
)
def test_bad_paging_parameters_are_named(learner: Learner, params: dict[str, str]) -> None:
    response = learner.http.get("/api/roadmaps", params=params)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == list(params)
