"""RoadmapEditor on fakes: each edit, what it leaves alone, and its refusals."""

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest

from domain.edit_requests import (
    AddLessonRequest,
    AddModuleRequest,
    ModuleOrder,
    PlanLessonRequest,
    PlanModuleRequest,
    RenameRequest,
    ReorderRequest,
)
from domain.errors import EditRefused, NotFound, PreconditionFailed, QuotaExceeded
from domain.lesson import GenerationStatus
from domain.ports import Allowance, ModuleBrief, TaskKind
from domain.roadmap import LessonPlan
from domain.roadmap_writes import Edited
from domain.views import roadmap_list
from tests.unit.edit_fakes import CONTENT, EditWorld, GatedProvider, flat
from tests.unit.fakes import USER, FakeProvider

S = GenerationStatus
LESSON = LessonPlan(title="Window functions", objectives=["Rank rows within a group"])
MODULE = AddModuleRequest(title="Performance", lessons=[LESSON, LESSON])


async def test_a_module_added_by_hand_brings_pending_lessons_where_asked():
    world = EditWorld()
    await world.plan()
    request = MODULE.model_copy(update={"position": 1})

    edited = await world.editor.add_module(await world.target(), request)

    titles = [(order, title) for order, title, _ in flat(edited.view)]
    assert titles == [(1, "Performance"), (2, "Module 1"), (3, "Module 2")]
    added = edited.view.modules[0].lessons
    assert [lesson.generation_status for lesson in added] == [S.PENDING, S.PENDING]
    assert edited.created == f"/api/modules/{edited.view.modules[0].id}/lessons"
    assert edited.view.counts.lessons == 8
    assert (await world.stored()).modules[0].order == 1
    assert world.quota.spent(USER, Allowance.ROADMAPS) == 0  # by hand: free


async def test_a_module_asked_for_by_prompt_is_planned_for_this_roadmap_and_spends_a_roadmap():
    provider = FakeProvider("groq")
    world = EditWorld(provider)
    await world.plan()

    request = PlanModuleRequest(prompt="a module on window functions")
    edited = await world.editor.plan_module(await world.target(), request)

    [task] = provider.tasks
    assert task.kind is TaskKind.MODULE
    assert isinstance(task.brief, ModuleBrief)
    assert (task.brief.goal, task.brief.skill_level) == ("Learn SQL for analytics", "intermediate")
    assert task.brief.covered == ("Module 1", "Module 2")
    assert task.brief.request == "a module on window functions"
    last = edited.view.modules[-1]
    assert last.title == "Window functions"  # the offline template's answer, via the fake
    assert len(last.lessons) == 3
    assert {lesson.generation_status for lesson in last.lessons} == {S.PENDING}
    assert world.quota.spent(USER, Allowance.ROADMAPS) == 1


async def test_a_lesson_asked_for_by_prompt_is_planned_for_its_module():
    provider = FakeProvider("groq")
    world = EditWorld(provider)
    await world.plan()
    module = (await world.stored()).modules[1]

    request = PlanLessonRequest(module_id=module.id, prompt="a lesson on CTEs", position=2)
    edited = await world.editor.plan_lesson(await world.target(), request)

    [task] = provider.tasks
    assert task.kind is TaskKind.LESSON_PLAN
    assert isinstance(task.brief, ModuleBrief)
    assert task.brief.module_title == "Module 2"
    assert task.brief.covered == ("Lesson 2.1", "Lesson 2.2", "Lesson 2.3")
    titles = [title for _, title in flat(edited.view)[1][2]]
    assert titles == ["Lesson 2.1", "CTEs", "Lesson 2.2", "Lesson 2.3"]
    assert edited.created == f"/api/lessons/{edited.view.modules[1].lessons[1].id}"


async def test_a_lesson_added_by_hand_joins_its_module_pending():
    world = EditWorld()
    await world.plan()
    module = (await world.stored()).modules[0]

    request = AddLessonRequest(**LESSON.model_dump(), module_id=module.id)
    edited = await world.editor.add_lesson(await world.target(), request)

    lessons = edited.view.modules[0].lessons
    assert [(lesson.order, lesson.title) for lesson in lessons][-1] == (4, "Window functions")
    stored = world.lessons.stored(USER, lessons[-1].id)
    assert (stored.status, stored.module_title, stored.goal) == (
        S.PENDING,
        "Module 1",
        "Learn SQL for analytics",
    )


@pytest.mark.parametrize(
    ("provider", "spent"), [("offline", 0), ("groq", 1)], ids=["free-plan", "paid-plan"]
)
async def test_an_edit_made_while_a_module_is_planned_wins_and_the_plan_is_not_stored(
    provider: str, spent: int
):
    gated = GatedProvider(provider, needs_network=provider != "offline")
    world = EditWorld(gated)
    await world.plan()
    same_version = await world.target()
    planning = asyncio.create_task(
        world.editor.plan_module(same_version, PlanModuleRequest(prompt="window functions"))
    )
    await gated.asked.wait()

    renamed = await world.editor.rename_module(
        same_version, (await world.stored()).modules[0].id, RenameRequest(title="First")
    )
    gated.gate.set()

    with pytest.raises(PreconditionFailed):
        await planning
    assert [title for _, title, _ in flat(renamed.view)] == ["First", "Module 2"]
    assert [m.title for m in (await world.stored()).modules] == ["First", "Module 2"]
    assert len(world.lessons.all()) == 6  # the planned module's lessons were taken back
    # The roadmap comes back unless a provider was paid for the plan.
    assert world.quota.spent(USER, Allowance.ROADMAPS) == spent


async def test_a_used_up_roadmap_allowance_refuses_a_plan_and_writes_nothing():
    provider = FakeProvider("groq")
    world = EditWorld(provider, roadmaps_per_day=1)
    await world.plan()
    await world.quota.take(USER, Allowance.ROADMAPS)
    before = await world.lesson_ids()

    with pytest.raises(QuotaExceeded):
        await world.editor.plan_module(await world.target(), PlanModuleRequest(prompt="joins"))

    assert provider.calls == 0
    assert await world.lesson_ids() == before
    assert world.roadmaps.replaced == 0


async def test_removing_a_module_deletes_its_lessons_and_the_learners_marks():
    world = EditWorld()
    await world.plan()
    [first, second] = await world.lesson_ids()
    await world.complete(second[0])
    module_id = (await world.stored()).modules[1].id

    edited = await world.editor.remove_module(await world.target(), module_id)

    assert [title for _, title, _ in flat(edited.view)] == ["Module 1"]
    assert edited.view.counts.lessons == 3
    assert {lesson.id for lesson in world.lessons.all()} == set(first)
    assert world.progress.stored(USER, second[0]) is None


async def test_removing_a_lesson_in_flight_withdraws_it():
    world = EditWorld()
    await world.plan()
    [first, _] = await world.lesson_ids()
    world.set_status(first[1], S.QUEUED)

    edited = await world.editor.remove_lesson(await world.target(), first[1])

    assert [lesson.id for lesson in edited.view.modules[0].lessons] == [first[0], first[2]]
    with pytest.raises(NotFound):
        await world.lessons.get(USER, first[1])


async def test_reordering_puts_modules_and_lessons_in_place_and_leaves_lessons_in_flight_alone():
    world = EditWorld()
    await world.plan()
    roadmap = await world.stored()
    [first, second] = await world.lesson_ids()
    world.set_status(second[0], S.GENERATING)
    before = world.lessons.stored(USER, second[0])
    request = ReorderRequest(
        modules=[
            ModuleOrder(module_id=roadmap.modules[1].id, lesson_ids=second[::-1]),
            ModuleOrder(module_id=roadmap.modules[0].id, lesson_ids=first),
        ]
    )

    edited = await world.editor.reorder(await world.target(), request)

    assert flat(edited.view) == [
        (1, "Module 2", [(1, "Lesson 2.3"), (2, "Lesson 2.2"), (3, "Lesson 2.1")]),
        (2, "Module 1", [(1, "Lesson 1.1"), (2, "Lesson 1.2"), (3, "Lesson 1.3")]),
    ]
    assert world.lessons.stored(USER, second[2]).order == 1  # told its new place
    assert world.lessons.stored(USER, second[0]) == before  # its writer's until it is done
    assert {lesson_id for lesson_id, _ in world.lessons.revised} == {second[2]}


async def test_renaming_a_module_renames_it_for_its_lessons_not_being_written():
    world = EditWorld()
    await world.plan()
    [first, _] = await world.lesson_ids()
    world.set_status(first[0], S.GENERATING)
    module_id = (await world.stored()).modules[0].id

    request = RenameRequest(title="Joins", description="Every kind of join")
    edited = await world.editor.rename_module(await world.target(), module_id, request)

    assert (edited.view.modules[0].title, edited.view.modules[0].description) == (
        "Joins",
        "Every kind of join",
    )
    module_titles = [world.lessons.stored(USER, i).module_title for i in first]
    assert module_titles == ["Module 1", "Joins", "Joins"]


async def test_renaming_a_lesson_changes_its_title_and_nothing_else():
    world = EditWorld()
    await world.plan()
    [first, _] = await world.lesson_ids()
    written = await world.complete(first[1])

    request = RenameRequest(title="Inner and outer joins")
    edited = await world.editor.rename_lesson(await world.target(), first[1], request)

    assert edited.view.modules[0].lessons[1].title == "Inner and outer joins"
    renamed = world.lessons.stored(USER, first[1])
    assert renamed.model_dump(exclude={"title"}) == written.model_dump(exclude={"title"})


async def test_a_lesson_being_written_cannot_be_renamed_and_nothing_is_written():
    world = EditWorld()
    await world.plan()
    [first, _] = await world.lesson_ids()
    world.set_status(first[0], S.GENERATING)

    with pytest.raises(EditRefused):
        await world.editor.rename_lesson(
            await world.target(), first[0], RenameRequest(title="Anything else")
        )

    assert world.roadmaps.replaced == 0
    assert world.lessons.stored(USER, first[0]).title == "Lesson 1.1"


Edit = Callable[[EditWorld], Awaitable[Edited]]


EDITS: dict[str, Edit] = {
    "add-module": lambda w: _with_target(w, lambda t: w.editor.add_module(t, MODULE)),
    "plan-module": lambda w: _with_target(
        w, lambda t: w.editor.plan_module(t, PlanModuleRequest(prompt="window functions"))
    ),
    "add-lesson": lambda w: _add_lesson(w),
    "plan-lesson": lambda w: _plan_lesson(w),
    "rename-module": lambda w: _rename_module(w),
    "rename-lesson": lambda w: _rename_lesson(w),
    "remove-lesson": lambda w: _remove_lesson(w),
    "remove-module": lambda w: _remove_module(w),
    "reorder": lambda w: _reverse(w),
}


async def _with_target(world: EditWorld, edit: Callable[..., Awaitable[Edited]]) -> Edited:
    return await edit(await world.target())


async def _add_lesson(world: EditWorld) -> Edited:
    module = (await world.stored()).modules[0]
    request = AddLessonRequest(**LESSON.model_dump(), module_id=module.id, position=1)
    return await world.editor.add_lesson(await world.target(), request)


async def _plan_lesson(world: EditWorld) -> Edited:
    module = (await world.stored()).modules[0]
    request = PlanLessonRequest(module_id=module.id, prompt="self joins", position=1)
    return await world.editor.plan_lesson(await world.target(), request)


async def _rename_module(world: EditWorld) -> Edited:
    module = (await world.stored()).modules[0]
    return await world.editor.rename_module(
        await world.target(), module.id, RenameRequest(title="Renamed module")
    )


async def _rename_lesson(world: EditWorld) -> Edited:
    lesson_id = (await world.lesson_ids())[0][1]
    return await world.editor.rename_lesson(
        await world.target(), lesson_id, RenameRequest(title="Renamed lesson")
    )


async def _remove_lesson(world: EditWorld) -> Edited:
    lesson_id = (await world.lesson_ids())[0][1]
    return await world.editor.remove_lesson(await world.target(), lesson_id)


async def _remove_module(world: EditWorld) -> Edited:
    module = (await world.stored()).modules[2]
    return await world.editor.remove_module(await world.target(), module.id)


async def _reverse(world: EditWorld) -> Edited:
    roadmap = await world.stored()
    orders = [
        ModuleOrder(module_id=module.id, lesson_ids=module.lesson_ids[::-1])
        for module in roadmap.modules[::-1]
    ]
    return await world.editor.reorder(await world.target(), ReorderRequest(modules=orders))


@pytest.mark.parametrize("edit", EDITS)
async def test_completed_lessons_keep_status_content_and_marks_through_every_edit(edit: str):
    world = EditWorld()
    await world.plan(modules=3)
    ids = await world.lesson_ids()
    kept = [ids[0][0], ids[1][2]]
    for lesson_id in kept:
        await world.complete(lesson_id)
    before = {i: world.lessons.stored(USER, i) for i in kept}
    marks = {i: world.progress.stored(USER, i) for i in kept}

    edited = await EDITS[edit](world)

    for lesson_id in kept:
        after = world.lessons.stored(USER, lesson_id)
        assert after.status is S.COMPLETED
        assert after.content == CONTENT
        may_change = {"order", "module_title"}  # its place, and its module's name
        assert after.model_dump(exclude=may_change) == before[lesson_id].model_dump(
            exclude=may_change
        )
        assert world.progress.stored(USER, lesson_id) == marks[lesson_id]
    shown = [lesson for module in edited.view.modules for lesson in module.lessons]
    assert {lesson.id for lesson in shown if lesson.completed_at} == set(kept)
    assert edited.view.counts.completed == 2
    assert edited.view.counts.ready == 2
    assert edited.view.counts.lessons == len(shown) == len(world.lessons.all())
    assert json.loads(edited.view.model_dump_json())["counts"]["completed"] == 2


async def test_a_full_roadmap_refuses_more_and_a_plan_is_cut_to_the_room_left():
    world = EditWorld(FakeProvider("groq"))
    await world.plan(modules=7, lessons=14)  # 98 lessons: room for 2 more
    big = AddModuleRequest(title="Too big", lessons=[LESSON] * 3)

    with pytest.raises(EditRefused):
        await world.editor.add_module(await world.target(), big)
    planned = await world.editor.plan_module(
        await world.target(), PlanModuleRequest(prompt="window functions")
    )
    assert planned.view.counts.lessons == 100  # two of the template's three lessons
    assert len(planned.view.modules[-1].lessons) == 2
    assert world.roadmaps.replaced == 1
    with pytest.raises(EditRefused):
        await world.editor.add_lesson(
            await world.target(),
            AddLessonRequest(**LESSON.model_dump(), module_id=planned.view.modules[0].id),
        )


async def test_the_roadmap_list_counts_only_the_lessons_each_roadmap_names():
    world = EditWorld()
    await world.plan()
    [first, _] = await world.lesson_ids()
    await world.complete(first[0])
    # A lesson whose document outlived its removal (storage failed after the edit was stored).
    orphan = world.lessons.stored(USER, first[1]).model_copy(update={"id": "orphan"})
    world.lessons.put(orphan)

    listed = roadmap_list(
        await world.roadmaps.for_user(USER),
        await world.lessons.statuses(USER),
        await world.progress.marked(USER),
    )

    [item] = listed.roadmaps
    assert (item.counts.lessons, item.counts.completed) == (6, 1)
