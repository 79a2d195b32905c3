"""A learner's roadmap on in-memory fakes, for the tests of editing it in place."""

import asyncio
from datetime import UTC, datetime

from adapters.llm.offline import OfflineProvider
from domain.content import LessonContent
from domain.lesson import GenerationStatus, Lesson
from domain.ports import Draft, LlmProvider, LlmTask, TextSink
from domain.progress import LearnerProgress
from domain.roadmap import (
    CreateRoadmapRequest,
    LessonPlan,
    ModulePlan,
    Roadmap,
    RoadmapOutline,
    build_roadmap,
)
from domain.roadmap_editor import RoadmapEditor
from domain.roadmap_edits import Precondition, roadmap_etag
from domain.roadmap_writes import Target
from domain.views import RoadmapView
from tests.unit.fakes import (
    USER,
    FakeLessonRepository,
    FakeProgressRepository,
    FakeProvider,
    FakeQuota,
    FakeRoadmapRepository,
    chain_of,
)

LIVE = datetime(2999, 1, 1, tzinfo=UTC)
DONE_AT = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)
CONTENT = LessonContent.model_validate(
    {
        "summary": "What a join is, and when to use each kind.",
        "sections": [{"heading": "Joins", "body": "Rows of two tables, matched."}],
        "exercises": [{"prompt": "Join two tables", "hint": "ON", "solution": "SELECT …"}],
        "quiz": [{"question": "q", "options": ["a", "b"], "answerIndex": 0, "explanation": "e"}],
        "keyTakeaways": ["Match rows on keys"],
        "diagrams": [{"title": "Join", "mermaid": "flowchart TD\n  A --> B"}],
    }
)


def outline(modules: int = 2, lessons: int = 3) -> RoadmapOutline:
    """Modules ``Module 1`` … each with lessons ``Lesson 1.1`` …"""
    plans = [
        ModulePlan(
            title=f"Module {m}",
            lessons=[
                LessonPlan(title=f"Lesson {m}.{n}", objectives=[f"Objective {m}.{n}"])
                for n in range(1, lessons + 1)
            ],
        )
        for m in range(1, modules + 1)
    ]
    return RoadmapOutline(modules=plans)


class EditWorld:
    """An editor on fakes, and a roadmap of two modules of three lessons to edit."""

    def __init__(self, *providers: LlmProvider, roadmaps_per_day: int = 5) -> None:
        self.roadmaps = FakeRoadmapRepository()
        self.lessons = FakeLessonRepository()
        self.progress = FakeProgressRepository()
        self.quota = FakeQuota()
        self.quota.limits["roadmaps"] = (roadmaps_per_day, 86_400)
        self.providers = list(providers) or [FakeProvider("groq")]
        self.editor = RoadmapEditor(
            self.roadmaps,
            self.lessons,
            self.progress,
            chain_of(*self.providers).chain,
            planning_budget=20.0,
            quota=self.quota,
        )
        self.roadmap_id = ""

    async def plan(self, modules: int = 2, lessons: int = 3) -> Roadmap:
        """Store a roadmap (by hand) and its pending lessons; remember its id."""
        request = CreateRoadmapRequest(
            goal="Learn SQL for analytics", skill_level="intermediate", weekly_hours=4
        )
        roadmap, skeletons = build_roadmap(
            USER, request, outline(modules, lessons), planned_by="learner"
        )
        await self.lessons.add_all(skeletons)
        await self.roadmaps.add(roadmap)
        self.roadmap_id = roadmap.id
        return roadmap

    async def stored(self) -> Roadmap:
        return await self.roadmaps.get(USER, self.roadmap_id)

    async def target(self, etag: str | None = None) -> Target:
        """The roadmap, against its current version unless ``etag`` says another."""
        tag = etag or roadmap_etag(await self.stored())
        return Target(USER, self.roadmap_id, Precondition(frozenset({tag})))

    async def lesson_ids(self) -> list[list[str]]:
        """Each module's lesson ids, in the stored roadmap's order."""
        return [list(module.lesson_ids) for module in (await self.stored()).modules]

    async def complete(self, lesson_id: str) -> Lesson:
        """Write the lesson (queued, claimed, completed) and mark it opened and completed."""
        lesson = self.lessons.stored(USER, lesson_id)
        lesson.queue()
        lesson.start("worker", LIVE)
        lesson.complete(CONTENT, provider="groq", model="llama", usage=None)
        stored = self.lessons.put(lesson)
        marks = LearnerProgress.start(stored)
        marks.mark(viewed=True, completed=True, now=DONE_AT)
        await self.progress.put(marks)
        return stored

    def set_status(self, lesson_id: str, status: GenerationStatus) -> Lesson:
        """Move the lesson to ``queued`` or ``generating`` (claimed by a live worker)."""
        lesson = self.lessons.stored(USER, lesson_id)
        lesson.queue()
        if status is GenerationStatus.GENERATING:
            lesson.start("worker", LIVE)
        return self.lessons.put(lesson)


class GatedProvider:
    """The offline templates under any name, answering only once ``gate`` is set; ``asked`` is
    set when a call is waiting at the gate."""

    def __init__(self, name: str = "offline", *, needs_network: bool = False) -> None:
        self.name = name
        self.model = "gated"
        self.needs_network = needs_network
        self.asked = asyncio.Event()
        self.gate = asyncio.Event()

    async def generate(
        self, task: LlmTask, *, time_limit: float, on_text: TextSink | None = None
    ) -> Draft:
        self.asked.set()
        await self.gate.wait()
        draft = await OfflineProvider().generate(task, time_limit=time_limit)
        return Draft(payload=draft.payload, provider=self.name, model=self.model)


def flat(view: RoadmapView) -> list[tuple[int, str, list[tuple[int, str]]]]:
    """A view as (module number, title, [(lesson number, title)])."""
    return [
        (module.order, module.title, [(lesson.order, lesson.title) for lesson in module.lessons])
        for module in view.modules
    ]
