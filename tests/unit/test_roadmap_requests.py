"""The body of POST /api/roadmaps, and the roadmap and lesson skeletons built from it."""

from typing import Any

import pytest
from pydantic import ValidationError

from domain.lesson import GenerationStatus
from domain.roadmap import (
    CreateRoadmapRequest,
    RoadmapOutline,
    SkillLevel,
    build_roadmap,
)


def _lesson(title: str) -> dict[str, Any]:
    return {"title": title, "objectives": [f"Understand {title}"]}


def _modules(*sizes: int) -> list[dict[str, Any]]:
    return [
        {"title": f"Module {m}", "lessons": [_lesson(f"Lesson {m}.{n}") for n in range(size)]}
        for m, size in enumerate(sizes)
    ]


def _body(**overrides: Any) -> dict[str, Any]:
    return {"goal": "Learn Rust", "skillLevel": "beginner", **overrides}


def _error_locs(body: dict[str, Any]) -> list[tuple[int | str, ...]]:
    with pytest.raises(ValidationError) as raised:
        CreateRoadmapRequest.model_validate(body)
    return [error["loc"] for error in raised.value.errors()]


def test_camel_case_body_is_accepted():
    request = CreateRoadmapRequest.model_validate(
        _body(weeklyHours=6, prefetch=3, modules=_modules(1))
    )

    assert request.goal == "Learn Rust"
    assert request.skill_level is SkillLevel.BEGINNER
    assert request.weekly_hours == 6
    assert request.prefetch == 3
    assert request.modules is not None
    assert request.modules[0].lessons[0].estimated_minutes == 30


def test_defaults_prefetch_one_lesson_and_plan_the_outline():
    request = CreateRoadmapRequest.model_validate(_body())

    assert request.prefetch == 1
    assert request.weekly_hours is None
    assert request.modules is None


def test_unknown_field_is_rejected():
    assert _error_locs(_body(difficulty="hard")) == [("difficulty",)]


def test_unknown_field_in_a_lesson_plan_is_rejected():
    modules = _modules(1)
    modules[0]["lessons"][0]["videoUrl"] = "https://example.com"

    assert _error_locs(_body(modules=modules)) == [("modules", 0, "lessons", 0, "videoUrl")]


def test_unknown_skill_level_is_rejected():
    assert _error_locs(_body(skillLevel="expert")) == [("skillLevel",)]


@pytest.mark.parametrize("goal", ["ab", "   ab   ", "x" * 501])
def test_goal_outside_3_to_500_characters_is_rejected(goal: str):
    assert _error_locs(_body(goal=goal)) == [("goal",)]


@pytest.mark.parametrize("goal", ["abc", "x" * 500])
def test_goal_at_the_bounds_is_accepted(goal: str):
    assert CreateRoadmapRequest.model_validate(_body(goal=goal)).goal == goal


def test_goal_is_stripped():
    assert CreateRoadmapRequest.model_validate(_body(goal="  Learn Go  ")).goal == "Learn Go"


@pytest.mark.parametrize("hours", [0, -1, 81])
def test_weekly_hours_outside_1_to_80_is_rejected(hours: int):
    assert _error_locs(_body(weeklyHours=hours)) == [("weeklyHours",)]


@pytest.mark.parametrize("hours", [1, 80])
def test_weekly_hours_at_the_bounds_is_accepted(hours: int):
    assert CreateRoadmapRequest.model_validate(_body(weeklyHours=hours)).weekly_hours == hours


@pytest.mark.parametrize("prefetch", [-1, 11])
def test_prefetch_outside_0_to_10_is_rejected(prefetch: int):
    assert _error_locs(_body(prefetch=prefetch)) == [("prefetch",)]


@pytest.mark.parametrize("prefetch", [0, 10])
def test_prefetch_at_the_bounds_is_accepted(prefetch: int):
    assert CreateRoadmapRequest.model_validate(_body(prefetch=prefetch)).prefetch == prefetch


def test_explicit_outline_of_more_than_100_lessons_is_rejected():
    with pytest.raises(ValidationError, match="at most 100 lessons, not 101"):
        CreateRoadmapRequest.model_validate(_body(modules=_modules(20, 20, 20, 20, 20, 1)))


def test_explicit_outline_of_exactly_100_lessons_is_accepted():
    request = CreateRoadmapRequest.model_validate(_body(modules=_modules(20, 20, 20, 20, 20)))

    assert request.modules is not None
    assert sum(len(module.lessons) for module in request.modules) == 100


def test_module_of_more_than_20_lessons_is_rejected():
    assert _error_locs(_body(modules=_modules(21))) == [("modules", 0, "lessons")]


def test_empty_module_list_is_rejected():
    assert _error_locs(_body(modules=[])) == [("modules",)]


def test_lesson_plan_needs_an_objective():
    modules = _modules(1)
    modules[0]["lessons"][0]["objectives"] = []

    assert _error_locs(_body(modules=modules)) == [("modules", 0, "lessons", 0, "objectives")]


def _built() -> tuple[CreateRoadmapRequest, RoadmapOutline]:
    request = CreateRoadmapRequest.model_validate(
        _body(goal="Learn Rust", skillLevel="intermediate", weeklyHours=4, modules=_modules(2, 3))
    )
    assert request.modules is not None
    return request, RoadmapOutline(modules=request.modules)


def test_build_roadmap_keeps_module_and_lesson_order():
    request, outline = _built()

    roadmap, lessons = build_roadmap("user-1", request, outline, "learner")

    assert [module.title for module in roadmap.modules] == ["Module 0", "Module 1"]
    assert [module.order for module in roadmap.modules] == [1, 2]
    assert [lesson.title for lesson in lessons] == [
        "Lesson 0.0",
        "Lesson 0.1",
        "Lesson 1.0",
        "Lesson 1.1",
        "Lesson 1.2",
    ]
    assert [lesson.order for lesson in lessons] == [1, 2, 1, 2, 3]
    assert [module.lesson_ids for module in roadmap.modules] == [
        [lessons[0].id, lessons[1].id],
        [lessons[2].id, lessons[3].id, lessons[4].id],
    ]


def test_build_roadmap_gives_every_lesson_pending_and_the_roadmaps_goal():
    request, outline = _built()

    roadmap, lessons = build_roadmap("user-1", request, outline, "learner")

    assert {lesson.status for lesson in lessons} == {GenerationStatus.PENDING}
    assert {lesson.goal for lesson in lessons} == {"Learn Rust"}
    assert {lesson.skill_level for lesson in lessons} == {"intermediate"}
    assert {lesson.user_id for lesson in lessons} == {"user-1"}
    assert {lesson.roadmap_id for lesson in lessons} == {roadmap.id}
    assert [lesson.module_id for lesson in lessons] == [roadmap.modules[0].id] * 2 + [
        roadmap.modules[1].id
    ] * 3
    assert [lesson.module_title for lesson in lessons] == ["Module 0"] * 2 + ["Module 1"] * 3
    assert roadmap.goal == "Learn Rust"
    assert roadmap.skill_level is SkillLevel.INTERMEDIATE
    assert roadmap.weekly_hours == 4
    assert roadmap.planned_by == "learner"


def test_build_roadmap_gives_fresh_ids():
    request, outline = _built()

    roadmap, lessons = build_roadmap("user-1", request, outline, "learner")
    again, lessons_again = build_roadmap("user-1", request, outline, "learner")

    ids = [lesson.id for lesson in lessons] + [module.id for module in roadmap.modules]
    assert len(set(ids)) == len(ids)
    assert again.id != roadmap.id
    assert not {lesson.id for lesson in lessons} & {lesson.id for lesson in lessons_again}
