"""RoadmapService: plan, store every skeleton, queue the first lessons; read back in order."""

import json
from typing import Any

import pytest

from adapters.llm.offline import OfflineProvider
from domain.errors import (
    NoProviderSucceeded,
    NotFound,
    NoValidAnswer,
    ProviderUnavailable,
    QuotaExceeded,
    StorageUnavailable,
)
from domain.lesson import GenerationStatus
from domain.lesson_requests import LessonRequests
from domain.ports import Allowance, LlmProvider, RoadmapBrief, TaskKind
from domain.progress import LearnerProgress
from domain.roadmap import CreateRoadmapRequest, RoadmapOutline
from domain.roadmap_service import RoadmapService
from domain.views import ProgressCounts
from tests.unit.fakes import (
    USER,
    FakeLessonRepository,
    FakeProgressRepository,
    FakeProvider,
    FakeQueue,
    FakeQuota,
    FakeRoadmapRepository,
    chain_of,
)

S = GenerationStatus
PLANNING_BUDGET = 20.0


class World:
    """The service wired to fakes, with the fakes at hand for assertions.

    The planner is a chain of a fake network provider, then whatever ``fallbacks`` are given.
    """

    def __init__(
        self,
        planner: FakeProvider | None = None,
        *fallbacks: LlmProvider,
        roadmaps_per_day: int = 5,
    ) -> None:
        self.lessons = FakeLessonRepository()
        self.roadmaps = FakeRoadmapRepository()
        self.progress = FakeProgressRepository()
        self.queue = FakeQueue()
        self.quota = FakeQuota(
            {Allowance.ROADMAPS: (roadmaps_per_day, 86_400), Allowance.LESSONS: (30, 3_600)}
        )
        self.planner = planner or FakeProvider("groq")
        self.service = RoadmapService(
            self.roadmaps,
            self.lessons,
            chain_of(self.planner, *fallbacks).chain,
            LessonRequests(self.lessons, self.queue, self.quota),
            planning_budget=PLANNING_BUDGET,
            progress=self.progress,
            quota=self.quota,
        )

    async def mark(self, lesson_id: str, *, viewed: bool = False, completed: bool = False) -> None:
        """Record the learner's marks on one of their lessons."""
        progress = LearnerProgress.start(await self.lessons.get(USER, lesson_id))
        progress.mark(viewed=viewed, completed=completed, now=self.quota.clock())
        await self.progress.put(progress)


def _request(**fields: Any) -> CreateRoadmapRequest:
    return CreateRoadmapRequest.model_validate(
        {"goal": "Learn Python for data analysis", "skillLevel": "beginner", **fields}
    )


OUTLINE = [
    {
        "title": "Basics",
        "description": "Start here",
        "lessons": [
            {"title": "Variables", "objectives": ["Name values"], "estimatedMinutes": 20},
            {"title": "Functions", "objectives": ["Define a function", "Call it"]},
        ],
    },
    {
        "title": "Data",
        "lessons": [
            {
                "title": "Lists",
                "description": "Ordered collections",
                "objectives": ["Index a list"],
                "estimatedMinutes": 90,
            }
        ],
    },
]


async def test_create_stores_every_lesson_and_queues_only_the_first():
    world = World()

    view = await world.service.create(USER, _request())

    stored = world.lessons.all()
    assert len(stored) == 8  # the fake answers with the offline outline: four modules of two
    assert [lesson.status for lesson in stored] == [S.QUEUED] + [S.PENDING] * 7
    assert world.queue.lesson_ids == [stored[0].id]
    assert view.planned_by == "groq"
    assert world.roadmaps.all()[0].planned_by == "groq"
    assert view.modules[0].lessons[0].generation_status is S.QUEUED


async def test_create_asks_the_planner_for_an_outline_of_the_learners_goal_within_budget():
    world = World()

    await world.service.create(USER, _request(weeklyHours=3))

    [task] = world.planner.tasks
    assert (task.kind, task.brief, task.schema, task.repair) == (
        TaskKind.OUTLINE,
        RoadmapBrief(goal="Learn Python for data analysis", skill_level="beginner", weekly_hours=3),
        RoadmapOutline,
        None,
    )
    assert world.planner.time_limits == [PLANNING_BUDGET]


async def test_roadmap_records_the_provider_whose_outline_was_used():
    groq = FakeProvider("groq", outline=[ProviderUnavailable("503")] * 2)
    world = World(groq, OfflineProvider())

    view = await world.service.create(USER, _request())

    assert view.planned_by == "offline"
    assert world.roadmaps.all()[0].planned_by == "offline"
    assert len(world.lessons.all()) == 8


@pytest.mark.parametrize("prefetch", [0, 2, 3])
async def test_create_queues_the_first_prefetch_lessons_in_reading_order(prefetch: int):
    world = World()

    await world.service.create(USER, _request(modules=OUTLINE, prefetch=prefetch))

    stored = world.lessons.all()
    queued = [lesson.title for lesson in stored if lesson.status is S.QUEUED]
    assert queued == ["Variables", "Functions", "Lists"][:prefetch]
    assert [lesson.title for lesson in stored if lesson.status is S.PENDING] == [
        "Variables",
        "Functions",
        "Lists",
    ][prefetch:]
    assert world.queue.lesson_ids == [lesson.id for lesson in stored[:prefetch]]


async def test_prefetch_zero_queues_nothing():
    world = World()

    view = await world.service.create(USER, _request(prefetch=0))

    assert world.queue.messages == []
    assert {lesson.status for lesson in world.lessons.all()} == {S.PENDING}
    assert {lesson.generation_status for module in view.modules for lesson in module.lessons} == {
        S.PENDING
    }


async def test_prefetch_beyond_the_lesson_count_queues_every_lesson():
    world = World()

    await world.service.create(USER, _request(modules=OUTLINE, prefetch=10))

    stored = world.lessons.all()
    assert {lesson.status for lesson in stored} == {S.QUEUED}
    assert world.queue.lesson_ids == [lesson.id for lesson in stored]


async def test_explicit_outline_is_used_verbatim_and_planned_by_the_learner():
    world = World()

    view = await world.service.create(USER, _request(modules=OUTLINE, prefetch=0))

    assert world.planner.calls == 0
    assert view.planned_by == "learner"
    assert [(m.title, m.description, m.order) for m in view.modules] == [
        ("Basics", "Start here", 1),
        ("Data", "", 2),
    ]
    assert [
        (lesson.title, lesson.description, lesson.objectives, lesson.estimated_minutes)
        for module in view.modules
        for lesson in module.lessons
    ] == [
        ("Variables", "", ["Name values"], 20),
        ("Functions", "", ["Define a function", "Call it"], 30),
        ("Lists", "Ordered collections", ["Index a list"], 90),
    ]


async def test_create_stores_the_roadmap_for_the_creator_only():
    world = World()

    view = await world.service.create(USER, _request(modules=OUTLINE))

    assert (await world.roadmaps.get(USER, view.id)).goal == "Learn Python for data analysis"
    with pytest.raises(NotFound):
        await world.roadmaps.get("someone-else", view.id)
    assert {lesson.user_id for lesson in world.lessons.all()} == {USER}


async def test_refused_prefetch_leaves_the_roadmap_with_a_pending_lesson_to_retry():
    world = World()
    world.queue.refuse()

    view = await world.service.create(USER, _request(modules=OUTLINE, prefetch=1))

    first = world.lessons.all()[0]
    assert first.status is S.PENDING
    assert first.generation_error == "The lesson could not be queued; please try again."
    assert view.modules[0].lessons[0].generation_status is S.PENDING
    assert len(world.roadmaps.all()) == 1


async def test_invalid_outline_is_repaired_once_naming_the_problem():
    bad_outline = json.dumps({"modules": []})
    world = World(FakeProvider("groq", outline=[bad_outline]))

    view = await world.service.create(USER, _request())

    repair = world.planner.tasks[1].repair
    assert repair is not None
    assert repair.previous == bad_outline
    assert "modules" in repair.problem
    assert view.planned_by == "groq"
    assert len(world.lessons.all()) == 8


async def test_no_valid_outline_from_any_provider_stores_nothing():
    bad_outline = json.dumps({"modules": []})
    world = World(FakeProvider("groq", outline=[bad_outline] * 2))

    with pytest.raises(NoValidAnswer):
        await world.service.create(USER, _request())

    assert world.lessons.all() == []
    assert world.roadmaps.all() == []
    assert world.queue.messages == []


async def test_planner_with_every_provider_down_stores_nothing_and_may_be_retried():
    world = World(FakeProvider("groq", outline=[ProviderUnavailable("503")] * 2))

    with pytest.raises(NoProviderSucceeded):
        await world.service.create(USER, _request())

    assert world.lessons.all() == []
    assert world.roadmaps.all() == []
    assert world.queue.messages == []


async def test_get_returns_modules_with_lessons_in_outline_order():
    world = World()
    created = await world.service.create(USER, _request(modules=OUTLINE, prefetch=1))

    view = await world.service.get(USER, created.id)

    assert [[lesson.title for lesson in module.lessons] for module in view.modules] == [
        ["Variables", "Functions"],
        ["Lists"],
    ]
    assert [lesson.order for module in view.modules for lesson in module.lessons] == [1, 2, 1]
    assert view.modules[0].lessons[0].generation_status is S.QUEUED


async def test_get_shows_each_lessons_current_status():
    world = World()
    created = await world.service.create(USER, _request(modules=OUTLINE, prefetch=0))
    lists = created.modules[1].lessons[0]
    await LessonRequests(world.lessons, world.queue).request(USER, lists.id)

    view = await world.service.get(USER, created.id)

    assert [lesson.generation_status for module in view.modules for lesson in module.lessons] == [
        S.PENDING,
        S.PENDING,
        S.QUEUED,
    ]


async def test_another_users_roadmap_is_not_found():
    world = World()
    created = await world.service.create(USER, _request(modules=OUTLINE))

    with pytest.raises(NotFound):
        await world.service.get("someone-else", created.id)


async def test_create_spends_one_roadmap_of_the_learners_allowance():
    world = World()

    await world.service.create(USER, _request(modules=OUTLINE))

    assert world.quota.spent(USER, Allowance.ROADMAPS) == 1


async def test_create_past_the_roadmap_allowance_plans_stores_and_queues_nothing():
    world = World(roadmaps_per_day=1)
    await world.service.create(USER, _request())
    stored = (world.lessons.all(), world.roadmaps.all(), world.queue.lesson_ids)

    with pytest.raises(QuotaExceeded) as refused:
        await world.service.create(USER, _request())

    assert (refused.value.kind, refused.value.limit) == (Allowance.ROADMAPS, 1)
    assert world.planner.calls == 1
    assert (world.lessons.all(), world.roadmaps.all(), world.queue.lesson_ids) == stored


async def test_get_shows_the_learners_marks_and_counts():
    world = World()
    created = await world.service.create(USER, _request(modules=OUTLINE, prefetch=0))
    variables, functions = created.modules[0].lessons
    await world.mark(variables.id, completed=True)
    await world.mark(functions.id, viewed=True)

    view = await world.service.get(USER, created.id)

    shown = [
        (lesson.viewed_at is not None, lesson.completed_at is not None)
        for module in view.modules
        for lesson in module.lessons
    ]
    assert shown == [(True, True), (True, False), (False, False)]
    assert view.counts == ProgressCounts(lessons=3, ready=0, viewed=2, completed=1)


async def test_a_created_roadmap_counts_its_lessons():
    world = World()

    view = await world.service.create(USER, _request(modules=OUTLINE, prefetch=1))

    assert view.counts == ProgressCounts(lessons=3, ready=0, viewed=0, completed=0)


async def test_overview_lists_the_learners_roadmaps_newest_first_with_their_counts():
    world = World()
    first = await world.service.create(USER, _request(goal="First goal", modules=OUTLINE))
    second = await world.service.create(USER, _request(goal="Second goal", prefetch=0))
    await world.service.create("someone-else", _request(goal="Not mine", modules=OUTLINE))
    await world.mark(first.modules[1].lessons[0].id, completed=True)

    overview, following = await world.service.overview(USER)

    assert following is None
    assert [(item.id, item.goal) for item in overview.roadmaps] == [
        (second.id, "Second goal"),
        (first.id, "First goal"),
    ]
    assert [item.counts for item in overview.roadmaps] == [
        ProgressCounts(lessons=8, ready=0, viewed=0, completed=0),
        ProgressCounts(lessons=3, ready=0, viewed=1, completed=1),
    ]


async def test_overview_of_a_learner_without_roadmaps_is_empty():
    world = World()
    await world.service.create("someone-else", _request(modules=OUTLINE))

    overview, following = await world.service.overview(USER)

    assert overview.roadmaps == []
    assert following is None


async def test_overview_pages_through_the_roadmaps_newest_first():
    world = World(roadmaps_per_day=10)
    goals = [f"Goal {n}" for n in range(5)]
    for goal in goals:
        await world.service.create(USER, _request(goal=goal, modules=OUTLINE, prefetch=0))

    first, after_first = await world.service.overview(USER, limit=2)
    second, after_second = await world.service.overview(USER, offset=2, limit=2)
    last, after_last = await world.service.overview(USER, offset=4, limit=2)

    pages = [[item.goal for item in page.roadmaps] for page in (first, second, last)]
    assert pages == [["Goal 4", "Goal 3"], ["Goal 2", "Goal 1"], ["Goal 0"]]
    assert (after_first, after_second, after_last) == (2, 4, None)


class _Unstorable(FakeRoadmapRepository):
    """Roadmap storage that is down."""

    async def add(self, roadmap: Any) -> None:
        raise StorageUnavailable("Cosmos DB is down")


def _service(world: World, roadmaps: FakeRoadmapRepository) -> RoadmapService:
    return RoadmapService(
        roadmaps,
        world.lessons,
        chain_of(world.planner).chain,
        LessonRequests(world.lessons, world.queue, world.quota),
        planning_budget=PLANNING_BUDGET,
        quota=world.quota,
    )


async def test_onboarding_prefetch_spends_the_lesson_allowance():
    world = World()

    await world.service.create(USER, _request(modules=OUTLINE, prefetch=2))

    assert world.quota.spent(USER, Allowance.LESSONS) == 2
    assert len(world.queue.lesson_ids) == 2


async def test_onboarding_prefetch_is_clipped_to_what_is_left():
    world = World()
    world.quota.limits[Allowance.LESSONS] = (2, 3_600)
    await world.quota.take(USER, Allowance.LESSONS)

    created = await world.service.create(USER, _request(modules=OUTLINE, prefetch=3))

    statuses = [lesson.generation_status for lesson in created.modules[0].lessons]
    assert statuses == [GenerationStatus.QUEUED, GenerationStatus.PENDING]
    assert world.quota.spent(USER, Allowance.LESSONS) == 2


async def test_onboarding_with_no_lessons_left_creates_the_roadmap_and_queues_nothing():
    world = World()
    world.quota.limits[Allowance.LESSONS] = (1, 3_600)
    await world.quota.take(USER, Allowance.LESSONS)

    created = await world.service.create(USER, _request(modules=OUTLINE, prefetch=3))

    assert world.queue.lesson_ids == []
    assert {lesson.generation_status for m in created.modules for lesson in m.lessons} == {
        GenerationStatus.PENDING
    }


async def test_a_failure_after_a_paid_outline_keeps_the_roadmap_spent():
    world = World()

    with pytest.raises(StorageUnavailable):
        await _service(world, _Unstorable()).create(USER, _request())

    assert world.planner.calls == 1
    assert world.quota.spent(USER, Allowance.ROADMAPS) == 1


async def test_a_failure_without_a_provider_call_gives_the_roadmap_back():
    world = World()

    with pytest.raises(StorageUnavailable):
        await _service(world, _Unstorable()).create(USER, _request(modules=OUTLINE))

    assert world.planner.calls == 0
    assert world.quota.spent(USER, Allowance.ROADMAPS) == 0
    assert world.quota.spent(USER, Allowance.LESSONS) == 0


async def test_an_outline_no_provider_could_write_keeps_the_roadmap_spent():
    world = World(FakeProvider("groq", outline=["not json", "still not json"]))

    with pytest.raises(NoValidAnswer):
        await world.service.create(USER, _request())

    assert world.quota.spent(USER, Allowance.ROADMAPS) == 1
