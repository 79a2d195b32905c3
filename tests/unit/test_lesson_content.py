"""What counts as a written lesson, and the offline provider's output against it."""

from typing import Any

import pytest
from pydantic import ValidationError

from adapters.llm.offline import MODEL, OfflineProvider
from adapters.markdown import clean_markdown
from domain.content import CLEAN_MARKDOWN, LessonContent
from domain.ports import LessonBrief, LlmTask, RoadmapBrief, TaskKind
from domain.roadmap import RoadmapOutline
from tests.support.html_audit import live_problems
from tests.unit.fakes import make_brief, offline_lesson_data

CLEANING = {CLEAN_MARKDOWN: clean_markdown}
BRIEFS = {
    "python": make_brief(),
    "non-ascii": make_brief(
        goal="Apprendre le français — 日本語も",
        module_title="Grundlagen für Anfänger",
        title="Élan vital: «Überblick» über 東京",
        description="",
        objectives=("Décrire l'accent aigu", "説明する"),
    ),
    "one-objective": make_brief(objectives=("Write a unit test",)),
    "eight-long-objectives": make_brief(
        goal="Run containers with Docker and Kubernetes",
        title="T" * 200,
        description="D" * 1_000,
        objectives=tuple(f"{i} " + "o" * 297 for i in range(8)),
    ),
}


async def _offline_lesson(brief: LessonBrief) -> dict[str, Any]:
    return await offline_lesson_data(brief)


def _lesson_task(brief: LessonBrief) -> LlmTask:
    return LlmTask(kind=TaskKind.LESSON, brief=brief, schema=LessonContent)


def _outline_task(brief: RoadmapBrief) -> LlmTask:
    return LlmTask(kind=TaskKind.OUTLINE, brief=brief, schema=RoadmapOutline)


@pytest.mark.parametrize("brief", BRIEFS.values(), ids=BRIEFS.keys())
async def test_offline_lesson_is_valid_content(brief: LessonBrief):
    draft = await OfflineProvider().generate(_lesson_task(brief), time_limit=1.0)

    content = LessonContent.model_validate_json(draft.payload)

    assert draft.provider == "offline"
    assert draft.model == MODEL
    assert content.summary.startswith("Offline lesson:")
    assert [section.heading for section in content.sections] == [
        objective[:300] for objective in brief.objectives
    ]
    assert len(content.exercises) == min(3, len(brief.objectives))
    assert content.quiz[0].options[content.quiz[0].answer_index] == brief.objectives[0][:300]
    assert content.key_takeaways == [objective[:300] for objective in brief.objectives]


async def test_offline_lesson_keeps_non_ascii_text_intact():
    brief = BRIEFS["non-ascii"]
    draft = await OfflineProvider().generate(_lesson_task(brief), time_limit=1.0)

    content = LessonContent.model_validate_json(draft.payload)

    assert brief.title in content.summary
    assert content.sections[1].heading == "説明する"


async def test_offline_lesson_picks_the_goal_language_for_its_code_example():
    draft = await OfflineProvider().generate(
        _lesson_task(make_brief(goal="Ship services in Go")), time_limit=1.0
    )

    content = LessonContent.model_validate_json(draft.payload)

    assert content.code_examples[0].language == "go"


@pytest.mark.parametrize("answer_index", [2, 5, -1])
async def test_answer_index_outside_the_options_is_rejected(answer_index: int):
    data = await _offline_lesson(make_brief())
    data["quiz"][0]["answerIndex"] = answer_index

    with pytest.raises(ValidationError) as raised:
        LessonContent.model_validate(data)

    assert raised.value.errors()[0]["loc"][:2] == ("quiz", 0)


async def test_answer_index_error_says_how_many_options_there_are():
    data = await _offline_lesson(make_brief())
    data["quiz"][0]["answerIndex"] = 2

    with pytest.raises(ValidationError, match="answerIndex 2 is not one of the 2 options"):
        LessonContent.model_validate(data)


@pytest.mark.parametrize("field", ["sections", "exercises", "quiz", "keyTakeaways"])
async def test_lesson_without_a_required_part_is_rejected(field: str):
    data = await _offline_lesson(make_brief())
    del data[field]

    with pytest.raises(ValidationError) as raised:
        LessonContent.model_validate(data)

    assert [error["loc"] for error in raised.value.errors()] == [(field,)]
    assert raised.value.errors()[0]["type"] == "missing"


@pytest.mark.parametrize("field", ["sections", "exercises", "quiz", "keyTakeaways"])
async def test_lesson_with_an_empty_required_part_is_rejected(field: str):
    data = await _offline_lesson(make_brief())
    data[field] = []

    with pytest.raises(ValidationError) as raised:
        LessonContent.model_validate(data)

    assert [error["loc"] for error in raised.value.errors()] == [(field,)]


async def test_code_examples_are_optional():
    data = await _offline_lesson(make_brief())
    del data["codeExamples"]

    assert LessonContent.model_validate(data).code_examples == []


async def test_quiz_question_needs_at_least_two_options():
    data = await _offline_lesson(make_brief())
    data["quiz"][0]["options"] = ["only one"]

    with pytest.raises(ValidationError):
        LessonContent.model_validate(data)


@pytest.mark.parametrize(
    "brief",
    [
        RoadmapBrief(goal="Learn Python for data analysis", skill_level="beginner", weekly_hours=6),
        RoadmapBrief(goal="Git", skill_level="advanced", weekly_hours=None),
        RoadmapBrief(goal="Écrire du Rust — 日本語", skill_level="intermediate", weekly_hours=2),
        RoadmapBrief(goal="G" * 500, skill_level="beginner", weekly_hours=80),
    ],
    ids=["python", "short-goal", "non-ascii", "longest-goal"],
)
async def test_offline_outline_is_a_valid_roadmap_outline(brief: RoadmapBrief):
    draft = await OfflineProvider().generate(_outline_task(brief), time_limit=1.0)

    outline = RoadmapOutline.model_validate_json(draft.payload)

    assert draft.provider == "offline"
    assert [module.title.split(":")[0] for module in outline.modules] == [
        "Foundations",
        "Core concepts",
        "Practice",
        "Project",
    ]
    assert all(len(module.lessons) == 2 for module in outline.modules)


@pytest.mark.parametrize(("weekly_hours", "minutes"), [(None, 45), (4, 30), (5, 45)])
async def test_offline_outline_sizes_lessons_to_the_weekly_hours(
    weekly_hours: int | None, minutes: int
):
    brief = RoadmapBrief(goal="Learn SQL", skill_level="beginner", weekly_hours=weekly_hours)
    draft = await OfflineProvider().generate(_outline_task(brief), time_limit=1.0)

    outline = RoadmapOutline.model_validate_json(draft.payload)

    assert {
        lesson.estimated_minutes for module in outline.modules for lesson in module.lessons
    } == {minutes}


async def test_provider_output_is_cleaned_only_when_validated_with_the_cleaner():
    data = await _offline_lesson(make_brief())
    data["sections"][0]["body"] = "Read <b>this</b>.<script>steal()</script>"
    data["keyTakeaways"] = ["<em>Status</em> codes matter"]
    data["summary"] = "<script>steal()</script>You will read status codes."

    cleaned = LessonContent.model_validate(data, context=CLEANING)
    stored = LessonContent.model_validate(data)

    assert cleaned.sections[0].body == r"Read \<b>this\</b>.\<script>steal()\</script>"
    assert cleaned.key_takeaways == [r"\<em>Status\</em> codes matter"]
    assert live_problems(cleaned.summary) == []
    assert stored.sections[0].body == "Read <b>this</b>.<script>steal()</script>"


@pytest.mark.parametrize(
    ("path", "only_html"),
    [
        (("sections", 0, "heading"), "<br>"),
        (("exercises", 0, "hint"), "<div><script>x()</script></div>"),
        (("keyTakeaways", 0), "<img src=x onerror=alert(1)>"),
    ],
    ids=["heading", "hint", "takeaway"],
)
async def test_a_field_that_is_nothing_but_html_is_kept_as_visible_text(
    path: tuple[str | int, ...], only_html: str
):
    data = await _offline_lesson(make_brief())
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = only_html

    cleaned: Any = LessonContent.model_validate(data, context=CLEANING).model_dump(by_alias=True)
    for key in path:
        cleaned = cleaned[key]
    assert cleaned.replace("\\", "") == only_html
    assert live_problems(cleaned) == []


async def test_cleaned_lesson_can_be_read_back_from_storage():
    data = await _offline_lesson(make_brief())
    data["sections"][0]["heading"] = "Requests & responses " + "x" * 279  # 300 characters
    cleaned = LessonContent.model_validate(data, context=CLEANING)

    read_back = LessonContent.model_validate(cleaned.model_dump(by_alias=True))

    assert read_back == cleaned
