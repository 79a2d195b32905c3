"""Roadmap edits over the HTTP functions, on fakes: If-Match, answers, and bad input that gets
a 422 naming the field and changes nothing."""

import json
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import pytest

from domain.ports import Allowance
from functions.allowances import RATE_LIMIT_FIELDS
from functions.api import document
from tests.unit.fakes import USER
from tests.unit.http_fakes import Served, http_functions

OUTLINE = [
    {
        "title": f"Module {m}",
        "lessons": [{"title": f"Lesson {m}.{n}", "objectives": ["Objective"]} for n in (1, 2)],
    }
    for m in (1, 2)
]
LESSON = {"title": "Window functions", "objectives": ["Rank rows within a group"]}


@pytest.fixture
def served() -> Iterator[Served]:
    with Served() as running:
        yield running


def _body(response: func.HttpResponse) -> Any:
    return json.loads(response.get_body())


async def _roadmap(served: Served) -> tuple[dict[str, Any], str]:
    """A roadmap planned by hand, as GET answers it, and its ETag."""
    body = {"goal": "Learn SQL", "skillLevel": "beginner", "modules": OUTLINE, "prefetch": 0}
    created = _body(await served.call("create_roadmap", body))
    read = await served.call("get_roadmap", roadmapId=created["id"])
    assert read.status_code == 200
    return _body(read), read.headers["ETag"]


def _stored(served: Served) -> Any:
    """Everything the edits could have written: roadmaps and lessons as stored."""
    return (
        [roadmap.model_dump() for roadmap in served.roadmap_store.all()],
        [lesson.model_dump() for lesson in served.lessons.all()],
    )


def _documented(name: str, status: int) -> set[str]:
    http_functions()
    for item in document()["paths"].values():
        for operation in item.values():
            if operation["operationId"] == name:
                return set(operation["responses"][str(status)].get("headers", {}))
    raise AssertionError(name)


async def test_an_edit_with_the_roadmaps_etag_answers_the_new_roadmap_and_etag(served: Served):
    roadmap, etag = await _roadmap(served)

    response = await served.call(
        "add_module",
        {"title": "Performance", "lessons": [LESSON]},
        headers={"If-Match": etag},
        roadmapId=roadmap["id"],
    )

    assert response.status_code == 201, response.get_body()
    body = _body(response)
    assert [m["title"] for m in body["modules"]] == ["Module 1", "Module 2", "Performance"]
    assert body["counts"]["lessons"] == 5
    assert response.headers["Location"] == f"/api/modules/{body['modules'][2]['id']}/lessons"
    assert response.headers["ETag"] != etag
    again = await served.call("get_roadmap", roadmapId=roadmap["id"])
    assert again.headers["ETag"] == response.headers["ETag"]
    assert _documented("add_module", 201) <= set(response.headers.keys())


async def test_a_stale_if_match_is_a_412_and_a_missing_one_a_428_and_neither_writes(
    served: Served,
):
    roadmap, etag = await _roadmap(served)
    module = roadmap["modules"][0]["id"]
    first = await served.call(
        "rename_module",
        {"title": "Joins"},
        headers={"If-Match": etag},
        roadmapId=roadmap["id"],
        moduleId=module,
    )
    assert first.status_code == 200
    before = _stored(served)

    stale = await served.call(
        "remove_module", headers={"If-Match": etag}, roadmapId=roadmap["id"], moduleId=module
    )
    missing = await served.call("remove_module", roadmapId=roadmap["id"], moduleId=module)
    weak = await served.call(
        "remove_module",
        headers={"If-Match": f"W/{first.headers['ETag']}"},
        roadmapId=roadmap["id"],
        moduleId=module,
    )

    assert [stale.status_code, missing.status_code, weak.status_code] == [412, 428, 412]
    for refused in (stale, missing, weak):
        assert refused.mimetype == "application/problem+json"
        assert _body(refused)["status"] == refused.status_code
    assert _stored(served) == before


async def _edit(served: Served, name: str, body: Any, **route: str) -> func.HttpResponse:
    roadmap, etag = await _roadmap(served)
    ids = {
        "roadmapId": roadmap["id"],
        "moduleId": roadmap["modules"][0]["id"],
        "lessonId": roadmap["modules"][0]["lessons"][0]["id"],
    }
    path = {name: ids[name] for name in route} | {"roadmapId": roadmap["id"]}  # the ids named
    before = _stored(served)
    response = await served.call(name, body, headers={"If-Match": etag}, **path)
    if response.status_code >= 400:
        assert _stored(served) == before, "a refused edit wrote something"
    return response


BAD_INPUT = {
    "unknown-module": (
        "add_lesson",
        {**LESSON, "moduleId": "no-such-module"},
        "moduleId",
    ),
    "empty-module-title": ("rename_module", {"title": "  "}, "title"),
    "empty-lesson-title": ("add_lesson", {**LESSON, "title": "", "moduleId": "m-1"}, "title"),
    "prompt-over-its-limit": ("plan_module", {"prompt": "window functions " * 20}, "prompt"),
    "position-past-the-end": (
        "add_module",
        {"title": "Later", "lessons": [LESSON], "position": 4},  # of 2 modules: 3 at most
        "position",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT)
async def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(served: Served, case: str):
    name, body, field = BAD_INPUT[case]
    route = {"moduleId": "its own"} if name == "rename_module" else {}

    response = await _edit(served, name, body, **route)

    assert response.status_code == 422, response.get_body()
    fields = [error["field"] for error in _body(response)["errors"]]
    assert field in fields
    assert served.quota.spent(USER, Allowance.ROADMAPS) == 1  # the roadmap itself, no plan


@pytest.mark.parametrize(
    ("order", "field"),
    [
        ("twice", "modules.0.lessonIds.1"),
        ("omitted", "modules.0.lessonIds"),
        ("other-module", "modules.0.lessonIds.1"),
        ("unknown-module", "modules.1.moduleId"),
        ("a-module-left-out", "modules"),
    ],
)
async def test_a_reorder_that_names_a_lesson_twice_or_leaves_one_out_is_a_422(
    served: Served, order: str, field: str
):
    roadmap, etag = await _roadmap(served)
    [one, two] = roadmap["modules"]
    first = [lesson["id"] for lesson in one["lessons"]]
    second = [lesson["id"] for lesson in two["lessons"]]
    lessons = {
        "twice": [first[0], first[0]],
        "omitted": first[:1],
        "other-module": [first[0], second[0]],
    }.get(order, first)
    modules = [{"moduleId": one["id"], "lessonIds": lessons}]
    if order != "a-module-left-out":
        other = "no-such-module" if order == "unknown-module" else two["id"]
        modules.append({"moduleId": other, "lessonIds": second})
    before = _stored(served)

    response = await served.call(
        "reorder_roadmap", {"modules": modules}, headers={"If-Match": etag}, roadmapId=roadmap["id"]
    )

    assert response.status_code == 422, response.get_body()
    assert field in [error["field"] for error in _body(response)["errors"]]
    assert _stored(served) == before


async def test_a_module_planned_by_prompt_says_what_is_left_of_the_allowances(served: Served):
    roadmap, etag = await _roadmap(served)

    response = await served.call(
        "plan_module",
        {"prompt": "a module on window functions"},
        headers={"If-Match": etag},
        roadmapId=roadmap["id"],
    )

    assert response.status_code == 201, response.get_body()
    assert set(RATE_LIMIT_FIELDS) <= set(response.headers.keys())
    assert _documented("plan_module", 201) <= set(response.headers.keys())
    assert served.quota.spent(USER, Allowance.ROADMAPS) == 2


async def test_the_last_lesson_of_a_module_cannot_be_removed(served: Served):
    roadmap, etag = await _roadmap(served)
    [first, second] = roadmap["modules"][0]["lessons"]
    removed = await served.call(
        "remove_lesson", headers={"If-Match": etag}, roadmapId=roadmap["id"], lessonId=first["id"]
    )
    assert removed.status_code == 200
    before = _stored(served)

    refused = await served.call(
        "remove_lesson",
        headers={"If-Match": removed.headers["ETag"]},
        roadmapId=roadmap["id"],
        lessonId=second["id"],
    )

    assert refused.status_code == 409
    assert _stored(served) == before
